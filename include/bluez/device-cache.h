/* SPDX-License-Identifier: MIT */
#pragma once

/* Device facts kept from org.bluez's ObjectManager (GetManagedObjects, InterfacesAdded/Removed)
 * and PropertiesChanged, so a request never blocks on a lookup. Only signals from the current
 * owner of org.bluez are believed. */

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <systemd/sd-bus.h>

#include "bluez-owner.h"

typedef struct Device {
        char *path;
        char *adapter;
        char *address;
        char *address_type;
        char *name;
        char *alias;
        uint32_t device_class;
        bool has_class;
        bool paired, trusted, connected;
        bool bonded, blocked;
} Device;

typedef struct DeviceCache DeviceCache;
/* Called after a device's properties changed (or it was removed: removed == true). */
typedef void (*device_changed_t)(const Device *d, bool removed, void *userdata);

/* owner is borrowed and outlives c. */
int device_cache_new(DeviceCache **ret, sd_bus *bus, BluezOwner *owner);
DeviceCache *device_cache_free(DeviceCache *c);
/* org.bluez has a (new) owner: forget everything, load GetManagedObjects from it. */
int device_cache_reset(DeviceCache *c);
/* org.bluez is gone. */
void device_cache_clear(DeviceCache *c);
const Device *device_cache_get(DeviceCache *c, const char *path);
/* The device with that address (any case) on adapter (NULL: any adapter), or NULL. */
const Device *device_cache_find_address(DeviceCache *c, const char *adapter, const char *address);
/* Every device now (the array is the caller's, the devices are the cache's: do not keep them
 * past the next event). */
GPtrArray *device_cache_list(DeviceCache *c);
/* The object paths of bluetoothd's adapters (org.bluez.Adapter1), sorted, NULL-terminated
 * (g_strfreev). */
char **device_cache_adapters(DeviceCache *c);
/* The name to show for d (audit, speech): Name when the device announced one, else Alias when it
 * is a real alias (set by a user); never bluetoothd's stand-in for a missing name, the address
 * with dashes. NULL when none; *ret_source (may be NULL) is then NULL, else "name" or "alias". */
const char *device_display_name(const Device *d, const char **ret_source);
/* Listeners are called in the order added; a listener may remove itself (or another) from within
 * the callback. The returned handle is for device_cache_remove_listener(). */
typedef struct DeviceListener DeviceListener;
DeviceListener *device_cache_add_listener(DeviceCache *c, device_changed_t cb, void *userdata);
void device_cache_remove_listener(DeviceCache *c, DeviceListener *l);
