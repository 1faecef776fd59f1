/* SPDX-License-Identifier: MIT */
/* core/abuse-limits.c (lockouts, lockouts in a row, the prompt budget, the bounded table),
 * core/limits-state.c (the state file) and core/refusal-summary.c (the summary records). */
#include <stdio.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "audit.h"
#include "limits-state.h"
#include "abuse-limits.h"
#include "macro.h"
#include "refusal-summary.h"

#define S(n) ((uint64_t) (n) *1000000ULL)
#define T0   S(1800000000) /* some realtime */

static const char *const A = "AA:BB:CC:DD:EE:01";
static const char *const B = "aa:bb:cc:dd:ee:02";

static Limits *new_limits(unsigned after, unsigned window, unsigned time, unsigned budget,
                          bool block) {
        Limits *l = limits_new();
        LimitsSettings s = { .lockout_after = after,
                             .lockout_window_sec = window,
                             .lockout_time_sec = time,
                             .prompts_per_minute = budget,
                             .block = block };

        limits_configure(l, &s);
        return l;
}

static void test_lockout(void) {
        Limits *l = new_limits(3, 600, 900, 0, false);
        LimitsLockout lo;

        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(100), &lo), ==, 0);
        /* B's refusals are its own */
        g_assert_cmpint(limits_note_refusal(l, B, T0 + S(100), &lo), ==, 0);
        g_assert_cmpuint(limits_locked_until(l, A, T0 + S(101)), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(200), &lo), ==, 1);
        g_assert_cmpuint(lo.until, ==, T0 + S(1100));
        g_assert_cmpuint(lo.refusals, ==, 3);
        g_assert_cmpuint(lo.in_a_row, ==, 1);
        g_assert_false(lo.block);
        /* any case */
        g_assert_cmpuint(limits_locked_until(l, "aa:bb:cc:dd:ee:01", T0 + S(300)), ==,
                         T0 + S(1100));
        g_assert_cmpuint(limits_locked_until(l, B, T0 + S(300)), ==, 0);
        g_assert_cmpuint(limits_next_expiry(l), ==, T0 + S(1100));
        /* refusals while locked out do not extend it */
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(300), &lo), ==, 0);
        g_assert_cmpuint(limits_locked_until(l, A, T0 + S(1100)), ==, 0);
        limits_free(l);
}

static void test_window_slides(void) {
        Limits *l = new_limits(3, 600, 900, 0, false);
        LimitsLockout lo;

        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(500), &lo), ==, 0);
        /* the first is out of the window by now */
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(600), &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(700), &lo), ==, 1);
        g_assert_cmpuint(lo.refusals, ==, 3);
        limits_free(l);
}

static void test_off(void) {
        Limits *l = new_limits(1, 600, 0, 0, false);
        LimitsLockout lo;

        for (int i = 0; i < 10; i++)
                g_assert_cmpint(limits_note_refusal(l, A, T0 + S(i), &lo), ==, 0);
        g_assert_cmpuint(limits_size(l), ==, 0);
        for (int i = 0; i < 1000; i++)
                g_assert_true(limits_take_prompt(l, S(i)));
        limits_free(l);
}

static void ended_cb(const char *address, uint64_t until, void *userdata) {
        g_ptr_array_add(userdata, g_strdup_printf("%s@%" G_GUINT64_FORMAT, address, until));
}

static void test_expire_and_in_a_row(void) {
        Limits *l = new_limits(2, 600, 100, 0, true);
        g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func(g_free);
        LimitsLockout lo;

        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(1), &lo), ==, 1);
        g_assert_cmpuint(lo.in_a_row, ==, 1);
        g_assert_false(lo.block);
        limits_expire(l, T0 + S(100), ended_cb, ended);
        g_assert_cmpuint(ended->len, ==, 0);
        limits_expire(l, T0 + S(101), ended_cb, ended);
        g_assert_cmpuint(ended->len, ==, 1);
        g_assert_cmpstr(ended->pdata[0], ==, "AA:BB:CC:DD:EE:01@1800000101000000");
        g_assert_cmpuint(limits_next_expiry(l), ==, 0);
        /* locked out again soon after: the second in a row, and block says so */
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(200), &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(201), &lo), ==, 1);
        g_assert_cmpuint(lo.in_a_row, ==, 2);
        g_assert_true(lo.block);
        limits_expire(l, T0 + S(400), ended_cb, ended);
        /* long after the last one: the row starts over */
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(2000), &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(2001), &lo), ==, 1);
        g_assert_cmpuint(lo.in_a_row, ==, 1);
        /* an allow forgets the row */
        limits_expire(l, T0 + S(2200), ended_cb, ended);
        limits_note_allow(l, A);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(2300), &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(2301), &lo), ==, 1);
        g_assert_cmpuint(lo.in_a_row, ==, 1);
        limits_free(l);
}

