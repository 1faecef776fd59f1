/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "agent-types.h"
#include "string-table.h"

static const char *const capability_table[_CAPABILITY_MAX] = {
        [CAPABILITY_DISPLAY_ONLY] = "DisplayOnly",
        [CAPABILITY_DISPLAY_YES_NO] = "DisplayYesNo",
        [CAPABILITY_KEYBOARD_ONLY] = "KeyboardOnly",
        [CAPABILITY_NO_INPUT_NO_OUTPUT] = "NoInputNoOutput",
        [CAPABILITY_KEYBOARD_DISPLAY] = "KeyboardDisplay",
};

static const char *const agent_method_table[_AGENT_METHOD_MAX] = {
        [AGENT_METHOD_REQUEST_PIN_CODE] = "RequestPinCode",
        [AGENT_METHOD_DISPLAY_PIN_CODE] = "DisplayPinCode",
        [AGENT_METHOD_REQUEST_PASSKEY] = "RequestPasskey",
        [AGENT_METHOD_DISPLAY_PASSKEY] = "DisplayPasskey",
        [AGENT_METHOD_REQUEST_CONFIRMATION] = "RequestConfirmation",
        [AGENT_METHOD_REQUEST_AUTHORIZATION] = "RequestAuthorization",
        [AGENT_METHOD_AUTHORIZE_SERVICE] = "AuthorizeService",
};

const char *capability_to_string(Capability c) {
        return string_table_to_string(capability_table, _CAPABILITY_MAX, c);
}

Capability capability_from_string(const char *s) {
        return (Capability) string_table_lookup(capability_table, _CAPABILITY_MAX, s);
}

const char *agent_method_to_string(AgentMethod m) {
        return string_table_to_string(agent_method_table, _AGENT_METHOD_MAX, m);
}

AgentMethod agent_method_from_string(const char *s) {
        return (AgentMethod) string_table_lookup(agent_method_table, _AGENT_METHOD_MAX, s);
}

bool agent_method_is_notification(AgentMethod m) {
        return m == AGENT_METHOD_DISPLAY_PASSKEY || m == AGENT_METHOD_DISPLAY_PIN_CODE;
}
