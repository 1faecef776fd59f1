/* SPDX-License-Identifier: MIT */
#pragma once

/* pairgatectl's side of the control interface (docs/control-interface.md): the system bus
 * connection, method calls on org.pairgate.Control1, and D-Bus errors turned into one plain
 * sentence for the user. */

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* What a call was about, for the error sentence ("no pending request 7 ..."). */
typedef struct CtlContext {
        uint64_t request_id; /* 0: not about a request */
        const char *address; /* not about a device when NULL */
} CtlContext;

/* Opens the system bus (sd_bus_open_system honours DBUS_SYSTEM_BUS_ADDRESS). On failure, prints
 * the one-line error and returns <0. */
int ctl_bus_open(sd_bus **ret);

/* Calls CONTROL_INTERFACE.member on pairgated with sd_bus_call_method's variadic arguments. On a
 * D-Bus error, prints the one-line error for ctx and returns <0; *ret_reply may be NULL. */
int ctl_call(sd_bus *bus, const CtlContext *ctx, sd_bus_message **ret_reply, const char *member,
             const char *types, ...);

/* Opens the bus, calls member (no arguments) and reads its aa{sv} answer into *ret (*ret_n
 * dictionaries; free with ctl_dict_array_free). Prints the one-line error and returns <0. */
typedef struct CtlDict CtlDict;
int ctl_call_list(const char *member, CtlDict **ret, size_t *ret_n);

/* The one sentence (without program name or newline) for a D-Bus error or errno r: a new
 * string. Exposed for doctor and for the tests. */
char *ctl_error_sentence(const sd_bus_error *e, int r, const CtlContext *ctx);

/* Prints "pairgatectl: <sentence>\n" to stderr, with the sentence escaped for the terminal. */
void ctl_print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
