/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "audit.h"
#include "fuzz-check.h"
#include "macro.h"

void fuzz_fail(const char *file, int line, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s:%d: property violated: ", file, line);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

bool fuzz_text_is_clean(const char *s, size_t max) {
        if (!s || strlen(s) > max || !g_utf8_validate(s, -1, NULL))
                return false;
        for (const char *p = s; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);
                if (c < 0x20 || (c >= 0x7f && c < 0xa0))
                        return false;
        }
        return true;
}

void fuzz_assert_clean(const char *s, size_t max, const char *what) {
        _cleanup_free_ char *shown = NULL;

        if (fuzz_text_is_clean(s, max))
                return;
        shown = s ? g_strescape(s, NULL) : g_strdup("(null)");
        fuzz_fail(__FILE__, __LINE__, "%s is not clean text of at most %zu bytes: \"%s\" (%zu)",
                  what, max, shown, s ? strlen(s) : 0);
}

void fuzz_quiet(void) {
        log_set_max_level(LOG_ERR);
        audit_set_backend(AUDIT_BACKEND_STDERR);
}
