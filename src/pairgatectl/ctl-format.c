/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <locale.h>
#include <string.h>
#include <time.h>

#include "ctl-format.h"
#include "macro.h"
#include "text-escape.h"

#define USEC_PER_SEC 1000000ULL

static bool utf8_ok;

void ctl_format_init(void) {
        (void) setlocale(LC_CTYPE, "");
        utf8_ok = text_locale_is_utf8();
}

bool ctl_format_utf8(void) {
        return utf8_ok;
}

uint64_t ctl_now_realtime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

void ctl_format_time(uint64_t usec, char buf[static 32]) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, 32, "-");
}

void ctl_format_time_iso(uint64_t usec, char buf[static 40]) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;
        char zone[8];
        size_t n;

        if (!localtime_r(&t, &tm) || strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
            strftime(zone, sizeof zone, "%z", &tm) != 5) {
                buf[0] = '\0';
                return;
        }
        /* +0100 -> +01:00 */
        n = strlen(buf);
        snprintf(buf + n, 40 - n, "%.3s:%.2s", zone, zone + 3);
}

void ctl_format_span(uint64_t usec, char buf[static 32]) {
        uint64_t s = usec / USEC_PER_SEC;

        if (s >= 3600)
                snprintf(buf, 32, "%" PRIu64 "h %" PRIu64 "m", s / 3600, s % 3600 / 60);
        else if (s >= 60)
                snprintf(buf, 32, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
        else
                snprintf(buf, 32, "%" PRIu64 "s", s);
}

void ctl_print_escaped_len(FILE *f, const char *s, size_t len) {
        _cleanup_free_ char *e = NULL;

        if (!s || len == 0) {
                fputc('-', f);
                return;
        }
        e = text_escape(s, len, utf8_ok);
        fputs(e ? e : "?", f);
}

void ctl_print_escaped(FILE *f, const char *s) {
        ctl_print_escaped_len(f, s, s ? strlen(s) : 0);
}

void ctl_print_name(FILE *f, const char *s) {
        if (!s) {
                fputs("(no name)", f);
                return;
        }
        fputc('"', f);
        if (*s)
                ctl_print_escaped(f, s);
        fputc('"', f);
}

void ctl_print_request(FILE *f, const CtlDict *req, uint64_t now) {
        const char *method = ctl_dict_str(req, "Method");
        const char *model = ctl_dict_str(req, "Model");
        const char *held = ctl_dict_str(req, "HeldBy");
        const char *uuid = ctl_dict_str(req, "Uuid");
        const char *needs = ctl_dict_str(req, "Needs");
        uint64_t id = 0, passkey, arrived, timeout;
        char span[32];

        (void) ctl_dict_uint(req, "Id", &id);
        fprintf(f, "%" PRIu64 " ", id);
        ctl_print_escaped(f, method);
        fputc(' ', f);
        ctl_print_escaped(f, ctl_dict_str(req, "Address"));
        fputc(' ', f);
        ctl_print_name(f, ctl_dict_str(req, "Name"));
        if (ctl_dict_uint(req, "Passkey", &passkey))
                fprintf(f, " passkey %06" PRIu64, passkey);
        if (uuid) {
                fputs(" service ", f);
                ctl_print_escaped(f, uuid);
        }
        if (model && *model) {
                fputc(' ', f);
                ctl_print_escaped(f, model);
        }
        if (streq(needs, "passkey"))
                fputs(", needs the passkey", f);
        else if (streq(needs, "pin"))
                fputs(", needs the PIN", f);
        if (held && *held) {
                fputs(", held by ", f);
                ctl_print_escaped(f, held);
        }
        if (ctl_dict_uint(req, "ArrivedRealtime", &arrived) && arrived > 0 && now >= arrived) {
                ctl_format_span(now - arrived, span);
                fprintf(f, ", %s ago", span);
        }
        if (ctl_dict_uint(req, "TimeoutRealtime", &timeout) && timeout > now) {
                ctl_format_span(timeout - now, span);
                fprintf(f, ", times out in %s", span);
        }
}

static void json_str_field(JsonWriter *w, const char *key, const CtlDict *d, const char *dkey) {
        const char *s = ctl_dict_str(d, dkey);

        if (!s)
                return;
        json_key(w, key);
        json_string(w, s);
}

void ctl_json_request(JsonWriter *w, const CtlDict *req, uint64_t now) {
        uint64_t v;
        char buf[40];

        json_begin_object(w);
        if (ctl_dict_uint(req, "Id", &v)) {
                json_key(w, "id");
                json_uint(w, v);
        }
        json_str_field(w, "method", req, "Method");
        json_str_field(w, "address", req, "Address");
        json_str_field(w, "address_type", req, "AddressType");
        json_str_field(w, "name", req, "Name");
        if (ctl_dict_uint(req, "Passkey", &v)) {
                snprintf(buf, sizeof buf, "%06" PRIu64, v);
                json_key(w, "passkey");
                json_string(w, buf);
        }
        json_str_field(w, "uuid", req, "Uuid");
        json_str_field(w, "model", req, "Model");
        json_str_field(w, "device", req, "Device");
        json_str_field(w, "adapter", req, "Adapter");
        if (ctl_dict_uint(req, "ArrivedRealtime", &v) && v > 0) {
                ctl_format_time_iso(v, buf);
                json_key(w, "arrived");
                json_string(w, buf);
                json_key(w, "arrived_usec");
                json_uint(w, v);
                json_key(w, "age_seconds");
                json_uint(w, now > v ? (now - v) / USEC_PER_SEC : 0);
        }
        if (ctl_dict_uint(req, "TimeoutRealtime", &v) && v > 0) {
                ctl_format_time_iso(v, buf);
                json_key(w, "timeout");
                json_string(w, buf);
                json_key(w, "timeout_usec");
                json_uint(w, v);
        }
        json_str_field(w, "held_by", req, "HeldBy");
        json_str_field(w, "needs", req, "Needs");
        json_end_object(w);
}
