/* SPDX-License-Identifier: MIT */
/* The keypad: the digit handling as pure logic (key codes in, actions and values out), the
 * section's errors (file:line), and the policy with key presses injected with timestamps: which
 * request the digits answer, keys from before a request, Escape, PINs, the announcements it asks
 * a presenter for. */
#include <errno.h>
#include <linux/input.h>
#include <stdio.h>

#include <glib.h>

#include "announce.h"
#include "audit.h"
#include "config.h"
#include "keypad-buffer.h"
#include "keypad.h"
#include "macro.h"
#include "time-util.h"

#define MS 1000ULL

/* ---- the buffer ---------------------------------------------------------------------------- */

static void type_digits(KeypadBuffer *b, const char *digits) {
        static const unsigned keys[] = { KEY_0, KEY_1, KEY_2, KEY_3, KEY_4,
                                         KEY_5, KEY_6, KEY_7, KEY_8, KEY_9 };

        for (const char *c = digits; *c; c++)
                g_assert_cmpint(keypad_buffer_feed(b, keys[*c - '0']), ==, KEYPAD_DIGIT);
}

static void test_key_digits(void) {
        g_assert_cmpint(keypad_key_digit(KEY_0), ==, 0);
        g_assert_cmpint(keypad_key_digit(KEY_9), ==, 9);
        g_assert_cmpint(keypad_key_digit(KEY_KP0), ==, 0);
        g_assert_cmpint(keypad_key_digit(KEY_KP7), ==, 7);
        g_assert_cmpint(keypad_key_digit(KEY_NUMERIC_0), ==, 0);
        g_assert_cmpint(keypad_key_digit(KEY_NUMERIC_9), ==, 9);
        g_assert_cmpint(keypad_key_digit(KEY_A), ==, -1);
        g_assert_cmpint(keypad_key_digit(KEY_ENTER), ==, -1);
        g_assert_cmpint(keypad_key_digit(KEY_KPDOT), ==, -1);
}

static void test_keys_listened_to(void) {
        size_t n = 0;
        const unsigned *keys = keypad_keys(&n);
        bool enter = false, kpenter = false, esc = false, bs = false;

        g_assert_cmpuint(n, >=, 30 + 4);
        for (size_t i = 0; i < n; i++) {
                enter = enter || keys[i] == KEY_ENTER;
                kpenter = kpenter || keys[i] == KEY_KPENTER;
                esc = esc || keys[i] == KEY_ESC;
                bs = bs || keys[i] == KEY_BACKSPACE;
        }
        g_assert_true(enter && kpenter && esc && bs);
}

static void test_passkey_six_digits(void) {
        KeypadBuffer b;

        keypad_buffer_init(&b, KEYPAD_PASSKEY_DIGITS);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_ENTER), ==, KEYPAD_EMPTY);
        type_digits(&b, "12345");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_KP6), ==, KEYPAD_DIGIT);
        /* a 7th digit is ignored: the six stay */
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_7), ==, KEYPAD_FULL);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_NUMERIC_8), ==, KEYPAD_FULL);
        g_assert_cmpstr(b.digits, ==, "123456");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_KPENTER), ==, KEYPAD_SUBMIT);
        g_assert_cmpuint(keypad_buffer_value(&b), ==, 123456);
        keypad_buffer_clear(&b);
        g_assert_cmpuint(b.len, ==, 0);
        g_assert_cmpstr(b.digits, ==, "");
}

