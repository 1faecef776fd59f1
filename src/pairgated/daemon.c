/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>

#include <glib.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "audit.h"
#include "bluez.h"
#include "chain.h"
#include "control.h"
#include "daemon.h"
#include "device-cache.h"
#include "device-history.h"
#include "explain.h"
#include "limiter.h"
#include "limits-state.h"
#include "macro.h"
#include "pairing-window.h"
#include "request.h"
#include "time-util.h"
#include "trust.h"
#include "window.h"

struct Daemon {
        char *config_path;
        Config *config;
        PolicySet *policies;
        sd_event *event;
        sd_bus *bus;
        BluezOwner *owner;
        DeviceCache *cache;
        Bluez *bluez;
        Agent *agent;
        Trust *trust;
        Limiter *limiter;
        PairingWindow *window;  /* created with the first window = { ... } section, kept after */
        bool window_enabled;    /* the current configuration has that section */
        DeviceHistory *history; /* what pairgate decided about each device since start */
        Control *control;       /* org.pairgate */
        bool stopping;
};

/* Bounds the history a flood of made-up addresses can grow. */
#define DEVICE_HISTORY_MAX 512

static void notify_status(Daemon *d) {
        const char *cap = capability_to_string(d->config->capability);
        _cleanup_free_ char *status = NULL;

        switch (bluez_state(d->bluez)) {
        case BLUEZ_REGISTERED:
                status = g_strdup_printf("Registered as default agent (%s)", cap);
                break;
        case BLUEZ_REGISTERING:
                status = g_strdup_printf("Registering with bluetoothd (%s)", cap);
                break;
        case BLUEZ_WAITING:
                status = g_strdup_printf("Not registered, retrying (%s)", cap);
                break;
        default:
                status = g_strdup_printf("Waiting for org.bluez, not registered (%s)", cap);
        }
        (void) sd_notifyf(false, "STATUS=%s", status);
}

static void log_config_warnings(const Config *c) {
        char **warnings = explain_warnings(c);

        for (char **w = warnings; w && *w; w++) {
                AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_CONFIG_WARNING);
                rec.message = *w;
                rec.reason = *w;
                rec.capability = capability_to_string(c->capability);
                audit_emit(&rec);
        }
        g_strfreev(warnings);
}

static void on_owner_changed(BluezOwner *o, const char *new_owner, void *userdata) {
        Daemon *d = userdata;
        AuditRecord rec =
                AUDIT_RECORD_INIT(new_owner ? AUDIT_BLUEZ_APPEARED : AUDIT_BLUEZ_VANISHED);

        rec.sender = new_owner;
        rec.message = new_owner ? "bluetoothd (org.bluez) appeared on the bus"
                                : "bluetoothd (org.bluez) left the bus";
        audit_emit(&rec);
        /* Whatever the old owner asked is void now. */
        agent_cancel_all(d->agent, new_owner ? "org.bluez changed owner" : "bluetoothd is gone");
        if (new_owner) {
                int r = device_cache_reset(d->cache);
                if (r < 0)
                        log_warning("Cannot load devices from org.bluez: %s", g_strerror(-r));
        } else
                device_cache_clear(d->cache);
        bluez_owner_changed(d->bluez);
}

static void on_state_changed(Bluez *b, BluezState old, const char *reason, void *userdata) {
        Daemon *d = userdata;
        BluezState now = bluez_state(b);

        if (now == BLUEZ_REGISTERED && d->window_enabled)
                /* Becoming the default agent makes bluetoothd turn bondable on
                 * (AlwaysPairable=false): put the adapter back where the window says. */
                pairing_window_sync(d->window);
        if (now == BLUEZ_REGISTERED) {
                AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_REGISTERED);
                _cleanup_free_ char *msg = g_strdup_printf(
                        "Registered with bluetoothd as the default agent, capability %s",
                        capability_to_string(bluez_capability(b)));
                rec.message = msg;
                rec.capability = capability_to_string(bluez_capability(b));
                rec.sender = bluez_owner_get(d->owner);
                audit_emit(&rec);
        } else if (!d->stopping &&
                   (old == BLUEZ_REGISTERED ? !bluez_reregistering(b) : bluez_reregistering(b))) {
                /* Giving the registration up to register again with a new capability is no
                 * loss (bluez.c logs it); failing to register again is. */
                AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_REGISTRATION_LOST);
                rec.message = "No longer registered as the default agent";
                rec.reason = reason;
                rec.capability = capability_to_string(d->config->capability);
                audit_emit(&rec);
        }
        if (!d->stopping) /* keep "Stopping" while we unregister */
                notify_status(d);
}

