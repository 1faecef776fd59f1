/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>

#include <glib.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "explain.h"
#include "macro.h"

enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1,
        EXIT_USAGE = 2,
        EXIT_CONFIG = 3,
};

static void help(void) {
        printf("Usage: pairgated [OPTIONS]\n"
               "BlueZ pairing agent for headless devices: decides who may pair, and audits it.\n\n"
               "  -c, --config FILE   configuration file (default %s)\n"
               "      --check-config  validate the configuration and exit\n"
               "      --explain       show what each pairing will lead to with this configuration\n"
               "      --json          with --explain: machine-readable JSON\n"
               "  -v, --verbose       debug logging\n"
               "  -V, --version       show the version and exit\n"
               "  -h, --help          show this help and exit\n\n"
               "Exit status: 0 success, 1 runtime failure, 2 usage error, 3 invalid "
               "configuration.\n",
               CONFIG_DEFAULT_PATH);
}

int main(int argc, char *argv[]) {
        enum { ARG_CHECK = 0x100, ARG_EXPLAIN, ARG_JSON };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "explain", no_argument, NULL, ARG_EXPLAIN },
                { "json", no_argument, NULL, ARG_JSON },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *config_path = CONFIG_DEFAULT_PATH;
        bool check = false, explain = false, json = false;
        _cleanup_free_ char *error = NULL;
        Config *config = NULL;
        Daemon *daemon = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:vVh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case ARG_CHECK:
                        check = true;
                        break;
                case ARG_EXPLAIN:
                        explain = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'V':
                        printf("pairgated %s\n", PAIRGATE_VERSION);
                        return EXIT_OK;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'pairgated --help'.\n");
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (json && !explain) {
                fprintf(stderr, "error: --json only goes with --explain\n");
                return EXIT_USAGE;
        }

        r = config_load_file(config_path, &config, &error);
        if (r < 0) {
                fprintf(stderr, "error: invalid configuration: %s\n",
                        error ? error : g_strerror(-r));
                return EXIT_CONFIG;
        }
        if (check || explain) {
                if (explain)
                        r = explain_print(stdout, config, json);
                else {
                        char **warnings = explain_warnings(config);
                        for (char **w = warnings; w && *w; w++)
                                fprintf(stderr, "warning: %s\n", *w);
                        g_strfreev(warnings);
                        printf("%s: configuration is valid\n", config_path);
                }
                config_free(config);
                return r < 0 ? EXIT_RUNTIME : EXIT_OK;
        }

        daemon_new(&daemon, config_path, config);
        r = daemon_run(daemon);
        daemon_free(daemon);
        return r;
}
