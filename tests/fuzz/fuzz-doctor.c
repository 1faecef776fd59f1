/* SPDX-License-Identifier: MIT */
/* `pairgatectl doctor --no-bus --root ROOT` on an arbitrary bluetoothd main.conf (and optionally
 * an arbitrary pairgate.conf): main.conf read by btconf_load_string(), the facts gathered as
 * doctor.c gathers them (doctor_gather_host() on an empty root made once), judged by
 * doctor_check_all(), printed as text (without and with colour) and as JSON into memory.
 *
 * Input: one byte of options, then main.conf's text up to the first NUL, then pairgate.conf's
 * text. Options: bits 0-1 the bluetoothd version the bus would have reported (none as with
 * --no-bus, 5.66, 5.50, 5.74); bits 2-3 its command line from /proc (unreadable, "bluetoothd",
 * "-P battery", "-p battery"); bits 4-5 pairgate.conf (absent as in the empty root, a
 * DisplayYesNo one, a NoInputNoOutput one with a window and an allowlist, the input's text).
 *
 * Properties:
 * - main.conf: a parse error leaves every option at its default (and no wrong-typed entry); an
 *   option off its default means the file parsed and names its [Group] and Key; JustWorksRepairing
 *   is "always" / "confirm" exactly when its raw value is that string exactly ("always # x" is
 *   never "always"), "never" otherwise; Privacy is valid exactly when unset or one of BlueZ 5.66's
 *   values; ControllerMode "le" alone removes BR/EDR and "bredr" alone removes LE; [GATT] Client
 *   is -1, 0 or 1; every wrong-typed entry is "Group.Key = ..." for an option doctor reads, whose
 *   [Group] and Key are in the text, named once, with that option left at its default.
 * - The text report (colour off) is lines of valid UTF-8 without control bytes or characters
 *   unsafe on a terminal (text_unsafe_codepoint), one line per finding plus one per "to do",
 *   a blank line and the summary: nothing from the file adds a line. With colour on it is the
 *   same text with only SGR sequences added.
 * - The JSON report is one valid JSON object with one "check" object per finding; its
 *   "exit_status" and "worst" are report_exit_status() and the worst severity of the findings
 *   (0 ok/info, 1 warning, 2 critical).
 * - Deterministic: the same input gives the same three outputs twice. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "doctor-btconf.h"
#include "doctor-checks.h"
#include "doctor-facts.h"
#include "doctor-gather.h"
#include "doctor-report.h"
#include "fuzz-check.h"
#include "macro.h"
#include "text-escape.h"

#define MAIN_CONF "/etc/bluetooth/main.conf" /* doctor.c BLUETOOTH_CONFIG_DEFAULT */

static char *root; /* an empty root: no /proc, no bonds, nothing installed */
static const char *const state_dirs[] = { "var", "var/lib", "var/lib/bluetooth" };

static const char *const versions[] = { NULL, "5.66", "5.50", "5.74" };
static const char *const cmdlines[] = { NULL, "/usr/libexec/bluetooth/bluetoothd",
                                        "/usr/libexec/bluetooth/bluetoothd -P battery",
                                        "/usr/libexec/bluetooth/bluetoothd -p battery" };
static const char *const pairgate_confs[4] = {
        NULL, /* the root has none: doctor reports it cannot be read */
        "capability = \"DisplayYesNo\";\n",
        "capability = \"NoInputNoOutput\";\nwindow = { pairable_when_closed = false; };\n"
        "allowlist = { devices = [ \"5A:11:22:33:44:55\" ]; };\n",
        NULL, /* the input's */
};

typedef struct Output {
        char *text, *color, *json;
        size_t text_len, color_len, json_len;
} Output;

static void output_clear(Output *o) {
        free(o->text);
        free(o->color);
        free(o->json);
}

