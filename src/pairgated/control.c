/* SPDX-License-Identifier: MIT */
/* The control interface: the name, the object, the access check, the status and the pairing
 * window. The held requests live in control-requests.c, the devices in control-devices.c. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>

#include <glib.h>

#include "audit.h"
#include "control-internal.h"
#include "macro.h"
#include "time-util.h"
#include "window.h"

/* ---- helpers -------------------------------------------------------------------------------- */

uint64_t control_realtime(uint64_t monotonic_usec) {
        uint64_t real = realtime_usec(), mono = now_usec();

        if (!monotonic_usec)
                return 0;
        return monotonic_usec >= mono ? real + (monotonic_usec - mono)
                                      : real - MIN(real, mono - monotonic_usec);
}

void control_audit_action(uint32_t uid, const char *action, const char *address,
                          const char *message) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_CONTROL_ACTION);

        rec.message = message;
        rec.address = address;
        rec.extra_key = "action";
        rec.extra_value = action;
        rec.has_control_uid = true;
        rec.control_uid = uid;
        audit_emit(&rec);
}

int control_append_entry(sd_bus_message *m, const char *key, const char *type, ...) {
        va_list ap;
        int r;

        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', type);
        if (r >= 0) {
                va_start(ap, type);
                r = sd_bus_message_appendv(m, type, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ---- access --------------------------------------------------------------------------------- */

static bool in_list(const gid_t *gids, int n, gid_t g) {
        for (int i = 0; i < n; i++)
                if (gids[i] == g)
                        return true;
        return false;
}

/* The caller's groups: the ones the bus vouches for (dbus-daemon with SO_PEERGROUPS, dbus-broker)
 * when it gives them, else the user database's (getgrouplist of the uid's user). */
static bool caller_in_group(sd_bus_creds *creds, uid_t uid, gid_t admin) {
        const gid_t *gids = NULL;
        gid_t gid;
        struct passwd *pw;
        int n;

        if ((sd_bus_creds_get_egid(creds, &gid) >= 0 || sd_bus_creds_get_gid(creds, &gid) >= 0) &&
            gid == admin)
                return true;
        n = sd_bus_creds_get_supplementary_gids(creds, &gids);
        if (n >= 0)
                return in_list(gids, n, admin);
        pw = getpwuid(uid); /* NOLINT(concurrency-mt-unsafe): one thread */
        if (!pw)
                return false;
        n = 0;
        /* -1 with the number of groups in n when the list is too short (here: empty). */
        if (getgrouplist(pw->pw_name, pw->pw_gid, NULL, &n) < 0 && n > 0) {
                gid_t *list = g_new(gid_t, n);
                bool found = getgrouplist(pw->pw_name, pw->pw_gid, list, &n) >= 0 &&
                             in_list(list, n, admin);
                g_free(list);
                return found;
        }
        return false;
}

static const char *member_name(sd_bus_message *m) {
        const char *s = sd_bus_message_get_member(m);
        return s ? s : "?";
}

int control_check_access(Control *c, sd_bus_message *m, uint32_t *ret_uid, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_CONTROL_REFUSED);
        const char *why = NULL;
        struct group *gr;
        uid_t uid = (uid_t) -1;
        int r;

        *ret_uid = UINT32_MAX;
        /* What the bus vouches for (GetConnectionCredentials): a blocking round trip to the bus
         * driver, nothing from /proc (pairgated cannot see other processes there). */
        r = sd_bus_query_sender_creds(m,
                                      SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_GID |
                                              SD_BUS_CREDS_EGID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS,
                                      &creds);
        if (r >= 0 && sd_bus_creds_get_euid(creds, &uid) < 0)
                r = sd_bus_creds_get_uid(creds, &uid);
        if (r < 0)
                why = "the bus did not tell who the caller is";
        else if (uid == 0) {
                *ret_uid = 0;
                return 1;
        } else if (!(gr = getgrnam(CONTROL_ADMIN_GROUP))) /* NOLINT(concurrency-mt-unsafe) */
                why = "the group " CONTROL_ADMIN_GROUP " does not exist";
        else if (caller_in_group(creds, uid, gr->gr_gid)) {
                *ret_uid = (uint32_t) uid;
                return 1;
        } else
                why = "caller is neither root nor in the group " CONTROL_ADMIN_GROUP;

        rec.method = member_name(m);
        rec.sender = sd_bus_message_get_sender(m);
        rec.reason = why;
        if (uid != (uid_t) -1) {
                rec.has_control_uid = true;
                rec.control_uid = (uint32_t) uid;
        }
        audit_emit(&rec);
        return sd_bus_error_setf(error, CONTROL_ERROR_ACCESS_DENIED,
                                 "Only root and the members of %s may use %s", CONTROL_ADMIN_GROUP,
                                 CONTROL_INTERFACE);
}

void control_note_decision(Control *c, RequestResult result) {
        if (!c)
                return;
        if (result == REQUEST_ALLOW)
                c->allowed++;
        else if (result != REQUEST_CANCELED)
                c->denied++;
}

/* ---- status and window ---------------------------------------------------------------------- */

static int method_get_status(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        g_auto(GStrv) adapters = device_cache_adapters(c->env.cache);
        bool open = pairing_window_is_open(c->window);
        uint32_t uid;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = control_append_entry(reply, "Version", "s", PAIRGATE_VERSION);
        if (r >= 0)
                r = control_append_entry(reply, "Registered", "b",
                                         bluez_state(c->env.bluez) == BLUEZ_REGISTERED);
        if (r >= 0)
                r = control_append_entry(
                        reply, "Capability", "s",
                        capability_to_string(bluez_registered_capability(c->env.bluez)));
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Adapters");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, adapters);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = control_append_entry(reply, "WindowConfigured", "b", c->window != NULL);
        if (r >= 0)
                r = control_append_entry(reply, "WindowOpen", "b", open);
        if (r >= 0)
                r = control_append_entry(reply, "WindowClosesRealtime", "t",
                                         control_realtime(pairing_window_closes_usec(c->window)));
        if (r >= 0)
                r = control_append_entry(reply, "WindowPairingsLeft", "u",
                                         pairing_window_pairings_left(c->window));
        if (r >= 0)
                r = control_append_entry(reply, "Pending", "u", agent_held_count(c->env.agent));
        if (r >= 0)
                r = control_append_entry(reply, "Allowed", "t", c->allowed);
        if (r >= 0)
                r = control_append_entry(reply, "Denied", "t", c->denied);
        if (r >= 0)
                r = control_append_entry(reply, "ConfigPath", "s", c->env.config_path);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_open_window(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_free_ char *why = NULL, *msg = NULL;
        uint32_t uid, seconds;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &seconds);
        if (r < 0)
                return r;
        if (!c->window)
                return sd_bus_error_set(error, CONTROL_ERROR_NOT_APPLICABLE,
                                        "The configuration has no window = { ... } section");
        if (seconds > WINDOW_MAX_SEC)
                return sd_bus_error_setf(error, CONTROL_ERROR_INVALID_ARGS,
                                         "A window opens for 0..%u seconds, not %" PRIu32,
                                         WINDOW_MAX_SEC, seconds);
        why = g_strdup_printf("opened through the control interface by uid %" PRIu32, uid);
        msg = g_strdup_printf("Pairing window opened through the control interface by uid %" PRIu32
                              " (%s)",
                              uid, seconds ? "requested duration" : "configured duration");
        control_audit_action(uid, "open-window", NULL, msg);
        pairing_window_open(c->window, seconds, why);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_close_window(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_free_ char *why = NULL;
        uint32_t uid;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        if (!c->window)
                return sd_bus_error_set(error, CONTROL_ERROR_NOT_APPLICABLE,
                                        "The configuration has no window = { ... } section");
        why = g_strdup_printf("closed through the control interface by uid %" PRIu32, uid);
        control_audit_action(uid, "close-window", NULL, why);
        if (pairing_window_is_open(c->window))
                pairing_window_close(c->window, why);
        return sd_bus_reply_method_return(m, NULL);
}

static void on_window_changed(PairingWindow *w, bool open, void *userdata) {
        Control *c = userdata;
        int k;

        k = sd_bus_emit_signal(c->env.bus, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, "WindowChanged",
                               "bt", open,
                               open ? control_realtime(pairing_window_closes_usec(w)) : 0);
        if (k < 0)
                log_debug("control: cannot send WindowChanged: %s", g_strerror(-k));
}

void control_set_config(Control *c, const Config *config, PairingWindow *window) {
        if (!c)
                return;
        c->config = config;
        c->window = window;
        if (window && window != c->listened) {
                pairing_window_remove_listener(c->listened, c->window_listener);
                c->window_listener = pairing_window_add_listener(window, on_window_changed, c);
                c->listened = window;
        }
}

/* ---- object and name ------------------------------------------------------------------------ */

/* UNPRIVILEGED: sd-bus would otherwise refuse every caller but root itself (and ask the bus for
 * the caller's credentials once more); control_check_access() admits the admin group too and
 * audits the refusals. */
static const sd_bus_vtable control_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListRequests", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", requests),
                                control_method_list_requests, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Approve", SD_BUS_ARGS("t", id), SD_BUS_NO_RESULT,
                                control_method_approve, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Deny", SD_BUS_ARGS("t", id), SD_BUS_NO_RESULT, control_method_deny,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnterPasskey", SD_BUS_ARGS("t", id, "u", passkey),
                                SD_BUS_NO_RESULT, control_method_enter_passkey,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnterPinCode", SD_BUS_ARGS("t", id, "s", pin), SD_BUS_NO_RESULT,
                                control_method_enter_pin_code, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStatus", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", status),
                                method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenWindow", SD_BUS_ARGS("u", seconds), SD_BUS_NO_RESULT,
                                method_open_window, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloseWindow", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_close_window, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", devices),
                                control_method_list_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ForgetDevice", SD_BUS_ARGS("s", address), SD_BUS_NO_RESULT,
                                control_method_forget_device, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LiftLockout", SD_BUS_ARGS("s", address), SD_BUS_NO_RESULT,
                                control_method_lift_lockout, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("RequestStarted", SD_BUS_ARGS("a{sv}", request), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RequestChanged", SD_BUS_ARGS("a{sv}", request), 0),
        SD_BUS_SIGNAL_WITH_ARGS("RequestEnded",
                                SD_BUS_ARGS("t", id, "s", result, "s", policy, "s", reason), 0),
        SD_BUS_SIGNAL_WITH_ARGS("WindowChanged", SD_BUS_ARGS("b", open, "t", closes_realtime), 0),
        SD_BUS_VTABLE_END,
};

