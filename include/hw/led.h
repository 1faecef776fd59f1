/* SPDX-License-Identifier: MIT */
#pragma once

/* The button's feedback LED: a sysfs LED class device (/sys/class/leds/NAME) or a GPIO output
 * line. Off, blinking (a request waits for the button) or on (a pairing window is open). A sysfs
 * LED's trigger is saved when opened, set to "none" while we drive it, and restored by
 * led_free(). Blinking is an sd-event timer. */

#include <stdbool.h>
#include <systemd/sd-event.h>

typedef enum LedMode {
        LED_OFF,
        LED_BLINK,
        LED_ON,
} LedMode;

typedef struct LedConfig {
        const char *sysfs; /* "/sys/class/leds/ACT", or NULL for a GPIO line */
        const char *chip;  /* GPIO: see gpio_chip_resolve() */
        unsigned line;
        bool active_low;
} LedConfig;

#define LED_BLINK_HALF_PERIOD_USEC (250ULL * 1000ULL)

typedef struct Led Led;

/* Opens the LED (sysfs files or the GPIO line) and turns it off. -errno when it cannot. */
int led_new(Led **ret, sd_event *e, const LedConfig *c);
void led_set_mode(Led *l, LedMode m);
LedMode led_get_mode(const Led *l);
/* Turns it off and gives it back: the saved trigger, or the GPIO line released. */
Led *led_free(Led *l);
