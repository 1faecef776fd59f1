/* SPDX-License-Identifier: MIT */
/* speech = { ... }: every key of the speech policy's section, checked with file:line errors. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "macro.h"
#include "settings.h"
#include "spawn-pipeline.h"
#include "speech-config.h"
#include "speech-text.h"

static const char *const default_command[] = {
        "espeak-ng", "-v", "en", "-s", "140", "{text}", NULL
};

static const struct {
        AgentMethod method;
        unsigned allowed; /* placeholders */
        const char *text; /* default */
} method_texts[] = {
        { AGENT_METHOD_DISPLAY_PASSKEY, SPEECH_VAR_PASSKEY | SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
          "Pairing code: {passkey}." },
        { AGENT_METHOD_REQUEST_CONFIRMATION,
          SPEECH_VAR_PASSKEY | SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
          "Pairing request from {device}. Code: {passkey}. Press the button to accept." },
        { AGENT_METHOD_DISPLAY_PIN_CODE, SPEECH_VAR_PIN | SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
          "Pairing PIN: {pin}." },
        { AGENT_METHOD_REQUEST_PIN_CODE, SPEECH_VAR_PIN | SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
          "Pairing PIN: {pin}." },
        { AGENT_METHOD_REQUEST_AUTHORIZATION, SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
          "Pairing request from {device}. Press the button to accept." },
};

static const struct {
        const char *name; /* in speech.texts */
        unsigned allowed;
        const char *text;
} keypad_texts[_KEYPAD_TEXT_MAX] = {
        [KEYPAD_TEXT_PASSKEY] = { "KeypadPasskey", SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
                                  "Pairing request from {device}. Type the six digits shown on "
                                  "{device}, then press Enter." },
        [KEYPAD_TEXT_PIN] = { "KeypadPinCode", SPEECH_VAR_DEVICE | SPEECH_VAR_KIND,
                              "Pairing request from {device}. Type its PIN code, then press "
                              "Enter." },
        [KEYPAD_TEXT_DIGIT] = { "KeypadDigit", SPEECH_VAR_DIGIT, "{digit}" },
        [KEYPAD_TEXT_DELETE] = { "KeypadDelete", 0, "Deleted." },
};

static int method_text_index(AgentMethod m) {
        for (size_t i = 0; i < ELEMENTSOF(method_texts); i++)
                if (method_texts[i].method == m)
                        return (int) i;
        return -1;
}

/* An argv template: a non-empty list of strings; the program (first element) is a plain
 * string; the others may hold the placeholders in `allowed`. */
static int parse_argv(const config_setting_t *s, unsigned allowed, bool allow_empty, char ***ret,
                      unsigned *ret_used, const PolicyEnv *env, char **ret_error) {
        const char *key = config_setting_name(s);
        int n = config_setting_length(s);
        unsigned used = 0;
        GPtrArray *argv;

        if ((config_setting_type(s) != CONFIG_TYPE_ARRAY &&
             config_setting_type(s) != CONFIG_TYPE_LIST) ||
            (n == 0 && !allow_empty) || n > SPAWN_ARGV_MAX) {
                *ret_error = policy_error(env, s,
                                          "speech.%s must be a list of 1..%d strings "
                                          "[ \"program\", \"argument\", ... ] (no shell)",
                                          key, SPAWN_ARGV_MAX);
                return -EINVAL;
        }
        argv = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *v = config_setting_get_string(e);
                _cleanup_free_ char *why = NULL;
                unsigned u = 0;

                if (!v || (i == 0 && !v[0])) {
                        *ret_error = policy_error(env, e, "speech.%s[%d] must be a %sstring", key,
                                                  i, i == 0 ? "non-empty " : "");
                        g_ptr_array_free(argv, true);
                        return -EINVAL;
                }
                if (speech_template_check(v, i == 0 ? 0 : allowed, &u, &why) < 0) {
                        *ret_error =
                                policy_error(env, e, "speech.%s[%d] \"%s\": %s%s", key, i, v, why,
                                             i == 0 ? " (the program itself is fixed)" : "");
                        g_ptr_array_free(argv, true);
                        return -EINVAL;
                }
                used |= u;
                g_ptr_array_add(argv, g_strdup(v));
        }
        g_ptr_array_add(argv, NULL);
        *ret = n == 0 ? NULL : (char **) g_ptr_array_free(argv, false);
        if (n == 0)
                g_ptr_array_free(argv, true);
        if (ret_used)
                *ret_used = used;
        return 0;
}

/* speech.texts.Keypad*: what speech says for the keypad. */
static int parse_keypad_text(SpeechConfig *c, const config_setting_t *e, const PolicyEnv *env,
                             char **ret_error) {
        const char *name = config_setting_name(e), *v = config_setting_get_string(e);
        _cleanup_free_ char *why = NULL;
        int k = -1;

        for (int i = 0; i < _KEYPAD_TEXT_MAX; i++)
                if (streq(keypad_texts[i].name, name))
                        k = i;
        if (k < 0) {
                *ret_error = policy_error(env, e,
                                          "speech.texts: no text for '%s' (known: DisplayPasskey, "
                                          "RequestConfirmation, DisplayPinCode, RequestPinCode, "
                                          "RequestAuthorization, KeypadPasskey, KeypadPinCode, "
                                          "KeypadDigit, KeypadDelete)",
                                          name);
                return -EINVAL;
        }
        if (!v) {
                *ret_error = policy_error(env, e, "speech.texts.%s must be a string", name);
                return -EINVAL;
        }
        if (strlen(v) > SPEECH_TEMPLATE_MAX) {
                *ret_error = policy_error(env, e, "speech.texts.%s is longer than %d bytes", name,
                                          SPEECH_TEMPLATE_MAX);
                return -EINVAL;
        }
        if (speech_template_check(v, keypad_texts[k].allowed, NULL, &why) < 0) {
                *ret_error = policy_error(env, e, "speech.texts.%s: %s", name, why);
                return -EINVAL;
        }
        g_free(c->keypad_texts[k]);
        c->keypad_texts[k] = g_strdup(v);
        return 0;
}

