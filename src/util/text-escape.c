/* SPDX-License-Identifier: MIT */
#include <langinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "text-escape.h"

size_t text_utf8_decode(const char *s, size_t len, uint32_t *ret_cp) {
        const unsigned char *u = (const unsigned char *) s;
        size_t n;
        uint32_t cp, min;

        if (len == 0)
                return 0;
        if (u[0] < 0x80) {
                *ret_cp = u[0];
                return 1;
        }
        if ((u[0] & 0xe0) == 0xc0) {
                n = 2;
                cp = u[0] & 0x1f;
                min = 0x80;
        } else if ((u[0] & 0xf0) == 0xe0) {
                n = 3;
                cp = u[0] & 0x0f;
                min = 0x800;
        } else if ((u[0] & 0xf8) == 0xf0) {
                n = 4;
                cp = u[0] & 0x07;
                min = 0x10000;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

bool text_unsafe_codepoint(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || /* C0, DEL, C1 */
               cp == 0xad || cp == 0x061c ||              /* soft hyphen, Arabic letter mark */
               (cp >= 0x200b && cp <= 0x200f) ||          /* zero-width, LRM, RLM */
               (cp >= 0x2028 && cp <= 0x202e) ||          /* separators, embeddings, overrides */
               (cp >= 0x2060 && cp <= 0x206f) ||          /* word joiner, isolates, ... */
               cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||            /* BOM, annotations */
               (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe || /* noncharacters */
               (cp >= 0xe0000 && cp <= 0xe007f);                            /* tags */
}

/* quotes: escape '"' and '\\' too (text_escape), or keep them (text_sanitize). */
static char *escape(const char *s, size_t len, bool utf8, bool quotes) {
        size_t n = len == SIZE_MAX ? (s ? strlen(s) : 0) : len, o = 0;
        char *out;

        /* Worst case: every byte becomes \xNN. */
        out = malloc(n * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t cp;
                size_t k;

                if (c >= 0x20 && c < 0x7f && (!quotes || (c != '\\' && c != '"'))) {
                        out[o++] = (char) c;
                        i++;
                        continue;
                }
                if (utf8 && c >= 0x80 && (k = text_utf8_decode(s + i, n - i, &cp)) > 0 &&
                    !text_unsafe_codepoint(cp)) {
                        memcpy(out + o, s + i, k);
                        o += k;
                        i += k;
                        continue;
                }
                o += (size_t) snprintf(out + o, 5, "\\x%02x", c);
                i++;
        }
        out[o] = '\0';
        return out;
}

char *text_escape(const char *s, size_t len, bool utf8) {
        return escape(s, len, utf8, true);
}

char *text_sanitize(const char *s) {
        return escape(s, SIZE_MAX, true, false);
}

bool text_locale_is_utf8(void) {
        const char *cs = nl_langinfo(CODESET);

        return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

size_t text_unescape_hex(char *out, const char *s, size_t len) {
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                int hi, lo;
                if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
                    (hi = g_ascii_xdigit_value(s[i + 2])) >= 0 &&
                    (lo = g_ascii_xdigit_value(s[i + 3])) >= 0) {
                        out[o++] = (char) (hi * 16 + lo);
                        i += 3;
                        continue;
                }
                out[o++] = s[i];
        }
        out[o] = '\0';
        return o;
}
