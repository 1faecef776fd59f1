/* SPDX-License-Identifier: MIT */
/* doctor's checks of configuration and stored state: bluetoothd's main.conf (as BlueZ 5.66 reads
 * it, src/main.c parse_config), the battery-plugin loop, pairgate's own configuration and its
 * allowlist, the bonds in /var/lib/bluetooth, fixed PINs and passkeys. */
#include <glib.h>

#include "agent-types.h"
#include "bdaddr.h"
#include "doctor-checks-internal.h"
#include "explain.h"
#include "macro.h"
#include "text-escape.h"
#include "window.h"

#define GATT_CLIENT_OPTION_VERSION 574 /* [GATT] Client appeared in 5.74 */
#define SECURE_CONNECTIONS_VERSION 567 /* [General] SecureConnections appeared in 5.67 */

bool facts_window_holds_closed(const DoctorFacts *f, bool *ret_configured) {
        const config_setting_t *section =
                f->config ? config_policy_section(f->config, "window") : NULL;
        WindowSettings s;
        g_autofree char *err = NULL;
        PolicyEnv env = { 0 };
        bool hold;

        *ret_configured = section != NULL;
        if (!section)
                return false;
        env.config_path = f->config->path;
        if (window_settings_parse(&s, section, &env, &err) < 0)
                return false;
        hold = !s.pairable_when_closed;
        window_settings_clear(&s);
        return hold;
}

/* A value read from main.conf, for a finding: the file is written by people and by other tools'
 * install scripts, and GKeyFile turns "\n", "\t" and "\r" into those bytes. Printable UTF-8 is
 * kept (GLib's parse errors quote the line with U+201C/U+201D). g_free() it. */
static char *conf_text(const char *s) {
        return text_escape(s ? s : "", SIZE_MAX, true);
}

/* pairgate.conf's error and warnings: messages that may quote a value of the file. The error is
 * made safe by config_load already; text_sanitize() keeps their quotes readable. g_free() it. */
static char *config_text(const char *s) {
        return text_sanitize(s ? s : "");
}

static void check_jw_repairing(const BtConf *b, Report *r) {
        g_autofree char *raw = conf_text(b->jw_repairing_raw);

        /* device.c device_confirm_passkey: for a Just Works request (confirm_hint) from a device
         * that is already paired, "never" answers no and "always" answers yes without calling
         * any agent; "confirm" goes on to the agent's RequestAuthorization. main.c
         * parse_jw_repairing: an unknown value is "never". */
        if (b->jw_repairing_raw && jw_repairing_from_string(b->jw_repairing_raw) < 0)
                report_add(r, "just-works-repairing", SEVERITY_WARNING,
                           g_strdup_printf("JustWorksRepairing has the unknown value \"%s\", "
                                           "which bluetoothd treats as \"never\"",
                                           raw),
                           g_strdup("write JustWorksRepairing = confirm in [General] (no "
                                    "comment on the same line)"));
        else if (b->jw_repairing == JW_REPAIRING_ALWAYS)
                report_add(r, "just-works-repairing", SEVERITY_CRITICAL,
                           g_strdup("JustWorksRepairing = always: bluetoothd accepts a Just "
                                    "Works re-pairing of any device it already knows without "
                                    "asking pairgate (no policy, no audit record)"),
                           g_strdup_printf("set JustWorksRepairing = confirm in %s and restart "
                                           "bluetooth: pairgate is then asked "
                                           "(RequestAuthorization)",
                                           b->path));
        else if (b->jw_repairing == JW_REPAIRING_NEVER)
                report_add(r, "just-works-repairing", SEVERITY_INFO,
                           g_strdup_printf("JustWorksRepairing is %s: a phone that forgot this "
                                           "speaker and pairs again with Just Works is refused "
                                           "by bluetoothd without asking pairgate",
                                           b->jw_repairing_raw ? "never" : "never (default)"),
                           g_strdup_printf("set JustWorksRepairing = confirm in %s so that "
                                           "pairgate decides (pairgated --explain says the "
                                           "same), or remove the old bond first",
                                           b->path));
        else
                report_add(r, "just-works-repairing", SEVERITY_OK,
                           g_strdup("JustWorksRepairing = confirm: re-pairings are asked of "
                                    "pairgate"),
                           NULL);
}

