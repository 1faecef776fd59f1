/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by explain.c (the table, text and JSON) and explain-warnings.c: the pairing-model
 * matrix of one capability and facts about routes. Not for other modules. */

#include <stdbool.h>

#include "config.h"
#include "pairing-model.h"

#define LE_SAFE_TIMEOUT_SEC 28 /* LE's SMP timer is 30 s; leave the reply some margin */

typedef struct Matrix {
        PairingOutcome cell[PAIRING_TRANSPORT_MATRIX_N][_CAPABILITY_MAX]
                           [2]; /* [t][remote][!mitm] */
        PairingOutcome legacy_pin;
} Matrix;

typedef enum RouteState {
        ROUTE_MISSING, /* no route: rejected */
        ROUTE_EMPTY,   /* an empty list: rejected as well */
        ROUTE_SOME,
} RouteState;

/* The remote MITM flag in matrix order: true, then false. */
extern const bool explain_mitm_order[2];

bool explain_config_capability_valid(const Config *c);
int explain_matrix_fill(Capability local, Matrix *ret);
RouteState explain_route_state(const Config *c, AgentMethod m, const char *const **ret);
bool explain_route_is_only(const char *const *r, const char *policy);
bool explain_route_contains(const char *const *r, const char *policy);
/* "[allowlist, speech]" */
char *explain_route_bracketed(const char *const *r);
