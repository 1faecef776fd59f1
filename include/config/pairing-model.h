/* SPDX-License-Identifier: MIT */
#pragma once

/* The pairing-model matrix: what happens when a remote device pairs with this one (pairgated's
 * agent is the responder) for a given local IO capability, remote IO capability, transport and
 * remote MITM flag. Pure, no I/O.
 *
 * The rules follow the reference "bluez-agent-semantics.md" §3 (BlueZ 5.66, Linux 6.1): the
 * module computes each cell the way the stack does (Core-spec association tables, then the
 * kernel's and bluetoothd's reactions); tests/unit/test-pairing-model.c holds an independent
 * literal transcription of the reference tables and checks every cell against it.
 *
 * Stable strings (they appear in `pairgated --explain --json` and in audit records):
 *
 *   transport   "bredr"             BR/EDR Secure Simple Pairing
 *               "le-sc"             LE Secure Connections
 *               "le-legacy"         LE legacy pairing (at least one side without SC)
 *               "bredr-legacy-pin"  BR/EDR legacy PIN pairing (remote before 2.1 / without SSP)
 *
 *   model       "numeric-comparison"            both sides show a 6-digit value and confirm; auth
 *               "passkey-entry-local-displays"  this device shows a passkey, the remote types it
 *               "passkey-entry-local-types"     the remote shows a passkey, this device types it
 *               "passkey-entry-both-type"       both sides type the same passkey (KeyboardOnly
 * pair) "just-works"                    no user check at all; unauthenticated key
 *               "just-works-confirm"            BR/EDR: the agent is asked to confirm a 6-digit
 *                                               value but the remote cannot check it (DisplayOnly
 *                                               quirk, NoIO remote asking for MITM):
 *                                               unauthenticated key
 *               "legacy-pin"                    BR/EDR legacy PIN
 *               "refused"                       the kernel refuses before any model runs (LE: MITM
 *                                               required but impossible, SMP "Authentication
 *                                               Requirements")
 *
 *   agent call  "RequestConfirmation" "RequestAuthorization" "RequestPasskey" "DisplayPasskey"
 *               "RequestPinCode"      (the Agent1 method pairgated receives)
 *               "none-kernel-accepts" the kernel accepts by itself (BR/EDR Just Works with a
 *                                     NoInputNoOutput agent); pairgate is never asked
 *               "none-kernel-refuses" the kernel refuses by itself; pairgate is never asked
 *               "none-bluez-accepts"  bluetoothd accepts by itself (already-paired device,
 *                                     JustWorksRepairing=always)
 *               "none-bluez-refuses"  bluetoothd refuses by itself (already-paired device,
 *                                     JustWorksRepairing=never, the default)
 *
 *   JustWorksRepairing  "never" (default) | "confirm" | "always"   (bluetoothd main.conf)
 *
 * pairing_model_infer() returns a model string above, or one of PAIRING_INFER_* below.
 */

#include <stdbool.h>

#include "agent-types.h"

typedef enum PairingTransport {
        PAIRING_TRANSPORT_BREDR,
        PAIRING_TRANSPORT_LE_SC,
        PAIRING_TRANSPORT_LE_LEGACY,
        PAIRING_TRANSPORT_BREDR_LEGACY_PIN, /* outside the core matrix: remote and MITM ignored */
        _PAIRING_TRANSPORT_MAX,
        _PAIRING_TRANSPORT_INVALID = -1,
} PairingTransport;

/* The core matrix covers the first three transports: bredr, le-sc, le-legacy. */
#define PAIRING_TRANSPORT_MATRIX_N 3

typedef enum PairingModel {
        PAIRING_MODEL_NUMERIC_COMPARISON,
        PAIRING_MODEL_PASSKEY_LOCAL_DISPLAYS,
        PAIRING_MODEL_PASSKEY_LOCAL_TYPES,
        PAIRING_MODEL_PASSKEY_BOTH_TYPE,
        PAIRING_MODEL_JUST_WORKS,
        PAIRING_MODEL_JUST_WORKS_CONFIRM,
        PAIRING_MODEL_LEGACY_PIN,
        PAIRING_MODEL_REFUSED,
        _PAIRING_MODEL_MAX,
        _PAIRING_MODEL_INVALID = -1,
} PairingModel;

typedef enum PairingCall {
        PAIRING_CALL_REQUEST_CONFIRMATION,
        PAIRING_CALL_REQUEST_AUTHORIZATION,
        PAIRING_CALL_REQUEST_PASSKEY,
        PAIRING_CALL_DISPLAY_PASSKEY,
        PAIRING_CALL_REQUEST_PIN_CODE,
        PAIRING_CALL_NONE_KERNEL_ACCEPTS,
        PAIRING_CALL_NONE_KERNEL_REFUSES,
        PAIRING_CALL_NONE_BLUEZ_ACCEPTS,
        PAIRING_CALL_NONE_BLUEZ_REFUSES,
        _PAIRING_CALL_MAX,
        _PAIRING_CALL_INVALID = -1,
} PairingCall;

