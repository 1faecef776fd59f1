/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <glib.h>

#include "audit.h"
#include "macro.h"

typedef struct AuditEventInfo {
        const char *name;
        const char *message_id;
        int priority;
        const char *decision;
} AuditEventInfo;

static const AuditEventInfo event_info[_AUDIT_EVENT_MAX] = {
        [AUDIT_DECISION_ALLOW] = { "allow", PAIRGATE_MESSAGE_DECISION_ALLOW, LOG_INFO, "allow" },
        /* A refused stranger is worth noticing, not an error of ours. */
        [AUDIT_DECISION_DENY] = { "deny", PAIRGATE_MESSAGE_DECISION_DENY, LOG_NOTICE, "deny" },
        [AUDIT_DECISION_TIMEOUT] = { "timeout", PAIRGATE_MESSAGE_DECISION_TIMEOUT, LOG_NOTICE,
                                     "timeout" },
        [AUDIT_DECISION_CANCELED] = { "canceled", PAIRGATE_MESSAGE_DECISION_CANCELED, LOG_INFO,
                                      "canceled" },
        [AUDIT_DECISION_ERROR] = { "error", PAIRGATE_MESSAGE_DECISION_ERROR, LOG_ERR, "error" },
        [AUDIT_REGISTERED] = { "registered", PAIRGATE_MESSAGE_REGISTERED, LOG_INFO, NULL },
        [AUDIT_REGISTRATION_LOST] = { "registration-lost", PAIRGATE_MESSAGE_REGISTRATION_LOST,
                                      LOG_WARNING, NULL },
        [AUDIT_BLUEZ_APPEARED] = { "bluez-appeared", PAIRGATE_MESSAGE_BLUEZ_APPEARED, LOG_INFO,
                                   NULL },
        [AUDIT_BLUEZ_VANISHED] = { "bluez-vanished", PAIRGATE_MESSAGE_BLUEZ_VANISHED, LOG_WARNING,
                                   NULL },
        [AUDIT_RELOAD_OK] = { "reload-ok", PAIRGATE_MESSAGE_RELOAD_OK, LOG_INFO, NULL },
        [AUDIT_RELOAD_REFUSED] = { "reload-refused", PAIRGATE_MESSAGE_RELOAD_REFUSED, LOG_ERR,
                                   NULL },
        /* Someone other than bluetoothd called our agent: suspicious. */
        [AUDIT_FOREIGN_CALLER] = { "foreign-caller", PAIRGATE_MESSAGE_FOREIGN_CALLER, LOG_WARNING,
                                   NULL },
        [AUDIT_STARTED] = { "started", PAIRGATE_MESSAGE_STARTED, LOG_INFO, NULL },
        [AUDIT_STOPPING] = { "stopping", PAIRGATE_MESSAGE_STOPPING, LOG_INFO, NULL },
        [AUDIT_POLICY_EVENT] = { "policy", PAIRGATE_MESSAGE_POLICY_EVENT, LOG_INFO, NULL },
        [AUDIT_CONFIG_WARNING] = { "config-warning", PAIRGATE_MESSAGE_CONFIG_WARNING, LOG_WARNING,
                                   NULL },
        [AUDIT_TRUSTED] = { "trusted", PAIRGATE_MESSAGE_TRUSTED, LOG_INFO, NULL },
        [AUDIT_UNTRUSTED] = { "untrusted", PAIRGATE_MESSAGE_UNTRUSTED, LOG_INFO, NULL },
        [AUDIT_CONTROL_ACTION] = { "control", PAIRGATE_MESSAGE_CONTROL_ACTION, LOG_NOTICE, NULL },
        /* Someone without the right tried to decide pairings: worth a look. */
        [AUDIT_CONTROL_REFUSED] = { "control-refused", PAIRGATE_MESSAGE_CONTROL_REFUSED,
                                    LOG_WARNING, NULL },
        /* Someone keeps trying: worth a look, not an error of ours. */
        [AUDIT_LOCKOUT_STARTED] = { "lockout-started", PAIRGATE_MESSAGE_LOCKOUT_STARTED,
                                    LOG_WARNING, NULL },
        [AUDIT_LOCKOUT_ENDED] = { "lockout-ended", PAIRGATE_MESSAGE_LOCKOUT_ENDED, LOG_NOTICE,
                                  NULL },
        [AUDIT_LOCKOUT_REFUSALS] = { "lockout-refusals", PAIRGATE_MESSAGE_LOCKOUT_REFUSALS,
                                     LOG_NOTICE, NULL },
        [AUDIT_BUDGET_REFUSALS] = { "budget-refusals", PAIRGATE_MESSAGE_BUDGET_REFUSALS, LOG_NOTICE,
                                    NULL },
        [AUDIT_BLOCKED] = { "blocked", PAIRGATE_MESSAGE_BLOCKED, LOG_WARNING, NULL },
};

