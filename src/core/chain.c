/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include <glib.h>

#include "audit.h"
#include "chain.h"
#include "macro.h"

struct PolicySet {
        unsigned n_ref;
        GHashTable *policies; /* name -> Policy* */
};

struct ChainRun {
        PolicySet *set;
        char **route;
        const PairingQuery *query;
        guint next;       /* index of the next policy to ask */
        PolicyCall *call; /* the pending policy call, if any */
        const PolicyOps *call_ops;
        bool deciding; /* inside a policy's decide() */
        bool early;    /* ... which called done() before returning: early_res holds its answer */
        PolicyResult early_res;
        bool presented; /* a policy of the route presented the code so far */
        ChainGate gate;
        bool has_gate, gate_passed;
        chain_done_t done;
        chain_moved_t moved; /* may be NULL */
        void *userdata;
};

static void policy_destroy(void *p) {
        Policy *policy = p;

        if (policy->ops->done)
                policy->ops->done(policy);
        g_free(policy->data);
        g_free(policy);
}

PolicySet *policy_set_ref(PolicySet *s) {
        if (s)
                s->n_ref++;
        return s;
}

PolicySet *policy_set_unref(PolicySet *s) {
        if (!s || --s->n_ref > 0)
                return NULL;
        g_hash_table_unref(s->policies);
        g_free(s);
        return NULL;
}

PolicySet *policy_set_new_empty(void) {
        PolicySet *s = g_new0(PolicySet, 1);

        s->n_ref = 1;
        s->policies = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, policy_destroy);
        return s;
}

void policy_set_put(PolicySet *s, Policy *p) {
        g_hash_table_replace(s->policies, (char *) p->ops->name, p);
}

int policy_set_new(PolicySet **ret, const Config *c, const PolicyEnv *env, char **ret_error) {
        PolicySet *s = policy_set_new_empty();

        for (const char *const *n = policy_names(); *n; n++) {
                const PolicyOps *ops = policy_lookup(*n);
                Policy *p;
                int r;

                if (!config_route_uses(c, *n))
                        continue;
                p = g_new0(Policy, 1);
                p->ops = ops;
                p->data = g_malloc0(ops->size ? ops->size : 1);
                r = ops->init(p, config_policy_section(c, *n), env, ret_error);
                if (r < 0) {
                        g_free(p->data);
                        g_free(p);
                        policy_set_unref(s);
                        return r;
                }
                policy_set_put(s, p);
        }
        *ret = s;
        return 0;
}

Policy *policy_set_get(PolicySet *s, const char *name) {
        return s ? g_hash_table_lookup(s->policies, name) : NULL;
}

bool policy_set_vouches(PolicySet *s, const PairingQuery *q) {
        GHashTableIter it;
        Policy *p;

        if (!s)
                return false;
        g_hash_table_iter_init(&it, s->policies);
        while (g_hash_table_iter_next(&it, NULL, (void **) &p))
                if (p->ops->vouches && p->ops->vouches(p, q))
                        return true;
        return false;
}

static void chain_run_free(ChainRun *run) {
        if (!run)
                return;
        policy_set_unref(run->set);
        g_strfreev(run->route);
        g_free(run);
}

static void outcome_set(ChainOutcome *o, ChainResult result, const char *policy,
                        const char *reason) {
        *o = (ChainOutcome){ .result = result };
        if (policy)
                g_strlcpy(o->policy, policy, sizeof o->policy);
        if (reason)
                g_strlcpy(o->reason, reason, sizeof o->reason);
}

/* Turn a policy's answer into a final outcome, or return false to go on with the next policy. */
static bool apply_result(ChainRun *run, const char *policy, const PolicyResult *res,
                         ChainOutcome *o) {
        AgentMethod m = run->query->method;

        run->presented = run->presented || res->presented;
        if (res->verdict == VERDICT_PASS)
                return false;
        if (res->verdict == VERDICT_DENY) {
                outcome_set(o, CHAIN_DENY, policy, res->reason ? res->reason : "denied");
                return true;
        }
        /* An allow must carry what the method returns: fail closed when it does not. */
        if (m == AGENT_METHOD_REQUEST_PASSKEY && (!res->has_passkey || res->passkey > 999999)) {
                outcome_set(o, CHAIN_ERROR, policy, "allowed without a valid passkey");
                return true;
        }
        if (m == AGENT_METHOD_REQUEST_PIN_CODE) {
                size_t n = strnlen(res->pin, sizeof res->pin);
                if (n < 1 || n > 16) {
                        outcome_set(o, CHAIN_ERROR, policy, "allowed without a valid PIN");
                        return true;
                }
        }
        outcome_set(o, CHAIN_ALLOW, policy, res->reason ? res->reason : "allowed");
        o->has_passkey = res->has_passkey;
        o->passkey = res->passkey;
        memcpy(o->pin, res->pin, sizeof o->pin);
        return true;
}

static void finish_undecided(const ChainRun *run, ChainOutcome *o) {
        if (agent_method_is_notification(run->query->method))
                outcome_set(o, CHAIN_ALLOW, NULL,
                            "notification acknowledged (bluetoothd does not wait for a decision)");
        else
                outcome_set(o, CHAIN_DENY, NULL, "no policy decided");
}

