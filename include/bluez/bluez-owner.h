/* SPDX-License-Identifier: MIT */
#pragma once

/* Who owns org.bluez: the one place that knows bluetoothd's unique bus name. The agent's sender
 * check, the device cache, the registration and the pairing window all read it from here.
 * Watches NameOwnerChanged for org.bluez only (an arg0 match: the daemon does not wake up for
 * the other clients of the system bus) and asks GetNameOwner once at start. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct BluezOwner BluezOwner;
/* org.bluez got a new owner (new_owner non-NULL) or lost it (NULL). */
typedef void (*bluez_owner_changed_t)(BluezOwner *o, const char *new_owner, void *userdata);

int bluez_owner_new(BluezOwner **ret, sd_bus *bus, bluez_owner_changed_t cb, void *userdata);
BluezOwner *bluez_owner_free(BluezOwner *o);
/* Add the match, then ask for the current owner (an owner change in between is seen too). */
int bluez_owner_start(BluezOwner *o);
/* The unique name of bluetoothd, or NULL (also for o == NULL). */
const char *bluez_owner_get(const BluezOwner *o);
/* sender is the current owner of org.bluez. */
bool bluez_owner_is(const BluezOwner *o, const char *sender);
