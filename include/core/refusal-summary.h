/* SPDX-License-Identifier: MIT */
#pragma once

/* Requests refused at once by a limit (a device locked out, the prompt budget spent) are audited
 * in summaries instead of one record each, so that a flood writes a bounded number of records and
 * journald's rate limit drops none:
 * - AUDIT_LOCKOUT_REFUSALS: one record per locked-out device per period, with the count, the
 *   first and last time and the end of the lockout;
 * - AUDIT_BUDGET_REFUSALS: the budget's refusals of the period, up to
 *   REFUSAL_SUMMARY_ADDRESSES_PER_RECORD devices per record ("ADDRESS*COUNT ..."), with the
 *   count, first and last time. At most LIMITS_MAX_DEVICES addresses are listed per period; the
 *   refusals of any more are counted (PAIRGATE_UNLISTED).
 * The owner flushes every minute (and at exit); times are realtime µs. */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define REFUSAL_SUMMARY_ADDRESSES_PER_RECORD 32

typedef struct RefusalSummary RefusalSummary;

RefusalSummary *refusal_summary_new(void);
/* Frees without writing anything (flush first). */
RefusalSummary *refusal_summary_free(RefusalSummary *s);
/* q was refused at once: its device is locked out until `until`. */
void refusal_summary_add_locked_out(RefusalSummary *s, const PairingQuery *q, uint64_t until,
                                    uint64_t now);
/* q was refused at once: the prompt budget is spent. */
void refusal_summary_add_budget(RefusalSummary *s, const PairingQuery *q, uint64_t now);
bool refusal_summary_is_empty(const RefusalSummary *s);
/* Write the records of what was added since the last flush, and start over. Returns the number
 * of records written. */
unsigned refusal_summary_flush(RefusalSummary *s);
