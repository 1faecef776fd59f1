/* SPDX-License-Identifier: MIT */
/* test: a scripted policy, built only with -DPAIRGATE_TEST_POLICIES=ON (never installed).
 *   test = { verdict = "allow" | "deny" | "pass" | "hold"; delay_ms = 0; passkey = 123456;
 *            pin = "0000"; };
 * "hold" never decides: the request waits for Cancel, timeout or shutdown. With delay_ms > 0 the
 * verdict is given asynchronously from an sd-event timer. */
#include <errno.h>
#include <time.h>

#include <glib.h>

#include "macro.h"
#include "policy.h"

typedef enum TestVerdict { TEST_ALLOW, TEST_DENY, TEST_PASS, TEST_HOLD } TestVerdict;

typedef struct TestPolicy {
        sd_event *event;
        TestVerdict verdict;
        int delay_ms;
        uint32_t passkey;
        char pin[17];
} TestPolicy;

struct PolicyCall {
        TestPolicy *policy;
        sd_event_source *timer;
        AgentMethod method;
        policy_done_t done;
        void *userdata;
};

static int test_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                     char **ret_error) {
        TestPolicy *t = p->data;
        const char *v = "pass", *pin = "0000";
        int delay = 0, passkey = 123456;

        if (section) {
                (void) config_setting_lookup_string(section, "verdict", &v);
                (void) config_setting_lookup_int(section, "delay_ms", &delay);
                (void) config_setting_lookup_int(section, "passkey", &passkey);
                (void) config_setting_lookup_string(section, "pin", &pin);
        }
        if (streq(v, "allow"))
                t->verdict = TEST_ALLOW;
        else if (streq(v, "deny"))
                t->verdict = TEST_DENY;
        else if (streq(v, "pass"))
                t->verdict = TEST_PASS;
        else if (streq(v, "hold"))
                t->verdict = TEST_HOLD;
        else {
                *ret_error = policy_error(env, section, "test.verdict: unknown verdict '%s'", v);
                return -EINVAL;
        }
        if (delay < 0 || passkey < 0 || passkey > 999999 || strlen(pin) > 16) {
                *ret_error = policy_error(env, section, "test: bad delay_ms, passkey or pin");
                return -EINVAL;
        }
        t->event = env->event ? sd_event_ref(env->event) : NULL;
        t->delay_ms = delay;
        t->passkey = (uint32_t) passkey;
        g_strlcpy(t->pin, pin, sizeof t->pin);
        return 0;
}

static void test_done(Policy *p) {
        TestPolicy *t = p->data;

        sd_event_unref(t->event);
}

static void fill(const TestPolicy *t, AgentMethod m, PolicyResult *ret) {
        *ret = (PolicyResult){ .reason = "test policy" };
        switch (t->verdict) {
        case TEST_ALLOW:
                ret->verdict = VERDICT_ALLOW;
                break;
        case TEST_DENY:
                ret->verdict = VERDICT_DENY;
                break;
        default:
                ret->verdict = VERDICT_PASS;
        }
        if (m == AGENT_METHOD_REQUEST_PASSKEY) {
                ret->has_passkey = true;
                ret->passkey = t->passkey;
        }
        if (m == AGENT_METHOD_REQUEST_PIN_CODE)
                memcpy(ret->pin, t->pin, sizeof ret->pin);
}

static void call_free(PolicyCall *c) {
        sd_event_source_disable_unref(c->timer);
        g_free(c);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        PolicyCall *c = userdata;
        PolicyResult res;

        fill(c->policy, c->method, &res);
        c->done(&res, c->userdata);
        call_free(c);
        return 0;
}

static int test_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                       PolicyResult *ret, PolicyCall **ret_call) {
        TestPolicy *t = p->data;
        PolicyCall *c;
        int r;

        if (t->verdict != TEST_HOLD && t->delay_ms == 0) {
                fill(t, q->method, ret);
                return 1;
        }
        c = g_new0(PolicyCall, 1);
        *c = (PolicyCall){ .policy = t, .method = q->method, .done = done, .userdata = userdata };
        if (t->verdict != TEST_HOLD) {
                r = sd_event_add_time_relative(t->event, &c->timer, CLOCK_MONOTONIC,
                                               (uint64_t) t->delay_ms * 1000, 0, on_timer, c);
                if (r < 0) {
                        g_free(c);
                        return r;
                }
        }
        *ret_call = c;
        return 0;
}

static void test_cancel(PolicyCall *c) {
        call_free(c);
}

static bool test_can_allow(const config_setting_t *section, AgentMethod m) {
        return true; /* scripted: whatever the test says */
}

const PolicyOps test_policy_ops = {
        .name = "test",
        .can_allow = test_can_allow,
        .size = sizeof(TestPolicy),
        .init = test_init,
        .done = test_done,
        .decide = test_decide,
        .cancel = test_cancel,
};
