/* SPDX-License-Identifier: MIT */
#pragma once

/* Times as a user types them for `pairgatectl log --since`: "2026-11-27 10:00",
 * "2026-11-27T10:00:30", "2026-11-27", "10:00" (today), "today", "yesterday", "now",
 * "1h", "30min", "2d", "1h 30min", "-1h", "1h ago", "@1795766400" (seconds since the epoch).
 * Calendar times are local time (TZ). */

#include <stdint.h>

/* now: CLOCK_REALTIME in µs. *ret: µs since the epoch. -EINVAL when s is not understood. */
int since_parse(const char *s, uint64_t now, uint64_t *ret);
