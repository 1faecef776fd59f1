/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

#include <glib.h>

#include "macro.h"
#include "speech-text.h"

static const struct {
        const char *name;
        SpeechVar var;
} vars[] = {
        { "passkey", SPEECH_VAR_PASSKEY }, { "pin", SPEECH_VAR_PIN },
        { "device", SPEECH_VAR_DEVICE },   { "kind", SPEECH_VAR_KIND },
        { "text", SPEECH_VAR_TEXT },       { "digit", SPEECH_VAR_DIGIT },
};

static int var_lookup(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(vars); i++)
                if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
                        return (int) vars[i].var;
        return 0;
}

static const char *var_value(SpeechVar var, const SpeechVars *v) {
        switch (var) {
        case SPEECH_VAR_PASSKEY:
                return v->passkey;
        case SPEECH_VAR_PIN:
                return v->pin;
        case SPEECH_VAR_DEVICE:
                return v->device;
        case SPEECH_VAR_KIND:
                return v->kind;
        case SPEECH_VAR_TEXT:
                return v->text;
        case SPEECH_VAR_DIGIT:
                return v->digit;
        }
        return NULL;
}

static char *allowed_list(unsigned allowed) {
        GString *s = g_string_new(NULL);

        for (size_t i = 0; i < ELEMENTSOF(vars); i++)
                if (allowed & vars[i].var)
                        g_string_append_printf(s, "%s{%s}", s->len ? ", " : "", vars[i].name);
        if (!s->len)
                g_string_append(s, "none");
        return g_string_free(s, false);
}

int speech_template_check(const char *tmpl, unsigned allowed, unsigned *ret_used,
                          char **ret_error) {
        unsigned used = 0;

        for (const char *c = tmpl; *c; c++) {
                const char *end;
                int var;

                if (c[0] == '}' && c[1] == '}') {
                        c++;
                        continue;
                }
                if (c[0] == '}') {
                        *ret_error = g_strdup("unmatched '}' (write '}}' for a literal brace)");
                        return -EINVAL;
                }
                if (c[0] != '{')
                        continue;
                if (c[1] == '{') {
                        c++;
                        continue;
                }
                end = strchr(c, '}');
                if (!end) {
                        *ret_error = g_strdup("unmatched '{' (write '{{' for a literal brace)");
                        return -EINVAL;
                }
                var = var_lookup(c + 1, (size_t) (end - c - 1));
                if (!var || !(allowed & (unsigned) var)) {
                        _cleanup_free_ char *list = allowed_list(allowed);
                        *ret_error = g_strdup_printf("%s placeholder {%.*s} (allowed here: %s)",
                                                     var ? "unavailable" : "unknown",
                                                     (int) (end - c - 1), c + 1, list);
                        return -EINVAL;
                }
                used |= (unsigned) var;
                c = end;
        }
        if (ret_used)
                *ret_used = used;
        return 0;
}

char *speech_template_render(const char *tmpl, const SpeechVars *v) {
        GString *out = g_string_new(NULL);

        for (const char *c = tmpl; *c; c++) {
                const char *end;

                if ((c[0] == '{' && c[1] == '{') || (c[0] == '}' && c[1] == '}')) {
                        g_string_append_c(out, *c);
                        c++;
                        continue;
                }
                if (c[0] != '{' || !(end = strchr(c, '}'))) {
                        g_string_append_c(out, *c);
                        continue;
                }
                {
                        int var = var_lookup(c + 1, (size_t) (end - c - 1));
                        const char *value = var ? var_value((SpeechVar) var, v) : NULL;
                        if (value)
                                g_string_append(out, value);
                }
                c = end;
        }
        return g_string_free(out, false);
}

char *speech_spell(const char *s, size_t max) {
        GString *out = g_string_new(NULL);
        size_t n = 0;

        for (; s && *s && n < max; s++) {
                if (!g_ascii_isalnum(*s))
                        continue;
                if (out->len)
                        g_string_append_c(out, ' ');
                g_string_append_c(out, *s);
                n++;
        }
        return g_string_free(out, false);
}

char *speech_passkey_words(uint32_t passkey) {
        char digits[8];

        snprintf(digits, sizeof digits, "%06" PRIu32, passkey % 1000000U);
        return speech_spell(digits, 6);
}

/* Class of Device (Bluetooth Assigned Numbers, "Class of Device"): bits 12..8 major class,
 * bits 7..2 minor class. */
static const char *audio_video_kind(unsigned minor) {
        switch (minor) {
        case 0x01:
                return "a headset";
        case 0x02:
                return "a hands-free device";
        case 0x04:
                return "a microphone";
        case 0x05:
                return "a speaker";
        case 0x06:
                return "headphones";
        case 0x07:
                return "a portable audio player";
        case 0x08:
                return "a car audio system";
        case 0x09:
                return "a set-top box";
        case 0x0a:
                return "a hi-fi system";
        case 0x0c:
        case 0x0d:
                return "a camera";
        case 0x0e:
        case 0x0f:
                return "a display";
        case 0x12:
                return "a toy";
        default:
                return "an audio device";
        }
}

