/* SPDX-License-Identifier: MIT */
/* The control interface's devices: ListDevices (BlueZ's devices, the allowlist's addresses, what
 * pairgate decided since start), ForgetDevice (Adapter1.RemoveDevice + the history) and
 * LiftLockout.
 *
 * Lockouts (the `limits` section) come from the limiter (pairgated/limiter.c): ListDevices lists
 * the devices locked out with their LockedUntilRealtime (also those pairgate knows of only by
 * their lockout, kept across a restart), LiftLockout ends one, ForgetDevice forgets it. */
#include <errno.h>
#include <inttypes.h>

#include <glib.h>

#include "audit.h"
#include "bdaddr.h"
#include "control-internal.h"
#include "macro.h"

typedef struct ControlForget {
        Control *control;
        sd_bus_message *call; /* the ForgetDevice call, answered when bluetoothd answers */
        sd_bus_slot *slot;
} ControlForget;

/* ---- lockouts (limits, pairgated/limiter.c) ---------------------------------------------------
 */

/* CLOCK_REALTIME µs until which address is locked out, 0 when it is not. */
static uint64_t device_lockout_until(Control *c, const char *address) {
        return c->env.limiter ? limiter_locked_until(c->env.limiter, address) : 0;
}

/* End address's lockout: 0, or -ENOENT when it is not locked out. */
static int lift_lockout(Control *c, const char *address, uint32_t uid) {
        _cleanup_free_ char *by = g_strdup_printf("uid %" PRIu32 " (control interface)", uid);

        return c->env.limiter ? limiter_lift(c->env.limiter, address, by) : -ENOENT;
}

/* Forget what the limits know of address (its lockout, its refusals); whether it was locked
 * out. */
static bool forget_lockout(Control *c, const char *address, uint32_t uid) {
        _cleanup_free_ char *by = g_strdup_printf("uid %" PRIu32 " (control interface)", uid);
        bool locked = device_lockout_until(c, address) > 0;

        if (c->env.limiter)
                limiter_forget(c->env.limiter, address, by);
        return locked;
}

/* ---- ListDevices ---------------------------------------------------------------------------- */

/* What one entry of ListDevices says; every source fills what it knows. */
typedef struct DeviceEntry {
        const char *address;  /* canonical upper case */
        const Device *device; /* BlueZ's, or NULL */
        bool allowlisted;
        const DeviceHistoryEntry *history; /* or NULL */
} DeviceEntry;

static int append_bool(sd_bus_message *m, const char *key, bool b) {
        return sd_bus_message_append(m, "{sv}", key, "b", b);
}

/* One device as the a{sv} of docs/control-interface.md (the one place that builds it). */
static int append_device(Control *c, sd_bus_message *m, const DeviceEntry *e) {
        const Device *d = e->device;
        const DeviceHistoryEntry *h = e->history;
        const char *name = d ? device_display_name(d, NULL) : NULL;
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Address", "s", e->address);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "AddressType", "s",
                                          d && d->address_type ? d->address_type : "unknown");
        if (r >= 0 && name && g_utf8_validate(name, -1, NULL))
                r = sd_bus_message_append(m, "{sv}", "Name", "s", name);
        if (r >= 0 && d)
                r = sd_bus_message_append(m, "{sv}", "Device", "o", d->path);
        if (r >= 0)
                r = append_bool(m, "Allowlisted", e->allowlisted);
        if (r >= 0)
                r = append_bool(m, "Paired", d && d->paired);
        if (r >= 0)
                r = append_bool(m, "Bonded", d && d->bonded);
        if (r >= 0)
                r = append_bool(m, "Trusted", d && d->trusted);
        if (r >= 0)
                r = append_bool(m, "Blocked", d && d->blocked);
        if (r >= 0)
                r = append_bool(m, "TrustedByPairgate", d && trust_is_ours(c->env.trust, d->path));
        if (r >= 0 && h)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}", "LastDecision", "s",
                                          request_result_to_string(h->last_result),
                                          "LastDecisionRealtime", "t", h->last_realtime_usec,
                                          "LastMethod", "s",
                                          agent_method_to_string(h->last_method));
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Refusals", "u", h ? h->refusals : 0U);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "LockedUntilRealtime", "t",
                                          device_lockout_until(c, e->address));
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The allowlist's addresses (canonical), from the configuration in effect. */
static GHashTable *allowlisted(const Control *c) {
        GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        const config_setting_t *section =
                c->config ? config_policy_section(c->config, "allowlist") : NULL;
        const config_setting_t *devices =
                section ? config_setting_get_member(section, "devices") : NULL;

        for (int i = 0; devices && i < config_setting_length(devices); i++) {
                const char *s = config_setting_get_string_elem(devices, i);
                char addr[BDADDR_STRLEN];
                if (s && bdaddr_normalize(s, addr))
                        g_hash_table_add(set, g_strdup(addr));
        }
        return set;
}

