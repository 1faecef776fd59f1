/* SPDX-License-Identifier: MIT */
/* pairgatectl: the client of pairgated's control interface (docs/control-interface.md).
 * Stand-in main with the doctor sub-command only, until the full client lands. */
#include <stdio.h>
#include <string.h>

#include "doctor.h"

int main(int argc, char *argv[]) {
        if (argc >= 2 && strcmp(argv[1], "doctor") == 0)
                return doctor_main(argc - 1, argv + 1);
        fputs("Usage: pairgatectl doctor [--json] [--bluetooth-config FILE] [--config FILE]\n",
              stderr);
        return 3;
}
