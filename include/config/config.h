/* SPDX-License-Identifier: MIT */
#pragma once

/* The configuration file (libconfig syntax) parsed into an immutable Config.
 * Errors carry "file:line: message". */

#include <libconfig.h>
#include <stdbool.h>

#include "agent-types.h"
#include "abuse-limits.h"

#define CONFIG_DEFAULT_PATH                PAIRGATE_SYSCONFDIR "/pairgate/pairgate.conf"
#define CONFIG_DEFAULT_REQUEST_TIMEOUT_SEC 25
#define CONFIG_DEFAULT_MAX_PENDING         8
/* bluetoothd 5.66 gives up on an agent call after 60 s (src/agent.c REQUEST_TIMEOUT) and then
 * sends no Cancel for RequestPasskey/RequestPinCode: pairgated must answer before that. */
#define CONFIG_MAX_REQUEST_TIMEOUT_SEC 59

typedef struct Config {
        char *path; /* file it was read from, or a label for strings */
        Capability capability;
        unsigned request_timeout_sec;     /* 1..CONFIG_MAX_REQUEST_TIMEOUT_SEC */
        unsigned max_pending;             /* 1..64 */
        bool trust_on_approve;            /* default true: see trust.h */
        bool has_limits;                  /* a limits = { ... } section exists */
        LimitsSettings limits;            /* LIMITS_SETTINGS_OFF without a limits section */
        char **routes[_AGENT_METHOD_MAX]; /* NULL: no route; else NULL-terminated (maybe empty) */
        config_t cfg;                     /* the parsed tree: policy sections are read from it */
} Config;

/* Parse and validate (top-level keys, routes, policy names and every policy section through the
 * policy registry). On error returns <0 and, if ret_error, a "file:line: message" string. */
int config_load_file(const char *path, Config **ret, char **ret_error);
int config_load_string(const char *text, const char *label, Config **ret, char **ret_error);
Config *config_free(Config *c);

/* NULL when the method has no route; otherwise a NULL-terminated list (possibly empty). */
const char *const *config_route(const Config *c, AgentMethod m);
/* The policy's section ("allowlist = { ... }"), or NULL when absent. */
const config_setting_t *config_policy_section(const Config *c, const char *policy);
bool config_route_uses(const Config *c, const char *policy);
