/* SPDX-License-Identifier: MIT */
/* pending, approve, deny, passkey, pin: the held requests. */
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

int cmd_pending(int argc, char *argv[]) {
        CtlDict *reqs = NULL;
        size_t n = 0, npos;
        bool json = false;
        const CtlOption opts[] = { { "--json", false, &json, NULL }, { 0 } };
        uint64_t now;

        if (ctl_parse_options("pending", argc, argv, opts, NULL, 0, 0, &npos) < 0)
                return CTL_EXIT_USAGE;
        if (ctl_call_list("ListRequests", &reqs, &n) < 0)
                return CTL_EXIT_FAILURE;
        now = ctl_now_realtime();
        if (json) {
                JsonWriter w;
                json_init(&w, stdout, false);
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++)
                        ctl_json_request(&w, &reqs[i], now);
                json_end_array(&w);
                json_finish(&w);
        } else if (n == 0)
                printf("No pending requests.\n");
        else
                for (size_t i = 0; i < n; i++) {
                        ctl_print_request(stdout, &reqs[i], now);
                        fputc('\n', stdout);
                }
        ctl_dict_array_free(reqs, n);
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

static int parse_id(const char *cmd, const char *s, uint64_t *ret) {
        if (ctl_parse_request_id(s, ret) < 0) {
                ctl_print_error("%s: '%s' is not a request id (a number shown by "
                                "'pairgatectl pending')",
                                cmd, s);
                return -EINVAL;
        }
        return 0;
}

static int decide(const char *cmd, int argc, char *argv[], const char *member, const char *done) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *pos[1];
        size_t npos;
        uint64_t id;

        if (ctl_parse_options(cmd, argc, argv, NULL, pos, 1, 1, &npos) < 0 ||
            parse_id(cmd, pos[0], &id) < 0)
                return CTL_EXIT_USAGE;
        CtlContext ctx = { .request_id = id };
        if (ctl_bus_open(&bus) < 0 || ctl_call(bus, &ctx, NULL, member, "t", id) < 0)
                return CTL_EXIT_FAILURE;
        printf("request %" PRIu64 " %s\n", id, done);
        return CTL_EXIT_OK;
}

int cmd_approve(int argc, char *argv[]) {
        return decide("approve", argc, argv, "Approve", "approved");
}

int cmd_deny(int argc, char *argv[]) {
        return decide("deny", argc, argv, "Deny", "denied");
}

int cmd_passkey(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *pos[2];
        size_t npos;
        uint64_t id;
        uint32_t passkey;

        if (ctl_parse_options("passkey", argc, argv, NULL, pos, 2, 2, &npos) < 0 ||
            parse_id("passkey", pos[0], &id) < 0)
                return CTL_EXIT_USAGE;
        if (ctl_parse_passkey(pos[1], &passkey) < 0) {
                ctl_print_error("passkey: '%s' is not a passkey: type exactly six digits "
                                "(000000 to 999999)",
                                pos[1]);
                return CTL_EXIT_USAGE;
        }
        CtlContext ctx = { .request_id = id };
        if (ctl_bus_open(&bus) < 0 ||
            ctl_call(bus, &ctx, NULL, "EnterPasskey", "tu", id, passkey) < 0)
                return CTL_EXIT_FAILURE;
        printf("request %" PRIu64 ": passkey %06" PRIu32 " entered\n", id, passkey);
        return CTL_EXIT_OK;
}

int cmd_pin(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *pos[2];
        size_t npos;
        uint64_t id;

        if (ctl_parse_options("pin", argc, argv, NULL, pos, 2, 2, &npos) < 0 ||
            parse_id("pin", pos[0], &id) < 0)
                return CTL_EXIT_USAGE;
        if (ctl_check_pin(pos[1]) < 0) {
                /* (the PIN itself is not repeated: it is a secret) */
                ctl_print_error("pin: a PIN is 1 to 16 printable ASCII characters, no spaces");
                return CTL_EXIT_USAGE;
        }
        CtlContext ctx = { .request_id = id };
        if (ctl_bus_open(&bus) < 0 ||
            ctl_call(bus, &ctx, NULL, "EnterPinCode", "ts", id, pos[1]) < 0)
                return CTL_EXIT_FAILURE;
        printf("request %" PRIu64 ": PIN entered\n", id);
        return CTL_EXIT_OK;
}
