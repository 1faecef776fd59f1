/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "agent-types.h"
#include "macro.h"

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

static int table_lookup(const char *const *table, int n, const char *s) {
        if (!s)
                return -1;
        for (int i = 0; i < n; i++)
                if (streq(table[i], s))
                        return i;
        return -1;
}

const char *capability_to_string(Capability c) {
        return c >= 0 && c < _CAPABILITY_MAX ? capability_table[c] : NULL;
}

Capability capability_from_string(const char *s) {
        return (Capability) table_lookup(capability_table, _CAPABILITY_MAX, s);
}

const char *agent_method_to_string(AgentMethod m) {
        return m >= 0 && m < _AGENT_METHOD_MAX ? agent_method_table[m] : NULL;
}

AgentMethod agent_method_from_string(const char *s) {
        return (AgentMethod) table_lookup(agent_method_table, _AGENT_METHOD_MAX, s);
}
