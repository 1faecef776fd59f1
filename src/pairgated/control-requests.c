/* SPDX-License-Identifier: MIT */
/* The control interface's held requests: ListRequests, Approve, Deny, EnterPasskey,
 * EnterPinCode (deciding a request for whichever policy holds it) and the signals
 * RequestStarted, RequestChanged and RequestEnded. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <glib.h>

#include "audit.h"
#include "control-internal.h"
#include "macro.h"

#define PIN_MAX 16

static const char *request_needs(AgentMethod m) {
        return m == AGENT_METHOD_REQUEST_PASSKEY    ? "passkey"
               : m == AGENT_METHOD_REQUEST_PIN_CODE ? "pin"
                                                    : "";
}

/* One request as the a{sv} of docs/control-interface.md. */
static int append_request(sd_bus_message *m, const Request *req) {
        const PairingQuery *q = request_query(req);
        const char *holder = request_holder(req);
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = control_append_entry(m, "Id", "t", request_id(req));
        if (r >= 0)
                r = control_append_entry(m, "Method", "s", agent_method_to_string(q->method));
        if (r >= 0 && q->device)
                r = control_append_entry(m, "Device", "o", q->device);
        if (r >= 0 && q->adapter)
                r = control_append_entry(m, "Adapter", "s", q->adapter);
        if (r >= 0 && q->address)
                r = control_append_entry(m, "Address", "s", q->address);
        if (r >= 0)
                r = control_append_entry(m, "AddressType", "s",
                                         q->address_type ? q->address_type : "unknown");
        /* Untrusted, and maybe not UTF-8: sd-bus refuses invalid strings, so such a name is
         * left out rather than failing the call (its audit record has it, escaped). */
        if (r >= 0 && q->name && g_utf8_validate(q->name, -1, NULL))
                r = control_append_entry(m, "Name", "s", q->name);
        if (r >= 0 && (q->method == AGENT_METHOD_REQUEST_CONFIRMATION ||
                       q->method == AGENT_METHOD_DISPLAY_PASSKEY))
                r = control_append_entry(m, "Passkey", "u", q->passkey);
        if (r >= 0 && q->uuid)
                r = control_append_entry(m, "Uuid", "s", q->uuid);
        if (r >= 0)
                r = control_append_entry(m, "Model", "s", q->model ? q->model : "unknown");
        if (r >= 0)
                r = control_append_entry(m, "ArrivedRealtime", "t", request_arrived_realtime(req));
        if (r >= 0)
                r = control_append_entry(m, "TimeoutRealtime", "t", request_timeout_realtime(req));
        if (r >= 0)
                r = control_append_entry(m, "HeldBy", "s", holder ? holder : "");
        if (r >= 0)
                r = control_append_entry(m, "Needs", "s", request_needs(q->method));
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

int control_method_list_requests(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        g_autoptr(GPtrArray) held = NULL;
        uint32_t uid;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        held = agent_held_requests(c->env.agent);
        for (guint i = 0; r >= 0 && i < held->len; i++)
                r = append_request(reply, held->pdata[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Decide request id for whichever policy holds it. res->reason is filled here. */
static int decide(Control *c, sd_bus_message *m, uint32_t uid, uint64_t id, PolicyResult *res,
                  const char *what, sd_bus_error *error) {
        Request *req = agent_get_request(c->env.agent, id);
        const char *holder = req ? request_holder(req) : NULL;
        char reason[160];
        AgentMethod method;
        int r;

        if (!req || !holder)
                return sd_bus_error_setf(error, CONTROL_ERROR_NOT_FOUND,
                                         "No held request with id %" PRIu64, id);
        method = request_query(req)->method;
        if (streq(what, "approved") &&
            (method == AGENT_METHOD_REQUEST_PASSKEY || method == AGENT_METHOD_REQUEST_PIN_CODE))
                return sd_bus_error_setf(error, CONTROL_ERROR_NOT_APPLICABLE,
                                         "Request %" PRIu64 " is %s: it needs %s, not Approve", id,
                                         agent_method_to_string(method),
                                         method == AGENT_METHOD_REQUEST_PASSKEY ? "EnterPasskey"
                                                                                : "EnterPinCode");
        if ((streq(what, "passkey entered") && method != AGENT_METHOD_REQUEST_PASSKEY) ||
            (streq(what, "PIN entered") && method != AGENT_METHOD_REQUEST_PIN_CODE))
                return sd_bus_error_setf(
                        error, CONTROL_ERROR_NOT_APPLICABLE, "Request %" PRIu64 " is %s, not %s",
                        id, agent_method_to_string(method),
                        streq(what, "PIN entered") ? "RequestPinCode" : "RequestPasskey");
        snprintf(reason, sizeof reason,
                 "%s through the control interface by uid %" PRIu32 " (held by %s)", what, uid,
                 holder);
        res->reason = reason;
        log_info("control: request %" PRIu64 " %s by uid %" PRIu32, id, what, uid);
        /* The request answers bluetoothd, writes its record and is freed in here. */
        r = request_decide(req, res, uid);
        explicit_bzero(res, sizeof *res); /* may hold a PIN */
        if (r < 0)
                return sd_bus_error_setf(error, CONTROL_ERROR_NOT_FOUND,
                                         "Request %" PRIu64 " is no longer held", id);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_approve_deny(sd_bus_message *m, Control *c, Verdict v, sd_bus_error *error) {
        PolicyResult res = { .verdict = v };
        uint32_t uid;
        uint64_t id;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &id);
        if (r < 0)
                return r;
        return decide(c, m, uid, id, &res, v == VERDICT_ALLOW ? "approved" : "denied", error);
}

int control_method_approve(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return method_approve_deny(m, userdata, VERDICT_ALLOW, error);
}

int control_method_deny(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return method_approve_deny(m, userdata, VERDICT_DENY, error);
}

int control_method_enter_passkey(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        PolicyResult res = { .verdict = VERDICT_ALLOW, .has_passkey = true };
        uint32_t uid, passkey;
        uint64_t id;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "tu", &id, &passkey);
        if (r < 0)
                return r;
        if (passkey > 999999)
                return sd_bus_error_setf(error, CONTROL_ERROR_INVALID_ARGS,
                                         "A passkey is 0..999999, not %" PRIu32, passkey);
        res.passkey = passkey;
        return decide(c, m, uid, id, &res, "passkey entered", error);
}

static bool pin_is_valid(const char *pin) {
        size_t n = strlen(pin);

        if (n < 1 || n > PIN_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (pin[i] < 0x20 || pin[i] > 0x7e)
                        return false;
        return true;
}

int control_method_enter_pin_code(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Control *c = userdata;
        PolicyResult res = { .verdict = VERDICT_ALLOW };
        const char *pin;
        uint32_t uid;
        uint64_t id;
        int r;

        r = control_check_access(c, m, &uid, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ts", &id, &pin);
        if (r < 0)
                return r;
        if (!pin_is_valid(pin))
                return sd_bus_error_set(error, CONTROL_ERROR_INVALID_ARGS,
                                        "A PIN is 1..16 printable ASCII characters");
        g_strlcpy(res.pin, pin, sizeof res.pin);
        return decide(c, m, uid, id, &res, "PIN entered", error);
}

/* RequestStarted or RequestChanged: the request's dictionary. */
static void emit_request(Control *c, Request *r, const char *member) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        int k;

        if (!c)
                return;
        k = sd_bus_message_new_signal(c->env.bus, &s, CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                                      member);
        if (k >= 0)
                k = append_request(s, r);
        if (k >= 0)
                k = sd_bus_send(c->env.bus, s, NULL);
        if (k < 0)
                log_debug("control: cannot send %s: %s", member, g_strerror(-k));
}

void control_request_held(Control *c, Request *r) {
        emit_request(c, r, "RequestStarted");
}

void control_request_moved(Control *c, Request *r) {
        emit_request(c, r, "RequestChanged");
}

void control_request_ended(Control *c, const Request *r) {
        const char *policy = request_policy(r);
        int k;

        if (!c)
                return;
        k = sd_bus_emit_signal(c->env.bus, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, "RequestEnded",
                               "tsss", request_id(r), request_result_to_string(request_result(r)),
                               policy ? policy : "", request_reason(r));
        if (k < 0)
                log_debug("control: cannot send RequestEnded: %s", g_strerror(-k));
}
