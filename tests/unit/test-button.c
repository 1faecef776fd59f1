/* SPDX-License-Identifier: MIT */
/* The button policy without a bus: config validation (file:line), presses injected with
 * timestamps or written to a FIFO as struct input_event, the pairing window's timing, hotplug of
 * the input, the handover between instances on reload, and a sysfs LED made of plain files. */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "audit.h"
#include "button.h"
#include "pairing-window.h"
#include "config.h"
#include "macro.h"
#include "time-util.h"

#define MS 1000ULL

typedef struct Instance {
        Policy p;
        config_t cfg;
        bool used;
} Instance;

typedef struct Fixture {
        sd_event *e;
        char *dir;
        GPtrArray *audit; /* rendered audit lines */
        Instance inst[2];
} Fixture;

typedef struct Outcome {
        int n;
        Verdict verdict;
        char reason[160];
} Outcome;

static uint64_t cpu_usec(void) {
        struct rusage ru;

        g_assert_cmpint(getrusage(RUSAGE_SELF, &ru), ==, 0);
        return (uint64_t) ru.ru_utime.tv_sec * 1000000ULL + (uint64_t) ru.ru_utime.tv_usec +
               (uint64_t) ru.ru_stime.tv_sec * 1000000ULL + (uint64_t) ru.ru_stime.tv_usec;
}

#define RUN_UNTIL(f, cond, ms)                                                 \
        ({                                                                     \
                uint64_t _end = now_usec() + (uint64_t) (ms) *MS;              \
                while (!(cond) && now_usec() < _end)                           \
                        g_assert_cmpint(sd_event_run((f)->e, 10 * MS), >=, 0); \
                (cond);                                                        \
        })

static void run_ms(Fixture *f, unsigned ms) {
        uint64_t end = now_usec() + ms * MS;

        while (now_usec() < end)
                g_assert_cmpint(sd_event_run(f->e, end - now_usec()), >=, 0);
}

static void sink(const AuditRecord *r, const char *line, void *userdata) {
        Fixture *f = userdata;

        g_ptr_array_add(f->audit, g_strdup(line));
}

static unsigned audit_count(Fixture *f, const char *needle) {
        unsigned n = 0;

        for (guint i = 0; i < f->audit->len; i++)
                if (strstr(f->audit->pdata[i], needle))
                        n++;
        return n;
}

static void setup(Fixture *f, gconstpointer data) {
        g_assert_cmpint(sd_event_new(&f->e), >=, 0);
        f->dir = g_dir_make_tmp("pg-button-XXXXXX", NULL);
        g_assert_nonnull(f->dir);
        f->audit = g_ptr_array_new_with_free_func(g_free);
        audit_set_backend(AUDIT_BACKEND_STDERR);
        audit_set_sink(sink, f);
}

static void free_instance(Instance *in) {
        if (!in->used)
                return;
        button_policy_ops.done(&in->p);
        g_free(in->p.data);
        config_destroy(&in->cfg);
        in->used = false;
}

static void rm_rf(const char *dir) {
        GDir *d = g_dir_open(dir, 0, NULL);
        const char *name;

        if (!d)
                return;
        while ((name = g_dir_read_name(d))) {
                _cleanup_free_ char *p = g_build_filename(dir, name, NULL);
                if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
                        rm_rf(p);
                else
                        (void) g_unlink(p);
        }
        g_dir_close(d);
        (void) g_rmdir(dir);
}

static void teardown(Fixture *f, gconstpointer data) {
        for (size_t i = 0; i < ELEMENTSOF(f->inst); i++)
                free_instance(&f->inst[i]);
        audit_set_sink(NULL, NULL);
        g_ptr_array_unref(f->audit);
        rm_rf(f->dir);
        g_free(f->dir);
        sd_event_unref(f->e);
}

/* Instantiate the policy from `text` (a whole config file) in slot i and let it take over, with
 * the daemon's pairing window `window` (or none). */
static Policy *start_with_window(Fixture *f, size_t i, const char *text, PairingWindow *window) {
        Instance *in = &f->inst[i];
        const PolicyEnv env = { .event = f->e,
                                .window = window,
                                .config_path = "button-test.conf" };
        _cleanup_free_ char *error = NULL;
        const config_setting_t *s;

        g_assert_false(in->used);
        config_init(&in->cfg);
        g_assert_true(config_read_string(&in->cfg, text));
        s = config_lookup(&in->cfg, "button");
        g_assert_nonnull(s);
        in->p.ops = &button_policy_ops;
        in->p.data = g_malloc0(button_policy_ops.size);
        in->used = true;
        g_assert_cmpint(button_policy_ops.init(&in->p, s, &env, &error), ==, 0);
        g_assert_null(error);
        g_assert_true(RUN_UNTIL(f, button_policy_is_active(&in->p), 1000));
        return &in->p;
}