/* As doctor_main() for --no-bus --root ROOT (--bluetooth-config given as text). */
static DoctorFacts *gather(const char *main_conf, const char *pg_conf, uint8_t opts) {
        DoctorFacts *f = doctor_facts_new();
        g_autofree char *bt_label = g_build_filename(root, MAIN_CONF, NULL);
        const char *fixed = pairgate_confs[(opts >> 4) & 3];
        const char *cmdline = cmdlines[(opts >> 2) & 3];
        static char config_path[4096];

        g_snprintf(config_path, sizeof config_path, "%s%s", root, CONFIG_DEFAULT_PATH);
        f->btconf = btconf_load_string(main_conf, bt_label);
        fuzz_assert(f->btconf, "btconf_load_string returned NULL");
        f->config_path = config_path;
        /* libconfig reads @include'd files itself: such a pairgate.conf is left out. */
        if (((opts >> 4) & 3) == 3 && !strstr(pg_conf, "@include"))
                (void) config_load_string(pg_conf, config_path, &f->config, &f->config_error);
        else if (fixed)
                fuzz_assert(config_load_string(fixed, config_path, &f->config, &f->config_error) >=
                                    0,
                            "a built-in pairgate.conf refused: %s", f->config_error);
        else if (config_load_file(config_path, &f->config, &f->config_error) < 0 &&
                 !f->config_error)
                f->config_error = g_strdup_printf("%s: cannot be read", config_path);
        doctor_gather_host(f, root);
        /* What the bus (pid, version) and /proc (command line) would have told. */
        if (versions[opts & 3]) {
                f->bluetoothd_version = g_strdup(versions[opts & 3]);
                f->bluetoothd_pid = 42;
        }
        if (cmdline)
                f->bluetoothd_argv = g_strsplit(cmdline, " ", -1);
        return f;
}

static void print(const Report *r, Output *o) {
        FILE *f;

        f = open_memstream(&o->text, &o->text_len);
        fuzz_assert(f && report_print_text(r, f, false) == 0, "report_print_text failed");
        fclose(f);
        f = open_memstream(&o->color, &o->color_len);
        fuzz_assert(f && report_print_text(r, f, true) == 0, "report_print_text failed");
        fclose(f);
        f = open_memstream(&o->json, &o->json_len);
        fuzz_assert(f && report_print_json(r, f) == 0, "report_print_json failed");
        fclose(f);
}

static bool has_group_and_key(const char *text, const char *group, const char *key) {
        g_autofree char *header = g_strdup_printf("[%s]", group);

        return strstr(text, header) && strstr(text, key);
}

#define OFF_DEFAULT(cond, group, key)                                                          \
        fuzz_assert(!(cond) || (!b->parse_error && has_group_and_key(text, group, key)),       \
                    "%s.%s off its default with%s parse error or not in the text", group, key, \
                    b->parse_error ? " a" : "out a")

static void check_wrong_type(const BtConf *b, const char *text) {
        static const char *const keys[] = { "General.AlwaysPairable", "General.PairableTimeout",
                                            "General.DiscoverableTimeout",
                                            "General.ReverseServiceDiscovery", "GATT.Client" };
        bool seen[ELEMENTSOF(keys)] = { false };

        for (char **w = b->wrong_type; w && *w; w++) {
                size_t k;

                for (k = 0; k < ELEMENTSOF(keys); k++)
                        if (g_str_has_prefix(*w, keys[k]) &&
                            g_str_has_prefix(*w + strlen(keys[k]), " = "))
                                break;
                fuzz_assert(k < ELEMENTSOF(keys), "wrong-typed entry of no option read: \"%s\"",
                            *w);
                fuzz_assert(!seen[k], "%s named twice as wrong-typed", keys[k]);
                seen[k] = true;
                {
                        g_auto(GStrv) gk = g_strsplit(keys[k], ".", 2);

                        fuzz_assert(has_group_and_key(text, gk[0], gk[1]),
                                    "wrong-typed %s is not in the text", keys[k]);
                }
        }
        fuzz_assert(!seen[0] || !b->always_pairable, "wrong-typed AlwaysPairable is not default");
        fuzz_assert(!seen[1] || b->pairable_timeout == 0, "wrong-typed PairableTimeout changed");
        fuzz_assert(!seen[2] || b->discoverable_timeout == 180,
                    "wrong-typed DiscoverableTimeout changed");
        fuzz_assert(!seen[3] || b->reverse_service_discovery,
                    "wrong-typed ReverseServiceDiscovery changed");
        fuzz_assert(!seen[4] || b->gatt_client == -1, "wrong-typed [GATT] Client changed");
}

