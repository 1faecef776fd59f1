/* SPDX-License-Identifier: MIT */
#pragma once

/* The button policy (src/policies/button.c): a physical button approves (short press) or refuses
 * (long press) the oldest request waiting for it, or opens a pairing window when none waits.
 * These hooks let unit tests drive an instance without hardware; p must come from
 * button_policy_ops.init() with an event loop. */

#include <stdbool.h>
#include <stdint.h>

#include "button-config.h"
#include "policy.h"

extern const PolicyOps button_policy_ops;

/* A raw edge, as if read from the input device at `usec` (CLOCK_MONOTONIC), debounced. */
void button_policy_inject(Policy *p, bool pressed, uint64_t usec);
bool button_policy_window_is_open(Policy *p);
unsigned button_policy_pending(Policy *p);
/* The instance took over the hardware (one event-loop iteration after init). */
bool button_policy_is_active(Policy *p);
bool button_policy_input_is_open(Policy *p);
