/* SPDX-License-Identifier: MIT */
/* button: a physical button decides the requests routed to it.
 *
 *   - A short press allows the oldest pending request, a long press (long_press_ms) denies it.
 *     Only a press that went DOWN after the request arrived counts (a press, or a held button,
 *     from before never approves a later stranger); one press decides one request.
 *   - RequestPasskey / RequestPinCode: a button cannot supply a number: pass.
 *   - No press: the core's request_timeout ends the request (cancel() is called).
 *   - Pairing window (see pairing-window.h): a short press while nothing is pending opens it, a
 *     long press closes it early. The daemon's window (a window = { ... } section, used by the
 *     "window" policy) gates strangers; each request still needs its press. The button's own
 *     window (legacy key button.window = N s) also allows the requests routed to button without
 *     a press while it is open.
 *   - LED: blinks while a request waits, on while a window is open, off otherwise.
 *
 * The parts live in their own modules: the section's keys in button-config.c, the waiting
 * requests in waiting-queue.c, the window in pairing-window.c, the hardware in button-input.c
 * and led.c. This file turns presses into decisions and hands the hardware over on reload. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "button-config.h"
#include "button-input.h"
#include "button.h"
#include "led.h"
#include "macro.h"
#include "pairing-window.h"
#include "settings.h"
#include "time-util.h"
#include "waiting-queue.h"

typedef struct ButtonPolicy {
        ButtonConfig config;

        /* runtime (event != NULL) */
        sd_event *event;
        sd_bus *bus;
        BluezOwner *owner;
        DeviceCache *devices;
        sd_event_source *takeover;
        ButtonInput *in;
        Led *led;
        WaitingQueue *waiting;
        PairingWindow *window; /* its own (legacy button.window > 0), the active instance's */
        PairingWindow *shared; /* the daemon's (window = { ... }): a press opens it */
        PairingWindowListener *shared_listener;

        uint64_t down_usec; /* the press in progress */
        sd_event_source *long_timer;

        bool active;
        bool input_was_open;
        bool pressed, consumed;
} ButtonPolicy;

/* Runtime instances, oldest first. It must be process-wide: during a reload the old and the new
 * policy set live side by side, each with its own button instance, and the new one has to find
 * the old one to take over its input (a GPIO line can be requested only once) and its waiting
 * requests; neither set knows the other. */
static GList *instances;

/* ---- audit and LED ------------------------------------------------------------------------ */

static void audit_event(const char *key, const char *value, const char *message,
                        const char *reason) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_POLICY_EVENT);

        rec.policy = "button";
        rec.message = message;
        rec.reason = reason;
        rec.extra_key = key;
        rec.extra_value = value;
        audit_emit(&rec);
}

static void update_led(void *userdata) {
        ButtonPolicy *b = userdata;
        bool window_open;

        if (!b->led)
                return;
        window_open = pairing_window_is_open(b->window) || pairing_window_is_open(b->shared);

        led_set_mode(b->led, waiting_queue_length(b->waiting) > 0 ? LED_BLINK
                             : window_open                        ? LED_ON
                                                                  : LED_OFF);
}

static void on_window_changed(PairingWindow *w, bool open, void *userdata) {
        update_led(userdata);
}

/* ---- presses ------------------------------------------------------------------------------ */

