/* SPDX-License-Identifier: MIT */
#pragma once

/* `pairgatectl doctor`: checks what around pairgated silently undoes it (bluetoothd's main.conf,
 * its plugins, other agents, the adapter, bonds, pairgate's own configuration and installation).
 * argv starts at "doctor". Exit status: 0 nothing worse than info, 1 a warning, 2 a critical
 * finding, 3 doctor could not run (bad option). */
int doctor_main(int argc, char *argv[]);
