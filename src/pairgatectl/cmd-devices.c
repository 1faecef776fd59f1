/* SPDX-License-Identifier: MIT */
/* devices, forget, lift. */
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

static const char *const flags[][2] = {
        { "Allowlisted", "allowlisted" }, { "Paired", "paired" },
        { "Bonded", "bonded" },           { "Trusted", "trusted" },
        { "Blocked", "blocked" },         { "TrustedByPairgate", "trusted_by_pairgate" },
};

static void device_line(const CtlDict *d, uint64_t now) {
        const char *last = ctl_dict_str(d, "LastDecision");
        uint64_t v;
        char when[32];
        bool any = false;

        ctl_print_escaped(stdout, ctl_dict_str(d, "Address"));
        fputc(' ', stdout);
        ctl_print_name(stdout, ctl_dict_str(d, "Name"));
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (ctl_dict_bool(d, flags[i][0], false)) {
                        printf("%s%s", any ? "," : " ", flags[i][1]);
                        any = true;
                }
        if (!ctl_dict_str(d, "Device"))
                printf(" (not known to BlueZ)");
        if (last) {
                printf("; last decision: ");
                ctl_print_escaped(stdout, last);
                if (ctl_dict_str(d, "LastMethod")) {
                        printf(" on ");
                        ctl_print_escaped(stdout, ctl_dict_str(d, "LastMethod"));
                }
                if (ctl_dict_uint(d, "LastDecisionRealtime", &v) && v > 0) {
                        ctl_format_time(v, when);
                        printf(" at %s", when);
                }
        }
        if (ctl_dict_uint(d, "Refusals", &v) && v > 0)
                printf("; %" PRIu64 " refusal%s", v, v == 1 ? "" : "s");
        if (ctl_dict_uint(d, "LockedUntilRealtime", &v) && v > now) {
                ctl_format_time(v, when);
                printf("; locked out until %s", when);
        }
        fputc('\n', stdout);
}

static void time_fields(JsonWriter *w, const char *key, const char *key_usec, uint64_t v) {
        char buf[40];

        ctl_format_time_iso(v, buf);
        json_key(w, key);
        json_string(w, buf);
        json_key(w, key_usec);
        json_uint(w, v);
}

static void device_json(JsonWriter *w, const CtlDict *d) {
        static const char *const strs[][2] = { { "Address", "address" },
                                               { "AddressType", "address_type" },
                                               { "Name", "name" },
                                               { "Device", "device" },
                                               { "LastDecision", "last_decision" },
                                               { "LastMethod", "last_method" } };
        uint64_t v;

        json_begin_object(w);
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                if (ctl_dict_str(d, strs[i][0])) {
                        json_key(w, strs[i][1]);
                        json_string(w, ctl_dict_str(d, strs[i][0]));
                }
        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                json_key(w, flags[i][1]);
                json_bool(w, ctl_dict_bool(d, flags[i][0], false));
        }
        if (ctl_dict_uint(d, "LastDecisionRealtime", &v) && v > 0)
                time_fields(w, "last_decision_time", "last_decision_usec", v);
        json_key(w, "refusals");
        json_uint(w, ctl_dict_uint(d, "Refusals", &v) ? v : 0);
        if (ctl_dict_uint(d, "LockedUntilRealtime", &v) && v > 0)
                time_fields(w, "locked_until", "locked_until_usec", v);
        json_end_object(w);
}

int cmd_devices(int argc, char *argv[]) {
        CtlDict *devs = NULL;
        size_t n = 0, npos;
        bool json = false;
        const CtlOption opts[] = { { "--json", false, &json, NULL }, { 0 } };
        uint64_t now;

        if (ctl_parse_options("devices", argc, argv, opts, NULL, 0, 0, &npos) < 0)
                return CTL_EXIT_USAGE;
        if (ctl_call_list("ListDevices", &devs, &n) < 0)
                return CTL_EXIT_FAILURE;
        now = ctl_now_realtime();
        if (json) {
                JsonWriter w;
                json_init(&w, stdout, false);
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++)
                        device_json(&w, &devs[i]);
                json_end_array(&w);
                json_finish(&w);
        } else if (n == 0)
                printf("No devices known.\n");
        else
                for (size_t i = 0; i < n; i++)
                        device_line(&devs[i], now);
        ctl_dict_array_free(devs, n);
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

/* forget and lift: one address, one call, one line. */
static int address_command(const char *cmd, int argc, char *argv[], const char *member,
                           bool about_device, const char *done) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *pos[1];
        size_t npos;
        char address[18];

        if (ctl_parse_options(cmd, argc, argv, NULL, pos, 1, 1, &npos) < 0)
                return CTL_EXIT_USAGE;
        if (ctl_parse_address(pos[0], address) < 0) {
                ctl_print_error("%s: '%s' is not a Bluetooth address (AA:BB:CC:DD:EE:FF)", cmd,
                                pos[0]);
                return CTL_EXIT_USAGE;
        }
        CtlContext ctx = { .address = about_device ? address : NULL };
        if (ctl_bus_open(&bus) < 0 || ctl_call(bus, &ctx, NULL, member, "s", address) < 0)
                return CTL_EXIT_FAILURE;
        printf("%s %s\n", address, done);
        return CTL_EXIT_OK;
}

int cmd_forget(int argc, char *argv[]) {
        return address_command("forget", argc, argv, "ForgetDevice", true,
                               "forgotten: bond removed, pairgate's history of it dropped");
}

int cmd_lift(int argc, char *argv[]) {
        /* No address in the context: "not found" is pairgated's own sentence ("... is not locked
         * out"), not the one about unknown devices. */
        return address_command("lift", argc, argv, "LiftLockout", false, "is no longer locked out");
}