static int on_name_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Control *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        uint32_t code = 0;

        c->name_request = sd_bus_slot_unref(c->name_request);
        if (e) {
                log_warning("control: cannot own %s (%s): the control interface is unavailable, "
                            "pairgated goes on as the pairing agent",
                            CONTROL_BUS_NAME, e->message ? e->message : e->name);
                return 0;
        }
        if (sd_bus_message_read(m, "u", &code) >= 0 && code != 1 /* PRIMARY_OWNER */ &&
            code != 4 /* ALREADY_OWNER */) {
                log_warning("control: %s is owned by another process: the control interface is "
                            "unavailable, pairgated goes on as the pairing agent",
                            CONTROL_BUS_NAME);
                return 0;
        }
        log_info("control: %s on %s", CONTROL_INTERFACE, CONTROL_BUS_NAME);
        return 0;
}

int control_new(Control **ret, const ControlEnv *env) {
        Control *c = g_new0(Control, 1);
        int r;

        c->env = *env;
        sd_bus_ref(c->env.bus);
        sd_event_ref(c->env.event);
        r = sd_bus_add_object_vtable(c->env.bus, &c->object, CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                                     control_vtable, c);
        if (r >= 0)
                /* Without queueing: when the name is taken, say so and go on (pairgated(8)). */
                r = sd_bus_call_method_async(c->env.bus, &c->name_request, "org.freedesktop.DBus",
                                             "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                             "RequestName", on_name_reply, c, "su",
                                             CONTROL_BUS_NAME, 4U /* DO_NOT_QUEUE */);
        if (r < 0) {
                control_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

Control *control_free(Control *c) {
        if (!c)
                return NULL;
        control_devices_done(c);
        pairing_window_remove_listener(c->listened, c->window_listener);
        sd_bus_slot_unref(c->name_request);
        sd_bus_slot_unref(c->object);
        sd_event_unref(c->env.event);
        sd_bus_unref(c->env.bus);
        g_free(c);
        return NULL;
}
