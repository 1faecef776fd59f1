/* SPDX-License-Identifier: MIT */
#pragma once

/* The a{sv} dictionaries of the control interface (a request, a device, the status) read into
 * a small table, so that printing code asks for a key and a type and unknown keys do no harm. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct CtlValue {
        char *key;
        char type; /* 's' (also 'o'), 't' (also 'u', 'q', 'y'), 'b', 'a' (as) */
        union {
                char *str;
                uint64_t u;
                bool b;
                char **strv;
        };
        char sig; /* the D-Bus signature character of the variant */
} CtlValue;

typedef struct CtlDict {
        CtlValue *values;
        size_t n;
} CtlDict;

/* Reads the a{sv} at the current position of m. Values of other types are skipped. */
int ctl_dict_read(sd_bus_message *m, CtlDict *ret);
/* Reads an aa{sv}: *ret an array of *ret_n dictionaries. */
int ctl_dict_read_array(sd_bus_message *m, CtlDict **ret, size_t *ret_n);

void ctl_dict_clear(CtlDict *d);
void ctl_dict_array_free(CtlDict *a, size_t n);

const CtlValue *ctl_dict_find(const CtlDict *d, const char *key);
/* NULL when absent or not a string. */
const char *ctl_dict_str(const CtlDict *d, const char *key);
/* Whether key is present as a number; its value in *ret. */
bool ctl_dict_uint(const CtlDict *d, const char *key, uint64_t *ret);
/* def when absent or not a boolean. */
bool ctl_dict_bool(const CtlDict *d, const char *key, bool def);
/* NULL when absent or not a string array. */
char **ctl_dict_strv(const CtlDict *d, const char *key);
