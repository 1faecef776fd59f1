/* SPDX-License-Identifier: MIT */
/* keypad: digits typed on a Linux input device (a USB numeric keypad, an IR remote through
 * rc-core, any evdev key device) answer RequestPasskey and RequestPinCode.
 *
 *   - Digits (KEY_0..9, KEY_KP0..9, KEY_NUMERIC_0..9), Backspace, Enter submits, Escape refuses:
 *     see keypad-buffer.h. RequestPasskey takes 1..6 digits (the number 0..999999: "42" is
 *     000042); a 7th digit is ignored. RequestPinCode takes 1..16 digits.
 *   - The digits go to the oldest waiting request, and only keys pressed after it arrived count
 *     (a key from before never answers a later stranger). The digits typed so far are forgotten
 *     when that request leaves the queue (answered, canceled, timed out).
 *   - Other methods: pass (a keypad supplies numbers only).
 *   - The device: by path or by input device name, like the button (hw/button-input.c): absent at
 *     start is a warning, it is reopened when it comes back.
 *   - Speech routed before the keypad says what to type and, with echo = true, each digit
 *     (announce.h).
 *   - Typed digits are never logged: a PIN is secret; the core's audit record of an allowed
 *     RequestPasskey carries the passkey as it does for every policy.
 *
 * On reload the waiting requests and the digits typed for the oldest go to the newest instance. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "announce.h"
#include "audit.h"
#include "button-input.h"
#include "keypad-buffer.h"
#include "keypad.h"
#include "macro.h"
#include "settings.h"
#include "waiting-queue.h"

#define KEYPAD_DEVICE_MAX 255

typedef struct KeypadPolicy {
        char *device;
        bool echo;

        /* runtime (event != NULL) */
        sd_event *event;
        ButtonInput *in;
        WaitingQueue *waiting;
        sd_event_source *takeover;
        bool input_was_open;
        KeypadBuffer buf;
        uint64_t buf_request; /* the request the digits are for; 0: none */
} KeypadPolicy;

/* Runtime instances, oldest first. During a reload the old and the new policy set live side by
 * side (a held request keeps the old set alive until it ends); the new instance takes the old
 * ones' waiting requests, the digits typed for the oldest, and the device over (two readers of one
 * FIFO would split the keys between them). */
static GList *instances;

static void audit_event(const char *value, const char *message, const char *reason) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_POLICY_EVENT);

        rec.policy = "keypad";
        rec.message = message;
        rec.reason = reason;
        rec.extra_key = "input";
        rec.extra_value = value;
        audit_emit(&rec);
}

/* The digits belong to the oldest request: a new oldest starts from nothing. */
static void sync_buffer(KeypadPolicy *k) {
        PolicyCall *c = waiting_queue_oldest(k->waiting);

        if (c && c->request_id == k->buf_request)
                return;
        keypad_buffer_init(&k->buf, c && c->method == AGENT_METHOD_REQUEST_PIN_CODE
                                            ? KEYPAD_PIN_DIGITS
                                            : KEYPAD_PASSKEY_DIGITS);
        k->buf_request = c ? c->request_id : 0;
}

static void on_queue_changed(void *userdata) {
        sync_buffer(userdata);
}

static void announce_for(const PolicyCall *c, AnnounceKind kind, char digit) {
        const PairingQuery q = {
                .request_id = c->request_id,
                .method = c->method,
                .address = c->address,
        };

        (void) announce(&(Announcement){ .kind = kind, .query = &q, .digit = digit });
}

static void submit(KeypadPolicy *k, PolicyCall *c) {
        PolicyResult res = { .verdict = VERDICT_ALLOW };

        if (c->method == AGENT_METHOD_REQUEST_PIN_CODE)
                memcpy(res.pin, k->buf.digits, k->buf.len + 1);
        else {
                res.has_passkey = true;
                res.passkey = keypad_buffer_value(&k->buf);
        }
        snprintf(c->reason, sizeof c->reason, "%zu digit%s typed on the keypad", k->buf.len,
                 k->buf.len == 1 ? "" : "s");
        log_info("keypad: Enter answers %s from %s (request %" PRIu64 ")",
                 agent_method_to_string(c->method), c->address ? c->address : "?", c->request_id);
        keypad_buffer_clear(&k->buf);
        waiting_queue_answer(c, &res);
        explicit_bzero(&res, sizeof res);
}

