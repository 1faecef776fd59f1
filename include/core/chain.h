/* SPDX-License-Identifier: MIT */
#pragma once

/* The policies instantiated for one configuration (PolicySet) and the evaluation of one route
 * (ChainRun): ordered, first allow/deny decides, undecided or no route means rejected. */

#include "config.h"
#include "policy.h"

typedef struct PolicySet PolicySet;

/* Instantiate every policy that the config names in a route. */
int policy_set_new(PolicySet **ret, const Config *c, const PolicyEnv *env, char **ret_error);
/* An empty set, and adding an instantiated policy to it (takes ownership of p and p->data): for
 * tests that drive the chain with scripted policies. */
PolicySet *policy_set_new_empty(void);
void policy_set_put(PolicySet *s, Policy *p);
PolicySet *policy_set_ref(PolicySet *s);
PolicySet *policy_set_unref(PolicySet *s);
Policy *policy_set_get(PolicySet *s, const char *name);
/* A policy of the set vouches for q's device (PolicyOps.vouches). */
bool policy_set_vouches(PolicySet *s, const PairingQuery *q);

typedef enum ChainResult {
        CHAIN_ALLOW,
        CHAIN_DENY,  /* a policy denied, nobody decided, or there is no route */
        CHAIN_ERROR, /* a policy failed: rejected, audited as an error */
} ChainResult;

typedef struct ChainOutcome {
        ChainResult result;
        char policy[32]; /* the deciding policy; empty when none decided */
        char reason[160];
        bool has_passkey;
        uint32_t passkey;
        char pin[17];
        bool presented; /* a policy of the route presented the code (speech spoke it) */
        bool limited;   /* refused by the gate (a limit) before a policy involving a person */
} ChainOutcome;

typedef struct ChainRun ChainRun;
typedef void (*chain_done_t)(const ChainOutcome *o, void *userdata);

/* Start evaluating route (NULL: no route) for q. q must stay valid until done or cancel.
 * Returns <0 on allocation failure; 1 when finished at once (*ret_outcome filled, *ret NULL);
 * 0 when pending: done() is called exactly once later, unless chain_run_cancel() comes first.
 * Notification methods (DisplayPasskey, DisplayPinCode) that no policy refuses are acknowledged
 * (CHAIN_ALLOW): bluetoothd does not wait for a decision on them. */
int chain_run_start(ChainRun **ret, PolicySet *s, const char *const *route, const PairingQuery *q,
                    chain_done_t done, void *userdata, ChainOutcome *ret_outcome);
/* The same, with a gate asked once per run before the first policy that involves a person
 * (PolicyOps.involves_person): when it says no, the run ends at once as CHAIN_DENY with
 * outcome.limited set and that policy is never asked. gate may be NULL (no gate). */
typedef struct ChainGate {
        bool (*pass)(const PairingQuery *q, void *userdata);
        void *userdata;
        const char *reason; /* of the refusal */
} ChainGate;
int chain_run_start_gated(ChainRun **ret, PolicySet *s, const char *const *route,
                          const PairingQuery *q, const ChainGate *gate, chain_done_t done,
                          void *userdata, ChainOutcome *ret_outcome);
/* Cancel a pending run: the running policy is cancelled, done() never fires. Frees the run. */
void chain_run_cancel(ChainRun *run);
/* The policy the pending run waits for ("button", "operator", ...), or NULL when none. */
const char *chain_run_holder(const ChainRun *run);
/* Called when a policy that held the run passed and a later one of the route holds it now
 * (holder: its name, as chain_run_holder()). Not at the start (chain_run_start's return tells who
 * holds it first) and not at the end (done). The run is valid during the call and may not be
 * cancelled or decided from it. */
typedef void (*chain_moved_t)(const char *holder, void *userdata);
void chain_run_set_moved(ChainRun *run, chain_moved_t moved);
/* Decide the pending step as if its policy had answered res (ALLOW or DENY; an allow of
 * RequestPasskey/RequestPinCode must carry the passkey/PIN, as from any policy): the policy's
 * call is cancelled, then res is applied exactly like that policy's answer, so done() is called
 * (the run is finished and freed) before this returns. -ESRCH: nothing pending; -EINVAL: PASS. */
int chain_run_decide(ChainRun *run, const PolicyResult *res);
/* Tell every policy of the route that the request ended (presenters stop). */
void chain_request_ended(PolicySet *s, const char *const *route, uint64_t request_id);
