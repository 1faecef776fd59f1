/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* asprintf */
/* log: pairgate's audit records from the journal (sd-journal), one line per decision or event.
 * The records are the ones core/audit.c writes: PAIRGATE_* fields, a MESSAGE_ID per kind and
 * SYSLOG_IDENTIFIER=pairgated; by default only those of pairgate.service (_SYSTEMD_UNIT, set by
 * journald itself) are shown, so another program cannot pass its entries off as pairgate's. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "commands.h"
#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "json-writer.h"
#include "macro.h"
#include "since.h"
#include "text-escape.h"

#define DEFAULT_UNIT "pairgate.service"

/* The value of field (without "FIELD="): a new NUL-terminated string, NULL when absent. */
static char *field(sd_journal *j, const char *name, size_t *ret_len) {
        const void *data;
        size_t len, n = strlen(name);
        char *v;

        if (sd_journal_get_data(j, name, &data, &len) < 0 || len <= n ||
            ((const char *) data)[n] != '=')
                return NULL;
        len -= n + 1;
        v = malloc(len + 1);
        if (!v)
                return NULL;
        memcpy(v, (const char *) data + n + 1, len);
        v[len] = '\0';
        if (ret_len)
                *ret_len = len;
        return v;
}

/* PAIRGATE_NAME as the device sent it (the daemon wrote it escaped and bounded). */
static char *name_field(sd_journal *j, size_t *ret_len) {
        size_t len;
        _cleanup_free_ char *raw = field(j, "PAIRGATE_NAME", &len);

        return raw ? text_unescape_hex(raw, len, ret_len) : NULL;
}

static void print_field(sd_journal *j, const char *name) {
        _cleanup_free_ char *v = field(j, name, NULL);

        ctl_print_escaped(stdout, v);
}

static void print_line(sd_journal *j, uint64_t usec) {
        _cleanup_free_ char *event = field(j, "PAIRGATE_EVENT", NULL);
        _cleanup_free_ char *decision = field(j, "PAIRGATE_DECISION", NULL);
        _cleanup_free_ char *address = field(j, "PAIRGATE_ADDRESS", NULL);
        _cleanup_free_ char *reason = field(j, "PAIRGATE_REASON", NULL);
        _cleanup_free_ char *policy = field(j, "PAIRGATE_POLICY", NULL);
        _cleanup_free_ char *request = field(j, "PAIRGATE_REQUEST_ID", NULL);
        _cleanup_free_ char *uid = field(j, "PAIRGATE_CONTROL_UID", NULL);
        _cleanup_free_ char *name = NULL;
        size_t name_len = 0;
        char t[32];

        ctl_format_time(usec, t);
        printf("%s ", t);
        if (decision) {
                /* time, address, name, method, model, decision, reason, policy */
                ctl_print_escaped(stdout, address);
                fputc(' ', stdout);
                name = name_field(j, &name_len);
                if (name) {
                        _cleanup_free_ char *e = text_escape(name, name_len, ctl_format_utf8());
                        printf("\"%s\"", e ? e : "?");
                } else
                        fputs("(no name)", stdout);
                fputc(' ', stdout);
                print_field(j, "PAIRGATE_METHOD");
                fputc(' ', stdout);
                print_field(j, "PAIRGATE_MODEL");
                fputc(' ', stdout);
                ctl_print_escaped(stdout, decision);
                if (reason) {
                        printf(" (");
                        ctl_print_escaped(stdout, reason);
                        printf(")");
                }
                printf(" by ");
                ctl_print_escaped(stdout, policy);
        } else {
                _cleanup_free_ char *msg = field(j, "MESSAGE", NULL);
                ctl_print_escaped(stdout, event);
                if (address) {
                        fputc(' ', stdout);
                        ctl_print_escaped(stdout, address);
                }
                if (msg && !streq(msg, event)) {
                        printf(": ");
                        ctl_print_escaped(stdout, msg);
                }
        }
        if (uid) {
                printf(" [uid ");
                ctl_print_escaped(stdout, uid);
                printf("]");
        }
        if (request) {
                printf(" [request ");
                ctl_print_escaped(stdout, request);
                printf("]");
        }
        fputc('\n', stdout);
}

