/* SPDX-License-Identifier: MIT */
#pragma once

/* `pairgatectl doctor`: argv starts at "doctor". Returns the exit status. */
int doctor_main(int argc, char *argv[]);
