/* SPDX-License-Identifier: MIT */
#pragma once

/* The speech policy's section, parsed and validated (file:line errors): the command and the
 * player (argv templates, never a shell), the texts per method and for the keypad, the timing. */

#include <libconfig.h>
#include <stdbool.h>

#include "agent-types.h"
#include "policy.h"

/* What speech says for the keypad (see announce.h): prompts and confirmations, spoken only for
 * the requests speech itself saw (it is routed before the keypad). */
typedef enum KeypadText {
        KEYPAD_TEXT_PASSKEY, /* the prompt for RequestPasskey */
        KEYPAD_TEXT_PIN,     /* the prompt for RequestPinCode */
        KEYPAD_TEXT_DIGIT,   /* a digit typed (keypad echo = true) */
        KEYPAD_TEXT_DELETE,  /* a digit removed (keypad echo = true) */
        _KEYPAD_TEXT_MAX,
} KeypadText;

typedef struct SpeechConfig {
        char **command, **player; /* player NULL: none */
        bool text_on_stdin;       /* the command has no {text}: the text goes to its stdin */
        char *texts[_AGENT_METHOD_MAX];
        char *keypad_texts[_KEYPAD_TEXT_MAX];
        unsigned repeat, pause_ms, utterance_timeout, display_timeout;
        bool speak_names, generate_pin;
} SpeechConfig;

/* The defaults, then the section's keys (section may be NULL: all defaults). On error c may hold
 * partial data: clear it. */
int speech_config_parse(SpeechConfig *c, const config_setting_t *section, const PolicyEnv *env,
                        char **ret_error);
void speech_config_clear(SpeechConfig *c);
