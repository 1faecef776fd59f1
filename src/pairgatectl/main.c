/* SPDX-License-Identifier: MIT */
/* pairgatectl: the command-line client of pairgated's control interface. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "doctor.h"
#include "macro.h"

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
} commands[] = {
        { "status", cmd_status }, { "pending", cmd_pending }, { "approve", cmd_approve },
        { "deny", cmd_deny },     { "passkey", cmd_passkey }, { "pin", cmd_pin },
        { "window", cmd_window }, { "devices", cmd_devices }, { "forget", cmd_forget },
        { "lift", cmd_lift },     { "watch", cmd_watch },     { "log", cmd_log },
};

static void help(void) {
        printf("Usage: pairgatectl [--help] [--version] COMMAND [ARGS]\n"
               "\n"
               "See and decide pairgated's pending pairing requests, open the pairing window,\n"
               "manage known devices and read pairgate's audit log.\n"
               "\n"
               "Commands:\n"
               "  status [--json]             the agent, the adapters, the window, the counts\n"
               "  pending [--json]            the requests waiting for a decision\n"
               "  approve ID                  allow request ID\n"
               "  deny ID                     refuse request ID\n"
               "  passkey ID NNNNNN           answer a RequestPasskey (six digits)\n"
               "  pin ID CODE                 answer a RequestPinCode (1-16 characters)\n"
               "  window open [SECONDS]       open the pairing window\n"
               "  window close                close it\n"
               "  devices [--json]            the devices pairgate knows of\n"
               "  forget ADDRESS              remove a device's bond and pairgate's history\n"
               "  lift ADDRESS                end a device's lockout (limits)\n"
               "  watch [--json]              print requests as they start and end (Ctrl-C)\n"
               "  log [--since TIME] [--json] [--directory DIR | --file FILE] [--unit UNIT]\n"
               "                              pairgate's decisions and events from the journal\n"
               "  doctor [--json] [--bluetooth-config FILE] [--config FILE]\n"
               "                              what around pairgate undoes it (bluetoothd,\n"
               "                              other agents, bonds); exit 1 warning, 2 critical\n"
               "\n"
               "Control commands need root or membership of the group pairgate-admin.\n"
               "The system bus is DBUS_SYSTEM_BUS_ADDRESS when set. See pairgatectl(1).\n");
}

int main(int argc, char *argv[]) {
        ctl_format_init();
        if (argc < 2) {
                ctl_print_error("missing command (see pairgatectl --help)");
                return CTL_EXIT_USAGE;
        }
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h") ||
                    (i == 1 && streq(argv[i], "help"))) {
                        help();
                        return CTL_EXIT_OK;
                }
        if (streq(argv[1], "--version")) {
                printf("pairgatectl %s\n", PAIRGATE_VERSION);
                return CTL_EXIT_OK;
        }
        if (streq(argv[1], "doctor"))
                return doctor_main(argc - 1, argv + 1);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[1], commands[i].name))
                        return commands[i].run(argc - 2, argv + 2);
        ctl_print_error("unknown command '%s' (see pairgatectl --help)", argv[1]);
        return CTL_EXIT_USAGE;
}
