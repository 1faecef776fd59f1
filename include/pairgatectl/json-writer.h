/* SPDX-License-Identifier: MIT */
#pragma once

/* A small streaming JSON writer: objects, arrays, strings, numbers, booleans. Strings are always
 * valid JSON whatever the input bytes: '"', '\\' and control characters escaped, U+2028/U+2029
 * escaped, each byte of an invalid UTF-8 sequence replaced by U+FFFD. Commas and nesting are
 * characters that must not reach a terminal raw (text_unsafe_codepoint: C1 controls,
 * bidirectional overrides, zero-width characters, ...) escaped as \uXXXX too. Commas and nesting
 * are kept by the writer; a mistake in nesting is a programming error (asserted). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

typedef struct JsonWriter {
        FILE *f;
        bool pretty;
        unsigned depth;
        bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
        bool after_key;
} JsonWriter;

void json_init(JsonWriter *w, FILE *f, bool pretty);

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
/* Object member name; the next value call writes its value. */
void json_key(JsonWriter *w, const char *key);

void json_string(JsonWriter *w, const char *s); /* NULL writes null */
void json_string_len(JsonWriter *w, const char *s, size_t len);
void json_uint(JsonWriter *w, uint64_t v);
void json_int(JsonWriter *w, int64_t v);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);

/* Ends the document (a newline). */
void json_finish(JsonWriter *w);

/* The escaped body (without the quotes) of a JSON string for s[0..len), written to f. */
void json_write_escaped(FILE *f, const char *s, size_t len);
