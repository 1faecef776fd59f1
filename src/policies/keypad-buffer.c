/* SPDX-License-Identifier: MIT */
#include <linux/input.h>
#include <string.h>

#include "keypad-buffer.h"
#include "macro.h"

static const unsigned digit_keys[][10] = {
        { KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9 },
        { KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8,
          KEY_KP9 },
        { KEY_NUMERIC_0, KEY_NUMERIC_1, KEY_NUMERIC_2, KEY_NUMERIC_3, KEY_NUMERIC_4, KEY_NUMERIC_5,
          KEY_NUMERIC_6, KEY_NUMERIC_7, KEY_NUMERIC_8, KEY_NUMERIC_9 },
};

static const unsigned delete_keys[] = { KEY_BACKSPACE, KEY_DELETE };
static const unsigned submit_keys[] = { KEY_ENTER, KEY_KPENTER, KEY_OK };
static const unsigned refuse_keys[] = { KEY_ESC, KEY_EXIT };

static bool in_list(unsigned code, const unsigned *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (list[i] == code)
                        return true;
        return false;
}

int keypad_key_digit(unsigned code) {
        for (size_t row = 0; row < ELEMENTSOF(digit_keys); row++)
                for (int d = 0; d < 10; d++)
                        if (digit_keys[row][d] == code)
                                return d;
        return -1;
}

const unsigned *keypad_keys(size_t *ret_n) {
        static unsigned all[ELEMENTSOF(digit_keys) * 10 + ELEMENTSOF(delete_keys) +
                            ELEMENTSOF(submit_keys) + ELEMENTSOF(refuse_keys)];
        static size_t n;

        if (n == 0) {
                for (size_t row = 0; row < ELEMENTSOF(digit_keys); row++)
                        for (size_t d = 0; d < 10; d++)
                                all[n++] = digit_keys[row][d];
                memcpy(all + n, delete_keys, sizeof delete_keys);
                n += ELEMENTSOF(delete_keys);
                memcpy(all + n, submit_keys, sizeof submit_keys);
                n += ELEMENTSOF(submit_keys);
                memcpy(all + n, refuse_keys, sizeof refuse_keys);
                n += ELEMENTSOF(refuse_keys);
        }
        *ret_n = n;
        return all;
}

void keypad_buffer_init(KeypadBuffer *b, size_t max) {
        keypad_buffer_clear(b);
        b->max = max < 1 ? 1 : max > KEYPAD_PIN_DIGITS ? KEYPAD_PIN_DIGITS : max;
}

void keypad_buffer_clear(KeypadBuffer *b) {
        explicit_bzero(b->digits, sizeof b->digits);
        b->len = 0;
}

KeypadAction keypad_buffer_feed(KeypadBuffer *b, unsigned code) {
        int d = keypad_key_digit(code);

        if (d >= 0) {
                if (b->len >= b->max)
                        return KEYPAD_FULL;
                b->digits[b->len++] = (char) ('0' + d);
                b->digits[b->len] = '\0';
                return KEYPAD_DIGIT;
        }
        if (in_list(code, delete_keys, ELEMENTSOF(delete_keys))) {
                if (b->len == 0)
                        return KEYPAD_NOTHING_TO_DELETE;
                b->digits[--b->len] = '\0';
                return KEYPAD_DELETED;
        }
        if (in_list(code, submit_keys, ELEMENTSOF(submit_keys)))
                return b->len > 0 ? KEYPAD_SUBMIT : KEYPAD_EMPTY;
        if (in_list(code, refuse_keys, ELEMENTSOF(refuse_keys)))
                return KEYPAD_REFUSE;
        return KEYPAD_IGNORED;
}

uint32_t keypad_buffer_value(const KeypadBuffer *b) {
        uint32_t v = 0;

        for (size_t i = 0; i < b->len && i < KEYPAD_PASSKEY_DIGITS; i++)
                v = v * 10 + (uint32_t) (b->digits[i] - '0');
        return v;
}

const char *keypad_action_to_string(KeypadAction a) {
        static const char *const names[_KEYPAD_ACTION_MAX] = {
                [KEYPAD_IGNORED] = "ignored",
                [KEYPAD_DIGIT] = "digit",
                [KEYPAD_FULL] = "full",
                [KEYPAD_DELETED] = "deleted",
                [KEYPAD_NOTHING_TO_DELETE] = "nothing-to-delete",
                [KEYPAD_SUBMIT] = "submit",
                [KEYPAD_EMPTY] = "empty",
                [KEYPAD_REFUSE] = "refuse",
        };
        return a >= 0 && a < _KEYPAD_ACTION_MAX ? names[a] : NULL;
}