static void on_key(unsigned code, uint64_t usec, void *userdata) {
        KeypadPolicy *k = userdata;
        PolicyCall *c = waiting_queue_oldest(k->waiting);
        KeypadAction a;

        if (!c) {
                log_debug("keypad: a key with nothing waiting: ignored"); /* never which */
                return;
        }
        if (usec <= c->arrived_usec) {
                log_info("keypad: a key pressed %.1f s before the oldest request arrived is "
                         "ignored",
                         (double) (c->arrived_usec - usec) / 1e6);
                return;
        }
        sync_buffer(k);
        a = keypad_buffer_feed(&k->buf, code);
        switch (a) {
        case KEYPAD_DIGIT:
                if (k->echo)
                        announce_for(c, ANNOUNCE_KEYPAD_DIGIT, k->buf.digits[k->buf.len - 1]);
                break;
        case KEYPAD_DELETED:
                if (k->echo)
                        announce_for(c, ANNOUNCE_KEYPAD_DELETE, 0);
                break;
        case KEYPAD_FULL:
                log_info("keypad: a digit beyond %zu ignored (%s takes at most %zu)", k->buf.max,
                         agent_method_to_string(c->method), k->buf.max);
                break;
        case KEYPAD_EMPTY:
                log_info("keypad: Enter with no digit typed: ignored");
                break;
        case KEYPAD_SUBMIT:
                submit(k, c);
                break;
        case KEYPAD_REFUSE:
                snprintf(c->reason, sizeof c->reason, "Escape pressed on the keypad");
                log_info("keypad: Escape refuses %s from %s (request %" PRIu64 ")",
                         agent_method_to_string(c->method), c->address ? c->address : "?",
                         c->request_id);
                keypad_buffer_clear(&k->buf);
                waiting_queue_decide(c, VERDICT_DENY);
                break;
        default:
                break;
        }
}

static void on_input_state(ButtonInputState state, const char *detail, int error, void *userdata) {
        KeypadPolicy *k = userdata;
        _cleanup_free_ char *msg = NULL;

        switch (state) {
        case BUTTON_INPUT_OPENED:
                msg = g_strdup_printf("Keypad input %s %s", detail,
                                      k->input_was_open ? "reopened" : "opened");
                audit_event(k->input_was_open ? "reopened" : "opened", msg, NULL);
                k->input_was_open = true;
                break;
        case BUTTON_INPUT_ABSENT:
                log_warning("keypad: input %s is not available (%s); waiting for it", detail,
                            g_strerror(-error));
                break;
        case BUTTON_INPUT_LOST:
                msg = g_strdup_printf("Keypad input %s lost (%s); waiting for it to come back",
                                      detail, error ? g_strerror(-error) : "end of file");
                audit_event("lost", msg, error ? g_strerror(-error) : "end of file");
                break;
        }
}

/* ---- the section ------------------------------------------------------------------------- */

static int parse_section(KeypadPolicy *k, const config_setting_t *section, const PolicyEnv *env,
                         char **ret_error) {
        const SettingScope scope = { .file = env->config_path, .section = "keypad" };
        const char *device = NULL;
        int r = 0;

        if (!config_setting_is_group(section))
                return setting_fail(ret_error,
                                    policy_error(env, section,
                                                 "keypad must be a group: keypad = { device = "
                                                 "\"...\"; };"));
        for (int i = 0; r >= 0 && i < config_setting_length(section); i++) {
                const config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "device")) {
                        r = setting_get_string(&scope, e, &device, ret_error);
                        if (r >= 0 && strlen(device) > KEYPAD_DEVICE_MAX)
                                r = setting_failf(ret_error, &scope, e,
                                                  "keypad.device is longer than %d bytes",
                                                  KEYPAD_DEVICE_MAX);
                } else if (streq(name, "echo"))
                        r = setting_get_bool(&scope, e, &k->echo, ret_error);
                else
                        r = setting_failf(ret_error, &scope, e,
                                          "keypad: unknown key '%s' (known: device, echo)", name);
        }
        if (r < 0)
                return r;
        if (!device)
                return setting_failf(ret_error, &scope, section,
                                     "keypad: device is missing (a path such as "
                                     "\"/dev/input/by-id/...-event-kbd\" or an input device name)");
        k->device = g_strdup(device);
        return 0;
}

/* ---- PolicyOps ---------------------------------------------------------------------------- */

/* Hand from's waiting requests (and the digits typed for the oldest, when it is still the oldest
 * there) to `to` (NULL: orphan them: the core ends them); close from's device. */
static void hand_over(KeypadPolicy *from, KeypadPolicy *to) {
        PolicyCall *oldest = waiting_queue_oldest(from->waiting);
        bool keep = oldest && oldest->request_id == from->buf_request;
        KeypadBuffer typed = from->buf; /* the move empties from's queue, and so its buffer */

        if (!to && oldest)
                log_warning("keypad: %u request(s) still waiting; the core will end them",
                            waiting_queue_length(from->waiting));
        waiting_queue_move(from->waiting, to ? to->waiting : NULL);
        if (to && keep && waiting_queue_oldest(to->waiting) == oldest)
                to->buf = typed;
        keypad_buffer_clear(&typed);
        keypad_buffer_clear(&from->buf);
        from->buf_request = 0;
        from->in = button_input_free(from->in);
}

