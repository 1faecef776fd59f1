/* SPDX-License-Identifier: MIT */
#pragma once

/* Printing what the control interface returns: times, durations, untrusted names (escaped), and
 * one request as a line or as a JSON object (shared by `pending` and `watch`). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl-dict.h"
#include "json-writer.h"

/* Decides once whether escaped text may keep printable UTF-8 (the locale's codeset). */
void ctl_format_init(void);
bool ctl_format_utf8(void);

/* CLOCK_REALTIME now, in µs. */
uint64_t ctl_now_realtime(void);

/* "2026-11-27 10:01:02" in local time; "-" for 0. */
void ctl_format_time(uint64_t realtime_usec, char buf[static 32]);
/* ISO 8601 with the UTC offset: "2026-11-27T10:01:02+01:00". */
void ctl_format_time_iso(uint64_t realtime_usec, char buf[static 40]);
/* "1h 2m", "2m 5s", "42s" (rounded down to seconds). */
void ctl_format_span(uint64_t usec, char buf[static 32]);

/* Writes s escaped (text_escape) between double quotes; "(no name)" for NULL. */
void ctl_print_name(FILE *f, const char *s);
/* Writes s escaped, without quotes; "-" for NULL or "". */
void ctl_print_escaped(FILE *f, const char *s);
/* The same for len bytes that may hold NUL; "-" for len 0. */
void ctl_print_escaped_len(FILE *f, const char *s, size_t len);

/* One request (a dictionary of ListRequests / RequestStarted) on one line, without newline:
 * "7 RequestConfirmation AA:BB:CC:DD:EE:FF "name" passkey 123456 numeric-comparison, held by
 * button, 12s ago, times out in 13s". */
void ctl_print_request(FILE *f, const CtlDict *req, uint64_t now);
/* The same as a JSON object: id, method, address, address_type, name, passkey (six digits as a
 * string), uuid, model, device, adapter, arrived, arrived_usec, timeout, timeout_usec,
 * age_seconds, held_by, needs. Absent keys are omitted. */
void ctl_json_request(JsonWriter *w, const CtlDict *req, uint64_t now);