static const char *peripheral_kind(unsigned minor) {
        switch (minor >> 4) { /* bits 7..6: keyboard / pointing device */
        case 1:
        case 3:
                return "a keyboard";
        case 2:
                return "a mouse";
        }
        switch (minor & 0x0f) {
        case 0x01:
        case 0x02:
                return "a game controller";
        case 0x03:
                return "a remote control";
        case 0x05:
                return "a drawing tablet";
        default:
                return "an input device";
        }
}

const char *speech_kind_from_class(bool has_class, uint32_t device_class) {
        unsigned major = (device_class >> 8) & 0x1f, minor = (device_class >> 2) & 0x3f;

        if (!has_class)
                return "a device";
        switch (major) {
        case 0x01:
                switch (minor) {
                case 0x03:
                        return "a laptop";
                case 0x07:
                        return "a tablet";
                default:
                        return "a computer";
                }
        case 0x02:
                return "a phone";
        case 0x03:
                return "a network access point";
        case 0x04:
                return audio_video_kind(minor);
        case 0x05:
                return peripheral_kind(minor);
        case 0x06: /* imaging: minor bits are flags */
                if (minor & 0x20)
                        return "a printer";
                if (minor & 0x08)
                        return "a camera";
                if (minor & 0x10)
                        return "a scanner";
                return "a display";
        case 0x07:
                switch (minor) {
                case 0x01:
                        return "a watch";
                case 0x05:
                        return "glasses";
                default:
                        return "a wearable device";
                }
        case 0x08:
                return "a toy";
        case 0x09:
                return "a health device";
        default: /* 0x00 miscellaneous, 0x1f uncategorised, reserved values */
                return "a device";
        }
}

static bool name_char_ok(char c) {
        return g_ascii_isalnum(c) || c == ' ' || c == '.' || c == ',' || c == '\'' || c == '-' ||
               c == '_';
}

char *speech_sanitize_name(const char *name, size_t max) {
        GString *out = g_string_new(NULL);

        for (const char *c = name; c && *c; c++) {
                char ch = name_char_ok(*c) ? *c : ' ';
                /* Never a leading '-': a name at the start of an argument must not read as an
                 * option of the synthesiser ("-wfile.wav"). */
                if (out->len == 0 && (ch == ' ' || ch == '-'))
                        continue;
                if (ch == ' ' && out->str[out->len - 1] == ' ')
                        continue;
                g_string_append_c(out, ch);
        }
        if (out->len > max) {
                /* Cut at the last space within the bound when there is one not too far back. */
                const char *sp = g_strrstr_len(out->str, (gssize) max + 1, " ");
                g_string_truncate(out, sp && (size_t) (sp - out->str) >= max / 2
                                               ? (size_t) (sp - out->str)
                                               : max);
        }
        while (out->len && out->str[out->len - 1] == ' ')
                g_string_truncate(out, out->len - 1);
        if (!out->len) {
                g_string_free(out, true);
                return NULL;
        }
        return g_string_free(out, false);
}

/* The largest multiple of 10^6 that fits in 2^32: values at or above it are rejected, so every
 * PIN is equally likely. */
#define PIN_RANGE 1000000U
#define PIN_LIMIT (UINT32_MAX / PIN_RANGE * PIN_RANGE)

int speech_random_pin_from(char ret[static 7], speech_random_t source) {
        /* Each draw is rejected with probability < 0.00023: 64 rejections in a row mean a broken
         * source, not bad luck. */
        for (int attempt = 0; attempt < 64; attempt++) {
                uint32_t v;
                ssize_t n = source(&v, sizeof v, GRND_NONBLOCK);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if ((size_t) n != sizeof v)
                        return -EIO;
                if (v >= PIN_LIMIT)
                        continue;
                snprintf(ret, 7, "%06" PRIu32, v % PIN_RANGE);
                explicit_bzero(&v, sizeof v);
                return 0;
        }
        return -EIO;
}

int speech_random_pin(char ret[static 7]) {
        return speech_random_pin_from(ret, getrandom);
}

static bool uses_text(const char *tmpl) {
        _cleanup_free_ char *why = NULL;
        unsigned used = 0;

        return speech_template_check(tmpl, ~0u, &used, &why) >= 0 && (used & SPEECH_VAR_TEXT);
}

char **speech_argv_render(char *const *tmpl, const char *text) {
        const SpeechVars v = { .text = text };
        GPtrArray *argv = g_ptr_array_new();

        for (char *const *a = tmpl; a && *a; a++) {
                char *arg;

                if (!text && uses_text(*a))
                        continue;
                arg = speech_template_render(*a, &v);
                if (arg[0] == '-' && (*a)[0] != '-') {
                        /* The text made it look like an option: a leading space keeps it text. */
                        char *spaced = g_strconcat(" ", arg, NULL);
                        explicit_bzero(arg, strlen(arg));
                        g_free(arg);
                        arg = spaced;
                }
                g_ptr_array_add(argv, arg);
        }
        g_ptr_array_add(argv, NULL);
        return (char **) g_ptr_array_free(argv, false);
}
