/* SPDX-License-Identifier: MIT */
/* The device cache (device-cache.c) fed arbitrary Device1 property dictionaries from a fake
 * bluetoothd over a private connection (fuzz-bus.h): InterfacesAdded, PropertiesChanged with
 * invalidations, InterfacesRemoved and GetManagedObjects replies, in any order, from the owner
 * of org.bluez or a stranger, with right and wrong value types and wrong signatures, and owner
 * changes. Properties: the cache holds exactly what a model of BlueZ's semantics says (a kept
 * property takes the last value of the right type; wrong types are ignored; invalidated ones are
 * forgotten; removed devices are gone; a stranger changes nothing); listeners see live devices;
 * the display name is the name, else a real alias, never bluetoothd's dashed address. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "bluez-owner.h"
#include "device-cache.h"
#include "fuzz-bus.h"
#include "fuzz-check.h"
#include "fuzz-input.h"
#include "macro.h"

#define DEVICE1 "org.bluez.Device1"

static const char *const fixed_paths[] = {
        "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF",      "/org/bluez/hci0/dev_11_22_33_44_55_66",
        "/org/bluez/hci1/dev_AA_BB_CC_DD_EE_FF",      "/org/bluez/hci0",
        "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF/sep1", "/",
};
static const char *const keys[] = { "Address",   "AddressType", "Name",   "Alias",
                                    "Adapter",   "Class",       "Paired", "Trusted",
                                    "Connected", "UUIDs",       "RSSI",   "Icon" };
static const char *const interfaces[] = { DEVICE1, "org.bluez.Adapter1", "org.bluez.MediaControl1",
                                          "org.freedesktop.DBus.Properties" };

/* What the cache should hold for one path. */
typedef struct Model {
        bool exists;
        bool tainted; /* a malformed message touched it: its contents are not predicted */
        char *address, *address_type, *name, *alias, *adapter;
        uint32_t device_class;
        bool has_class, paired, trusted, connected;
} Model;

typedef struct State {
        FuzzInput *in;
        FuzzBus *bus;
        BluezOwner *owner;
        DeviceCache *cache;
        GHashTable *models; /* path -> Model* (every path ever used) */
        bool owner_present;
        unsigned notifications;
} State;

static void model_clear(Model *m) {
        g_clear_pointer(&m->address, g_free);
        g_clear_pointer(&m->address_type, g_free);
        g_clear_pointer(&m->name, g_free);
        g_clear_pointer(&m->alias, g_free);
        g_clear_pointer(&m->adapter, g_free);
        *m = (Model){ 0 };
}

static void model_free(void *p) {
        model_clear(p);
        g_free(p);
}

static Model *model_get(State *s, const char *path) {
        Model *m = g_hash_table_lookup(s->models, path);

        if (!m) {
                m = g_new0(Model, 1);
                g_hash_table_insert(s->models, g_strdup(path), m);
        }
        return m;
}

static void model_reset_all(State *s) {
        GHashTableIter it;
        void *v;

        g_hash_table_iter_init(&it, s->models);
        while (g_hash_table_iter_next(&it, NULL, &v))
                model_clear(v);
}

static void set_str(char **field, const char *v) {
        g_free(*field);
        *field = g_strdup(v);
}

/* ---- building messages from the input ---------------------------------------------------- */

static char *fuzz_path(State *s) {
        return fuzz_bus_device_path(s->in, fixed_paths, ELEMENTSOF(fixed_paths));
}

static char *fuzz_text(State *s) {
        return fuzz_bus_string(s->in); /* D-Bus strings are UTF-8; any code point goes */
}

static const char *fuzz_key(State *s, char **owned) {
        size_t i = fuzz_pick(s->in, ELEMENTSOF(keys) + 1);

        if (i < ELEMENTSOF(keys))
                return keys[i];
        *owned = fuzz_text(s);
        return *owned;
}