static void check_pairable_options(const DoctorFacts *f, const BtConf *b, Report *r) {
        bool window;

        /* adapter.c adapter_set_io_capability: with AlwaysPairable=false, bondable goes off when
         * no agent is left; with true it stays on and the kernel gets NoInputNoOutput, so
         * BR/EDR Just Works pairs with nobody asked while pairgated is not running. */
        if (b->always_pairable)
                report_add(
                        r, "always-pairable", SEVERITY_WARNING,
                        g_strdup("AlwaysPairable = true: whenever pairgated is not "
                                 "registered (stopped, restarting), bluetoothd stays "
                                 "pairable as NoInputNoOutput and the kernel pairs BR/EDR "
                                 "devices with nobody asked"),
                        g_strdup_printf("remove AlwaysPairable from %s (default false)", b->path));
        else
                report_add(r, "always-pairable", SEVERITY_OK,
                           g_strdup("AlwaysPairable is false: without an agent bluetoothd makes "
                                    "the adapter non-pairable"),
                           NULL);

        (void) facts_window_holds_closed(f, &window);
        /* adapter.c trigger_pairable_timeout: each time bondable comes on, it goes off again
         * after PairableTimeout seconds (0: never). */
        if (b->pairable_timeout > 0)
                report_add(r, "pairable-timeout", window ? SEVERITY_INFO : SEVERITY_WARNING,
                           g_strdup_printf("PairableTimeout = %d: bluetoothd makes the adapter "
                                           "non-pairable %d s after it became pairable, and "
                                           "nothing makes it pairable again until pairgated "
                                           "registers anew",
                                           b->pairable_timeout, b->pairable_timeout),
                           g_strdup(window ? "pairgate's window sets Pairable itself when it "
                                             "opens; set PairableTimeout = 0 to avoid surprises"
                                           : "set PairableTimeout = 0 and let pairgate (its "
                                             "window) decide when pairing is possible"));
        else
                report_add(r, "pairable-timeout", SEVERITY_OK,
                           g_strdup("PairableTimeout is 0: bluetoothd never switches pairing "
                                    "off by itself"),
                           NULL);

        /* The kernel runs the discoverable timer (adapter.c property_set_mode). */
        if (b->discoverable_timeout == 0)
                report_add(r, "discoverable-timeout", SEVERITY_INFO,
                           g_strdup("DiscoverableTimeout = 0: once made discoverable the "
                                    "adapter stays visible to everyone nearby until switched "
                                    "off"),
                           g_strdup("leave the default (180 s) unless pairgate's window "
                                    "switches discoverability off itself"));
        else
                report_add(r, "discoverable-timeout", SEVERITY_OK,
                           g_strdup_printf("DiscoverableTimeout = %d s", b->discoverable_timeout),
                           NULL);
}

static void check_privacy_and_sc(const DoctorFacts *f, const BtConf *b, Report *r) {
        int v = bluez_version_number(f->bluetoothd_version);
        g_autofree char *privacy = conf_text(b->privacy), *sc = conf_text(b->secure_connections);

        if (!b->privacy_valid)
                report_add(r, "privacy", SEVERITY_WARNING,
                           g_strdup_printf("Privacy has the unknown value \"%s\": bluetoothd "
                                           "uses \"off\"",
                                           privacy),
                           g_strdup("use off, network (on), device, limited-network or "
                                    "limited-device"));
        else if (b->privacy && !streq(b->privacy, "off"))
                report_add(r, "privacy", SEVERITY_INFO,
                           g_strdup_printf("Privacy = %s: this speaker advertises LE with "
                                           "changing random addresses; phones find it by name, "
                                           "bonds are unaffected",
                                           privacy),
                           NULL);
        else
                report_add(r, "privacy", SEVERITY_OK,
                           g_strdup("Privacy is off: the speaker uses its public address (the "
                                    "phones' own privacy is separate, see allowlist)"),
                           NULL);

        if (!b->secure_connections)
                report_add(r, "secure-connections", SEVERITY_OK,
                           g_strdup("SecureConnections is not set: bluetoothd leaves Secure "
                                    "Connections on"),
                           NULL);
        else if (v && v < SECURE_CONNECTIONS_VERSION)
                report_add(r, "secure-connections", SEVERITY_INFO,
                           g_strdup_printf("SecureConnections = %s is ignored by bluetoothd %s "
                                           "(the option exists from 5.67)",
                                           sc, f->bluetoothd_version),
                           g_strdup("remove it, or upgrade BlueZ if you need it"));
        else if (streq(b->secure_connections, "off"))
                report_add(r, "secure-connections", SEVERITY_WARNING,
                           g_strdup("SecureConnections = off: only legacy pairing is possible; "
                                    "LE legacy keys can be recovered by anyone who recorded the "
                                    "pairing, and each failed LE passkey attempt gives away part "
                                    "of the passkey"),
                           g_strdup("set SecureConnections = on (the default)"));
        else if (streq(b->secure_connections, "only"))
                report_add(r, "secure-connections", SEVERITY_INFO,
                           g_strdup("SecureConnections = only: devices without Secure "
                                    "Connections (older phones, many headsets) cannot pair"),
                           NULL);
        else
                report_add(r, "secure-connections", SEVERITY_OK,
                           g_strdup_printf("SecureConnections = %s", sc), NULL);
}

