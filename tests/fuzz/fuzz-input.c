/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <glib.h>

#include "fuzz-input.h"

bool fuzz_input_empty(const FuzzInput *in) {
        return in->size == 0;
}

uint8_t fuzz_u8(FuzzInput *in) {
        uint8_t v;

        if (in->size == 0)
                return 0;
        v = in->data[0];
        in->data++;
        in->size--;
        return v;
}

uint16_t fuzz_u16(FuzzInput *in) {
        return (uint16_t) (fuzz_u8(in) | (uint16_t) fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(FuzzInput *in) {
        return (uint32_t) fuzz_u16(in) | (uint32_t) fuzz_u16(in) << 16;
}

bool fuzz_bool(FuzzInput *in) {
        return fuzz_u8(in) & 1;
}

size_t fuzz_pick(FuzzInput *in, size_t n) {
        return fuzz_u8(in) % n;
}

char *fuzz_string(FuzzInput *in) {
        size_t n = fuzz_u8(in);
        char *s;

        if (n > in->size)
                n = in->size;
        s = g_strndup((const char *) in->data, n); /* stops at a NUL */
        in->data += n;
        in->size -= n;
        return s;
}

char *fuzz_rest_string(FuzzInput *in) {
        char *s = g_strndup((const char *) in->data, in->size);

        in->data += in->size;
        in->size = 0;
        return s;
}
