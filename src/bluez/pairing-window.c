/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "bus-dict.h"
#include "macro.h"
#include "pairing-window.h"

#define ADAPTER_INTERFACE "org.bluez.Adapter1"
/* bluetoothd answers Busy while its own SET_BONDABLE (after a default agent registered) is in
 * flight: try again shortly, a bounded number of times. */
#define HOLD_RETRY_USEC (250ULL * 1000ULL)
#define HOLD_RETRY_MAX  20U

typedef struct AdapterSnapshot {
        bool valid;
        unsigned found; /* bits: Pairable, PairableTimeout, DiscoverableTimeout */
        bool pairable;
        uint32_t pairable_timeout, discoverable_timeout;
} AdapterSnapshot;

/* A Properties call in flight; its reply is checked while the window lives. */
typedef struct BusCall {
        PairingWindow *w;
        sd_bus_slot *slot;
        unsigned generation; /* window generation the call was made for */
        bool opening;        /* a failure closes the window */
        char what[32];
} BusCall;

struct PairingWindowListener {
        pairing_window_changed_t cb;
        void *userdata;
};

struct PairingWindow {
        char *adapter, *policy;
        unsigned duration_sec, max_pairings;
        unsigned open_sec;   /* the current opening's duration */
        uint64_t until_usec; /* CLOCK_MONOTONIC end of the current opening */
        bool hold_closed;
        sd_event *event;
        sd_bus *bus;
        BluezOwner *owner;
        DeviceCache *devices;
        DeviceListener *listener;
        sd_event_source *timer;
        sd_event_source *exit_source; /* closes the window before sd-bus closes at exit */
        sd_event_source *hold_retry;  /* holding closed again after Error.Busy */
        unsigned hold_retries;
        sd_bus_slot *adapter_match; /* Adapter1 PropertiesChanged: held closed stays closed */
        AdapterSnapshot snapshot;
        GHashTable *unpaired; /* device paths last seen with Paired = false */
        GList *bus_calls;     /* BusCall* */
        unsigned generation;
        unsigned pairings;
        bool open;
        bool touched;     /* the opening Sets were sent: closing must undo them */
        bool detached;    /* going away: replies are not read any more */
        bool reading;     /* the GetAll of the current opening is in flight */
        GList *listeners; /* PairingWindowListener* */
};

static void audit_window(const PairingWindow *w, const char *value, const char *message,
                         const char *reason) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_POLICY_EVENT);

        rec.policy = w->policy;
        rec.message = message;
        rec.reason = reason;
        rec.extra_key = "window";
        rec.extra_value = value;
        rec.adapter = w->adapter;
        audit_emit(&rec);
}

static void notify(PairingWindow *w) {
        /* A copy: a listener may remove itself. */
        g_autoptr(GList) copy = g_list_copy(w->listeners);

        for (GList *l = copy; l; l = l->next)
                if (g_list_find(w->listeners, l->data)) {
                        PairingWindowListener *x = l->data;
                        x->cb(w, w->open, x->userdata);
                }
}

/* ---- adapter properties ------------------------------------------------------------------- */

static void bus_call_free(BusCall *c) {
        sd_bus_slot_unref(c->slot);
        g_free(c);
}

static const char *destination(const PairingWindow *w) {
        /* The unique name: only the bluetoothd we talk to may answer. */
        return w->owner ? bluez_owner_get(w->owner) : "org.bluez";
}

static void adapter_hold_closed(PairingWindow *w);

static int on_hold_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        PairingWindow *w = userdata;

        if (!w->open && w->hold_closed && !w->detached)
                adapter_hold_closed(w);
        return 0;
}

