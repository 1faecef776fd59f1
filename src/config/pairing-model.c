/* SPDX-License-Identifier: MIT */
/* The pairing-model matrix, computed by rules in three steps, as the stack does it:
 *   1. the Core specification's association table picks a method from the two IO capabilities
 *      (BR/EDR: the controller; LE: the kernel's SMP code), taking the MITM flags into account;
 *   2. the kernel turns that into a refusal, its own acceptance, or an event for userspace (for
 *      Just Works with a "confirm hint");
 *   3. bluetoothd turns the event into an Agent1 call, or applies JustWorksRepairing first.
 * See the reference's §3 for each rule. */
#include <errno.h>

#include "macro.h"
#include "pairing-model.h"
#include "string-table.h"

/* Step 1's result, before the kernel or bluetoothd have a say. */
typedef enum SpecMethod {
        SPEC_JUST_WORKS,
        SPEC_NUMERIC_COMPARISON,
        SPEC_PASSKEY_LOCAL_DISPLAYS,
        SPEC_PASSKEY_LOCAL_TYPES,
        SPEC_PASSKEY_BOTH_TYPE,
} SpecMethod;

static const char *const transport_table[_PAIRING_TRANSPORT_MAX] = {
        [PAIRING_TRANSPORT_BREDR] = "bredr",
        [PAIRING_TRANSPORT_LE_SC] = "le-sc",
        [PAIRING_TRANSPORT_LE_LEGACY] = "le-legacy",
        [PAIRING_TRANSPORT_BREDR_LEGACY_PIN] = "bredr-legacy-pin",
};

static const char *const model_table[_PAIRING_MODEL_MAX] = {
        [PAIRING_MODEL_NUMERIC_COMPARISON] = "numeric-comparison",
        [PAIRING_MODEL_PASSKEY_LOCAL_DISPLAYS] = "passkey-entry-local-displays",
        [PAIRING_MODEL_PASSKEY_LOCAL_TYPES] = "passkey-entry-local-types",
        [PAIRING_MODEL_PASSKEY_BOTH_TYPE] = "passkey-entry-both-type",
        [PAIRING_MODEL_JUST_WORKS] = "just-works",
        [PAIRING_MODEL_JUST_WORKS_CONFIRM] = "just-works-confirm",
        [PAIRING_MODEL_LEGACY_PIN] = "legacy-pin",
        [PAIRING_MODEL_REFUSED] = "refused",
};

static const char *const call_table[_PAIRING_CALL_MAX] = {
        [PAIRING_CALL_REQUEST_CONFIRMATION] = "RequestConfirmation",
        [PAIRING_CALL_REQUEST_AUTHORIZATION] = "RequestAuthorization",
        [PAIRING_CALL_REQUEST_PASSKEY] = "RequestPasskey",
        [PAIRING_CALL_DISPLAY_PASSKEY] = "DisplayPasskey",
        [PAIRING_CALL_REQUEST_PIN_CODE] = "RequestPinCode",
        [PAIRING_CALL_NONE_KERNEL_ACCEPTS] = "none-kernel-accepts",
        [PAIRING_CALL_NONE_KERNEL_REFUSES] = "none-kernel-refuses",
        [PAIRING_CALL_NONE_BLUEZ_ACCEPTS] = "none-bluez-accepts",
        [PAIRING_CALL_NONE_BLUEZ_REFUSES] = "none-bluez-refuses",
};

static const char *const jw_repairing_table[_JW_REPAIRING_MAX] = {
        [JW_REPAIRING_NEVER] = "never",
        [JW_REPAIRING_CONFIRM] = "confirm",
        [JW_REPAIRING_ALWAYS] = "always",
};

const char *pairing_transport_to_string(PairingTransport t) {
        return string_table_to_string(transport_table, _PAIRING_TRANSPORT_MAX, t);
}

PairingTransport pairing_transport_from_string(const char *s) {
        return (PairingTransport) string_table_lookup(transport_table, _PAIRING_TRANSPORT_MAX, s);
}

const char *pairing_model_to_string(PairingModel m) {
        return string_table_to_string(model_table, _PAIRING_MODEL_MAX, m);
}

PairingModel pairing_model_from_string(const char *s) {
        return (PairingModel) string_table_lookup(model_table, _PAIRING_MODEL_MAX, s);
}

const char *pairing_call_to_string(PairingCall c) {
        return string_table_to_string(call_table, _PAIRING_CALL_MAX, c);
}

PairingCall pairing_call_from_string(const char *s) {
        return (PairingCall) string_table_lookup(call_table, _PAIRING_CALL_MAX, s);
}