static void act(ButtonPolicy *b, bool long_press, uint64_t down_usec, uint64_t held_usec) {
        PolicyCall *c = waiting_queue_oldest(b->waiting);
        unsigned n = waiting_queue_length(b->waiting);
        const char *kind = long_press ? "long press" : "short press";
        PairingWindow *w;

        if (c) {
                if (c->arrived_usec >= down_usec) {
                        _cleanup_free_ char *msg = g_strdup_printf(
                                "Button %s ignored: it began %.1f s before the oldest pending "
                                "request arrived",
                                kind, (double) (c->arrived_usec - down_usec) / 1e6);
                        audit_event("press", "ignored", msg,
                                    "press began before the request arrived");
                        return;
                }
                if (n > 1)
                        snprintf(c->reason, sizeof c->reason,
                                 "%s (%.1f s); oldest of %u pending "
                                 "requests",
                                 kind, (double) held_usec / 1e6, n);
                else
                        snprintf(c->reason, sizeof c->reason, "%s (%.1f s)", kind,
                                 (double) held_usec / 1e6);
                log_info("button: %s decides %s from %s (request %" PRIu64 ")", kind,
                         agent_method_to_string(c->method), c->address ? c->address : "?",
                         c->request_id);
                waiting_queue_decide(c, long_press ? VERDICT_DENY : VERDICT_ALLOW);
                return;
        }
        w = b->window ? b->window : b->shared;
        if (!w) {
                log_info("button: %s with nothing pending (no pairing window configured)", kind);
                return;
        }
        if (!pairing_window_is_open(w) && !long_press)
                pairing_window_open(w, 0, "short press with nothing pending");
        else if (pairing_window_is_open(w) && long_press)
                pairing_window_close(w, "closed early by a long press");
        else
                log_info("button: %s with nothing pending: the pairing window stays %s", kind,
                         pairing_window_is_open(w) ? "open" : "closed");
}

static int on_long_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ButtonPolicy *b = userdata;

        uint64_t until;

        if (!b->pressed || b->consumed)
                return 0;
        /* A release read but not yet debounced ends the press before this deadline perhaps
         * (events read late): look again when it is settled. */
        if (button_input_release_pending(b->in, &until)) {
                (void) sd_event_source_set_time(s, until + 1000);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        b->consumed = true; /* held long enough: decide now, ignore the release */
        act(b, true, b->down_usec, (uint64_t) b->config.long_press_ms * 1000);
        return 0;
}

static void on_edge(bool pressed, uint64_t usec, void *userdata) {
        ButtonPolicy *b = userdata;
        uint64_t held;
        int r;

        if (pressed) {
                uint64_t at = usec + (uint64_t) b->config.long_press_ms * 1000;
                b->pressed = true;
                b->consumed = false;
                b->down_usec = usec;
                if (!b->long_timer)
                        r = sd_event_add_time(b->event, &b->long_timer, CLOCK_MONOTONIC, at, 0,
                                              on_long_timer, b);
                else {
                        r = sd_event_source_set_time(b->long_timer, at);
                        if (r >= 0)
                                r = sd_event_source_set_enabled(b->long_timer, SD_EVENT_ONESHOT);
                }
                if (r < 0)
                        log_warning("button: cannot time the press: %s", g_strerror(-r));
                return;
        }
        if (!b->pressed) /* a release without a press we saw (held while opening) */
                return;
        b->pressed = false;
        (void) sd_event_source_set_enabled(b->long_timer, SD_EVENT_OFF);
        if (b->consumed)
                return;
        held = usec > b->down_usec ? usec - b->down_usec : 0;
        act(b, held >= (uint64_t) b->config.long_press_ms * 1000, b->down_usec, held);
}

static void on_reset(void *userdata) {
        ButtonPolicy *b = userdata;

        b->pressed = false;
        (void) sd_event_source_set_enabled(b->long_timer, SD_EVENT_OFF);
}

