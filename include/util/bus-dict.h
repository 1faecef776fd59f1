/* SPDX-License-Identifier: MIT */
#pragma once

/* Walking a D-Bus property dictionary (a{sv}), as in GetAll replies, PropertiesChanged and
 * InterfacesAdded, and the object manager's nestings of them (a{sa{sv}}: an object's interfaces;
 * a{oa{sa{sv}}}: GetManagedObjects): the one loop each that enters, iterates and leaves them. */

#include <systemd/sd-bus.h>

/* Called with m positioned at the value (a variant) of `key`. Return 1 when the variant was read,
 * 0 to have it skipped, <0 to stop with that error. */
typedef int (*bus_dict_entry_t)(sd_bus_message *m, const char *key, void *userdata);

/* Reads the whole a{sv} at the current position of m, calling cb for every entry. */
int bus_dict_walk(sd_bus_message *m, bus_dict_entry_t cb, void *userdata);

/* Called with m positioned at the properties (a{sv}) of interface `iface` of object `path`.
 * Return 1 when they were read, 0 to have them skipped, <0 to stop with that error. */
typedef int (*bus_interface_t)(sd_bus_message *m, const char *path, const char *iface,
                               void *userdata);

/* Reads the whole a{sa{sv}} at the current position of m (the interfaces of object `path`, as in
 * InterfacesAdded), calling cb for every interface. */
int bus_interfaces_walk(sd_bus_message *m, const char *path, bus_interface_t cb, void *userdata);
/* Reads the whole a{oa{sa{sv}}} at the current position of m (a GetManagedObjects reply),
 * calling cb for every interface of every object. */
int bus_objects_walk(sd_bus_message *m, bus_interface_t cb, void *userdata);