static void policy_done_cb(const PolicyResult *res, void *userdata);

/* Ask policies from run->next on. Returns 1 when finished (*o filled), 0 when a policy is
 * pending. */
static int advance(ChainRun *run, ChainOutcome *o) {
        while (run->route[run->next]) {
                const char *name = run->route[run->next++];
                Policy *p = policy_set_get(run->set, name);
                PolicyResult res = { .verdict = VERDICT_PASS };
                PolicyCall *call = NULL;
                int r;

                if (!p) {
                        outcome_set(o, CHAIN_ERROR, name, "policy is not loaded");
                        return 1;
                }
                if (p->ops->involves_person && run->has_gate && !run->gate_passed) {
                        if (!run->gate.pass(run->query, run->gate.userdata)) {
                                outcome_set(o, CHAIN_DENY, NULL,
                                            run->gate.reason ? run->gate.reason : "limited");
                                o->limited = true;
                                return 1;
                        }
                        run->gate_passed = true;
                }
                run->deciding = true;
                r = p->ops->decide(p, run->query, policy_done_cb, run, &res, &call);
                run->deciding = false;
                if (run->early) {
                        /* The policy answered through done() from inside decide(): take that
                         * answer as if returned now; its call object is finished already. */
                        run->early = false;
                        res = run->early_res;
                        explicit_bzero(&run->early_res, sizeof run->early_res);
                        r = 1;
                }
                if (r < 0) {
                        char reason[128];
                        snprintf(reason, sizeof reason, "policy failed: %s", g_strerror(-r));
                        outcome_set(o, CHAIN_ERROR, name, reason);
                        return 1;
                }
                if (r == 0) {
                        run->call = call;
                        run->call_ops = p->ops;
                        return 0;
                }
                r = apply_result(run, name, &res, o);
                explicit_bzero(&res, sizeof res); /* may hold a PIN */
                if (r)
                        return 1;
        }
        finish_undecided(run, o);
        return 1;
}

static void policy_done_cb(const PolicyResult *res, void *userdata) {
        ChainRun *run = userdata;
        ChainOutcome o;

        if (run->deciding) {
                /* Called from inside decide(): advance() picks it up when decide() returns, so
                 * the run is never freed under its own feet. */
                run->early = true;
                run->early_res = *res;
                return;
        }
        run->call = NULL;
        if (!apply_result(run, run->route[run->next - 1], res, &o) && advance(run, &o) == 0) {
                if (run->moved)
                        run->moved(chain_run_holder(run), run->userdata);
                return;
        }
        o.presented = run->presented;
        run->done(&o, run->userdata);
        explicit_bzero(&o, sizeof o); /* may hold a PIN */
        chain_run_free(run);
}

int chain_run_start(ChainRun **ret, PolicySet *s, const char *const *route, const PairingQuery *q,
                    chain_done_t done, void *userdata, ChainOutcome *ret_outcome) {
        return chain_run_start_gated(ret, s, route, q, NULL, done, userdata, ret_outcome);
}

int chain_run_start_gated(ChainRun **ret, PolicySet *s, const char *const *route,
                          const PairingQuery *q, const ChainGate *gate, chain_done_t done,
                          void *userdata, ChainOutcome *ret_outcome) {
        ChainRun *run;

        *ret = NULL;
        if (!route) {
                outcome_set(ret_outcome, CHAIN_DENY, NULL, "no route for this method");
                return 1;
        }
        run = g_new0(ChainRun, 1);
        run->set = policy_set_ref(s);
        run->route = g_strdupv((char **) route);
        run->query = q;
        run->done = done;
        run->userdata = userdata;
        if (gate && gate->pass) {
                run->gate = *gate;
                run->has_gate = true;
        }
        if (advance(run, ret_outcome) > 0) {
                ret_outcome->presented = run->presented;
                chain_run_free(run);
                return 1;
        }
        *ret = run;
        return 0;
}

const char *chain_run_holder(const ChainRun *run) {
        return run && run->call && run->next > 0 ? run->route[run->next - 1] : NULL;
}

void chain_run_set_moved(ChainRun *run, chain_moved_t moved) {
        run->moved = moved;
}

int chain_run_decide(ChainRun *run, const PolicyResult *res) {
        if (!run || !run->call || run->deciding)
                return -ESRCH;
        if (res->verdict == VERDICT_PASS)
                return -EINVAL;
        /* The holder's call ends here (done() never fires after cancel()); its answer is taken
         * from res, through the same path as the policy's own answer. */
        if (run->call_ops->cancel)
                run->call_ops->cancel(run->call);
        run->call = NULL;
        policy_done_cb(res, run);
        return 0;
}

void chain_run_cancel(ChainRun *run) {
        if (!run)
                return;
        if (run->call && run->call_ops->cancel)
                run->call_ops->cancel(run->call);
        chain_run_free(run);
}

void chain_request_ended(PolicySet *s, const char *const *route, uint64_t request_id) {
        if (!route)
                return;
        for (; *route; route++) {
                Policy *p = policy_set_get(s, *route);
                if (p && p->ops->request_ended)
                        p->ops->request_ended(p, request_id);
        }
}
