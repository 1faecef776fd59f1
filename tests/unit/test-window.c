/* SPDX-License-Identifier: MIT */
/* The window = { ... } section and the "window" policy against a PairingWindow without a bus:
 * closed refuses at once, open passes, the window closes by itself. */
#include <glib.h>
#include <systemd/sd-event.h>

#include "chain.h"
#include "config.h"
#include "macro.h"
#include "pairing-window.h"
#include "time-util.h"
#include "window.h"

static void load_fails(const char *text, const char *needle) {
        g_autofree char *error = NULL;
        Config *c = NULL;

        g_assert_cmpint(config_load_string(text, "t.conf", &c, &error), <, 0);
        if (!strstr(error, needle))
                g_error("expected '%s' in '%s'", needle, error);
}

static void test_section(void) {
        g_autofree char *error = NULL;
        WindowSettings s;
        Config *c = NULL;
        const PolicyEnv env = { .config_path = "t.conf" };

        load_fails("routes = { RequestConfirmation = [ \"window\" ]; };\n",
                   "policy 'window' needs a 'window = { ... };' section");
        load_fails("window = { duration = 0; };\n",
                   "t.conf:1: window.duration = 0 is out of range");
        load_fails("window = { pairings = 101; };\n", "window.pairings = 101 is out of range");
        load_fails("window = { at_start = \"now\"; };\n", "window.at_start must be an integer");
        load_fails("window = { adapter = \"hci0\"; };\n", "'hci0' is not an adapter object path");
        load_fails("window = {\n  opened = true;\n};\n", "t.conf:2: window: unknown key 'opened'");
        load_fails("window = { pairable_when_closed = 1; };\n",
                   "window.pairable_when_closed must be true or false");

        g_assert_cmpint(config_load_string("window = { duration = 60; pairings = 2; at_start = 5;\n"
                                           "  adapter = \"/org/bluez/hci1\"; };\n",
                                           "t.conf", &c, &error),
                        ==, 0);
        g_assert_cmpint(window_settings_parse(&s, config_policy_section(c, "window"), &env, &error),
                        ==, 0);
        g_assert_cmpuint(s.duration_sec, ==, 60);
        g_assert_cmpuint(s.pairings, ==, 2);
        g_assert_cmpuint(s.at_start_sec, ==, 5);
        g_assert_cmpstr(s.adapter, ==, "/org/bluez/hci1");
        g_assert_false(s.pairable_when_closed);
        g_assert_true(window_settings_config(&s).hold_closed);
        window_settings_clear(&s);
        config_free(c);
}

static ChainOutcome decide(PolicySet *set, const Config *c) {
        PairingQuery q = { .method = AGENT_METHOD_REQUEST_CONFIRMATION,
                           .address = "11:22:33:44:55:66",
                           .device = "/org/bluez/hci0/dev_11_22_33_44_55_66" };
        ChainOutcome o;
        ChainRun *run = NULL;

        g_assert_cmpint(chain_run_start(&run, set, config_route(c, q.method), &q, NULL, NULL, &o),
                        ==, 1);
        return o;
}

static void test_policy(void) {
        g_autofree char *error = NULL;
        sd_event *e = NULL;
        Config *c = NULL;
        PolicySet *set = NULL;
        PairingWindow *w = NULL;
        const PairingWindowConfig wc = { .adapter = "/org/bluez/hci0",
                                         .duration_sec = 1,
                                         .pairings = 1,
                                         .policy = "window",
                                         .hold_closed = true };
        ChainOutcome o;
        uint64_t until;

        g_assert_cmpint(sd_event_new(&e), >=, 0);
        g_assert_cmpint(config_load_string("routes = { RequestConfirmation = [ \"window\" ]; };\n"
                                           "window = { duration = 1; };\n",
                                           "t.conf", &c, &error),
                        ==, 0);
        g_assert_cmpint(pairing_window_new(&w, e, NULL, NULL, NULL, &wc), ==, 0);
        {
                const PolicyEnv env = { .event = e, .window = w, .config_path = "t.conf" };
                g_assert_cmpint(policy_set_new(&set, c, &env, &error), ==, 0);
        }
        /* closed: refused by the window itself, at once */
        o = decide(set, c);
        g_assert_cmpint(o.result, ==, CHAIN_DENY);
        g_assert_cmpstr(o.policy, ==, "window");
        g_assert_cmpstr(o.reason, ==, "pairing window closed");
        /* open: passes (here nobody else decides) */
        pairing_window_open(w, 0, "test");
        g_assert_true(pairing_window_is_open(w));
        g_assert_cmpuint(pairing_window_remaining(w), ==, 1);
        o = decide(set, c);
        g_assert_cmpint(o.result, ==, CHAIN_DENY);
        g_assert_cmpstr(o.policy, ==, "");
        g_assert_cmpstr(o.reason, ==, "no policy decided");
        /* it closes by itself after its duration */
        until = now_usec() + 3 * 1000000ULL;
        while (pairing_window_is_open(w) && now_usec() < until)
                g_assert_cmpint(sd_event_run(e, 100 * 1000), >=, 0);
        g_assert_false(pairing_window_is_open(w));
        o = decide(set, c);
        g_assert_cmpstr(o.policy, ==, "window");

        policy_set_unref(set);
        pairing_window_free(w, "test over");
        config_free(c);
        sd_event_unref(e);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/window/section", test_section);
        g_test_add_func("/window/policy", test_policy);
        return g_test_run();
}
