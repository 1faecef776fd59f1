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
 * three values back (or, with hold_closed, Pairable = false: see below). A refusal of an opening
 * Set closes the window at once. Opened and closed
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
        /* While closed, keep the adapter non-pairable and non-discoverable: at creation, at
         * every close, and whenever pairing_window_sync() is called (after each registration as
         * default agent, which makes bluetoothd turn bondable on when AlwaysPairable=false). */
        bool hold_closed;
} PairingWindowConfig;

typedef struct PairingWindow PairingWindow;
/* The window opened or closed. */
typedef void (*pairing_window_changed_t)(PairingWindow *w, bool open, void *userdata);
typedef struct PairingWindowListener PairingWindowListener;

/* bus, owner and devices may be NULL (unit tests): nothing is sent, no pairing is counted.
 * Changes nothing on the adapter until opened or synced. */
int pairing_window_new(PairingWindow **ret, sd_event *event, sd_bus *bus, BluezOwner *owner,
                       DeviceCache *devices, const PairingWindowConfig *c);
/* Listeners are called in the order added, after every open and close. */
PairingWindowListener *pairing_window_add_listener(PairingWindow *w, pairing_window_changed_t cb,
                                                   void *userdata);
void pairing_window_remove_listener(PairingWindow *w, PairingWindowListener *l);
/* New settings (a reload): duration and pairings apply from the next opening; a new adapter
 * closes an open window first. */
void pairing_window_reconfigure(PairingWindow *w, const PairingWindowConfig *c);
/* The configuration no longer has this window: close it and stop holding the adapter closed
 * (Pairable back on, as bluetoothd has it while a default agent is registered). */
void pairing_window_retire(PairingWindow *w, const char *why);
/* Put the adapter in the state the window says (bluetoothd came back, or we registered again):
 * open: discoverable and pairable for the time left; closed with hold_closed: not pairable. */
void pairing_window_sync(PairingWindow *w);
/* Closes an open window (why is audited) without waiting for BlueZ's replies, and frees. */
PairingWindow *pairing_window_free(PairingWindow *w, const char *why);

/* Opens for duration_sec (0: the configured duration). */
void pairing_window_open(PairingWindow *w, unsigned duration_sec, const char *why);
void pairing_window_close(PairingWindow *w, const char *why);
bool pairing_window_is_open(const PairingWindow *w);
/* Seconds left while open, else 0. */
unsigned pairing_window_remaining(const PairingWindow *w);
const char *pairing_window_adapter(const PairingWindow *w);
/* While open: when it closes (CLOCK_MONOTONIC µs) and how many new pairings it still takes;
 * 0 when closed. */
uint64_t pairing_window_closes_usec(const PairingWindow *w);
unsigned pairing_window_pairings_left(const PairingWindow *w);
/* A request about device_path arrived while it was (not) paired: a later Paired counts as a new
 * pairing. */
void pairing_window_saw_device(PairingWindow *w, const char *device_path, bool paired);