/* Held closed, and bluetoothd was busy with its own change: look again soon. */
static void schedule_hold_retry(PairingWindow *w) {
        int r;

        if (w->hold_retries >= HOLD_RETRY_MAX) {
                log_warning("%s: %s stays pairable: bluetoothd kept answering Busy", w->policy,
                            w->adapter);
                return;
        }
        w->hold_retries++;
        if (!w->hold_retry)
                r = sd_event_add_time_relative(w->event, &w->hold_retry, CLOCK_MONOTONIC,
                                               HOLD_RETRY_USEC, 0, on_hold_retry, w);
        else {
                r = sd_event_source_set_time_relative(w->hold_retry, HOLD_RETRY_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->hold_retry, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                log_warning("%s: cannot retry: %s", w->policy, g_strerror(-r));
}

static int on_set_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BusCall *c = userdata;
        PairingWindow *w = c->w;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        w->bus_calls = g_list_remove(w->bus_calls, c);
        if (e && !c->opening && !w->open && w->hold_closed &&
            sd_bus_error_has_name(e, "org.bluez.Error.Busy")) {
                log_info("%s: %s on %s: bluetoothd is busy; trying again", w->policy, c->what,
                         w->adapter);
                schedule_hold_retry(w);
        } else if (e) {
                log_warning("%s: %s on %s failed: %s: %s", w->policy, c->what, w->adapter, e->name,
                            e->message ? e->message : "");
                if (c->opening && w->open && c->generation == w->generation) {
                        _cleanup_free_ char *why =
                                g_strdup_printf("the adapter refused %s: %s", c->what, e->name);
                        pairing_window_close(w, why);
                }
        }
        bus_call_free(c);
        return 0;
}

/* Properties.Set on the adapter; tracked (reply checked) unless the window is going away. */
static void adapter_set(PairingWindow *w, const char *prop, char type, uint32_t value,
                        bool opening) {
        char sig[2] = { type, 0 };
        BusCall *c = NULL;
        int r;

        if (!destination(w)) {
                log_warning("%s: bluetoothd is not on the bus: %s not set on %s", w->policy, prop,
                            w->adapter);
                return;
        }
        if (!w->detached) {
                c = g_new0(BusCall, 1);
                c->w = w;
                c->generation = w->generation;
                c->opening = opening;
                snprintf(c->what, sizeof c->what, "Set %s", prop);
        }
        if (type == 'b')
                r = sd_bus_call_method_async(w->bus, c ? &c->slot : NULL, destination(w),
                                             w->adapter, "org.freedesktop.DBus.Properties", "Set",
                                             c ? on_set_reply : NULL, c, "ssv", ADAPTER_INTERFACE,
                                             prop, sig, (int) value);
        else
                r = sd_bus_call_method_async(w->bus, c ? &c->slot : NULL, destination(w),
                                             w->adapter, "org.freedesktop.DBus.Properties", "Set",
                                             c ? on_set_reply : NULL, c, "ssv", ADAPTER_INTERFACE,
                                             prop, sig, value);
        if (r < 0) {
                log_warning("%s: cannot set %s on %s: %s", w->policy, prop, w->adapter,
                            g_strerror(-r));
                g_free(c);
                return;
        }
        if (c)
                w->bus_calls = g_list_prepend(w->bus_calls, c);
}

static void adapter_open(PairingWindow *w) {
        unsigned left = MAX(pairing_window_remaining(w), 1U);

        /* Timeouts first: they apply when the switch turns on. */
        adapter_set(w, "DiscoverableTimeout", 'u', left, true);
        adapter_set(w, "PairableTimeout", 'u', left, true);
        adapter_set(w, "Pairable", 'b', true, true);
        adapter_set(w, "Discoverable", 'b', true, true);
        w->touched = true;
}

/* Closed and held closed: strangers are refused by the kernel before anyone is asked. */
static void adapter_hold_closed(PairingWindow *w) {
        if (!w->bus)
                return;
        adapter_set(w, "Discoverable", 'b', false, false);
        adapter_set(w, "Pairable", 'b', false, false);
}

/* Pairable or Discoverable turned on. */
static int on_switch_property(sd_bus_message *m, const char *key, void *userdata) {
        bool *on = userdata;
        int v = 0, r;

        if (!streq(key, "Pairable") && !streq(key, "Discoverable"))
                return 0;
        r = sd_bus_message_read(m, "v", "b", &v);
        if (r >= 0 && v)
                *on = true;
        return r < 0 ? r : 1;
}

/* bluetoothd changed the adapter: while held closed, Pairable and Discoverable stay off (it turns
 * bondable on by itself when a default agent registers, possibly after our Set). */
static int on_adapter_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PairingWindow *w = userdata;
        const char *iface;
        bool reopened = false;
        int r;

        if (w->open || !w->hold_closed || w->detached ||
            !bluez_owner_is(w->owner, sd_bus_message_get_sender(m)))
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, ADAPTER_INTERFACE))
                return 0;
        (void) bus_dict_walk(m, on_switch_property, &reopened);
        if (!reopened)
                return 0;
        log_info("%s: %s was made pairable or discoverable while the window is closed: "
                 "closing it again",
                 w->policy, w->adapter);
        adapter_hold_closed(w);
        return 0;
}