static void test_passkey_values(void) {
        static const struct {
                const char *typed;
                uint32_t value;
        } cases[] = {
                { "0", 0 },           { "42", 42 },         { "000042", 42 },
                { "999999", 999999 }, { "100000", 100000 }, { "7", 7 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                KeypadBuffer b;
                keypad_buffer_init(&b, KEYPAD_PASSKEY_DIGITS);
                type_digits(&b, cases[i].typed);
                g_assert_cmpint(keypad_buffer_feed(&b, KEY_ENTER), ==, KEYPAD_SUBMIT);
                g_assert_cmpuint(keypad_buffer_value(&b), ==, cases[i].value);
        }
}

static void test_backspace_escape_others(void) {
        KeypadBuffer b;

        keypad_buffer_init(&b, KEYPAD_PASSKEY_DIGITS);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_BACKSPACE), ==, KEYPAD_NOTHING_TO_DELETE);
        type_digits(&b, "129");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_BACKSPACE), ==, KEYPAD_DELETED);
        g_assert_cmpstr(b.digits, ==, "12");
        type_digits(&b, "3");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_A), ==, KEYPAD_IGNORED);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_KPDOT), ==, KEYPAD_IGNORED);
        g_assert_cmpstr(b.digits, ==, "123");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_BACKSPACE), ==, KEYPAD_DELETED);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_BACKSPACE), ==, KEYPAD_DELETED);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_BACKSPACE), ==, KEYPAD_DELETED);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_ENTER), ==, KEYPAD_EMPTY);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_ESC), ==, KEYPAD_REFUSE);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_EXIT), ==, KEYPAD_REFUSE);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_OK), ==, KEYPAD_EMPTY);
        g_assert_cmpstr(keypad_action_to_string(KEYPAD_FULL), ==, "full");
}

static void test_pin_sixteen_digits(void) {
        KeypadBuffer b;

        keypad_buffer_init(&b, KEYPAD_PIN_DIGITS);
        type_digits(&b, "0123456789012345");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_1), ==, KEYPAD_FULL);
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_ENTER), ==, KEYPAD_SUBMIT);
        g_assert_cmpstr(b.digits, ==, "0123456789012345");
        keypad_buffer_init(&b, 0); /* clamped to 1 */
        type_digits(&b, "5");
        g_assert_cmpint(keypad_buffer_feed(&b, KEY_5), ==, KEYPAD_FULL);
        keypad_buffer_init(&b, 99); /* clamped to 16 */
        g_assert_cmpuint(b.max, ==, KEYPAD_PIN_DIGITS);
}

/* ---- the policy ---------------------------------------------------------------------------- */

typedef struct Fixture {
        sd_event *e;
        config_t cfg;
        Policy p;
        bool used;
        GPtrArray *heard; /* what a presenter was asked to say: "prompt 3", "digit 3 5", ... */
        Announcer *announcer;
} Fixture;

typedef struct Outcome {
        int n;
        PolicyResult res;
        char reason[160];
} Outcome;

static bool on_announce(const Announcement *a, void *userdata) {
        Fixture *f = userdata;
        static const char *const kinds[] = { "prompt", "digit", "delete" };

        g_assert_nonnull(a->query);
        if (a->kind == ANNOUNCE_KEYPAD_DIGIT)
                g_ptr_array_add(f->heard, g_strdup_printf("digit %" G_GUINT64_FORMAT " %c",
                                                          a->query->request_id, a->digit));
        else
                g_ptr_array_add(f->heard, g_strdup_printf("%s %" G_GUINT64_FORMAT, kinds[a->kind],
                                                          a->query->request_id));
        return true;
}

static void setup(Fixture *f, gconstpointer data) {
        g_assert_cmpint(sd_event_new(&f->e), >=, 0);
        f->heard = g_ptr_array_new_with_free_func(g_free);
        f->announcer = announcer_register(on_announce, f);
        audit_set_backend(AUDIT_BACKEND_STDERR);
}

static void teardown(Fixture *f, gconstpointer data) {
        if (f->used) {
                keypad_policy_ops.done(&f->p);
                g_free(f->p.data);
                config_destroy(&f->cfg);
        }
        announcer_unregister(f->announcer);
        g_ptr_array_unref(f->heard);
        sd_event_unref(f->e);
}