static AuditBackend backend = AUDIT_BACKEND_AUTO;
static int resolved_backend = -1; /* AUDIT_BACKEND_STDERR or _JOURNAL once decided */
static audit_sink_t sink;
static void *sink_userdata;
static int max_level = LOG_INFO;

const char *audit_event_to_string(AuditEvent e) {
        return e >= 0 && e < _AUDIT_EVENT_MAX ? event_info[e].name : NULL;
}

const char *audit_event_message_id(AuditEvent e) {
        return e >= 0 && e < _AUDIT_EVENT_MAX ? event_info[e].message_id : NULL;
}

int audit_event_priority(AuditEvent e) {
        return e >= 0 && e < _AUDIT_EVENT_MAX ? event_info[e].priority : LOG_INFO;
}

const char *audit_event_decision(AuditEvent e) {
        return e >= 0 && e < _AUDIT_EVENT_MAX ? event_info[e].decision : NULL;
}

void audit_set_backend(AuditBackend b) {
        backend = b;
        resolved_backend = -1;
}

void audit_set_sink(audit_sink_t s, void *userdata) {
        sink = s;
        sink_userdata = userdata;
}

void log_set_max_level(int priority) {
        max_level = priority;
}

/* stderr is the journal when JOURNAL_STREAM names its device:inode (systemd.exec(5)). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

static AuditBackend current_backend(void) {
        if (resolved_backend < 0)
                resolved_backend = backend != AUDIT_BACKEND_AUTO ? backend
                                   : stderr_is_journal()         ? AUDIT_BACKEND_JOURNAL
                                                                 : AUDIT_BACKEND_STDERR;
        return (AuditBackend) resolved_backend;
}

char *audit_escape(const char *s, size_t max_raw) {
        GString *out = g_string_new(NULL);
        size_t n = 0;

        if (!s)
                return g_string_free(out, false);
        for (; s[n] && n < max_raw; n++) {
                unsigned char c = (unsigned char) s[n];
                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
                        g_string_append_c(out, (char) c);
                else
                        g_string_append_printf(out, "\\x%02x", c);
        }
        if (s[n])
                g_string_append(out, "...");
        return g_string_free(out, false);
}

/* Values in stderr lines: bare when made of safe characters, otherwise double-quoted and escaped
 * (once: a value that audit_escape() made already holds no quote, backslash or control byte
 * other than its own \xNN sequences, and is only quoted). */
static void append_kv(GString *line, const char *key, const char *value, bool escaped) {
        bool bare = *value != '\0';

        for (const char *p = value; *p && bare; p++)
                bare = g_ascii_isalnum(*p) || strchr(":/_.-+,@", *p);
        g_string_append_printf(line, " %s=", key);
        if (bare) {
                g_string_append(line, value);
                return;
        }
        _cleanup_free_ char *esc = escaped ? NULL : audit_escape(value, SIZE_MAX);
        g_string_append_printf(line, "\"%s\"", esc ? esc : value);
}

/* One ordered list of (journal field, line key, value) built once per record. */
typedef struct Field {
        const char *journal;
        const char *key;
        char *value;  /* owned */
        bool escaped; /* made by audit_escape() already */
} Field;

static void add_field(GPtrArray *fields, const char *journal, const char *key, const char *value) {
        Field *f;

        if (!value)
                return;
        f = g_new(Field, 1);
        *f = (Field){ journal, key, g_strdup(value), false };
        g_ptr_array_add(fields, f);
}

