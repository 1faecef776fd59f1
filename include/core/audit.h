/* SPDX-License-Identifier: MIT */
#pragma once

/* Audit records: one structured record per decision and per lifecycle event.
 *
 * Under journald (stderr is the journal stream, see JOURNAL_STREAM in systemd.exec(5)) records go
 * to the journal with PAIRGATE_* fields and a MESSAGE_ID per kind; otherwise one readable
 * key=value line per record goes to stderr. Every string that may come from a remote device is
 * escaped and bounded here, in one place. PINs are never written. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

typedef enum AuditEvent {
        AUDIT_DECISION_ALLOW,
        AUDIT_DECISION_DENY,
        AUDIT_DECISION_TIMEOUT,
        AUDIT_DECISION_CANCELED,
        AUDIT_DECISION_ERROR,
        AUDIT_REGISTERED,        /* registered and default agent */
        AUDIT_REGISTRATION_LOST, /* Release(), registration failure, or unregistered */
        AUDIT_BLUEZ_APPEARED,
        AUDIT_BLUEZ_VANISHED,
        AUDIT_RELOAD_OK,
        AUDIT_RELOAD_REFUSED,
        AUDIT_FOREIGN_CALLER,
        AUDIT_STARTED,
        AUDIT_STOPPING,
        AUDIT_POLICY_EVENT,   /* a policy's own event (pairing window opened/closed, TTS failure) */
        AUDIT_CONFIG_WARNING, /* the configured capability/routes cannot serve some pairings */
        AUDIT_TRUSTED,        /* a pairing pairgate approved completed: Device1.Trusted set */
        AUDIT_UNTRUSTED,      /* a device pairgate trusted lost its pairing: Trusted cleared */
        AUDIT_CONTROL_ACTION, /* the control interface opened/closed the window, forgot a device */
        AUDIT_CONTROL_REFUSED,  /* a caller of the control interface is not root or an admin */
        AUDIT_LOCKOUT_STARTED,  /* limits: a device refused lockout_after times is locked out */
        AUDIT_LOCKOUT_ENDED,    /* limits: a lockout expired or was lifted */
        AUDIT_LOCKOUT_REFUSALS, /* limits: one device's refusals while locked out, per minute */
        AUDIT_BUDGET_REFUSALS,  /* limits: refusals by the prompt budget, per minute */
        AUDIT_BLOCKED,          /* limits: a device locked out again and again set Blocked */
        _AUDIT_EVENT_MAX,
} AuditEvent;

/* MESSAGE_ID values, fixed forever (journal catalog: systemd/pairgate.catalog). */
#define PAIRGATE_MESSAGE_DECISION_ALLOW    "55ea3cbb7a424d239cebf3608661896e"
#define PAIRGATE_MESSAGE_DECISION_DENY     "a2928c8a98b44a94b3d9b4e4b8320170"
#define PAIRGATE_MESSAGE_DECISION_TIMEOUT  "7841b2819ed84c539d645165e746ff65"
#define PAIRGATE_MESSAGE_DECISION_CANCELED "363affce6fb44749a89b3b2ec25749f2"
#define PAIRGATE_MESSAGE_DECISION_ERROR    "f69aa97602524d51b86f8b673f95364e"
#define PAIRGATE_MESSAGE_REGISTERED        "15c1578d5be841acb0092fb60d98bb4a"
#define PAIRGATE_MESSAGE_REGISTRATION_LOST "a89224ed821349e88f200094f81160e1"
#define PAIRGATE_MESSAGE_BLUEZ_APPEARED    "b2a5097ea75143498c9f96287b830546"
#define PAIRGATE_MESSAGE_BLUEZ_VANISHED    "4a5448c020454cccb2d96a5527de4361"
#define PAIRGATE_MESSAGE_RELOAD_OK         "8c3df45f3f5a4165adcbeb9bf9c02d6d"
#define PAIRGATE_MESSAGE_RELOAD_REFUSED    "ab7d5a7998194c4fb3d81d6a6915b09d"
#define PAIRGATE_MESSAGE_FOREIGN_CALLER    "416231a4bed848308f27184c94b82a09"
#define PAIRGATE_MESSAGE_STARTED           "e2654038a0274197b70b73cd41a29707"
#define PAIRGATE_MESSAGE_STOPPING          "f115eadf7ba9498d973ee44c59532307"
#define PAIRGATE_MESSAGE_POLICY_EVENT      "a48d100802da4da082b0620c30b756e9"
#define PAIRGATE_MESSAGE_CONFIG_WARNING    "69e6508fadcd47c990a715f23d0adf89"
#define PAIRGATE_MESSAGE_TRUSTED           "125eddcf56194fd889594c0fb88cd615"
#define PAIRGATE_MESSAGE_UNTRUSTED         "951b2f4e012f4275bbdb90c715ab63e4"
#define PAIRGATE_MESSAGE_CONTROL_ACTION    "ac6afa3509fb4b008949d3b010d2484b"
#define PAIRGATE_MESSAGE_CONTROL_REFUSED   "58e25ea9694541fe83e66c35e5e1dc6c"
#define PAIRGATE_MESSAGE_LOCKOUT_STARTED   "5897148783bf45e29e810438ba555f74"
#define PAIRGATE_MESSAGE_LOCKOUT_ENDED     "399eb8d9adab48d9abb52dc7d531ee56"
#define PAIRGATE_MESSAGE_LOCKOUT_REFUSALS  "79f3d848d6984107b49cbbeb52045fac"
#define PAIRGATE_MESSAGE_BUDGET_REFUSALS   "2e57565e78f146a5805972945808c789"
#define PAIRGATE_MESSAGE_BLOCKED           "714f1a4a0f7a4702942e898e61a0bfde"

