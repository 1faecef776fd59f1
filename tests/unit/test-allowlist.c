/* SPDX-License-Identifier: MIT */
#include <glib.h>

#include "chain.h"
#include "config.h"
#include "macro.h"

static ChainResult decide_paired(PolicySet *set, const Config *c, AgentMethod m,
                                 const char *address, bool paired) {
        PairingQuery q = { .method = m, .address = address, .paired = paired };
        ChainOutcome o;
        ChainRun *run = NULL;

        g_assert_cmpint(chain_run_start(&run, set, config_route(c, m), &q, NULL, NULL, &o), ==, 1);
        return o.result;
}

static ChainResult decide(PolicySet *set, const Config *c, AgentMethod m, const char *address) {
        return decide_paired(set, c, m, address, false);
}

static PolicySet *load(const char *text, Config **ret) {
        PolicySet *set = NULL;
        char *error = NULL;
        const PolicyEnv env = { 0 };

        if (config_load_string(text, "t.conf", ret, &error) < 0)
                g_error("%s", error);
        g_assert_cmpint(policy_set_new(&set, *ret, &env, &error), ==, 0);
        return set;
}

/* An address proves nothing: a bonded device's pairing is never approved by address alone. */
static void test_repairing(void) {
        static const char routes[] = "routes = { RequestConfirmation = [ \"allowlist\" ];\n"
                                     "  RequestAuthorization = [ \"allowlist\" ];\n"
                                     "  AuthorizeService = [ \"allowlist\" ]; };\n";
        g_autofree char *safe = g_strconcat(
                routes, "allowlist = { devices = [ \"AA:BB:CC:DD:EE:FF\" ]; };\n", NULL);
        g_autofree char *unsafe = g_strconcat(routes,
                                              "allowlist = { devices = [ \"AA:BB:CC:DD:EE:FF\" ];\n"
                                              "  unsafe_approve_repairing = true; };\n",
                                              NULL);
        Config *c = NULL, *u = NULL;
        PolicySet *set = load(safe, &c), *uset = load(unsafe, &u);

        g_assert_cmpint(
                decide_paired(set, c, AGENT_METHOD_REQUEST_CONFIRMATION, "AA:BB:CC:DD:EE:FF", true),
                ==, CHAIN_DENY);
        g_assert_cmpint(decide_paired(set, c, AGENT_METHOD_REQUEST_AUTHORIZATION,
                                      "AA:BB:CC:DD:EE:FF", true),
                        ==, CHAIN_DENY);
        /* not a pairing: a bonded device's profile connection is still allowed */
        g_assert_cmpint(
                decide_paired(set, c, AGENT_METHOD_AUTHORIZE_SERVICE, "AA:BB:CC:DD:EE:FF", true),
                ==, CHAIN_ALLOW);
        g_assert_cmpint(decide_paired(uset, u, AGENT_METHOD_REQUEST_CONFIRMATION,
                                      "AA:BB:CC:DD:EE:FF", true),
                        ==, CHAIN_ALLOW);
        policy_set_unref(set);
        policy_set_unref(uset);
        config_free(c);
        config_free(u);
}

static void test_matching(void) {
        Config *c = NULL;
        PolicySet *set = NULL;
        char *error = NULL;
        const PolicyEnv env = { 0 };

        g_assert_cmpint(config_load_string("routes = { RequestConfirmation = [ \"allowlist\" ];\n"
                                           "           RequestAuthorization = [ \"allowlist\" ];\n"
                                           "           AuthorizeService = [ \"allowlist\" ];\n"
                                           "           RequestPasskey = [ \"allowlist\" ]; };\n"
                                           "allowlist = { devices = [ \"aa:bb:cc:dd:ee:ff\", "
                                           "\"00:11:22:33:44:55\" ]; };\n",
                                           "t.conf", &c, &error),
                        ==, 0);
        g_assert_cmpint(policy_set_new(&set, c, &env, &error), ==, 0);

        for (AgentMethod m = AGENT_METHOD_REQUEST_CONFIRMATION; m <= AGENT_METHOD_AUTHORIZE_SERVICE;
             m++) {
                g_assert_cmpint(decide(set, c, m, "AA:BB:CC:DD:EE:FF"), ==, CHAIN_ALLOW);
                g_assert_cmpint(decide(set, c, m, "aa:bb:cc:dd:ee:ff"), ==, CHAIN_ALLOW);
                g_assert_cmpint(decide(set, c, m, "00:11:22:33:44:55"), ==, CHAIN_ALLOW);
                g_assert_cmpint(decide(set, c, m, "AA:BB:CC:DD:EE:FE"), ==, CHAIN_DENY);
                g_assert_cmpint(decide(set, c, m, "garbage"), ==, CHAIN_DENY);
                g_assert_cmpint(decide(set, c, m, NULL), ==, CHAIN_DENY);
        }
        /* It cannot invent a passkey: an allowlisted device still gets no passkey from it. */
        g_assert_cmpint(decide(set, c, AGENT_METHOD_REQUEST_PASSKEY, "AA:BB:CC:DD:EE:FF"), ==,
                        CHAIN_DENY);
        /* A method without a route is refused even for an allowlisted device. */
        g_assert_cmpint(decide(set, c, AGENT_METHOD_REQUEST_PIN_CODE, "AA:BB:CC:DD:EE:FF"), ==,
                        CHAIN_DENY);
        policy_set_unref(set);
        config_free(c);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/allowlist/matching", test_matching);
        g_test_add_func("/allowlist/repairing", test_repairing);
        return g_test_run();
}