static int init_from(Fixture *f, const char *text, bool runtime, char **ret_error) {
        const PolicyEnv env = { .event = runtime ? f->e : NULL, .config_path = "t.conf" };
        const config_setting_t *s;
        int r;

        config_init(&f->cfg);
        g_assert_true(config_read_string(&f->cfg, text));
        s = config_lookup(&f->cfg, "keypad");
        f->p.ops = &keypad_policy_ops;
        f->p.data = g_malloc0(keypad_policy_ops.size);
        r = keypad_policy_ops.init(&f->p, s, &env, ret_error);
        if (r < 0) {
                g_free(f->p.data);
                config_destroy(&f->cfg);
        } else
                f->used = true;
        return r;
}

static Policy *start(Fixture *f, const char *extra) {
        _cleanup_free_ char *text = g_strdup_printf(
                "keypad = { device = \"/nonexistent/pairgate-test/event0\"; %s };", extra);
        _cleanup_free_ char *error = NULL;

        g_assert_cmpint(init_from(f, text, true, &error), ==, 0);
        g_assert_null(error);
        g_assert_false(keypad_policy_is_active(&f->p)); /* takes the device from the loop */
        for (int i = 0; i < 100 && !keypad_policy_is_active(&f->p); i++)
                g_assert_cmpint(sd_event_run(f->e, 10 * MS), >=, 0);
        g_assert_true(keypad_policy_is_active(&f->p));
        return &f->p;
}

static void run_ms(Fixture *f, unsigned ms) {
        uint64_t end = now_usec() + ms * MS;

        while (now_usec() < end)
                g_assert_cmpint(sd_event_run(f->e, end - now_usec()), >=, 0);
}

static void on_done(const PolicyResult *r, void *userdata) {
        Outcome *o = userdata;

        o->n++;
        o->res = *r;
        g_strlcpy(o->reason, r->reason ? r->reason : "", sizeof o->reason);
}

static PolicyCall *ask(Policy *p, AgentMethod m, uint64_t id, uint64_t arrived, Outcome *o) {
        PairingQuery q = { .request_id = id,
                           .method = m,
                           .device = "/org/bluez/hci0/dev_11_22_33_44_55_66",
                           .adapter = "/org/bluez/hci0",
                           .address = "11:22:33:44:55:66",
                           .model = "passkey-entry",
                           .arrived_usec = arrived };
        PolicyResult res = { 0 };
        PolicyCall *call = NULL;

        g_assert_cmpint(p->ops->decide(p, &q, on_done, o, &res, &call), ==, 0);
        g_assert_nonnull(call);
        return call;
}

static void type_at(Policy *p, const char *keys, uint64_t usec) {
        static const unsigned digit[] = { KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
                                          KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9 };

        for (const char *c = keys; *c; c++, usec += MS) {
                unsigned code = *c >= '0' && *c <= '9' ? digit[*c - '0']
                                : *c == '\n'           ? KEY_KPENTER
                                : *c == '<'            ? KEY_BACKSPACE
                                : *c == 'x'            ? KEY_ESC
                                                       : KEY_A;
                keypad_policy_inject(p, code, usec);
        }
}

static void test_config_errors(Fixture *f, gconstpointer data) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "keypad = {\n device = \"x\";\n colour = 1;\n};",
                  "t.conf:3: keypad: unknown key 'colour' (known: device, echo)" },
                { "keypad = {\n echo = true;\n};", "t.conf:1: keypad: device is missing" },
                { "keypad = {\n device = 3;\n};", "t.conf:2: keypad.device" },
                { "keypad = {\n device = \"x\";\n echo = \"yes\";\n};", "t.conf:3: keypad.echo" },
                { "keypad = [ 1 ];", "t.conf:1: keypad must be a group" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                Fixture g = { 0 };

                g_assert_cmpint(init_from(&g, cases[i].text, false, &error), ==, -EINVAL);
                g_assert_nonnull(error);
                if (!g_str_has_prefix(error, cases[i].error))
                        g_error("case %zu: '%s' does not start with '%s'", i, error,
                                cases[i].error);
        }
        /* a long device */
        {
                _cleanup_free_ char *long_dev = g_strnfill(256, 'a');
                _cleanup_free_ char *text =
                        g_strdup_printf("keypad = {\n device = \"%s\";\n};", long_dev);
                _cleanup_free_ char *error = NULL;
                Fixture g = { 0 };

                g_assert_cmpint(init_from(&g, text, false, &error), ==, -EINVAL);
                g_assert_true(g_str_has_prefix(error, "t.conf:2: keypad.device is longer"));
        }
        /* valid, validation only: nothing opened */
        {
                _cleanup_free_ char *error = NULL;
                g_assert_cmpint(init_from(f, "keypad = { device = \"My Keypad\"; echo = true; };",
                                          false, &error),
                                ==, 0);
                g_assert_null(error);
                g_assert_false(keypad_policy_input_is_open(&f->p));
        }
}

