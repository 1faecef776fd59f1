/* SPDX-License-Identifier: MIT */
/* The keypad's input: arbitrary bytes read as struct input_event records from its node (a FIFO)
 * through the real read path in keys mode (button-input.c), every key press decoded into digits
 * (keypad-buffer.c), with any buffer size. Properties: exactly the presses (value 1) of the
 * keypad's keys arrive, in order, none between SYN_DROPPED and SYN_REPORT, none stamped in the
 * future; the buffer holds only ASCII digits, at most max of them, and does what a model of
 * the documented rules says for every key (digit, full, delete, submit with 1..max digits,
 * empty, refuse, ignored); the value is the first six digits. */
#include <linux/input.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <systemd/sd-event.h>

#include "button-input.h"
#include "fuzz-check.h"
#include "fuzz-fifo.h"
#include "fuzz-input.h"
#include "keypad-buffer.h"
#include "macro.h"
#include "time-util.h"

typedef struct State {
        KeypadBuffer buffer;
        char model[KEYPAD_PIN_DIGITS + 1];
        size_t model_len;
        GArray *codes; /* the presses expected, in order */
        size_t seen;
} State;

static KeypadAction model_feed(State *s, unsigned code) {
        static const unsigned delete[] = { KEY_BACKSPACE, KEY_DELETE };
        static const unsigned submit[] = { KEY_ENTER, KEY_KPENTER, KEY_OK };
        static const unsigned refuse[] = { KEY_ESC, KEY_EXIT };
        int d = -1;

        if (code >= KEY_1 && code <= KEY_9)
                d = (int) (code - KEY_1) + 1;
        else if (code == KEY_0)
                d = 0;
        else if (code >= KEY_NUMERIC_0 && code <= KEY_NUMERIC_9)
                d = (int) (code - KEY_NUMERIC_0);
        else {
                static const unsigned kp[] = { KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4,
                                               KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9 };
                for (int i = 0; i < 10; i++)
                        if (code == kp[i])
                                d = i;
        }
        if (d >= 0) {
                if (s->model_len >= s->buffer.max)
                        return KEYPAD_FULL;
                s->model[s->model_len++] = (char) ('0' + d);
                s->model[s->model_len] = '\0';
                return KEYPAD_DIGIT;
        }
        for (size_t i = 0; i < ELEMENTSOF(delete); i++)
                if (code == delete[i]) {
                        if (s->model_len == 0)
                                return KEYPAD_NOTHING_TO_DELETE;
                        s->model[--s->model_len] = '\0';
                        return KEYPAD_DELETED;
                }
        for (size_t i = 0; i < ELEMENTSOF(submit); i++)
                if (code == submit[i])
                        return s->model_len ? KEYPAD_SUBMIT : KEYPAD_EMPTY;
        for (size_t i = 0; i < ELEMENTSOF(refuse); i++)
                if (code == refuse[i])
                        return KEYPAD_REFUSE;
        return KEYPAD_IGNORED;
}

static void check_feed(State *s, unsigned code) {
        KeypadAction want = model_feed(s, code), got = keypad_buffer_feed(&s->buffer, code);
        uint32_t value = 0;

        fuzz_assert(got == want, "key %u: %s, expected %s", code, keypad_action_to_string(got),
                    keypad_action_to_string(want));
        fuzz_assert(s->buffer.len == s->model_len && s->buffer.len <= s->buffer.max &&
                            s->buffer.digits[s->buffer.len] == '\0' &&
                            memcmp(s->buffer.digits, s->model, s->model_len) == 0,
                    "buffer \"%s\", expected \"%s\"", s->buffer.digits, s->model);
        for (size_t i = 0; i < s->model_len && i < KEYPAD_PASSKEY_DIGITS; i++)
                value = value * 10 + (uint32_t) (s->model[i] - '0');
        fuzz_assert(keypad_buffer_value(&s->buffer) == value && value <= 999999, "value %u",
                    keypad_buffer_value(&s->buffer));
        if (got == KEYPAD_SUBMIT || got == KEYPAD_REFUSE) {
                keypad_buffer_clear(&s->buffer);
                s->model_len = 0;
                s->model[0] = '\0';
        }
}

static void on_key(unsigned code, uint64_t usec, void *userdata) {
        State *s = userdata;

        fuzz_assert(usec <= now_usec(), "a key press from the future");
        fuzz_assert(s->seen < s->codes->len, "more key presses than records");
        fuzz_assert(code == g_array_index(s->codes, unsigned, s->seen), "key %u, expected %u", code,
                    g_array_index(s->codes, unsigned, s->seen));
        s->seen++;
        check_feed(s, code);
}

static void on_edge(bool pressed, uint64_t usec, void *userdata) {
        fuzz_fail(__FILE__, __LINE__, "an edge in keys mode");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        fuzz_fifo_init();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const ButtonInputCallbacks cb = { .edge = on_edge, .key = on_key };
        FuzzInput in = FUZZ_INPUT(data, size);
        size_t max = fuzz_u8(&in) % (KEYPAD_PIN_DIGITS + 2); /* 0 and 17: clamped */
        size_t chunk = 1 + fuzz_u8(&in) % (sizeof(struct input_event) * 3);
        size_t n_keys = 0;
        const unsigned *keys = keypad_keys(&n_keys);
        ButtonInputConfig config = { .kind = BUTTON_SOURCE_INPUT,
                                     .device = fuzz_fifo_path(),
                                     .keys = keys,
                                     .n_keys = n_keys,
                                     .label = "keypad" };
        _cleanup_close_ int writer = -EBADF;
        sd_event *e = NULL;
        ButtonInput *b = NULL;
        State s = { .codes = g_array_new(false, false, sizeof(unsigned)) };
        bool dropping = false;

        keypad_buffer_init(&s.buffer, max);
        fuzz_assert(s.buffer.max >= 1 && s.buffer.max <= KEYPAD_PIN_DIGITS && s.buffer.len == 0,
                    "max %zu from %zu", s.buffer.max, max);
        /* The presses the decoder must deliver: EV_KEY value 1 of a keypad key, except between
         * SYN_DROPPED and the next SYN_REPORT. */
        for (size_t i = 0; i < in.size / sizeof(struct input_event); i++) {
                struct input_event ev;
                bool wanted = false;

                memcpy(&ev, in.data + i * sizeof ev, sizeof ev);
                if (ev.type == EV_SYN && ev.code == SYN_DROPPED)
                        dropping = true;
                else if (ev.type == EV_SYN && ev.code == SYN_REPORT)
                        dropping = false;
                for (size_t k = 0; k < n_keys; k++)
                        wanted |= keys[k] == ev.code;
                if (!dropping && ev.type == EV_KEY && ev.value == 1 && wanted) {
                        unsigned code = ev.code;
                        g_array_append_val(s.codes, code);
                }
        }

        fuzz_assert(sd_event_new(&e) >= 0, "sd_event_new");
        fuzz_assert(button_input_new(&b, e, &config, &cb, &s) >= 0, "button_input_new");
        fuzz_assert(button_input_start(b) >= 0 && button_input_is_open(b), "the FIFO did not open");
        writer = fuzz_fifo_open_writer();
        fuzz_fifo_feed(writer, e, in.data, in.size, chunk);
        fuzz_assert(s.seen == s.codes->len, "%zu key presses of %u", s.seen, s.codes->len);
        fuzz_fifo_close_writer(&writer, e);
        button_input_free(b);
        sd_event_unref(e);
        keypad_buffer_clear(&s.buffer);
        g_array_unref(s.codes);
        return 0;
}
