/* SPDX-License-Identifier: MIT */
/* The speech policy's texts (speech-text.c) with arbitrary names, templates, codes and argv
 * templates. Properties: a sanitised name is NULL or non-empty, within its bound, of the allowed
 * characters only, with no leading '-' or space; spelled codes are digits and single spaces; a
 * template that passes the check renders within a computed bound, with no control byte the
 * template did not hold; no argv entry is option-like unless its template is; random PINs are
 * six digits drawn without bias. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "fuzz-check.h"
#include "fuzz-input.h"
#include "macro.h"
#include "speech-text.h"

#define MAX_ARGV 6

static bool name_char_ok(char c) {
        return g_ascii_isalnum(c) || strchr(" .,'-_", c);
}

static char *check_name(const char *name, size_t max) {
        char *s = speech_sanitize_name(name, max);
        size_t len;

        if (!s)
                return NULL;
        len = strlen(s);
        fuzz_assert(len > 0 && len <= max, "sanitised name of %zu bytes (max %zu)", len, max);
        fuzz_assert(s[0] != '-' && s[0] != ' ' && s[len - 1] != ' ', "name \"%s\" badly trimmed",
                    s);
        for (size_t i = 0; i < len; i++) {
                fuzz_assert(s[i] && name_char_ok(s[i]), "byte 0x%02x in a sanitised name",
                            (unsigned char) s[i]);
                fuzz_assert(!(s[i] == ' ' && s[i + 1] == ' '), "two spaces in a sanitised name");
        }
        return s;
}

/* Letters or digits separated by single spaces, at most max of them. */
static void check_spelled(const char *s, size_t max, bool digits_only) {
        size_t n = 0;

        for (size_t i = 0; s[i]; i++) {
                if (i % 2) {
                        fuzz_assert(s[i] == ' ' && s[i + 1], "spelled text \"%s\" badly spaced", s);
                        continue;
                }
                fuzz_assert(digits_only ? g_ascii_isdigit(s[i]) : g_ascii_isalnum(s[i]),
                            "byte 0x%02x spelled", (unsigned char) s[i]);
                n++;
        }
        fuzz_assert(n <= max, "%zu characters spelled (max %zu)", n, max);
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static void check_template(const char *tmpl, unsigned allowed, const SpeechVars *v) {
        _cleanup_free_ char *error = NULL, *text = NULL;
        unsigned used = 0;
        size_t bound, longest = 0;
        const char *values[] = { v->passkey, v->pin, v->device, v->kind, v->text };

        if (speech_template_check(tmpl, allowed, &used, &error) < 0) {
                fuzz_assert(error && *error, "a refused template without a reason");
                return;
        }
        fuzz_assert(!error, "an accepted template with an error");
        fuzz_assert((used & ~allowed) == 0, "used placeholders 0x%x beyond 0x%x", used, allowed);
        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                longest = MAX(longest, values[i] ? strlen(values[i]) : 0);
        /* Each placeholder is at least "{pin}" (5 bytes) and becomes at most the longest value. */
        bound = strlen(tmpl) + (strlen(tmpl) / 5 + 1) * longest;
        text = speech_template_render(tmpl, v);
        fuzz_assert(strlen(text) <= bound, "rendered %zu bytes from %zu", strlen(text),
                    strlen(tmpl));
        if (!has_control(tmpl))
                fuzz_assert(!has_control(text), "a control byte came from a value: \"%s\"", text);
}

static bool uses_text(const char *tmpl) {
        _cleanup_free_ char *error = NULL;
        unsigned used = 0;

        return speech_template_check(tmpl, ~0u, &used, &error) >= 0 && (used & SPEECH_VAR_TEXT);
}

static void check_argv(FuzzInput *in, const char *text) {
        char *tmpl[MAX_ARGV + 1] = { 0 };
        size_t n = 1 + fuzz_pick(in, MAX_ARGV), j = 0;
        char **argv;

        for (size_t i = 0; i < n; i++)
                tmpl[i] = fuzz_string(in);
        argv = speech_argv_render(tmpl, text);
        fuzz_assert(argv, "no argv");
        /* One argument per template element, in order; with no text, the elements using {text}
         * are left out (the text goes to stdin). */
        for (size_t i = 0; i < n; i++) {
                if (!text && uses_text(tmpl[i]))
                        continue;
                fuzz_assert(argv[j], "argument %zu missing", j);
                fuzz_assert(argv[j][0] != '-' || tmpl[i][0] == '-',
                            "argument \"%s\" (template \"%s\") looks like an option", argv[j],
                            tmpl[i]);
                fuzz_assert(has_control(tmpl[i]) || (text && has_control(text)) ||
                                    !has_control(argv[j]),
                            "a control byte in argument %zu", j);
                j++;
        }
        fuzz_assert(!argv[j], "more arguments than template elements");
        g_strfreev(argv);
        for (size_t i = 0; i < n; i++)
                g_free(tmpl[i]);
}

static FuzzInput *random_source_input;

static ssize_t fuzz_random(void *buf, size_t n, unsigned flags) {
        if (fuzz_u8(random_source_input) == 0xff) {
                errno = EAGAIN;
                return -1;
        }
        for (size_t i = 0; i < n; i++)
                ((uint8_t *) buf)[i] = fuzz_u8(random_source_input);
        return (ssize_t) n;
}

static void check_pin(FuzzInput *in) {
        char pin[7];
        int r;

        random_source_input = in;
        r = speech_random_pin_from(pin, fuzz_random);
        random_source_input = NULL;
        if (r < 0)
                return;
        fuzz_assert(strlen(pin) == 6, "PIN of %zu digits", strlen(pin));
        for (int i = 0; i < 6; i++)
                fuzz_assert(g_ascii_isdigit(pin[i]), "PIN byte 0x%02x", (unsigned char) pin[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = FUZZ_INPUT(data, size);
        unsigned allowed = fuzz_u8(&in) & 0x1f;
        size_t max = fuzz_u8(&in) % 80;
        uint32_t passkey = fuzz_u32(&in), device_class = fuzz_u32(&in);
        bool has_class = fuzz_bool(&in), speak_name = fuzz_bool(&in);
        _cleanup_free_ char *name = fuzz_string(&in), *pincode = fuzz_string(&in);
        _cleanup_free_ char *tmpl = fuzz_string(&in);
        _cleanup_free_ char *sane = NULL, *bounded = NULL, *words = NULL, *pin = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL;
        char expect[8];
        const char *kind;
        SpeechVars v;

        sane = check_name(name, SPEECH_NAME_MAX);
        bounded = check_name(name, max);

        words = speech_passkey_words(passkey);
        snprintf(expect, sizeof expect, "%06u", (unsigned) (passkey % 1000000));
        fuzz_assert(strlen(words) == 11, "passkey words \"%s\"", words);
        for (int i = 0; i < 6; i++)
                fuzz_assert(words[2 * i] == expect[i], "passkey digit %d changed", i);
        check_spelled(words, 6, true);
        pin = speech_spell(pincode, 16);
        check_spelled(pin, 16, false);

        kind = speech_kind_from_class(has_class, device_class);
        fuzz_assert(kind && *kind && fuzz_text_is_clean(kind, 32), "kind");

        v = (SpeechVars){ .passkey = words, .pin = pin, .kind = kind };
        v.device = speak_name && sane ? sane : kind;
        check_template(tmpl, allowed, &v);
        /* The rendered text as the policy makes it (its own templates check first). */
        if (speech_template_check(tmpl, allowed & ~SPEECH_VAR_TEXT, NULL, &error) >= 0)
                text = speech_template_render(tmpl, &v);
        check_argv(&in, text ? text : name);
        check_argv(&in, NULL);
        check_pin(&in);
        return 0;
}
