/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "macro.h"
#include "time-util.h"
#include "trust.h"

#define DEVICE_INTERFACE "org.bluez.Device1"

typedef struct Approval {
        uint64_t at_usec;
        uint64_t request_id;
        char *why; /* "RequestConfirmation allowed by button (request 7)" */
} Approval;

struct Trust {
        sd_bus *bus;
        BluezOwner *owner;
        DeviceCache *devices;
        DeviceListener *listener;
        GHashTable *approved; /* device path -> Approval* */
        GHashTable *ours;     /* device paths pairgate trusted */
        GHashTable *setting;  /* device path -> sd_bus_slot* of a Set in flight */
        bool enabled;
};

static void approval_free(Approval *a) {
        g_free(a->why);
        g_free(a);
}

static void audit_trust(AuditEvent ev, const Device *d, const char *message, const char *reason,
                        uint64_t request_id) {
        AuditRecord rec = AUDIT_RECORD_INIT(ev);

        rec.message = message;
        rec.reason = reason;
        rec.device = d->path;
        rec.address = d->address;
        rec.address_type = d->address_type;
        rec.adapter = d->adapter;
        rec.request_id = request_id;
        audit_emit(&rec);
}

typedef struct SetCall {
        Trust *t;
        char *path;
        bool value;
} SetCall;

static int on_set_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        SetCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                log_warning("Cannot set Trusted=%s on %s: %s: %s", c->value ? "true" : "false",
                            c->path, e->name, e->message ? e->message : "");
        /* Removing the slot from the table frees c (the slot's destroy callback). */
        g_hash_table_remove(c->t->setting, c->path);
        return 0;
}

static void set_call_free(void *p) {
        SetCall *c = p;

        g_free(c->path);
        g_free(c);
}

static int set_trusted(Trust *t, const char *path, bool value) {
        const char *owner = bluez_owner_get(t->owner);
        sd_bus_slot *slot = NULL;
        SetCall *c;
        int r;

        if (!owner || !t->bus)
                return -ENOTCONN;
        c = g_new0(SetCall, 1);
        c->t = t;
        c->path = g_strdup(path);
        c->value = value;
        r = sd_bus_call_method_async(t->bus, &slot, owner, path, "org.freedesktop.DBus.Properties",
                                     "Set", on_set_reply, c, "ssv", DEVICE_INTERFACE, "Trusted",
                                     "b", (int) value);
        if (r < 0) {
                set_call_free(c);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, set_call_free);
        /* Replaces (and so cancels) an older Set of the same device. */
        g_hash_table_replace(t->setting, g_strdup(path), slot);
        return 0;
}

static void on_device_changed(const Device *d, bool removed, void *userdata) {
        Trust *t = userdata;
        _cleanup_free_ char *msg = NULL, *why = NULL;
        Approval *a;
        int r;

        if (removed) {
                g_hash_table_remove(t->approved, d->path);
                if (g_hash_table_remove(t->ours, d->path))
                        log_info("%s was removed by bluetoothd: its bond and trust are gone",
                                 d->address ? d->address : d->path);
                return;
        }
        if (!d->paired) {
                if (!g_hash_table_contains(t->ours, d->path))
                        return;
                g_hash_table_remove(t->ours, d->path);
                if (!d->trusted)
                        return;
                r = set_trusted(t, d->path, false);
                msg = g_strdup_printf("Untrusted %s: it is no longer paired",
                                      d->address ? d->address : d->path);
                audit_trust(AUDIT_UNTRUSTED, d, msg,
                            r < 0 ? "no longer paired (Trusted could not be cleared)"
                                  : "no longer paired",
                            0);
                return;
        }
        a = g_hash_table_lookup(t->approved, d->path);
        if (!a)
                return;
        if (now_usec() - a->at_usec > TRUST_APPROVAL_TTL_USEC) {
                g_hash_table_remove(t->approved, d->path);
                return;
        }
        why = g_strdup_printf("paired after pairgate approved it: %s", a->why);
        if (d->trusted) {
                log_info("%s: already trusted (%s)", d->address ? d->address : d->path, why);
                g_hash_table_remove(t->approved, d->path);
                return;
        }
        r = set_trusted(t, d->path, true);
        if (r < 0) {
                log_warning("Cannot trust %s: %s", d->path, g_strerror(-r));
                return; /* keep the approval: the next change tries again */
        }
        g_hash_table_add(t->ours, g_strdup(d->path));
        msg = g_strdup_printf("Trusted %s: %s", d->address ? d->address : d->path, why);
        audit_trust(AUDIT_TRUSTED, d, msg, why, a->request_id);
        g_hash_table_remove(t->approved, d->path);
}

static void slot_unref(void *p) {
        sd_bus_slot_unref(p);
}

int trust_new(Trust **ret, sd_bus *bus, BluezOwner *owner, DeviceCache *devices) {
        Trust *t = g_new0(Trust, 1);

        t->bus = bus ? sd_bus_ref(bus) : NULL;
        t->owner = owner;
        t->devices = devices;
        t->enabled = true;
        t->approved = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) approval_free);
        t->ours = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        t->setting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, slot_unref);
        if (devices)
                t->listener = device_cache_add_listener(devices, on_device_changed, t);
        *ret = t;
        return 0;
}

Trust *trust_free(Trust *t) {
        if (!t)
                return NULL;
        if (t->listener)
                device_cache_remove_listener(t->devices, t->listener);
        g_hash_table_unref(t->approved);
        g_hash_table_unref(t->ours);
        g_hash_table_unref(t->setting);
        sd_bus_unref(t->bus);
        g_free(t);
        return NULL;
}

void trust_set_enabled(Trust *t, bool enabled) {
        t->enabled = enabled;
        if (!enabled)
                g_hash_table_remove_all(t->approved);
}

static bool counts_as_approval(AgentMethod method, bool allowed, bool presented) {
        switch (method) {
        case AGENT_METHOD_REQUEST_CONFIRMATION:
        case AGENT_METHOD_REQUEST_AUTHORIZATION:
        case AGENT_METHOD_REQUEST_PASSKEY:
        case AGENT_METHOD_REQUEST_PIN_CODE:
                return allowed;
        case AGENT_METHOD_DISPLAY_PASSKEY:
        case AGENT_METHOD_DISPLAY_PIN_CODE:
                /* The other side types what we presented: presenting it is the approval. */
                return allowed && presented;
        default: /* AuthorizeService approves a connection, not a pairing */
                return false;
        }
}

void trust_note_request(Trust *t, AgentMethod method, const char *device, bool allowed,
                        bool presented, const char *policy, uint64_t request_id) {
        Approval *a;

        if (!t || !t->enabled || !device || !counts_as_approval(method, allowed, presented))
                return;
        a = g_new0(Approval, 1);
        a->at_usec = now_usec();
        a->request_id = request_id;
        a->why =
                g_strdup_printf("%s %s by %s (request %" PRIu64 ")", agent_method_to_string(method),
                                presented && !policy ? "presented" : "allowed",
                                policy ? policy : "the route", request_id);
        g_hash_table_replace(t->approved, g_strdup(device), a);
        /* Already Paired (a re-pairing, or the signal came first): decide now. */
        if (t->devices) {
                const Device *d = device_cache_get(t->devices, device);
                if (d && d->paired)
                        on_device_changed(d, false, t);
        }
}

bool trust_is_ours(const Trust *t, const char *device) {
        return t && device && g_hash_table_contains(t->ours, device);
}
