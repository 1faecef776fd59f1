/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Bluetooth IO capabilities and Agent1 methods: the vocabulary shared by config, pairing model,
 * policies, agent and audit. Pure, no I/O. */

typedef enum Capability {
        CAPABILITY_DISPLAY_ONLY,
        CAPABILITY_DISPLAY_YES_NO,
        CAPABILITY_KEYBOARD_ONLY,
        CAPABILITY_NO_INPUT_NO_OUTPUT,
        CAPABILITY_KEYBOARD_DISPLAY,
        _CAPABILITY_MAX,
        _CAPABILITY_INVALID = -1,
} Capability;

/* The Agent1 methods that carry a request (Release and Cancel are control calls, not requests). */
typedef enum AgentMethod {
        AGENT_METHOD_REQUEST_PIN_CODE,
        AGENT_METHOD_DISPLAY_PIN_CODE,
        AGENT_METHOD_REQUEST_PASSKEY,
        AGENT_METHOD_DISPLAY_PASSKEY,
        AGENT_METHOD_REQUEST_CONFIRMATION,
        AGENT_METHOD_REQUEST_AUTHORIZATION,
        AGENT_METHOD_AUTHORIZE_SERVICE,
        _AGENT_METHOD_MAX,
        _AGENT_METHOD_INVALID = -1,
} AgentMethod;

/* "DisplayOnly", ...; NULL when out of range. */
const char *capability_to_string(Capability c);
/* Exact, case-sensitive match (as bluetoothd 5.66 does); _CAPABILITY_INVALID when unknown. */
Capability capability_from_string(const char *s);

/* "RequestConfirmation", ...; NULL when out of range. */
const char *agent_method_to_string(AgentMethod m);
AgentMethod agent_method_from_string(const char *s);
/* DisplayPasskey and DisplayPinCode: bluetoothd does not wait for a decision on them (it sends
 * DisplayPasskey without expecting a reply and ignores an error from DisplayPinCode). */
bool agent_method_is_notification(AgentMethod m);
