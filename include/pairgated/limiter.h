/* SPDX-License-Identifier: MIT */
#pragma once

/* The limits (limits = { ... }) at run time, around the pure logic of core/abuse-limits.c: the
 * checks the agent makes before and during a request, the timers that end lockouts and write the
 * summaries (core/refusal-summary.c) every minute, the audit records of lockouts, the state file
 * in the StateDirectory (core/limits-state.c), and Blocked in BlueZ (limits.block).
 *
 * For the control interface: limiter_locked_until(), limiter_foreach_locked(), limiter_lift()
 * and limiter_forget(). Addresses are "AA:BB:CC:DD:EE:FF" in any case. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bluez-owner.h"
#include "abuse-limits.h"
#include "policy.h"
#include "request.h"

typedef struct Limiter Limiter;

/* state_path: the state file (NULL: lockouts are not kept across restarts). The file is read
 * when lockouts are first enabled (limiter_configure). */
int limiter_new(Limiter **ret, sd_event *event, sd_bus *bus, BluezOwner *owner,
                const char *state_path);
/* Writes the pending summaries first. */
Limiter *limiter_free(Limiter *l);
/* The configuration's limits (at start and on every reload). Turning lockouts off
 * (lockout_time = 0, or no limits section) ends the lockouts in force. */
void limiter_configure(Limiter *l, const LimitsSettings *s);

/* Before any policy runs: true when q's device is locked out. The caller refuses the request at
 * once and writes no record of its own: it is counted in the per-minute summary. */
bool limiter_refuse_locked_out(Limiter *l, const PairingQuery *q);
/* The prompt budget (a ChainGate): true when q may reach a person; false when the budget is
 * spent (counted in the per-minute summary). */
bool limiter_take_prompt(Limiter *l, const PairingQuery *q);
/* A request of a device that is not exempt ended with result (not refused by a limit): deny and
 * timeout count towards a lockout, allow forgets the device's refusals. */
void limiter_note_result(Limiter *l, const PairingQuery *q, RequestResult result);

/* When address's lockout ends (realtime µs since the epoch), 0 when not locked out. */
uint64_t limiter_locked_until(Limiter *l, const char *address);
typedef void (*limiter_each_t)(const char *address, uint64_t until, void *userdata);
/* Every lockout in force. */
void limiter_foreach_locked(Limiter *l, limiter_each_t cb, void *userdata);
/* End address's lockout now, audited with `by` (e.g. "uid 0"). -ENOENT: not locked out. */
int limiter_lift(Limiter *l, const char *address, const char *by);
/* Forget address (its refusals, its lockout: audited as ended when it had one). */
void limiter_forget(Limiter *l, const char *address, const char *by);
/* Write the pending summaries now. */
void limiter_flush(Limiter *l);