static void on_released(Agent *a, void *userdata) {
        Daemon *d = userdata;

        bluez_released(d->bluez);
}

static void on_request_finished(Agent *a, const Request *r, void *userdata) {
        Daemon *d = userdata;
        const PairingQuery *q = request_query(r);

        trust_note_request(d->trust, q->method, q->device, request_result(r) == REQUEST_ALLOW,
                           request_presented(r), request_policy(r), request_id(r));
}

static void on_request_held(Agent *a, Request *r, void *userdata) {
        Daemon *d = userdata;

        control_request_held(d->control, r);
}

static void on_request_moved(Agent *a, Request *r, void *userdata) {
        Daemon *d = userdata;

        control_request_moved(d->control, r);
}

static void on_request_ended(Agent *a, const Request *r, void *userdata) {
        Daemon *d = userdata;

        control_request_ended(d->control, r);
}

static void on_decided(Agent *a, const PairingQuery *q, RequestResult result, void *userdata) {
        Daemon *d = userdata;

        device_history_note(d->history, q->address, q->method, result, realtime_usec());
        control_note_decision(d->control, result);
}

/* The window the configuration c asks for, before it is committed: the existing one, or a new one
 * (which changes nothing on the adapter until synced). *ret is NULL without a window section. */
static int window_prepare(Daemon *d, const Config *c, const PolicyEnv *env, WindowSettings *ret,
                          PairingWindow **ret_window, char **ret_error) {
        const config_setting_t *section = config_policy_section(c, "window");
        PairingWindowConfig wc;
        int r;

        *ret_window = NULL;
        if (!section)
                return 0;
        r = window_settings_parse(ret, section, env, ret_error);
        if (r < 0)
                return r;
        if (d->window) {
                *ret_window = d->window;
                return 0;
        }
        wc = window_settings_config(ret);
        return pairing_window_new(ret_window, d->event, d->bus, d->owner, d->cache, &wc);
}

/* The configuration that asked for w (NULL: none) is now in effect. */
static void window_commit(Daemon *d, PairingWindow *w, const WindowSettings *s) {
        PairingWindowConfig wc;

        if (!w) {
                if (d->window_enabled)
                        pairing_window_retire(d->window, "configuration reloaded: no window");
                d->window_enabled = false;
                return;
        }
        wc = window_settings_config(s);
        if (d->window)
                pairing_window_reconfigure(d->window, &wc);
        d->window = w;
        d->window_enabled = true;
        if (d->bluez && bluez_state(d->bluez) == BLUEZ_REGISTERED)
                pairing_window_sync(d->window);
}

static void reload(Daemon *d) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        PolicySet *ps = NULL;
        PairingWindow *w = NULL;
        WindowSettings ws = { 0 };
        PolicyEnv env = { .event = d->event,
                          .bus = d->bus,
                          .bluez_owner = d->owner,
                          .devices = d->cache,
                          .config_path = d->config_path };
        AuditRecord rec;
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration");
        r = config_load_file(d->config_path, &c, &error);
        if (r >= 0)
                r = window_prepare(d, c, &env, &ws, &w, &error);
        if (r >= 0) {
                env.window = w;
                r = policy_set_new(&ps, c, &env, &error);
        }
        if (r < 0) {
                if (w != d->window)
                        pairing_window_free(w, "configuration reload refused");
                window_settings_clear(&ws);
                rec = AUDIT_RECORD_INIT(AUDIT_RELOAD_REFUSED);
                _cleanup_free_ char *msg = g_strdup_printf(
                        "Configuration reload refused, keeping the previous one: %s",
                        error ? error : g_strerror(-r));
                rec.message = msg;
                rec.reason = error ? error : g_strerror(-r);
                audit_emit(&rec);
                config_free(c);
                (void) sd_notify(false, "READY=1");
                notify_status(d);
                return;
        }
        window_commit(d, w, &ws);
        window_settings_clear(&ws);
        trust_set_enabled(d->trust, c->trust_on_approve);
        limiter_configure(d->limiter, &c->limits);
        agent_set_config(d->agent, c, ps);
        control_set_config(d->control, c, d->window_enabled ? d->window : NULL);
        policy_set_unref(d->policies);
        d->policies = ps;
        config_free(d->config);
        d->config = c;
        rec = AUDIT_RECORD_INIT(AUDIT_RELOAD_OK);
        rec.message = "Configuration reloaded";
        rec.capability = capability_to_string(c->capability);
        audit_emit(&rec);
        log_config_warnings(c);
        (void) bluez_set_capability(d->bluez, c->capability);
        (void) sd_notify(false, "READY=1");
        notify_status(d);
}

