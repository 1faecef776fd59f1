/* SPDX-License-Identifier: MIT */
#pragma once

/* The keypad policy (src/policies/keypad.c): digits typed on a Linux input device answer the
 * oldest RequestPasskey or RequestPinCode waiting for them. These hooks let unit tests drive an
 * instance without hardware; p must come from keypad_policy_ops.init() with an event loop. */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

extern const PolicyOps keypad_policy_ops;

/* A key press, as if read from the input device at `usec` (CLOCK_MONOTONIC). */
void keypad_policy_inject(Policy *p, unsigned code, uint64_t usec);
unsigned keypad_policy_pending(Policy *p);
/* The instance took the device (and older instances' requests) over: one loop iteration after
 * init. */
bool keypad_policy_is_active(Policy *p);
bool keypad_policy_input_is_open(Policy *p);
