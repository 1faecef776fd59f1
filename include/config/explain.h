/* SPDX-License-Identifier: MIT */
#pragma once

/* `pairgated --explain [--json]`: what the configured capability leads to, cell by cell (transport
 * x remote capability x remote MITM flag), which route decides each agent call, and plain-language
 * warnings. Writes only to the FILE it is given; the warnings are also available as a list so the
 * daemon can log them at start and after a reload.
 *
 * JSON output (one object, stable keys):
 *   {
 *     "capability": "DisplayYesNo",
 *     "config": "/etc/pairgate/pairgate.conf",        (null when the Config has no path)
 *     "cells": [                                       (3 transports x 5 remotes x 2 = 30 cells)
 *       { "transport": "bredr" | "le-sc" | "le-legacy",
 *         "remote_capability": "DisplayOnly", "remote_mitm": true,
 *         "model": "just-works-confirm",               (pairing-model.h model strings)
 *         "agent_call": "RequestConfirmation",         (Agent1 method, or none-*)
 *         "authenticated": false,
 *         "route": ["allowlist", "speech"] },          (null: no route, or agent_call is none-*)
 *       ...
 *     ],
 *     "legacy_pin": { "model": "legacy-pin", "agent_call": "RequestPinCode",
 *                     "authenticated": false, "route": [...] | null },
 *     "warnings": [ "...", ... ]
 *   }
 * Cells are ordered transport (bredr, le-sc, le-legacy), then remote capability (DisplayOnly,
 * DisplayYesNo, KeyboardOnly, NoInputNoOutput, KeyboardDisplay), then remote_mitm (true, false).
 */

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Text table (json=false) or the JSON object above (json=true), for c->capability.
 * 0, -EINVAL for a Config without a valid capability, -EIO when writing fails. */
int explain_print(FILE *f, const Config *c, bool json);

/* The warnings for this configuration as a NULL-terminated list of plain-language sentences
 * (free with g_strfreev()); empty when there is nothing to warn about. NULL only for a Config
 * without a valid capability. */
char **explain_warnings(const Config *c);