static Policy *start(Fixture *f, size_t i, const char *text) {
        return start_with_window(f, i, text, NULL);
}

static char *absent_device(Fixture *f) {
        return g_build_filename(f->dir, "absent", "event0", NULL);
}

static Policy *start_simple(Fixture *f, const char *extra) {
        _cleanup_free_ char *dev = absent_device(f);
        _cleanup_free_ char *text = g_strdup_printf(
                "button = { device = \"%s\"; key = \"KEY_CONNECT\"; %s };", dev, extra);

        return start(f, 0, text);
}

static void on_done(const PolicyResult *r, void *userdata) {
        Outcome *o = userdata;

        o->n++;
        o->verdict = r->verdict;
        g_strlcpy(o->reason, r->reason ? r->reason : "", sizeof o->reason);
}

static PolicyCall *ask(Policy *p, AgentMethod m, uint64_t arrived, Outcome *o) {
        static uint64_t id = 0;
        PairingQuery q = { .request_id = ++id,
                           .method = m,
                           .device = "/org/bluez/hci0/dev_11_22_33_44_55_66",
                           .adapter = "/org/bluez/hci0",
                           .address = "11:22:33:44:55:66",
                           .model = "unknown",
                           .arrived_usec = arrived };
        PolicyResult res = { 0 };
        PolicyCall *call = NULL;

        g_assert_cmpint(p->ops->decide(p, &q, on_done, o, &res, &call), ==, 0);
        g_assert_nonnull(call);
        return call;
}

static void press(Policy *p, uint64_t down, uint64_t up) {
        button_policy_inject(p, true, down);
        button_policy_inject(p, false, up);
}

/* ---- configuration ------------------------------------------------------------------------- */

static void test_config_errors(Fixture *f, gconstpointer data) {
        static const struct {
                const char *text;
                const char *error;
        } cases[] = {
                { "button = {\n source = \"input\";\n device = \"/dev/input/event0\";\n"
                  " key = \"KEY_CONNECT\";\n colour = 1;\n};",
                  "t.conf:5: button: unknown key 'colour'" },
                { "button = {\n device = \"/dev/input/event0\";\n key = \"KEY_NOPE\";\n};",
                  "t.conf:3: button.key: 'KEY_NOPE' is not a key name" },
                { "button = {\n source = \"usb\";\n};", "t.conf:2: button.source: 'usb'" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n line = 3;\n};",
                  "t.conf:4: button.line is for source = \"gpio\"" },
                { "button = {\n source = \"gpio\";\n chip = \"my chip\";\n line = 3;\n};",
                  "t.conf:3: button.chip: 'my chip' is not a chip" },
                { "button = {\n source = \"gpio\";\n chip = \"gpiochip0\";\n line = -1;\n};",
                  "t.conf:4: button.line = -1 is out of range" },
                { "button = {\n source = \"gpio\";\n chip = \"gpiochip0\";\n};",
                  "t.conf:1: button: source = \"gpio\" needs chip and line" },
                { "button = {\n source = \"gpio\";\n chip = \"gpiochip0\";\n line = 17;\n"
                  " key = \"KEY_A\";\n};",
                  "t.conf:5: button.key is for source = \"input\"" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n window = \"60\";\n};",
                  "t.conf:4: button.window must be an integer" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n active_low = true;\n};",
                  "t.conf:4: button.active_low is for source = \"gpio\"" },
                { "button = {\n source = \"gpio\";\n chip = \"gpiochip0\";\n line = 1;\n"
                  " active_low = 1;\n};",
                  "t.conf:5: button.active_low must be true or false" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n led = \"/sys/class/leds/ACT\";"
                  "\n led_gpio = { chip = \"gpiochip0\"; line = 4; };\n};",
                  "t.conf:5: button: led and led_gpio are exclusive" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n led = \"ACT\";\n};",
                  "t.conf:4: button.led must be the LED's sysfs directory" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n"
                  " led_gpio = { chip = \"gpiochip0\";\n size = 4; };\n};",
                  "t.conf:5: button.led_gpio: unknown key 'size'" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n long_press_ms = 50;\n};",
                  "t.conf:4: button.long_press_ms = 50 is out of range" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n adapter = \"hci0\";\n};",
                  "t.conf:4: button.adapter: 'hci0'" },
                { "button = {\n device = \"\";\n key = \"KEY_A\";\n};",
                  "t.conf:2: button.device must be a non-empty string" },
                { "button = {\n key = \"KEY_A\";\n};",
                  "t.conf:1: button: source = \"input\" needs" },
                { "button = {\n source = \"gpio\";\n chip = \"gpiochip0\";\n line = 2;\n"
                  " bias = \"up\";\n};",
                  "t.conf:5: button.bias: 'up'" },
                { "button = {\n device = \"x\";\n key = \"KEY_A\";\n window_pairings = 0;\n};",
                  "t.conf:4: button.window_pairings = 0 is out of range" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                Config *c = NULL;
                int r = config_load_string(cases[i].text, "t.conf", &c, &error);

                if (r >= 0 || !error || !strstr(error, cases[i].error))
                        g_error("case %zu: expected an error containing \"%s\", got %d \"%s\"", i,
                                cases[i].error, r, error ? error : "(none)");
                g_assert_null(c);
        }
}

