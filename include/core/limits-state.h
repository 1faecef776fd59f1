/* SPDX-License-Identifier: MIT */
#pragma once

/* The lockout state file: what abuse-limits.c must keep across a restart of pairgated (lockouts in
 * force and lockouts in a row), in the unit's StateDirectory. Written atomically (a temporary
 * file in the same directory, fsync, rename); read strictly: a file that is not exactly what
 * this module writes is refused as a whole, and the caller goes on without it. */

#include <stdint.h>

#include "abuse-limits.h"

/* The file name inside the state directory. */
#define LIMITS_STATE_FILE "lockouts"

/* Write every entry of l (limits_foreach) to path. Returns 0 or -errno. */
int limits_state_save(const Limits *l, const char *path);
/* Read path into l (limits_restore; now: realtime µs). Returns 0, -ENOENT when the file does not
 * exist, -EBADMSG with *ret_error ("path:line: why") when it is corrupt (l is then unchanged), or
 * another -errno. */
int limits_state_load(Limits *l, const char *path, uint64_t now, char **ret_error);
