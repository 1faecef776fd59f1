/* SPDX-License-Identifier: MIT */
#pragma once

/* What pairgate decided about each device since it started, by address: the last decision, its
 * time and method, and the refusals (deny + timeout). Kept in memory only (a restart forgets it);
 * the control interface lists it and ForgetDevice drops an entry. */

#include <stdbool.h>
#include <stdint.h>

#include "agent-types.h"
#include "request.h"

typedef struct DeviceHistoryEntry {
        char address[18]; /* "AA:BB:CC:DD:EE:FF" (as the request carried it, upper case) */
        RequestResult last_result;
        AgentMethod last_method;
        uint64_t last_realtime_usec; /* CLOCK_REALTIME µs of the last decision */
        unsigned decisions;
        unsigned allowed;
        unsigned refusals; /* deny + timeout */
} DeviceHistoryEntry;

typedef struct DeviceHistory DeviceHistory;

/* max_entries bounds the memory a flood of random addresses can take: the entry decided longest
 * ago is dropped first. */
DeviceHistory *device_history_new(unsigned max_entries);
DeviceHistory *device_history_free(DeviceHistory *h);
/* A decision about address (NULL or not an address: ignored). */
void device_history_note(DeviceHistory *h, const char *address, AgentMethod method,
                         RequestResult result, uint64_t realtime_usec);
/* NULL when pairgate decided nothing about the address (any case) since start. */
const DeviceHistoryEntry *device_history_get(const DeviceHistory *h, const char *address);
/* Drop the entry; false when there was none. */
bool device_history_forget(DeviceHistory *h, const char *address);
unsigned device_history_size(const DeviceHistory *h);
/* Every entry, in no particular order; cb must not change h. */
void device_history_foreach(const DeviceHistory *h,
                            void (*cb)(const DeviceHistoryEntry *e, void *userdata),
                            void *userdata);