void check_main_conf(const DoctorFacts *f, Report *r) {
        const BtConf *b = f->btconf;
        g_autofree char *parse_error = NULL;

        if (!b)
                return;
        parse_error = conf_text(b->parse_error);
        if (!b->exists)
                report_add(r, "main-conf", SEVERITY_INFO,
                           g_strdup_printf("%s does not exist: bluetoothd runs on its defaults",
                                           b->path),
                           g_strdup("create it with [General] JustWorksRepairing = confirm"));
        else if (b->parse_error)
                report_add(r, "main-conf", SEVERITY_WARNING,
                           g_strdup_printf("%s does not parse (%s): bluetoothd ignores all of it "
                                           "and runs on its defaults",
                                           b->path, parse_error),
                           g_strdup("fix the syntax (\"[Group]\" lines and \"Key = value\" "
                                    "lines only; comments on their own lines)"));
        else
                report_add(r, "main-conf", SEVERITY_OK, g_strdup_printf("%s read", b->path), NULL);
        for (char **w = b->wrong_type; w && *w; w++) {
                g_autofree char *entry = conf_text(*w);

                report_add(r, "main-conf", SEVERITY_WARNING,
                           g_strdup_printf("%s: not a valid value for this option, bluetoothd "
                                           "uses the default",
                                           entry),
                           g_strdup("write a plain number or true/false, with no comment on "
                                    "the same line"));
        }
        check_jw_repairing(b, r);
        check_pairable_options(f, b, r);
        check_privacy_and_sc(f, b, r);
}

/* bluetoothd -P/--noplugin and -p/--plugin take comma- or space-separated glob patterns
 * (plugin.c plugin_init, enable_plugin: g_pattern_match_simple). */
static bool plugin_excluded(char **argv, const char *plugin) {
        g_auto(GStrv) enable = NULL, disable = NULL;

        for (char **a = argv; a && *a; a++) {
                const char *val = NULL;

                if (streq(*a, "-P") || streq(*a, "--noplugin") || streq(*a, "-p") ||
                    streq(*a, "--plugin"))
                        val = a[1];
                else if (g_str_has_prefix(*a, "--noplugin=") || g_str_has_prefix(*a, "--plugin="))
                        val = strchr(*a, '=') + 1;
                else if (g_str_has_prefix(*a, "-P") || g_str_has_prefix(*a, "-p"))
                        val = *a + 2;
                if (!val)
                        continue;
                if (g_str_has_prefix(*a, "-P") || g_str_has_prefix(*a, "--noplugin")) {
                        g_strfreev(disable);
                        disable = g_strsplit_set(val, ", ", -1);
                } else {
                        g_strfreev(enable);
                        enable = g_strsplit_set(val, ", ", -1);
                }
        }
        for (char **p = disable; p && *p; p++)
                if (**p && g_pattern_match_simple(*p, plugin))
                        return true;
        if (enable) {
                for (char **p = enable; *p; p++)
                        if (**p && g_pattern_match_simple(*p, plugin))
                                return false;
                return true;
        }
        return false;
}

