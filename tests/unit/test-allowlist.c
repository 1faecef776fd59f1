/* SPDX-License-Identifier: MIT */
#include <glib.h>

#include "chain.h"
#include "config.h"
#include "macro.h"

static ChainResult decide(PolicySet *set, const Config *c, AgentMethod m, const char *address) {
        PairingQuery q = { .method = m, .address = address };
        ChainOutcome o;
        ChainRun *run = NULL;

        g_assert_cmpint(chain_run_start(&run, set, config_route(c, m), &q, NULL, NULL, &o), ==, 1);
        return o.result;
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
        return g_test_run();
}
