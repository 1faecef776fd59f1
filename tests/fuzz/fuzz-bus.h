/* SPDX-License-Identifier: MIT */
#pragma once

/* A private D-Bus connection for fuzz targets, without a bus daemon: a socket pair with
 * pairgated's side (`daemon`, attached to an sd-event loop, as in daemon.c) and the other side
 * (`peer`) playing bluetoothd and the bus driver. Messages from the peer carry the sender the
 * target chooses (sd_bus_message_set_sender), so the daemon's sender checks run as on the system
 * bus. The peer answers GetNameOwner("org.bluez") with FUZZ_BLUEZ_OWNER, passes every other call
 * it receives to a handler, and counts the replies to its own calls. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "fuzz-input.h"

#define FUZZ_BLUEZ_OWNER ":1.1"
#define FUZZ_STRANGER    ":1.99"

typedef struct FuzzBus FuzzBus;
/* A method call the daemon made to the peer; return 1 when answered, 0 to get an empty reply. */
typedef int (*fuzz_bus_call_t)(FuzzBus *b, sd_bus_message *call, void *userdata);
/* The daemon's reply (or error) to a call the peer made; cookie: the call's, from
 * fuzz_bus_send(). */
typedef void (*fuzz_bus_reply_t)(sd_bus_message *reply, uint64_t cookie, void *userdata);

struct FuzzBus {
        sd_event *event;
        sd_bus *daemon;
        sd_bus *peer;
        fuzz_bus_call_t on_call;
        fuzz_bus_reply_t on_reply;
        void *userdata;
        unsigned calls_sent, replies; /* peer -> daemon calls, and their replies seen */
};

int fuzz_bus_new(FuzzBus **ret, fuzz_bus_call_t on_call, fuzz_bus_reply_t on_reply, void *userdata);
FuzzBus *fuzz_bus_free(FuzzBus *b);
/* Run both sides until neither has anything left to do now (timers in the future wait). */
void fuzz_bus_settle(FuzzBus *b);
/* raw made a string D-Bus carries: valid UTF-8 without the noncharacters sd-bus (and libdbus)
 * refuse (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF become U+FFFD). g_free() it. */
char *fuzz_bus_text(const char *raw);
/* A string from the input (fuzz_string()) made one D-Bus carries (fuzz_bus_text()). g_free() it. */
char *fuzz_bus_string(FuzzInput *in);
/* A device object path from the input: one of fixed[0..n), or (as often as each of them) one
 * under /org/bluez/hci0/dev_ of an arbitrary string, its characters outside [A-Za-z0-9_] made
 * '_'. g_free() it. */
char *fuzz_bus_device_path(FuzzInput *in, const char *const *fixed, size_t n);
/* Send m (built on b->peer) from `sender`; method calls expect a reply (counted). Returns the
 * message's cookie (>0) or <0. */
int64_t fuzz_bus_send(FuzzBus *b, sd_bus_message *m, const char *sender);