static int on_takeover(sd_event_source *s, void *userdata) {
        static const ButtonInputCallbacks cb = {
                .key = on_key,
                .state = on_input_state,
        };
        KeypadPolicy *k = userdata;
        ButtonInputConfig ic = {
                .kind = BUTTON_SOURCE_INPUT,
                .label = "keypad",
                .device = k->device,
        };
        int r;

        k->takeover = sd_event_source_disable_unref(k->takeover);
        for (GList *l = instances; l; l = l->next)
                if (l->data != k)
                        hand_over(l->data, k);
        ic.keys = keypad_keys(&ic.n_keys);
        r = button_input_new(&k->in, k->event, &ic, &cb, k);
        if (r >= 0)
                r = button_input_start(k->in);
        if (r < 0)
                log_error("keypad: cannot watch the input: %s", g_strerror(-r));
        return 0;
}

static int keypad_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                       char **ret_error) {
        KeypadPolicy *k = p->data;
        int r;

        if (!section) {
                if (!env->event)
                        return 0; /* not configured; routes that name it are refused at start */
                return setting_fail(ret_error,
                                    policy_error(env, NULL,
                                                 "keypad: a route uses the keypad policy but "
                                                 "there is no keypad = { ... }; section"));
        }
        r = parse_section(k, section, env, ret_error);
        if (r < 0 || !env->event) {
                if (r < 0)
                        g_free(k->device); /* done() is not called after a failed init */
                return r;
        }

        k->event = sd_event_ref(env->event);
        keypad_buffer_init(&k->buf, KEYPAD_PASSKEY_DIGITS);
        (void) waiting_queue_new(&k->waiting, k->event, on_queue_changed, k);
        /* Open the device from the loop: a configuration that fails after this init never
         * takes it (or the old instance's requests) away (done() drops the defer). */
        r = sd_event_add_defer(k->event, &k->takeover, on_takeover, k);
        if (r < 0) {
                k->waiting = waiting_queue_free(k->waiting);
                k->event = sd_event_unref(k->event);
                g_free(k->device);
                return setting_fail(ret_error,
                                    policy_error(env, section, "keypad: %s", g_strerror(-r)));
        }
        instances = g_list_append(instances, k);
        return 0;
}

static void keypad_done(Policy *p) {
        KeypadPolicy *k = p->data;
        KeypadPolicy *next = NULL;
        GList *l;

        if (k->event) {
                instances = g_list_remove(instances, k);
                l = g_list_last(instances);
                next = l ? l->data : NULL;
                hand_over(k, next);
                k->takeover = sd_event_source_disable_unref(k->takeover);
                k->waiting = waiting_queue_free(k->waiting);
                sd_event_unref(k->event);
        }
        keypad_buffer_clear(&k->buf);
        g_free(k->device);
        *k = (KeypadPolicy){ 0 };
}

static int keypad_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                         PolicyResult *ret, PolicyCall **ret_call) {
        KeypadPolicy *k = p->data;

        if (!k->event)
                return -EOPNOTSUPP;
        if (q->method != AGENT_METHOD_REQUEST_PASSKEY &&
            q->method != AGENT_METHOD_REQUEST_PIN_CODE) {
                *ret = (PolicyResult){ .verdict = VERDICT_PASS,
                                       .reason = "a keypad supplies passkeys and PINs only" };
                return 1;
        }
        *ret_call = waiting_queue_add(k->waiting, q, done, userdata);
        log_info("keypad: %s from %s waits for digits (%u pending)",
                 agent_method_to_string(q->method), q->address ? q->address : "?",
                 waiting_queue_length(k->waiting));
        if (waiting_queue_oldest(k->waiting) == *ret_call)
                (void) announce(&(Announcement){ .kind = ANNOUNCE_KEYPAD_PROMPT, .query = q });
        return 0;
}

static bool keypad_can_allow(const config_setting_t *section, AgentMethod m) {
        return m == AGENT_METHOD_REQUEST_PASSKEY || m == AGENT_METHOD_REQUEST_PIN_CODE;
}

/* ---- test hooks --------------------------------------------------------------------------- */

void keypad_policy_inject(Policy *p, unsigned code, uint64_t usec) {
        KeypadPolicy *k = p->data;

        if (k->in)
                button_input_feed_key(k->in, code, usec);
}

unsigned keypad_policy_pending(Policy *p) {
        return waiting_queue_length(((KeypadPolicy *) p->data)->waiting);
}

bool keypad_policy_is_active(Policy *p) {
        KeypadPolicy *k = p->data;

        return k->event && !k->takeover && g_list_find(instances, k);
}

bool keypad_policy_input_is_open(Policy *p) {
        return button_input_is_open(((KeypadPolicy *) p->data)->in);
}

const PolicyOps keypad_policy_ops = {
        .name = "keypad",
        .involves_person = true,
        .size = sizeof(KeypadPolicy),
        .needs_section = true,
        .init = keypad_init,
        .done = keypad_done,
        .decide = keypad_decide,
        .cancel = waiting_queue_cancel,
        .can_allow = keypad_can_allow,
};