/* Every PAIRGATE_* field as a lower-case key ("PAIRGATE_REQUEST_ID" -> "request_id"). */
static void print_json(JsonWriter *w, sd_journal *j, uint64_t usec) {
        const void *data;
        size_t len;
        char t[40];

        json_begin_object(w);
        ctl_format_time_iso(usec, t);
        json_key(w, "time");
        json_string(w, t);
        json_key(w, "time_usec");
        json_uint(w, usec);
        SD_JOURNAL_FOREACH_DATA(j, data, len) {
                const char *d = data, *eq = memchr(d, '=', len);
                char key[64];
                size_t klen;

                if (!eq || len < 9 || strncmp(d, "PAIRGATE_", 9) != 0)
                        continue;
                klen = (size_t) (eq - d) - 9;
                if (klen == 0 || klen >= sizeof key)
                        continue;
                for (size_t i = 0; i < klen; i++)
                        key[i] = (char) tolower((unsigned char) d[9 + i]);
                key[klen] = '\0';
                json_key(w, key);
                if (streq(key, "name")) {
                        size_t n;
                        _cleanup_free_ char *raw = text_unescape_hex(eq + 1, len - klen - 10, &n);
                        json_string_len(w, raw ? raw : "", raw ? n : 0);
                } else
                        json_string_len(w, eq + 1, len - klen - 10);
        }
        {
                _cleanup_free_ char *msg = field(j, "MESSAGE", NULL);
                if (msg) {
                        json_key(w, "message");
                        json_string(w, msg);
                }
        }
        json_end_object(w);
}

int cmd_log(int argc, char *argv[]) {
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        const char *since = NULL, *directory = NULL, *file = NULL, *unit = DEFAULT_UNIT;
        bool json = false;
        const CtlOption opts[] = {
                { "--json", false, &json, NULL },          { "--since", true, NULL, &since },
                { "--directory", true, NULL, &directory }, { "--file", true, NULL, &file },
                { "--unit", true, NULL, &unit },           { 0 }
        };
        uint64_t since_usec = 0;
        size_t npos, shown = 0;
        JsonWriter w;
        int r;

        if (ctl_parse_options("log", argc, argv, opts, NULL, 0, 0, &npos) < 0)
                return CTL_EXIT_USAGE;
        if (since && since_parse(since, ctl_now_realtime(), &since_usec) < 0) {
                ctl_print_error("log: cannot understand --since '%s' (try '2026-11-27 10:00', "
                                "'1h', '30min' or 'today')",
                                since);
                return CTL_EXIT_USAGE;
        }
        if (directory && file) {
                ctl_print_error("log: give --directory or --file, not both");
                return CTL_EXIT_USAGE;
        }
        if (directory)
                r = sd_journal_open_directory(&j, directory, 0);
        else if (file)
                r = sd_journal_open_files(&j, (const char *[]){ file, NULL }, 0);
        else
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0) {
                ctl_print_error("cannot open the journal%s%s: %s",
                                directory ? " in "
                                : file    ? " file "
                                          : "",
                                directory ? directory
                                : file    ? file
                                          : "",
                                strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=pairgated", 0);
        if (r >= 0 && *unit && !streq(unit, "*")) {
                _cleanup_free_ char *m = NULL;
                if (asprintf(&m, "_SYSTEMD_UNIT=%s", unit) < 0)
                        r = -ENOMEM;
                else
                        r = sd_journal_add_match(j, m, 0);
        }
        if (r >= 0)
                r = since_usec ? sd_journal_seek_realtime_usec(j, since_usec)
                               : sd_journal_seek_head(j);
        if (r < 0) {
                ctl_print_error("cannot read the journal: %s", strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        if (json) {
                json_init(&w, stdout, false);
                json_begin_array(&w);
        }
        while ((r = sd_journal_next(j)) > 0) {
                const void *data;
                size_t len;
                uint64_t usec;

                /* pairgated's plain log lines share its identifier: only audit records carry
                 * PAIRGATE_EVENT. */
                if (sd_journal_get_data(j, "PAIRGATE_EVENT", &data, &len) < 0)
                        continue;
                if (sd_journal_get_realtime_usec(j, &usec) < 0 || usec < since_usec)
                        continue;
                if (json)
                        print_json(&w, j, usec);
                else
                        print_line(j, usec);
                shown++;
        }
        if (json) {
                json_end_array(&w);
                json_finish(&w);
        }
        if (r < 0) {
                ctl_print_error("cannot read the journal: %s", strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        if (!json && shown == 0)
                printf("No pairgate records%s.\n", since ? " in that time" : "");
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
