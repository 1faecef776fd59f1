/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include <glib.h>

#include "audit.h"
#include "bus-dict.h"
#include "device-cache.h"
#include "macro.h"

#define BLUEZ_SERVICE     "org.bluez"
#define DEVICE_INTERFACE  "org.bluez.Device1"
#define ADAPTER_INTERFACE "org.bluez.Adapter1"

struct DeviceCache {
        sd_bus *bus;
        BluezOwner *owner;    /* borrowed: whose signals we believe */
        GHashTable *devices;  /* path -> Device* */
        GHashTable *adapters; /* object paths of org.bluez.Adapter1 objects (set) */
        sd_bus_slot *match_added, *match_removed, *match_changed, *get_objects;
        GList *listeners; /* DeviceListener* */
};

struct DeviceListener {
        device_changed_t cb;
        void *userdata;
        bool removed;
};

static void device_free(void *p) {
        Device *d = p;

        if (!d)
                return;
        g_free(d->path);
        g_free(d->adapter);
        g_free(d->address);
        g_free(d->address_type);
        g_free(d->name);
        g_free(d->alias);
        g_free(d);
}

static bool from_owner(DeviceCache *c, sd_bus_message *m) {
        return bluez_owner_is(c->owner, sd_bus_message_get_sender(m));
}

static int read_string(sd_bus_message *m, char **field) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        g_free(*field);
        *field = g_strdup(s);
        return 0;
}

static int read_bool(sd_bus_message *m, bool *field) {
        int b, r = sd_bus_message_read(m, "b", &b);

        if (r >= 0)
                *field = b;
        return r;
}

/* Read one property value (the variant's contents) into d when it is one we keep. */
static int read_property(sd_bus_message *m, Device *d, const char *key) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (streq(key, "Address") && streq(contents, "s"))
                r = sd_bus_message_enter_container(m, 'v', "s") >= 0 ? read_string(m, &d->address)
                                                                     : -EBADMSG;
        else if (streq(key, "AddressType") && streq(contents, "s"))
                r = sd_bus_message_enter_container(m, 'v', "s") >= 0
                            ? read_string(m, &d->address_type)
                            : -EBADMSG;
        else if (streq(key, "Name") && streq(contents, "s"))
                r = sd_bus_message_enter_container(m, 'v', "s") >= 0 ? read_string(m, &d->name)
                                                                     : -EBADMSG;
        else if (streq(key, "Alias") && streq(contents, "s"))
                r = sd_bus_message_enter_container(m, 'v', "s") >= 0 ? read_string(m, &d->alias)
                                                                     : -EBADMSG;
        else if (streq(key, "Adapter") && streq(contents, "o")) {
                const char *o;
                r = sd_bus_message_enter_container(m, 'v', "o");
                if (r >= 0)
                        r = sd_bus_message_read(m, "o", &o);
                if (r >= 0) {
                        g_free(d->adapter);
                        d->adapter = g_strdup(o);
                }
        } else if (streq(key, "Class") && streq(contents, "u")) {
                r = sd_bus_message_enter_container(m, 'v', "u");
                if (r >= 0)
                        r = sd_bus_message_read(m, "u", &d->device_class);
                if (r >= 0)
                        d->has_class = true;
        } else if (streq(key, "Paired") && streq(contents, "b"))
                r = sd_bus_message_enter_container(m, 'v', "b") >= 0 ? read_bool(m, &d->paired)
                                                                     : -EBADMSG;
        else if (streq(key, "Trusted") && streq(contents, "b"))
                r = sd_bus_message_enter_container(m, 'v', "b") >= 0 ? read_bool(m, &d->trusted)
                                                                     : -EBADMSG;
        else if (streq(key, "Connected") && streq(contents, "b"))
                r = sd_bus_message_enter_container(m, 'v', "b") >= 0 ? read_bool(m, &d->connected)
                                                                     : -EBADMSG;
        else if (streq(key, "Bonded") && streq(contents, "b"))
                r = sd_bus_message_enter_container(m, 'v', "b") >= 0 ? read_bool(m, &d->bonded)
                                                                     : -EBADMSG;
        else if (streq(key, "Blocked") && streq(contents, "b"))
                r = sd_bus_message_enter_container(m, 'v', "b") >= 0 ? read_bool(m, &d->blocked)
                                                                     : -EBADMSG;
        else
                return sd_bus_message_skip(m, "v");
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int on_property(sd_bus_message *m, const char *key, void *userdata) {
        int r = read_property(m, userdata, key);

        return r < 0 ? r : 1; /* read_property() reads or skips the value itself */
}

