/* SPDX-License-Identifier: MIT */
#pragma once

/* Policies decide Agent1 requests. A route is an ordered chain of policies; each answers allow,
 * deny or pass; the first allow or deny decides; a request nobody decides is rejected.
 * Policies never see an sd_bus_message. */

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "agent-types.h"

typedef enum Verdict {
        VERDICT_PASS,
        VERDICT_ALLOW,
        VERDICT_DENY,
} Verdict;

typedef struct PolicyResult {
        Verdict verdict;
        bool has_passkey; /* RequestPasskey: the value to return */
        uint32_t passkey;
        char pin[17];       /* RequestPinCode: the PIN to return (1..16 chars), never logged */
        const char *reason; /* static or owned by the policy until the next call on it */
        bool presented;     /* a presenter showed or spoke the code (with VERDICT_PASS) */
} PolicyResult;

/* What a policy is asked about. All strings borrowed for the duration of the request. */
typedef struct PairingQuery {
        uint64_t request_id;
        AgentMethod method;
        const char *device;       /* object path */
        const char *adapter;      /* /org/bluez/hciN */
        const char *address;      /* "AA:BB:CC:DD:EE:FF", from the cache or parsed from the path */
        const char *address_type; /* "public", "random", or NULL when unknown */
        const char *name;         /* raw and untrusted; may be NULL */
        const char *name_source;  /* "name" (Device1.Name) or "alias" (a real Alias); static */
        bool known;               /* the device was in the cache */
        bool has_class;
        uint32_t device_class;
        bool paired, trusted;
        uint32_t passkey;      /* RequestConfirmation, DisplayPasskey */
        uint16_t entered;      /* DisplayPasskey */
        const char *pincode;   /* DisplayPinCode (never log it) */
        const char *uuid;      /* AuthorizeService */
        const char *model;     /* inferred association model, "unknown" when it can't be told */
        uint64_t arrived_usec; /* CLOCK_MONOTONIC when the call arrived */
} PairingQuery;

typedef struct Policy Policy;
typedef struct PolicyCall PolicyCall;
typedef void (*policy_done_t)(const PolicyResult *res, void *userdata);

/* What a policy may use: the loop, the bus (may be NULL in unit tests), and a notifier so a
 * policy can write audit records of its own. */
typedef struct DeviceCache DeviceCache;
typedef struct BluezOwner BluezOwner;
typedef struct PairingWindow PairingWindow;

typedef struct PolicyEnv {
        sd_event *event;         /* NULL when only validating (--check-config, config load) */
        sd_bus *bus;             /* may be NULL in unit tests */
        BluezOwner *bluez_owner; /* who bluetoothd is; may be NULL in tests */
        DeviceCache *devices;    /* device facts and change listeners; may be NULL in tests */
        PairingWindow *window;   /* the daemon's pairing window (window = { ... }), or NULL */
        const char *config_path; /* for error messages when a setting has no source file */
} PolicyEnv;

typedef struct PolicyOps {
        const char *name;   /* as named in the config */
        size_t size;        /* of the policy's private data, allocated zeroed by the registry */
        bool needs_section; /* a route naming it without "<name> = { ... };" is a config error */
        /* The policy involves a person (it speaks, waits for a button, an operator, a keypad):
         * limits.prompts_per_minute counts the requests that reach such a policy, and refuses
         * the rest at once. */
        bool involves_person;
        /* Validate the section (NULL when absent) and set up. Errors: <0 and *ret_error set to
         * "file:line: message" (use policy_error()). Called with env->event == NULL for
         * --check-config: validate only, open nothing. */
        int (*init)(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                    char **ret_error);
        void (*done)(Policy *p);
        /* <0: -errno (treated as an error decision); >0: *ret filled now;
         * 0: pending, done() is called exactly once later unless cancel() is called first. */
        int (*decide)(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                      PolicyResult *ret, PolicyCall **ret_call);
        /* Idempotent; done() never fires after it. Frees the call. */
        void (*cancel)(PolicyCall *call);
        /* Whether the policy can ever approve m with the given section (for --explain's warnings
         * about routes nobody can decide). NULL: never. */
        bool (*can_allow)(const config_setting_t *section, AgentMethod m);
        /* Optional: the request the policy saw has ended (decided by anyone, canceled, timed out):
         * presenters stop speaking, etc. */
        void (*request_ended)(Policy *p, uint64_t request_id);
        /* Optional: the policy knows q's device by configuration (the allowlist lists its
         * address): limits never lock it out nor count it against the prompt budget. */
        bool (*vouches)(Policy *p, const PairingQuery *q);
} PolicyOps;

struct Policy {
        const PolicyOps *ops;
        void *data; /* ops->size bytes */
};

/* Registry of built-in policies. */
const PolicyOps *policy_lookup(const char *name);
/* Names, NULL-terminated, for messages. */
const char *const *policy_names(void);

/* The request's facts (id, method, device, address, type, name and its source, adapter) into an
 * audit record: the same fields in every record about a request, whoever writes it. */
typedef struct AuditRecord AuditRecord;
void policy_audit_query(AuditRecord *rec, const PairingQuery *q);

/* "file:line: message" for policy config errors (s may be NULL: the section is absent). */
char *policy_error(const PolicyEnv *env, const config_setting_t *s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