static int parse_texts(SpeechConfig *c, const config_setting_t *s, const PolicyEnv *env,
                       char **ret_error) {
        if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
                *ret_error = policy_error(env, s,
                                          "speech.texts must be a group "
                                          "{ DisplayPasskey = \"...\"; ... }");
                return -EINVAL;
        }
        for (int i = 0; i < config_setting_length(s); i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *name = config_setting_name(e), *v = config_setting_get_string(e);
                int k = method_text_index(agent_method_from_string(name));
                _cleanup_free_ char *why = NULL;

                if (k < 0) {
                        int r = parse_keypad_text(c, e, env, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!v) {
                        *ret_error = policy_error(env, e, "speech.texts.%s must be a string", name);
                        return -EINVAL;
                }
                if (strlen(v) > SPEECH_TEMPLATE_MAX) {
                        *ret_error = policy_error(env, e, "speech.texts.%s is longer than %d bytes",
                                                  name, SPEECH_TEMPLATE_MAX);
                        return -EINVAL;
                }
                if (speech_template_check(v, method_texts[k].allowed, NULL, &why) < 0) {
                        *ret_error = policy_error(env, e, "speech.texts.%s: %s", name, why);
                        return -EINVAL;
                }
                g_free(c->texts[method_texts[k].method]);
                c->texts[method_texts[k].method] = g_strdup(v);
        }
        return 0;
}

static int parse_section(SpeechConfig *c, const config_setting_t *section, const PolicyEnv *env,
                         char **ret_error) {
        const SettingScope scope = { .file = env->config_path, .section = "speech" };
        const config_setting_t *pin_text = NULL;
        unsigned used = 0;
        int r = 0;

        for (int i = 0; section && r >= 0 && i < config_setting_length(section); i++) {
                const config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                const char *k = config_setting_name(e);

                if (streq(k, "command")) {
                        g_strfreev(c->command);
                        c->command = NULL;
                        r = parse_argv(e, SPEECH_VAR_TEXT, false, &c->command, &used, env,
                                       ret_error);
                        c->text_on_stdin = !(used & SPEECH_VAR_TEXT);
                } else if (streq(k, "player")) {
                        g_strfreev(c->player);
                        c->player = NULL;
                        r = parse_argv(e, 0, true, &c->player, NULL, env, ret_error);
                } else if (streq(k, "texts")) {
                        r = parse_texts(c, e, env, ret_error);
                        if (r >= 0)
                                pin_text = config_setting_get_member(e, "RequestPinCode");
                } else if (streq(k, "repeat"))
                        r = setting_get_uint(&scope, e, 1, 5, &c->repeat, ret_error);
                else if (streq(k, "pause_ms"))
                        r = setting_get_uint(&scope, e, 0, 10000, &c->pause_ms, ret_error);
                else if (streq(k, "utterance_timeout"))
                        r = setting_get_uint(&scope, e, 1, 120, &c->utterance_timeout, ret_error);
                else if (streq(k, "display_timeout"))
                        r = setting_get_uint(&scope, e, 1, 600, &c->display_timeout, ret_error);
                else if (streq(k, "speak_names"))
                        r = setting_get_bool(&scope, e, &c->speak_names, ret_error);
                else if (streq(k, "generate_pin"))
                        r = setting_get_bool(&scope, e, &c->generate_pin, ret_error);
                else {
                        *ret_error = policy_error(
                                env, e,
                                "speech: unknown key '%s' (known: command, player, texts, "
                                "repeat, pause_ms, utterance_timeout, display_timeout, "
                                "speak_names, generate_pin)",
                                k);
                        r = -EINVAL;
                }
        }
        if (r < 0)
                return r;
        /* A generated PIN nobody hears cannot be typed on the other side. */
        used = 0;
        if (c->generate_pin) {
                _cleanup_free_ char *why = NULL;
                (void) speech_template_check(c->texts[AGENT_METHOD_REQUEST_PIN_CODE],
                                             SPEECH_VAR_PIN, &used, &why);
        }
        if (c->generate_pin && !(used & SPEECH_VAR_PIN)) {
                *ret_error = policy_error(env, pin_text ? pin_text : section,
                                          "speech.texts.RequestPinCode must contain {pin} when "
                                          "generate_pin = true");
                return -EINVAL;
        }
        return 0;
}

int speech_config_parse(SpeechConfig *c, const config_setting_t *section, const PolicyEnv *env,
                        char **ret_error) {
        c->command = g_strdupv((char **) default_command);
        for (size_t i = 0; i < ELEMENTSOF(method_texts); i++)
                c->texts[method_texts[i].method] = g_strdup(method_texts[i].text);
        for (int k = 0; k < _KEYPAD_TEXT_MAX; k++)
                c->keypad_texts[k] = g_strdup(keypad_texts[k].text);
        c->repeat = 2;
        c->pause_ms = 1000;
        c->utterance_timeout = 20;
        c->display_timeout = 60;
        return parse_section(c, section, env, ret_error);
}

void speech_config_clear(SpeechConfig *c) {
        g_strfreev(c->command);
        g_strfreev(c->player);
        for (int m = 0; m < _AGENT_METHOD_MAX; m++)
                g_free(c->texts[m]);
        for (int k = 0; k < _KEYPAD_TEXT_MAX; k++)
                g_free(c->keypad_texts[k]);
        *c = (SpeechConfig){ 0 };
}
