/* SPDX-License-Identifier: MIT */
#pragma once

/* Watches the owner of org.bluez and keeps pairgate registered with AgentManager1 as the default
 * agent: RegisterAgent + RequestDefaultAgent whenever org.bluez appears (bluetoothd restarts are
 * survived without user action), retrying with back-off on failure. */

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent-types.h"

typedef enum BluezState {
        BLUEZ_ABSENT,      /* nobody owns org.bluez */
        BLUEZ_REGISTERING, /* RegisterAgent/RequestDefaultAgent in flight */
        BLUEZ_REGISTERED,  /* registered and default agent */
        BLUEZ_WAITING,     /* org.bluez present, not registered: retry scheduled */
} BluezState;

typedef struct Bluez Bluez;

typedef struct BluezCallbacks {
        /* org.bluez got a new owner (new_owner non-NULL) or lost it (new_owner NULL). */
        void (*owner_changed)(Bluez *b, const char *new_owner, void *userdata);
        /* Registration state changed (for sd_notify STATUS and audit). reason may be NULL. */
        void (*state_changed)(Bluez *b, BluezState old, const char *reason, void *userdata);
} BluezCallbacks;

int bluez_new(Bluez **ret, sd_bus *bus, sd_event *event, const char *agent_path, Capability cap,
              const BluezCallbacks *cb, void *userdata);
Bluez *bluez_free(Bluez *b);
int bluez_start(Bluez *b);

const char *bluez_owner(const Bluez *b);
BluezState bluez_state(const Bluez *b);
Capability bluez_capability(const Bluez *b);

/* Capability changed by a reload: re-register when registered or registering. */
int bluez_set_capability(Bluez *b, Capability cap);
/* bluetoothd sent Release(): we are no longer registered. Re-registers after a delay if the same
 * owner is still there (bluetoothd normally exits right after Release). */
void bluez_released(Bluez *b);
/* Shutdown: UnregisterAgent if registered; done(userdata) is called when answered or after a
 * bounded wait. Returns 0 when nothing had to be sent (done not called). */
int bluez_unregister(Bluez *b, void (*done)(void *userdata), void *userdata);