static void check_btconf(const BtConf *b, const char *text) {
        /* BlueZ 5.66 main.c parse_config's Privacy values, written out again. */
        static const char *const privacy[] = { "off",    "network",         "on",
                                               "device", "limited-network", "limited-device" };
        bool privacy_known = !b->privacy;

        fuzz_assert(b->exists, "a main.conf given as text does not exist");
        if (b->parse_error)
                fuzz_assert(!b->jw_repairing_raw && b->jw_repairing == JW_REPAIRING_NEVER &&
                                    !b->always_pairable && b->pairable_timeout == 0 &&
                                    b->discoverable_timeout == 180 && !b->privacy &&
                                    b->privacy_valid && b->reverse_service_discovery &&
                                    !b->controller_mode && !b->secure_connections &&
                                    b->gatt_client == -1 && !(b->wrong_type && b->wrong_type[0]),
                            "main.conf did not parse (%s) but an option is off its default",
                            b->parse_error);
        OFF_DEFAULT(b->jw_repairing_raw, "General", "JustWorksRepairing");
        OFF_DEFAULT(b->always_pairable, "General", "AlwaysPairable");
        OFF_DEFAULT(b->pairable_timeout != 0, "General", "PairableTimeout");
        OFF_DEFAULT(b->discoverable_timeout != 180, "General", "DiscoverableTimeout");
        OFF_DEFAULT(b->privacy, "General", "Privacy");
        OFF_DEFAULT(!b->reverse_service_discovery, "General", "ReverseServiceDiscovery");
        OFF_DEFAULT(b->controller_mode, "General", "ControllerMode");
        OFF_DEFAULT(b->secure_connections, "General", "SecureConnections");
        OFF_DEFAULT(b->gatt_client != -1, "GATT", "Client");

        /* main.c parse_jw_repairing: exact strcmp; anything else is "never". */
        fuzz_assert((b->jw_repairing == JW_REPAIRING_ALWAYS) ==
                            streq(b->jw_repairing_raw, "always"),
                    "JustWorksRepairing \"%s\" read as %d", b->jw_repairing_raw, b->jw_repairing);
        fuzz_assert((b->jw_repairing == JW_REPAIRING_CONFIRM) ==
                            streq(b->jw_repairing_raw, "confirm"),
                    "JustWorksRepairing \"%s\" read as %d", b->jw_repairing_raw, b->jw_repairing);
        fuzz_assert(b->jw_repairing == JW_REPAIRING_ALWAYS ||
                            b->jw_repairing == JW_REPAIRING_CONFIRM ||
                            b->jw_repairing == JW_REPAIRING_NEVER,
                    "JustWorksRepairing %d", b->jw_repairing);
        for (size_t i = 0; b->privacy && i < ELEMENTSOF(privacy); i++)
                privacy_known |= streq(b->privacy, privacy[i]);
        fuzz_assert(b->privacy_valid == privacy_known, "Privacy \"%s\" judged %svalid", b->privacy,
                    b->privacy_valid ? "" : "in");
        /* main.c get_mode: only "bredr" and "le" restrict; anything else is dual. */
        fuzz_assert(btconf_has_bredr(b) == !streq(b->controller_mode, "le") &&
                            btconf_has_le(b) == !streq(b->controller_mode, "bredr"),
                    "ControllerMode \"%s\" misjudged", b->controller_mode);
        fuzz_assert(b->gatt_client >= -1 && b->gatt_client <= 1, "[GATT] Client %d",
                    b->gatt_client);
        check_wrong_type(b, text);
}

/* Lines of the text report: terminal-safe, one per finding and per "to do", a blank, a summary. */
static void check_text(const Report *r, const Output *o) {
        g_auto(GStrv) lines = NULL;
        const char *summary;
        unsigned want = 2, n;

        fuzz_assert(o->text_len == strlen(o->text), "a NUL in the text report");
        fuzz_assert(o->text_len > 0 && o->text[o->text_len - 1] == '\n',
                    "text report does not end with a newline");
        for (unsigned i = 0; i < report_count(r); i++)
                want += report_get(r, i)->todo[0] ? 2 : 1;
        lines = g_strsplit(o->text, "\n", -1);
        n = g_strv_length(lines);
        fuzz_assert(n == want + 1, "text report has %u lines for %u findings (%u expected)", n - 1,
                    report_count(r), want);
        for (char **l = lines; *l; l++) {
                const char *p = *l, *end = p + strlen(p);

                fuzz_assert_clean(*l, SIZE_MAX, "a line of the text report");
                while (p < end) {
                        uint32_t cp = 0;
                        size_t k = text_utf8_decode(p, (size_t) (end - p), &cp);

                        fuzz_assert(k > 0, "invalid UTF-8 in the text report");
                        fuzz_assert(!text_unsafe_codepoint(cp), "U+%04X in the text report: \"%s\"",
                                    cp, *l);
                        p += k;
                }
        }
        summary = g_strrstr(o->text, "\n\n");
        fuzz_assert(summary && strstr(summary, " checks: ") && g_str_has_suffix(summary, ".\n") &&
                            strchr(summary + 2, '\n') == o->text + o->text_len - 1,
                    "the text report does not end with a blank line and the summary");
}