/* PAIRGATE_EFFECT of a refused DisplayPinCode or DisplayPasskey: bluetoothd 5.66 replies the PIN
 * to the kernel whatever the answer to DisplayPinCode, and expects no answer to DisplayPasskey. */
#define AUDIT_EFFECT_IGNORED_BY_BLUETOOTHD "ignored-by-bluetoothd"

/* Bound applied to device names (bytes of the raw name, before escaping). BlueZ names are at most
 * 248 bytes; we keep 64, which is enough to recognise a device and too short to flood a log. */
#define AUDIT_NAME_MAX 64

/* The fields of one record. NULL / 0 fields are omitted. All strings are borrowed. */
typedef struct AuditRecord {
        AuditEvent event;
        const char *message; /* human summary; built from the fields when NULL */
        uint64_t request_id;
        const char *method;
        const char *device; /* object path */
        const char *address;
        const char *address_type;
        const char *name;        /* raw, untrusted: escaped and bounded by the audit module */
        const char *name_source; /* "name" or "alias": which Device1 property name is */
        const char *adapter;
        const char *model;
        const char *policy;
        const char *reason;
        const char *uuid;
        const char *sender; /* for foreign callers */
        const char *capability;
        const char *effect;    /* what the answer did, when not what the decision says */
        const char *extra_key; /* one extra PAIRGATE_<KEY> field, e.g. WINDOW for the button */
        const char *extra_value;
        int64_t latency_ms; /* <0: omitted */
        int64_t count;      /* summaries: how many requests; <0: omitted */
        /* Realtime µs (0: omitted): the end of a lockout; the first and last request summarised */
        uint64_t until_realtime, first_realtime, last_realtime;
        const char *addresses; /* summaries of many devices: "ADDRESS*COUNT ..." */
        /* The uid of a caller of the control interface (PAIRGATE_CONTROL_UID): who decided a
         * request through it, opened the window, or was refused. */
        bool has_control_uid;
        uint32_t control_uid;
        bool has_passkey;
        uint32_t passkey; /* passkeys are public once displayed; PINs are never given here */
} AuditRecord;

#define AUDIT_RECORD_INIT(ev) ((AuditRecord){ .event = (ev), .latency_ms = -1, .count = -1 })

typedef enum AuditBackend {
        AUDIT_BACKEND_AUTO, /* journal when stderr is the journal stream, else stderr */
        AUDIT_BACKEND_STDERR,
        AUDIT_BACKEND_JOURNAL,
} AuditBackend;

void audit_set_backend(AuditBackend b);
/* Test sink: every record is also rendered as a stderr-style line and passed here. */
typedef void (*audit_sink_t)(const AuditRecord *r, const char *line, void *userdata);
void audit_set_sink(audit_sink_t sink, void *userdata);

void audit_emit(const AuditRecord *r);
/* The human summary of r (MESSAGE= in the journal): r->message, or built from the fields. */
char *audit_record_message(const AuditRecord *r);

const char *audit_event_to_string(AuditEvent e); /* "allow", "registered", ... */
const char *audit_event_message_id(AuditEvent e);
int audit_event_priority(AuditEvent e);         /* LOG_* */
const char *audit_event_decision(AuditEvent e); /* "allow"/"deny"/... or NULL */

/* Escape an untrusted string for logs and speech: printable ASCII kept (except '\\' and '"'),
 * everything else as \xNN, bounded to max_raw input bytes (then "..." appended). Never NULL. */
char *audit_escape(const char *s, size_t max_raw);

/* Human log lines (not audit records): daemon diagnostics, same backend choice. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
void log_set_max_level(int priority);
/* log_msg + return r (negative errno), systemd style. */
#define log_error_errno(r, ...) (log_msg(LOG_ERR, __VA_ARGS__), (r))