void check_battery_loop(const DoctorFacts *f, Report *r) {
        const BtConf *b = f->btconf;
        int v = bluez_version_number(f->bluetoothd_version);

        if (!b || !btconf_has_le(b))
                return;
        /* device.c gatt_client_init: with ReverseServiceDiscovery=false bluetoothd starts no GATT
         * client on connections it did not make, so it never reads the phone's Battery Service
         * (profiles/battery/battery.c), gets no "Insufficient Authentication" and sends no
         * Security Request. From 5.74 [GATT] Client=false does the same for all connections. */
        if (!b->reverse_service_discovery) {
                report_add(r, "battery-loop", SEVERITY_OK,
                           g_strdup("ReverseServiceDiscovery = false: bluetoothd does not read "
                                    "the GATT services of phones that connect to it, so no "
                                    "iOS battery-read pairing loop"),
                           NULL);
                return;
        }
        if (b->gatt_client == 0 && v >= GATT_CLIENT_OPTION_VERSION) {
                report_add(r, "battery-loop", SEVERITY_OK,
                           g_strdup("[GATT] Client = false: bluetoothd runs no GATT client, so "
                                    "no iOS battery-read pairing loop"),
                           NULL);
                return;
        }
        if (f->bluetoothd_argv && plugin_excluded(f->bluetoothd_argv, "battery")) {
                report_add(r, "battery-loop", SEVERITY_OK,
                           g_strdup("bluetoothd runs without its battery plugin, so it does not "
                                    "read an iPhone's Battery Service (no pairing loop)"),
                           NULL);
                return;
        }
        report_add(r, "battery-loop", f->bluetoothd_argv ? SEVERITY_WARNING : SEVERITY_INFO,
                   g_strdup_printf("%s: when an iPhone connects over LE, bluetoothd reads its "
                                   "Battery Service, gets \"Insufficient Authentication\", asks "
                                   "for pairing, and this repeats until the phone disconnects "
                                   "(repeated prompts, or failed pairings)",
                                   f->bluetoothd_argv ? "bluetoothd runs with its battery plugin"
                                                      : "could not read bluetoothd's command "
                                                        "line; if it runs with its battery "
                                                        "plugin"),
                   g_strdup("start bluetoothd with --noplugin=battery (a systemd drop-in for "
                            "bluetooth.service, docs/troubleshooting.md), or set "
                            "ReverseServiceDiscovery = false in [General] (BlueZ 5.66), or "
                            "[GATT] Client = false (BlueZ 5.74 and later)"));
}

void check_pairgate_config(const DoctorFacts *f, Report *r) {
        g_auto(GStrv) warnings = NULL;

        if (!f->config) {
                report_add(r, "pairgate-config", SEVERITY_CRITICAL,
                           f->config_error ? config_text(f->config_error) : g_strdup("no config"),
                           g_strdup("fix it (pairgated --check-config says the same); "
                                    "pairgated refuses to start on it, and a reload keeps the "
                                    "old one"));
                return;
        }
        report_add(r, "pairgate-config", SEVERITY_OK,
                   g_strdup_printf("%s is valid (capability %s)", f->config->path,
                                   capability_to_string(f->config->capability)),
                   NULL);
        warnings = explain_warnings(f->config);
        for (char **w = warnings; w && *w; w++) {
                /* The repairing warning is judged against main.conf above. */
                if (strstr(*w, "JustWorksRepairing"))
                        continue;
                report_add(r, "pairgate-config", SEVERITY_INFO, config_text(*w),
                           g_strdup("see pairgated --explain"));
        }
}

