/* SPDX-License-Identifier: MIT */
/* doctor's checks of the running system: bluetoothd, pairgated and who else is an agent, the
 * adapters, the installation. Every claim about bluetoothd is BlueZ 5.66's behaviour; the
 * function named in each comment is where it was read. */
#include "doctor-checks.h"

#include "agent-types.h"
#include "doctor-checks-internal.h"
#include "macro.h"
#include "window.h"

#define BLUEZ_REFERENCE_VERSION 566

void check_bluetoothd(const DoctorFacts *f, Report *r) {
        int v;

        if (!f->bus_asked)
                return;
        if (f->bus_error) {
                report_add(r, "bluetoothd", SEVERITY_CRITICAL,
                           g_strdup_printf("cannot reach the system bus: %s", f->bus_error),
                           g_strdup("start dbus (systemctl start dbus); nothing Bluetooth works "
                                    "without it"));
                return;
        }
        if (!f->bluetoothd_running) {
                report_add(r, "bluetoothd", SEVERITY_CRITICAL,
                           g_strdup("bluetoothd is not running (nobody owns org.bluez on the "
                                    "system bus)"),
                           g_strdup("systemctl enable --now bluetooth; look at journalctl -u "
                                    "bluetooth for why it stopped"));
                return;
        }
        v = bluez_version_number(f->bluetoothd_version);
        if (v && v < BLUEZ_REFERENCE_VERSION)
                report_add(r, "bluetoothd", SEVERITY_WARNING,
                           g_strdup_printf("bluetoothd %s is running (pid %u), older than 5.66, "
                                           "the version pairgate and these checks are written "
                                           "against",
                                           f->bluetoothd_version, f->bluetoothd_pid),
                           g_strdup("upgrade BlueZ to 5.66 or later"));
        else
                report_add(r, "bluetoothd", SEVERITY_OK,
                           g_strdup_printf("bluetoothd %s is running (pid %u)",
                                           f->bluetoothd_version ? f->bluetoothd_version
                                                                 : "(version unknown)",
                                           f->bluetoothd_pid),
                           NULL);
}

void check_pairgated(const DoctorFacts *f, Report *r) {
        const char *want = f->config ? capability_to_string(f->config->capability) : NULL;

        switch (f->pairgated) {
        case PAIRGATED_NOT_ASKED:
                return;
        case PAIRGATED_NOT_RUNNING:
                if (f->pairgated_pid) {
                        report_add(r, "pairgated", SEVERITY_WARNING,
                                   g_strdup_printf("pairgated runs (pid %d) but does not own "
                                                   "org.pairgate, so its registration cannot be "
                                                   "checked",
                                                   f->pairgated_pid),
                                   g_strdup("install pairgate's D-Bus policy and reload dbus, "
                                            "or update pairgated (a version without the "
                                            "control interface)"));
                        return;
                }
                report_add(r, "pairgated", SEVERITY_CRITICAL,
                           g_strdup("pairgated is not running (nobody owns org.pairgate): no "
                                    "pairing is gated"),
                           g_strdup("systemctl enable --now pairgate; journalctl -u pairgate "
                                    "says why it stopped"));
                return;
        case PAIRGATED_DENIED:
                report_add(r, "pairgated", SEVERITY_WARNING,
                           g_strdup("pairgated is running but refused to tell its status to "
                                    "this user"),
                           g_strdup("run doctor as root or as a member of the pairgate-admin "
                                    "group to check its registration"));
                return;
        case PAIRGATED_ERROR:
                report_add(r, "pairgated", SEVERITY_WARNING,
                           g_strdup_printf("pairgated owns org.pairgate but GetStatus failed: %s",
                                           f->pairgated_error ? f->pairgated_error : "?"),
                           g_strdup("check that pairgated and pairgatectl are the same version"));
                return;
        case PAIRGATED_STATUS:
                break;
        }
        if (!f->registered) {
                /* bluez.c registers again after each restart of bluetoothd; not registered means
                 * RegisterAgent or RequestDefaultAgent failed or bluetoothd is down. */
                report_add(r, "pairgated", SEVERITY_CRITICAL,
                           g_strdup_printf("pairgated %s is running but is not the registered "
                                           "default agent of bluetoothd: incoming pairing goes "
                                           "to another agent or none",
                                           f->pg_version ? f->pg_version : "?"),
                           g_strdup("journalctl -u pairgate shows why RegisterAgent or "
                                    "RequestDefaultAgent failed"));
                return;
        }
        if (want && f->pg_capability && !streq(want, f->pg_capability)) {
                report_add(r, "pairgated", SEVERITY_WARNING,
                           g_strdup_printf("pairgated runs with capability %s but the "
                                           "configuration says %s",
                                           f->pg_capability, want),
                           g_strdup("systemctl reload pairgate (or restart it) to apply the "
                                    "configuration"));
                return;
        }
        report_add(r, "pairgated", SEVERITY_OK,
                   g_strdup_printf("pairgated %s registered as bluetoothd's default agent "
                                   "with capability %s (BlueZ does not report a later takeover)",
                                   f->pg_version ? f->pg_version : "?",
                                   f->pg_capability ? f->pg_capability : "?"),
                   NULL);
}

