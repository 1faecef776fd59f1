/* SPDX-License-Identifier: MIT */
#pragma once

/* The button policy's section, parsed and validated (file:line errors): the input, the LED, the
 * press timing and the (legacy) pairing window keys. */

#include <libconfig.h>
#include <stdbool.h>

#include "button-input.h"
#include "led.h"
#include "policy.h"

#define BUTTON_DEFAULT_LONG_PRESS_MS   2000U
#define BUTTON_DEFAULT_DEBOUNCE_MS     20U
#define BUTTON_DEFAULT_WINDOW_PAIRINGS 1U
#define BUTTON_DEFAULT_ADAPTER         "/org/bluez/hci0"
#define BUTTON_WINDOW_MAX_SEC          3600

typedef struct ButtonConfig {
        ButtonInputConfig input; /* its strings point into the owned copies below */
        LedConfig led;
        bool has_led;
        unsigned long_press_ms;
        unsigned window_sec, window_pairings; /* window_sec 0: the button opens no window */
        char *adapter;
        char *device, *chip, *led_sysfs, *led_chip;
} ButtonConfig;

/* Fill c from section (which must not be NULL). On error c may hold partial data: clear it. */
int button_config_parse(ButtonConfig *c, const config_setting_t *section, const PolicyEnv *env,
                        char **ret_error);
void button_config_clear(ButtonConfig *c);
