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

/* A recursive-descent JSON checker: p advances over one value; false on any error. */
typedef struct Json {
        const char *p, *end;
        unsigned depth;
} Json;

static void json_ws(Json *j) {
        while (j->p < j->end && strchr(" \t\r\n", *j->p) && *j->p)
                j->p++;
}

static bool json_lit(Json *j, const char *lit) {
        size_t n = strlen(lit);

        if ((size_t) (j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
                return false;
        j->p += n;
        return true;
}

static bool json_string(Json *j) {
        if (j->p >= j->end || *j->p != '"')
                return false;
        for (j->p++; j->p < j->end; j->p++) {
                unsigned char c = (unsigned char) *j->p;
                if (c == '"') {
                        j->p++;
                        return true;
                }
                if (c < 0x20)
                        return false;
                if (c == '\\') {
                        if (++j->p >= j->end)
                                return false;
                        if (*j->p == 'u') {
                                for (int i = 0; i < 4; i++)
                                        if (++j->p >= j->end || !g_ascii_isxdigit(*j->p))
                                                return false;
                        } else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p)
                                return false;
                } else if (c >= 0x80) {
                        const char *next = j->p;
                        if (!g_utf8_validate(j->p, MIN(4, j->end - j->p), &next) && next == j->p)
                                return false;
                        j->p = g_utf8_next_char(j->p) - 1;
                }
        }
        return false;
}

static bool json_number(Json *j) {
        const char *start = j->p;

        if (j->p < j->end && *j->p == '-')
                j->p++;
        if (j->p >= j->end || !g_ascii_isdigit(*j->p))
                return false;
        if (*j->p == '0')
                j->p++;
        else
                while (j->p < j->end && g_ascii_isdigit(*j->p))
                        j->p++;
        if (j->p < j->end && *j->p == '.') {
                j->p++;
                if (j->p >= j->end || !g_ascii_isdigit(*j->p))
                        return false;
                while (j->p < j->end && g_ascii_isdigit(*j->p))
                        j->p++;
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
                j->p++;
                if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
                        j->p++;
                if (j->p >= j->end || !g_ascii_isdigit(*j->p))
                        return false;
                while (j->p < j->end && g_ascii_isdigit(*j->p))
                        j->p++;
        }
        return j->p > start;
}

static bool json_value(Json *j) {
        bool ok;

        json_ws(j);
        if (j->p >= j->end || ++j->depth > 64)
                return false;
        if (*j->p == '{' || *j->p == '[') {
                char close = *j->p == '{' ? '}' : ']';
                bool object = close == '}';
                j->p++;
                json_ws(j);
                if (j->p < j->end && *j->p == close) {
                        j->p++;
                        j->depth--;
                        return true;
                }
                for (;;) {
                        json_ws(j);
                        if (object) {
                                if (!json_string(j))
                                        return false;
                                json_ws(j);
                                if (j->p >= j->end || *j->p != ':')
                                        return false;
                                j->p++;
                        }
                        if (!json_value(j))
                                return false;
                        json_ws(j);
                        if (j->p < j->end && *j->p == ',') {
                                j->p++;
                                continue;
                        }
                        if (j->p < j->end && *j->p == close) {
                                j->p++;
                                j->depth--;
                                return true;
                        }
                        return false;
                }
        }
        if (*j->p == '"')
                ok = json_string(j);
        else if (*j->p == 't')
                ok = json_lit(j, "true");
        else if (*j->p == 'f')
                ok = json_lit(j, "false");
        else if (*j->p == 'n')
                ok = json_lit(j, "null");
        else
                ok = json_number(j);
        j->depth--;
        return ok;
}

bool fuzz_json_is_valid(const char *s, size_t len) {
        Json j = { .p = s, .end = s + len };

        if (!json_value(&j))
                return false;
        json_ws(&j);
        return j.p == j.end;
}

void fuzz_quiet(void) {
        log_set_max_level(LOG_ERR);
        audit_set_backend(AUDIT_BACKEND_STDERR);
}