/* bluetoothd's main.conf [General] JustWorksRepairing; the zero value is the default. */
typedef enum JwRepairing {
        JW_REPAIRING_NEVER,
        JW_REPAIRING_CONFIRM,
        JW_REPAIRING_ALWAYS,
        _JW_REPAIRING_MAX,
        _JW_REPAIRING_INVALID = -1,
} JwRepairing;

/* Extra strings pairing_model_infer() may return besides the model strings. */
#define PAIRING_INFER_JUST_WORKS_REPAIRING  "just-works-repairing"
#define PAIRING_INFER_SERVICE_AUTHORIZATION "service-authorization"
#define PAIRING_INFER_UNKNOWN               "unknown"

/* One incoming pairing. Zero-initialise, then fill: already_paired=false and
 * jw_repairing=JW_REPAIRING_NEVER describe a first pairing with bluetoothd's defaults. */
typedef struct PairingCase {
        Capability local;  /* the capability pairgated registered */
        Capability remote; /* what the remote announces (ignored for bredr-legacy-pin) */
        PairingTransport transport;
        bool remote_mitm;         /* the remote's AuthReq MITM bit (ignored for bredr-legacy-pin) */
        bool already_paired;      /* bluetoothd/kernel already hold a key for this device */
        JwRepairing jw_repairing; /* applies to Just Works when already_paired */
} PairingCase;

typedef struct PairingOutcome {
        PairingModel model;
        PairingCall call;   /* what the local agent receives, or none-* */
        bool authenticated; /* the resulting key is MITM-protected */
} PairingOutcome;

/* 0 and *ret filled, or -EINVAL for an out-of-range field. */
int pairing_model_resolve(const PairingCase *pc, PairingOutcome *ret);

/* A first pairing with bluetoothd's defaults: the core matrix cell. 0 or -EINVAL. */
int pairing_model_lookup(Capability local, Capability remote, PairingTransport transport,
                         bool remote_mitm, PairingOutcome *ret);

/* BR/EDR legacy PIN pairing (remote before Bluetooth 2.1): RequestPinCode for every capability,
 * NoInputNoOutput included. authenticated is false: a legacy combination key only counts as
 * high security with a 16-character PIN, which the model cannot know. 0 or -EINVAL. */
int pairing_model_legacy_pin(Capability local, PairingOutcome *ret);

/* The capability actually sent on the air: KeyboardDisplay goes out as DisplayYesNo on BR/EDR
 * (the kernel rewrites it); LE sends it unchanged. _CAPABILITY_INVALID for bad input. */
Capability pairing_model_wire_capability(Capability c, PairingTransport transport);

/* The Agent1 method behind an agent call; _AGENT_METHOD_INVALID for the none-* calls. */
AgentMethod pairing_call_to_method(PairingCall call);
/* true for the none-* calls: pairgate is not asked. */
bool pairing_call_is_none(PairingCall call);

/* At request time: the model implied by receiving `method` while registered with capability
 * `local`, for a device bluetoothd reports as already paired or not. Never NULL. Returns:
 *   RequestAuthorization  "just-works" (every transport; even a NoInputNoOutput agent gets it
 *                         over LE), or "just-works-repairing" when the device is already paired
 *                         (bluetoothd's JustWorksRepairing=confirm let it through)
 *   RequestConfirmation   DisplayYesNo/KeyboardDisplay: "numeric-comparison" (the usual case;
 *                         over BR/EDR a DisplayOnly remote or a NoIO remote asking for MITM gives
 *                         the same call unauthenticated); DisplayOnly/KeyboardOnly:
 *                         "just-works-confirm"; NoInputNoOutput: "unknown" (impossible)
 *   DisplayPasskey        DisplayOnly/DisplayYesNo/KeyboardDisplay: "passkey-entry-local-displays";
 *                         otherwise "unknown"
 *   RequestPasskey        KeyboardOnly/KeyboardDisplay: "passkey-entry-local-types"; otherwise
 *                         "unknown"
 *   RequestPinCode, DisplayPinCode   "legacy-pin"
 *   AuthorizeService      "service-authorization"
 *   anything else         "unknown"
 * "unknown" for a capability/method pair the matrix cannot produce means the call came from a
 * different capability than configured (another agent's Pair(), a connection older than the
 * last registration). */
const char *pairing_model_infer(Capability local, AgentMethod method, bool device_paired);

const char *pairing_transport_to_string(PairingTransport t);
PairingTransport pairing_transport_from_string(const char *s);
const char *pairing_model_to_string(PairingModel m);
PairingModel pairing_model_from_string(const char *s);
const char *pairing_call_to_string(PairingCall c);
PairingCall pairing_call_from_string(const char *s);
const char *jw_repairing_to_string(JwRepairing j);
JwRepairing jw_repairing_from_string(const char *s);