typedef struct ListState {
        Control *control;
        sd_bus_message *reply;
        GHashTable *allow; /* not yet listed: removed as listed */
        GHashTable *seen;  /* addresses listed */
        int r;
} ListState;

static void list_history_entry(const DeviceHistoryEntry *h, void *userdata) {
        ListState *s = userdata;
        DeviceEntry e = { .address = h->address, .history = h };

        if (s->r < 0 || g_hash_table_contains(s->seen, h->address))
                return;
        e.allowlisted = g_hash_table_remove(s->allow, h->address);
        g_hash_table_add(s->seen, g_strdup(h->address));
        s->r = append_device(s->control, s->reply, &e);
}

/* A device pairgate knows of only by its lockout (a stranger that never reached BlueZ's list, or
 * one restored from the state file). */
static void list_locked(const char *address, uint64_t until, void *userdata) {
        ListState *s = userdata;
        DeviceEntry e = { .address = address };

        if (s->r < 0 || g_hash_table_contains(s->seen, address))
                return;
        e.allowlisted = g_hash_table_remove(s->allow, address);
        g_hash_table_add(s->seen, g_strdup(address));
        s->r = append_device(s->control, s->reply, &e);
}

int control_method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        g_autoptr(GHashTable) allow = allowlisted(c);
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GPtrArray) devices = device_cache_list(c->env.cache);
        ListState s;
        GHashTableIter it;
        void *key;
        uint32_t uid;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        /* BlueZ's devices first, then what only pairgate knows. */
        for (guint i = 0; r >= 0 && i < devices->len; i++) {
                const Device *d = devices->pdata[i];
                char addr[BDADDR_STRLEN];
                DeviceEntry e = { .address = addr, .device = d };

                if (!d->address || !bdaddr_normalize(d->address, addr))
                        continue;
                e.allowlisted = g_hash_table_contains(allow, addr);
                e.history = device_history_get(c->env.history, addr);
                g_hash_table_add(seen, g_strdup(addr));
                r = append_device(c, reply, &e);
        }
        g_hash_table_iter_init(&it, seen);
        while (g_hash_table_iter_next(&it, &key, NULL))
                g_hash_table_remove(allow, key);
        s = (ListState){ .control = c, .reply = reply, .allow = allow, .seen = seen, .r = r };
        device_history_foreach(c->env.history, list_history_entry, &s);
        if (c->env.limiter)
                limiter_foreach_locked(c->env.limiter, list_locked, &s);
        r = s.r;
        g_hash_table_iter_init(&it, allow);
        while (r >= 0 && g_hash_table_iter_next(&it, &key, NULL)) {
                DeviceEntry e = { .address = key, .allowlisted = true };
                r = append_device(c, reply, &e);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- ForgetDevice --------------------------------------------------------------------------- */

/* Unlinked from the control's list by the caller. */
static ControlForget *forget_free(ControlForget *f) {
        sd_bus_slot_unref(f->slot);
        sd_bus_message_unref(f->call);
        g_free(f);
        return NULL;
}

static int on_remove_device(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ControlForget *f = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        if (e) {
                log_warning("control: bluetoothd refused RemoveDevice: %s",
                            e->message ? e->message : e->name);
                r = sd_bus_reply_method_errorf(f->call, CONTROL_ERROR_FAILED,
                                               "bluetoothd refused RemoveDevice: %s",
                                               e->message ? e->message : e->name);
        } else
                r = sd_bus_reply_method_return(f->call, NULL);
        if (r < 0)
                log_debug("control: cannot answer ForgetDevice: %s", g_strerror(-r));
        f->control->forgets = g_list_remove(f->control->forgets, f);
        forget_free(f);
        return 0;
}

int control_method_forget_device(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_free_ char *msg = NULL;
        const char *arg, *owner = bluez_owner_get(c->env.owner);
        char addr[BDADDR_STRLEN];
        const Device *d;
        ControlForget *f;
        bool had_history, had_lockout;
        uint32_t uid;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &arg);
        if (r < 0)
                return r;
        if (!bdaddr_normalize(arg, addr))
                return sd_bus_error_set(error, CONTROL_ERROR_INVALID_ARGS,
                                        "Not a Bluetooth address (AA:BB:CC:DD:EE:FF)");
        d = owner ? device_cache_find_address(c->env.cache, NULL, addr) : NULL;
        had_history = device_history_forget(c->env.history, addr);
        had_lockout = forget_lockout(c, addr, uid);
        if (!d && !had_history && !had_lockout)
                return sd_bus_error_setf(error, CONTROL_ERROR_NOT_FOUND,
                                         "Neither bluetoothd nor pairgate knows %s", addr);
        msg = g_strdup_printf(
                "Device %s forgotten through the control interface by uid %" PRIu32 "%s", addr, uid,
                d ? ": removing its bond through bluetoothd" : " (bluetoothd has no such device)");
        control_audit_action(uid, "forget", addr, msg);
        if (!d || !d->adapter)
                return sd_bus_reply_method_return(m, NULL);

        /* Answered when bluetoothd has removed it (its Device1 object goes with it). */
        f = g_new0(ControlForget, 1);
        f->control = c;
        f->call = sd_bus_message_ref(m);
        r = sd_bus_call_method_async(c->env.bus, &f->slot, owner, d->adapter, "org.bluez.Adapter1",
                                     "RemoveDevice", on_remove_device, f, "o", d->path);
        if (r < 0) {
                sd_bus_message_unref(f->call);
                g_free(f);
                return sd_bus_error_setf(error, CONTROL_ERROR_FAILED,
                                         "Cannot ask bluetoothd to remove the device: %s",
                                         g_strerror(-r));
        }
        c->forgets = g_list_prepend(c->forgets, f);
        return 1;
}

