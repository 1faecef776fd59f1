/* SPDX-License-Identifier: MIT */
#pragma once

/* The control interface (docs/control-interface.md): pairgated owns org.pairgate on the system
 * bus and exports /org/pairgate/control with org.pairgate.Control1. Root and the members of
 * pairgate-admin may list and decide held requests, open and close the pairing window, list and
 * forget devices; every call is checked (caller's uid and groups) and every action audited with
 * the caller's uid. Part of the D-Bus boundary: the only other place (with agent.c) that makes
 * D-Bus errors. */

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent.h"
#include "bluez.h"
#include "config.h"
#include "device-cache.h"
#include "device-history.h"
#include "limiter.h"
#include "pairing-window.h"
#include "request.h"
#include "trust.h"

typedef struct Control Control;

/* Everything is borrowed and outlives the Control. */
typedef struct ControlEnv {
        sd_bus *bus;
        sd_event *event;
        Agent *agent;
        Bluez *bluez;
        BluezOwner *owner;
        DeviceCache *cache;
        DeviceHistory *history;
        Trust *trust;     /* may be NULL */
        Limiter *limiter; /* the lockouts (limits); may be NULL */
        const char *config_path;
} ControlEnv;

/* Exports the object and asks for the name (asynchronously: a name that is taken or refused by
 * the bus policy is logged, and pairgated goes on as an agent without the interface). */
int control_new(Control **ret, const ControlEnv *env);
Control *control_free(Control *c);
/* The configuration in effect, and the daemon's pairing window (NULL when the configuration has
 * no window = { ... } section). */
void control_set_config(Control *c, const Config *config, PairingWindow *window);
/* The agent's events: a request is held (RequestStarted), passed on (RequestChanged), a held one
 * ended (RequestEnded), and
 * every decision (the counts of GetStatus). */
void control_request_held(Control *c, Request *r);
/* A held request passed to another policy of its route (RequestChanged: HeldBy is the new one). */
void control_request_moved(Control *c, Request *r);
void control_request_ended(Control *c, const Request *r);
void control_note_decision(Control *c, RequestResult result);