static void watch_adapter(PairingWindow *w) {
        _cleanup_free_ char *rule = NULL;
        int r;

        w->adapter_match = sd_bus_slot_unref(w->adapter_match);
        if (!w->bus || !w->owner)
                return;
        rule = g_strdup_printf("type='signal',sender='org.bluez',path='%s',"
                               "interface='org.freedesktop.DBus.Properties',"
                               "member='PropertiesChanged',arg0='" ADAPTER_INTERFACE "'",
                               w->adapter);
        r = sd_bus_add_match_async(w->bus, &w->adapter_match, rule, on_adapter_changed, NULL, w);
        if (r < 0)
                log_warning("%s: cannot watch %s: %s", w->policy, w->adapter, g_strerror(-r));
}

static void adapter_restore(PairingWindow *w) {
        if (!w->bus)
                return;
        if (!w->touched) {
                if (w->hold_closed) /* closed before the opening Sets went out */
                        adapter_hold_closed(w);
                return;
        }
        w->touched = false;
        adapter_set(w, "Discoverable", 'b', false, false);
        if (!w->snapshot.valid) {
                if (w->hold_closed)
                        adapter_set(w, "Pairable", 'b', false, false);
                return;
        }
        /* PairableTimeout first: setting it stops BlueZ's running pairable timer. */
        adapter_set(w, "PairableTimeout", 'u', w->snapshot.pairable_timeout, false);
        adapter_set(w, "Pairable", 'b', w->hold_closed ? false : w->snapshot.pairable, false);
        adapter_set(w, "DiscoverableTimeout", 'u', w->snapshot.discoverable_timeout, false);
}

static int on_snapshot_property(sd_bus_message *m, const char *key, void *userdata) {
        AdapterSnapshot *s = userdata;
        int v, r;

        if (streq(key, "Pairable")) {
                r = sd_bus_message_read(m, "v", "b", &v);
                s->pairable = v;
                s->found |= 1;
        } else if (streq(key, "PairableTimeout")) {
                r = sd_bus_message_read(m, "v", "u", &s->pairable_timeout);
                s->found |= 2;
        } else if (streq(key, "DiscoverableTimeout")) {
                r = sd_bus_message_read(m, "v", "u", &s->discoverable_timeout);
                s->found |= 4;
        } else
                return 0;
        return r < 0 ? r : 1;
}

static int read_snapshot(sd_bus_message *m, AdapterSnapshot *s) {
        int r = bus_dict_walk(m, on_snapshot_property, s);

        s->valid = r >= 0 && s->found == 7;
        return r;
}

static int on_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BusCall *c = userdata;
        PairingWindow *w = c->w;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        bool current = w->open && c->generation == w->generation;

        w->bus_calls = g_list_remove(w->bus_calls, c);
        bus_call_free(c);
        if (!current) /* closed before BlueZ answered: nothing was changed */
                return 0;
        w->reading = false;
        w->snapshot = (AdapterSnapshot){ 0 };
        if (e)
                log_warning("%s: cannot read %s's properties (%s): they will not be restored "
                            "when the window closes",
                            w->policy, w->adapter, e->name);
        else if (read_snapshot(m, &w->snapshot) < 0 || !w->snapshot.valid)
                log_warning("%s: %s did not report Pairable/PairableTimeout/"
                            "DiscoverableTimeout: they will not be restored",
                            w->policy, w->adapter);
        adapter_open(w);
        return 0;
}

/* ---- the window --------------------------------------------------------------------------- */

void pairing_window_close(PairingWindow *w, const char *why) {
        _cleanup_free_ char *msg = NULL;

        if (!w || !w->open)
                return;
        w->open = false;
        (void) sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        msg = g_strdup_printf("Pairing window on %s closed: %s (%u pairing%s)", w->adapter, why,
                              w->pairings, w->pairings == 1 ? "" : "s");
        audit_window(w, "closed", msg, why);
        adapter_restore(w);
        w->snapshot = (AdapterSnapshot){ 0 };
        w->reading = false;
        notify(w);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        PairingWindow *w = userdata;
        _cleanup_free_ char *why = g_strdup_printf("%u s elapsed", w->open_sec);

        pairing_window_close(w, why);
        return 0;
}

