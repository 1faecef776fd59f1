/* SPDX-License-Identifier: MIT */
#pragma once

/* The properties fuzz targets assert. A failed one prints what and aborts: libFuzzer (or the
 * corpus replay) reports it as a crash, with the input kept. Never compiled out (no NDEBUG). */

#include <stdbool.h>
#include <stddef.h>

void fuzz_fail(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4), noreturn));

#define fuzz_assert(cond, ...)                                      \
        do {                                                        \
                if (!(cond))                                        \
                        fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
        } while (0)

/* s is valid UTF-8 with no control byte (C0, DEL; C1 as code points) and at most max bytes. */
bool fuzz_text_is_clean(const char *s, size_t max);
/* The same, asserted, saying what s is. */
void fuzz_assert_clean(const char *s, size_t max, const char *what);
/* s[0..len) is one complete JSON value (RFC 8259: objects, arrays, strings with valid escapes
 * and UTF-8, numbers, true/false/null), with optional whitespace around it. */
bool fuzz_json_is_valid(const char *s, size_t len);
/* Quiet logs (debug lines off, audit records still rendered and passed to a sink). */
void fuzz_quiet(void);