static void test_lift_and_forget(void) {
        Limits *l = new_limits(1, 600, 900, 0, false);
        LimitsLockout lo;
        uint64_t until = 0;

        g_assert_false(limits_lift(l, A, T0, &until));
        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 1);
        g_assert_true(limits_lift(l, "aa:bb:cc:dd:ee:01", T0 + S(1), &until));
        g_assert_cmpuint(until, ==, T0 + S(900));
        g_assert_cmpuint(limits_locked_until(l, A, T0 + S(2)), ==, 0);
        g_assert_false(limits_lift(l, A, T0 + S(2), NULL));
        g_assert_cmpint(limits_note_refusal(l, A, T0 + S(3), &lo), ==, 1);
        g_assert_cmpuint(lo.in_a_row, ==, 1); /* lifting forgot the row */
        limits_forget(l, A);
        g_assert_cmpuint(limits_locked_until(l, A, T0 + S(4)), ==, 0);
        g_assert_false(limits_lift(l, "not an address", T0, NULL));
        limits_free(l);
}

static void test_budget(void) {
        Limits *l = new_limits(3, 600, 900, 3, false);

        g_assert_true(limits_take_prompt(l, S(100)));
        g_assert_true(limits_take_prompt(l, S(110)));
        g_assert_true(limits_take_prompt(l, S(120)));
        g_assert_false(limits_take_prompt(l, S(121)));
        g_assert_false(limits_take_prompt(l, S(159)));
        /* sliding: 60 s after the first, one is free again */
        g_assert_true(limits_take_prompt(l, S(160)));
        g_assert_false(limits_take_prompt(l, S(169)));
        g_assert_true(limits_take_prompt(l, S(170)));
        g_assert_true(limits_take_prompt(l, S(180)));
        g_assert_false(limits_take_prompt(l, S(181)));
        limits_free(l);
}

static void test_bounded(void) {
        Limits *l = new_limits(2, 600, 900, 0, false);
        LimitsLockout lo;
        char a[18];

        /* one locked-out device, then more strangers than the table holds */
        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 0);
        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 1);
        for (unsigned i = 0; i < 3 * LIMITS_MAX_DEVICES; i++) {
                snprintf(a, sizeof a, "10:00:00:%02X:%02X:%02X", (i >> 16) & 0xff, (i >> 8) & 0xff,
                         i & 0xff);
                g_assert_cmpint(limits_note_refusal(l, a, T0 + S(1) + i, &lo), ==, 0);
                g_assert_cmpuint(limits_size(l), <=, LIMITS_MAX_DEVICES);
        }
        /* the lockout was kept: strangers seen least recently went first */
        g_assert_cmpuint(limits_locked_until(l, A, T0 + S(2)), ==, T0 + S(900));
        limits_free(l);
}

static char *tmp_state(char **dir) {
        *dir = g_dir_make_tmp("pairgate-limits-XXXXXX", NULL);
        return g_build_filename(*dir, LIMITS_STATE_FILE, NULL);
}

static void count_entry(const LimitsEntry *e, void *userdata) {
        (*(unsigned *) userdata)++;
}

static void test_state_roundtrip(void) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ char *path = tmp_state(&dir);
        Limits *l = new_limits(1, 600, 900, 0, false), *m = new_limits(1, 600, 900, 0, false);
        _cleanup_free_ char *error = NULL;
        LimitsLockout lo;
        unsigned n = 0;

        g_assert_cmpint(limits_state_load(m, path, T0, &error), ==, -ENOENT);
        g_assert_cmpint(limits_note_refusal(l, A, T0, &lo), ==, 1);
        g_assert_cmpint(limits_note_refusal(l, B, T0, &lo), ==, 1);
        g_assert_cmpint(limits_state_save(l, path), ==, 0);
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS) == false);
        g_assert_cmpint(limits_state_load(m, path, T0 + S(10), &error), ==, 0);
        g_assert_null(error);
        g_assert_cmpuint(limits_locked_until(m, A, T0 + S(10)), ==, T0 + S(900));
        g_assert_cmpuint(limits_locked_until(m, B, T0 + S(10)), ==, T0 + S(900));
        limits_foreach(m, count_entry, &n);
        g_assert_cmpuint(n, ==, 2);
        g_unlink(path);
        g_rmdir(dir);
        limits_free(l);
        limits_free(m);
}

