/* SPDX-License-Identifier: MIT */
/* doctor's facts from the file system: bluetoothd's command line and version (/proc), the
 * programs known to register a Bluetooth agent, the bonds bluetoothd stored
 * (/var/lib/bluetooth/<adapter>/<device>/info, src/device.c store_device_info and the key
 * callbacks in src/adapter.c), and pairgate's installed D-Bus policy, agent lock and unit. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "bdaddr.h"
#include "doctor-gather.h"
#include "macro.h"
#include "text-escape.h"

/* Programs that register an org.bluez.Agent1 in their usual set-up. Matched on the process
 * name, its executable's or (for scripts) its script's base name. */
static const struct KnownAgent {
        const char *name;
        const char *what;
        const char *const pin_options[3]; /* options that give it a fixed PIN/passkey file */
} known_agents[] = {
        { "bluetoothctl",
          "an interactive bluetoothctl registers its own agent (BlueZ client/main.c) and becomes "
          "the default agent on \"default-agent\" or whenever pairgated re-registers",
          { NULL } },
        { "bt-agent",
          "bluez-tools' bt-agent registers itself as the default agent",
          { "-p", "--pin", NULL } },
        { "blueman-applet", "blueman's applet registers a desktop pairing agent", { NULL } },
        { "simple-agent",
          "BlueZ's test/simple-agent registers an agent and requests to be the default",
          { NULL } },
        { "wf-panel-pi",
          "the Raspberry Pi OS panel's Bluetooth plugin registers a desktop pairing agent",
          { NULL } },
        { "lxpanel",
          "the Raspberry Pi OS (LXDE) panel's Bluetooth plugin registers a desktop pairing agent",
          { NULL } },
};

static char *root_path(const char *root, const char *path) {
        if (!root || streq(root, "/"))
                return g_strdup(path);
        return g_build_filename(root, path, NULL);
}

/* NUL-separated /proc/PID/cmdline into a strv (NULL when unreadable or empty). */
static char **read_cmdline(const char *proc, const char *pid) {
        g_autofree char *path = g_build_filename(proc, pid, "cmdline", NULL);
        g_autofree char *buf = NULL;
        gsize len = 0;
        GPtrArray *a;

        if (!g_file_get_contents(path, &buf, &len, NULL) || len == 0)
                return NULL;
        a = g_ptr_array_new();
        for (gsize i = 0; i < len; i += strlen(buf + i) + 1)
                g_ptr_array_add(a, g_strndup(buf + i, len - i));
        g_ptr_array_add(a, NULL);
        return (char **) g_ptr_array_free(a, FALSE);
}

static bool arg_matches(const char *arg, const char *name) {
        g_autofree char *base = arg ? g_path_get_basename(arg) : NULL;

        return base && (streq(base, name) ||
                        (g_str_has_prefix(base, name) && streq(base + strlen(name), ".py")));
}

static bool has_option(char **argv, const char *const *opts) {
        for (char **a = argv; a && *a; a++)
                for (const char *const *o = opts; *o; o++)
                        if (streq(*a, *o) || (g_str_has_prefix(*a, *o) && (*a)[strlen(*o)] == '='))
                                return true;
        return false;
}

static void scan_processes(DoctorFacts *f, const char *proc) {
        g_autoptr(GDir) dir = g_dir_open(proc, 0, NULL);
        const char *pid;

        if (!dir)
                return;
        while ((pid = g_dir_read_name(dir))) {
                g_auto(GStrv) argv = NULL;
                g_autofree char *comm_path = NULL, *comm = NULL;

                if (!g_ascii_isdigit(pid[0]))
                        continue;
                comm_path = g_build_filename(proc, pid, "comm", NULL);
                if (g_file_get_contents(comm_path, &comm, NULL, NULL))
                        g_strchomp(comm);
                argv = read_cmdline(proc, pid);
                if (streq(comm, "pairgated") && !f->pairgated_pid)
                        f->pairgated_pid = atoi(pid);
                for (size_t k = 0; k < ELEMENTSOF(known_agents); k++) {
                        const struct KnownAgent *ka = &known_agents[k];
                        ProcessFacts *p;

                        if (!streq(comm, ka->name) &&
                            !arg_matches(argv ? argv[0] : NULL, ka->name) &&
                            !(argv && argv[0] && arg_matches(argv[1], ka->name)))
                                continue;
                        p = g_new0(ProcessFacts, 1);
                        p->pid = atoi(pid);
                        p->name = g_strdup(ka->name);
                        p->what = (char *) ka->what;
                        p->fixed_pin = ka->pin_options[0] && has_option(argv, ka->pin_options);
                        g_ptr_array_add(f->agent_processes, p);
                        break;
                }
        }
}

/* bluetoothd --version prints the version (src/main.c option_version); only run a file that is
 * called bluetoothd, with an argv and no shell. */
static void read_bluetoothd(DoctorFacts *f, const char *proc) {
        g_autofree char *pid = g_strdup_printf("%u", f->bluetoothd_pid);
        g_autofree char *exe_link = NULL, *exe = NULL, *out = NULL, *base = NULL;
        int status = 0;

        if (!f->bluetoothd_pid)
                return;
        f->bluetoothd_argv = read_cmdline(proc, pid);
        exe_link = g_build_filename(proc, pid, "exe", NULL);
        exe = g_file_read_link(exe_link, NULL);
        if (!exe)
                return;
        base = g_path_get_basename(exe);
        if (!streq(base, "bluetoothd"))
                return;
        {
                char *argv[] = { exe, (char *) "--version", NULL };

                if (g_spawn_sync(NULL, argv, (char *[]){ NULL }, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                 NULL, &out, NULL, &status, NULL) &&
                    g_spawn_check_wait_status(status, NULL) && out && out[0]) {
                        g_strstrip(out);
                        f->bluetoothd_version = text_escape(out, SIZE_MAX, false);
                }
        }
}

