/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "json-writer.h"
#include "text-escape.h"

void json_init(JsonWriter *w, FILE *f, bool pretty) {
        *w = (JsonWriter){ .f = f, .pretty = pretty };
        w->first[0] = true;
}

static void indent(JsonWriter *w) {
        if (!w->pretty)
                return;
        fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                fputs("  ", w->f);
}

/* Before any value (or key): the separator of the enclosing container. */
static void before_value(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0) {
                if (!w->first[w->depth])
                        fputc(',', w->f);
                indent(w);
        }
        w->first[w->depth] = false;
}

static void open(JsonWriter *w, char c) {
        before_value(w);
        fputc(c, w->f);
        assert(w->depth + 1 < JSON_MAX_DEPTH);
        w->depth++;
        w->first[w->depth] = true;
}

static void close_(JsonWriter *w, char c) {
        bool empty;

        assert(w->depth > 0 && !w->after_key);
        empty = w->first[w->depth];
        w->depth--;
        if (!empty)
                indent(w);
        fputc(c, w->f);
}

void json_begin_object(JsonWriter *w) {
        open(w, '{');
}

void json_end_object(JsonWriter *w) {
        close_(w, '}');
}

void json_begin_array(JsonWriter *w) {
        open(w, '[');
}

void json_end_array(JsonWriter *w) {
        close_(w, ']');
}

void json_write_escaped(FILE *f, const char *s, size_t len) {
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t cp;
                size_t k;

                if (c >= 0x20 && c < 0x7f) {
                        if (c == '"' || c == '\\')
                                fputc('\\', f);
                        fputc(c, f);
                        i++;
                        continue;
                }
                switch (c) {
                case '\n':
                        fputs("\\n", f);
                        i++;
                        continue;
                case '\t':
                        fputs("\\t", f);
                        i++;
                        continue;
                case '\r':
                        fputs("\\r", f);
                        i++;
                        continue;
                default:
                        break;
                }
                if (c < 0x80) { /* other C0 controls and DEL */
                        fprintf(f, "\\u%04x", c);
                        i++;
                        continue;
                }
                k = text_utf8_decode(s + i, len - i, &cp);
                if (k == 0) {
                        fputs("\\ufffd", f);
                        i++;
                } else if (text_unsafe_codepoint(cp)) {
                        /* C1 controls, bidirectional overrides, zero-width characters, the
                         * JavaScript line terminators...: escaped, so that printing the JSON
                         * to a terminal is as safe as the human output */
                        if (cp >= 0x10000)
                                fprintf(f, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
                                        0xdc00 + ((cp - 0x10000) & 0x3ff));
                        else
                                fprintf(f, "\\u%04x", cp);
                        i += k;
                } else {
                        fwrite(s + i, 1, k, f);
                        i += k;
                }
        }
}

void json_key(JsonWriter *w, const char *key) {
        assert(w->depth > 0 && !w->after_key);
        before_value(w);
        fputc('"', w->f);
        json_write_escaped(w->f, key, strlen(key));
        fputs(w->pretty ? "\": " : "\":", w->f);
        w->after_key = true;
}

void json_string_len(JsonWriter *w, const char *s, size_t len) {
        before_value(w);
        fputc('"', w->f);
        json_write_escaped(w->f, s, len);
        fputc('"', w->f);
}

void json_string(JsonWriter *w, const char *s) {
        if (!s) {
                json_null(w);
                return;
        }
        json_string_len(w, s, strlen(s));
}

void json_uint(JsonWriter *w, uint64_t v) {
        before_value(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_int(JsonWriter *w, int64_t v) {
        before_value(w);
        fprintf(w->f, "%" PRId64, v);
}

void json_bool(JsonWriter *w, bool v) {
        before_value(w);
        fputs(v ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        before_value(w);
        fputs("null", w->f);
}

void json_finish(JsonWriter *w) {
        assert(w->depth == 0);
        fputc('\n', w->f);
}
