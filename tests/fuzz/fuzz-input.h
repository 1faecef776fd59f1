/* SPDX-License-Identifier: MIT */
#pragma once

/* Reading a fuzz input as a stream of small decisions: bytes, integers, strings. Reads past the
 * end give zeros and empty strings, so every input is a complete (if short) scenario. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FuzzInput {
        const uint8_t *data;
        size_t size;
} FuzzInput;

#define FUZZ_INPUT(d, n) ((FuzzInput){ .data = (d), .size = (n) })

bool fuzz_input_empty(const FuzzInput *in);
uint8_t fuzz_u8(FuzzInput *in);
uint16_t fuzz_u16(FuzzInput *in);
uint32_t fuzz_u32(FuzzInput *in);
bool fuzz_bool(FuzzInput *in);
/* One byte picks one of n (n > 0). */
size_t fuzz_pick(FuzzInput *in, size_t n);
/* A string: one length byte (0..255, at most what is left), then that many bytes, cut at the
 * first NUL. g_free() it; never NULL. */
char *fuzz_string(FuzzInput *in);
/* The rest of the input as a NUL-terminated string (cut at the first NUL). g_free() it. */
char *fuzz_rest_string(FuzzInput *in);
