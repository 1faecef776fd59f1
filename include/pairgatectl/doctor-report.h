/* SPDX-License-Identifier: MIT */
#pragma once

/* The findings of `pairgatectl doctor`: one per check (or per thing a check found), each with a
 * severity, one line of what was found and one line of what to do; printed as text or JSON. */

#include <stdbool.h>
#include <stdio.h>

typedef enum Severity {
        SEVERITY_OK,
        SEVERITY_INFO,
        SEVERITY_WARNING,
        SEVERITY_CRITICAL,
        _SEVERITY_MAX,
} Severity;

typedef struct Finding {
        char *check; /* stable id: "just-works-repairing", "adapter", ... */
        Severity severity;
        char *found; /* plain words; untrusted parts already escaped */
        char *todo;  /* plain words; "" when nothing is to be done */
} Finding;

typedef struct Report Report;

Report *report_new(void);
Report *report_free(Report *r);
static inline void report_freep(Report **r) {
        if (*r)
                report_free(*r);
}

/* found and todo are printf formats' results taken over (owned; NULL todo means ""). */
void report_add(Report *r, const char *check, Severity s, char *found, char *todo);

unsigned report_count(const Report *r);
const Finding *report_get(const Report *r, unsigned i);
/* The first finding of that check, or NULL. */
const Finding *report_find(const Report *r, const char *check);
Severity report_worst(const Report *r);
/* 0 (ok/info), 1 (warning), 2 (critical). */
int report_exit_status(const Report *r);

const char *severity_to_string(Severity s);

/* Text: "[severity] check: found" / "    -> todo" lines, then a summary line. */
int report_print_text(const Report *r, FILE *f, bool color);
/* {"checks":[{"check":..,"severity":..,"found":..,"todo":..},...],
 *  "summary":{"ok":n,"info":n,"warning":n,"critical":n,"worst":"..","exit_status":n}} */
int report_print_json(const Report *r, FILE *f);