void control_devices_done(Control *c) {
        GList *forgets = TAKE_PTR(c->forgets);

        for (GList *l = forgets; l; l = l->next) {
                ControlForget *f = l->data;
                (void) sd_bus_reply_method_errorf(f->call, CONTROL_ERROR_FAILED,
                                                  "pairgated is stopping");
                forget_free(f);
        }
        g_list_free(forgets);
}

/* ---- LiftLockout ---------------------------------------------------------------------------- */

int control_method_lift_lockout(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_free_ char *msg = NULL;
        char addr[BDADDR_STRLEN];
        const char *arg;
        uint32_t uid;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &arg);
        if (r < 0)
                return r;
        if (!bdaddr_normalize(arg, addr))
                return sd_bus_error_set(error, CONTROL_ERROR_INVALID_ARGS,
                                        "Not a Bluetooth address (AA:BB:CC:DD:EE:FF)");
        if (lift_lockout(c, addr, uid) < 0)
                return sd_bus_error_setf(error, CONTROL_ERROR_NOT_FOUND, "%s is not locked out",
                                         addr);
        msg = g_strdup_printf("Lockout of %s lifted through the control interface by uid %" PRIu32,
                              addr, uid);
        control_audit_action(uid, "lift-lockout", addr, msg);
        return sd_bus_reply_method_return(m, NULL);
}