void check_noio_bredr(const DoctorFacts *f, Report *r) {
        bool window, hold;

        if (!f->config || f->config->capability != CAPABILITY_NO_INPUT_NO_OUTPUT)
                return;
        if (f->btconf && !btconf_has_bredr(f->btconf)) {
                report_add(r, "noio-bredr", SEVERITY_OK,
                           g_strdup("capability NoInputNoOutput, but ControllerMode = le: no "
                                    "BR/EDR pairing the kernel could accept alone"),
                           NULL);
                return;
        }
        /* Kernel hci_event.c hci_user_confirm_request_evt: a BR/EDR Just Works pairing with a
         * NoInputNoOutput local side and no stored key is confirmed by the kernel itself. Only a
         * non-bondable adapter stops it (pairgate's window with pairable_when_closed = false). */
        hold = facts_window_holds_closed(f, &window);
        if (window && hold)
                report_add(r, "noio-bredr", SEVERITY_WARNING,
                           g_strdup("capability NoInputNoOutput over BR/EDR: while pairgate's "
                                    "window is open the kernel pairs any BR/EDR device without "
                                    "asking pairgate"),
                           g_strdup("keep the window short; or ControllerMode = le in "
                                    "main.conf if no BR/EDR device needs to pair"));
        else
                report_add(r, "noio-bredr", SEVERITY_CRITICAL,
                           g_strdup("capability NoInputNoOutput over BR/EDR with an adapter "
                                    "left pairable: the kernel pairs any BR/EDR device (a "
                                    "neighbour's phone) without asking pairgate"),
                           g_strdup("configure window = { pairable_when_closed = false; } so "
                                    "the adapter is pairable only while the window is open, "
                                    "or choose another capability"));
}

/* A random address's two top bits: 01 resolvable private, 00 non-resolvable, 11 static. A
 * public address can have any top bits, so this is only a hint. */
static bool looks_resolvable(const char *addr) {
        unsigned first = (unsigned) g_ascii_xdigit_value(addr[0]) << 4 |
                         (unsigned) g_ascii_xdigit_value(addr[1]);

        return (first & 0xc0) == 0x40;
}

static bool address_bonded(const DoctorFacts *f, const char *addr) {
        for (guint i = 0; i < f->bonds->len; i++)
                if (streq(((BondFacts *) g_ptr_array_index(f->bonds, i))->address, addr))
                        return true;
        for (guint i = 0; i < f->devices->len; i++) {
                const DeviceFacts *d = g_ptr_array_index(f->devices, i);

                if (streq(d->address, addr) && (d->paired || d->bonded))
                        return true;
        }
        return false;
}

void check_allowlist(const DoctorFacts *f, Report *r) {
        const config_setting_t *s =
                f->config ? config_policy_section(f->config, "allowlist") : NULL;
        const config_setting_t *devices = s ? config_setting_get_member(s, "devices") : NULL;
        unsigned n = devices ? (unsigned) config_setting_length(devices) : 0;
        bool bonds_known = f->bonds_error == 0 || f->devices->len > 0;
        unsigned fine = 0;

        for (unsigned i = 0; i < n; i++) {
                const char *raw = config_setting_get_string_elem(devices, i);
                char addr[BDADDR_STRLEN];

                if (!raw || !bdaddr_normalize(raw, addr))
                        continue;
                if (address_bonded(f, addr) || (!bonds_known && !looks_resolvable(addr))) {
                        fine++;
                        continue;
                }
                if (looks_resolvable(addr))
                        report_add(r, "allowlist", SEVERITY_WARNING,
                                   g_strdup_printf("allowlist entry %s is not bonded and looks "
                                                   "like a resolvable private address: the "
                                                   "phone shows a new one every few minutes, "
                                                   "so this entry will not match again",
                                                   addr),
                                   g_strdup("after the phone has paired once, list the address "
                                            "bluetoothctl devices Paired shows (its identity "
                                            "address) instead"));
                else
                        report_add(r, "allowlist", SEVERITY_INFO,
                                   g_strdup_printf("allowlist entry %s matches no bonded device",
                                                   addr),
                                   g_strdup("fine for a device that has not paired yet; "
                                            "otherwise remove the entry"));
        }
        if (n && fine == n)
                report_add(r, "allowlist", SEVERITY_OK,
                           g_strdup_printf("%u allowlist %s", n,
                                           n == 1 ? "entry is fine" : "entries are fine"),
                           NULL);
}

static bool adapter_present(const DoctorFacts *f, const char *addr) {
        for (guint i = 0; i < f->adapters->len; i++)
                if (g_ascii_strcasecmp(
                            ((AdapterFacts *) g_ptr_array_index(f->adapters, i))->address, addr) ==
                    0)
                        return true;
        return false;
}