static void on_input_state(ButtonInputState state, const char *detail, int error, void *userdata) {
        ButtonPolicy *b = userdata;
        _cleanup_free_ char *msg = NULL;

        switch (state) {
        case BUTTON_INPUT_OPENED:
                msg = g_strdup_printf("Button input %s %s", detail,
                                      b->input_was_open ? "reopened" : "opened");
                audit_event("input", b->input_was_open ? "reopened" : "opened", msg, NULL);
                b->input_was_open = true;
                break;
        case BUTTON_INPUT_ABSENT:
                log_warning("button: input %s is not available (%s); waiting for it", detail,
                            g_strerror(-error));
                break;
        case BUTTON_INPUT_LOST:
                msg = g_strdup_printf("Button input %s lost (%s); waiting for it to come back",
                                      detail, error ? g_strerror(-error) : "end of file");
                audit_event("input", "lost", msg, error ? g_strerror(-error) : "end of file");
                break;
        }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void release_hardware(ButtonPolicy *b) {
        pairing_window_remove_listener(b->shared, b->shared_listener);
        b->shared_listener = NULL;
        b->in = button_input_free(b->in);
        b->led = led_free(b->led);
        b->pressed = false;
        (void) sd_event_source_set_enabled(b->long_timer, SD_EVENT_OFF);
}

/* An older instance (previous configuration) gives way to `to`. */
static void retire(ButtonPolicy *b, ButtonPolicy *to) {
        b->window = pairing_window_free(b->window, "configuration reloaded");
        waiting_queue_move(b->waiting, to->waiting);
        release_hardware(b);
        b->active = false;
}

static int on_takeover(sd_event_source *s, void *userdata) {
        ButtonPolicy *b = userdata;
        static const ButtonInputCallbacks cb = {
                .edge = on_edge,
                .state = on_input_state,
                .reset = on_reset,
        };
        int r;

        b->takeover = sd_event_source_disable_unref(b->takeover);
        for (GList *l = instances; l; l = l->next)
                if (l->data != b)
                        retire(l->data, b);
        b->active = true;
        if (b->config.window_sec > 0) {
                const PairingWindowConfig wc = {
                        .adapter = b->config.adapter,
                        .duration_sec = b->config.window_sec,
                        .pairings = b->config.window_pairings,
                        .policy = "button",
                };
                (void) pairing_window_new(&b->window, b->event, b->bus, b->owner, b->devices, &wc);
                (void) pairing_window_add_listener(b->window, on_window_changed, b);
        }
        if (b->shared)
                b->shared_listener = pairing_window_add_listener(b->shared, on_window_changed, b);
        if (b->config.has_led) {
                r = led_new(&b->led, b->event, &b->config.led);
                if (r < 0)
                        log_warning("button: cannot use the LED %s: %s; continuing without it",
                                    b->config.led_sysfs ? b->config.led_sysfs : b->config.led_chip,
                                    g_strerror(-r));
        }
        update_led(b);
        r = button_input_new(&b->in, b->event, &b->config.input, &cb, b);
        if (r >= 0)
                r = button_input_start(b->in);
        if (r < 0)
                log_error("button: cannot watch the input: %s", g_strerror(-r));
        return 0;
}

static int button_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                       char **ret_error) {
        ButtonPolicy *b = p->data;
        int r;

        if (!section) {
                if (!env->event)
                        return 0; /* not configured; routes that name it are refused at start */
                return setting_fail(ret_error,
                                    policy_error(env, NULL,
                                                 "button: a route uses the button policy "
                                                 "but there is no button = { ... }; "
                                                 "section"));
        }
        r = button_config_parse(&b->config, section, env, ret_error);
        if (r >= 0 && b->config.window_sec > 0 &&
            config_setting_get_member(config_setting_parent(section), "window"))
                r = setting_fail(ret_error,
                                 policy_error(env, config_setting_get_member(section, "window"),
                                              "button.window and a window = { ... } section both "
                                              "define a pairing window: remove button.window "
                                              "(a press opens the window section's window)"));
        if (r < 0) {
                button_config_clear(&b->config); /* done() is not called after a failed init */
                return r;
        }
        if (!env->event)
                return 0;

        b->event = sd_event_ref(env->event);
        b->bus = env->bus ? sd_bus_ref(env->bus) : NULL;
        b->owner = env->bluez_owner;
        b->devices = env->devices;
        b->shared = env->window;
        (void) waiting_queue_new(&b->waiting, b->event, update_led, b);
        r = sd_event_add_defer(b->event, &b->takeover, on_takeover, b);
        if (r < 0) {
                b->waiting = waiting_queue_free(b->waiting);
                sd_bus_unref(b->bus);
                sd_event_unref(b->event);
                button_config_clear(&b->config);
                return setting_fail(ret_error,
                                    policy_error(env, section, "button: %s", g_strerror(-r)));
        }
        instances = g_list_append(instances, b);
        return 0;
}

