/* SPDX-License-Identifier: MIT */
#pragma once

/* One pending Agent1 call: the held message, the timer, the policy chain, and exactly one answer
 * on every path (decision, timeout, cancel, BlueZ gone, shutdown, and freeing as a safety net).
 * The D-Bus reply itself is produced by the owner's reply function (agent.c): request.c makes no
 * D-Bus errors. Every finished request writes one audit record. */

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "chain.h"
#include "policy.h"

typedef enum RequestResult {
        REQUEST_ALLOW,
        REQUEST_DENY,
        REQUEST_TIMEOUT,
        REQUEST_CANCELED,
        REQUEST_ERROR,
} RequestResult;

/* "allow", "deny", "timeout", "canceled", "error": the decision of its audit record. */
const char *request_result_to_string(RequestResult r);

typedef struct RequestOutcome {
        RequestResult result;
        AgentMethod method;
        const char *policy; /* NULL when none decided */
        const char *reason;
        bool has_passkey;
        uint32_t passkey;
        const char *pin; /* RequestPinCode allow only; never logged */
        bool summarised; /* refused by a limit: audited in a summary, not a record of its own */
        bool has_control_uid; /* decided through the control interface by this uid */
        uint32_t control_uid;
} RequestOutcome;

typedef struct Request Request;

/* Send the answer for m (m may expect no reply). Called at most once per request. */
typedef void (*request_reply_t)(sd_bus_message *m, const RequestOutcome *o);
/* The request has answered and written its record: the owner unlinks and frees it. */
typedef void (*request_finished_t)(Request *r, void *userdata);
/* The request passed from the policy holding it to a later one of its route, which holds it now
 * (request_holder()). */
typedef void (*request_moved_t)(Request *r, void *userdata);

typedef struct RequestParams {
        uint64_t id;
        sd_event *event;
        sd_bus_message *message;   /* the held call (ref taken) */
        const PairingQuery *query; /* deep-copied */
        PolicySet *policies;       /* ref taken */
        const char *const *route;  /* copied; NULL: no route */
        uint64_t timeout_usec;
        const ChainGate *gate; /* copied; NULL: none (chain_run_start_gated) */
        request_reply_t reply;
        request_finished_t finished;
        request_moved_t moved; /* may be NULL */
        void *userdata;
} RequestParams;

int request_new(Request **ret, const RequestParams *p);
/* Run the chain. May finish (and call finished()) before returning. */
void request_start(Request *r);
/* Cancel()/Release()/org.bluez gone/shutdown: answer Canceled, audit "canceled" with reason. */
void request_cancel(Request *r, const char *reason);
/* Decide the request for the policy holding it (the control interface: approve, deny, a passkey),
 * as if that policy had answered res; the record carries control_uid. The request finishes
 * (reply, audit, finished()) before this returns. -ESRCH: it is not held by a policy (answered
 * already, or between policies); -EINVAL: res is PASS. An allow without the passkey or PIN the
 * method needs ends the request as an error, as from any policy. */
int request_decide(Request *r, const PolicyResult *res, uint32_t control_uid);
/* The policy holding it now, or NULL. */
const char *request_holder(const Request *r);
/* When it arrived and when request_timeout ends it (CLOCK_REALTIME µs, for people: taken once
 * at arrival, so every report of the request gives the same values). */
uint64_t request_arrived_realtime(const Request *r);
uint64_t request_timeout_realtime(const Request *r);
/* Frees; a request still holding its call answers it first (Canceled) and audits it. */
Request *request_free(Request *r);

uint64_t request_id(const Request *r);
const PairingQuery *request_query(const Request *r);
/* How it ended (valid from the finished() callback on). */
RequestResult request_result(const Request *r);
/* A policy of its route presented the code (a notification that was spoken, say). */
bool request_presented(const Request *r);
/* The policy that decided it, or NULL. */
const char *request_policy(const Request *r);
/* Why it ended ("" before). */
const char *request_reason(const Request *r);
/* It was refused by the chain's gate (a limit), not by a policy. */
bool request_limited(const Request *r);

/* The one decision record of a request, held or answered at once without one (q->request_id
 * and q->arrived_usec set): every request is audited with the same fields. */
void request_audit_decision(const PairingQuery *q, const RequestOutcome *o);
