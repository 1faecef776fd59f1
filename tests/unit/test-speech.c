/* SPDX-License-Identifier: MIT */
/* The speech policy on a real sd-event loop with a fake text-to-speech command
 * (tests/speech/fake-tts, which records its argv, stdin, process group and timing), and with the
 * real espeak-ng when it is installed: texts per method, digits, repeat and pause, no shell,
 * child hygiene, stopping (whole process group, SIGKILL escalation), no zombies, missing and
 * failing synthesisers, display speeches that outlive their request, random PINs, config errors.
 *
 * The fake needs /usr/bin/python3 with python3-gi; without it those cases are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "audit.h"
#include "chain.h"
#include "config.h"
#include "macro.h"
#include "spawn-pipeline.h"
#include "speech-text.h"

#define DEV   "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF"
#define ADDR  "AA:BB:CC:DD:EE:FF"
#define DEV2  "/org/bluez/hci0/dev_11_22_33_44_55_66"
#define ADDR2 "11:22:33:44:55:66"

static char *fake_tts;
static bool have_fake;
static GPtrArray *audit_lines; /* every audit line, as rendered for stderr */

static void on_audit(const AuditRecord *r, const char *line, void *userdata) {
        g_ptr_array_add(audit_lines, g_strdup(line));
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* ---- a world: loop, config, policies ---------------------------------------------------- */

typedef struct World {
        sd_event *e;
        char *dir, *log;
        Config *config;
        PolicySet *set;
        uint64_t next_id;
} World;

/* conf: the text after the routes; "@FAKE@" and "@LOG@" and "@DIR@" are replaced. */
static bool world_init(World *w, const char *routes, const char *conf) {
        _cleanup_free_ char *error = NULL;
        g_autoptr(GString) s = NULL;
        PolicyEnv env = { 0 };

        if (!have_fake && strstr(conf, "@FAKE@")) {
                g_test_skip("no /usr/bin/python3 with python3-gi for the fake TTS");
                return false;
        }
        *w = (World){ .next_id = 1 };
        g_assert_cmpint(sd_event_new(&w->e), >=, 0);
        w->dir = g_dir_make_tmp("pg-speech-XXXXXX", NULL);
        g_assert_nonnull(w->dir);
        w->log = g_build_filename(w->dir, "tts.log", NULL);
        s = g_string_new(NULL);
        g_string_append_printf(s, "routes = { %s };\n%s\n", routes, conf);
        g_string_replace(s, "@FAKE@", fake_tts, 0);
        g_string_replace(s, "@LOG@", w->log, 0);
        g_string_replace(s, "@DIR@", w->dir, 0);
        if (config_load_string(s->str, "t.conf", &w->config, &error) < 0)
                g_error("config: %s\n%s", error, s->str);
        env.event = w->e;
        env.config_path = "t.conf";
        g_assert_cmpint(policy_set_new(&w->set, w->config, &env, &error), ==, 0);
        g_ptr_array_set_size(audit_lines, 0);
        return true;
}

static void rm_rf(const char *dir) {
        GDir *d = g_dir_open(dir, 0, NULL);
        const char *n;

        while (d && (n = g_dir_read_name(d))) {
                _cleanup_free_ char *p = g_build_filename(dir, n, NULL);
                (void) g_unlink(p);
        }
        if (d)
                g_dir_close(d);
        (void) g_rmdir(dir);
}

static void world_done(World *w) {
        policy_set_unref(w->set); /* kills and reaps what is still running */
        config_free(w->config);
        sd_event_unref(w->e);
        rm_rf(w->dir);
        g_free(w->dir);
        g_free(w->log);
}

static void run_for(World *w, int ms) {
        uint64_t end = now_ms() + (uint64_t) ms;

        while (now_ms() < end)
                g_assert_cmpint(sd_event_run(w->e, UINT64_C(10000)), >=, 0);
}

static bool run_until(World *w, bool (*pred)(World *w, const void *arg), const void *arg,
                      int timeout_ms) {
        uint64_t end = now_ms() + (uint64_t) timeout_ms;

        while (!pred(w, arg)) {
                if (now_ms() >= end)
                        return false;
                g_assert_cmpint(sd_event_run(w->e, UINT64_C(10000)), >=, 0);
        }
        return true;
}

typedef struct Req {
        PairingQuery q;
        ChainOutcome outcome;
        bool finished;
        const char *const *route;
} Req;

static void on_chain_done(const ChainOutcome *o, void *userdata) {
        Req *r = userdata;

        r->outcome = *o;
        r->finished = true;
}

/* Ask the chain of the method's route; the route here never holds (speech answers at once). */
static void ask(World *w, Req *r, AgentMethod m, const char *device, const char *address) {
        ChainRun *run = NULL;
        int k;

        r->q.request_id = w->next_id++;
        r->q.method = m;
        r->q.device = device;
        r->q.address = address;
        r->q.model = "unknown";
        r->route = config_route(w->config, m);
        k = chain_run_start(&run, w->set, r->route, &r->q, on_chain_done, r, &r->outcome);
        g_assert_cmpint(k, ==, 1);
        r->finished = true;
}

/* What request.c does when a request ends (decided, canceled, timed out). */
static void end_request(World *w, const Req *r) {
        chain_request_ended(w->set, r->route, r->q.request_id);
}

/* ---- the fake's records ----------------------------------------------------------------- */

static GPtrArray *records(const World *w, const char *event, const char *role) {
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
        _cleanup_free_ char *text = NULL;
        char **lines;

        if (!g_file_get_contents(w->log, &text, NULL, NULL))
                return out;
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                GVariant *v;
                const char *ev = NULL, *ro = NULL;
                g_autoptr(GError) err = NULL;

                if (!**l)
                        continue;
                v = g_variant_parse(G_VARIANT_TYPE_VARDICT, *l, NULL, NULL, &err);
                g_assert_no_error(err);
                g_variant_lookup(v, "event", "&s", &ev);
                g_variant_lookup(v, "role", "&s", &ro);
                if ((!event || streq(ev, event)) && (!role || streq(ro, role)))
                        g_ptr_array_add(out, v); /* g_variant_parse(): not floating */
                else
                        g_variant_unref(v);
        }
        g_strfreev(lines);
        return out;
}

static unsigned n_records(const World *w, const char *event) {
        GPtrArray *a = records(w, event, NULL);
        unsigned n = a->len;

        g_ptr_array_unref(a);
        return n;
}

typedef struct Count {
        const char *event;
        unsigned n;
} Count;

static bool have_records(World *w, const void *arg) {
        const Count *c = arg;
        return n_records(w, c->event) >= c->n;
}

static bool wait_records(World *w, const char *event, unsigned n, int timeout_ms) {
        const Count c = { event, n };
        return run_until(w, have_records, &c, timeout_ms);
}

/* The text arguments (after "--") of a start record, joined with "|". */
static char *record_text(GVariant *rec) {
        g_autofree const char **text = NULL;

        g_assert_true(g_variant_lookup(rec, "text", "^a&s", &text));
        return g_strjoinv("|", (char **) text);
}

/* What the fake read from its stdin (it needs --read-stdin). */
static const char *rec_stdin(GVariant *rec) {
        const char *in = NULL;

        g_assert_true(g_variant_lookup(rec, "stdin", "&s", &in));
        return in;
}