static void test_config_valid(Fixture *f, gconstpointer data) {
        static const char *const texts[] = {
                "routes = { RequestConfirmation = [ \"button\" ]; };\n"
                "button = { source = \"input\"; device = \"/dev/input/by-path/platform-button-"
                "event\"; key = \"KEY_CONNECT\"; };",
                "button = { device = \"gpio_keys\"; key = 0x1a0; debounce_ms = 0; window = 120;"
                " window_pairings = 2; adapter = \"/org/bluez/hci1\"; long_press_ms = 1500;"
                " led = \"/sys/class/leds/ACT\"; };",
                "button = { source = \"gpio\"; chip = \"pinctrl-bcm2711\"; line = 17;"
                " active_low = true; bias = \"pull-up\"; debounce_ms = 30;"
                " led_gpio = { chip = \"/dev/gpiochip0\"; line = 27; active_low = false; }; };",
                "button = { device = \"x\"; key = \"BTN_0\"; };",
                "", /* no section: fine while no route uses it */
        };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_free_ char *error = NULL;
                Config *c = NULL;
                int r = config_load_string(texts[i], "ok.conf", &c, &error);

                if (r < 0)
                        g_error("case %zu: %s", i, error ? error : g_strerror(-r));
                config_free(c);
        }
}

/* A route that uses the button without a section is refused when the policies start. */
static void test_config_route_without_section(Fixture *f, gconstpointer data) {
        Instance *in = &f->inst[0];
        const PolicyEnv env = { .event = f->e, .config_path = "r.conf" };
        _cleanup_free_ char *error = NULL;

        in->p.ops = &button_policy_ops;
        in->p.data = g_malloc0(button_policy_ops.size);
        g_assert_cmpint(button_policy_ops.init(&in->p, NULL, &env, &error), ==, -EINVAL);
        g_assert_nonnull(strstr(error, "r.conf:0: button: a route uses the button policy"));
        g_free(in->p.data);
}

/* ---- presses ---------------------------------------------------------------------------- */

static void test_short_press_allows(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "");
        uint64_t t = now_usec();
        Outcome o = { 0 };

        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 300 * MS, &o);
        g_assert_cmpuint(button_policy_pending(p), ==, 1);
        run_ms(f, 50);
        g_assert_cmpint(o.n, ==, 0);
        press(p, t - 200 * MS, t - 100 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.n, ==, 1);
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
        g_assert_cmpstr(o.reason, ==, "short press (0.1 s)");
        g_assert_cmpuint(button_policy_pending(p), ==, 0);
        run_ms(f, 50);
        g_assert_cmpint(o.n, ==, 1);
}

static void test_long_press_denies(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "");
        uint64_t t = now_usec();
        Outcome o = { 0 };

        ask(p, AGENT_METHOD_AUTHORIZE_SERVICE, t - 4000 * MS, &o);
        press(p, t - 3000 * MS, t - 500 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_DENY);
        g_assert_cmpstr(o.reason, ==, "long press (2.5 s)");
}

/* Held down: denied when long_press_ms is reached, before the release; the release is ignored. */
static void test_long_press_while_held(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "long_press_ms = 300;");
        Outcome o = { 0 };
        uint64_t t;

        ask(p, AGENT_METHOD_REQUEST_AUTHORIZATION, now_usec() - 10 * MS, &o);
        t = now_usec();
        button_policy_inject(p, true, t);
        run_ms(f, 150);
        g_assert_cmpint(o.n, ==, 0);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpuint(now_usec() - t, >=, 300 * MS);
        g_assert_cmpint(o.verdict, ==, VERDICT_DENY);
        g_assert_nonnull(strstr(o.reason, "long press"));
        button_policy_inject(p, false, now_usec());
        run_ms(f, 100);
        g_assert_cmpint(o.n, ==, 1);
}

/* A press that went down before the request arrived never approves it, even if it is read (or
 * released) after the request arrived. */