/* Append one variant value of a type picked by the input; *ret_type says which. */
static int append_value(State *s, sd_bus_message *m, char *ret_type, char **ret_str,
                        uint32_t *ret_u) {
        static const char types[] = "sobuyqnixtdgav";
        char t = types[fuzz_pick(s->in, sizeof types - 1)];
        _cleanup_free_ char *text = NULL;
        int r;

        *ret_type = t;
        switch (t) {
        case 's':
                text = fuzz_text(s);
                r = sd_bus_message_append(m, "v", "s", text);
                *ret_str = TAKE_PTR(text);
                return r;
        case 'g':
                return sd_bus_message_append(m, "v", "g", "a{sv}");
        case 'o': {
                _cleanup_free_ char *path = fuzz_path(s);
                r = sd_bus_message_append(m, "v", "o", path);
                *ret_str = TAKE_PTR(path);
                return r;
        }
        case 'b':
                *ret_u = fuzz_bool(s->in);
                return sd_bus_message_append(m, "v", "b", (int) *ret_u);
        case 'u':
                *ret_u = fuzz_u32(s->in);
                return sd_bus_message_append(m, "v", "u", *ret_u);
        case 'y':
                return sd_bus_message_append(m, "v", "y", fuzz_u8(s->in));
        case 'q':
                return sd_bus_message_append(m, "v", "q", fuzz_u16(s->in));
        case 'n':
                return sd_bus_message_append(m, "v", "n", (int16_t) fuzz_u16(s->in));
        case 'i':
                return sd_bus_message_append(m, "v", "i", (int32_t) fuzz_u32(s->in));
        case 'x':
                return sd_bus_message_append(m, "v", "x", (int64_t) fuzz_u32(s->in));
        case 't':
                return sd_bus_message_append(m, "v", "t", (uint64_t) fuzz_u32(s->in));
        case 'd':
                return sd_bus_message_append(m, "v", "d", (double) fuzz_u32(s->in) / 7.0);
        case 'a':
                text = fuzz_text(s);
                return sd_bus_message_append(m, "v", "as", 2, text, "x");
        default: /* a variant in a variant */
                text = fuzz_text(s);
                return sd_bus_message_append(m, "v", "v", "s", text);
        }
}

/* An a{sv} of Device1 properties; applied to model (may be NULL) as the cache should. */
static int append_dict(State *s, sd_bus_message *m, Model *model) {
        size_t n = fuzz_pick(s->in, 9);
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *owned = NULL, *str = NULL;
                const char *key = fuzz_key(s, &owned);
                uint32_t u = 0;
                char t = 0;

                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", key);
                if (r >= 0)
                        r = append_value(s, m, &t, &str, &u);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r < 0 || !model)
                        continue;
                if (t == 's' && streq(key, "Address"))
                        set_str(&model->address, str);
                else if (t == 's' && streq(key, "AddressType"))
                        set_str(&model->address_type, str);
                else if (t == 's' && streq(key, "Name"))
                        set_str(&model->name, str);
                else if (t == 's' && streq(key, "Alias"))
                        set_str(&model->alias, str);
                else if (t == 'o' && streq(key, "Adapter"))
                        set_str(&model->adapter, str);
                else if (t == 'u' && streq(key, "Class")) {
                        model->device_class = u;
                        model->has_class = true;
                } else if (t == 'b' && streq(key, "Paired"))
                        model->paired = u;
                else if (t == 'b' && streq(key, "Trusted"))
                        model->trusted = u;
                else if (t == 'b' && streq(key, "Connected"))
                        model->connected = u;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* a{sa{sv}} for path: what InterfacesAdded and GetManagedObjects carry. apply: update the
 * model (false when the message will not be believed). */
