/* SPDX-License-Identifier: MIT */
/* The pure part of the speech policy: templates, spelled digits, Class of Device kinds, name
 * sanitising, PIN generation (rejection sampling) and argv templates. */
#include <errno.h>

#include <glib.h>

#include "macro.h"
#include "speech-text.h"

static void test_template_check(void) {
        const unsigned all =
                SPEECH_VAR_PASSKEY | SPEECH_VAR_PIN | SPEECH_VAR_DEVICE | SPEECH_VAR_KIND;
        unsigned used = 0;
        char *error = NULL;

        g_assert_cmpint(speech_template_check("Code: {passkey}, from {device} ({kind})", all, &used,
                                              &error),
                        ==, 0);
        g_assert_cmpuint(used, ==, SPEECH_VAR_PASSKEY | SPEECH_VAR_DEVICE | SPEECH_VAR_KIND);
        g_assert_cmpint(speech_template_check("no placeholders, {{literal}}", 0, &used, &error), ==,
                        0);
        g_assert_cmpuint(used, ==, 0);

        g_assert_cmpint(speech_template_check("Code: {passcode}", all, NULL, &error), ==, -EINVAL);
        g_assert_nonnull(strstr(error, "unknown placeholder {passcode}"));
        g_clear_pointer(&error, g_free);
        /* known, but not available for this method */
        g_assert_cmpint(speech_template_check("PIN {pin}", SPEECH_VAR_PASSKEY, NULL, &error), ==,
                        -EINVAL);
        g_assert_nonnull(strstr(error, "unavailable placeholder {pin}"));
        g_assert_nonnull(strstr(error, "{passkey}"));
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(speech_template_check("open {passkey", all, NULL, &error), ==, -EINVAL);
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(speech_template_check("close }", all, NULL, &error), ==, -EINVAL);
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(speech_template_check("{}", all, NULL, &error), ==, -EINVAL);
        g_clear_pointer(&error, g_free);
        /* {text} is for argv templates only */
        g_assert_cmpint(speech_template_check("{text}", all, NULL, &error), ==, -EINVAL);
        g_clear_pointer(&error, g_free);
}

static void test_template_render(void) {
        const SpeechVars v = { .passkey = "0 1 2 3 4 5", .device = "a phone", .kind = "a phone" };
        _cleanup_free_ char *a = speech_template_render("Code: {passkey}. From {device}.", &v);
        _cleanup_free_ char *b = speech_template_render("{{passkey}} {pin}|{kind}", &v);
        _cleanup_free_ char *c = speech_template_render("", &v);

        g_assert_cmpstr(a, ==, "Code: 0 1 2 3 4 5. From a phone.");
        g_assert_cmpstr(b, ==, "{passkey} |a phone");
        g_assert_cmpstr(c, ==, "");
}

