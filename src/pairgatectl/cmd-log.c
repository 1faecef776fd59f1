/* SPDX-License-Identifier: MIT */
/* log: pairgate's audit records from the journal (sd-journal), one line per decision or event.
 * The records are the ones core/audit.c writes: PAIRGATE_* fields, a MESSAGE_ID per kind and
 * SYSLOG_IDENTIFIER=pairgated. Only entries with PAIRGATE_EVENT are records (pairgated's plain
 * log lines share its identifier), and by default only those journald attributes to
 * pairgate.service (_SYSTEMD_UNIT, which no other program can set), so another program cannot
 * pass its entries off as pairgate's. */
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "commands.h"
#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-format.h"
#include "json-writer.h"
#include "macro.h"
#include "since.h"
#include "text-escape.h"

#define DEFAULT_UNIT "pairgate.service"

/* The fields a line shows, copied out of the entry (bounded: longer values are cut). The name
 * holds the raw bytes the device sent (the daemon's \xNN escaping undone), name_len of them. */
typedef struct LogRecord {
        char event[32], decision[16], address[24], method[48], model[48], policy[48], request[24],
                uid[16], reason[256], message[512];
        char name[512];
        size_t name_len;
        bool has_name;
} LogRecord;

static const struct {
        const char *field;
        size_t offset, size;
} record_fields[] = {
#define F(name, member) \
        { name, offsetof(LogRecord, member), sizeof(((LogRecord *) 0)->member) }
        F("PAIRGATE_EVENT", event),        F("PAIRGATE_DECISION", decision),
        F("PAIRGATE_ADDRESS", address),    F("PAIRGATE_METHOD", method),
        F("PAIRGATE_MODEL", model),        F("PAIRGATE_POLICY", policy),
        F("PAIRGATE_REQUEST_ID", request), F("PAIRGATE_CONTROL_UID", uid),
        F("PAIRGATE_REASON", reason),      F("MESSAGE", message),
#undef F
};

static void copy_value(char *dst, size_t size, const char *v, size_t len) {
        if (len >= size)
                len = size - 1;
        memcpy(dst, v, len);
        dst[len] = '\0';
}

static void read_record(sd_journal *j, LogRecord *rec) {
        const void *data;
        size_t len;

        *rec = (LogRecord){ 0 };
        SD_JOURNAL_FOREACH_DATA(j, data, len) {
                const char *d = data, *eq = memchr(d, '=', len);
                size_t klen, vlen;

                if (!eq)
                        continue;
                klen = (size_t) (eq - d);
                vlen = len - klen - 1;
                if (klen == strlen("PAIRGATE_NAME") && memcmp(d, "PAIRGATE_NAME", klen) == 0) {
                        char raw[sizeof rec->name];
                        copy_value(raw, sizeof raw, eq + 1, vlen);
                        rec->name_len = text_unescape_hex(rec->name, raw, strlen(raw));
                        rec->has_name = true;
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(record_fields); i++)
                        if (strlen(record_fields[i].field) == klen &&
                            memcmp(record_fields[i].field, d, klen) == 0)
                                copy_value((char *) rec + record_fields[i].offset,
                                           record_fields[i].size, eq + 1, vlen);
        }
}

static void print_line(const LogRecord *r, uint64_t usec) {
        char t[32];

        ctl_format_time(usec, t);
        printf("%s ", t);
        if (*r->decision) {
                /* time, address, name, method, model, decision, reason, policy */
                ctl_print_escaped(stdout, r->address);
                fputc(' ', stdout);
                if (r->has_name) {
                        fputc('"', stdout);
                        if (r->name_len > 0)
                                ctl_print_escaped_len(stdout, r->name, r->name_len);
                        fputc('"', stdout);
                } else
                        fputs("(no name)", stdout);
                fputc(' ', stdout);
                ctl_print_escaped(stdout, r->method);
                fputc(' ', stdout);
                ctl_print_escaped(stdout, r->model);
                fputc(' ', stdout);
                ctl_print_escaped(stdout, r->decision);
                if (*r->reason) {
                        printf(" (");
                        ctl_print_escaped(stdout, r->reason);
                        printf(")");
                }
                printf(" by ");
                ctl_print_escaped(stdout, r->policy);
        } else {
                ctl_print_escaped(stdout, r->event);
                if (*r->address) {
                        fputc(' ', stdout);
                        ctl_print_escaped(stdout, r->address);
                }
                if (*r->message && !streq(r->message, r->event)) {
                        printf(": ");
                        ctl_print_escaped(stdout, r->message);
                }
        }
        if (*r->uid) {
                printf(" [uid ");
                ctl_print_escaped(stdout, r->uid);
                printf("]");
        }
        if (*r->request) {
                printf(" [request ");
                ctl_print_escaped(stdout, r->request);
                printf("]");
        }
        fputc('\n', stdout);
}

/* Every PAIRGATE_* field as a lower-case key ("PAIRGATE_REQUEST_ID" -> "request_id"). */
static void print_json(JsonWriter *w, sd_journal *j, const LogRecord *r, uint64_t usec) {
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
                if (streq(key, "name"))
                        json_string_len(w, r->name, r->name_len);
                else
                        json_string_len(w, eq + 1, len - klen - 10);
        }
        if (*r->message) {
                json_key(w, "message");
                json_string(w, r->message);
        }
        json_end_object(w);
}

static int open_journal(sd_journal **ret, const char *directory, const char *file) {
        int r;

        if (directory)
                r = sd_journal_open_directory(ret, directory, 0);
        else if (file)
                r = sd_journal_open_files(ret, (const char *[]){ file, NULL }, 0);
        else
                r = sd_journal_open(ret, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                ctl_print_error("cannot open the journal%s%s: %s",
                                directory ? " in "
                                : file    ? " file "
                                          : "",
                                directory ? directory
                                : file    ? file
                                          : "",
                                strerror(-r));
        return r;
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
        char match[256];
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
        if (strlen(unit) > 200) {
                ctl_print_error("log: --unit: a unit name is at most 200 characters");
                return CTL_EXIT_USAGE;
        }
        if (open_journal(&j, directory, file) < 0)
                return CTL_EXIT_FAILURE;
        r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=pairgated", 0);
        if (r >= 0 && *unit && !streq(unit, "*")) {
                snprintf(match, sizeof match, "_SYSTEMD_UNIT=%s", unit);
                r = sd_journal_add_match(j, match, 0);
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
                LogRecord rec;
                uint64_t usec;

                if (sd_journal_get_realtime_usec(j, &usec) < 0 || usec < since_usec)
                        continue;
                read_record(j, &rec);
                if (!*rec.event)
                        continue;
                if (json)
                        print_json(&w, j, &rec, usec);
                else
                        print_line(&rec, usec);
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
        if (shown == 0 && !directory && !file && sd_journal_has_runtime_files(j) <= 0 &&
            sd_journal_has_persistent_files(j) <= 0) {
                if (geteuid() == 0)
                        ctl_print_error("log: no journal files (is systemd-journald running?)");
                else
                        ctl_print_error("log: no journal file is readable: the system journal "
                                        "needs root or membership of the groups adm or "
                                        "systemd-journal");
                return CTL_EXIT_FAILURE;
        }
        if (!json && shown == 0)
                printf("No pairgate records%s.\n", since ? " in that time" : "");
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