static bool key_type_authenticated(GKeyFile *kf, const char *group, const char *key,
                                   const int *auth_values) {
        int v = g_key_file_get_integer(kf, group, key, NULL);

        for (; *auth_values >= 0; auth_values++)
                if (v == *auth_values)
                        return true;
        return false;
}

static void read_bond(DoctorFacts *f, const char *adapter, const char *device, const char *info) {
        static const int link_auth[] = { 5, 8, -1 }; /* HCI: authenticated P-192 / P-256 */
        static const int ltk_auth[] = { 1, 3, -1 };  /* mgmt LTK types: authenticated legacy/SC */
        static const char *const ltk_groups[] = { "LongTermKey", "PeripheralLongTermKey",
                                                  "SlaveLongTermKey" };
        g_autoptr(GKeyFile) kf = g_key_file_new();
        BondFacts *b;

        if (!g_key_file_load_from_file(kf, info, G_KEY_FILE_NONE, NULL))
                return;
        b = g_new0(BondFacts, 1);
        b->adapter = g_strdup(adapter);
        b->address = g_strdup(device);
        b->address_type = g_key_file_get_string(kf, "General", "AddressType", NULL);
        b->trusted = g_key_file_get_boolean(kf, "General", "Trusted", NULL);
        b->link_key = g_key_file_has_group(kf, "LinkKey");
        b->link_key_auth = b->link_key && key_type_authenticated(kf, "LinkKey", "Type", link_auth);
        for (size_t i = 0; i < ELEMENTSOF(ltk_groups); i++)
                if (g_key_file_has_group(kf, ltk_groups[i])) {
                        b->le_key = true;
                        if (key_type_authenticated(kf, ltk_groups[i], "Authenticated", ltk_auth))
                                b->le_key_auth = true;
                }
        if (!b->link_key && !b->le_key) {
                /* a device bluetoothd remembers without keys is not a bond */
                g_free(b->adapter);
                g_free(b->address);
                g_free(b->address_type);
                g_free(b);
                return;
        }
        g_ptr_array_add(f->bonds, b);
}

static void scan_state_dir(DoctorFacts *f) {
        g_autoptr(GDir) dir = NULL;
        g_autoptr(GError) err = NULL;
        g_autoptr(GPtrArray) adapters = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        dir = g_dir_open(f->state_dir, 0, &err);
        if (!dir) {
                f->bonds_error = g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_ACCES)   ? -EACCES
                                 : g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT
                                                                                          : -EIO;
                return;
        }
        while ((name = g_dir_read_name(dir))) {
                char addr[BDADDR_STRLEN];
                g_autofree char *adir = g_build_filename(f->state_dir, name, NULL);
                g_autoptr(GDir) sub = NULL;
                const char *dev;

                /* adapter.c: "<address>" or "static-<address>" directories */
                if (!bdaddr_normalize(g_str_has_prefix(name, "static-") ? name + 7 : name, addr))
                        continue;
                g_ptr_array_add(adapters, g_strdup(addr));
                sub = g_dir_open(adir, 0, NULL);
                if (!sub) {
                        f->bonds_error = -EACCES;
                        continue;
                }
                while ((dev = g_dir_read_name(sub))) {
                        char daddr[BDADDR_STRLEN];
                        g_autofree char *info = NULL;

                        if (!bdaddr_normalize(dev, daddr))
                                continue;
                        info = g_build_filename(adir, dev, "info", NULL);
                        read_bond(f, addr, daddr, info);
                }
        }
        g_ptr_array_add(adapters, NULL);
        f->state_adapters = (char **) g_ptr_array_free(g_steal_pointer(&adapters), FALSE);
}

static char *first_existing(const char *root, const char *const *paths) {
        for (; *paths; paths++) {
                g_autofree char *p = root_path(root, *paths);
                struct stat st;

                if (lstat(p, &st) == 0)
                        return g_strdup(*paths);
        }
        return NULL;
}

void doctor_gather_host(DoctorFacts *f, const char *root) {
        static const char *const dbus_policy[] = { "/etc/dbus-1/system.d/pairgate.conf",
                                                   "/usr/share/dbus-1/system.d/pairgate.conf",
                                                   NULL };
        static const char *const agent_lock[] = {
                "/etc/dbus-1/system.d/pairgate-agent-lock.conf",
                "/usr/share/dbus-1/system.d/pairgate-agent-lock.conf", NULL
        };
        static const char *const units[] = { "/etc/systemd/system/pairgate.service",
                                             "/usr/local/lib/systemd/system/pairgate.service",
                                             "/lib/systemd/system/pairgate.service",
                                             "/usr/lib/systemd/system/pairgate.service", NULL };
        static const char *const wants[] = {
                "/etc/systemd/system/multi-user.target.wants/pairgate.service", NULL
        };
        g_autofree char *proc = root_path(root, "/proc");
        g_autofree char *enabled = NULL;

        read_bluetoothd(f, proc);
        scan_processes(f, proc);
        f->state_dir = root_path(root, "/var/lib/bluetooth");
        scan_state_dir(f);
        f->dbus_policy = first_existing(root, dbus_policy);
        f->agent_lock = first_existing(root, agent_lock);
        f->unit = first_existing(root, units);
        enabled = first_existing(root, wants);
        f->unit_enabled = enabled != NULL;
}