static void test_press_before_request(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "");
        uint64_t t = now_usec();
        Outcome o = { 0 };

        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 500 * MS, &o);
        press(p, t - 1000 * MS, t - 900 * MS); /* queued before the request, read now */
        run_ms(f, 100);
        g_assert_cmpint(o.n, ==, 0);
        g_assert_cmpuint(audit_count(f, "press=ignored"), ==, 1);
        /* held across the arrival */
        button_policy_inject(p, true, t - 600 * MS);
        button_policy_inject(p, false, now_usec());
        run_ms(f, 100);
        g_assert_cmpint(o.n, ==, 0);
        g_assert_cmpuint(audit_count(f, "press=ignored"), ==, 2);
        g_assert_cmpuint(button_policy_pending(p), ==, 1);
        /* a real press still works */
        t = now_usec();
        press(p, t - 80 * MS, t);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
}

static void test_oldest_of_two(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "long_press_ms = 500;");
        uint64_t t = now_usec();
        Outcome a = { 0 }, b = { 0 };

        /* b is asked first but arrived later: a is the oldest */
        ask(p, AGENT_METHOD_REQUEST_AUTHORIZATION, t - 1000 * MS, &b);
        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 2000 * MS, &a);
        press(p, t - 500 * MS, t - 400 * MS);
        g_assert_true(RUN_UNTIL(f, a.n > 0, 1000));
        run_ms(f, 50);
        g_assert_cmpint(a.n, ==, 1);
        g_assert_cmpint(b.n, ==, 0);
        g_assert_cmpint(a.verdict, ==, VERDICT_ALLOW);
        g_assert_cmpstr(a.reason, ==, "short press (0.1 s); oldest of 2 pending requests");
        g_assert_cmpuint(button_policy_pending(p), ==, 1);
        t = now_usec();
        press(p, t - 900 * MS, t); /* long, and after b arrived */
        g_assert_true(RUN_UNTIL(f, b.n > 0, 1000));
        g_assert_cmpint(b.verdict, ==, VERDICT_DENY);
        g_assert_cmpstr(b.reason, ==, "long press (0.9 s)");
        g_assert_cmpint(a.n, ==, 1);
}

static void test_cancel_while_waiting(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "window = 30;");
        uint64_t t = now_usec();
        Outcome o = { 0 };
        PolicyCall *c = ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 500 * MS, &o);

        p->ops->cancel(c);
        g_assert_cmpuint(button_policy_pending(p), ==, 0);
        press(p, t - 100 * MS, t - 10 * MS);
        run_ms(f, 100);
        g_assert_cmpint(o.n, ==, 0);
        /* nothing pending any more: that press opened the window instead */
        g_assert_true(button_policy_window_is_open(p));
}

/* A decided call whose delivery is still scheduled can be cancelled: done() never fires. */
static void test_cancel_after_decision(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "debounce_ms = 0;");
        uint64_t t = now_usec();
        Outcome o = { 0 };
        PolicyCall *c = ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 500 * MS, &o);

        press(p, t - 100 * MS, t - 10 * MS); /* decided synchronously, delivered from the loop */
        g_assert_cmpuint(button_policy_pending(p), ==, 0);
        p->ops->cancel(c);
        run_ms(f, 100);
        g_assert_cmpint(o.n, ==, 0);
}

static void test_passkey_passes(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "window = 30;");
        PairingQuery q = { .method = AGENT_METHOD_REQUEST_PASSKEY, .arrived_usec = now_usec() };
        PolicyResult res = { 0 };
        PolicyCall *call = NULL;
        uint64_t t = now_usec();

        g_assert_cmpint(p->ops->decide(p, &q, on_done, NULL, &res, &call), ==, 1);
        g_assert_cmpint(res.verdict, ==, VERDICT_PASS);
        q.method = AGENT_METHOD_REQUEST_PIN_CODE;
        g_assert_cmpint(p->ops->decide(p, &q, on_done, NULL, &res, &call), ==, 1);
        g_assert_cmpint(res.verdict, ==, VERDICT_PASS);
        /* even with the window open */
        press(p, t - 100 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, button_policy_window_is_open(p), 1000));
        q.method = AGENT_METHOD_REQUEST_PASSKEY;
        g_assert_cmpint(p->ops->decide(p, &q, on_done, NULL, &res, &call), ==, 1);
        g_assert_cmpint(res.verdict, ==, VERDICT_PASS);
        g_assert_null(call);
}

static void test_debounce(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "debounce_ms = 20;");
        uint64_t t = now_usec();
        Outcome o = { 0 };

        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 2000 * MS, &o);
        /* a 5 ms glitch is not a press */
        press(p, t - 1500 * MS, t - 1495 * MS);
        run_ms(f, 60);
        g_assert_cmpint(o.n, ==, 0);
        g_assert_cmpuint(audit_count(f, "press="), ==, 0);
        /* a bouncing 300 ms press is one press, timed from its first edge */
        button_policy_inject(p, true, t - 1000 * MS);
        button_policy_inject(p, false, t - 995 * MS);
        button_policy_inject(p, true, t - 990 * MS);
        button_policy_inject(p, false, t - 700 * MS);
        button_policy_inject(p, true, t - 697 * MS);
        button_policy_inject(p, false, t - 694 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
        g_assert_cmpstr(o.reason, ==, "short press (0.3 s)");
}