const char *jw_repairing_to_string(JwRepairing j) {
        return string_table_to_string(jw_repairing_table, _JW_REPAIRING_MAX, j);
}

JwRepairing jw_repairing_from_string(const char *s) {
        return (JwRepairing) string_table_lookup(jw_repairing_table, _JW_REPAIRING_MAX, s);
}

AgentMethod pairing_call_to_method(PairingCall call) {
        switch (call) {
        case PAIRING_CALL_REQUEST_CONFIRMATION:
                return AGENT_METHOD_REQUEST_CONFIRMATION;
        case PAIRING_CALL_REQUEST_AUTHORIZATION:
                return AGENT_METHOD_REQUEST_AUTHORIZATION;
        case PAIRING_CALL_REQUEST_PASSKEY:
                return AGENT_METHOD_REQUEST_PASSKEY;
        case PAIRING_CALL_DISPLAY_PASSKEY:
                return AGENT_METHOD_DISPLAY_PASSKEY;
        case PAIRING_CALL_REQUEST_PIN_CODE:
                return AGENT_METHOD_REQUEST_PIN_CODE;
        default:
                return _AGENT_METHOD_INVALID;
        }
}

bool pairing_call_is_none(PairingCall call) {
        return call == PAIRING_CALL_NONE_KERNEL_ACCEPTS ||
               call == PAIRING_CALL_NONE_KERNEL_REFUSES ||
               call == PAIRING_CALL_NONE_BLUEZ_ACCEPTS || call == PAIRING_CALL_NONE_BLUEZ_REFUSES;
}

static bool capability_valid(Capability c) {
        return c >= 0 && c < _CAPABILITY_MAX;
}

Capability pairing_model_wire_capability(Capability c, PairingTransport transport) {
        if (!capability_valid(c) || transport < 0 || transport >= _PAIRING_TRANSPORT_MAX)
                return _CAPABILITY_INVALID;
        /* HCI IO capabilities stop at NoInputNoOutput; the kernel sends KeyboardDisplay as
         * DisplayYesNo in its IO Capability Reply. LE SMP knows KeyboardDisplay. */
        if (c == CAPABILITY_KEYBOARD_DISPLAY && (transport == PAIRING_TRANSPORT_BREDR ||
                                                 transport == PAIRING_TRANSPORT_BREDR_LEGACY_PIN))
                return CAPABILITY_DISPLAY_YES_NO;
        return c;
}

static bool can_type(Capability c) {
        return c == CAPABILITY_KEYBOARD_ONLY || c == CAPABILITY_KEYBOARD_DISPLAY;
}

static bool can_confirm(Capability c) {
        return c == CAPABILITY_DISPLAY_YES_NO || c == CAPABILITY_KEYBOARD_DISPLAY;
}

/* The Core specification's IO-capability mapping, with MITM protection wanted, from the
 * responder's (local) point of view. `numeric` is true where numeric comparison exists (BR/EDR
 * SSP and LE Secure Connections), false for LE legacy. */
static SpecMethod spec_method(Capability local, Capability remote, bool numeric) {
        if (local == CAPABILITY_NO_INPUT_NO_OUTPUT || remote == CAPABILITY_NO_INPUT_NO_OUTPUT)
                return SPEC_JUST_WORKS;

        /* Both can show a value and say yes or no. */
        if (numeric && can_confirm(local) && can_confirm(remote))
                return SPEC_NUMERIC_COMPARISON;

        if (can_type(local) && can_type(remote)) {
                if (local == CAPABILITY_KEYBOARD_ONLY && remote == CAPABILITY_KEYBOARD_ONLY)
                        return SPEC_PASSKEY_BOTH_TYPE;
                /* One of them has no display: the one with the display shows the passkey. */
                if (local == CAPABILITY_KEYBOARD_ONLY)
                        return SPEC_PASSKEY_LOCAL_TYPES;
                if (remote == CAPABILITY_KEYBOARD_ONLY)
                        return SPEC_PASSKEY_LOCAL_DISPLAYS;
                /* KeyboardDisplay on both sides without numeric comparison (LE legacy): the
                 * initiator displays, the responder types. */
                return SPEC_PASSKEY_LOCAL_TYPES;
        }
        /* Exactly one side has a keyboard; the other has a display (it is not NoIO). */
        if (can_type(local))
                return SPEC_PASSKEY_LOCAL_TYPES;
        if (can_type(remote))
                return SPEC_PASSKEY_LOCAL_DISPLAYS;

        /* Displays only (DisplayOnly with DisplayOnly/DisplayYesNo, or DisplayYesNo pairs over
         * LE legacy): nobody can enter or compare anything. */
        return SPEC_JUST_WORKS;
}