static void add_realtime(GPtrArray *fields, const char *journal, const char *key, uint64_t usec) {
        char buf[32];

        if (!usec)
                return;
        snprintf(buf, sizeof buf, "%" PRIu64, usec);
        add_field(fields, journal, key, buf);
}

static void field_free(void *p) {
        Field *f = p;
        g_free(f->value);
        g_free(f);
}

char *audit_record_message(const AuditRecord *r) {
        _cleanup_free_ char *name = r->name ? audit_escape(r->name, AUDIT_NAME_MAX) : NULL;
        const char *decision = audit_event_decision(r->event);
        GString *m = g_string_new(NULL);

        if (r->message)
                g_string_append(m, r->message);
        else if (decision) {
                g_string_append_printf(m, "%s from %s", r->method ? r->method : "request",
                                       r->address ? r->address : (r->device ? r->device : "?"));
                if (name)
                        g_string_append_printf(m, " (\"%s\")", name);
                g_string_append_printf(m, ": %s", decision);
                if (r->policy)
                        g_string_append_printf(m, " by %s", r->policy);
                if (r->reason)
                        g_string_append_printf(m, " (%s)", r->reason);
                if (streq_ptr(r->effect, AUDIT_EFFECT_IGNORED_BY_BLUETOOTHD))
                        g_string_append(m, "; bluetoothd ignores the refusal and the pairing "
                                           "goes on");
        } else
                g_string_append(m, audit_event_to_string(r->event));
        return g_string_free(m, false);
}

static GPtrArray *record_fields(const AuditRecord *r) {
        GPtrArray *f = g_ptr_array_new_with_free_func(field_free);
        _cleanup_free_ char *name = r->name ? audit_escape(r->name, AUDIT_NAME_MAX) : NULL;
        char buf[32];

        add_field(f, "PAIRGATE_EVENT", "event", audit_event_to_string(r->event));
        if (r->request_id) {
                snprintf(buf, sizeof buf, "%" PRIu64, r->request_id);
                add_field(f, "PAIRGATE_REQUEST_ID", "request", buf);
        }
        add_field(f, "PAIRGATE_METHOD", "method", r->method);
        add_field(f, "PAIRGATE_DEVICE", "device", r->device);
        add_field(f, "PAIRGATE_ADDRESS", "address", r->address);
        add_field(f, "PAIRGATE_ADDRESS_TYPE", "address_type", r->address_type);
        add_field(f, "PAIRGATE_NAME", "name", name);
        if (name) {
                ((Field *) f->pdata[f->len - 1])->escaped = true;
                add_field(f, "PAIRGATE_NAME_SOURCE", "name_source", r->name_source);
        }
        add_field(f, "PAIRGATE_ADAPTER", "adapter", r->adapter);
        add_field(f, "PAIRGATE_MODEL", "model", r->model);
        add_field(f, "PAIRGATE_UUID", "uuid", r->uuid);
        add_field(f, "PAIRGATE_CAPABILITY", "capability", r->capability);
        add_field(f, "PAIRGATE_SENDER", "sender", r->sender);
        if (r->has_control_uid) {
                snprintf(buf, sizeof buf, "%" PRIu32, r->control_uid);
                add_field(f, "PAIRGATE_CONTROL_UID", "control_uid", buf);
        }
        if (r->has_passkey) {
                snprintf(buf, sizeof buf, "%06" PRIu32, r->passkey);
                add_field(f, "PAIRGATE_PASSKEY", "passkey", buf);
        }
        add_field(f, "PAIRGATE_POLICY", "policy", r->policy);
        add_field(f, "PAIRGATE_DECISION", "decision", audit_event_decision(r->event));
        add_field(f, "PAIRGATE_EFFECT", "effect", r->effect);
        if (r->extra_key && r->extra_value) {
                /* Interned: the journal field name lives as long as the process, like the
                 * literal names above. */
                _cleanup_free_ char *upper = g_ascii_strup(r->extra_key, -1);
                _cleanup_free_ char *full = g_strconcat("PAIRGATE_", upper, NULL);
                add_field(f, g_intern_string(full), r->extra_key, r->extra_value);
        }
        if (r->count >= 0) {
                snprintf(buf, sizeof buf, "%" PRId64, r->count);
                add_field(f, "PAIRGATE_COUNT", "count", buf);
        }
        add_realtime(f, "PAIRGATE_UNTIL_REALTIME", "until", r->until_realtime);
        add_realtime(f, "PAIRGATE_FIRST_REALTIME", "first", r->first_realtime);
        add_realtime(f, "PAIRGATE_LAST_REALTIME", "last", r->last_realtime);
        add_field(f, "PAIRGATE_ADDRESSES", "addresses", r->addresses);
        add_field(f, "PAIRGATE_REASON", "reason", r->reason);
        if (r->latency_ms >= 0) {
                snprintf(buf, sizeof buf, "%" PRId64, r->latency_ms);
                add_field(f, "PAIRGATE_LATENCY_MS", "latency_ms", buf);
        }
        return f;
}

