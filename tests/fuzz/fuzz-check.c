/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "audit.h"
#include "fuzz-check.h"
#include "macro.h"

/* The sanitizers' own report channel: still open when libFuzzer closed the target's stderr
 * (-close_fd_mask=2, as tools/fuzz.sh runs it). Absent in builds without sanitizers. */
void __sanitizer_report_error_summary(const char *summary) __attribute__((weak));

void fuzz_fail(const char *file, int line, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL, *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        what = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        msg = g_strdup_printf("%s:%d: property violated: %s", file, line, what);
        fprintf(stderr, "%s\n", msg);
        if (__sanitizer_report_error_summary)
                __sanitizer_report_error_summary(msg);
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
