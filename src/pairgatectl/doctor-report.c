/* SPDX-License-Identifier: MIT */
/* The findings of `pairgatectl doctor` and their two renderings (text for people, JSON). */
#include "doctor-report.h"

#include <errno.h>
#include <glib.h>

#include "json-writer.h"
#include "macro.h"
#include "string-table.h"

struct Report {
        GPtrArray *findings; /* Finding* */
};

static const char *const severity_table[_SEVERITY_MAX] = {
        [SEVERITY_OK] = "ok",
        [SEVERITY_INFO] = "info",
        [SEVERITY_WARNING] = "warning",
        [SEVERITY_CRITICAL] = "critical",
};

const char *severity_to_string(Severity s) {
        return string_table_to_string(severity_table, _SEVERITY_MAX, s);
}

static void finding_free(gpointer p) {
        Finding *f = p;

        g_free(f->check);
        g_free(f->found);
        g_free(f->todo);
        g_free(f);
}

Report *report_new(void) {
        Report *r = g_new0(Report, 1);

        r->findings = g_ptr_array_new_with_free_func(finding_free);
        return r;
}

Report *report_free(Report *r) {
        if (!r)
                return NULL;
        g_ptr_array_unref(r->findings);
        g_free(r);
        return NULL;
}

void report_add(Report *r, const char *check, Severity s, char *found, char *todo) {
        Finding *f = g_new0(Finding, 1);

        f->check = g_strdup(check);
        f->severity = s;
        f->found = found ? found : g_strdup("");
        f->todo = todo ? todo : g_strdup("");
        g_ptr_array_add(r->findings, f);
}

unsigned report_count(const Report *r) {
        return r->findings->len;
}

const Finding *report_get(const Report *r, unsigned i) {
        return i < r->findings->len ? g_ptr_array_index(r->findings, i) : NULL;
}

const Finding *report_find(const Report *r, const char *check) {
        for (guint i = 0; i < r->findings->len; i++) {
                const Finding *f = g_ptr_array_index(r->findings, i);

                if (streq(f->check, check))
                        return f;
        }
        return NULL;
}

Severity report_worst(const Report *r) {
        Severity worst = SEVERITY_OK;

        for (guint i = 0; i < r->findings->len; i++) {
                const Finding *f = g_ptr_array_index(r->findings, i);

                if (f->severity > worst)
                        worst = f->severity;
        }
        return worst;
}

int report_exit_status(const Report *r) {
        switch (report_worst(r)) {
        case SEVERITY_CRITICAL:
                return 2;
        case SEVERITY_WARNING:
                return 1;
        default:
                return 0;
        }
}

static void count_by_severity(const Report *r, unsigned counts[_SEVERITY_MAX]) {
        for (int s = 0; s < _SEVERITY_MAX; s++)
                counts[s] = 0;
        for (guint i = 0; i < r->findings->len; i++) {
                const Finding *f = g_ptr_array_index(r->findings, i);

                counts[f->severity]++;
        }
}

int report_print_text(const Report *r, FILE *f, bool color) {
        static const char *const colors[_SEVERITY_MAX] = {
                [SEVERITY_OK] = "\033[32m",
                [SEVERITY_INFO] = "\033[36m",
                [SEVERITY_WARNING] = "\033[33m",
                [SEVERITY_CRITICAL] = "\033[1;31m",
        };
        unsigned counts[_SEVERITY_MAX];

        for (guint i = 0; i < r->findings->len; i++) {
                const Finding *x = g_ptr_array_index(r->findings, i);

                fprintf(f, "%s%-8s%s %s: %s\n", color ? colors[x->severity] : "",
                        severity_to_string(x->severity), color ? "\033[0m" : "", x->check,
                        x->found);
                if (x->todo[0])
                        fprintf(f, "         -> %s\n", x->todo);
        }
        count_by_severity(r, counts);
        fprintf(f, "\n%u checks: %u ok, %u info, %u warning, %u critical. %s\n", r->findings->len,
                counts[SEVERITY_OK], counts[SEVERITY_INFO], counts[SEVERITY_WARNING],
                counts[SEVERITY_CRITICAL],
                counts[SEVERITY_CRITICAL]  ? "pairgate cannot do its job as set up: fix the "
                                             "critical findings first."
                : counts[SEVERITY_WARNING] ? "pairgate works, but see the warnings."
                                           : "Nothing around pairgate undoes it.");
        return ferror(f) ? -EIO : 0;
}

int report_print_json(const Report *r, FILE *f) {
        unsigned counts[_SEVERITY_MAX];
        JsonWriter w;

        json_init(&w, f, false);
        json_begin_object(&w);
        json_key(&w, "checks");
        json_begin_array(&w);
        for (guint i = 0; i < r->findings->len; i++) {
                const Finding *x = g_ptr_array_index(r->findings, i);

                json_begin_object(&w);
                json_key(&w, "check");
                json_string(&w, x->check);
                json_key(&w, "severity");
                json_string(&w, severity_to_string(x->severity));
                json_key(&w, "found");
                json_string(&w, x->found);
                json_key(&w, "todo");
                json_string(&w, x->todo);
                json_end_object(&w);
        }
        json_end_array(&w);
        count_by_severity(r, counts);
        json_key(&w, "summary");
        json_begin_object(&w);
        for (int s = 0; s < _SEVERITY_MAX; s++) {
                json_key(&w, severity_to_string(s));
                json_uint(&w, counts[s]);
        }
        json_key(&w, "worst");
        json_string(&w, severity_to_string(report_worst(r)));
        json_key(&w, "exit_status");
        json_int(&w, report_exit_status(r));
        json_end_object(&w);
        json_end_object(&w);
        json_finish(&w);
        return ferror(f) ? -EIO : 0;
}