static void test_route_needs_section(void) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;

        g_assert_cmpint(config_load_string("routes = { RequestPasskey = [ \"keypad\" ]; };\n",
                                           "t.conf", &c, &error),
                        <, 0);
        g_assert_cmpstr(error, ==,
                        "t.conf:1: route 'RequestPasskey': policy 'keypad' needs a 'keypad = { "
                        "... };' section");
        g_assert_null(c);
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(config_load_string("routes = { RequestPasskey = [ \"keypad\" ]; };\n"
                                           "keypad = { device = \"Numpad\"; echo = true; };\n",
                                           "t.conf", &c, &error),
                        ==, 0);
        g_assert_null(error);
        config_free(c);
}

static void test_can_allow(void) {
        for (AgentMethod m = 0; m < _AGENT_METHOD_MAX; m++)
                g_assert_cmpint(keypad_policy_ops.can_allow(NULL, m), ==,
                                m == AGENT_METHOD_REQUEST_PASSKEY ||
                                        m == AGENT_METHOD_REQUEST_PIN_CODE);
}

static void test_passkey_typed(Fixture *f, gconstpointer data) {
        Policy *p = start(f, "");
        uint64_t t0 = now_usec() - 1000 * MS;
        Outcome o = { 0 };

        ask(p, AGENT_METHOD_REQUEST_PASSKEY, 1, t0, &o);
        g_assert_cmpuint(keypad_policy_pending(p), ==, 1);
        /* keys pressed before the request arrived do not count */
        type_at(p, "999\n", t0 - 500 * MS);
        run_ms(f, 20);
        g_assert_cmpint(o.n, ==, 0);
        type_at(p, "0123459<", t0 + 100 * MS); /* the 7th digit is ignored; < deletes the 5 */
        type_at(p, "a6\n", t0 + 200 * MS);
        g_assert_cmpuint(keypad_policy_pending(p), ==, 0);
        g_assert_cmpint(o.n, ==, 0); /* delivered from a defer source, not inside the key handler */
        run_ms(f, 20);
        g_assert_cmpint(o.n, ==, 1);
        g_assert_cmpint(o.res.verdict, ==, VERDICT_ALLOW);
        g_assert_true(o.res.has_passkey);
        g_assert_cmpuint(o.res.passkey, ==, 12346);
        g_assert_cmpstr(o.reason, ==, "6 digits typed on the keypad");
        /* no echo configured: only the prompt was asked for */
        g_assert_cmpuint(f->heard->len, ==, 1);
        g_assert_cmpstr(f->heard->pdata[0], ==, "prompt 1");
}