/* a{sv} */
static int read_properties(sd_bus_message *m, Device *d) {
        return bus_dict_walk(m, on_property, d);
}

static Device *device_get_or_add(DeviceCache *c, const char *path) {
        Device *d = g_hash_table_lookup(c->devices, path);

        if (!d) {
                d = g_new0(Device, 1);
                d->path = g_strdup(path);
                g_hash_table_insert(c->devices, d->path, d);
        }
        return d;
}

static void notify(DeviceCache *c, const Device *d, bool removed) {
        /* Iterate over a copy: a listener may remove listeners while we call them. Removed ones
         * are only marked, and freed after the walk. */
        GList *copy = g_list_copy(c->listeners);

        for (GList *l = copy; l; l = l->next) {
                DeviceListener *dl = l->data;
                if (!dl->removed)
                        dl->cb(d, removed, dl->userdata);
        }
        g_list_free(copy);
        for (GList *l = c->listeners, *next; l; l = next) {
                DeviceListener *dl = l->data;
                next = l->next;
                if (dl->removed) {
                        c->listeners = g_list_delete_link(c->listeners, l);
                        g_free(dl);
                }
        }
}

/* One interface of object path (InterfacesAdded, GetManagedObjects): keep Device1's properties,
 * note adapters. */
static int on_interface(sd_bus_message *m, const char *path, const char *iface, void *userdata) {
        DeviceCache *c = userdata;

        if (streq(iface, DEVICE_INTERFACE)) {
                Device *d = device_get_or_add(c, path);
                int r = read_properties(m, d);

                if (r < 0)
                        return r;
                notify(c, d, false);
                return 1;
        }
        if (streq(iface, ADAPTER_INTERFACE))
                g_hash_table_add(c->adapters, g_strdup(path));
        return 0;
}

static int on_managed_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        DeviceCache *c = userdata;
        int r;

        c->get_objects = sd_bus_slot_unref(c->get_objects);
        if (sd_bus_message_is_method_error(m, NULL)) {
                log_warning("GetManagedObjects from org.bluez failed: %s",
                            sd_bus_message_get_error(m)->message);
                return 0;
        }
        r = bus_objects_walk(m, on_interface, c);
        if (r < 0)
                log_warning("Malformed GetManagedObjects reply from org.bluez: %s", g_strerror(-r));
        log_debug("device cache: %u devices", g_hash_table_size(c->devices));
        return 0;
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        DeviceCache *c = userdata;
        const char *path;
        int r;

        if (!from_owner(c, m))
                return 0;
        r = sd_bus_message_read(m, "o", &path);
        if (r >= 0)
                r = bus_interfaces_walk(m, path, on_interface, c);
        if (r < 0)
                log_debug("Malformed InterfacesAdded: %s", g_strerror(-r));
        return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        DeviceCache *c = userdata;
        const char *path, *iface;
        int r;

        if (!from_owner(c, m))
                return 0;
        r = sd_bus_message_read(m, "o", &path);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &iface)) > 0) {
                Device *d;
                if (streq(iface, ADAPTER_INTERFACE))
                        g_hash_table_remove(c->adapters, path);
                if (!streq(iface, DEVICE_INTERFACE))
                        continue;
                d = g_hash_table_lookup(c->devices, path);
                if (d) {
                        notify(c, d, true);
                        g_hash_table_remove(c->devices, path);
                }
        }
        return 0;
}

/* A property BlueZ declares invalidated no longer has the value we kept. */
static void invalidate(Device *d, const char *key) {
        if (streq(key, "Name"))
                g_clear_pointer(&d->name, g_free);
        else if (streq(key, "Alias"))
                g_clear_pointer(&d->alias, g_free);
        else if (streq(key, "AddressType"))
                g_clear_pointer(&d->address_type, g_free);
        else if (streq(key, "Class"))
                d->has_class = false;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        DeviceCache *c = userdata;
        const char *iface, *key, *path = sd_bus_message_get_path(m);
        Device *d;
        int r;

        if (!from_owner(c, m) || !path)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, DEVICE_INTERFACE))
                return 0;
        d = device_get_or_add(c, path);
        r = read_properties(m, d);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(m, "s", &key)) > 0)
                invalidate(d, key);
        if (r < 0)
                log_debug("Malformed PropertiesChanged on %s: %s", path, g_strerror(-r));
        notify(c, d, false);
        return 0;
}

