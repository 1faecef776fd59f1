/* SPDX-License-Identifier: MIT */
/* status, window open|close. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-dict.h"
#include "ctl-format.h"
#include "json-writer.h"
#include "macro.h"

static int get_status(sd_bus *bus, CtlDict *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        if (ctl_call(bus, NULL, &reply, "GetStatus", NULL) < 0)
                return -EIO;
        r = ctl_dict_read(reply, ret);
        if (r < 0)
                ctl_print_error("cannot read pairgated's answer to GetStatus: %s", strerror(-r));
        return r;
}

static void print_window(const CtlDict *st, uint64_t now) {
        uint64_t closes = 0, left = 0;
        char when[32], span[32];

        if (!ctl_dict_bool(st, "WindowConfigured", false)) {
                printf("not configured\n");
                return;
        }
        if (!ctl_dict_bool(st, "WindowOpen", false)) {
                printf("closed\n");
                return;
        }
        printf("open");
        if (ctl_dict_uint(st, "WindowClosesRealtime", &closes) && closes > 0) {
                ctl_format_time(closes, when);
                ctl_format_span(closes > now ? closes - now : 0, span);
                printf(", closes at %s (in %s)", when, span);
        }
        if (ctl_dict_uint(st, "WindowPairingsLeft", &left) && left > 0)
                printf(", %" PRIu64 " pairing%s left", left, left == 1 ? "" : "s");
        printf("\n");
}

static void status_json(const CtlDict *st) {
        JsonWriter w;
        uint64_t v;
        char **adapters = ctl_dict_strv(st, "Adapters");
        char buf[40];

        json_init(&w, stdout, false);
        json_begin_object(&w);
        if (ctl_dict_str(st, "Version")) {
                json_key(&w, "version");
                json_string(&w, ctl_dict_str(st, "Version"));
        }
        json_key(&w, "registered");
        json_bool(&w, ctl_dict_bool(st, "Registered", false));
        if (ctl_dict_str(st, "Capability")) {
                json_key(&w, "capability");
                json_string(&w, ctl_dict_str(st, "Capability"));
        }
        json_key(&w, "adapters");
        json_begin_array(&w);
        for (char **a = adapters; a && *a; a++)
                json_string(&w, *a);
        json_end_array(&w);
        json_key(&w, "window_configured");
        json_bool(&w, ctl_dict_bool(st, "WindowConfigured", false));
        json_key(&w, "window_open");
        json_bool(&w, ctl_dict_bool(st, "WindowOpen", false));
        if (ctl_dict_uint(st, "WindowClosesRealtime", &v) && v > 0) {
                ctl_format_time_iso(v, buf);
                json_key(&w, "window_closes");
                json_string(&w, buf);
                json_key(&w, "window_closes_usec");
                json_uint(&w, v);
        }
        if (ctl_dict_uint(st, "WindowPairingsLeft", &v)) {
                json_key(&w, "window_pairings_left");
                json_uint(&w, v);
        }
        static const char *const counts[][2] = { { "Pending", "pending" },
                                                 { "Allowed", "allowed" },
                                                 { "Denied", "denied" } };
        for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                if (ctl_dict_uint(st, counts[i][0], &v)) {
                        json_key(&w, counts[i][1]);
                        json_uint(&w, v);
                }
        if (ctl_dict_str(st, "ConfigPath")) {
                json_key(&w, "config_path");
                json_string(&w, ctl_dict_str(st, "ConfigPath"));
        }
        json_end_object(&w);
        json_finish(&w);
}

int cmd_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(ctl_dict_clear) CtlDict st = { 0 };
        bool json = false;
        const CtlOption opts[] = { { "--json", false, &json, NULL }, { 0 } };
        size_t npos;
        uint64_t pending = 0, allowed = 0, denied = 0;
        char **adapters;

        if (ctl_parse_options("status", argc, argv, opts, NULL, 0, 0, &npos) < 0)
                return CTL_EXIT_USAGE;
        if (ctl_bus_open(&bus) < 0 || get_status(bus, &st) < 0)
                return CTL_EXIT_FAILURE;
        if (json) {
                status_json(&st);
                return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
        }
        printf("pairgated:     ");
        ctl_print_escaped(stdout, ctl_dict_str(&st, "Version"));
        printf("\nagent:         %s", ctl_dict_bool(&st, "Registered", false)
                                              ? "registered, default agent"
                                              : "NOT registered with bluetoothd");
        if (ctl_dict_str(&st, "Capability")) {
                printf(" (capability ");
                ctl_print_escaped(stdout, ctl_dict_str(&st, "Capability"));
                printf(")");
        }
        printf("\nadapters:      ");
        adapters = ctl_dict_strv(&st, "Adapters");
        if (!adapters || !*adapters)
                printf("none");
        for (char **a = adapters; a && *a; a++) {
                if (a != adapters)
                        printf(", ");
                ctl_print_escaped(stdout, *a);
        }
        printf("\nwindow:        ");
        print_window(&st, ctl_now_realtime());
        (void) ctl_dict_uint(&st, "Pending", &pending);
        (void) ctl_dict_uint(&st, "Allowed", &allowed);
        (void) ctl_dict_uint(&st, "Denied", &denied);
        printf("pending:       %" PRIu64 "\n", pending);
        printf("since start:   %" PRIu64 " allowed, %" PRIu64 " denied\n", allowed, denied);
        printf("configuration: ");
        ctl_print_escaped(stdout, ctl_dict_str(&st, "ConfigPath"));
        printf("\n");
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

int cmd_window(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(ctl_dict_clear) CtlDict st = { 0 };
        const char *pos[2] = { NULL, NULL };
        size_t npos;
        uint32_t seconds = 0;
        bool open;

        if (ctl_parse_options("window", argc, argv, NULL, pos, 1, 2, &npos) < 0)
                return CTL_EXIT_USAGE;
        open = streq(pos[0], "open");
        if (!open && !streq(pos[0], "close")) {
                ctl_print_error("window: say 'window open [SECONDS]' or 'window close', not '%s'",
                                pos[0]);
                return CTL_EXIT_USAGE;
        }
        if (!open && npos > 1) {
                ctl_print_error("window close: unexpected argument '%s'", pos[1]);
                return CTL_EXIT_USAGE;
        }
        if (open && npos > 1 && ctl_parse_window_seconds(pos[1], &seconds) < 0) {
                ctl_print_error("window open: '%s' is not a number of seconds (1 to 86400)",
                                pos[1]);
                return CTL_EXIT_USAGE;
        }
        if (ctl_bus_open(&bus) < 0)
                return CTL_EXIT_FAILURE;
        if (open ? ctl_call(bus, NULL, NULL, "OpenWindow", "u", seconds) < 0
                 : ctl_call(bus, NULL, NULL, "CloseWindow", NULL) < 0)
                return CTL_EXIT_FAILURE;
        /* What the daemon made of it (its configured duration, a pairing limit). */
        if (get_status(bus, &st) < 0)
                return CTL_EXIT_FAILURE;
        printf("pairing window: ");
        print_window(&st, ctl_now_realtime());
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