/* ---- pairing window ------------------------------------------------------------------------ */

static void test_window_opens_and_times_out(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "window = 1;");
        PairingQuery q = { .method = AGENT_METHOD_REQUEST_AUTHORIZATION,
                           .device = "/org/bluez/hci0/dev_11_22_33_44_55_66",
                           .arrived_usec = now_usec() };
        PolicyResult res = { 0 };
        PolicyCall *call = NULL;
        uint64_t t = now_usec(), opened;

        press(p, t - 100 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, button_policy_window_is_open(p), 1000));
        opened = now_usec();
        g_assert_cmpuint(audit_count(f, "window=opened"), ==, 1);
        g_assert_cmpint(p->ops->decide(p, &q, on_done, NULL, &res, &call), ==, 1);
        g_assert_cmpint(res.verdict, ==, VERDICT_ALLOW);
        g_assert_cmpstr(res.reason, ==, "pairing window open");
        /* a second short press keeps it open */
        t = now_usec();
        press(p, t - 100 * MS, t - 10 * MS);
        run_ms(f, 100);
        g_assert_true(button_policy_window_is_open(p));
        g_assert_true(RUN_UNTIL(f, !button_policy_window_is_open(p), 2000));
        g_assert_cmpuint(now_usec() - opened, >=, 900 * MS);
        g_assert_cmpuint(audit_count(f, "window=closed"), ==, 1);
        g_assert_cmpuint(audit_count(f, "reason=\"1 s elapsed\""), ==, 1);
        /* closed: requests wait again */
        q.arrived_usec = now_usec();
        g_assert_cmpint(p->ops->decide(p, &q, on_done, &(Outcome){ 0 }, &res, &call), ==, 0);
        p->ops->cancel(call);
}

static void test_window_long_press_closes(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "window = 60; long_press_ms = 500;");
        uint64_t t = now_usec();

        press(p, t - 2000 * MS, t - 1900 * MS);
        g_assert_true(RUN_UNTIL(f, button_policy_window_is_open(p), 1000));
        t = now_usec();
        press(p, t - 1000 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, !button_policy_window_is_open(p), 1000));
        g_assert_cmpuint(audit_count(f, "closed early by a long press"), ==, 1);
}

/* Without a window, a press with nothing pending changes nothing. */
static void test_no_window(Fixture *f, gconstpointer data) {
        Policy *p = start_simple(f, "");
        uint64_t t = now_usec();

        press(p, t - 100 * MS, t - 10 * MS);
        run_ms(f, 100);
        g_assert_false(button_policy_window_is_open(p));
        g_assert_cmpuint(audit_count(f, "window="), ==, 0);
}

/* ---- the input device: a FIFO carrying struct input_event --------------------------------- */

static void write_event(int fd, uint16_t type, uint16_t code, int32_t value, uint64_t usec) {
        struct input_event ev = { .type = type, .code = code, .value = value };

        ev.input_event_sec = (time_t) (usec / 1000000);
        ev.input_event_usec = (suseconds_t) (usec % 1000000);
        g_assert_cmpint(write(fd, &ev, sizeof ev), ==, (ssize_t) sizeof ev);
}

static void write_press(int fd, unsigned key, uint64_t down, uint64_t up) {
        write_event(fd, EV_KEY, (uint16_t) key, 1, down);
        write_event(fd, EV_SYN, SYN_REPORT, 0, down);
        write_event(fd, EV_KEY, (uint16_t) key, 2, down + 50 * MS); /* autorepeat: ignored */
        write_event(fd, EV_KEY, (uint16_t) key, 0, up);
        write_event(fd, EV_SYN, SYN_REPORT, 0, up);
}

static Policy *start_fifo(Fixture *f, const char *fifo, bool create) {
        _cleanup_free_ char *text =
                g_strdup_printf("button = { device = \"%s\"; key = \"KEY_CONNECT\"; };", fifo);

        if (create)
                g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        return start(f, 0, text);
}

