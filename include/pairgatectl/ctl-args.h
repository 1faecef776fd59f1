/* SPDX-License-Identifier: MIT */
#pragma once

/* Checking pairgatectl's arguments before any call: request ids, passkeys, PINs, addresses and
 * window durations. Each returns 0 or -EINVAL; the caller prints the one-line error. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request id: decimal digits only, 1..2^64-1. */
int ctl_parse_request_id(const char *s, uint64_t *ret);
/* A passkey as typed: exactly six ASCII digits, leading zeros allowed (000000..999999). */
int ctl_parse_passkey(const char *s, uint32_t *ret);
/* A PIN for RequestPinCode: 1..16 printable ASCII characters (no space). */
int ctl_check_pin(const char *s);
/* A Bluetooth address: six pairs of hex digits separated by ':' (any case). ret: 18 bytes, the
 * address in upper case. */
int ctl_parse_address(const char *s, char ret[static 18]);
/* Seconds for `window open`: decimal digits, 1..86400 (one day). */
int ctl_parse_window_seconds(const char *s, uint32_t *ret);

/* A subcommand's options: flags (value == NULL) and options with a value ("--since TIME" or
 * "--since=TIME"). */
typedef struct CtlOption {
        const char *name; /* "--json" */
        bool has_value;
        bool *flag;         /* set when present (flags) */
        const char **value; /* set to the value (options with a value) */
} CtlOption;

/* Splits argv[0..argc) (after the subcommand) into options and at most max_pos positional
 * arguments ("--" ends the options). On a usage error, prints the one-line error for `cmd` and
 * returns -EINVAL. */
int ctl_parse_options(const char *cmd, int argc, char *argv[], const CtlOption *opts,
                      const char **pos, size_t min_pos, size_t max_pos, size_t *ret_n_pos);
