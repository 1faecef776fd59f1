/* SPDX-License-Identifier: MIT */
#pragma once

/* Walking a D-Bus property dictionary (a{sv}), as in GetAll replies, PropertiesChanged and
 * InterfacesAdded: the one loop that enters, iterates and leaves it. */

#include <systemd/sd-bus.h>

/* Called with m positioned at the value (a variant) of `key`. Return 1 when the variant was read,
 * 0 to have it skipped, <0 to stop with that error. */
typedef int (*bus_dict_entry_t)(sd_bus_message *m, const char *key, void *userdata);

/* Reads the whole a{sv} at the current position of m, calling cb for every entry. */
int bus_dict_walk(sd_bus_message *m, bus_dict_entry_t cb, void *userdata);
