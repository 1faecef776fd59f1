/* SPDX-License-Identifier: MIT */
/* Placeholder: `pairgatectl doctor` is written on its own branch and replaces this file. */
#include <stdio.h>

#include "doctor.h"

int doctor_main(int argc, char *argv[]) {
        fprintf(stderr, "pairgatectl doctor: not built in this branch\n");
        return 2;
}