void check_bonds(const DoctorFacts *f, Report *r) {
        unsigned unauth = 0;

        if (f->bonds_error) {
                report_add(r, "bonds", SEVERITY_INFO,
                           g_strdup_printf("cannot read %s (%s)", f->state_dir,
                                           g_strerror(-f->bonds_error)),
                           g_strdup(f->bonds_error == -EACCES
                                            ? "run doctor as root to check the stored bonds"
                                            : ""));
                return;
        }
        /* adapter.c load_devices: bonds live under the adapter's own address; a controller
         * whose address changed starts with none, and phones then say "peer removed pairing
         * information". */
        for (char **a = f->state_adapters; a && *a; a++)
                if (f->adapters->len && !adapter_present(f, *a))
                        report_add(r, "bonds", SEVERITY_WARNING,
                                   g_strdup_printf("%s/%s holds bonds of a controller address no "
                                                   "adapter has now",
                                                   f->state_dir, *a),
                                   g_strdup("if the controller's address changed (some boards "
                                            "get a new one at each boot), give it a fixed "
                                            "address (btmgmt public-addr) or pair the phones "
                                            "again (forget the speaker on the phone first)"));
        for (guint i = 0; i < f->bonds->len; i++) {
                const BondFacts *b = g_ptr_array_index(f->bonds, i);

                if ((b->link_key && !b->link_key_auth) || (b->le_key && !b->le_key_auth)) {
                        unauth++;
                        if (b->trusted)
                                report_add(r, "bonds", SEVERITY_INFO,
                                           g_strdup_printf("%s is trusted but its key is "
                                                           "unauthenticated (Just Works): "
                                                           "nobody compared a code when it "
                                                           "paired",
                                                           b->address),
                                           g_strdup("if that device can show a code, remove "
                                                    "the bond and pair it again with capability "
                                                    "DisplayYesNo"));
                }
        }
        if (f->bonds->len == 0) {
                const config_setting_t *s =
                        f->config ? config_policy_section(f->config, "allowlist") : NULL;
                const config_setting_t *d = s ? config_setting_get_member(s, "devices") : NULL;

                /* Only a hint: allowlisted devices may simply not have paired yet. */
                report_add(r, "bonds", SEVERITY_INFO,
                           g_strdup_printf("no bonds stored in %s", f->state_dir),
                           g_strdup(d && config_setting_length(d)
                                            ? "if the allowlisted devices had paired before, "
                                              "their bonds are gone (/var/lib/bluetooth "
                                              "cleared?): forget the speaker on each phone and "
                                              "pair again"
                                            : ""));
        } else
                report_add(r, "bonds", SEVERITY_OK,
                           g_strdup_printf("%u bonds stored in %s (%u with an unauthenticated "
                                           "key)",
                                           f->bonds->len, f->state_dir, unauth),
                           NULL);
}

void check_fixed_secrets(const DoctorFacts *f, Report *r) {
        bool found = false;

        for (guint i = 0; i < f->agent_processes->len; i++) {
                const ProcessFacts *p = g_ptr_array_index(f->agent_processes, i);

                if (!p->fixed_pin)
                        continue;
                found = true;
                report_add(r, "fixed-secrets", SEVERITY_WARNING,
                           g_strdup_printf("%s (pid %d) answers pairing with PINs or passkeys "
                                           "from a file: a fixed secret can be guessed (legacy "
                                           "PINs) or learnt bit by bit (each failed LE passkey "
                                           "attempt reveals one of its 20 bits)",
                                           p->name, p->pid),
                           g_strdup("stop it; let pairgate speak a fresh code per pairing "
                                    "(speech.generate_pin) or use numeric comparison"));
        }
        if (f->config && (config_route_uses(f->config, "test"))) {
                found = true;
                report_add(r, "fixed-secrets", SEVERITY_CRITICAL,
                           g_strdup("the configuration routes to the test policy, which answers "
                                    "with scripted (fixed) decisions and secrets"),
                           g_strdup("remove \"test\" from routes: it exists for the test suite"));
        }
        if (!found)
                report_add(r, "fixed-secrets", SEVERITY_OK,
                           g_strdup("no fixed PIN or passkey is in use (pairgate never answers "
                                    "with one)"),
                           NULL);
}
