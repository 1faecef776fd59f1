/* SPDX-License-Identifier: MIT */
/* pairgatectl doctor: main.conf read as BlueZ 5.66 reads it (GKeyFile, exact strings, wrong
 * types keep defaults, a file that does not parse is ignored), and the checks judged from
 * hand-built facts: severities and exit status. */
#include <glib.h>
#include <stdio.h>

#include "config.h"
#include "doctor-btconf.h"
#include "doctor-checks.h"
#include "doctor-facts.h"
#include "doctor-report.h"
#include "macro.h"

/* ---- main.conf -------------------------------------------------------------------------- */

static BtConf *conf(const char *text) {
        BtConf *b = btconf_load_string(text, "main.conf");

        g_assert_nonnull(b);
        g_assert_true(b->exists);
        return b;
}

static void test_btconf_defaults(void) {
        _cleanup_(btconf_freep) BtConf *b = conf("");

        g_assert_null(b->parse_error);
        g_assert_null(b->jw_repairing_raw);
        g_assert_cmpint(b->jw_repairing, ==, JW_REPAIRING_NEVER);
        g_assert_false(b->always_pairable);
        g_assert_cmpint(b->pairable_timeout, ==, 0);
        g_assert_cmpint(b->discoverable_timeout, ==, 180);
        g_assert_true(b->reverse_service_discovery);
        g_assert_true(b->privacy_valid);
        g_assert_cmpint(b->gatt_client, ==, -1);
        g_assert_true(btconf_has_bredr(b));
        g_assert_true(btconf_has_le(b));
        g_assert_null(b->wrong_type[0]);
}