static void test_digits(void) {
        struct {
                uint32_t passkey;
                const char *words;
        } cases[] = {
                { 123456, "1 2 3 4 5 6" }, { 0, "0 0 0 0 0 0" },       { 7, "0 0 0 0 0 7" },
                { 999999, "9 9 9 9 9 9" }, { 1000000, "0 0 0 0 0 0" }, { 40302, "0 4 0 3 0 2" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *w = speech_passkey_words(cases[i].passkey);
                g_assert_cmpstr(w, ==, cases[i].words);
        }
        {
                _cleanup_free_ char *a = speech_spell("0000", 16);
                _cleanup_free_ char *b = speech_spell("12-3 4;x", 16);
                _cleanup_free_ char *c = speech_spell("1234567890123456789", 16);
                _cleanup_free_ char *d = speech_spell(NULL, 16);
                g_assert_cmpstr(a, ==, "0 0 0 0");
                g_assert_cmpstr(b, ==, "1 2 3 4 x");
                g_assert_cmpstr(c, ==, "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6");
                g_assert_cmpstr(d, ==, "");
        }
}

static void test_kinds(void) {
        struct {
                bool has;
                uint32_t cls;
                const char *kind;
        } cases[] = {
                { false, 0x5a020c, "a device" },
                { true, 0x5a020c, "a phone" },    /* smartphone */
                { true, 0x7a020c, "a phone" },    /* with more service bits */
                { true, 0x00010c, "a laptop" },   /* computer / laptop */
                { true, 0x000104, "a computer" }, /* desktop */
                { true, 0x00011c, "a tablet" },   /* computer / tablet */
                { true, 0x240404, "a headset" },  /* audio / wearable headset */
                { true, 0x240418, "headphones" }, /* audio / headphones */
                { true, 0x240414, "a speaker" },  /* audio / loudspeaker */
                { true, 0x240408, "a hands-free device" },
                { true, 0x240420, "a car audio system" },
                { true, 0x000540, "a keyboard" },        /* peripheral / keyboard */
                { true, 0x000580, "a mouse" },           /* peripheral / pointing */
                { true, 0x0005c0, "a keyboard" },        /* combo */
                { true, 0x000508, "a game controller" }, /* gamepad */
                { true, 0x000500, "an input device" },
                { true, 0x000680, "a printer" },
                { true, 0x000704, "a watch" },
                { true, 0x000700, "a wearable device" },
                { true, 0x000800, "a toy" },
                { true, 0x000900, "a health device" },
                { true, 0x001f00, "a device" }, /* uncategorised */
                { true, 0x000000, "a device" }, /* miscellaneous */
                { true, 0xffffffff, "a device" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                g_assert_cmpstr(speech_kind_from_class(cases[i].has, cases[i].cls), ==,
                                cases[i].kind);
}

static void test_names(void) {
        struct {
                const char *in, *out;
        } cases[] = {
                { "Owner's Phone", "Owner's Phone" },
                { "$(touch /tmp/x)", "touch tmp x" },
                { "`id`; rm -rf / && echo", "id rm -rf echo" },
                { "line\nbreak\r\tand\x1b[31mred", "line break and 31mred" },
                { "Ünïcödé 名前", "n c d" },
                { "<speak>SSML</speak>", "speak SSML speak" },
                { "   ", NULL },
                { "$$$", NULL },
                { "", NULL },
                { NULL, NULL },
                { "A very long device name that goes on and on", "A very long device name that" },
                { "Averyveryveryverylongdevicenamewithoutspaces",
                  "Averyveryveryverylongdevicenamew" },
                /* never a leading '-': it would read as an option at the start of an argument */
                { "-wfoo.wav", "wfoo.wav" },
                { "--help", "help" },
                { " - -\t--x y-", "x y-" },
                { "$-v", "v" },
                { "-", NULL },
                { "- - --", NULL },
                { "A-B -c", "A-B -c" }, /* inside a name, '-' stays */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = speech_sanitize_name(cases[i].in, SPEECH_NAME_MAX);
                g_assert_cmpstr(s, ==, cases[i].out);
                if (s) {
                        g_assert_cmpuint(strlen(s), <=, SPEECH_NAME_MAX);
                        g_assert_cmpint(s[0], !=, '-');
                        g_assert_cmpint(s[0], !=, ' ');
                        for (const char *c = s; *c; c++)
                                g_assert_true(g_ascii_isalnum(*c) || strchr(" .,'-_", *c));
                }
        }
}

/* A scripted random source: returns the given 32-bit values in order. */
static const uint32_t *script_values;
static size_t script_n, script_pos;
static int script_errno;

static ssize_t script_source(void *buf, size_t n, unsigned flags) {
        g_assert_cmpuint(n, ==, sizeof(uint32_t));
        if (script_errno) {
                errno = script_errno;
                return -1;
        }
        g_assert_cmpuint(script_pos, <, script_n);
        memcpy(buf, &script_values[script_pos++], n);
        return (ssize_t) n;
}

static void test_pin_rejection_sampling(void) {
        /* 4294000000 = the largest multiple of 10^6 below 2^32: it and everything above is
         * rejected (they would make PINs 000000..967295 more likely). */
        static const uint32_t values[] = { 4294967295U, 4294000000U, 4293999999U, 42 };
        char pin[7];

        script_values = values;
        script_n = ELEMENTSOF(values);
        script_pos = 0;
        script_errno = 0;
        g_assert_cmpint(speech_random_pin_from(pin, script_source), ==, 0);
        g_assert_cmpstr(pin, ==, "999999");
        g_assert_cmpuint(script_pos, ==, 3);
        g_assert_cmpint(speech_random_pin_from(pin, script_source), ==, 0);
        g_assert_cmpstr(pin, ==, "000042"); /* leading zeros kept */

        /* No randomness: an error, never a fallback PIN. */
        script_errno = EAGAIN;
        memcpy(pin, "XXXXXX", 7);
        g_assert_cmpint(speech_random_pin_from(pin, script_source), ==, -EAGAIN);
        g_assert_cmpstr(pin, ==, "XXXXXX");
        script_errno = 0;
}

static void test_pin_distribution(void) {
        enum { N = 20000 };
        unsigned digit_count[6][10] = { { 0 } };
        unsigned leading_zero = 0;
        GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        for (int i = 0; i < N; i++) {
                char pin[7];
                g_assert_cmpint(speech_random_pin(pin), ==, 0);
                g_assert_cmpuint(strlen(pin), ==, 6);
                for (int k = 0; k < 6; k++) {
                        g_assert_true(g_ascii_isdigit(pin[k]));
                        digit_count[k][pin[k] - '0']++;
                }
                leading_zero += pin[0] == '0';
                g_hash_table_add(seen, g_strdup(pin));
        }
        /* Each digit of each position: expected N/10 = 2000, sd ~42; 1800..2200 is > 4.7 sd. */
        for (int k = 0; k < 6; k++)
                for (int d = 0; d < 10; d++) {
                        g_assert_cmpuint(digit_count[k][d], >, 1800);
                        g_assert_cmpuint(digit_count[k][d], <, 2200);
                }
        g_assert_cmpuint(leading_zero, >, 0);
        /* 20000 draws from 10^6: ~200 collisions expected, far from "all the same". */
        g_assert_cmpuint(g_hash_table_size(seen), >, N - 600);
        g_hash_table_unref(seen);
}

static void test_argv_render(void) {
        char *tmpl[] = { "espeak-ng", "-v", "en", "{text}", "--opt={text}!", NULL };
        const char *hostile = "$(touch /tmp/x) `id`; a\nb \"q\" 'q' *";
        char **argv = speech_argv_render(tmpl, hostile);
        _cleanup_free_ char *opt = g_strdup_printf("--opt=%s!", hostile);

        g_assert_cmpuint(g_strv_length(argv), ==, 5);
        g_assert_cmpstr(argv[0], ==, "espeak-ng");
        g_assert_cmpstr(argv[3], ==, hostile); /* one element, byte for byte */
        g_assert_cmpstr(argv[4], ==, opt);
        g_strfreev(argv);
}

static void test_argv_no_option_from_text(void) {
        /* A text starting with '-' never makes an argument that starts with '-' (which espeak-ng
         * and most programs would parse as an option): it gets a leading space. Arguments the
         * template itself starts with '-' are the administrator's options and stay as they are. */
        char *tmpl[] = { "espeak-ng",   "-v",       "en",      "{text}",
                         "{text} more", "-w{text}", "x{text}", NULL };
        char **argv = speech_argv_render(tmpl, "-wfoo.wav");

        g_assert_cmpuint(g_strv_length(argv), ==, 7);
        g_assert_cmpstr(argv[1], ==, "-v");
        g_assert_cmpstr(argv[3], ==, " -wfoo.wav");
        g_assert_cmpstr(argv[4], ==, " -wfoo.wav more");
        g_assert_cmpstr(argv[5], ==, "-w-wfoo.wav");
        g_assert_cmpstr(argv[6], ==, "x-wfoo.wav");
        g_strfreev(argv);

        argv = speech_argv_render(tmpl, "Pairing code: 1 2 3.");
        g_assert_cmpstr(argv[3], ==, "Pairing code: 1 2 3."); /* unchanged otherwise */
        g_strfreev(argv);
}

static void test_argv_without_text(void) {
        /* text NULL (a PIN goes to stdin): every argument holding {text} is left out. */
        char *tmpl[] = { "espeak-ng", "-v", "en", "{text}", "--opt={text}!", "-s", "140", NULL };
        char *literal[] = { "tts", "{{text}}", NULL };
        char **argv = speech_argv_render(tmpl, NULL);

        g_assert_cmpuint(g_strv_length(argv), ==, 5);
        g_assert_cmpstr(argv[0], ==, "espeak-ng");
        g_assert_cmpstr(argv[1], ==, "-v");
        g_assert_cmpstr(argv[2], ==, "en");
        g_assert_cmpstr(argv[3], ==, "-s");
        g_assert_cmpstr(argv[4], ==, "140");
        g_strfreev(argv);
        /* "{{text}}" is a literal "{text}", not the placeholder: kept. */
        argv = speech_argv_render(literal, NULL);
        g_assert_cmpuint(g_strv_length(argv), ==, 2);
        g_assert_cmpstr(argv[1], ==, "{text}");
        g_strfreev(argv);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/speech-text/template-check", test_template_check);
        g_test_add_func("/speech-text/template-render", test_template_render);
        g_test_add_func("/speech-text/digits", test_digits);
        g_test_add_func("/speech-text/kinds", test_kinds);
        g_test_add_func("/speech-text/names", test_names);
        g_test_add_func("/speech-text/pin-rejection-sampling", test_pin_rejection_sampling);
        g_test_add_func("/speech-text/pin-distribution", test_pin_distribution);
        g_test_add_func("/speech-text/argv-render", test_argv_render);
        g_test_add_func("/speech-text/argv-no-option-from-text", test_argv_no_option_from_text);
        g_test_add_func("/speech-text/argv-without-text", test_argv_without_text);
        return g_test_run();
}