static char *render_line(GPtrArray *fields) {
        GString *line = g_string_new("audit");

        for (guint i = 0; i < fields->len; i++) {
                Field *f = fields->pdata[i];
                if (f->key)
                        append_kv(line, f->key, f->value, f->escaped);
        }
        return g_string_free(line, false);
}

static void emit_journal(const AuditRecord *r, GPtrArray *fields, const char *message) {
        g_autoptr(GPtrArray) strs = g_ptr_array_new_with_free_func(g_free);
        struct iovec *iov;

        g_ptr_array_add(strs, g_strdup_printf("MESSAGE=%s", message));
        g_ptr_array_add(strs, g_strdup_printf("MESSAGE_ID=%s", audit_event_message_id(r->event)));
        g_ptr_array_add(strs, g_strdup_printf("PRIORITY=%d", audit_event_priority(r->event)));
        g_ptr_array_add(strs, g_strdup("SYSLOG_IDENTIFIER=pairgated"));
        for (guint i = 0; i < fields->len; i++) {
                Field *f = fields->pdata[i];
                if (f->journal)
                        g_ptr_array_add(strs, g_strdup_printf("%s=%s", f->journal, f->value));
        }
        iov = g_new0(struct iovec, strs->len);
        for (guint i = 0; i < strs->len; i++) {
                iov[i].iov_base = strs->pdata[i];
                iov[i].iov_len = strlen(strs->pdata[i]);
        }
        if (sd_journal_sendv(iov, (int) strs->len) < 0) {
                _cleanup_free_ char *line = render_line(fields);
                fprintf(stderr, "<%d>%s\n", audit_event_priority(r->event), line);
        }
        g_free(iov);
}

void audit_emit(const AuditRecord *r) {
        g_autoptr(GPtrArray) fields = record_fields(r);
        _cleanup_free_ char *line = render_line(fields);

        if (sink)
                sink(r, line, sink_userdata);
        if (current_backend() == AUDIT_BACKEND_JOURNAL) {
                _cleanup_free_ char *message = audit_record_message(r);
                emit_journal(r, fields, message);
        } else {
                fprintf(stderr, "%s\n", line);
                fflush(stderr);
        }
}

static const char *level_word(int priority) {
        switch (priority) {
        case LOG_EMERG:
        case LOG_ALERT:
        case LOG_CRIT:
        case LOG_ERR:
                return "error";
        case LOG_WARNING:
                return "warning";
        case LOG_NOTICE:
                return "notice";
        case LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

void log_msg(int priority, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;

        if (priority > max_level)
                return;
        va_start(ap, fmt);
        text = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        /* One message, one line: control bytes (from a bluetoothd error message, say) must not
         * start a forged line or priority prefix. */
        for (char *c = text; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        *c = ' ';
        /* Under journald, the "<N>" prefix sets the priority of a stderr line (SyslogLevelPrefix).
         */
        if (current_backend() == AUDIT_BACKEND_JOURNAL)
                fprintf(stderr, "<%d>%s\n", priority, text);
        else
                fprintf(stderr, "%s: %s\n", level_word(priority), text);
        fflush(stderr);
}
