/* SPDX-License-Identifier: MIT */
/* The per-device history of decisions: last decision, method, time, refusals; any-case lookup,
 * forgetting, the bound on its size. */
#include <glib.h>

#include "device-history.h"
#include "macro.h"

static void count(const DeviceHistoryEntry *e, void *userdata) {
        (*(unsigned *) userdata)++;
}

static void test_note_and_get(void) {
        DeviceHistory *h = device_history_new(8);
        const DeviceHistoryEntry *e;

        g_assert_null(device_history_get(h, "AA:BB:CC:DD:EE:FF"));
        device_history_note(h, "aa:bb:cc:dd:ee:ff", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            100);
        device_history_note(h, "AA:BB:CC:DD:EE:FF", AGENT_METHOD_REQUEST_AUTHORIZATION,
                            REQUEST_TIMEOUT, 200);
        device_history_note(h, "AA:BB:CC:DD:EE:FF", AGENT_METHOD_AUTHORIZE_SERVICE,
                            REQUEST_CANCELED, 250);
        device_history_note(h, "Aa:bB:CC:DD:EE:FF", AGENT_METHOD_REQUEST_PASSKEY, REQUEST_ALLOW,
                            300);
        e = device_history_get(h, "aa:bb:cc:dd:ee:ff");
        g_assert_nonnull(e);
        g_assert_cmpstr(e->address, ==, "AA:BB:CC:DD:EE:FF");
        g_assert_cmpint(e->last_result, ==, REQUEST_ALLOW);
        g_assert_cmpint(e->last_method, ==, AGENT_METHOD_REQUEST_PASSKEY);
        g_assert_cmpuint(e->last_realtime_usec, ==, 300);
        g_assert_cmpuint(e->decisions, ==, 4);
        g_assert_cmpuint(e->allowed, ==, 1);
        g_assert_cmpuint(e->refusals, ==, 2); /* deny + timeout; canceled is no refusal */
        g_assert_cmpuint(device_history_size(h), ==, 1);

        /* Not addresses: ignored. */
        device_history_note(h, NULL, AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY, 1);
        device_history_note(h, "AA:BB:CC:DD:EE", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            1);
        device_history_note(h, "AA-BB-CC-DD-EE-FF", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            1);
        device_history_note(h, "GG:BB:CC:DD:EE:FF", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            1);
        g_assert_cmpuint(device_history_size(h), ==, 1);
        g_assert_null(device_history_get(h, "AA:BB:CC:DD:EE:FF:00"));
        device_history_free(h);
        device_history_free(NULL);
}

static void test_forget(void) {
        DeviceHistory *h = device_history_new(8);

        device_history_note(h, "11:22:33:44:55:66", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            1);
        g_assert_false(device_history_forget(h, "11:22:33:44:55:67"));
        g_assert_false(device_history_forget(h, "junk"));
        g_assert_true(device_history_forget(h, "11:22:33:44:55:66"));
        g_assert_false(device_history_forget(h, "11:22:33:44:55:66"));
        g_assert_null(device_history_get(h, "11:22:33:44:55:66"));
        g_assert_cmpuint(device_history_size(h), ==, 0);
        device_history_free(h);
}

/* A flood of made-up addresses keeps at most max entries: the one decided longest ago goes. */
static void test_bounded(void) {
        DeviceHistory *h = device_history_new(3);
        unsigned n = 0;

        device_history_note(h, "00:00:00:00:00:01", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            10);
        device_history_note(h, "00:00:00:00:00:02", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            20);
        device_history_note(h, "00:00:00:00:00:03", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            30);
        /* 01 decided again: now 02 is the oldest. */
        device_history_note(h, "00:00:00:00:00:01", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            40);
        device_history_note(h, "00:00:00:00:00:04", AGENT_METHOD_REQUEST_CONFIRMATION, REQUEST_DENY,
                            50);
        g_assert_cmpuint(device_history_size(h), ==, 3);
        g_assert_null(device_history_get(h, "00:00:00:00:00:02"));
        g_assert_nonnull(device_history_get(h, "00:00:00:00:00:01"));
        g_assert_cmpuint(device_history_get(h, "00:00:00:00:00:01")->refusals, ==, 2);
        g_assert_nonnull(device_history_get(h, "00:00:00:00:00:03"));
        g_assert_nonnull(device_history_get(h, "00:00:00:00:00:04"));
        device_history_foreach(h, count, &n);
        g_assert_cmpuint(n, ==, 3);
        device_history_free(h);
}

static void test_result_names(void) {
        g_assert_cmpstr(request_result_to_string(REQUEST_ALLOW), ==, "allow");
        g_assert_cmpstr(request_result_to_string(REQUEST_DENY), ==, "deny");
        g_assert_cmpstr(request_result_to_string(REQUEST_TIMEOUT), ==, "timeout");
        g_assert_cmpstr(request_result_to_string(REQUEST_CANCELED), ==, "canceled");
        g_assert_cmpstr(request_result_to_string(REQUEST_ERROR), ==, "error");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/device-history/note-and-get", test_note_and_get);
        g_test_add_func("/device-history/forget", test_forget);
        g_test_add_func("/device-history/bounded", test_bounded);
        g_test_add_func("/device-history/result-names", test_result_names);
        return g_test_run();
}
