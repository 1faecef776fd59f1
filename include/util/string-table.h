/* SPDX-License-Identifier: MIT */
#pragma once

/* Enum <-> string tables: `static const char *const t[N] = { [X] = "x", ... }`. */

#include "macro.h"

static inline const char *string_table_to_string(const char *const *table, int n, int i) {
        return i >= 0 && i < n ? table[i] : NULL;
}

/* Exact, case-sensitive match; -1 when absent. */
static inline int string_table_lookup(const char *const *table, int n, const char *s) {
        if (!s)
                return -1;
        for (int i = 0; i < n; i++)
                if (streq(table[i], s))
                        return i;
        return -1;
}
