/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "macro.h"
#include "request.h"
#include "time-util.h"

struct Request {
        uint64_t id;
        sd_event *event;
        sd_bus_message *message; /* NULL once answered */
        PairingQuery query;      /* strings below are owned */
        char *device, *adapter, *address, *address_type, *name, *pincode, *uuid, *model;
        PolicySet *policies;
        char **route;
        bool has_route;
        sd_event_source *timer;
        ChainRun *run;
        ChainGate gate;
        bool has_gate;
        bool limited; /* refused by the gate */
        request_reply_t reply;
        request_finished_t finished;
        request_moved_t moved;
        void *userdata;
        bool done;
        bool presented;                 /* the route presented the code */
        RequestResult result;           /* once done */
        char policy[32];                /* once done: the deciding policy, "" when none */
        char reason[160];               /* once done */
        uint64_t arrived_realtime_usec; /* CLOCK_REALTIME when it arrived */
        uint64_t timeout_usec;
        bool has_control_uid; /* decided through the control interface by this uid */
        uint32_t control_uid;
};

static AuditEvent event_for(RequestResult r) {
        switch (r) {
        case REQUEST_ALLOW:
                return AUDIT_DECISION_ALLOW;
        case REQUEST_DENY:
                return AUDIT_DECISION_DENY;
        case REQUEST_TIMEOUT:
                return AUDIT_DECISION_TIMEOUT;
        case REQUEST_CANCELED:
                return AUDIT_DECISION_CANCELED;
        default:
                return AUDIT_DECISION_ERROR;
        }
}

const char *request_result_to_string(RequestResult r) {
        return audit_event_decision(event_for(r));
}

void request_audit_decision(const PairingQuery *q, const RequestOutcome *o) {
        AuditRecord rec = AUDIT_RECORD_INIT(event_for(o->result));

        policy_audit_query(&rec, q);
        rec.model = q->model ? q->model : "unknown";
        rec.uuid = q->uuid;
        rec.policy = o->policy;
        rec.reason = o->reason;
        rec.latency_ms = (int64_t) ((now_usec() - q->arrived_usec) / 1000);
        rec.has_control_uid = o->has_control_uid;
        rec.control_uid = o->control_uid;
        /* Passkeys are shown to the user anyway; PINs are never written. */
        if (q->method == AGENT_METHOD_REQUEST_CONFIRMATION ||
            q->method == AGENT_METHOD_DISPLAY_PASSKEY) {
                rec.has_passkey = true;
                rec.passkey = q->passkey;
        } else if (q->method == AGENT_METHOD_REQUEST_PASSKEY && o->has_passkey) {
                rec.has_passkey = true;
                rec.passkey = o->passkey;
        }
        if (!q->known && !rec.address_type)
                rec.address_type = "unknown";
        /* Refusing a notification changes nothing: the decision stays "deny" (what pairgate
         * decided), the effect says what bluetoothd does with it. */
        if (agent_method_is_notification(q->method) &&
            (o->result == REQUEST_DENY || o->result == REQUEST_ERROR ||
             o->result == REQUEST_TIMEOUT))
                rec.effect = AUDIT_EFFECT_IGNORED_BY_BLUETOOTHD;
        audit_emit(&rec);
}

/* The one exit of every request: answer (once), audit (once), tell the owner. */
static void finish(Request *r, const RequestOutcome *o) {
        if (r->done)
                return;
        r->done = true;
        r->result = o->result;
        g_strlcpy(r->policy, o->policy ? o->policy : "", sizeof r->policy);
        g_strlcpy(r->reason, o->reason ? o->reason : "", sizeof r->reason);
        r->timer = sd_event_source_disable_unref(r->timer);
        if (r->run) {
                chain_run_cancel(r->run);
                r->run = NULL;
        }
        if (r->message) {
                sd_bus_message *m = TAKE_PTR(r->message);
                r->reply(m, o);
                sd_bus_message_unref(m);
        }
        if (!o->summarised)
                request_audit_decision(&r->query, o);
        chain_request_ended(r->policies, (const char *const *) r->route, r->id);
        if (r->finished)
                r->finished(r, r->userdata);
}

static void finish_chain(Request *r, const ChainOutcome *c) {
        RequestOutcome o = {
                .method = r->query.method,
                .policy = c->policy[0] ? c->policy : NULL,
                .reason = c->reason,
                .has_passkey = c->has_passkey,
                .passkey = c->passkey,
                .has_control_uid = r->has_control_uid,
                .control_uid = r->control_uid,
        };

        r->presented = c->presented;
        r->limited = c->limited;
        o.summarised = c->limited;
        switch (c->result) {
        case CHAIN_ALLOW:
                o.result = REQUEST_ALLOW;
                o.pin = c->pin;
                break;
        case CHAIN_DENY:
                o.result = REQUEST_DENY;
                break;
        default:
                o.result = REQUEST_ERROR;
        }
        finish(r, &o);
}

static void on_chain_done(const ChainOutcome *c, void *userdata) {
        Request *r = userdata;

        r->run = NULL; /* the run frees itself after calling us */
        finish_chain(r, c);
}