static int append_interfaces(State *s, sd_bus_message *m, const char *path, bool apply) {
        size_t n = fuzz_pick(s->in, 4);
        int r = sd_bus_message_open_container(m, 'a', "{sa{sv}}");

        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *iface = interfaces[fuzz_pick(s->in, ELEMENTSOF(interfaces))];
                Model *model = NULL;

                if (apply && streq(iface, DEVICE1)) {
                        model = model_get(s, path);
                        model->exists = true;
                }
                r = sd_bus_message_open_container(m, 'e', "sa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", iface);
                if (r >= 0)
                        r = append_dict(s, m, model);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* ---- the fake bluetoothd ----------------------------------------------------------------- */

static int on_call(FuzzBus *b, sd_bus_message *call, void *userdata) {
        State *s = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        size_t n;
        int r;

        if (!sd_bus_message_is_method_call(call, "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects"))
                return 0;
        if (fuzz_pick(s->in, 16) == 0)
                return sd_bus_reply_method_errorf(call, "org.freedesktop.DBus.Error.Failed",
                                                  "fuzz");
        /* The cache forgot everything when it asked. */
        model_reset_all(s);
        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}");
        n = fuzz_pick(s->in, 4);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *path = fuzz_path(s);
                r = sd_bus_message_open_container(reply, 'e', "oa{sa{sv}}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "o", path);
                if (r >= 0)
                        r = append_interfaces(s, reply, path, true);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        fuzz_assert(r >= 0, "building GetManagedObjects: %s", g_strerror(-r));
        return sd_bus_send(NULL, reply, NULL) < 0 ? -EIO : 1;
}

/* What pairgated does when org.bluez changes owner (daemon.c). */
static void on_owner_changed(BluezOwner *o, const char *new_owner, void *userdata) {
        State *s = userdata;

        s->owner_present = new_owner != NULL;
        if (new_owner)
                fuzz_assert(device_cache_reset(s->cache) >= 0, "device_cache_reset");
        else
                device_cache_clear(s->cache);
        model_reset_all(s);
}

static void on_device(const Device *d, bool removed, void *userdata) {
        State *s = userdata;

        s->notifications++;
        fuzz_assert(d && d->path, "a listener got no device");
        if (!removed)
                fuzz_assert(device_cache_get(s->cache, d->path) == d,
                            "a listener got a device the cache does not hold");
}

/* ---- operations -------------------------------------------------------------------------- */

static sd_bus_message *new_signal(State *s, const char *path, const char *iface,
                                  const char *member) {
        sd_bus_message *m = NULL;

        fuzz_assert(sd_bus_message_new_signal(s->bus->peer, &m, path, iface, member) >= 0,
                    "new signal");
        return m;
}

static void op(State *s) {
        size_t kind = fuzz_pick(s->in, 8);
        const char *sender = fuzz_pick(s->in, 8) == 0 ? FUZZ_STRANGER : FUZZ_BLUEZ_OWNER;
        bool believed = streq(sender, FUZZ_BLUEZ_OWNER) && s->owner_present;
        _cleanup_free_ char *path = fuzz_path(s);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = 0;

        switch (kind) {
        case 0:
        case 1: /* InterfacesAdded */
                m = new_signal(s, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded");
                r = sd_bus_message_append(m, "o", path);
                if (r >= 0)
                        r = append_interfaces(s, m, path, believed);
                break;
        case 2:
        case 3: { /* PropertiesChanged */
                const char *iface = fuzz_pick(s->in, 4) ? DEVICE1 : interfaces[fuzz_pick(s->in, 4)];
                bool apply = believed && streq(iface, DEVICE1);
                Model *model = apply ? model_get(s, path) : NULL;
                size_t n = fuzz_pick(s->in, 4);

                if (model)
                        model->exists = true;
                m = new_signal(s, path, "org.freedesktop.DBus.Properties", "PropertiesChanged");
                r = sd_bus_message_append(m, "s", iface);
                if (r >= 0)
                        r = append_dict(s, m, model);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        _cleanup_free_ char *owned = NULL;
                        const char *key = fuzz_key(s, &owned);
                        r = sd_bus_message_append(m, "s", key);
                        if (!model)
                                continue;
                        if (streq(key, "Name"))
                                g_clear_pointer(&model->name, g_free);
                        else if (streq(key, "Alias"))
                                g_clear_pointer(&model->alias, g_free);
                        else if (streq(key, "AddressType"))
                                g_clear_pointer(&model->address_type, g_free);
                        else if (streq(key, "Class"))
                                model->has_class = false;
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        case 4: { /* InterfacesRemoved */
                size_t n = fuzz_pick(s->in, 3);
                m = new_signal(s, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved");
                r = sd_bus_message_append(m, "o", path);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "s");
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const char *iface = interfaces[fuzz_pick(s->in, ELEMENTSOF(interfaces))];
                        r = sd_bus_message_append(m, "s", iface);
                        if (believed && streq(iface, DEVICE1))
                                model_clear(model_get(s, path)); /* gone, and predictable */
                }
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                break;
        }
        case 5: /* bluetoothd restarted, or the daemon reloaded the objects */
                if (fuzz_bool(s->in)) {
                        /* It forgets everything at once, and loads what the reply says. */
                        fuzz_assert(device_cache_reset(s->cache) >= 0, "device_cache_reset");
                        model_reset_all(s);
                        return;
                }
                m = new_signal(s, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameOwnerChanged");
                r = sd_bus_message_append(m, "sss", "org.bluez",
                                          s->owner_present ? FUZZ_BLUEZ_OWNER : "",
                                          s->owner_present ? "" : FUZZ_BLUEZ_OWNER);
                sender = "org.freedesktop.DBus";
                break;
        default: { /* one of the three signals with a wrong signature */
                static const char *const members[] = { "InterfacesAdded", "InterfacesRemoved",
                                                       "PropertiesChanged" };
                static const char *const sigs[] = { "",    "o",        "s",   "oa{sv}",    "sa{sv}",
                                                    "oas", "sa{sv}as", "sas", "oa{sa{sv}}" };
                size_t mi = fuzz_pick(s->in, ELEMENTSOF(members));
                const char *sig = sigs[fuzz_pick(s->in, ELEMENTSOF(sigs))];
                bool changed = mi == 2;

                m = new_signal(s, changed ? path : "/",
                               changed ? "org.freedesktop.DBus.Properties"
                                       : "org.freedesktop.DBus.ObjectManager",
                               members[mi]);
                for (const char *t = sig; r >= 0 && *t; t++) {
                        if (*t == 'o')
                                r = sd_bus_message_append(m, "o", path);
                        else if (*t == 's')
                                r = sd_bus_message_append(m, "s", changed ? DEVICE1 : path);
                        else if (g_str_has_prefix(t, "a{sv}")) {
                                r = append_dict(s, m, NULL);
                                t += 4;
                        } else if (g_str_has_prefix(t, "as")) {
                                r = sd_bus_message_append(m, "as", 1, DEVICE1);
                                t += 1;
                        } else if (g_str_has_prefix(t, "a{sa{sv}}")) {
                                r = append_interfaces(s, m, path, false);
                                t += 8;
                        }
                }
                /* Whatever part of it the cache believed is not predicted. */
                model_get(s, path)->tainted = true;
                break;
        }
        }
        fuzz_assert(r >= 0, "building a message: %s", g_strerror(-r));
        fuzz_assert(fuzz_bus_send(s->bus, m, sender) > 0, "sending");
}

static bool is_dashed_address(const char *a) {
        if (!a || strlen(a) != 17)
                return false;
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? a[i] != '-' : !g_ascii_isxdigit(a[i]))
                        return false;
        return true;
}

static void check(State *s) {
        GHashTableIter it;
        void *k, *v;

        g_hash_table_iter_init(&it, s->models);
        while (g_hash_table_iter_next(&it, &k, &v)) {
                const char *path = k, *source = NULL, *shown;
                const Model *m = v;
                const Device *d = device_cache_get(s->cache, path);

                if (d) {
                        shown = device_display_name(d, &source);
                        fuzz_assert(!shown == !source, "display name and source disagree");
                        fuzz_assert(!shown || *shown, "an empty display name");
                        fuzz_assert(!shown || !is_dashed_address(shown) || streq(source, "name"),
                                    "the dashed address shown as a name");
                        if (d->name && *d->name)
                                fuzz_assert(shown == d->name, "the name is not shown");
                        fuzz_assert(streq(d->path, path), "device under another path");
                }
                if (m->tainted)
                        continue;
                fuzz_assert(!d == !m->exists, "%s: cache %s, model %s", path,
                            d ? "has it" : "has none", m->exists ? "has it" : "has none");
                if (!d)
                        continue;
                fuzz_assert(streq_ptr(d->address, m->address), "%s: Address", path);
                fuzz_assert(streq_ptr(d->address_type, m->address_type), "%s: AddressType", path);
                fuzz_assert(streq_ptr(d->name, m->name), "%s: Name", path);
                fuzz_assert(streq_ptr(d->alias, m->alias), "%s: Alias", path);
                fuzz_assert(streq_ptr(d->adapter, m->adapter), "%s: Adapter", path);
                fuzz_assert(d->has_class == m->has_class &&
                                    (!d->has_class || d->device_class == m->device_class),
                            "%s: Class", path);
                fuzz_assert(d->paired == m->paired && d->trusted == m->trusted &&
                                    d->connected == m->connected,
                            "%s: Paired/Trusted/Connected", path);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = FUZZ_INPUT(data, size);
        State s = { .in = &in };
        DeviceListener *l;

        s.models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, model_free);
        fuzz_bus_new(&s.bus, on_call, NULL, &s);
        fuzz_assert(bluez_owner_new(&s.owner, s.bus->daemon, on_owner_changed, &s) >= 0, "owner");
        fuzz_assert(device_cache_new(&s.cache, s.bus->daemon, s.owner) >= 0, "cache");
        l = device_cache_add_listener(s.cache, on_device, &s);
        fuzz_assert(bluez_owner_start(s.owner) >= 0, "owner start");
        fuzz_bus_settle(s.bus);
        fuzz_assert(s.owner_present, "org.bluez has no owner after GetNameOwner");
        check(&s);
        for (int i = 0; i < 64 && !fuzz_input_empty(&in); i++) {
                op(&s);
                fuzz_bus_settle(s.bus);
                check(&s);
        }
        device_cache_remove_listener(s.cache, l);
        device_cache_free(s.cache);
        bluez_owner_free(s.owner);
        fuzz_bus_free(s.bus);
        g_hash_table_unref(s.models);
        return 0;
}
