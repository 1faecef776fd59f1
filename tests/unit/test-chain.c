/* SPDX-License-Identifier: MIT */
/* Chain semantics with scripted policies: ordered, first allow/deny decides, pass goes on,
 * undecided or no route rejects, async policies, cancel, fail-closed on errors. */
#include <errno.h>

#include <glib.h>

#include "chain.h"
#include "macro.h"

typedef struct Script {
        Verdict verdict;
        bool async;
        bool done_inside; /* calls done() from inside decide(), then returns 0 */
        int fail;         /* decide returns this negative errno */
        bool has_passkey;
        uint32_t passkey;
        const char *pin;
        int n_decide, n_cancel, n_ended;
        policy_done_t done; /* pending async call */
        void *done_userdata;
        struct PolicyCall *call;
} Script;

struct PolicyCall {
        Script *script;
};

static void fill(const Script *s, PolicyResult *ret) {
        *ret = (PolicyResult){ .verdict = s->verdict,
                               .reason = "scripted",
                               .has_passkey = s->has_passkey,
                               .passkey = s->passkey };
        if (s->pin)
                g_strlcpy(ret->pin, s->pin, sizeof ret->pin);
}

static int script_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                         PolicyResult *ret, PolicyCall **ret_call) {
        Script *s = p->data;
        PolicyCall *call;

        s->n_decide++;
        if (s->fail)
                return s->fail;
        if (s->done_inside) {
                PolicyResult res;

                fill(s, &res);
                done(&res, userdata); /* a careless policy: answers before returning */
                return 0;
        }
        if (!s->async) {
                fill(s, ret);
                return 1;
        }
        s->done = done;
        s->done_userdata = userdata;
        call = g_new0(PolicyCall, 1);
        call->script = s;
        s->call = call;
        *ret_call = call;
        return 0;
}

static void script_cancel(PolicyCall *call) {
        call->script->n_cancel++;
        call->script->done = NULL;
        call->script->call = NULL;
        g_free(call);
}

static void script_ended(Policy *p, uint64_t id) {
        ((Script *) p->data)->n_ended++;
}

/* Fire the pending async decision of s; like a real policy, free the call after done(). */
static void script_fire(Script *s) {
        PolicyResult res;
        policy_done_t done = s->done;
        PolicyCall *call = s->call;

        g_assert_nonnull(done);
        s->done = NULL;
        s->call = NULL;
        fill(s, &res);
        done(&res, s->done_userdata);
        g_free(call);
}

static const PolicyOps ops_a = {
        .name = "a", .decide = script_decide, .cancel = script_cancel, .request_ended = script_ended
};
static const PolicyOps ops_b = {
        .name = "b", .decide = script_decide, .cancel = script_cancel, .request_ended = script_ended
};
static const PolicyOps ops_c = {
        .name = "c", .decide = script_decide, .cancel = script_cancel, .request_ended = script_ended
};

typedef struct Fixture {
        PolicySet *set;
        Script *a, *b, *c; /* owned by the set */
        PairingQuery q;
        ChainOutcome got;
        int n_done;
        char moved[4][8]; /* the holders chain_moved_t named, in order */
        int n_moved;
} Fixture;

static Script *add(PolicySet *set, const PolicyOps *ops) {
        Policy *p = g_new0(Policy, 1);
        p->ops = ops;
        p->data = g_new0(Script, 1);
        policy_set_put(set, p);
        return p->data;
}

static void setup(Fixture *f, gconstpointer data) {
        f->set = policy_set_new_empty();
        f->a = add(f->set, &ops_a);
        f->b = add(f->set, &ops_b);
        f->c = add(f->set, &ops_c);
        f->q = (PairingQuery){ .method = AGENT_METHOD_REQUEST_CONFIRMATION,
                               .address = "AA:BB:CC:DD:EE:FF" };
}

static void teardown(Fixture *f, gconstpointer data) {
        policy_set_unref(f->set);
}

static void on_done(const ChainOutcome *o, void *userdata) {
        Fixture *f = userdata;
        f->got = *o;
        f->n_done++;
}

static int run(Fixture *f, const char *const *route, ChainRun **ret_run) {
        ChainRun *run = NULL;
        int r = chain_run_start(&run, f->set, route, &f->q, on_done, f, &f->got);
        if (ret_run)
                *ret_run = run;
        return r;
}

static void test_first_decides(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", "c", NULL };

        f->a->verdict = VERDICT_PASS;
        f->b->verdict = VERDICT_ALLOW;
        f->c->verdict = VERDICT_DENY;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(f->got.policy, ==, "b");
        g_assert_cmpint(f->a->n_decide, ==, 1);
        g_assert_cmpint(f->b->n_decide, ==, 1);
        g_assert_cmpint(f->c->n_decide, ==, 0); /* never asked after a decision */

        f->b->verdict = VERDICT_DENY;
        f->c->verdict = VERDICT_ALLOW;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpstr(f->got.policy, ==, "b");
        g_assert_cmpint(f->n_done, ==, 0); /* synchronous results never call done */
}