/* Whether any element of the fake's argv contains needle. */
static bool argv_contains(GVariant *rec, const char *needle) {
        g_autofree const char **argv = NULL;

        g_assert_true(g_variant_lookup(rec, "argv", "^a&s", &argv));
        for (const char **a = argv; *a; a++)
                if (strstr(*a, needle))
                        return true;
        return false;
}

static int64_t rec_int(GVariant *rec, const char *key) {
        int64_t v = -1;

        g_assert_true(g_variant_lookup(rec, key, "x", &v));
        return v;
}

static double rec_time(GVariant *rec) {
        double t = 0;

        g_assert_true(g_variant_lookup(rec, "time", "d", &t));
        return t;
}

/* ---- processes -------------------------------------------------------------------------- */

/* Processes from /proc: calls f(pid, state, ppid, pgrp) for each. */
static void each_process(void (*f)(int pid, char state, int ppid, int pgrp, void *ud), void *ud) {
        GDir *d = g_dir_open("/proc", 0, NULL);
        const char *n;

        g_assert_nonnull(d);
        while ((n = g_dir_read_name(d))) {
                _cleanup_free_ char *path = NULL, *stat = NULL;
                const char *rp;
                char state;
                int ppid, pgrp;

                if (!g_ascii_isdigit(n[0]))
                        continue;
                path = g_strdup_printf("/proc/%s/stat", n);
                if (!g_file_get_contents(path, &stat, NULL, NULL))
                        continue;
                rp = strrchr(stat, ')');
                if (!rp || sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
                        continue;
                f(atoi(n), state, ppid, pgrp, ud);
        }
        g_dir_close(d);
}

typedef struct Match {
        int ppid, pgrp, pid;
        bool zombies_only, live_only;
        unsigned count;
} Match;

static void match_process(int pid, char state, int ppid, int pgrp, void *ud) {
        Match *m = ud;

        if ((m->ppid && ppid != m->ppid) || (m->pgrp && pgrp != m->pgrp) ||
            (m->pid && pid != m->pid))
                return;
        if ((m->zombies_only && state != 'Z') || (m->live_only && state == 'Z'))
                return;
        m->count++;
}

/* Our children (zombies_only: those in state Z). */
static unsigned children(bool zombies_only) {
        Match m = { .ppid = getpid(), .zombies_only = zombies_only };

        each_process(match_process, &m);
        return m.count;
}

static bool no_children(World *w, const void *arg) {
        return children(false) == 0;
}

/* No live process left in the group (orphaned members may linger as zombies until whoever
 * adopted them reaps them: they are dead). */
static bool group_gone(World *w, const void *arg) {
        Match m = { .pgrp = *(const pid_t *) arg, .live_only = true };

        each_process(match_process, &m);
        return m.count == 0;
}

static bool process_alive(pid_t pid) {
        Match m = { .pid = pid, .live_only = true };

        each_process(match_process, &m);
        return m.count > 0;
}

static bool audit_has(const char *needle1, const char *needle2) {
        for (guint i = 0; i < audit_lines->len; i++) {
                const char *l = audit_lines->pdata[i];
                if (strstr(l, needle1) && (!needle2 || strstr(l, needle2)))
                        return true;
        }
        return false;
}

static bool audit_seen(World *w, const void *arg) {
        return audit_has(arg, NULL);
}

/* ---- tests -------------------------------------------------------------------------------- */

#define FAKE_CMD(extra) \
        "command = [ \"@FAKE@\", \"--log\", \"@LOG@\", " extra " \"--\", \"{text}\" ];"

static void test_config_errors(void) {
        static const struct {
                const char *section, *error;
        } cases[] = {
                { "speech = { volume = 3; };", "t.conf:3: speech: unknown key 'volume'" },
                { "speech = { repeat = 0; };", "t.conf:3: speech.repeat = 0 is out of range" },
                { "speech = { repeat = 6; };", "out of range (1..5)" },
                { "speech = { repeat = \"2\"; };", "speech.repeat must be an integer" },
                { "speech = { pause_ms = 10001; };", "speech.pause_ms = 10001" },
                { "speech = { utterance_timeout = 0; };", "speech.utterance_timeout = 0" },
                { "speech = { display_timeout = 0; };", "speech.display_timeout = 0" },
                { "speech = { speak_names = \"yes\"; };", "speech.speak_names must be true or" },
                { "speech = { generate_pin = 1; };", "speech.generate_pin must be true or" },
                { "speech = { command = [ ]; };", "speech.command must be a list of 1..64" },
                { "speech = { command = \"espeak-ng {text}\"; };",
                  "speech.command must be a list" },
                { "speech = { command = [ \"\", \"{text}\" ]; };",
                  "speech.command[0] must be a non-empty string" },
                { "speech = { command = [ \"{text}\" ]; };", "speech.command[0] \"{text}\": " },
                { "speech = { command = ( \"espeak-ng\", 3 ); };", "speech.command[1] must be a" },
                { "speech = { command = [ \"espeak-ng\", \"{txt}\" ]; };",
                  "unknown placeholder {txt}" },
                { "speech = { command = [ \"espeak-ng\", \"{passkey}\" ]; };",
                  "unavailable placeholder {passkey} (allowed here: {text})" },
                { "speech = { player = [ \"aplay\", \"{text}\" ]; };",
                  "speech.player[1] \"{text}\": unavailable placeholder {text}" },
                { "speech = { texts = [ \"x\" ]; };", "speech.texts must be a group" },
                { "speech = { texts = { RequestPasskey = \"x\"; }; };",
                  "speech.texts: no text for 'RequestPasskey'" },
                { "speech = { texts = { Bogus = \"x\"; }; };", "no text for 'Bogus'" },
                { "speech = { texts = { DisplayPasskey = 5; }; };",
                  "speech.texts.DisplayPasskey must be a string" },
                { "speech = { texts = { DisplayPasskey = \"Code {passcode}\"; }; };",
                  "t.conf:3: speech.texts.DisplayPasskey: unknown placeholder {passcode}" },
                { "speech = { texts = { DisplayPasskey = \"PIN {pin}\"; }; };",
                  "speech.texts.DisplayPasskey: unavailable placeholder {pin}" },
                { "speech = { texts = { RequestAuthorization = \"{passkey}\"; }; };",
                  "unavailable placeholder {passkey}" },
                { "speech = { texts = { DisplayPasskey = \"{passkey\"; }; };", "unmatched '{'" },
                { "speech = { generate_pin = true;\n texts = { RequestPinCode = \"Say it\"; }; };",
                  "t.conf:4: speech.texts.RequestPinCode must contain {pin}" },
                { "speech = { texts = { KeypadDigit = \"{passkey}\"; }; };",
                  "t.conf:3: speech.texts.KeypadDigit: unavailable placeholder {passkey}" },
                { "speech = { texts = { KeypadPasskey = \"Type {digit}\"; }; };",
                  "speech.texts.KeypadPasskey: unavailable placeholder {digit}" },
                { "speech = { texts = { KeypadDelete = 1; }; };",
                  "speech.texts.KeypadDelete must be a string" },
                { "speech = { texts = { DisplayPasskey = \"{digit}\"; }; };",
                  "speech.texts.DisplayPasskey: unavailable placeholder {digit}" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = g_strdup_printf(
                        "routes = {\n DisplayPasskey = [ \"speech\" ]; };\n%s\n", cases[i].section);
                _cleanup_free_ char *error = NULL;
                Config *c = NULL;

                g_test_message("case: %s", cases[i].section);
                g_assert_cmpint(config_load_string(text, "t.conf", &c, &error), <, 0);
                g_assert_nonnull(error);
                if (!strstr(error, cases[i].error))
                        g_error("case %zu: got error '%s', expected '%s'", i, error,
                                cases[i].error);
                g_assert_null(c);
        }

        /* Every key, valid. */
        {
                const char *text =
                        "routes = { DisplayPasskey = [ \"speech\" ]; };\n"
                        "speech = { command = [ \"piper\", \"--output-raw\" ];\n"
                        "  player = [ \"aplay\", \"-q\", \"-r\", \"22050\", \"-f\", \"S16_LE\","
                        "             \"-t\", \"raw\", \"-\" ];\n"
                        "  repeat = 5; pause_ms = 0; utterance_timeout = 120; display_timeout = "
                        "600;\n"
                        "  speak_names = true; generate_pin = true;\n"
                        "  texts = { DisplayPasskey = \"{{code}} {passkey} for {device}, {kind}\";"
                        "            RequestConfirmation = \"\"; DisplayPinCode = \"{pin}\";"
                        "            RequestPinCode = \"PIN {pin}\";"
                        "            RequestAuthorization = \"{device}?\";"
                        "            KeypadPasskey = \"Type the code of {device}\";"
                        "            KeypadPinCode = \"PIN of {kind}\"; KeypadDigit = \"{digit}.\";"
                        "            KeypadDelete = \"\"; }; };\n";
                _cleanup_free_ char *error = NULL;
                Config *c = NULL;

                g_assert_cmpint(config_load_string(text, "t.conf", &c, &error), ==, 0);
                config_free(c);
        }
}

static void test_texts(void) {
        World w;
        Req a = { .q.passkey = 12345 }, b = { .q.passkey = 987654 }, c = { .q.pincode = "0000" },
            d = { 0 };
        GPtrArray *starts;
        g_autofree char *ta = NULL, *tb = NULL, *tc = NULL, *td = NULL;

        if (!world_init(&w,
                        "DisplayPasskey = [ \"speech\" ]; RequestConfirmation = [ \"speech\" ];"
                        "DisplayPinCode = [ \"speech\" ]; RequestAuthorization = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("\"--read-stdin\",") " repeat = 1; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        /* The presenter passes: a notification nobody refused is acknowledged. */
        g_assert_cmpint(a.outcome.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(a.outcome.policy, ==, "");
        g_assert_true(wait_records(&w, "end", 1, 5000));
        b.q.has_class = true;
        b.q.device_class = 0x5a020c;
        ask(&w, &b, AGENT_METHOD_REQUEST_CONFIRMATION, DEV2, ADDR2);
        /* RequestConfirmation: nobody decided after the presenter: rejected. */
        g_assert_cmpint(b.outcome.result, ==, CHAIN_DENY);
        g_assert_true(wait_records(&w, "end", 2, 5000));
        ask(&w, &c, AGENT_METHOD_DISPLAY_PIN_CODE, DEV, ADDR);
        g_assert_true(wait_records(&w, "end", 3, 5000));
        d.q.has_class = true;
        d.q.device_class = 0x240404;
        ask(&w, &d, AGENT_METHOD_REQUEST_AUTHORIZATION, DEV2, ADDR2);
        g_assert_true(wait_records(&w, "end", 4, 5000));

        starts = records(&w, "start", NULL);
        g_assert_cmpuint(starts->len, ==, 4);
        ta = record_text(starts->pdata[0]);
        tb = record_text(starts->pdata[1]);
        tc = record_text(starts->pdata[2]);
        td = record_text(starts->pdata[3]);
        g_assert_cmpstr(ta, ==, "Pairing code: 0 1 2 3 4 5.");
        g_assert_cmpstr(tb, ==,
                        "Pairing request from a phone. Code: 9 8 7 6 5 4. Press the button to "
                        "accept.");
        g_assert_cmpstr(tc, ==, ""); /* a PIN: never an argument, on stdin */
        g_assert_cmpstr(rec_stdin(starts->pdata[2]), ==, "Pairing PIN: 0 0 0 0.\n");
        g_assert_cmpstr(td, ==, "Pairing request from a headset. Press the button to accept.");
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_custom_texts_and_names(void) {
        World w;
        Req a = { .q.passkey = 42,
                  .q.name = "Kitchen Phone",
                  .q.has_class = true,
                  .q.device_class = 0x5a020c },
            b = { .q.passkey = 42, .q.name = "$$$" };
        GPtrArray *starts;
        g_autofree char *ta = NULL, *tb = NULL;

        if (!world_init(&w, "RequestConfirmation = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("") " repeat = 1; speak_names = true;\n"
                                                   " texts = { RequestConfirmation = "
                                                   "\"{{{device}}} is {kind}: {passkey}\";"
                                                   " }; };"))
                return;
        ask(&w, &a, AGENT_METHOD_REQUEST_CONFIRMATION, DEV, ADDR);
        g_assert_true(wait_records(&w, "end", 1, 5000));
        ask(&w, &b, AGENT_METHOD_REQUEST_CONFIRMATION, DEV2, ADDR2);
        g_assert_true(wait_records(&w, "end", 2, 5000));
        starts = records(&w, "start", NULL);
        ta = record_text(starts->pdata[0]);
        tb = record_text(starts->pdata[1]);
        g_assert_cmpstr(ta, ==, "{Kitchen Phone} is a phone: 0 0 0 0 4 2");
        /* Nothing speakable left of the name: the kind instead. */
        g_assert_cmpstr(tb, ==, "{a device} is a device: 0 0 0 0 4 2");
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_repeat_pause_and_hygiene(void) {
        World w;
        Req a = { .q.passkey = 654321 };
        GPtrArray *starts, *ends;
        int leak;

        if (!world_init(&w, "DisplayPasskey = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("\"--sleep\", \"0.3\",") " repeat = 3;"
                                                                        " pause_ms = 400; };"))
                return;
        /* A descriptor someone forgot to mark O_CLOEXEC must not reach the child. */
        leak = fcntl(STDERR_FILENO, F_DUPFD, 100);
        g_assert_cmpint(leak, >=, 100);
        g_setenv("NOTIFY_SOCKET", "/run/should-not-leak", true);
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_unsetenv("NOTIFY_SOCKET");
        g_assert_true(wait_records(&w, "end", 3, 10000));
        run_for(&w, 600); /* a fourth would start by now */
        starts = records(&w, "start", NULL);
        ends = records(&w, "end", NULL);
        g_assert_cmpuint(starts->len, ==, 3);
        for (guint i = 0; i < starts->len; i++) {
                GVariant *s = starts->pdata[i];
                g_autofree char *t = record_text(s);
                GVariantIter it;
                int64_t fd;
                gsize n_fds = 0;
                const char *mask = NULL;
                gboolean notify = true;
                GVariant *fdv;

                g_assert_cmpstr(t, ==, "Pairing code: 6 5 4 3 2 1.");
                /* Its own process group, a clean signal mask, no inherited descriptors, no
                 * sd_notify socket. */
                g_assert_cmpint(rec_int(s, "pgid"), ==, rec_int(s, "pid"));
                g_assert_true(g_variant_lookup(s, "sigmask", "&s", &mask));
                g_assert_cmpstr(mask, ==, "0000000000000000");
                g_assert_true(g_variant_lookup(s, "env_notify", "b", &notify));
                g_assert_false(notify);
                fdv = g_variant_lookup_value(s, "fds", G_VARIANT_TYPE("ax"));
                g_assert_nonnull(fdv);
                g_variant_iter_init(&it, fdv);
                while (g_variant_iter_next(&it, "x", &fd)) {
                        g_assert_cmpint(fd, <=, 3); /* 3: the fake's own listdir */
                        n_fds++;
                }
                g_assert_cmpuint(n_fds, >=, 3);
                g_variant_unref(fdv);
                if (i > 0) {
                        /* each starts after the previous one ended plus the pause */
                        double gap = rec_time(s) - rec_time(ends->pdata[i - 1]);
                        g_assert_cmpfloat(gap, >=, 0.35);
                        g_assert_cmpfloat(gap, <, 2.0);
                }
        }
        g_assert_true(run_until(&w, no_children, NULL, 2000));
        (void) close(leak);
        g_ptr_array_unref(starts);
        g_ptr_array_unref(ends);
        world_done(&w);
}

static void test_no_shell(void) {
        World w;
        _cleanup_free_ char *marker = NULL, *m2 = NULL;
        const char *names[4];
        Req r[4];
        GPtrArray *starts;

        if (!world_init(&w, "RequestConfirmation = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("") " repeat = 1; speak_names = true; };"))
                return;
        marker = g_build_filename(w.dir, "pwned", NULL);
        m2 = g_build_filename(w.dir, "pwned2", NULL);
        names[0] = g_strdup_printf("$(touch %s)", marker);
        names[1] = g_strdup_printf("`touch %s`; touch %s", marker, m2);
        names[2] = g_strdup_printf("x\ntouch %s\n|| touch %s & echo >%s", marker, m2, marker);
        names[3] = g_strdup("'; \"$HOME\" * ? ~ \\");
        for (int i = 0; i < 4; i++) {
                r[i] = (Req){ .q.passkey = 111111, .q.name = names[i] };
                ask(&w, &r[i], AGENT_METHOD_REQUEST_CONFIRMATION, DEV, ADDR);
                g_assert_true(wait_records(&w, "end", (unsigned) i + 1, 5000));
        }
        starts = records(&w, "start", NULL);
        g_assert_cmpuint(starts->len, ==, 4);
        for (int i = 0; i < 4; i++) {
                g_autofree char *t = record_text(starts->pdata[i]);
                _cleanup_free_ char *clean = speech_sanitize_name(names[i], SPEECH_NAME_MAX);
                _cleanup_free_ char *want = g_strdup_printf(
                        "Pairing request from %s. Code: 1 1 1 1 1 1. Press the button to accept.",
                        clean);
                /* one argument, exactly the sanitised text */
                g_assert_cmpstr(t, ==, want);
                g_assert_null(strpbrk(t, "$`;|&<>\n\"\\*?~"));
        }
        g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(m2, G_FILE_TEST_EXISTS));
        for (int i = 0; i < 4; i++)
                g_free((char *) names[i]);
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_hostile_text_stays_one_argument(void) {
        /* Even unsanitised text (a custom template full of shell syntax) is one argv element. */
        World w;
        Req a = { .q.passkey = 1 };
        GPtrArray *starts;
        g_autofree char *t = NULL;
        _cleanup_free_ char *marker = NULL, *want = NULL;

        if (!world_init(
                    &w, "DisplayPasskey = [ \"speech\" ];",
                    "speech = { " FAKE_CMD(
                            "") " repeat = 1;"
                                " texts = { DisplayPasskey = \"$(touch @DIR@/m) `touch @DIR@/m`; "
                                "{passkey} > @DIR@/m\"; }; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(wait_records(&w, "end", 1, 5000));
        starts = records(&w, "start", NULL);
        t = record_text(starts->pdata[0]);
        want = g_strdup_printf("$(touch %s/m) `touch %s/m`; 0 0 0 0 0 1 > %s/m", w.dir, w.dir,
                               w.dir);
        g_assert_cmpstr(t, ==, want);
        marker = g_build_filename(w.dir, "m", NULL);
        g_assert_false(g_file_test(marker, G_FILE_TEST_EXISTS));
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_stop_on_request_end(void) {
        World w;
        Req a = { .q.passkey = 123456 };
        GPtrArray *starts;
        pid_t pgid, grandchild;
        uint64_t t0;

        if (!world_init(&w, "RequestConfirmation = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("\"--sleep\", \"30\", \"--grandchild\",") " };"))
                return;
        ask(&w, &a, AGENT_METHOD_REQUEST_CONFIRMATION, DEV, ADDR);
        g_assert_true(wait_records(&w, "start", 1, 5000));
        run_for(&w, 200);
        starts = records(&w, "start", NULL);
        pgid = (pid_t) rec_int(starts->pdata[0], "pgid");
        grandchild = (pid_t) rec_int(starts->pdata[0], "grandchild");
        g_assert_true(process_alive(grandchild));
        g_assert_false(group_gone(&w, &pgid));

        t0 = now_ms();
        end_request(&w, &a); /* decided, canceled or timed out: the same hook */
        g_assert_true(wait_records(&w, "term", 1, 3000));
        g_assert_true(run_until(&w, group_gone, &pgid, 3000));
        g_assert_cmpuint(now_ms() - t0, <, 1500); /* SIGTERM was enough, no grace needed */
        g_assert_false(process_alive(grandchild));
        g_assert_true(run_until(&w, no_children, NULL, 3000));
        g_assert_cmpuint(children(true), ==, 0);
        g_assert_cmpuint(n_records(&w, "end"), ==, 0);
        /* stopping is not a failure */
        g_assert_false(audit_has("event=policy", NULL));
        run_for(&w, 300);
        g_assert_cmpuint(n_records(&w, "start"), ==, 1); /* the repeat did not start either */
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_kill_escalation(void) {
        World w;
        Req a = { .q.passkey = 123456 };
        GPtrArray *starts;
        pid_t pgid;
        uint64_t t0, dt;

        if (!world_init(&w, "RequestConfirmation = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("\"--sleep\", \"30\", \"--ignore-term\",") " };"))
                return;
        ask(&w, &a, AGENT_METHOD_REQUEST_CONFIRMATION, DEV, ADDR);
        g_assert_true(wait_records(&w, "start", 1, 5000));
        starts = records(&w, "start", NULL);
        pgid = (pid_t) rec_int(starts->pdata[0], "pgid");
        t0 = now_ms();
        end_request(&w, &a);
        g_assert_true(wait_records(&w, "term-ignored", 1, 3000));
        g_assert_true(run_until(&w, group_gone, &pgid, 4000));
        dt = now_ms() - t0;
        g_test_message("SIGTERM ignored: gone after %" PRIu64 " ms", dt);
        g_assert_cmpuint(dt, >=, 900); /* the grace */
        g_assert_cmpuint(dt, <, 2500);
        g_assert_true(run_until(&w, no_children, NULL, 2000));
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_utterance_timeout(void) {
        World w;
        Req a = { .q.passkey = 123456 };
        uint64_t t0 = now_ms();

        if (!world_init(
                    &w, "DisplayPasskey = [ \"speech\" ];",
                    "speech = { " FAKE_CMD("\"--sleep\", \"30\",") " utterance_timeout = 1; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(run_until(&w, audit_seen, "tts=timeout", 5000));
        g_assert_cmpuint(now_ms() - t0, >=, 1000);
        g_assert_true(audit_has("tts=timeout", "policy=speech"));
        g_assert_true(audit_has("tts=timeout", "event=policy"));
        g_assert_true(audit_has("tts=timeout", "utterance_timeout"));
        g_assert_cmpuint(n_records(&w, "term"), ==, 1);
        g_assert_true(run_until(&w, no_children, NULL, 3000));
        run_for(&w, 1500);
        /* no second attempt with a hanging synthesiser */
        g_assert_cmpuint(n_records(&w, "start"), ==, 1);
        world_done(&w);
}

static void test_missing_and_failing(void) {
        static const struct {
                const char *command, *audit, *reason;
        } cases[] = {
                { "command = [ \"/nonexistent/espeak-ng\", \"{text}\" ];", "tts=missing",
                  "cannot run command '/nonexistent/espeak-ng': not found" },
                { "command = [ \"no-such-tts-program-pairgate\", \"{text}\" ];", "tts=missing",
                  "not found" },
                { "command = [ \"/tmp\", \"{text}\" ];", "tts=failed", "Permission denied" },
                { FAKE_CMD("\"--exit\", \"127\","), "tts=missing", "exited with status 127" },
                { FAKE_CMD("\"--exit\", \"3\","), "tts=failed",
                  "command '@FAKE@' exited with status 3" },
                { "command = [ \"/bin/true\" ]; player = [ \"/nonexistent/aplay\" ];",
                  "tts=missing", "cannot run player '/nonexistent/aplay'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                World w;
                _cleanup_free_ char *conf = g_strdup_printf("speech = { %s };", cases[i].command);
                _cleanup_free_ char *reason = NULL;
                Req a = { .q.passkey = 123456 }, b = { .q.passkey = 1 };
                uint64_t t0;

                g_test_message("case: %s", cases[i].command);
                if (!world_init(&w,
                                "DisplayPasskey = [ \"speech\" ];"
                                "RequestConfirmation = [ \"speech\" ];",
                                conf))
                        return;
                reason = g_strdup(cases[i].reason);
                if (strstr(reason, "@FAKE@")) {
                        g_autoptr(GString) s = g_string_new(reason);
                        g_string_replace(s, "@FAKE@", fake_tts, 0);
                        g_free(reason);
                        reason = g_strdup(s->str);
                }
                t0 = now_ms();
                ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
                g_assert_cmpuint(now_ms() - t0, <, 500);            /* never blocks */
                g_assert_cmpint(a.outcome.result, ==, CHAIN_ALLOW); /* acknowledged as usual */
                g_assert_true(run_until(&w, audit_seen, cases[i].audit, 5000));
                if (!audit_has(cases[i].audit, reason)) {
                        for (guint k = 0; k < audit_lines->len; k++)
                                g_test_message("audit: %s", (char *) audit_lines->pdata[k]);
                        g_error("no audit record with %s and '%s'", cases[i].audit, reason);
                }
                g_assert_true(audit_has(cases[i].audit, "method=DisplayPasskey"));
                g_assert_true(audit_has(cases[i].audit, "address=" ADDR));
                /* a failure never approves anything */
                ask(&w, &b, AGENT_METHOD_REQUEST_CONFIRMATION, DEV2, ADDR2);
                g_assert_cmpint(b.outcome.result, ==, CHAIN_DENY);
                g_assert_true(run_until(&w, no_children, NULL, 3000));
                run_for(&w, 1200);
                g_assert_cmpuint(n_records(&w, "start"), <=, 2); /* one per request, no retry */
                world_done(&w);
        }
}

static void test_display_passkey_outlives_request(void) {
        World w;
        Req a = { .q.passkey = 123456 }, k1 = { .q.passkey = 123456, .q.entered = 1 },
            k2 = { .q.passkey = 123456, .q.entered = 2 }, n = { .q.passkey = 222222 },
            c = { .q.passkey = 333333 };
        GPtrArray *starts;
        pid_t pgid;

        if (!world_init(&w,
                        "DisplayPasskey = [ \"speech\" ]; RequestConfirmation = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("\"--sleep\", \"30\",") " display_timeout = 3; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(wait_records(&w, "start", 1, 5000));
        /* The request ended at once (bluetoothd does not wait): keep speaking. */
        end_request(&w, &a);
        run_for(&w, 500);
        g_assert_cmpuint(n_records(&w, "term"), ==, 0);
        /* Keypress notifications: the same device and passkey, entered increasing. */
        ask(&w, &k1, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        end_request(&w, &k1);
        ask(&w, &k2, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        end_request(&w, &k2);
        run_for(&w, 500);
        g_assert_cmpuint(n_records(&w, "start"), ==, 1);
        g_assert_cmpuint(n_records(&w, "term"), ==, 0);
        /* A new passkey for the device: a new pairing attempt replaces the old speech. */
        ask(&w, &n, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        end_request(&w, &n);
        g_assert_true(wait_records(&w, "term", 1, 3000));
        g_assert_true(wait_records(&w, "start", 2, 3000));
        starts = records(&w, "start", NULL);
        {
                g_autofree char *t = record_text(starts->pdata[1]);
                g_assert_cmpstr(t, ==, "Pairing code: 2 2 2 2 2 2.");
        }
        pgid = (pid_t) rec_int(starts->pdata[1], "pgid");
        /* Bounded by display_timeout (3 s here) when the pairing's end is never seen. */
        g_assert_true(run_until(&w, group_gone, &pgid, 5000));
        g_assert_true(wait_records(&w, "term", 2, 1000));
        g_assert_true(run_until(&w, no_children, NULL, 2000));
        /* After the bound, the same passkey would be spoken again (a new record). */
        ask(&w, &k1, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(wait_records(&w, "start", 3, 3000));
        /* A RequestConfirmation for another device silences the display speech. */
        ask(&w, &c, AGENT_METHOD_REQUEST_CONFIRMATION, DEV2, ADDR2);
        g_assert_true(wait_records(&w, "term", 3, 3000));
        g_assert_true(wait_records(&w, "start", 4, 3000));
        end_request(&w, &c);
        g_assert_true(wait_records(&w, "term", 4, 3000));
        g_assert_true(run_until(&w, no_children, NULL, 3000));
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_generate_pin(void) {
        World w;
        Req a = { 0 }, b = { 0 };
        GPtrArray *starts;

        if (!world_init(&w, "RequestPinCode = [ \"speech\" ];",
                        "speech = { " FAKE_CMD(
                                "\"--sleep\", \"0.2\", \"--read-stdin\",") " generate_pin = true;"
                                                                           " repeat = 1; };"))
                return;
        ask(&w, &a, AGENT_METHOD_REQUEST_PIN_CODE, DEV, ADDR);
        end_request(&w, &a);
        g_assert_cmpint(a.outcome.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(a.outcome.policy, ==, "speech");
        g_assert_cmpuint(strlen(a.outcome.pin), ==, 6);
        for (int i = 0; i < 6; i++)
                g_assert_true(g_ascii_isdigit(a.outcome.pin[i]));
        /* The PIN is spoken even though the request ended at once. */
        g_assert_true(wait_records(&w, "end", 1, 5000));
        ask(&w, &b, AGENT_METHOD_REQUEST_PIN_CODE, DEV, ADDR);
        end_request(&w, &b);
        g_assert_cmpint(b.outcome.result, ==, CHAIN_ALLOW);
        g_assert_cmpstr(a.outcome.pin, !=, b.outcome.pin); /* 1 in 10^6 to fail by chance */
        g_assert_true(wait_records(&w, "end", 2, 5000));
        starts = records(&w, "start", NULL);
        for (int i = 0; i < 2; i++) {
                g_autofree char *t = record_text(starts->pdata[i]);
                _cleanup_free_ char *words =
                        speech_spell(i == 0 ? a.outcome.pin : b.outcome.pin, 16);
                _cleanup_free_ char *want = g_strdup_printf("Pairing PIN: %s.\n", words);
                g_assert_cmpstr(t, ==, ""); /* never an argument: on stdin */
                g_assert_cmpstr(rec_stdin(starts->pdata[i]), ==, want);
        }
        /* Never in an audit record. */
        for (guint i = 0; i < audit_lines->len; i++) {
                g_assert_null(strstr(audit_lines->pdata[i], a.outcome.pin));
                g_assert_null(strstr(audit_lines->pdata[i], b.outcome.pin));
        }
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_generate_pin_without_speech(void) {
        /* A PIN nobody can hear is never returned. */
        World w;
        Req a = { 0 };

        if (!world_init(&w, "RequestPinCode = [ \"speech\" ];",
                        "speech = { command = [ \"/nonexistent/tts\", \"{text}\" ];"
                        " generate_pin = true; };"))
                return;
        ask(&w, &a, AGENT_METHOD_REQUEST_PIN_CODE, DEV, ADDR);
        g_assert_cmpint(a.outcome.result, ==, CHAIN_DENY);
        g_assert_cmpstr(a.outcome.pin, ==, "");
        g_assert_true(audit_has("tts=missing", "method=RequestPinCode"));
        world_done(&w);

        /* generate_pin off: speech does not answer RequestPinCode. */
        if (!world_init(&w, "RequestPinCode = [ \"speech\" ];", "speech = { };"))
                return;
        ask(&w, &a, AGENT_METHOD_REQUEST_PIN_CODE, DEV, ADDR);
        g_assert_cmpint(a.outcome.result, ==, CHAIN_DENY);
        world_done(&w);
}

static void test_player_and_stdin(void) {
        World w;
        Req a = { .q.passkey = 5 };
        GPtrArray *tts, *player;
        const char *in = NULL;
        int64_t bytes = 0;

        /* No {text} in the command: the text goes to its stdin; its stdout goes to the player,
         * in the same process group. */
        if (!world_init(&w, "DisplayPasskey = [ \"speech\" ];",
                        "speech = { repeat = 1;"
                        " command = [ \"@FAKE@\", \"--log\", \"@LOG@\", \"--read-stdin\","
                        "             \"--stdout\", \"70000\" ];"
                        " player = [ \"@FAKE@\", \"--log\", \"@LOG@\", \"--role\", \"player\","
                        "            \"--read-stdin\" ]; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(wait_records(&w, "end", 2, 5000));
        tts = records(&w, "start", "tts");
        player = records(&w, "start", "player");
        g_assert_cmpuint(tts->len, ==, 1);
        g_assert_cmpuint(player->len, ==, 1);
        g_assert_true(g_variant_lookup(tts->pdata[0], "stdin", "&s", &in));
        g_assert_cmpstr(in, ==, "Pairing code: 0 0 0 0 0 5.\n");
        g_assert_true(g_variant_lookup(player->pdata[0], "stdin_bytes", "x", &bytes));
        g_assert_cmpint(bytes, ==, 70000);
        g_assert_cmpint(rec_int(player->pdata[0], "pgid"), ==, rec_int(tts->pdata[0], "pid"));
        g_assert_true(run_until(&w, no_children, NULL, 2000));
        g_assert_false(audit_has("event=policy", NULL));
        g_ptr_array_unref(tts);
        g_ptr_array_unref(player);
        world_done(&w);

        /* A failing player is reported as the player's failure. */
        if (!world_init(&w, "DisplayPasskey = [ \"speech\" ];",
                        "speech = { repeat = 1; command = [ \"@FAKE@\", \"--log\", \"@LOG@\","
                        " \"--stdout\", \"100\", \"{text}\" ];"
                        " player = [ \"@FAKE@\", \"--log\", \"@LOG@\", \"--role\", \"player\","
                        "            \"--exit\", \"1\" ]; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(run_until(&w, audit_seen, "tts=failed", 5000));
        g_assert_true(audit_has("tts=failed", "player '"));
        world_done(&w);
}

static void test_pin_never_in_argv(void) {
        /* /proc/<pid>/cmdline is readable by every local user: a text holding a PIN goes to the
         * command's stdin even though the command has {text}; other texts are unchanged. */
        World w;
        Req a = { .q.pincode = "735194" }, b = { 0 }, c = { .q.passkey = 246810 };
        GPtrArray *starts;
        _cleanup_free_ char *gen_words = NULL, *gen_want = NULL;

        if (!world_init(&w,
                        "DisplayPinCode = [ \"speech\" ]; RequestPinCode = [ \"speech\" ];"
                        " DisplayPasskey = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("\"--read-stdin\",") " repeat = 1;"
                                                                    " generate_pin = true; };"))
                return;
        ask(&w, &a, AGENT_METHOD_DISPLAY_PIN_CODE, DEV, ADDR);
        g_assert_true(wait_records(&w, "end", 1, 5000));
        ask(&w, &b, AGENT_METHOD_REQUEST_PIN_CODE, DEV2, ADDR2);
        g_assert_cmpint(b.outcome.result, ==, CHAIN_ALLOW);
        g_assert_cmpuint(strlen(b.outcome.pin), ==, 6);
        g_assert_true(wait_records(&w, "end", 2, 5000));
        ask(&w, &c, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(wait_records(&w, "end", 3, 5000));

        starts = records(&w, "start", NULL);
        g_assert_cmpuint(starts->len, ==, 3);
        /* DisplayPinCode: the PIN on stdin only. */
        g_assert_cmpstr(rec_stdin(starts->pdata[0]), ==, "Pairing PIN: 7 3 5 1 9 4.\n");
        g_assert_false(argv_contains(starts->pdata[0], "7 3 5 1 9 4"));
        g_assert_false(argv_contains(starts->pdata[0], "735194"));
        g_assert_false(argv_contains(starts->pdata[0], "Pairing"));
        {
                g_autofree char *t = record_text(starts->pdata[0]);
                g_assert_cmpstr(t, ==, ""); /* the {text} argument is left out, not emptied */
        }
        /* A generated PIN: the same. */
        gen_words = speech_spell(b.outcome.pin, 16);
        gen_want = g_strdup_printf("Pairing PIN: %s.\n", gen_words);
        g_assert_cmpstr(rec_stdin(starts->pdata[1]), ==, gen_want);
        g_assert_false(argv_contains(starts->pdata[1], gen_words));
        g_assert_false(argv_contains(starts->pdata[1], b.outcome.pin));
        g_assert_false(argv_contains(starts->pdata[1], "Pairing"));
        /* A passkey (not a secret: said aloud anyway): an argument as before, stdin empty. */
        {
                g_autofree char *t = record_text(starts->pdata[2]);
                g_assert_cmpstr(t, ==, "Pairing code: 2 4 6 8 1 0.");
                g_assert_cmpstr(rec_stdin(starts->pdata[2]), ==, "");
        }
        g_assert_false(audit_has("event=policy", NULL));
        g_assert_true(run_until(&w, no_children, NULL, 3000));
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_no_option_in_argv(void) {
        /* A name (speak_names) or a text starting with '-' must not become an option of the
         * synthesiser: espeak-ng "-wfoo.wav" would write a file instead of speaking. */
        static const char *const names[] = { "-wfoo.wav", "--help", "- - -", " -s 1 text" };
        static const char *const want[] = { "wfoo.wav: 0 0 0 0 0 1", "help: 0 0 0 0 0 1",
                                            "a device: 0 0 0 0 0 1", "s 1 text: 0 0 0 0 0 1",
                                            " --0 0 0 0 0 2" };
        World w;
        GPtrArray *starts;

        if (!world_init(&w,
                        "RequestConfirmation = [ \"speech\" ]; DisplayPasskey = [ \"speech\" ];",
                        "speech = { " FAKE_CMD("") " repeat = 1; speak_names = true;\n"
                                                   " texts = { RequestConfirmation = "
                                                   "\"{device}: {passkey}\";"
                                                   " DisplayPasskey = \"--{passkey}\"; }; };"))
                return;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                Req r = { .q.passkey = 1, .q.name = names[i] };
                ask(&w, &r, AGENT_METHOD_REQUEST_CONFIRMATION, DEV, ADDR);
                g_assert_true(wait_records(&w, "end", (unsigned) i + 1, 5000));
        }
        {
                Req r = { .q.passkey = 2 };
                ask(&w, &r, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
                g_assert_true(wait_records(&w, "end", ELEMENTSOF(names) + 1, 5000));
        }
        starts = records(&w, "start", NULL);
        g_assert_cmpuint(starts->len, ==, ELEMENTSOF(want));
        for (guint i = 0; i < starts->len; i++) {
                g_autofree const char **text = NULL;

                g_assert_true(g_variant_lookup(starts->pdata[i], "text", "^a&s", &text));
                g_assert_cmpuint(g_strv_length((char **) text), ==, 1);
                g_assert_cmpint(text[0][0], !=, '-');
                g_assert_cmpstr(text[0], ==, want[i]);
        }
        g_ptr_array_unref(starts);
        world_done(&w);
}

static void test_failure_after_spawn(void) {
        /* A step of spawn_pipeline_start() after the command was started fails (none can be made
         * to fail from outside, hence the test-only fault injection). It is no program's
         * failure: reported as such, without a player to blame (there may be none), and the
         * request is answered as with any broken synthesiser. */
#ifdef PAIRGATE_TEST_POLICIES
        static const char *const players[] = {
                "",
                " player = [ \"@FAKE@\", \"--log\", \"@LOG@\", \"--role\", \"player\","
                " \"--read-stdin\" ];",
        };

        for (size_t k = 0; k < ELEMENTSOF(players); k++)
                for (int f = SPAWN_FAULT_CHILD_SOURCE; f < _SPAWN_FAULT_MAX; f++) {
                        World w;
                        Req a = { .q.passkey = 1 }, b = { .q.passkey = 2 }, c = { 0 };
                        _cleanup_free_ char *conf = NULL, *reason = NULL;

                        g_test_message("fault %d, %s", f, k ? "with a player" : "no player");
                        /* No {text}: the text goes to stdin, so that every step is taken. */
                        conf = g_strdup_printf(
                                "speech = { command = [ \"@FAKE@\", \"--log\", \"@LOG@\","
                                " \"--read-stdin\" ]; generate_pin = true; %s };",
                                players[k]);
                        if (!world_init(&w,
                                        "DisplayPasskey = [ \"speech\" ];"
                                        " RequestConfirmation = [ \"speech\" ];"
                                        " RequestPinCode = [ \"speech\" ];",
                                        conf))
                                return;
                        reason =
                                g_strdup_printf("cannot start '%s': %s", fake_tts, g_strerror(EIO));
                        spawn_pipeline_test_fault = (SpawnFault) f;
                        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
                        ask(&w, &b, AGENT_METHOD_REQUEST_CONFIRMATION, DEV2, ADDR2);
                        ask(&w, &c, AGENT_METHOD_REQUEST_PIN_CODE, DEV, ADDR);
                        spawn_pipeline_test_fault = SPAWN_FAULT_NONE;
                        /* Answered as usual: acknowledged, nobody accepted, no PIN. */
                        g_assert_cmpint(a.outcome.result, ==, CHAIN_ALLOW);
                        g_assert_cmpint(b.outcome.result, ==, CHAIN_DENY);
                        g_assert_cmpint(c.outcome.result, ==, CHAIN_DENY);
                        g_assert_cmpstr(c.outcome.pin, ==, "");
                        /* Audited, as the command's failure, never the player's. */
                        if (!audit_has("tts=failed", reason)) {
                                for (guint i = 0; i < audit_lines->len; i++)
                                        g_test_message("audit: %s", (char *) audit_lines->pdata[i]);
                                g_error("no audit record with tts=failed and '%s'", reason);
                        }
                        g_assert_true(audit_has("tts=failed", "method=DisplayPasskey"));
                        g_assert_true(audit_has("tts=failed", "method=RequestConfirmation"));
                        g_assert_true(audit_has("tts=failed", "method=RequestPinCode"));
                        g_assert_false(audit_has("player", NULL));
                        /* What was started was killed and reaped. */
                        g_assert_cmpuint(children(false), ==, 0);
                        /* And the next utterance works again. */
                        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV2, ADDR2);
                        g_assert_true(wait_records(&w, "end", k ? 2 : 1, 5000));
                        g_assert_true(run_until(&w, no_children, NULL, 3000));
                        world_done(&w);
                }
#else
        g_test_skip("needs -DPAIRGATE_TEST_POLICIES=ON (fault injection)");
#endif
}

/* ---- the real espeak-ng ----------------------------------------------------------------- */

typedef struct Wav {
        unsigned channels, rate, bits;
        double seconds, rms; /* rms of the samples, relative to full scale */
} Wav;

/* (no libm in the unit test link) */
static double square_root(double x) {
        double r = x > 1 ? x : 1;

        if (x <= 0)
                return 0;
        for (int i = 0; i < 64; i++)
                r = (r + x / r) / 2;
        return r;
}

static uint32_t le32(const unsigned char *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint16_t le16(const unsigned char *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

/* A RIFF/WAVE file with 16-bit PCM. espeak-ng writes 0xffffffff as the data size when it could
 * not seek back (a pipe): then the rest of the file is the data. */
static bool wav_read(const char *path, Wav *ret) {
        _cleanup_free_ char *buf = NULL;
        gsize len = 0, pos = 12;
        const unsigned char *b;
        double sum = 0;
        bool fmt = false;

        if (!g_file_get_contents(path, &buf, &len, NULL) || len < 44)
                return false;
        b = (const unsigned char *) buf;
        if (memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
                return false;
        *ret = (Wav){ 0 };
        while (pos + 8 <= len) {
                uint32_t size = le32(b + pos + 4);
                const unsigned char *body = b + pos + 8;

                if (memcmp(b + pos, "fmt ", 4) == 0 && size >= 16) {
                        if (le16(body) != 1) /* PCM */
                                return false;
                        ret->channels = le16(body + 2);
                        ret->rate = le32(body + 4);
                        ret->bits = le16(body + 14);
                        fmt = true;
                } else if (memcmp(b + pos, "data", 4) == 0 && fmt && ret->bits == 16) {
                        gsize n = size > len - pos - 8 ? (len - pos - 8) : size;
                        gsize samples = n / 2;
                        for (gsize i = 0; i < samples; i++) {
                                double s = (int16_t) le16(body + 2 * i) / 32768.0;
                                sum += s * s;
                        }
                        ret->seconds = (double) samples / ret->channels / ret->rate;
                        ret->rms = samples ? square_root(sum / (double) samples) : 0;
                        return true;
                }
                pos += 8 + size + (size & 1);
        }
        return false;
}

static void test_real_espeak(void) {
        World w;
        Req a = { .q.passkey = 482916 };
        _cleanup_free_ char *wav = NULL, *piped = NULL;
        Wav info;

        if (!g_file_test("/usr/bin/espeak-ng", G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_skip("espeak-ng is not installed");
                return;
        }
        /* The policy's own command path, written to a file instead of a sound card. */
        if (!world_init(&w, "DisplayPasskey = [ \"speech\" ];",
                        "speech = { repeat = 1;"
                        " command = [ \"espeak-ng\", \"-v\", \"en\", \"-s\", \"140\","
                        "             \"-w\", \"@DIR@/out.wav\", \"{text}\" ]; };"))
                return;
        wav = g_build_filename(w.dir, "out.wav", NULL);
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_cmpuint(children(false), >=, 1);
        g_assert_true(run_until(&w, no_children, NULL, 20000));
        run_for(&w, 100);
        g_assert_false(audit_has("event=policy", NULL));
        g_assert_true(wav_read(wav, &info));
        g_test_message("espeak-ng -w: %u Hz, %u channel(s), %u bits, %.2f s, RMS %.4f of full "
                       "scale",
                       info.rate, info.channels, info.bits, info.seconds, info.rms);
        g_assert_cmpuint(info.bits, ==, 16);
        g_assert_cmpfloat(info.seconds, >, 2.0);
        g_assert_cmpfloat(info.seconds, <, 30.0);
        g_assert_cmpfloat(info.rms, >, 0.01); /* speech, not silence */
        world_done(&w);

        /* A PIN: the {text} argument is left out and espeak-ng reads the text from stdin. */
        if (!world_init(&w, "DisplayPinCode = [ \"speech\" ];",
                        "speech = { repeat = 1;"
                        " command = [ \"espeak-ng\", \"-v\", \"en\", \"-s\", \"140\","
                        "             \"-w\", \"@DIR@/pin.wav\", \"{text}\" ]; };"))
                return;
        {
                Req p = { .q.pincode = "4821" };
                _cleanup_free_ char *pin_wav = g_build_filename(w.dir, "pin.wav", NULL);

                ask(&w, &p, AGENT_METHOD_DISPLAY_PIN_CODE, DEV, ADDR);
                g_assert_true(run_until(&w, no_children, NULL, 20000));
                run_for(&w, 100);
                g_assert_false(audit_has("event=policy", NULL));
                g_assert_true(wav_read(pin_wav, &info));
                g_test_message("espeak-ng -w, PIN on stdin: %.2f s, RMS %.4f", info.seconds,
                               info.rms);
                g_assert_cmpfloat(info.seconds, >, 1.0);
                g_assert_cmpfloat(info.rms, >, 0.01);
        }
        world_done(&w);

        /* Through a player: espeak-ng --stdout piped into sox writing a file. */
        if (!g_file_test("/usr/bin/sox", G_FILE_TEST_IS_EXECUTABLE)) {
                g_test_message("sox not installed: the piped variant is skipped");
                return;
        }
        if (!world_init(&w, "DisplayPasskey = [ \"speech\" ];",
                        "speech = { repeat = 1;"
                        " command = [ \"espeak-ng\", \"--stdout\", \"{text}\" ];"
                        " player = [ \"sox\", \"-q\", \"-t\", \"wav\", \"-\", \"-b\", \"16\","
                        "            \"@DIR@/piped.wav\" ]; };"))
                return;
        piped = g_build_filename(w.dir, "piped.wav", NULL);
        ask(&w, &a, AGENT_METHOD_DISPLAY_PASSKEY, DEV, ADDR);
        g_assert_true(run_until(&w, no_children, NULL, 20000));
        run_for(&w, 100);
        g_assert_false(audit_has("event=policy", NULL));
        g_assert_true(wav_read(piped, &info));
        g_test_message("espeak-ng --stdout | sox: %u Hz, %.2f s, RMS %.4f", info.rate, info.seconds,
                       info.rms);
        g_assert_cmpfloat(info.seconds, >, 2.0);
        g_assert_cmpfloat(info.seconds, <, 30.0);
        g_assert_cmpfloat(info.rms, >, 0.01);
        world_done(&w);
}

int main(int argc, char *argv[]) {
        sigset_t mask;
        g_autofree char *python = g_find_program_in_path("/usr/bin/python3");
        int r;

        /* sd_event_add_child() needs SIGCHLD blocked, as in the daemon. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        g_test_init(&argc, &argv, NULL);
        fake_tts = g_build_filename(PAIRGATE_SOURCE_DIR, "tests", "speech", "fake-tts", NULL);
        if (python) {
                gint status = 1;
                const char *check[] = { python, "-c", "import gi.repository.GLib", NULL };
                have_fake = g_spawn_sync(NULL, (char **) check, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                                         NULL, NULL, NULL, NULL, &status, NULL) &&
                            g_spawn_check_wait_status(status, NULL);
        }
        audit_set_backend(AUDIT_BACKEND_STDERR);
        audit_lines = g_ptr_array_new_with_free_func(g_free);
        audit_set_sink(on_audit, NULL);

        g_test_add_func("/speech/config-errors", test_config_errors);
        g_test_add_func("/speech/texts", test_texts);
        g_test_add_func("/speech/custom-texts-and-names", test_custom_texts_and_names);
        g_test_add_func("/speech/repeat-pause-and-hygiene", test_repeat_pause_and_hygiene);
        g_test_add_func("/speech/no-shell", test_no_shell);
        g_test_add_func("/speech/hostile-text-one-argument", test_hostile_text_stays_one_argument);
        g_test_add_func("/speech/stop-on-request-end", test_stop_on_request_end);
        g_test_add_func("/speech/kill-escalation", test_kill_escalation);
        g_test_add_func("/speech/utterance-timeout", test_utterance_timeout);
        g_test_add_func("/speech/missing-and-failing", test_missing_and_failing);
        g_test_add_func("/speech/display-passkey-outlives-request",
                        test_display_passkey_outlives_request);
        g_test_add_func("/speech/generate-pin", test_generate_pin);
        g_test_add_func("/speech/generate-pin-without-speech", test_generate_pin_without_speech);
        g_test_add_func("/speech/player-and-stdin", test_player_and_stdin);
        g_test_add_func("/speech/pin-never-in-argv", test_pin_never_in_argv);
        g_test_add_func("/speech/no-option-in-argv", test_no_option_in_argv);
        g_test_add_func("/speech/failure-after-spawn", test_failure_after_spawn);
        g_test_add_func("/speech/real-espeak-ng", test_real_espeak);
        r = g_test_run();
        audit_set_sink(NULL, NULL);
        g_ptr_array_unref(audit_lines);
        g_free(fake_tts);
        return r;
}
