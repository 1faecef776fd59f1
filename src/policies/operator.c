/* SPDX-License-Identifier: MIT */
/* operator: holds a request until a person decides it through the control interface
 * (org.pairgate.Control1: Approve, Deny, EnterPasskey, EnterPinCode; `pairgatectl`), or until
 * request_timeout ends it. It holds every method that waits for an answer, RequestPasskey and
 * RequestPinCode included (the operator types the number); the notifications DisplayPasskey and
 * DisplayPinCode pass (bluetoothd does not wait for them).
 *
 * The decision itself does not come through this policy: the control interface decides the
 * pending step of the request's chain, whichever policy holds it (core/chain.c
 * chain_run_decide()), which cancels this policy's call. Its section takes no keys:
 * `operator = { };` may be left out. */
#include <errno.h>

#include <glib.h>

#include "audit.h"
#include "macro.h"
#include "policy.h"
#include "waiting-queue.h"

typedef struct OperatorPolicy {
        sd_event *event; /* NULL when only validating */
        WaitingQueue *waiting;
} OperatorPolicy;

static int operator_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                         char **ret_error) {
        OperatorPolicy *o = p->data;

        if (section && config_setting_length(section) > 0) {
                const config_setting_t *e = config_setting_get_elem(section, 0);
                *ret_error = policy_error(env, e,
                                          "operator: unknown key '%s' (the section takes "
                                          "no keys)",
                                          config_setting_name(e));
                return -EINVAL;
        }
        if (!env->event)
                return 0;
        o->event = sd_event_ref(env->event);
        return waiting_queue_new(&o->waiting, o->event, NULL, NULL);
}

static void operator_done(Policy *p) {
        OperatorPolicy *o = p->data;

        /* Calls still held are orphaned: each request ends them (decision, timeout, cancel). */
        o->waiting = waiting_queue_free(o->waiting);
        o->event = sd_event_unref(o->event);
}

static int operator_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                           PolicyResult *ret, PolicyCall **ret_call) {
        OperatorPolicy *o = p->data;

        if (!o->event)
                return -EOPNOTSUPP;
        if (agent_method_is_notification(q->method)) {
                *ret = (PolicyResult){ .verdict = VERDICT_PASS,
                                       .reason = "nothing for the operator to decide" };
                return 1;
        }
        *ret_call = waiting_queue_add(o->waiting, q, done, userdata);
        log_info("operator: %s from %s (request %" G_GUINT64_FORMAT
                 ") waits for a decision through the control interface",
                 agent_method_to_string(q->method), q->address ? q->address : "?", q->request_id);
        return 0;
}

static bool operator_can_allow(const config_setting_t *section, AgentMethod m) {
        return !agent_method_is_notification(m);
}

const PolicyOps operator_policy_ops = {
        .name = "operator",
        .involves_person = true,
        .size = sizeof(OperatorPolicy),
        .init = operator_init,
        .done = operator_done,
        .decide = operator_decide,
        .cancel = waiting_queue_cancel,
        .can_allow = operator_can_allow,
};
