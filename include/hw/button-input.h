/* SPDX-License-Identifier: MIT */
#pragma once

/* The input of a person: a Linux input (evdev) key, or a GPIO line through the GPIO character
 * device. Delivers debounced press/release edges of one key (the button) with CLOCK_MONOTONIC
 * timestamps, or every press of a set of keys (a keypad: `keys`), all on the sd-event loop (no
 * threads, no polling). Shared by the button and the keypad policies.
 *
 * Hotplug: a device that is absent, or goes away (ENODEV, EPOLLHUP, EPOLLERR), is closed at once
 * (never spun on) and reopened when it comes back: an inotify watch on the deepest existing
 * directory of its path notices it, and a slow timer retries in case inotify cannot (a busy GPIO
 * line, permissions changed without an event).
 *
 * For tests, `device` may be a FIFO delivering struct input_event records: the evdev ioctls fail
 * with ENOTTY there, and the records' timestamps are taken as CLOCK_MONOTONIC. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "gpio-line.h"

typedef enum ButtonSourceKind {
        BUTTON_SOURCE_INPUT,
        BUTTON_SOURCE_GPIO,
} ButtonSourceKind;

typedef struct ButtonInputConfig {
        ButtonSourceKind kind;
        const char *device; /* input: a path ("/dev/input/by-path/...") or a device name */
        unsigned key;       /* input: EV_KEY code (the button) */
        /* input, keys mode (n_keys > 0; `key` and debouncing unused): every press (value 1, not
         * autorepeat) of one of these EV_KEY codes goes to the key callback as it is read. By
         * name, a device matches when it reports at least one of them. Copied. */
        const unsigned *keys;
        size_t n_keys;
        const char *label; /* for log messages: "button" (NULL), "keypad" */
        const char *chip;  /* gpio: see gpio_chip_resolve() */
        unsigned line;
        bool active_low;
        GpioBias bias;
        unsigned debounce_ms; /* gpio: asked of the kernel; input: applied here */
} ButtonInputConfig;

typedef enum ButtonInputState {
        BUTTON_INPUT_OPENED, /* detail: the node opened */
        BUTTON_INPUT_ABSENT, /* could not open (error set); will retry */
        BUTTON_INPUT_LOST,   /* was open, went away (error set, or 0 for end of file) */
} ButtonInputState;

typedef struct ButtonInputCallbacks {
        /* A debounced edge: pressed or released at `usec` (CLOCK_MONOTONIC). */
        void (*edge)(bool pressed, uint64_t usec, void *userdata);
        /* Opened, absent (reported when the error changes, not at every retry), lost. */
        void (*state)(ButtonInputState state, const char *detail, int error, void *userdata);
        /* Keys mode: a key of `keys` went down at `usec` (CLOCK_MONOTONIC). */
        void (*key)(unsigned code, uint64_t usec, void *userdata);
        /* Whether the key is down is no longer known (events were dropped, the device went
         * away): forget a press in progress. */
        void (*reset)(void *userdata);
} ButtonInputCallbacks;

typedef struct ButtonInput ButtonInput;

/* Copies the config. Opens nothing until button_input_start(). */
int button_input_new(ButtonInput **ret, sd_event *e, const ButtonInputConfig *c,
                     const ButtonInputCallbacks *cb, void *userdata);
/* Try to open now; when that fails, watch for the device and retry. Never fails for an absent
 * device (reported through the state callback); <0 only for allocation or event-loop errors. */
int button_input_start(ButtonInput *in);
ButtonInput *button_input_free(ButtonInput *in);
bool button_input_is_open(const ButtonInput *in);

/* A release was read but is still being debounced (it resolves at *ret_until, CLOCK_MONOTONIC):
 * whether the press has ended is not known yet. */
bool button_input_release_pending(const ButtonInput *in, uint64_t *ret_until);

/* A raw edge as if read from the device (goes through debouncing and clamping): for tests. */
void button_input_feed(ButtonInput *in, bool pressed, uint64_t usec);
/* Keys mode: a press of `code` as if read from the device (clamped to now): for tests. */
void button_input_feed_key(ButtonInput *in, unsigned code, uint64_t usec);

/* Retry intervals when the device cannot be opened (exposed for tests). */
#define BUTTON_INPUT_RETRY_USEC      (5ULL * 1000000ULL)
#define BUTTON_INPUT_RETRY_BUSY_USEC (1ULL * 1000000ULL)
#define BUTTON_INPUT_REOPEN_USEC     (250ULL * 1000ULL) /* first attempt after a loss */
