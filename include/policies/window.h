/* SPDX-License-Identifier: MIT */
#pragma once

/* The "window" policy and the window = { ... } section: the daemon's pairing window gates
 * strangers. While the window is closed every request routed to "window" is refused at once (no
 * wait, nothing spoken, bluetoothd's single agent slot freed in milliseconds); while it is open
 * the request passes to the next policy (speech, button, ...), which decides. */

#include <libconfig.h>
#include <stdbool.h>

#include "pairing-window.h"
#include "policy.h"

#define WINDOW_DEFAULT_DURATION_SEC 120U
#define WINDOW_DEFAULT_PAIRINGS     1U
#define WINDOW_DEFAULT_ADAPTER      "/org/bluez/hci0"
#define WINDOW_MAX_SEC              3600U

typedef struct WindowSettings {
        char *adapter;
        unsigned duration_sec; /* 1..3600 */
        unsigned pairings;     /* 1..100 */
        unsigned at_start_sec; /* 0..3600: open for this long when pairgated starts */
        bool pairable_when_closed;
} WindowSettings;

extern const PolicyOps window_policy_ops;

/* section may be NULL: defaults. Errors name file:line. */
int window_settings_parse(WindowSettings *s, const config_setting_t *section, const PolicyEnv *env,
                          char **ret_error);
void window_settings_clear(WindowSettings *s);
/* For pairing_window_new()/_reconfigure(); borrows s's strings. */
PairingWindowConfig window_settings_config(const WindowSettings *s);
