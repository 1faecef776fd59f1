/* SPDX-License-Identifier: MIT */
#pragma once

/* What the speech policy says, as pure functions: text templates with {placeholders}, digits
 * spelled one by one, the kind of a device from its Class of Device, sanitised device names,
 * random PINs and argv templates. No I/O apart from getrandom(2). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Placeholders. In a template, "{{" and "}}" are literal braces. */
typedef enum SpeechVar {
        SPEECH_VAR_PASSKEY = 1u << 0, /* "1 2 3 4 5 6": six digits, zero-padded, spelled */
        SPEECH_VAR_PIN = 1u << 1,     /* the PIN, spelled */
        SPEECH_VAR_DEVICE = 1u << 2,  /* the kind, or the sanitised name when names are spoken */
        SPEECH_VAR_KIND = 1u << 3,    /* "a phone", "a headset", ... "a device" */
        SPEECH_VAR_TEXT = 1u << 4,    /* argv templates only: the whole text, one argument */
        SPEECH_VAR_DIGIT = 1u << 5,   /* KeypadDigit: the digit just typed on the keypad */
} SpeechVar;

typedef struct SpeechVars {
        const char *passkey, *pin, *device, *kind, *text, *digit; /* NULL renders as "" */
} SpeechVars;

#define SPEECH_NAME_MAX     32  /* bytes of a spoken device name */
#define SPEECH_TEMPLATE_MAX 512 /* bytes of a text template */

/* 0 when every placeholder of tmpl is known and in `allowed`, and braces are balanced;
 * otherwise -EINVAL and *ret_error (g_free) says why (no file:line). *ret_used (may be NULL):
 * the placeholders used. */
int speech_template_check(const char *tmpl, unsigned allowed, unsigned *ret_used, char **ret_error);
/* Render a checked template (unknown placeholders render as nothing). g_free() the result. */
char *speech_template_render(const char *tmpl, const SpeechVars *v);

/* "0 1 2 3 4 5" for 12345 (values above 999999 are reduced modulo 10^6 digits: the last six). */
char *speech_passkey_words(uint32_t passkey);
/* Letters and digits of s separated by spaces (anything else dropped), at most max characters
 * spelled. */
char *speech_spell(const char *s, size_t max);

/* "a phone", "a computer", "a headset", "a keyboard", ... from the Class of Device (major and
 * minor class); "a device" when there is no class or it says nothing useful. Static string. */
const char *speech_kind_from_class(bool has_class, uint32_t device_class);

/* A remote name reduced to what is safe and sensible to speak: ASCII letters, digits, space and
 * . , ' - _ (anything else becomes a space), runs of spaces collapsed, trimmed, leading '-'
 * removed (never an option-like "-wfile" at the start of an argument), at most max bytes (cut
 * at a word boundary when possible). NULL when nothing is left (callers then say the kind). */
char *speech_sanitize_name(const char *name, size_t max);

/* A uniformly random PIN of six decimal digits (leading zeros kept) from getrandom(2), by
 * rejection sampling of 32-bit values (no modulo bias). 0, or -errno (e.g. -EAGAIN when the
 * kernel's random pool is not ready yet: never a fallback PIN). */
int speech_random_pin(char ret[static 7]);
/* The same with an injectable source of random bytes (tests). */
typedef ssize_t (*speech_random_t)(void *buf, size_t n, unsigned flags);
int speech_random_pin_from(char ret[static 7], speech_random_t source);

/* argv template -> argv: "{text}" replaced by text inside any element, each element stays one
 * argument (no splitting, no interpretation). An element whose template does not start with '-'
 * but whose rendering does (the text starts with '-') gets a leading space, so that no text is
 * ever taken for an option. text NULL: every element containing "{text}" is left out (the text
 * goes to the command's stdin instead, e.g. when it holds a PIN: never in /proc/<pid>/cmdline).
 * g_strfreev() the result. */
char **speech_argv_render(char *const *tmpl, const char *text);
