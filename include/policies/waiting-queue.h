/* SPDX-License-Identifier: MIT */
#pragma once

/* The requests that wait for a person (a button press, digits on a keypad, later an operator),
 * oldest first. A decided request leaves the queue at once and gets its answer from a defer source,
 * so the chain and the request (which may free a whole policy set) never run inside the input
 * handler that decided it. A queue's calls can be handed to another queue (a reload). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "policy.h"

typedef struct WaitingQueue WaitingQueue;

/* What a queue-based policy hands out as its PolicyCall. */
struct PolicyCall {
        WaitingQueue *queue; /* NULL once decided (or orphaned) */
        uint64_t request_id;
        uint64_t arrived_usec;
        AgentMethod method;
        char *address;
        policy_done_t done;
        void *userdata;
        sd_event_source *deliver; /* decided: done() is called from this defer source */
        PolicyResult result;
        char reason[128];
};

/* changed(userdata) runs whenever a call joins or leaves the queue (an LED, a signal). */
int waiting_queue_new(WaitingQueue **ret, sd_event *event, void (*changed)(void *userdata),
                      void *userdata);
/* Calls still queued are orphaned: the core ends them (timeout, cancel). */
WaitingQueue *waiting_queue_free(WaitingQueue *q);

PolicyCall *waiting_queue_add(WaitingQueue *q, const PairingQuery *query, policy_done_t done,
                              void *userdata);
PolicyCall *waiting_queue_oldest(WaitingQueue *q);
unsigned waiting_queue_length(const WaitingQueue *q);
/* c leaves the queue now; done() is called from a defer source with v and c->reason. */
void waiting_queue_decide(PolicyCall *c, Verdict v);
/* The same with a whole result (a passkey or a PIN: RequestPasskey, RequestPinCode); its reason
 * is c->reason. */
void waiting_queue_answer(PolicyCall *c, const PolicyResult *res);
/* For PolicyOps.cancel: leaves its queue (if still in one) and is freed; done() never runs. */
void waiting_queue_cancel(PolicyCall *c);
/* Every call of from joins to (by arrival), or is orphaned when to is NULL. */
void waiting_queue_move(WaitingQueue *from, WaitingQueue *to);