static void on_unregistered(void *userdata) {
        Daemon *d = userdata;

        (void) sd_event_exit(d->event, 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Daemon *d = userdata;
        AuditRecord rec;

        if (si->ssi_signo == SIGHUP) {
                /* A reload would register the agent again (and say READY=1) on the way out. */
                if (d->stopping)
                        log_notice("SIGHUP ignored: pairgated is stopping");
                else
                        reload(d);
                return 0;
        }
        if (d->stopping) /* second signal: do not wait for bluetoothd any longer */
                return sd_event_exit(d->event, 0);
        d->stopping = true;
        rec = AUDIT_RECORD_INIT(AUDIT_STOPPING);
        rec.message = "pairgated is stopping";
        audit_emit(&rec);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        agent_stop(d->agent);
        agent_cancel_all(d->agent, "pairgated is stopping");
        if (bluez_unregister(d->bluez, on_unregistered, d) <= 0)
                return sd_event_exit(d->event, 0);
        return 0;
}

int daemon_new(Daemon **ret, const char *config_path, Config *config) {
        Daemon *d = g_new0(Daemon, 1);

        d->config_path = g_strdup(config_path);
        d->config = config;
        *ret = d;
        return 0;
}

Daemon *daemon_free(Daemon *d) {
        if (!d)
                return NULL;
        d->control = control_free(d->control);
        agent_free(d->agent);     /* answers anything still held */
        limiter_free(d->limiter); /* writes the last summaries and the state */
        device_history_free(d->history);
        policy_set_unref(d->policies); /* policies may listen to the device cache */
        pairing_window_free(d->window, "pairgated is stopping");
        trust_free(d->trust);
        bluez_free(d->bluez);
        device_cache_free(d->cache);
        bluez_owner_free(d->owner);
        if (d->bus) {
                (void) sd_bus_flush(d->bus);
                sd_bus_flush_close_unref(d->bus);
        }
        sd_event_unref(d->event);
        config_free(d->config);
        g_free(d->config_path);
        g_free(d);
        return NULL;
}

/* The lockout state file: in the unit's StateDirectory (systemd passes it as $STATE_DIRECTORY,
 * the first of a colon-separated list), else the compiled-in one. */
static char *limits_state_path(void) {
        const char *dir = getenv("STATE_DIRECTORY");
        _cleanup_free_ char *first = NULL;

        if (dir && *dir) {
                const char *colon = strchr(dir, ':');
                first = colon ? g_strndup(dir, (gsize) (colon - dir)) : g_strdup(dir);
                return g_build_filename(first, LIMITS_STATE_FILE, NULL);
        }
        return g_build_filename(PAIRGATE_STATEDIR, LIMITS_STATE_FILE, NULL);
}

static int setup(Daemon *d) {
        static const BluezCallbacks bluez_cb = { .state_changed = on_state_changed };
        static const AgentCallbacks agent_cb = { .released = on_released,
                                                 .request_finished = on_request_finished,
                                                 .request_held = on_request_held,
                                                 .request_moved = on_request_moved,
                                                 .request_ended = on_request_ended,
                                                 .decided = on_decided };
        ControlEnv cenv;
        PolicyEnv env;
        PairingWindow *w = NULL;
        WindowSettings ws = { 0 };
        sigset_t mask;
        _cleanup_free_ char *error = NULL, *state_path = NULL;
        int r;

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create event loop: %s", g_strerror(-r));
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* Children (speech synthesis) are reaped through sd_event_add_child(), which needs
         * SIGCHLD blocked. */
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        for (int sig = SIGHUP; sig <= SIGTERM; sig++)
                if (sigismember(&mask, sig)) {
                        r = sd_event_add_signal(d->event, NULL, sig, on_signal, d);
                        if (r < 0)
                                return log_error_errno(r, "Cannot watch signals: %s",
                                                       g_strerror(-r));
                }
        /* WATCHDOG=1 from the loop itself when the unit sets WatchdogSec=. */
        (void) sd_event_set_watchdog(d->event, true);

        r = sd_bus_open_system(&d->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %s", g_strerror(-r));
        /* Losing the bus ends the loop with a failure exit (systemd restarts us). */
        (void) sd_bus_set_exit_on_disconnect(d->bus, true);
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus: %s", g_strerror(-r));

        r = bluez_owner_new(&d->owner, d->bus, on_owner_changed, d);
        if (r < 0)
                return r;
        r = device_cache_new(&d->cache, d->bus, d->owner);
        if (r < 0)
                return log_error_errno(r, "Cannot watch BlueZ devices: %s", g_strerror(-r));
        (void) trust_new(&d->trust, d->bus, d->owner, d->cache);
        state_path = limits_state_path();
        (void) limiter_new(&d->limiter, d->event, d->bus, d->owner, state_path);
        limiter_configure(d->limiter, &d->config->limits);
        trust_set_enabled(d->trust, d->config->trust_on_approve);
        env = (PolicyEnv){ .event = d->event,
                           .bus = d->bus,
                           .bluez_owner = d->owner,
                           .devices = d->cache,
                           .config_path = d->config_path };
        r = window_prepare(d, d->config, &env, &ws, &w, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ? error : g_strerror(-r));
        env.window = w;
        r = policy_set_new(&d->policies, d->config, &env, &error);
        if (r < 0) {
                pairing_window_free(w, "pairgated could not start");
                window_settings_clear(&ws);
                return log_error_errno(r, "%s", error ? error : g_strerror(-r));
        }
        window_commit(d, w, &ws);
        if (w && ws.at_start_sec > 0)
                pairing_window_open(w, ws.at_start_sec, "window.at_start: pairgated started");
        window_settings_clear(&ws);
        r = bluez_new(&d->bluez, d->bus, d->event, d->owner, AGENT_OBJECT_PATH,
                      d->config->capability, &bluez_cb, d);
        if (r < 0)
                return r;
        r = agent_new(&d->agent, d->bus, d->event, d->bluez, d->owner, d->cache, &agent_cb, d);
        if (r < 0)
                return log_error_errno(r, "Cannot export the agent object: %s", g_strerror(-r));
        agent_set_config(d->agent, d->config, d->policies);
        agent_set_limiter(d->agent, d->limiter);
        d->history = device_history_new(DEVICE_HISTORY_MAX);
        cenv = (ControlEnv){ .bus = d->bus,
                             .event = d->event,
                             .agent = d->agent,
                             .bluez = d->bluez,
                             .owner = d->owner,
                             .cache = d->cache,
                             .history = d->history,
                             .trust = d->trust,
                             .limiter = d->limiter,
                             .config_path = d->config_path };
        r = control_new(&d->control, &cenv);
        if (r < 0)
                return log_error_errno(r, "Cannot export the control interface: %s",
                                       g_strerror(-r));
        control_set_config(d->control, d->config, d->window_enabled ? d->window : NULL);
        r = bluez_owner_start(d->owner);
        if (r < 0)
                return log_error_errno(r, "Cannot watch org.bluez: %s", g_strerror(-r));
        return 0;
}

int daemon_run(Daemon *d) {
        AuditRecord rec;
        _cleanup_free_ char *msg = NULL;
        int r;

        r = setup(d);
        if (r < 0)
                return 1;
        msg = g_strdup_printf("pairgated %s started, capability %s, config %s", PAIRGATE_VERSION,
                              capability_to_string(d->config->capability), d->config_path);
        rec = AUDIT_RECORD_INIT(AUDIT_STARTED);
        rec.message = msg;
        rec.capability = capability_to_string(d->config->capability);
        audit_emit(&rec);
        log_config_warnings(d->config);
        (void) sd_notify(false, "READY=1");
        notify_status(d);

        r = sd_event_loop(d->event);
        if (r < 0) {
                log_error("Event loop failed: %s", g_strerror(-r));
                return 1;
        }
        return r; /* 0, or 1 (EXIT_FAILURE) when the bus went away */
}