static void test_fifo_press(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *fifo = g_build_filename(f->dir, "button", NULL);
        Policy *p = start_fifo(f, fifo, true);
        _cleanup_close_ int w = -EBADF;
        Outcome o = { 0 }, other = { 0 };
        uint64_t t;

        g_assert_true(button_policy_input_is_open(p));
        g_assert_cmpuint(audit_count(f, "input=opened"), ==, 1);
        w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        g_assert_cmpint(w, >=, 0);
        t = now_usec();
        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 500 * MS, &o);
        write_press(w, KEY_A, t - 300 * MS, t - 200 * MS); /* another key: nothing */
        run_ms(f, 100);
        g_assert_cmpint(o.n, ==, 0);
        write_press(w, KEY_CONNECT, t - 150 * MS, t - 50 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
        g_assert_cmpstr(o.reason, ==, "short press (0.1 s)");
        /* a record split across two writes */
        t = now_usec();
        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 5000 * MS, &other);
        {
                struct input_event ev = { .type = EV_KEY, .code = KEY_CONNECT, .value = 1 };
                ev.input_event_sec = (time_t) ((t - 3000 * MS) / 1000000);
                ev.input_event_usec = (suseconds_t) ((t - 3000 * MS) % 1000000);
                g_assert_cmpint(write(w, &ev, 10), ==, 10);
                run_ms(f, 30);
                g_assert_cmpint(write(w, (char *) &ev + 10, sizeof ev - 10), ==,
                                (ssize_t) (sizeof ev - 10));
        }
        write_event(w, EV_KEY, KEY_CONNECT, 0, t);
        g_assert_true(RUN_UNTIL(f, other.n > 0, 1000));
        g_assert_cmpint(other.verdict, ==, VERDICT_DENY);
        /* the writer goes away: lost, then reopened (a FIFO is there again at once) */
        closep(&w);
        w = -EBADF;
        g_assert_true(RUN_UNTIL(f, audit_count(f, "input=lost") == 1, 1000));
        g_assert_true(RUN_UNTIL(f, audit_count(f, "input=reopened") == 1, 2000));
        g_assert_true(button_policy_input_is_open(p));
        /* no spinning on the closed writer side: nothing more happens, no CPU burnt */
        {
                uint64_t cpu = cpu_usec();
                run_ms(f, 500);
                g_assert_cmpuint(cpu_usec() - cpu, <, 100 * MS);
        }
        g_assert_cmpuint(audit_count(f, "input=lost"), ==, 1);
}

/* The device is absent at start (a warning, not an error) and opened when it appears, in a
 * directory that does not exist yet either. */
static void test_fifo_appears_later(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *sub = g_build_filename(f->dir, "by-path", NULL);
        _cleanup_free_ char *fifo = g_build_filename(sub, "button", NULL);
        Policy *p = start_fifo(f, fifo, false);
        _cleanup_close_ int w = -EBADF;
        Outcome o = { 0 };
        uint64_t t, made;

        run_ms(f, 100);
        g_assert_false(button_policy_input_is_open(p));
        g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
        run_ms(f, 100);
        g_assert_false(button_policy_input_is_open(p));
        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        made = now_usec();
        /* inotify, not the 5 s retry timer */
        g_assert_true(RUN_UNTIL(f, button_policy_input_is_open(p), 2000));
        g_assert_cmpuint(now_usec() - made, <, 1000 * MS);
        g_assert_cmpuint(audit_count(f, "input=opened"), ==, 1);
        w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        g_assert_cmpint(w, >=, 0);
        t = now_usec();
        ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, t - 500 * MS, &o);
        write_press(w, KEY_CONNECT, t - 150 * MS, t - 50 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
}

/* A regular file is not an input: refused (no replaying of its contents), retried slowly. */
static void test_regular_file_refused(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *file = g_build_filename(f->dir, "file", NULL);
        Policy *p;

        g_assert_true(g_file_set_contents(file, "xxxxxxxxxxxxxxxxxxxxxxxx", -1, NULL));
        p = start_fifo(f, file, false);
        run_ms(f, 300);
        g_assert_false(button_policy_input_is_open(p));
        g_assert_cmpuint(audit_count(f, "input="), ==, 0);
}

/* GPIO source with a chip that is not there (or not a GPIO chip): a warning, retried, never an
 * error; the policy still runs (requests time out in the core). */
static void test_gpio_absent_chip(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *chip = g_build_filename(f->dir, "gpiochip7", NULL);
        _cleanup_free_ char *text = g_strdup_printf(
                "button = { source = \"gpio\"; chip = \"%s\"; line = 17; active_low = true; "
                "bias = \"pull-up\"; };",
                chip);
        Policy *p = start(f, 0, text);
        Outcome o = { 0 };
        PolicyCall *c;

        g_assert_false(button_policy_input_is_open(p));
        /* something appears at the path, but it is no GPIO chip: still not open, no spinning */
        g_assert_true(g_file_set_contents(chip, "", -1, NULL));
        {
                uint64_t cpu = cpu_usec();
                run_ms(f, 500);
                g_assert_cmpuint(cpu_usec() - cpu, <, 100 * MS);
        }
        g_assert_false(button_policy_input_is_open(p));
        c = ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, now_usec(), &o);
        g_assert_cmpuint(button_policy_pending(p), ==, 1);
        p->ops->cancel(c);
}