void check_other_agents(const DoctorFacts *f, Report *r) {
        /* agent.c (5.66): AgentManager1 has RegisterAgent, UnregisterAgent and
         * RequestDefaultAgent and no property or method that names the default agent;
         * RequestDefaultAgent has no permission check and the displaced agent is not told
         * (add_default_agent). So a client can only gather evidence: the programs that are
         * known to register an agent, running now. */
        for (guint i = 0; i < f->agent_processes->len; i++) {
                const ProcessFacts *p = g_ptr_array_index(f->agent_processes, i);

                report_add(r, "other-agents", SEVERITY_WARNING,
                           g_strdup_printf("%s (pid %d) is running: %s", p->name, p->pid, p->what),
                           g_strdup("stop and disable it (or remove its agent setting); then "
                                    "systemctl restart pairgate so that pairgated is the "
                                    "default agent again"));
        }
        if (f->agent_processes->len == 0)
                report_add(r, "other-agents", SEVERITY_INFO,
                           g_strdup("no program known to register a Bluetooth agent is running; "
                                    "BlueZ cannot say who the default agent is, and any "
                                    "program allowed to call org.bluez may take that role "
                                    "without pairgated being told"),
                           g_strdup(f->agent_lock ? ""
                                                  : "install the agent lock (docs/"
                                                    "troubleshooting.md) to stop other users "
                                                    "from taking it"));
        if (f->agent_lock)
                report_add(r, "agent-lock", SEVERITY_OK,
                           g_strdup_printf("the agent lock is installed (%s): only root and the "
                                           "pairgate user may register a Bluetooth agent",
                                           f->agent_lock),
                           NULL);
        else
                report_add(
                        r, "agent-lock", SEVERITY_INFO,
                        g_strdup("the agent lock is not installed: every user may register "
                                 "a Bluetooth agent and make it the default"),
                        g_strdup("optional: copy /usr/share/pairgate/pairgate-agent-lock.conf to "
                                 "/etc/dbus-1/system.d/ (docs/troubleshooting.md says what "
                                 "it can and cannot stop)"));
}

static void check_adapter(const DoctorFacts *f, const AdapterFacts *a, Report *r) {
        bool window, hold_closed = facts_window_holds_closed(f, &window);

        if (!a->powered) {
                report_add(r, "adapter", SEVERITY_CRITICAL,
                           g_strdup_printf("%s (%s) is powered off: nothing can pair or "
                                           "connect",
                                           a->path, a->address),
                           g_strdup_printf("bluetoothctl power on; if it goes off again check "
                                           "rfkill list and [Policy] AutoEnable in main.conf"));
                return;
        }
        if (!a->pairable) {
                if (window && hold_closed)
                        report_add(r, "adapter", SEVERITY_OK,
                                   g_strdup_printf("%s (%s) is not pairable: pairgate's window is "
                                                   "closed and keeps it so",
                                                   a->path, a->address),
                                   NULL);
                else
                        report_add(r, "adapter", SEVERITY_WARNING,
                                   g_strdup_printf("%s (%s) is not pairable: the kernel refuses "
                                                   "every new pairing before pairgate is asked",
                                                   a->path, a->address),
                                   g_strdup("bluetoothctl pairable on; a PairableTimeout in "
                                            "main.conf switches it off again (see below)"));
        } else
                report_add(r, "adapter", SEVERITY_OK,
                           g_strdup_printf("%s (%s) is powered and pairable%s", a->path, a->address,
                                           a->pairable_timeout ? ", with a PairableTimeout" : ""),
                           NULL);
        report_add(r, "adapter", SEVERITY_INFO,
                   g_strdup_printf("%s: alias \"%s\", class 0x%06x, %s (timeout %u s)", a->path,
                                   a->alias ? a->alias : "", a->klass,
                                   a->discoverable ? "discoverable" : "not discoverable",
                                   a->discoverable_timeout),
                   g_strdup(a->discoverable && !a->discoverable_timeout
                                    ? "it stays discoverable until switched off: neighbours "
                                      "see it (they still cannot pair without pairgate)"
                                    : ""));
}

