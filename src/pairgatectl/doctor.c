/* SPDX-License-Identifier: MIT */
/* `pairgatectl doctor`: gathers the facts (doctor-bus.c, doctor-host.c, the two configuration
 * files), judges them (doctor-checks*.c) and prints the findings as text or JSON. */
#include "doctor.h"

#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "doctor-btconf.h"
#include "doctor-checks.h"
#include "doctor-gather.h"
#include "macro.h"

#define DOCTOR_EXIT_USAGE        3
#define BLUETOOTH_CONFIG_DEFAULT "/etc/bluetooth/main.conf"

static void usage(FILE *f) {
        fputs("Usage: pairgatectl doctor [OPTIONS]\n"
              "Checks what around pairgated silently undoes it: bluetoothd's main.conf and\n"
              "plugins, other pairing agents, the adapter, bonds, pairgate's configuration and\n"
              "installation. Exit status: 0 nothing worse than info, 1 warnings, 2 critical.\n\n"
              "  --json                    one JSON object instead of text\n"
              "  --bluetooth-config FILE   bluetoothd's configuration "
              "(default " BLUETOOTH_CONFIG_DEFAULT ")\n"
              "  --config FILE             pairgate's configuration (default " CONFIG_DEFAULT_PATH
              ")\n"
              "  --root DIR                look for /proc, /var/lib/bluetooth, /etc and /usr "
              "under\n"
              "                            DIR (images, tests); the two files above too unless "
              "given\n"
              "  --no-bus                  do not ask bluetoothd or pairgated (offline checks "
              "only)\n"
              "  -h, --help                this text\n",
              f);
}

static char *under_root(const char *root, const char *path) {
        if (!root || streq(root, "/"))
                return g_strdup(path);
        return g_build_filename(root, path, NULL);
}

int doctor_main(int argc, char *argv[]) {
        enum { OPT_JSON = 0x100, OPT_BT_CONFIG, OPT_CONFIG, OPT_ROOT, OPT_NO_BUS };
        static const struct option options[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "bluetooth-config", required_argument, NULL, OPT_BT_CONFIG },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "root", required_argument, NULL, OPT_ROOT },
                { "no-bus", no_argument, NULL, OPT_NO_BUS },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(doctor_facts_freep) DoctorFacts *f = doctor_facts_new();
        _cleanup_(report_freep) Report *report = report_new();
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        g_autofree char *bt_config = NULL, *config = NULL, *root = NULL, *bus_error = NULL;
        bool json = false, no_bus = false;
        int c, r;

        optind = 0; /* argv[0] is "doctor"; restart getopt for this sub-command */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON:
                        json = true;
                        break;
                case OPT_BT_CONFIG:
                        g_free(bt_config);
                        bt_config = g_strdup(optarg);
                        break;
                case OPT_CONFIG:
                        g_free(config);
                        config = g_strdup(optarg);
                        break;
                case OPT_ROOT:
                        g_free(root);
                        root = g_strdup(optarg);
                        break;
                case OPT_NO_BUS:
                        no_bus = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return DOCTOR_EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "pairgatectl doctor: unexpected argument '%s'\n", argv[optind]);
                return DOCTOR_EXIT_USAGE;
        }
        if (!bt_config)
                bt_config = under_root(root, BLUETOOTH_CONFIG_DEFAULT);
        if (!config)
                config = under_root(root, CONFIG_DEFAULT_PATH);

        f->btconf = btconf_load_file(bt_config);
        f->config_path = config;
        if (config_load_file(config, &f->config, &f->config_error) < 0 && !f->config_error)
                f->config_error = g_strdup_printf("%s: cannot be read", config);

        if (!no_bus) {
                r = sd_bus_open_system(&bus);
                if (r < 0)
                        bus_error = g_strdup(g_strerror(-r));
                doctor_gather_bus(f, r < 0 ? NULL : bus, bus_error);
        }
        doctor_gather_host(f, root ? root : "/");
        doctor_check_all(f, report);

        if (json)
                r = report_print_json(report, stdout);
        else
                r = report_print_text(report, stdout, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
        if (fflush(stdout) != 0 || r < 0)
                return DOCTOR_EXIT_USAGE;
        return report_exit_status(report);
}