static void test_state_corrupt(void) {
        static const char *const bad[] = {
                "",
                "pairgate-lockouts 2\n",
                "pairgate-lockouts 1\nAA:BB:CC:DD:EE:01 1 1\n",
                "pairgate-lockouts 1\nAA:BB:CC:DD:EE:01 x 1 1\n",
                "pairgate-lockouts 1\nAA:BB:CC:DD:EE:01 -1 1 1\n",
                "pairgate-lockouts 1\nAA:BB:CC:DD:EE 1 1 1\n",
                "pairgate-lockouts 1\nAA:BB:CC:DD:EE:01 99999999999999999999999 1 1\n",
                "pairgate-lockouts 1\nAA:BB:CC:DD:EE:01  1 1 1\n",
        };
        _cleanup_free_ char *dir = NULL;
        _cleanup_free_ char *path = tmp_state(&dir);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Limits *l = new_limits(1, 600, 900, 0, false);
                char *error = NULL;

                g_assert_true(g_file_set_contents(path, bad[i], -1, NULL));
                g_assert_cmpint(limits_state_load(l, path, T0, &error), ==, -EBADMSG);
                g_assert_nonnull(error);
                g_assert_true(g_str_has_prefix(error, path));
                g_assert_cmpuint(limits_size(l), ==, 0);
                g_free(error);
                limits_free(l);
        }
        /* a NUL byte */
        {
                Limits *l = new_limits(1, 600, 900, 0, false);
                char *error = NULL;

                g_assert_true(g_file_set_contents(path, "pairgate-lockouts 1\n\0", 21, NULL));
                g_assert_cmpint(limits_state_load(l, path, T0, &error), ==, -EBADMSG);
                g_free(error);
                limits_free(l);
        }
        g_unlink(path);
        g_rmdir(dir);
}

typedef struct Sink {
        GPtrArray *lines;
} Sink;

static void sink(const AuditRecord *r, const char *line, void *userdata) {
        g_ptr_array_add(((Sink *) userdata)->lines, g_strdup(line));
}

static void test_summary(void) {
        Sink s = { g_ptr_array_new_with_free_func(g_free) };
        RefusalSummary *sum = refusal_summary_new();
        PairingQuery q = { .method = AGENT_METHOD_REQUEST_CONFIRMATION,
                           .device = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01",
                           .address = A,
                           .name = "Evil\nname" };
        char a[18];

        audit_set_backend(AUDIT_BACKEND_STDERR);
        audit_set_sink(sink, &s);
        g_assert_true(refusal_summary_is_empty(sum));
        for (int i = 0; i < 1000; i++)
                refusal_summary_add_locked_out(sum, &q, T0 + S(900), T0 + S(i % 60));
        /* 40 devices of the budget, one of them twice */
        for (int i = 0; i < 40; i++) {
                snprintf(a, sizeof a, "10:00:00:00:00:%02X", i);
                q.address = a;
                refusal_summary_add_budget(sum, &q, T0 + S(i));
        }
        refusal_summary_add_budget(sum, &q, T0 + S(50));
        g_assert_false(refusal_summary_is_empty(sum));
        g_assert_cmpuint(refusal_summary_flush(sum), ==, 3);
        g_assert_cmpuint(s.lines->len, ==, 3);
        g_assert_nonnull(strstr(s.lines->pdata[0], "event=lockout-refusals"));
        g_assert_nonnull(strstr(s.lines->pdata[0], "address=AA:BB:CC:DD:EE:01"));
        g_assert_nonnull(strstr(s.lines->pdata[0], " count=1000 "));
        g_assert_nonnull(strstr(s.lines->pdata[0], "name=\"Evil\\x0aname\""));
        g_assert_nonnull(strstr(s.lines->pdata[1], "event=budget-refusals"));
        g_assert_nonnull(strstr(s.lines->pdata[1], " count=32 "));
        g_assert_nonnull(strstr(s.lines->pdata[1], "addresses=\"10:00:00:00:00:00*1 "));
        g_assert_nonnull(strstr(s.lines->pdata[2], " count=9 "));
        g_assert_nonnull(strstr(s.lines->pdata[2], "10:00:00:00:00:27*2\""));
        g_assert_true(refusal_summary_is_empty(sum));
        g_assert_cmpuint(refusal_summary_flush(sum), ==, 0);
        audit_set_sink(NULL, NULL);
        refusal_summary_free(sum);
        g_ptr_array_unref(s.lines);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/limits/lockout", test_lockout);
        g_test_add_func("/limits/window-slides", test_window_slides);
        g_test_add_func("/limits/off", test_off);
        g_test_add_func("/limits/expire-and-in-a-row", test_expire_and_in_a_row);
        g_test_add_func("/limits/lift-and-forget", test_lift_and_forget);
        g_test_add_func("/limits/budget", test_budget);
        g_test_add_func("/limits/bounded", test_bounded);
        g_test_add_func("/limits/state-roundtrip", test_state_roundtrip);
        g_test_add_func("/limits/state-corrupt", test_state_corrupt);
        g_test_add_func("/limits/summary", test_summary);
        return g_test_run();
}
