/* SPDX-License-Identifier: MIT */
#pragma once

/* The digits a person types on a keypad, as pure logic: key codes in, what they did out. No I/O,
 * no clock, no logging (the digits may be a PIN).
 *
 *   - KEY_0..KEY_9, KEY_KP0..KEY_KP9 and KEY_NUMERIC_0..KEY_NUMERIC_9 (remote controls) add a
 *     digit; a digit beyond `max` is ignored (KEYPAD_FULL: the buffer stays as it was, so that a
 *     person who typed one too many can still press Enter or Backspace).
 *   - KEY_BACKSPACE (and KEY_DELETE) removes the last digit.
 *   - KEY_ENTER, KEY_KPENTER (and KEY_OK of remotes) submit: KEYPAD_SUBMIT when at least one
 *     digit was typed, KEYPAD_EMPTY (nothing happens) otherwise.
 *   - KEY_ESC (and KEY_EXIT of remotes) refuses.
 *   - Any other key is ignored. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYPAD_PASSKEY_DIGITS 6  /* RequestPasskey: 1..6 digits, the value 0..999999 */
#define KEYPAD_PIN_DIGITS     16 /* RequestPinCode: 1..16 digits */

typedef enum KeypadAction {
        KEYPAD_IGNORED, /* not a key of the keypad's */
        KEYPAD_DIGIT,   /* a digit was added */
        KEYPAD_FULL,    /* a digit beyond max: ignored */
        KEYPAD_DELETED, /* the last digit was removed */
        KEYPAD_NOTHING_TO_DELETE,
        KEYPAD_SUBMIT, /* Enter with 1..max digits: take the value */
        KEYPAD_EMPTY,  /* Enter with no digit: nothing happens */
        KEYPAD_REFUSE, /* Escape */
        _KEYPAD_ACTION_MAX,
} KeypadAction;

typedef struct KeypadBuffer {
        char digits[KEYPAD_PIN_DIGITS + 1];
        size_t len, max;
} KeypadBuffer;

/* The digit (0..9) a key code stands for, or -1. */
int keypad_key_digit(unsigned code);
/* Every key code the keypad listens to (digits, editing, submit, refuse), for the input device. */
const unsigned *keypad_keys(size_t *ret_n);

/* Empty, accepting at most max digits (1..KEYPAD_PIN_DIGITS; clamped). */
void keypad_buffer_init(KeypadBuffer *b, size_t max);
/* Forget the digits (wiped). */
void keypad_buffer_clear(KeypadBuffer *b);
KeypadAction keypad_buffer_feed(KeypadBuffer *b, unsigned code);
/* The digits as a number (RequestPasskey: at most 6 digits, so 0..999999). */
uint32_t keypad_buffer_value(const KeypadBuffer *b);
const char *keypad_action_to_string(KeypadAction a);
