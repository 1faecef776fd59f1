/* SPDX-License-Identifier: MIT */
#pragma once

/* A pairing window on one adapter: for a while, and for a number of new pairings, the adapter is
 * discoverable and pairable; then it is put back. Usable by any policy (the button opens one)
 * and by the daemon.
 *
 * Opening reads Pairable/PairableTimeout/DiscoverableTimeout, then sets DiscoverableTimeout =
 * PairableTimeout = duration (so BlueZ and the kernel end it even without us), Pairable and
 * Discoverable. Closing (after the duration, after `pairings` devices went from unpaired to
 * Paired, on request, or when the loop exits) makes the adapter non-discoverable and puts the
 * three values back. A refusal of an opening Set closes the window at once. Opened and closed
 * (and why) are audited as policy events of `policy` with PAIRGATE_WINDOW=opened|closed.
 * Calls go to the current owner of org.bluez. */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bluez-owner.h"
#include "device-cache.h"

typedef struct PairingWindowConfig {
        const char *adapter;   /* "/org/bluez/hci0" (copied) */
        unsigned duration_sec; /* > 0 */
        unsigned pairings;     /* closes after this many new pairings (>= 1) */
        const char *policy;    /* names the audit records: "button", "window" (copied) */
} PairingWindowConfig;

typedef struct PairingWindow PairingWindow;
/* The window opened or closed. */
typedef void (*pairing_window_changed_t)(PairingWindow *w, bool open, void *userdata);

/* bus, owner and devices may be NULL (unit tests): nothing is sent, no pairing is counted. */
int pairing_window_new(PairingWindow **ret, sd_event *event, sd_bus *bus, BluezOwner *owner,
                       DeviceCache *devices, const PairingWindowConfig *c,
                       pairing_window_changed_t changed, void *userdata);
/* Closes an open window (why is audited) without waiting for BlueZ's replies, and frees. */
PairingWindow *pairing_window_free(PairingWindow *w, const char *why);

void pairing_window_open(PairingWindow *w, const char *why);
void pairing_window_close(PairingWindow *w, const char *why);
bool pairing_window_is_open(const PairingWindow *w);
const char *pairing_window_adapter(const PairingWindow *w);
/* A request about device_path arrived while it was (not) paired: a later Paired counts as a new
 * pairing. */
void pairing_window_saw_device(PairingWindow *w, const char *device_path, bool paired);