static void test_undecided_and_no_route(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", NULL };
        const char *const empty[] = { NULL };

        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpstr(f->got.policy, ==, "");
        g_assert_cmpstr(f->got.reason, ==, "no policy decided");

        g_assert_cmpint(run(f, empty, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);

        g_assert_cmpint(run(f, NULL, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpstr(f->got.reason, ==, "no route for this method");
        g_assert_cmpint(f->a->n_decide, ==, 1);
}

static void test_notifications(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", NULL };

        f->q.method = AGENT_METHOD_DISPLAY_PASSKEY;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW); /* acknowledged: nobody refused */
        f->a->verdict = VERDICT_DENY;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpint(run(f, NULL, NULL), ==, 1); /* no route: refused all the same */
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
}

static void test_async(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", "c", NULL };
        ChainRun *r = NULL;

        f->a->async = true; /* passes, later */
        f->b->async = true;
        f->b->verdict = VERDICT_ALLOW;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        g_assert_nonnull(r);
        g_assert_cmpint(f->b->n_decide, ==, 0);
        script_fire(f->a);
        g_assert_cmpint(f->n_done, ==, 0);
        g_assert_cmpint(f->b->n_decide, ==, 1);
        script_fire(f->b);
        g_assert_cmpint(f->n_done, ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(f->got.policy, ==, "b");
        g_assert_cmpint(f->c->n_decide, ==, 0);
}

static void test_cancel(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", NULL };
        ChainRun *r = NULL;

        f->a->async = true;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        chain_run_cancel(r);
        g_assert_cmpint(f->a->n_cancel, ==, 1);
        g_assert_null(f->a->done); /* done can no longer fire */
        g_assert_cmpint(f->n_done, ==, 0);
        g_assert_cmpint(f->b->n_decide, ==, 0);
        chain_run_cancel(NULL);
}

static void test_errors_fail_closed(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", NULL };
        const char *const missing[] = { "nope", "b", NULL };

        f->a->fail = -EIO;
        f->b->verdict = VERDICT_ALLOW;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ERROR);
        g_assert_cmpstr(f->got.policy, ==, "a");
        g_assert_cmpint(f->b->n_decide, ==, 0);

        g_assert_cmpint(run(f, missing, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ERROR);

        /* An allow for RequestPasskey without a passkey, or with one out of range, is an error. */
        f->a->fail = 0;
        f->a->verdict = VERDICT_ALLOW;
        f->q.method = AGENT_METHOD_REQUEST_PASSKEY;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ERROR);
        f->a->has_passkey = true;
        f->a->passkey = 1000000;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ERROR);
        f->a->passkey = 999999;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpuint(f->got.passkey, ==, 999999);

        f->q.method = AGENT_METHOD_REQUEST_PIN_CODE;
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ERROR); /* no PIN */
        f->a->pin = "482913";
        g_assert_cmpint(run(f, route, NULL), ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(f->got.pin, ==, "482913");
}

/* A policy that calls done() from inside decide() is taken as a synchronous answer: the run is
 * not freed under the chain's feet (ASan would report it) and done is not called twice. */
static void test_done_inside_decide(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", NULL };
        ChainRun *r = NULL;

        f->a->done_inside = true; /* passes */
        f->b->done_inside = true;
        f->b->verdict = VERDICT_DENY;
        g_assert_cmpint(run(f, route, &r), ==, 1);
        g_assert_null(r);
        g_assert_cmpint(f->n_done, ==, 0);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpstr(f->got.policy, ==, "b");

        /* ... also when a later policy is really asynchronous. */
        f->b->done_inside = false;
        f->b->async = true;
        f->b->verdict = VERDICT_ALLOW;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        script_fire(f->b);
        g_assert_cmpint(f->n_done, ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
}

static void test_request_ended(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "c", NULL };

        chain_request_ended(f->set, route, 7);
        g_assert_cmpint(f->a->n_ended, ==, 1);
        g_assert_cmpint(f->b->n_ended, ==, 0);
        g_assert_cmpint(f->c->n_ended, ==, 1);
        chain_request_ended(f->set, NULL, 7);
}

/* The control interface decides the pending step for its holder: the holder's call is cancelled
 * (done never fires), the answer is applied as the holder's own (policy name, passkey rules),
 * and the rest of the route is not asked. */
static void test_decide_for_holder(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", "c", NULL };
        PolicyResult allow = { .verdict = VERDICT_ALLOW, .reason = "by hand" };
        PolicyResult pass = { .verdict = VERDICT_PASS };
        PolicyResult deny = { .verdict = VERDICT_DENY };
        ChainRun *r = NULL;

        f->a->async = true; /* passes, later */
        f->b->async = true;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        g_assert_cmpstr(chain_run_holder(r), ==, "a");
        script_fire(f->a);
        g_assert_cmpstr(chain_run_holder(r), ==, "b");
        g_assert_cmpint(chain_run_decide(r, &pass), ==, -EINVAL);
        g_assert_cmpint(chain_run_decide(r, &allow), ==, 0); /* r is freed now */
        g_assert_cmpint(f->b->n_cancel, ==, 1);
        g_assert_null(f->b->done);
        g_assert_cmpint(f->n_done, ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(f->got.policy, ==, "b");
        g_assert_cmpstr(f->got.reason, ==, "by hand");
        g_assert_cmpint(f->c->n_decide, ==, 0);
        g_assert_null(chain_run_holder(NULL));
        g_assert_cmpint(chain_run_decide(NULL, &allow), ==, -ESRCH);

        /* RequestPasskey: an allow without a passkey fails closed, one with it is returned. */
        f->q.method = AGENT_METHOD_REQUEST_PASSKEY;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        script_fire(f->a);
        g_assert_cmpint(chain_run_decide(r, &allow), ==, 0);
        g_assert_cmpint(f->got.result, ==, CHAIN_ERROR);
        g_assert_cmpstr(f->got.policy, ==, "b");
        g_assert_cmpint(run(f, route, &r), ==, 0);
        allow.has_passkey = true;
        allow.passkey = 1234;
        g_assert_cmpint(chain_run_decide(r, &allow), ==, 0);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(f->got.policy, ==, "a");
        g_assert_true(f->got.has_passkey);
        g_assert_cmpuint(f->got.passkey, ==, 1234);
        /* A deny names the holder as the denier. */
        g_assert_cmpint(run(f, route, &r), ==, 0);
        g_assert_cmpint(chain_run_decide(r, &deny), ==, 0);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpstr(f->got.policy, ==, "a");
        g_assert_cmpint(f->n_done, ==, 4);
}

static void on_moved(const char *holder, void *userdata) {
        Fixture *f = userdata;

        g_assert_nonnull(holder);
        g_assert_cmpint(f->n_done, ==, 0); /* never once the run is done */
        if (f->n_moved < 4)
                g_strlcpy(f->moved[f->n_moved], holder, sizeof f->moved[0]);
        f->n_moved++;
}

/* A request passing from one holding policy to the next is told (RequestChanged): not at the
 * start, not for a policy that passes at once, not when the run ends. */
static void test_moved(Fixture *f, gconstpointer data) {
        const char *const route[] = { "a", "b", "c", NULL };
        ChainRun *r = NULL;

        f->a->async = true; /* passes, later */
        f->c->async = true;
        f->c->verdict = VERDICT_ALLOW;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        chain_run_set_moved(r, on_moved);
        g_assert_cmpint(f->n_moved, ==, 0);
        script_fire(f->a); /* b passes at once, c holds */
        g_assert_cmpint(f->n_moved, ==, 1);
        g_assert_cmpstr(f->moved[0], ==, "c");
        g_assert_cmpstr(chain_run_holder(r), ==, "c");
        script_fire(f->c);
        g_assert_cmpint(f->n_done, ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpint(f->n_moved, ==, 1);

        /* The holder decides: no move. */
        f->a->verdict = VERDICT_DENY;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        chain_run_set_moved(r, on_moved);
        f->n_done = 0;
        script_fire(f->a);
        g_assert_cmpint(f->n_done, ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_DENY);
        g_assert_cmpint(f->n_moved, ==, 1);

        /* The holder passes and nothing later holds: the run ends, no move. */
        f->a->verdict = VERDICT_PASS;
        f->c->async = false;
        g_assert_cmpint(run(f, route, &r), ==, 0);
        chain_run_set_moved(r, on_moved);
        f->n_done = 0;
        script_fire(f->a);
        g_assert_cmpint(f->n_done, ==, 1);
        g_assert_cmpint(f->got.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(f->got.policy, ==, "c");
        g_assert_cmpint(f->n_moved, ==, 1);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/chain/first-decides", test_first_decides);
        ADD("/chain/undecided-and-no-route", test_undecided_and_no_route);
        ADD("/chain/notifications", test_notifications);
        ADD("/chain/async", test_async);
        ADD("/chain/cancel", test_cancel);
        ADD("/chain/errors-fail-closed", test_errors_fail_closed);
        ADD("/chain/done-inside-decide", test_done_inside_decide);
        ADD("/chain/request-ended", test_request_ended);
        ADD("/chain/decide-for-holder", test_decide_for_holder);
        ADD("/chain/moved", test_moved);
        return g_test_run();
}