static void button_done(Policy *p) {
        ButtonPolicy *b = p->data;
        ButtonPolicy *next;
        GList *l;

        if (!b->event) {
                button_config_clear(&b->config);
                return;
        }
        instances = g_list_remove(instances, b);
        b->active = false;
        b->window = pairing_window_free(b->window, "configuration reloaded");
        l = g_list_last(instances);
        next = l ? l->data : NULL;
        if (waiting_queue_length(b->waiting) > 0 && !next)
                log_warning("button: %u request(s) still waiting; the core will end them",
                            waiting_queue_length(b->waiting));
        waiting_queue_move(b->waiting, next ? next->waiting : NULL);
        release_hardware(b);
        sd_event_source_disable_unref(b->takeover);
        sd_event_source_disable_unref(b->long_timer);
        b->waiting = waiting_queue_free(b->waiting);
        sd_bus_unref(b->bus);
        sd_event_unref(b->event);
        button_config_clear(&b->config);
}

static int button_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                         PolicyResult *ret, PolicyCall **ret_call) {
        ButtonPolicy *b = p->data;

        if (!b->event)
                return -EOPNOTSUPP;
        switch (q->method) {
        case AGENT_METHOD_REQUEST_PASSKEY:
        case AGENT_METHOD_REQUEST_PIN_CODE:
                *ret = (PolicyResult){ .verdict = VERDICT_PASS,
                                       .reason = "a button cannot supply a passkey or PIN" };
                return 1;
        case AGENT_METHOD_DISPLAY_PASSKEY:
        case AGENT_METHOD_DISPLAY_PIN_CODE:
                *ret = (PolicyResult){ .verdict = VERDICT_PASS,
                                       .reason = "nothing for the button to approve" };
                return 1;
        default:
                break;
        }
        pairing_window_saw_device(b->window, q->device, q->paired);
        pairing_window_saw_device(b->shared, q->device, q->paired);
        if (pairing_window_is_open(b->window)) {
                *ret = (PolicyResult){ .verdict = VERDICT_ALLOW, .reason = "pairing window open" };
                return 1;
        }
        *ret_call = waiting_queue_add(b->waiting, q, done, userdata);
        log_info("button: %s from %s waits for a press (%u pending)",
                 agent_method_to_string(q->method), q->address ? q->address : "?",
                 waiting_queue_length(b->waiting));
        return 0;
}

/* ---- test hooks --------------------------------------------------------------------------- */

void button_policy_inject(Policy *p, bool pressed, uint64_t usec) {
        ButtonPolicy *b = p->data;

        if (b->in)
                button_input_feed(b->in, pressed, usec);
}

bool button_policy_window_is_open(Policy *p) {
        return pairing_window_is_open(((ButtonPolicy *) p->data)->window);
}

unsigned button_policy_pending(Policy *p) {
        return waiting_queue_length(((ButtonPolicy *) p->data)->waiting);
}

bool button_policy_is_active(Policy *p) {
        return ((ButtonPolicy *) p->data)->active;
}

bool button_policy_input_is_open(Policy *p) {
        return button_input_is_open(((ButtonPolicy *) p->data)->in);
}

static bool button_can_allow(const config_setting_t *section, AgentMethod m) {
        return m == AGENT_METHOD_REQUEST_CONFIRMATION || m == AGENT_METHOD_REQUEST_AUTHORIZATION ||
               m == AGENT_METHOD_AUTHORIZE_SERVICE;
}

const PolicyOps button_policy_ops = {
        .can_allow = button_can_allow,
        .name = "button",
        .involves_person = true,
        .needs_section = true,
        .size = sizeof(ButtonPolicy),
        .init = button_init,
        .done = button_done,
        .decide = button_decide,
        .cancel = waiting_queue_cancel,
};