static void test_escape_refuses_and_pin(Fixture *f, gconstpointer data) {
        Policy *p = start(f, "echo = true;");
        uint64_t t0 = now_usec() - 1000 * MS;
        Outcome a = { 0 }, b = { 0 }, c = { 0 };
        PolicyResult res = { 0 };
        PolicyCall *call = NULL;
        PairingQuery q = { .request_id = 9, .method = AGENT_METHOD_REQUEST_CONFIRMATION };

        /* other methods pass */
        g_assert_cmpint(p->ops->decide(p, &q, on_done, &c, &res, &call), ==, 1);
        g_assert_cmpint(res.verdict, ==, VERDICT_PASS);
        g_assert_null(call);

        ask(p, AGENT_METHOD_REQUEST_PASSKEY, 1, t0, &a);
        ask(p, AGENT_METHOD_REQUEST_PIN_CODE, 2, t0 + 10 * MS, &b);
        type_at(p, "12x", t0 + 100 * MS); /* the oldest is refused */
        run_ms(f, 20);
        g_assert_cmpint(a.n, ==, 1);
        g_assert_cmpint(a.res.verdict, ==, VERDICT_DENY);
        g_assert_false(a.res.has_passkey);
        g_assert_cmpstr(a.reason, ==, "Escape pressed on the keypad");
        g_assert_cmpint(b.n, ==, 0);
        /* the PIN request starts from no digit: "12" was for the other one */
        type_at(p, "\n", t0 + 200 * MS);
        run_ms(f, 20);
        g_assert_cmpint(b.n, ==, 0);
        type_at(p, "00001234567890123\n", t0 + 300 * MS); /* 17 digits: the 17th ignored */
        run_ms(f, 20);
        g_assert_cmpint(b.n, ==, 1);
        g_assert_cmpint(b.res.verdict, ==, VERDICT_ALLOW);
        g_assert_cmpstr(b.res.pin, ==, "0000123456789012");
        g_assert_false(b.res.has_passkey);
        /* echo: a prompt for the first, then each digit (of the oldest), no prompt for the second
         * while the first waited */
        g_assert_cmpstr(f->heard->pdata[0], ==, "prompt 1");
        g_assert_cmpstr(f->heard->pdata[1], ==, "digit 1 1");
        g_assert_cmpstr(f->heard->pdata[2], ==, "digit 1 2");
        g_assert_cmpstr(f->heard->pdata[3], ==, "digit 2 0");
        g_assert_cmpuint(f->heard->len, ==, 3 + 16);
}

static void test_cancel_forgets_digits(Fixture *f, gconstpointer data) {
        Policy *p = start(f, "");
        uint64_t t0 = now_usec() - 1000 * MS;
        Outcome a = { 0 }, b = { 0 };
        PolicyCall *first;

        first = ask(p, AGENT_METHOD_REQUEST_PASSKEY, 1, t0, &a);
        type_at(p, "123", t0 + 100 * MS);
        p->ops->cancel(first); /* timed out */
        ask(p, AGENT_METHOD_REQUEST_PASSKEY, 2, t0 + 200 * MS, &b);
        type_at(p, "45\n", t0 + 300 * MS);
        run_ms(f, 20);
        g_assert_cmpint(a.n, ==, 0);
        g_assert_cmpint(b.n, ==, 1);
        g_assert_cmpuint(b.res.passkey, ==, 45);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/keypad/buffer/key-digits", test_key_digits);
        g_test_add_func("/keypad/buffer/keys-listened-to", test_keys_listened_to);
        g_test_add_func("/keypad/buffer/passkey-six-digits", test_passkey_six_digits);
        g_test_add_func("/keypad/buffer/passkey-values", test_passkey_values);
        g_test_add_func("/keypad/buffer/backspace-escape-others", test_backspace_escape_others);
        g_test_add_func("/keypad/buffer/pin-sixteen-digits", test_pin_sixteen_digits);
        g_test_add_func("/keypad/can-allow", test_can_allow);
        g_test_add_func("/keypad/route-needs-section", test_route_needs_section);
        g_test_add("/keypad/config-errors", Fixture, NULL, setup, test_config_errors, teardown);
        g_test_add("/keypad/passkey-typed", Fixture, NULL, setup, test_passkey_typed, teardown);
        g_test_add("/keypad/escape-refuses-and-pin", Fixture, NULL, setup,
                   test_escape_refuses_and_pin, teardown);
        g_test_add("/keypad/cancel-forgets-digits", Fixture, NULL, setup,
                   test_cancel_forgets_digits, teardown);
        return g_test_run();
}