int device_cache_new(DeviceCache **ret, sd_bus *bus, BluezOwner *owner) {
        DeviceCache *c = g_new0(DeviceCache, 1);
        int r;

        c->bus = sd_bus_ref(bus);
        c->owner = owner;
        c->devices = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, device_free);
        c->adapters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        /* No sender in the rules: the owner of org.bluez changes; each callback checks the
         * sender against the owner we track. */
        r = sd_bus_match_signal_async(bus, &c->match_added, NULL, "/",
                                      "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                      on_interfaces_added, NULL, c);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &c->match_removed, NULL, "/",
                                              "org.freedesktop.DBus.ObjectManager",
                                              "InterfacesRemoved", on_interfaces_removed, NULL, c);
        if (r >= 0)
                r = sd_bus_add_match_async(
                        bus, &c->match_changed,
                        "type='signal',interface='org.freedesktop.DBus."
                        "Properties',member='PropertiesChanged',arg0='" DEVICE_INTERFACE "'",
                        on_properties_changed, NULL, c);
        if (r < 0) {
                device_cache_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

DeviceCache *device_cache_free(DeviceCache *c) {
        if (!c)
                return NULL;
        sd_bus_slot_unref(c->match_added);
        sd_bus_slot_unref(c->match_removed);
        sd_bus_slot_unref(c->match_changed);
        sd_bus_slot_unref(c->get_objects);
        g_hash_table_unref(c->devices);
        g_hash_table_unref(c->adapters);
        g_list_free_full(c->listeners, g_free);
        sd_bus_unref(c->bus);
        g_free(c);
        return NULL;
}

void device_cache_clear(DeviceCache *c) {
        c->get_objects = sd_bus_slot_unref(c->get_objects);
        g_hash_table_remove_all(c->devices);
        g_hash_table_remove_all(c->adapters);
}

int device_cache_reset(DeviceCache *c) {
        device_cache_clear(c);
        if (!bluez_owner_get(c->owner))
                return 0;
        return sd_bus_call_method_async(c->bus, &c->get_objects, bluez_owner_get(c->owner), "/",
                                        "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                        on_managed_objects, c, NULL);
}

const Device *device_cache_get(DeviceCache *c, const char *path) {
        return g_hash_table_lookup(c->devices, path);
}

const Device *device_cache_find_address(DeviceCache *c, const char *adapter, const char *address) {
        GHashTableIter it;
        void *value;

        if (!c || !address)
                return NULL;
        g_hash_table_iter_init(&it, c->devices);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const Device *d = value;
                if (d->address && g_ascii_strcasecmp(d->address, address) == 0 &&
                    (!adapter || streq(d->adapter, adapter)))
                        return d;
        }
        return NULL;
}

GPtrArray *device_cache_list(DeviceCache *c) {
        GPtrArray *out = g_ptr_array_new();
        GHashTableIter it;
        void *value;

        if (!c)
                return out;
        g_hash_table_iter_init(&it, c->devices);
        while (g_hash_table_iter_next(&it, NULL, &value))
                g_ptr_array_add(out, value);
        return out;
}

char **device_cache_adapters(DeviceCache *c) {
        g_autoptr(GPtrArray) out = g_ptr_array_new();
        GHashTableIter it;
        void *key;

        if (c) {
                g_hash_table_iter_init(&it, c->adapters);
                while (g_hash_table_iter_next(&it, &key, NULL))
                        g_ptr_array_add(out, g_strdup(key));
        }
        g_ptr_array_sort(out, (GCompareFunc) g_strcmp0);
        g_ptr_array_add(out, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&out), false);
}

/* bluetoothd's Alias of a device with neither a name nor an alias set: its address with dashes
 * (device.c, dev_property_get_alias). Any address: it may be stale after an RPA resolved. */
static bool is_dashed_address(const char *s) {
        if (strlen(s) != 17)
                return false;
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != '-' : !g_ascii_isxdigit(s[i]))
                        return false;
        return true;
}

const char *device_display_name(const Device *d, const char **ret_source) {
        const char *name = NULL, *source = NULL;

        if (d && d->name && d->name[0]) {
                name = d->name;
                source = "name";
        } else if (d && d->alias && d->alias[0] && !is_dashed_address(d->alias)) {
                name = d->alias;
                source = "alias";
        }
        if (ret_source)
                *ret_source = source;
        return name;
}

DeviceListener *device_cache_add_listener(DeviceCache *c, device_changed_t cb, void *userdata) {
        DeviceListener *l = g_new0(DeviceListener, 1);

        l->cb = cb;
        l->userdata = userdata;
        c->listeners = g_list_append(c->listeners, l);
        return l;
}

void device_cache_remove_listener(DeviceCache *c, DeviceListener *l) {
        if (c && l)
                l->removed = true; /* freed by the next notify() or by device_cache_free() */
}