/* The coloured text is the plain text plus SGR sequences (ESC [ digits/';' m) only. */
static void check_color(const Output *o) {
        GString *plain = g_string_sized_new(o->color_len);

        for (size_t i = 0; i < o->color_len; i++) {
                if (o->color[i] == '\033') {
                        size_t j = i + 1;

                        fuzz_assert(j < o->color_len && o->color[j] == '[', "ESC not SGR");
                        for (j++; j < o->color_len &&
                                  (g_ascii_isdigit(o->color[j]) || o->color[j] == ';');
                             j++)
                                ;
                        fuzz_assert(j < o->color_len && o->color[j] == 'm', "ESC not SGR");
                        i = j;
                        continue;
                }
                g_string_append_c(plain, o->color[i]);
        }
        fuzz_assert(plain->len == o->text_len && memcmp(plain->str, o->text, o->text_len) == 0,
                    "colour changes more than the colour");
        g_string_free(plain, TRUE);
}

static void check_json(const Report *r, const Output *o) {
        static const char *const worst_names[] = { "ok", "info", "warning", "critical" };
        Severity worst = SEVERITY_OK;
        int status = report_exit_status(r);
        g_autofree char *tail = NULL;
        unsigned objects = 0;

        fuzz_assert(o->json_len > 0 && o->json[0] == '{' &&
                            fuzz_json_is_valid(o->json, o->json_len),
                    "JSON report is not one valid JSON object");
        for (const char *p = o->json; (p = strstr(p, "{\"check\":")); p++)
                objects++;
        fuzz_assert(objects == report_count(r), "%u check objects in the JSON for %u findings",
                    objects, report_count(r));
        for (unsigned i = 0; i < report_count(r); i++) {
                Severity s = report_get(r, i)->severity;

                fuzz_assert(s >= SEVERITY_OK && s < _SEVERITY_MAX, "severity %d", s);
                if (s > worst)
                        worst = s;
        }
        fuzz_assert(report_worst(r) == worst, "report_worst %d, findings' worst %d",
                    report_worst(r), worst);
        fuzz_assert(status == (worst == SEVERITY_CRITICAL  ? 2
                               : worst == SEVERITY_WARNING ? 1
                                                           : 0),
                    "exit status %d for the worst severity %s", status, worst_names[worst]);
        /* A quote inside a JSON string is escaped, so the last "worst": is the summary's. */
        tail = g_strdup_printf("\"worst\":\"%s\",\"exit_status\":%d}}\n", worst_names[worst],
                               status);
        fuzz_assert(g_str_has_suffix(o->json, tail), "JSON summary does not end with %s", tail);
}

static void run(const char *main_conf, const char *pg_conf, uint8_t opts, Output *o, bool check) {
        _cleanup_(doctor_facts_freep) DoctorFacts *f = gather(main_conf, pg_conf, opts);
        _cleanup_(report_freep) Report *r = report_new();

        if (check)
                check_btconf(f->btconf, main_conf);
        doctor_check_all(f, r);
        fuzz_assert(report_count(r) > 0, "no finding at all");
        print(r, o);
        if (!check)
                return;
        check_text(r, o);
        check_color(o);
        check_json(r, o);
}

static void remove_root(void) {
        for (size_t i = ELEMENTSOF(state_dirs); i > 0; i--) {
                g_autofree char *d = g_build_filename(root, state_dirs[i - 1], NULL);

                (void) g_rmdir(d);
        }
        (void) g_rmdir(root);
        g_free(root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        root = g_dir_make_tmp("fuzz-doctor-XXXXXX", NULL);
        fuzz_assert(root, "cannot make a temporary root");
        for (size_t i = 0; i < ELEMENTSOF(state_dirs); i++) {
                g_autofree char *d = g_build_filename(root, state_dirs[i], NULL);

                fuzz_assert(g_mkdir(d, 0755) == 0, "cannot make %s", d);
        }
        atexit(remove_root);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t opts = size ? data[0] : 0;
        const uint8_t *body = size ? data + 1 : data, *nul;
        size_t body_len = size ? size - 1 : 0, main_len;
        _cleanup_free_ char *main_conf = NULL, *pg_conf = NULL;
        Output a = { 0 }, b = { 0 };

        nul = memchr(body, 0, body_len);
        main_len = nul ? (size_t) (nul - body) : body_len;
        main_conf = g_strndup((const char *) body, main_len);
        pg_conf = nul ? g_strndup((const char *) nul + 1, body_len - main_len - 1) : g_strdup("");

        run(main_conf, pg_conf, opts, &a, true);
        run(main_conf, pg_conf, opts, &b, false);
        fuzz_assert(a.text_len == b.text_len && memcmp(a.text, b.text, a.text_len) == 0 &&
                            a.json_len == b.json_len && memcmp(a.json, b.json, a.json_len) == 0 &&
                            a.color_len == b.color_len &&
                            memcmp(a.color, b.color, a.color_len) == 0,
                    "the same input gave two different reports");
        output_clear(&a);
        output_clear(&b);
        return 0;
}
