/* SPDX-License-Identifier: MIT */
#pragma once

/* Escaping untrusted strings (device names, journal fields, values quoted from a configuration
 * file) for a terminal: what pairgatectl prints, and pairgated's configuration errors, never
 * carry a raw control byte, an invalid UTF-8 sequence or a character that moves the cursor or
 * reorders the text. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Printable ASCII is kept, except '\\' and '"' (the quotes around names stay unambiguous);
 * everything else is written as \xNN per byte, like the daemon's audit records. With utf8,
 * valid printable UTF-8 characters are kept too (not C1 controls, bidirectional overrides or
 * isolates, zero-width characters, line or paragraph separators, noncharacters). len: the
 * bytes of s, or SIZE_MAX when NUL-terminated. Returns a new string, NULL on OOM. */
char *text_escape(const char *s, size_t len, bool utf8);

/* The same for a message that quotes such a string (a configuration error): only what a terminal
 * must not get raw is written as \xNN (controls, invalid UTF-8, the characters of
 * text_unsafe_codepoint()); '"' and '\\' stay as they are, so the message reads as written.
 * Returns a new string, NULL on OOM. */
char *text_sanitize(const char *s);

/* A valid character that must not reach a terminal raw: C0 and C1 controls, DEL, bidirectional
 * marks, embeddings, overrides and isolates, zero-width and invisible formatting characters,
 * line and paragraph separators, noncharacters, tags. */
bool text_unsafe_codepoint(uint32_t cp);

/* Whether the terminal side of stdout may get UTF-8: the locale's codeset (after
 * setlocale(LC_CTYPE, "")) is UTF-8. */
bool text_locale_is_utf8(void);

/* Decodes one UTF-8 character at s (at most len bytes): its length (1..4) and *ret_cp, or 0
 * when the bytes are not a valid, shortest-form encoding of a scalar value. */
size_t text_utf8_decode(const char *s, size_t len, uint32_t *ret_cp);

/* Undoes the daemon's audit escaping (\xNN sequences, see core/audit.c) of a journal field:
 * writes the original bytes (they may contain NUL or invalid UTF-8) and a NUL to out, which has
 * room for len + 1 bytes, and returns their number. Other backslashes are kept as they are. */
size_t text_unescape_hex(char *out, const char *s, size_t len);