/* Snapshot what we are about to change, then change it. */
static void adapter_snapshot_and_open(PairingWindow *w) {
        BusCall *c;
        int r;

        if (!w->bus) {
                log_warning("%s: no bus: the adapter is not made discoverable", w->policy);
                return;
        }
        if (!destination(w)) {
                log_warning("%s: bluetoothd is not on the bus: %s is not made discoverable yet",
                            w->policy, w->adapter);
                return;
        }
        c = g_new0(BusCall, 1);
        c->w = w;
        c->generation = w->generation;
        w->reading = true;
        snprintf(c->what, sizeof c->what, "GetAll");
        r = sd_bus_call_method_async(w->bus, &c->slot, destination(w), w->adapter,
                                     "org.freedesktop.DBus.Properties", "GetAll", on_snapshot, c,
                                     "s", ADAPTER_INTERFACE);
        if (r < 0) {
                g_free(c);
                w->reading = false;
                log_warning("%s: cannot read %s's properties: %s", w->policy, w->adapter,
                            g_strerror(-r));
                w->snapshot = (AdapterSnapshot){ 0 };
                adapter_open(w);
                return;
        }
        w->bus_calls = g_list_prepend(w->bus_calls, c);
}

void pairing_window_open(PairingWindow *w, unsigned duration_sec, const char *why) {
        _cleanup_free_ char *msg = NULL;
        uint64_t usec;
        int r;

        if (!w || w->open)
                return;
        w->open_sec = duration_sec ? duration_sec : w->duration_sec;
        usec = (uint64_t) w->open_sec * 1000000ULL;
        if (!w->timer)
                r = sd_event_add_time_relative(w->event, &w->timer, CLOCK_MONOTONIC, usec, 0,
                                               on_timer, w);
        else {
                r = sd_event_source_set_time_relative(w->timer, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
        }
        if (r < 0) {
                log_error("%s: cannot open the pairing window (timer: %s)", w->policy,
                          g_strerror(-r));
                return;
        }
        w->open = true;
        w->generation++;
        w->pairings = 0;
        (void) sd_event_now(w->event, CLOCK_MONOTONIC, &w->until_usec);
        w->until_usec += usec;
        msg = g_strdup_printf("Pairing window on %s opened for %u s (until %u pairing%s)",
                              w->adapter, w->open_sec, w->max_pairings,
                              w->max_pairings == 1 ? "" : "s");
        audit_window(w, "opened", msg, why);
        notify(w);
        adapter_snapshot_and_open(w);
}

unsigned pairing_window_remaining(const PairingWindow *w) {
        uint64_t now = 0;

        if (!w || !w->open)
                return 0;
        (void) sd_event_now(w->event, CLOCK_MONOTONIC, &now);
        return now >= w->until_usec ? 0 : (unsigned) ((w->until_usec - now + 999999) / 1000000);
}

uint64_t pairing_window_closes_usec(const PairingWindow *w) {
        return w && w->open ? w->until_usec : 0;
}

unsigned pairing_window_pairings_left(const PairingWindow *w) {
        return w && w->open && w->max_pairings > w->pairings ? w->max_pairings - w->pairings : 0;
}

void pairing_window_sync(PairingWindow *w) {
        if (!w || w->detached)
                return;
        w->hold_retries = 0;
        if (w->open) {
                /* Registered (again): bluetoothd may have restarted or changed bondable. Keep
                 * the values read before the window opened; read them only if we have none. */
                if (w->snapshot.valid)
                        adapter_open(w);
                else if (!w->reading)
                        adapter_snapshot_and_open(w);
        } else if (w->hold_closed)
                adapter_hold_closed(w);
}

void pairing_window_retire(PairingWindow *w, const char *why) {
        bool held = w->hold_closed;

        pairing_window_close(w, why);
        w->hold_closed = false;
        if (held && w->bus && !w->detached)
                adapter_set(w, "Pairable", 'b', true, false);
}

void pairing_window_reconfigure(PairingWindow *w, const PairingWindowConfig *c) {
        if (!streq(w->adapter, c->adapter)) {
                pairing_window_close(w, "configuration reloaded: another adapter");
                g_free(w->adapter);
                w->adapter = g_strdup(c->adapter);
                watch_adapter(w);
        }
        w->duration_sec = c->duration_sec;
        w->max_pairings = c->pairings;
        if (w->hold_closed != c->hold_closed) {
                w->hold_closed = c->hold_closed;
                pairing_window_sync(w);
        }
}

PairingWindowListener *pairing_window_add_listener(PairingWindow *w, pairing_window_changed_t cb,
                                                   void *userdata) {
        PairingWindowListener *l = g_new0(PairingWindowListener, 1);

        l->cb = cb;
        l->userdata = userdata;
        w->listeners = g_list_append(w->listeners, l);
        return l;
}

void pairing_window_remove_listener(PairingWindow *w, PairingWindowListener *l) {
        if (!w || !l)
                return;
        w->listeners = g_list_remove(w->listeners, l);
        g_free(l);
}

bool pairing_window_is_open(const PairingWindow *w) {
        return w && w->open;
}

const char *pairing_window_adapter(const PairingWindow *w) {
        return w->adapter;
}

void pairing_window_saw_device(PairingWindow *w, const char *device_path, bool paired) {
        if (w && device_path && !paired)
                g_hash_table_add(w->unpaired, g_strdup(device_path));
}

static void on_device_changed(const Device *d, bool removed, void *userdata) {
        PairingWindow *w = userdata;
        _cleanup_free_ char *why = NULL;

        if (removed) {
                g_hash_table_remove(w->unpaired, d->path);
                return;
        }
        if (!d->paired) {
                g_hash_table_add(w->unpaired, g_strdup(d->path));
                return;
        }
        /* Paired, and last seen unpaired: a pairing just completed. Devices already paired
         * before we saw them never count. */
        if (!g_hash_table_remove(w->unpaired, d->path) || !w->open)
                return;
        if (d->adapter && !streq(d->adapter, w->adapter))
                return;
        w->pairings++;
        log_info("%s: %s paired during the pairing window (%u of %u)", w->policy,
                 d->address ? d->address : d->path, w->pairings, w->max_pairings);
        if (w->pairings < w->max_pairings)
                return;
        why = g_strdup_printf("%u successful pairing%s", w->pairings, w->pairings == 1 ? "" : "s");
        pairing_window_close(w, why);
}

/* The event loop is exiting (SIGTERM): the bus, attached to the loop, is flushed and closed by
 * its own exit source, so put the adapter back now, before it (priority IMPORTANT), untracked. */
static int on_exit_loop(sd_event_source *s, void *userdata) {
        PairingWindow *w = userdata;

        w->detached = true;
        pairing_window_close(w, "pairgated is stopping");
        return 0;
}

int pairing_window_new(PairingWindow **ret, sd_event *event, sd_bus *bus, BluezOwner *owner,
                       DeviceCache *devices, const PairingWindowConfig *c) {
        PairingWindow *w = g_new0(PairingWindow, 1);
        int r;

        w->adapter = g_strdup(c->adapter);
        w->policy = g_strdup(c->policy);
        w->duration_sec = c->duration_sec;
        w->max_pairings = c->pairings;
        w->hold_closed = c->hold_closed;
        w->event = sd_event_ref(event);
        w->bus = bus ? sd_bus_ref(bus) : NULL;
        w->owner = owner;
        w->devices = devices;
        w->unpaired = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if (devices)
                w->listener = device_cache_add_listener(devices, on_device_changed, w);
        watch_adapter(w);
        r = sd_event_add_exit(event, &w->exit_source, on_exit_loop, w);
        if (r >= 0)
                r = sd_event_source_set_priority(w->exit_source, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0)
                log_warning("%s: cannot watch for the loop's exit: %s", w->policy, g_strerror(-r));
        *ret = w;
        return 0;
}

PairingWindow *pairing_window_free(PairingWindow *w, const char *why) {
        if (!w)
                return NULL;
        /* Closing here is fire-and-forget (untracked): nobody will read the replies. */
        w->detached = true;
        g_list_free_full(g_steal_pointer(&w->listeners), g_free);
        pairing_window_close(w, why);
        if (w->listener)
                device_cache_remove_listener(w->devices, w->listener);
        sd_event_source_disable_unref(w->timer);
        sd_event_source_disable_unref(w->exit_source);
        sd_event_source_disable_unref(w->hold_retry);
        sd_bus_slot_unref(w->adapter_match);
        g_list_free_full(w->bus_calls, (GDestroyNotify) bus_call_free);
        g_hash_table_unref(w->unpaired);
        sd_bus_unref(w->bus);
        sd_event_unref(w->event);
        g_free(w->adapter);
        g_free(w->policy);
        g_free(w);
        return NULL;
}