void check_adapters(const DoctorFacts *f, Report *r) {
        bool window;

        if (f->bus_error || !f->bluetoothd_running)
                return;
        if (f->adapters->len == 0) {
                report_add(r, "adapter", SEVERITY_CRITICAL, g_strdup("bluetoothd has no adapter"),
                           g_strdup("check that the controller is attached (hciconfig -a, "
                                    "dmesg | grep -i bluetooth) and not blocked (rfkill list)"));
                return;
        }
        for (guint i = 0; i < f->adapters->len; i++)
                check_adapter(f, g_ptr_array_index(f->adapters, i), r);

        (void) facts_window_holds_closed(f, &window);
        if (window && f->config) {
                WindowSettings s;
                g_autofree char *err = NULL;
                PolicyEnv env = { .config_path = f->config->path };
                bool found = false;

                if (window_settings_parse(&s, config_policy_section(f->config, "window"), &env,
                                          &err) < 0)
                        return;
                for (guint i = 0; i < f->adapters->len; i++)
                        if (streq(((AdapterFacts *) g_ptr_array_index(f->adapters, i))->path,
                                  s.adapter))
                                found = true;
                if (!found)
                        report_add(r, "adapter", SEVERITY_WARNING,
                                   g_strdup_printf("the window acts on %s, which bluetoothd "
                                                   "does not have",
                                                   s.adapter),
                                   g_strdup("set window.adapter to one of the adapters above"));
                window_settings_clear(&s);
        }
}

void check_installation(const DoctorFacts *f, Report *r) {
        if (f->dbus_policy)
                report_add(r, "installation", SEVERITY_OK,
                           g_strdup_printf("D-Bus policy installed: %s", f->dbus_policy), NULL);
        else
                report_add(r, "installation", SEVERITY_WARNING,
                           g_strdup("pairgate's D-Bus policy (pairgate.conf) is in neither "
                                    "/usr/share/dbus-1/system.d nor /etc/dbus-1/system.d: the "
                                    "bus lets pairgated neither own org.pairgate nor receive "
                                    "bluetoothd's calls"),
                           g_strdup("install it (cmake --install, or the package) and reload "
                                    "dbus (systemctl reload dbus)"));
        if (!f->unit)
                report_add(r, "installation", SEVERITY_INFO,
                           g_strdup("no pairgate.service unit found"),
                           g_strdup("without the unit pairgated does not start at boot; "
                                    "install it (cmake --install, or the package)"));
        else if (!f->unit_enabled)
                report_add(r, "installation", SEVERITY_WARNING,
                           g_strdup_printf("%s is installed but not enabled: pairgated does not "
                                           "start at boot",
                                           f->unit),
                           g_strdup("systemctl enable pairgate"));
        else
                report_add(r, "installation", SEVERITY_OK,
                           g_strdup_printf("%s is installed and enabled", f->unit), NULL);
}

void doctor_check_all(const DoctorFacts *f, Report *r) {
        check_bluetoothd(f, r);
        check_pairgated(f, r);
        check_other_agents(f, r);
        check_main_conf(f, r);
        check_battery_loop(f, r);
        check_pairgate_config(f, r);
        check_noio_bredr(f, r);
        check_adapters(f, r);
        check_allowlist(f, r);
        check_bonds(f, r);
        check_fixed_secrets(f, r);
        check_installation(f, r);
}