/* An authenticated method reached the agent. */
static void set_authenticated(SpecMethod method, PairingOutcome *o) {
        o->authenticated = true;
        switch (method) {
        case SPEC_NUMERIC_COMPARISON:
                o->model = PAIRING_MODEL_NUMERIC_COMPARISON;
                o->call = PAIRING_CALL_REQUEST_CONFIRMATION;
                break;
        case SPEC_PASSKEY_LOCAL_DISPLAYS:
                o->model = PAIRING_MODEL_PASSKEY_LOCAL_DISPLAYS;
                o->call = PAIRING_CALL_DISPLAY_PASSKEY;
                break;
        case SPEC_PASSKEY_LOCAL_TYPES:
                o->model = PAIRING_MODEL_PASSKEY_LOCAL_TYPES;
                o->call = PAIRING_CALL_REQUEST_PASSKEY;
                break;
        case SPEC_PASSKEY_BOTH_TYPE:
                o->model = PAIRING_MODEL_PASSKEY_BOTH_TYPE;
                o->call = PAIRING_CALL_REQUEST_PASSKEY;
                break;
        case SPEC_JUST_WORKS:
        default:
                /* not reached: callers handle Just Works themselves */
                o->authenticated = false;
                o->model = PAIRING_MODEL_JUST_WORKS;
                o->call = PAIRING_CALL_REQUEST_AUTHORIZATION;
                break;
        }
}

/* The kernel sent userspace a Just Works request ("confirm hint"): bluetoothd applies
 * JustWorksRepairing to already-paired devices, otherwise calls RequestAuthorization. */
static void just_works_to_userspace(const PairingCase *pc, PairingOutcome *o) {
        o->model = PAIRING_MODEL_JUST_WORKS;
        o->authenticated = false;
        o->call = PAIRING_CALL_REQUEST_AUTHORIZATION;
        if (!pc->already_paired)
                return;
        switch (pc->jw_repairing) {
        case JW_REPAIRING_ALWAYS:
                o->call = PAIRING_CALL_NONE_BLUEZ_ACCEPTS;
                break;
        case JW_REPAIRING_CONFIRM:
                break;
        case JW_REPAIRING_NEVER:
        default:
                o->call = PAIRING_CALL_NONE_BLUEZ_REFUSES;
                break;
        }
}

static void resolve_bredr(const PairingCase *pc, PairingOutcome *o) {
        Capability local = pairing_model_wire_capability(pc->local, PAIRING_TRANSPORT_BREDR);
        Capability remote = pairing_model_wire_capability(pc->remote, PAIRING_TRANSPORT_BREDR);
        bool local_noio = local == CAPABILITY_NO_INPUT_NO_OUTPUT;
        bool remote_noio = remote == CAPABILITY_NO_INPUT_NO_OUTPUT;
        /* As responder the kernel asks for MITM itself whenever both sides have IO, whatever the
         * remote asked; otherwise it drops MITM (default auth type: general bonding). */
        bool local_mitm = !local_noio && !remote_noio;
        SpecMethod method;

        /* Neither side wants MITM: the IO capabilities are ignored (Just Works). */
        if (!local_mitm && !pc->remote_mitm)
                method = SPEC_JUST_WORKS;
        else
                method = spec_method(local, remote, true);

        if (method != SPEC_JUST_WORKS) {
                set_authenticated(method, o);
                return;
        }

        /* Just Works runs as a User Confirmation Request; the kernel decides whether it is
         * treated as Just Works or shown to userspace as a value to confirm. */
        if ((!local_mitm || remote_noio) && (!pc->remote_mitm || local_noio)) {
                if (!local_noio || pc->already_paired) {
                        /* confirm hint: RequestAuthorization or JustWorksRepairing */
                        just_works_to_userspace(pc, o);
                        return;
                }
                o->model = PAIRING_MODEL_JUST_WORKS;
                o->call = PAIRING_CALL_NONE_KERNEL_ACCEPTS;
                o->authenticated = false;
                return;
        }

        /* A MITM flag broke the Just Works test: the agent is asked to confirm a value although
         * the remote cannot compare it. The controller still makes an unauthenticated key. */
        o->model = PAIRING_MODEL_JUST_WORKS_CONFIRM;
        o->call = PAIRING_CALL_REQUEST_CONFIRMATION;
        o->authenticated = false;
}

