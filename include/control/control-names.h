/* SPDX-License-Identifier: MIT */
#pragma once

/* The names of pairgated's control interface (docs/control-interface.md), shared by the daemon
 * and its clients (pairgatectl). Nothing else: a client needs these, not the daemon. */

#define CONTROL_BUS_NAME    "org.pairgate"
#define CONTROL_OBJECT_PATH "/org/pairgate/control"
#define CONTROL_INTERFACE   "org.pairgate.Control1"

/* Members of this group (and root) may call the interface; the D-Bus policy file says so and
 * pairgated checks the caller's uid and groups again. */
#define CONTROL_ADMIN_GROUP "pairgate-admin"

#define CONTROL_ERROR_ACCESS_DENIED  "org.pairgate.Error.AccessDenied"
#define CONTROL_ERROR_NOT_FOUND      "org.pairgate.Error.NotFound"
#define CONTROL_ERROR_INVALID_ARGS   "org.pairgate.Error.InvalidArguments"
#define CONTROL_ERROR_NOT_APPLICABLE "org.pairgate.Error.NotApplicable"
#define CONTROL_ERROR_FAILED         "org.pairgate.Error.Failed"
