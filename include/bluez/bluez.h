/* SPDX-License-Identifier: MIT */
#pragma once

/* Follows the owner of org.bluez (BluezOwner) and keeps pairgate registered with AgentManager1 as
 * the default agent: RegisterAgent + RequestDefaultAgent whenever org.bluez appears (bluetoothd
 * restarts are survived without user action), retrying with back-off on failure. */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent-types.h"
#include "bluez-owner.h"

typedef enum BluezState {
        BLUEZ_ABSENT,      /* nobody owns org.bluez */
        BLUEZ_REGISTERING, /* RegisterAgent/RequestDefaultAgent in flight */
        BLUEZ_REGISTERED,  /* registered and default agent */
        BLUEZ_WAITING,     /* org.bluez present, not registered: retry scheduled */
} BluezState;

typedef struct Bluez Bluez;

typedef struct BluezCallbacks {
        /* Registration state changed (for sd_notify STATUS and audit). reason may be NULL. */
        void (*state_changed)(Bluez *b, BluezState old, const char *reason, void *userdata);
} BluezCallbacks;

/* owner is borrowed and outlives b. */
int bluez_new(Bluez **ret, sd_bus *bus, sd_event *event, BluezOwner *owner, const char *agent_path,
              Capability cap, const BluezCallbacks *cb, void *userdata);
Bluez *bluez_free(Bluez *b);
/* org.bluez changed owner (see BluezOwner): register with the new one, or wait. */
void bluez_owner_changed(Bluez *b);

BluezState bluez_state(const Bluez *b);
/* The registration was given up on purpose to register again with a new capability: true from
 * REGISTERED -> REGISTERING until the state leaves REGISTERING (still true in that callback, so
 * a failed re-registration can be told apart). */
bool bluez_reregistering(const Bluez *b);
Capability bluez_capability(const Bluez *b);
/* The capability bluetoothd holds for the agent now, for the requests arriving now: the one of
 * the last successful RegisterAgent (while registering again, the previous one until the reply),
 * or the configured one when bluetoothd holds none. */
Capability bluez_registered_capability(const Bluez *b);

/* Capability changed by a reload: re-register when registered or registering. */
int bluez_set_capability(Bluez *b, Capability cap);
/* bluetoothd sent Release(): we are no longer registered. Re-registers after a delay if the same
 * owner is still there (bluetoothd normally exits right after Release). */
void bluez_released(Bluez *b);
/* Shutdown: UnregisterAgent if registered; done(userdata) is called when answered or after a
 * bounded wait. Returns 0 when nothing had to be sent (done not called). */
int bluez_unregister(Bluez *b, void (*done)(void *userdata), void *userdata);