static void on_chain_moved(const char *holder, void *userdata) {
        Request *r = userdata;

        if (r->moved)
                r->moved(r, r->userdata);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Request *r = userdata;
        RequestOutcome o = { .result = REQUEST_TIMEOUT,
                             .method = r->query.method,
                             .reason = "no decision before request_timeout" };

        finish(r, &o);
        return 0;
}

int request_new(Request **ret, const RequestParams *p) {
        Request *r = g_new0(Request, 1);
        const PairingQuery *q = p->query;
        int k;

        r->id = p->id;
        r->event = sd_event_ref(p->event);
        r->message = sd_bus_message_ref(p->message);
        r->query = *q;
        r->query.device = r->device = g_strdup(q->device);
        r->query.adapter = r->adapter = g_strdup(q->adapter);
        r->query.address = r->address = g_strdup(q->address);
        r->query.address_type = r->address_type = g_strdup(q->address_type);
        r->query.name = r->name = g_strdup(q->name);
        r->query.pincode = r->pincode = g_strdup(q->pincode);
        r->query.uuid = r->uuid = g_strdup(q->uuid);
        r->query.model = r->model = g_strdup(q->model ? q->model : "unknown");
        r->query.request_id = p->id;
        if (!r->query.arrived_usec)
                r->query.arrived_usec = now_usec();
        r->policies = policy_set_ref(p->policies);
        r->route = p->route ? g_strdupv((char **) p->route) : NULL;
        if (p->gate) {
                r->gate = *p->gate;
                r->has_gate = true;
        }
        r->reply = p->reply;
        r->finished = p->finished;
        r->moved = p->moved;
        r->userdata = p->userdata;

        r->arrived_realtime_usec = realtime_usec();
        r->timeout_usec = p->timeout_usec;
        k = sd_event_add_time_relative(p->event, &r->timer, CLOCK_MONOTONIC, p->timeout_usec, 0,
                                       on_timeout, r);
        if (k < 0) {
                /* Still answer exactly once: the caller frees, which answers Canceled. */
                r->finished = NULL;
                request_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

void request_start(Request *r) {
        ChainOutcome c;
        ChainRun *run = NULL;
        int k;

        k = chain_run_start_gated(&run, r->policies, (const char *const *) r->route, &r->query,
                                  r->has_gate ? &r->gate : NULL, on_chain_done, r, &c);
        if (k < 0) {
                RequestOutcome o = { .result = REQUEST_ERROR,
                                     .method = r->query.method,
                                     .reason = "cannot run the policy chain" };
                finish(r, &o);
        } else if (k > 0) {
                finish_chain(r, &c);
                explicit_bzero(&c, sizeof c); /* may hold a PIN */
        } else {
                r->run = run;
                chain_run_set_moved(run, on_chain_moved);
        }
}

int request_decide(Request *r, const PolicyResult *res, uint32_t control_uid) {
        int k;

        if (r->done || !chain_run_holder(r->run))
                return -ESRCH;
        r->has_control_uid = true;
        r->control_uid = control_uid;
        k = chain_run_decide(r->run, res);
        if (k < 0)
                r->has_control_uid = false;
        return k;
}

const char *request_holder(const Request *r) {
        return r->done ? NULL : chain_run_holder(r->run);
}

uint64_t request_arrived_realtime(const Request *r) {
        return r->arrived_realtime_usec;
}

uint64_t request_timeout_realtime(const Request *r) {
        return r->arrived_realtime_usec + r->timeout_usec;
}

const char *request_reason(const Request *r) {
        return r->reason;
}

void request_cancel(Request *r, const char *reason) {
        RequestOutcome o = { .result = REQUEST_CANCELED,
                             .method = r->query.method,
                             .reason = reason };

        finish(r, &o);
}

Request *request_free(Request *r) {
        if (!r)
                return NULL;
        if (!r->done) {
                /* Safety net: nothing may leave bluetoothd waiting. */
                r->finished = NULL;
                request_cancel(r, "request freed");
        }
        sd_event_source_disable_unref(r->timer);
        sd_bus_message_unref(r->message);
        sd_event_unref(r->event);
        policy_set_unref(r->policies);
        g_strfreev(r->route);
        g_free(r->device);
        g_free(r->adapter);
        g_free(r->address);
        g_free(r->address_type);
        g_free(r->name);
        if (r->pincode)
                explicit_bzero(r->pincode, strlen(r->pincode));
        g_free(r->pincode);
        g_free(r->uuid);
        g_free(r->model);
        g_free(r);
        return NULL;
}

uint64_t request_id(const Request *r) {
        return r->id;
}

const PairingQuery *request_query(const Request *r) {
        return &r->query;
}

RequestResult request_result(const Request *r) {
        return r->result;
}

bool request_presented(const Request *r) {
        return r->presented;
}

const char *request_policy(const Request *r) {
        return r->policy[0] ? r->policy : NULL;
}

bool request_limited(const Request *r) {
        return r->limited;
}
