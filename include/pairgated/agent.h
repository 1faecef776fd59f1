/* SPDX-License-Identifier: MIT */
#pragma once

/* The org.bluez.Agent1 object: sender check, the nine methods, the table of pending requests.
 * The only place where D-Bus errors are made. */

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bluez.h"
#include "chain.h"
#include "config.h"
#include "device-cache.h"
#include "limiter.h"
#include "request.h"

#define AGENT_OBJECT_PATH "/org/pairgate/agent"
#define AGENT_INTERFACE   "org.bluez.Agent1"

typedef struct Agent Agent;

typedef struct AgentCallbacks {
        void (*released)(Agent *a, void *userdata); /* bluetoothd sent Release() */
        /* A request was answered and audited (its outcome: request_result() etc.). */
        void (*request_finished)(Agent *a, const Request *r, void *userdata);
        /* A request is now held: a policy waits (a person, speech, ...). */
        void (*request_held)(Agent *a, Request *r, void *userdata);
        /* A held request passed from the policy holding it to a later one of its route (speech
         * to button, ...): request_holder() names the new one. */
        void (*request_moved)(Agent *a, Request *r, void *userdata);
        /* A request that was held has been answered and audited (called after
         * request_finished). */
        void (*request_ended)(Agent *a, const Request *r, void *userdata);
        /* Every decision record, held or answered at once (also the ones refused without a
         * request: max_pending, stopping). */
        void (*decided)(Agent *a, const PairingQuery *q, RequestResult result, void *userdata);
} AgentCallbacks;

/* bluez, owner and cache are borrowed and outlive a. */
int agent_new(Agent **ret, sd_bus *bus, sd_event *event, Bluez *bluez, BluezOwner *owner,
              DeviceCache *cache, const AgentCallbacks *cb, void *userdata);
/* Answers every pending call (Canceled) and removes the object. */
Agent *agent_free(Agent *a);
/* The config and policies new requests use (requests already pending keep theirs). */
void agent_set_config(Agent *a, const Config *c, PolicySet *policies);
/* The limits new requests are checked against (borrowed, outlives a; NULL: none). */
void agent_set_limiter(Agent *a, Limiter *limiter);
/* Stopping: from now on new requests are answered Canceled at once (and audited). */
void agent_stop(Agent *a);
/* Answer every pending request with Canceled and audit it with reason. */
void agent_cancel_all(Agent *a, const char *reason);
/* The held request with that id, or NULL (unknown, or answered meanwhile). */
Request *agent_get_request(Agent *a, uint64_t id);
/* The held requests, oldest first (the array is the caller's; the requests are not). */
GPtrArray *agent_held_requests(Agent *a);
unsigned agent_held_count(Agent *a);