/* A chip given by label that no chip has: resolved at runtime, absent (not a config error). */
static void test_gpio_unknown_label(Fixture *f, gconstpointer data) {
        Policy *p = start(f, 0,
                          "button = { source = \"gpio\"; chip = \"no-such-chip-label\"; "
                          "line = 3; led_gpio = { chip = \"no-such-chip-label\"; line = 4; }; };");

        run_ms(f, 100);
        g_assert_false(button_policy_input_is_open(p));
        g_assert_true(button_policy_is_active(p));
}

/* ---- reload: the new instance takes over the input and the waiting requests --------------- */

static void test_takeover(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *fifo = g_build_filename(f->dir, "button", NULL);
        _cleanup_free_ char *text = g_strdup_printf(
                "button = { device = \"%s\"; key = \"KEY_CONNECT\"; window = 60; };", fifo);
        _cleanup_close_ int w = -EBADF;
        Policy *old, *new;
        Outcome o = { 0 };
        uint64_t t = now_usec();

        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        old = start(f, 0, text);
        g_assert_true(button_policy_input_is_open(old));
        ask(old, AGENT_METHOD_REQUEST_CONFIRMATION, t - 1000 * MS, &o);
        new = start(f, 1, text);
        g_assert_false(button_policy_is_active(old));
        g_assert_false(button_policy_input_is_open(old));
        g_assert_true(button_policy_input_is_open(new));
        g_assert_cmpuint(button_policy_pending(old), ==, 0);
        g_assert_cmpuint(button_policy_pending(new), ==, 1);
        /* the press is seen once, by the new instance: it decides the request and does not open
         * a window */
        w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        g_assert_cmpint(w, >=, 0);
        t = now_usec();
        write_press(w, KEY_CONNECT, t - 150 * MS, t - 50 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
        run_ms(f, 100);
        g_assert_false(button_policy_window_is_open(new));
        g_assert_false(button_policy_window_is_open(old));
        /* the old one goes away while the new one holds another request */
        {
                Outcome o2 = { 0 };
                PolicyCall *c = ask(new, AGENT_METHOD_REQUEST_AUTHORIZATION, now_usec(), &o2);

                free_instance(&f->inst[0]);
                g_assert_cmpuint(button_policy_pending(new), ==, 1);
                new->ops->cancel(c); /* the core ends it */
                g_assert_cmpuint(button_policy_pending(new), ==, 0);
                g_assert_cmpint(o2.n, ==, 0);
        }
}

/* ---- LED through sysfs-like files ------------------------------------------------------- */

static char *read_attr(const char *dir, const char *name) {
        _cleanup_free_ char *p = g_build_filename(dir, name, NULL);
        char *s = NULL;

        g_assert_true(g_file_get_contents(p, &s, NULL, NULL));
        return g_strstrip(s);
}

static void write_attr(const char *dir, const char *name, const char *value) {
        _cleanup_free_ char *p = g_build_filename(dir, name, NULL);

        g_assert_true(g_file_set_contents(p, value, -1, NULL));
}

static bool attr_is(const char *dir, const char *name, const char *value) {
        _cleanup_free_ char *s = read_attr(dir, name);

        return streq(s, value);
}

static void test_led_sysfs(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *led = g_build_filename(f->dir, "ACT", NULL);
        _cleanup_free_ char *dev = absent_device(f);
        _cleanup_free_ char *text = NULL;
        Policy *p;
        PolicyCall *c;
        Outcome o = { 0 };
        uint64_t t;

        g_assert_cmpint(g_mkdir(led, 0700), ==, 0);
        write_attr(led, "trigger", "none rc-feedback [mmc0] timer heartbeat\n");
        write_attr(led, "brightness", "1\n");
        write_attr(led, "max_brightness", "255\n");
        text = g_strdup_printf("button = { device = \"%s\"; key = \"KEY_CONNECT\"; "
                               "window = 60; led = \"%s\"; };",
                               dev, led);
        p = start(f, 0, text);
        g_assert_true(attr_is(led, "trigger", "none"));
        g_assert_true(attr_is(led, "brightness", "0"));
        /* waiting: blinking */
        c = ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, now_usec(), &o);
        g_assert_true(attr_is(led, "brightness", "255"));
        g_assert_true(RUN_UNTIL(f, attr_is(led, "brightness", "0"), 1000));
        g_assert_true(RUN_UNTIL(f, attr_is(led, "brightness", "255"), 1000));
        /* blinking is a timer, not a busy loop: about 4 toggles in a second */
        {
                uint64_t cpu = cpu_usec();
                run_ms(f, 1000);
                g_assert_cmpuint(cpu_usec() - cpu, <, 200 * MS);
        }
        p->ops->cancel(c);
        g_assert_true(attr_is(led, "brightness", "0"));
        /* window: on, steadily */
        t = now_usec();
        press(p, t - 100 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, button_policy_window_is_open(p), 1000));
        g_assert_true(attr_is(led, "brightness", "255"));
        run_ms(f, 600);
        g_assert_true(attr_is(led, "brightness", "255"));
        /* done: the saved trigger is back */
        free_instance(&f->inst[0]);
        g_assert_true(attr_is(led, "trigger", "mmc0"));
}

