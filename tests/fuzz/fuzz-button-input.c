/* SPDX-License-Identifier: MIT */
/* The button's input decoding (button-input.c): arbitrary bytes read as struct input_event
 * records from the device node, through its real read path (the node is a FIFO, as the bus tests
 * use), with any key code, debounce period and split of the bytes over reads. Properties: edges
 * strictly alternate starting with a press (a reset forgets a press in progress); no edge comes
 * from a record that is not an EV_KEY press or release of the configured key; no edge is
 * stamped in the future; with no debouncing, every such key record that changes the level is
 * an edge, in order. */
#include <linux/input.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <systemd/sd-event.h>

#include "button-input.h"
#include "fuzz-check.h"
#include "fuzz-fifo.h"
#include "fuzz-input.h"
#include "macro.h"
#include "time-util.h"

typedef struct State {
        bool level; /* as the edges say */
        unsigned edges, key_changes;
        bool opened;
        unsigned lost;
} State;

static void on_edge(bool pressed, uint64_t usec, void *userdata) {
        State *s = userdata;

        fuzz_assert(pressed != s->level, "two %s edges in a row", pressed ? "press" : "release");
        fuzz_assert(usec <= now_usec(), "an edge from the future");
        s->level = pressed;
        s->edges++;
}

static void on_state(ButtonInputState state, const char *detail, int error, void *userdata) {
        State *s = userdata;

        if (state == BUTTON_INPUT_OPENED)
                s->opened = true;
        else if (state == BUTTON_INPUT_LOST)
                s->lost++;
}

static void on_reset(void *userdata) {
        State *s = userdata;

        s->level = false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        fuzz_fifo_init();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const ButtonInputCallbacks cb = { .edge = on_edge,
                                                 .state = on_state,
                                                 .reset = on_reset };
        FuzzInput in = FUZZ_INPUT(data, size);
        uint16_t key = fuzz_bool(&in) ? KEY_CONNECT : fuzz_u16(&in);
        unsigned debounce = fuzz_bool(&in) ? 0 : fuzz_u8(&in);
        size_t chunk = 1 + fuzz_u8(&in) % sizeof(struct input_event) * 3;
        ButtonInputConfig config = { .kind = BUTTON_SOURCE_INPUT,
                                     .device = fuzz_fifo_path(),
                                     .key = key,
                                     .debounce_ms = debounce };
        _cleanup_close_ int writer = -EBADF;
        sd_event *e = NULL;
        ButtonInput *b = NULL;
        State s = { 0 };
        bool expect_exact = debounce == 0;
        bool level = false, dropping = false;
        size_t whole;

        fuzz_assert(sd_event_new(&e) >= 0, "sd_event_new");
        fuzz_assert(button_input_new(&b, e, &config, &cb, &s) >= 0, "button_input_new");
        fuzz_assert(button_input_start(b) >= 0, "button_input_start");
        fuzz_assert(s.opened && button_input_is_open(b), "the FIFO did not open");
        writer = fuzz_fifo_open_writer();

        /* What the decoder must make of the whole records, without debouncing: key records of
         * the configured key that change the level, except between SYN_DROPPED (which forgets
         * the level) and the next SYN_REPORT. */
        whole = in.size / sizeof(struct input_event);
        for (size_t i = 0; i < whole; i++) {
                struct input_event ev;
                memcpy(&ev, in.data + i * sizeof ev, sizeof ev);
                if (ev.type == EV_SYN && ev.code == SYN_DROPPED) {
                        dropping = true;
                        level = false;
                } else if (ev.type == EV_SYN && ev.code == SYN_REPORT)
                        dropping = false;
                else if (!dropping && ev.type == EV_KEY && ev.code == key &&
                         (ev.value == 0 || ev.value == 1) && (ev.value == 1) != level) {
                        level = ev.value == 1;
                        s.key_changes++;
                }
        }
        /* Written in chunks, read between them: records split over reads. */
        fuzz_fifo_feed(writer, e, in.data, in.size, chunk);
        fuzz_assert(s.edges <= s.key_changes, "%u edges from %u key changes", s.edges,
                    s.key_changes);
        if (expect_exact)
                fuzz_assert(s.edges == s.key_changes, "%u edges from %u key changes", s.edges,
                            s.key_changes);
        /* The writer goes away: the input is lost, and the press in progress forgotten. */
        fuzz_fifo_close_writer(&writer, e);
        /* (It may be open again already: the node is still there, and the reopen timer of
         * 250 ms can pass on a loaded machine.) */
        fuzz_assert(s.lost > 0, "the writer left and the input was not lost");
        fuzz_assert(!s.level, "a press survived losing the device");
        button_input_free(b);
        sd_event_unref(e);
        return 0;
}