static void test_btconf_jw_repairing(void) {
        static const struct {
                const char *text;
                JwRepairing want;
                const char *raw;
        } cases[] = {
                { "[General]\nJustWorksRepairing = always\n", JW_REPAIRING_ALWAYS, "always" },
                { "[General]\nJustWorksRepairing=confirm\n", JW_REPAIRING_CONFIRM, "confirm" },
                { "[General]\nJustWorksRepairing = never\n", JW_REPAIRING_NEVER, "never" },
                /* exact strcmp in main.c parse_jw_repairing: no case folding, no comments */
                { "[General]\nJustWorksRepairing = Always\n", JW_REPAIRING_NEVER, "Always" },
                { "[General]\nJustWorksRepairing = always # yes\n", JW_REPAIRING_NEVER,
                  "always # yes" },
                /* a comment line is a comment */
                { "[General]\n#JustWorksRepairing = always\n", JW_REPAIRING_NEVER, NULL },
                /* another group is not [General] */
                { "[Policy]\nJustWorksRepairing = always\n", JW_REPAIRING_NEVER, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(btconf_freep) BtConf *b = conf(cases[i].text);

                g_assert_cmpint(b->jw_repairing, ==, cases[i].want);
                g_assert_cmpstr(b->jw_repairing_raw, ==, cases[i].raw);
        }
}

static void test_btconf_types(void) {
        _cleanup_(btconf_freep) BtConf *b =
                conf("[General]\nAlwaysPairable = yes\nPairableTimeout = 30s\n"
                     "DiscoverableTimeout = 0\nReverseServiceDiscovery = false\n"
                     "ControllerMode = le\nPrivacy = maybe\nSecureConnections = off\n"
                     "[GATT]\nClient = false\n");
        _cleanup_(btconf_freep) BtConf *t = conf("[General]\nAlwaysPairable = true\n"
                                                 "PairableTimeout = 30\n");

        /* GKeyFile booleans are true/false (and 1/0): "yes" keeps the default */
        g_assert_false(b->always_pairable);
        g_assert_cmpint(b->pairable_timeout, ==, 0);
        g_assert_cmpstr(b->wrong_type[0], ==, "General.AlwaysPairable = yes");
        g_assert_cmpstr(b->wrong_type[1], ==, "General.PairableTimeout = 30s");
        g_assert_null(b->wrong_type[2]);
        g_assert_cmpint(b->discoverable_timeout, ==, 0);
        g_assert_false(b->reverse_service_discovery);
        g_assert_false(btconf_has_bredr(b));
        g_assert_false(b->privacy_valid);
        g_assert_cmpstr(b->secure_connections, ==, "off");
        g_assert_cmpint(b->gatt_client, ==, 0);

        g_assert_true(t->always_pairable);
        g_assert_cmpint(t->pairable_timeout, ==, 30);
}

static void test_btconf_unparsable_and_missing(void) {
        _cleanup_(btconf_freep) BtConf *b =
                btconf_load_string("JustWorksRepairing = always\n", "main.conf");
        _cleanup_(btconf_freep) BtConf *m = btconf_load_file("/nonexistent/main.conf");

        /* a key before any group: GKeyFile refuses the file, bluetoothd then ignores it all */
        g_assert_true(b->exists);
        g_assert_nonnull(b->parse_error);
        g_assert_cmpint(b->jw_repairing, ==, JW_REPAIRING_NEVER);
        g_assert_false(m->exists);
        g_assert_null(m->parse_error);
        g_assert_cmpint(m->discoverable_timeout, ==, 180);
        /* no Privacy at all is "off", a valid value (was: "unknown value (null)") */
        g_assert_null(b->privacy);
        g_assert_true(b->privacy_valid);
        g_assert_null(m->privacy);
        g_assert_true(m->privacy_valid);
}

/* ---- checks from hand-built facts ------------------------------------------------------- */

static DoctorFacts *facts(const char *main_conf, const char *pairgate_conf) {
        DoctorFacts *f = doctor_facts_new();
        g_autofree char *err = NULL;
        AdapterFacts *a = g_new0(AdapterFacts, 1);

        f->btconf = conf(main_conf);
        g_assert_cmpint(config_load_string(pairgate_conf ? pairgate_conf
                                                         : "capability = \"DisplayYesNo\";\n",
                                           "pairgate.conf", &f->config, &err),
                        ==, 0);
        f->bus_asked = true;
        f->bluetoothd_running = true;
        f->bluetoothd_pid = 42;
        f->bluetoothd_version = g_strdup("5.66");
        f->bluetoothd_argv = g_strsplit("/usr/libexec/bluetooth/bluetoothd -P battery", " ", -1);
        a->path = g_strdup("/org/bluez/hci0");
        a->address = g_strdup("00:AA:01:00:00:01");
        a->powered = a->pairable = true;
        g_ptr_array_add(f->adapters, a);
        f->pairgated = PAIRGATED_STATUS;
        f->registered = true;
        f->pg_capability = g_strdup("DisplayYesNo");
        f->state_dir = g_strdup("/var/lib/bluetooth");
        f->state_adapters = g_strsplit("00:AA:01:00:00:01", " ", -1);
        f->dbus_policy = g_strdup("/usr/share/dbus-1/system.d/pairgate.conf");
        f->unit = g_strdup("/lib/systemd/system/pairgate.service");
        f->unit_enabled = true;
        return f;
}

static Report *judge(const DoctorFacts *f) {
        Report *r = report_new();

        doctor_check_all(f, r);
        return r;
}

static Severity severity_of(const Report *r, const char *check) {
        Severity worst = _SEVERITY_MAX;

        for (unsigned i = 0; i < report_count(r); i++) {
                const Finding *x = report_get(r, i);

                if (streq(x->check, check) && (worst == _SEVERITY_MAX || x->severity > worst))
                        worst = x->severity;
        }
        g_assert_cmpint(worst, !=, _SEVERITY_MAX); /* the check reported something */
        return worst;
}

#define CONFIRM "[General]\nJustWorksRepairing = confirm\n"

static void test_clean(void) {
        _cleanup_(doctor_facts_freep) DoctorFacts *f = facts(CONFIRM, NULL);
        _cleanup_(report_freep) Report *r = judge(f);

        g_assert_cmpint(severity_of(r, "just-works-repairing"), ==, SEVERITY_OK);
        g_assert_cmpint(severity_of(r, "battery-loop"), ==, SEVERITY_OK);
        g_assert_cmpint(severity_of(r, "pairgated"), ==, SEVERITY_OK);
        g_assert_cmpint(severity_of(r, "adapter"), ==, SEVERITY_INFO);
        g_assert_cmpint(report_exit_status(r), ==, 0);
}

static void test_jw_repairing(void) {
        _cleanup_(doctor_facts_freep) DoctorFacts *a =
                facts("[General]\nJustWorksRepairing = always\n", NULL);
        _cleanup_(doctor_facts_freep) DoctorFacts *n = facts("", NULL);
        _cleanup_(doctor_facts_freep) DoctorFacts *u =
                facts("[General]\nJustWorksRepairing = confirm # yes\n", NULL);
        _cleanup_(report_freep) Report *ra = judge(a);
        _cleanup_(report_freep) Report *rn = judge(n);
        _cleanup_(report_freep) Report *ru = judge(u);

        g_assert_cmpint(severity_of(ra, "just-works-repairing"), ==, SEVERITY_CRITICAL);
        g_assert_cmpint(report_exit_status(ra), ==, 2);
        g_assert_cmpint(severity_of(rn, "just-works-repairing"), ==, SEVERITY_INFO);
        g_assert_cmpint(report_exit_status(rn), ==, 0);
        g_assert_cmpint(severity_of(ru, "just-works-repairing"), ==, SEVERITY_WARNING);
        g_assert_cmpint(report_exit_status(ru), ==, 1);
}

static void test_unparsable_main_conf(void) {
        _cleanup_(doctor_facts_freep) DoctorFacts *f = facts("JustWorksRepairing = always\n", NULL);
        _cleanup_(report_freep) Report *r = judge(f);

        g_assert_nonnull(f->btconf->parse_error);
        g_assert_cmpint(severity_of(r, "main-conf"), ==, SEVERITY_WARNING);
        /* bluetoothd ignores the whole file: every option at its default, Privacy "off" */
        g_assert_cmpint(severity_of(r, "privacy"), ==, SEVERITY_OK);
        g_assert_cmpint(severity_of(r, "just-works-repairing"), ==, SEVERITY_INFO);
}

/* Printable: no C0/DEL byte, valid UTF-8 (what the escaping of main.conf's values promises). */
static void assert_findings_printable(const Report *r) {
        for (unsigned i = 0; i < report_count(r); i++) {
                const Finding *x = report_get(r, i);

                g_assert_true(g_utf8_validate(x->found, -1, NULL));
                g_assert_true(g_utf8_validate(x->todo, -1, NULL));
                for (const char *p = x->found; *p; p++)
                        g_assert_true((unsigned char) *p >= 0x20 && *p != 0x7f);
                for (const char *p = x->todo; *p; p++)
                        g_assert_true((unsigned char) *p >= 0x20 && *p != 0x7f);
        }
}

static void test_untrusted_values(void) {
        /* GKeyFile unescapes \n and \t; raw ESC and invalid UTF-8 stay as written */
        _cleanup_(doctor_facts_freep) DoctorFacts *f =
                facts("[General]\nJustWorksRepairing = always\\nconfirm\nPrivacy = \\tdevice\n"
                      "SecureConnections = \033[31monly\nAlwaysPairable = tr\300ue\n",
                      NULL);
        _cleanup_(doctor_facts_freep) DoctorFacts *p = facts("[General]\n[Gen\033eral\n", NULL);
        _cleanup_(report_freep) Report *r = judge(f);
        _cleanup_(report_freep) Report *rp = judge(p);

        assert_findings_printable(r);
        assert_findings_printable(rp);
        g_assert_nonnull(
                strstr(report_find(r, "just-works-repairing")->found, "\"always\\x0aconfirm\""));
        g_assert_nonnull(strstr(report_find(r, "privacy")->found, "\"\\x09device\""));
        g_assert_nonnull(strstr(report_find(r, "secure-connections")->found, "\\x1b[31monly"));
        g_assert_nonnull(p->btconf->parse_error);
}

static void test_untrusted_pairgate_config(void) {
        _cleanup_(doctor_facts_freep) DoctorFacts *f = facts(CONFIRM, NULL);
        _cleanup_(report_freep) Report *r = NULL;

        /* the validator quotes the value it refuses */
        f->config = config_free(f->config);
        g_assert_cmpint(config_load_string("allowlist = { devices = [ \"00:11\033[2J\" ]; };\n",
                                           "pairgate.conf", &f->config, &f->config_error),
                        <, 0);
        /* config_load escapes it at the source (pairgated --check-config prints the same) */
        g_assert_null(strchr(f->config_error, '\033'));
        g_assert_nonnull(strstr(f->config_error, "00:11\\x1b[2J"));
        r = judge(f);
        g_assert_cmpint(severity_of(r, "pairgate-config"), ==, SEVERITY_CRITICAL);
        assert_findings_printable(r);
        g_assert_nonnull(strstr(report_find(r, "pairgate-config")->found, "00:11\\x1b[2J"));
}

static void test_battery_loop(void) {
        static const struct {
                const char *cmdline;
                const char *main_conf;
                Severity want;
        } cases[] = {
                { "bluetoothd -P battery", CONFIRM, SEVERITY_OK },
                { "bluetoothd --noplugin=bat*", CONFIRM, SEVERITY_OK },
                { "bluetoothd -Pbattery,hostname", CONFIRM, SEVERITY_OK },
                { "bluetoothd -p a2dp,avrcp", CONFIRM, SEVERITY_OK },   /* battery not enabled */
                { "bluetoothd -p battery", CONFIRM, SEVERITY_WARNING }, /* only it enabled */
                { "bluetoothd -n -d", CONFIRM, SEVERITY_WARNING },
                { "bluetoothd -P hostname", CONFIRM, SEVERITY_WARNING },
                { "bluetoothd", CONFIRM "ReverseServiceDiscovery = false\n", SEVERITY_OK },
                /* [GATT] Client exists from 5.74 only: 5.66 ignores it */
                { "bluetoothd", CONFIRM "[GATT]\nClient = false\n", SEVERITY_WARNING },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(doctor_facts_freep) DoctorFacts *f = facts(cases[i].main_conf, NULL);
                _cleanup_(report_freep) Report *r = NULL;

                g_strfreev(f->bluetoothd_argv);
                f->bluetoothd_argv = g_strsplit(cases[i].cmdline, " ", -1);
                r = judge(f);
                g_assert_cmpint(severity_of(r, "battery-loop"), ==, cases[i].want);
        }
}

static void test_noio_bredr(void) {
        const char *noio = "capability = \"NoInputNoOutput\";\n";
        const char *noio_window = "capability = \"NoInputNoOutput\";\n"
                                  "window = { pairable_when_closed = false; };\n";
        _cleanup_(doctor_facts_freep) DoctorFacts *a = facts(CONFIRM, noio);
        _cleanup_(doctor_facts_freep) DoctorFacts *b = facts(CONFIRM, noio_window);
        _cleanup_(doctor_facts_freep) DoctorFacts *c = facts(CONFIRM "ControllerMode = le\n", noio);
        _cleanup_(report_freep) Report *ra = NULL, *rb = NULL, *rc = NULL;

        g_free(a->pg_capability);
        a->pg_capability = g_strdup("NoInputNoOutput");
        ra = judge(a);
        rb = judge(b);
        rc = judge(c);
        g_assert_cmpint(severity_of(ra, "noio-bredr"), ==, SEVERITY_CRITICAL);
        g_assert_cmpint(severity_of(rb, "noio-bredr"), ==, SEVERITY_WARNING);
        g_assert_cmpint(severity_of(rc, "noio-bredr"), ==, SEVERITY_OK);
        /* pairgated runs DisplayYesNo while the file says NoInputNoOutput: reload needed */
        g_assert_cmpint(severity_of(rb, "pairgated"), ==, SEVERITY_WARNING);
}

static void test_allowlist_and_bonds(void) {
        const char *al = "capability = \"DisplayYesNo\";\n"
                         "allowlist = { devices = [ \"5A:11:22:33:44:55\", "
                         "\"00:11:22:33:44:55\" ]; };\n";
        _cleanup_(doctor_facts_freep) DoctorFacts *f = facts(CONFIRM, al);
        _cleanup_(report_freep) Report *r = NULL, *r2 = NULL;
        BondFacts *b = g_new0(BondFacts, 1);

        r = judge(f);
        /* random-looking and not bonded: will not match again */
        g_assert_cmpint(severity_of(r, "allowlist"), ==, SEVERITY_WARNING);
        /* no bonds while the allowlist names devices: a hint only (they may not have paired) */
        g_assert_cmpint(severity_of(r, "bonds"), ==, SEVERITY_INFO);

        b->adapter = g_strdup("00:AA:01:00:00:01");
        b->address = g_strdup("5A:11:22:33:44:55");
        b->le_key = true;
        b->trusted = true;
        g_ptr_array_add(f->bonds, b);
        g_strfreev(f->state_adapters);
        f->state_adapters = g_strsplit("00:AA:01:00:00:01 00:AA:01:00:00:99", " ", -1);
        r2 = judge(f);
        /* bonded now; the other entry only matches no bond */
        g_assert_cmpint(severity_of(r2, "allowlist"), ==, SEVERITY_INFO);
        /* bonds of a controller address no adapter has */
        g_assert_cmpint(severity_of(r2, "bonds"), ==, SEVERITY_WARNING);
}

static void test_agents_and_bluetoothd(void) {
        _cleanup_(doctor_facts_freep) DoctorFacts *f = facts(CONFIRM, NULL);
        _cleanup_(report_freep) Report *r = NULL, *r2 = NULL;
        ProcessFacts *p = g_new0(ProcessFacts, 1);

        p->pid = 7;
        p->name = g_strdup("bt-agent");
        p->what = (char *) "test";
        p->fixed_pin = true;
        g_ptr_array_add(f->agent_processes, p);
        r = judge(f);
        g_assert_cmpint(severity_of(r, "other-agents"), ==, SEVERITY_WARNING);
        g_assert_cmpint(severity_of(r, "fixed-secrets"), ==, SEVERITY_WARNING);

        f->bluetoothd_running = false;
        f->pairgated = PAIRGATED_NOT_RUNNING;
        r2 = judge(f);
        g_assert_cmpint(severity_of(r2, "bluetoothd"), ==, SEVERITY_CRITICAL);
        g_assert_cmpint(severity_of(r2, "pairgated"), ==, SEVERITY_CRITICAL);
        g_assert_null(report_find(r2, "adapter")); /* nothing to say without bluetoothd */
}

static void test_adapter(void) {
        _cleanup_(doctor_facts_freep) DoctorFacts *f = facts(CONFIRM, NULL);
        _cleanup_(doctor_facts_freep) DoctorFacts *w =
                facts(CONFIRM, "window = { pairable_when_closed = false; };\n");
        _cleanup_(report_freep) Report *r = NULL, *rw = NULL, *r0 = NULL;
        AdapterFacts *a = g_ptr_array_index(f->adapters, 0);

        a->pairable = false;
        ((AdapterFacts *) g_ptr_array_index(w->adapters, 0))->pairable = false;
        r = judge(f);
        rw = judge(w);
        g_assert_cmpint(severity_of(r, "adapter"), ==, SEVERITY_WARNING);
        g_assert_cmpint(severity_of(rw, "adapter"), ==, SEVERITY_INFO); /* window holds it */
        a->powered = false;
        report_free(r);
        r = judge(f);
        g_assert_cmpint(severity_of(r, "adapter"), ==, SEVERITY_CRITICAL);
        g_ptr_array_set_size(f->adapters, 0);
        r0 = judge(f);
        g_assert_cmpint(severity_of(r0, "adapter"), ==, SEVERITY_CRITICAL);
}

static void test_json(void) {
        _cleanup_(report_freep) Report *r = report_new();
        g_autofree char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);

        report_add(r, "x", SEVERITY_WARNING, g_strdup("a \"quoted\"\\ line\nand\x01"), NULL);
        g_assert_cmpint(report_print_json(r, m), ==, 0);
        fclose(m);
        g_assert_nonnull(strstr(out, "\"found\":\"a \\\"quoted\\\"\\\\ line\\nand\\u0001\""));
        g_assert_nonnull(strstr(out, "\"warning\":1,"));
        g_assert_nonnull(strstr(out, "\"exit_status\":1}"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/doctor/btconf/defaults", test_btconf_defaults);
        g_test_add_func("/doctor/btconf/jw-repairing", test_btconf_jw_repairing);
        g_test_add_func("/doctor/btconf/types", test_btconf_types);
        g_test_add_func("/doctor/btconf/unparsable-missing", test_btconf_unparsable_and_missing);
        g_test_add_func("/doctor/checks/clean", test_clean);
        g_test_add_func("/doctor/checks/jw-repairing", test_jw_repairing);
        g_test_add_func("/doctor/checks/unparsable-main-conf", test_unparsable_main_conf);
        g_test_add_func("/doctor/checks/untrusted-values", test_untrusted_values);
        g_test_add_func("/doctor/checks/untrusted-pairgate-config", test_untrusted_pairgate_config);
        g_test_add_func("/doctor/checks/battery-loop", test_battery_loop);
        g_test_add_func("/doctor/checks/noio-bredr", test_noio_bredr);
        g_test_add_func("/doctor/checks/allowlist-bonds", test_allowlist_and_bonds);
        g_test_add_func("/doctor/checks/agents-bluetoothd", test_agents_and_bluetoothd);
        g_test_add_func("/doctor/checks/adapter", test_adapter);
        g_test_add_func("/doctor/report/json", test_json);
        return g_test_run();
}