/* The daemon's window (window = { ... }): a press with nothing waiting opens it, the LED is on
 * while it is open, and a request still waits for its own press. */
static void test_shared_window(Fixture *f, gconstpointer data) {
        _cleanup_free_ char *led = g_build_filename(f->dir, "ACT", NULL);
        _cleanup_free_ char *dev = absent_device(f);
        _cleanup_free_ char *text = NULL;
        const PairingWindowConfig wc = {
                .adapter = "/org/bluez/hci0", .duration_sec = 30, .pairings = 1, .policy = "window"
        };
        PairingWindow *w = NULL;
        Outcome o = { 0 };
        PolicyCall *c;
        Policy *p;
        uint64_t t;

        g_assert_cmpint(g_mkdir(led, 0700), ==, 0);
        write_attr(led, "trigger", "none [mmc0]\n");
        write_attr(led, "brightness", "0\n");
        write_attr(led, "max_brightness", "255\n");
        g_assert_cmpint(pairing_window_new(&w, f->e, NULL, NULL, NULL, &wc), ==, 0);
        text = g_strdup_printf(
                "button = { device = \"%s\"; key = \"KEY_CONNECT\"; led = \"%s\"; };", dev, led);
        p = start_with_window(f, 0, text, w);
        g_assert_true(attr_is(led, "brightness", "0"));
        t = now_usec();
        press(p, t - 100 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, pairing_window_is_open(w), 1000));
        g_assert_false(button_policy_window_is_open(p)); /* not a window of its own */
        g_assert_true(attr_is(led, "brightness", "255"));
        /* open: a request still waits for a press (no allow without one) */
        c = ask(p, AGENT_METHOD_REQUEST_CONFIRMATION, now_usec(), &o);
        g_assert_nonnull(c);
        g_assert_cmpuint(button_policy_pending(p), ==, 1);
        run_ms(f, 100);
        t = now_usec();
        press(p, t - 100 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, o.n > 0, 1000));
        g_assert_cmpint(o.verdict, ==, VERDICT_ALLOW);
        g_assert_true(RUN_UNTIL(f, attr_is(led, "brightness", "255"), 1000));
        /* a long press with nothing waiting closes it; the LED goes off */
        t = now_usec();
        press(p, t - 2500 * MS, t - 10 * MS);
        g_assert_true(RUN_UNTIL(f, !pairing_window_is_open(w), 1000));
        g_assert_true(attr_is(led, "brightness", "0"));
        free_instance(&f->inst[0]);
        pairing_window_free(w, "test over");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        log_set_max_level(LOG_DEBUG);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/button/config/errors", test_config_errors);
        ADD("/button/window/shared", test_shared_window);
        ADD("/button/config/valid", test_config_valid);
        ADD("/button/config/route-without-section", test_config_route_without_section);
        ADD("/button/press/short-allows", test_short_press_allows);
        ADD("/button/press/long-denies", test_long_press_denies);
        ADD("/button/press/long-while-held", test_long_press_while_held);
        ADD("/button/press/before-request", test_press_before_request);
        ADD("/button/press/oldest-of-two", test_oldest_of_two);
        ADD("/button/press/cancel-while-waiting", test_cancel_while_waiting);
        ADD("/button/press/cancel-after-decision", test_cancel_after_decision);
        ADD("/button/press/passkey-passes", test_passkey_passes);
        ADD("/button/press/debounce", test_debounce);
        ADD("/button/window/opens-and-times-out", test_window_opens_and_times_out);
        ADD("/button/window/long-press-closes", test_window_long_press_closes);
        ADD("/button/window/none", test_no_window);
        ADD("/button/input/fifo", test_fifo_press);
        ADD("/button/input/appears-later", test_fifo_appears_later);
        ADD("/button/input/regular-file", test_regular_file_refused);
        ADD("/button/input/gpio-absent-chip", test_gpio_absent_chip);
        ADD("/button/input/gpio-unknown-label", test_gpio_unknown_label);
        ADD("/button/reload/takeover", test_takeover);
        ADD("/button/led/sysfs", test_led_sysfs);
        return g_test_run();
}