static void resolve_le(const PairingCase *pc, PairingOutcome *o) {
        bool sc = pc->transport == PAIRING_TRANSPORT_LE_SC;
        SpecMethod method;

        /* The responder copies the remote's MITM bit; without it the IO capabilities are
         * ignored. A NoInputNoOutput responder never requires MITM and never refuses. Either way
         * the kernel always hands Just Works to userspace over LE. */
        if (!pc->remote_mitm || pc->local == CAPABILITY_NO_INPUT_NO_OUTPUT) {
                just_works_to_userspace(pc, o);
                return;
        }

        method = spec_method(pc->local, pc->remote, sc);
        if (method == SPEC_JUST_WORKS) {
                /* MITM required, only Just Works possible: SMP "Authentication Requirements". */
                o->model = PAIRING_MODEL_REFUSED;
                o->call = PAIRING_CALL_NONE_KERNEL_REFUSES;
                o->authenticated = false;
                return;
        }
        set_authenticated(method, o);
}

int pairing_model_legacy_pin(Capability local, PairingOutcome *ret) {
        if (!ret || !capability_valid(local))
                return -EINVAL;
        *ret = (PairingOutcome){
                .model = PAIRING_MODEL_LEGACY_PIN,
                .call = PAIRING_CALL_REQUEST_PIN_CODE,
                .authenticated = false,
        };
        return 0;
}

int pairing_model_resolve(const PairingCase *pc, PairingOutcome *ret) {
        PairingOutcome o = {};

        if (!pc || !ret || !capability_valid(pc->local))
                return -EINVAL;
        if (pc->transport < 0 || pc->transport >= _PAIRING_TRANSPORT_MAX)
                return -EINVAL;
        if (pc->jw_repairing < 0 || pc->jw_repairing >= _JW_REPAIRING_MAX)
                return -EINVAL;

        if (pc->transport == PAIRING_TRANSPORT_BREDR_LEGACY_PIN)
                return pairing_model_legacy_pin(pc->local, ret);

        if (!capability_valid(pc->remote))
                return -EINVAL;

        if (pc->transport == PAIRING_TRANSPORT_BREDR)
                resolve_bredr(pc, &o);
        else
                resolve_le(pc, &o);

        *ret = o;
        return 0;
}

int pairing_model_lookup(Capability local, Capability remote, PairingTransport transport,
                         bool remote_mitm, PairingOutcome *ret) {
        PairingCase pc = {
                .local = local,
                .remote = remote,
                .transport = transport,
                .remote_mitm = remote_mitm,
                .already_paired = false,
                .jw_repairing = JW_REPAIRING_NEVER,
        };

        return pairing_model_resolve(&pc, ret);
}

const char *pairing_model_infer(Capability local, AgentMethod method, bool device_paired) {
        if (!capability_valid(local))
                return PAIRING_INFER_UNKNOWN;

        switch (method) {
        case AGENT_METHOD_REQUEST_AUTHORIZATION:
                /* Just Works on any transport; a NoIO agent gets it over LE. An already-paired
                 * device only gets here through JustWorksRepairing=confirm. */
                return device_paired ? PAIRING_INFER_JUST_WORKS_REPAIRING
                                     : pairing_model_to_string(PAIRING_MODEL_JUST_WORKS);

        case AGENT_METHOD_REQUEST_CONFIRMATION:
                if (can_confirm(local))
                        return pairing_model_to_string(PAIRING_MODEL_NUMERIC_COMPARISON);
                if (local == CAPABILITY_NO_INPUT_NO_OUTPUT)
                        return PAIRING_INFER_UNKNOWN;
                /* DisplayOnly (BR/EDR quirk) and KeyboardOnly (BR/EDR, NoIO remote asking for
                 * MITM): a value nobody can really compare. */
                return pairing_model_to_string(PAIRING_MODEL_JUST_WORKS_CONFIRM);

        case AGENT_METHOD_DISPLAY_PASSKEY:
                if (local == CAPABILITY_DISPLAY_ONLY || can_confirm(local))
                        return pairing_model_to_string(PAIRING_MODEL_PASSKEY_LOCAL_DISPLAYS);
                return PAIRING_INFER_UNKNOWN;

        case AGENT_METHOD_REQUEST_PASSKEY:
                if (can_type(local))
                        return pairing_model_to_string(PAIRING_MODEL_PASSKEY_LOCAL_TYPES);
                return PAIRING_INFER_UNKNOWN;

        case AGENT_METHOD_REQUEST_PIN_CODE:
        case AGENT_METHOD_DISPLAY_PIN_CODE:
                return pairing_model_to_string(PAIRING_MODEL_LEGACY_PIN);

        case AGENT_METHOD_AUTHORIZE_SERVICE:
                return PAIRING_INFER_SERVICE_AUTHORIZATION;

        default:
                return PAIRING_INFER_UNKNOWN;
        }
}
