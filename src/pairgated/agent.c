/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include <glib.h>

#include "agent.h"
#include "audit.h"
#include "bdaddr.h"
#include "limiter.h"
#include "macro.h"
#include "pairing-model.h"
#include "request.h"
#include "time-util.h"

#define ERROR_REJECTED "org.bluez.Error.Rejected"
#define ERROR_CANCELED "org.bluez.Error.Canceled"

struct Agent {
        sd_bus *bus;
        sd_event *event;
        Bluez *bluez;
        BluezOwner *owner;
        DeviceCache *cache;
        const Config *config;
        PolicySet *policies;
        Limiter *limiter; /* borrowed; NULL: no limits */
        sd_bus_slot *object;
        GHashTable *requests; /* id -> Request* (freed by the table) */
        uint64_t next_id;
        uint64_t starting_id; /* the request inside request_start(): not held if it ends there */
        bool stopping;        /* new requests are answered Canceled at once */
        sd_event_source *exit_source;
        AgentCallbacks cb;
        void *userdata;
};

/* Every Agent1 answer goes out here. */
static void reply_outcome(sd_bus_message *m, const RequestOutcome *o) {
        int r;

        switch (o->result) {
        case REQUEST_ALLOW:
                if (o->method == AGENT_METHOD_REQUEST_PIN_CODE)
                        r = sd_bus_reply_method_return(m, "s", o->pin);
                else if (o->method == AGENT_METHOD_REQUEST_PASSKEY)
                        r = sd_bus_reply_method_return(m, "u", o->passkey);
                else
                        r = sd_bus_reply_method_return(m, NULL);
                break;
        case REQUEST_TIMEOUT:
        case REQUEST_CANCELED:
                r = sd_bus_reply_method_errorf(m, ERROR_CANCELED, "%s",
                                               o->reason ? o->reason : "Canceled");
                break;
        default: /* deny and error: fail closed */
                r = sd_bus_reply_method_errorf(m, ERROR_REJECTED, "%s",
                                               o->reason ? o->reason : "Rejected");
        }
        if (r < 0)
                log_debug("Cannot answer %s: %s", agent_method_to_string(o->method),
                          g_strerror(-r));
}

/* Limits never lock out a device that the configuration lists (allowlist) or that BlueZ trusts. */
static bool limits_exempt(Agent *a, const PairingQuery *q) {
        return q->trusted || policy_set_vouches(a->policies, q);
}

/* ... nor count their requests against the prompt budget, except a new pairing of a device that
 * is paired already: an address proves nothing, and that is what someone claiming the owner's
 * address would ask for. */
static bool budget_exempt(Agent *a, const PairingQuery *q) {
        bool pairing = q->method == AGENT_METHOD_REQUEST_CONFIRMATION ||
                       q->method == AGENT_METHOD_REQUEST_AUTHORIZATION ||
                       q->method == AGENT_METHOD_REQUEST_PASSKEY ||
                       q->method == AGENT_METHOD_REQUEST_PIN_CODE;

        return limits_exempt(a, q) && !(pairing && q->paired);
}

static bool budget_gate(const PairingQuery *q, void *userdata) {
        Agent *a = userdata;

        return !a->limiter || budget_exempt(a, q) || limiter_take_prompt(a->limiter, q);
}

static void on_request_moved(Request *r, void *userdata) {
        Agent *a = userdata;

        if (a->cb.request_moved)
                a->cb.request_moved(a, r, a->userdata);
}

static void on_request_finished(Request *r, void *userdata) {
        Agent *a = userdata;
        uint64_t id = request_id(r);
        const PairingQuery *q = request_query(r);

        if (a->limiter && !request_limited(r) && !limits_exempt(a, q))
                limiter_note_result(a->limiter, q, request_result(r));

        if (a->cb.decided)
                a->cb.decided(a, request_query(r), request_result(r), a->userdata);
        if (a->cb.request_finished)
                a->cb.request_finished(a, r, a->userdata);
        if (id != a->starting_id && a->cb.request_ended)
                a->cb.request_ended(a, r, a->userdata);
        /* Removing frees it; it has already answered. */
        g_hash_table_remove(a->requests, &id);
}

static void request_destroy(void *p) {
        request_free(p);
}

static bool check_sender(Agent *a, sd_bus_message *m, const char *method) {
        const char *sender = sd_bus_message_get_sender(m);
        const char *owner = bluez_owner_get(a->owner);
        AuditRecord rec;

        if (bluez_owner_is(a->owner, sender))
                return true;
        rec = AUDIT_RECORD_INIT(AUDIT_FOREIGN_CALLER);
        rec.method = method;
        rec.sender = sender ? sender : "(none)";
        rec.reason = owner ? "caller is not the owner of org.bluez" : "org.bluez has no owner";
        audit_emit(&rec);
        (void) sd_bus_reply_method_errorf(m, ERROR_REJECTED,
                                          "Only the owner of org.bluez may call this agent");
        return false;
}

/* Build the query from the call's device and the cache; unknown devices are handled with the
 * address parsed from the object path. */
static void fill_query(Agent *a, PairingQuery *q, AgentMethod method, const char *device,
                       char address_buf[BDADDR_STRLEN], char *adapter_buf, size_t adapter_size) {
        const Device *d = device_cache_get(a->cache, device);

        q->method = method;
        q->device = device;
        q->arrived_usec = now_usec();
        if (d) {
                q->known = true;
                q->address = d->address;
                q->address_type = d->address_type;
                q->name = device_display_name(d, &q->name_source);
                q->has_class = d->has_class;
                q->device_class = d->device_class;
                q->paired = d->paired;
                q->trusted = d->trusted;
                q->adapter = d->adapter;
        }
        if (!q->address && bdaddr_from_device_path(device, address_buf))
                q->address = address_buf;
        if (!q->adapter && adapter_from_device_path(device, adapter_buf, adapter_size))
                q->adapter = adapter_buf;
        /* The capability bluetoothd pairs with, not the configured one (a reload changes it
         * before bluetoothd has it). */
        q->model = pairing_model_infer(bluez_registered_capability(a->bluez), method, q->paired);
}

/* Answer a request without holding it or asking any policy, with its one audit record. */
static int refuse_at_once(Agent *a, sd_bus_message *m, const PairingQuery *q, RequestResult result,
                          const char *reason) {
        RequestOutcome o = { .result = result, .method = q->method, .reason = reason };

        reply_outcome(m, &o);
        request_audit_decision(q, &o);
        if (a->cb.decided)
                a->cb.decided(a, q, result, a->userdata);
        return 1;
}

/* in carries the method's own arguments (passkey, UUID, ...); the rest is filled here, into a
 * query whose borrowed strings all live in this frame or the cache until request_new() copies
 * them. */
static int handle_request(Agent *a, sd_bus_message *m, AgentMethod method, const char *device,
                          const PairingQuery *in) {
        char address[BDADDR_STRLEN], adapter[256];
        PairingQuery query = *in, *q = &query;
        RequestParams p;
        Request *req;
        uint64_t *key;
        const ChainGate gate = { .pass = budget_gate,
                                 .userdata = a,
                                 .reason = "prompt budget spent (limits.prompts_per_minute)" };

        fill_query(a, q, method, device, address, adapter, sizeof adapter);
        q->request_id = ++a->next_id;

        if (a->stopping)
                return refuse_at_once(a, m, q, REQUEST_CANCELED, "pairgated is stopping");
        if (a->limiter && !limits_exempt(a, q) && limiter_refuse_locked_out(a->limiter, q)) {
                /* No policy runs, nothing is spoken, the call is not held; the per-minute
                 * summary counts it instead of a record of its own. */
                RequestOutcome o = { .result = REQUEST_DENY,
                                     .method = method,
                                     .reason = "locked out (limits)" };
                reply_outcome(m, &o);
                return 1;
        }
        if (g_hash_table_size(a->requests) >= a->config->max_pending)
                /* Bounded: beyond max_pending, refuse at once without asking any policy. */
                return refuse_at_once(a, m, q, REQUEST_DENY,
                                      "too many pending requests (max_pending)");

        p = (RequestParams){
                .id = q->request_id,
                .event = a->event,
                .message = m,
                .query = q,
                .policies = a->policies,
                .route = config_route(a->config, method),
                .timeout_usec = (uint64_t) a->config->request_timeout_sec * 1000000ULL,
                .gate = &gate,
                .reply = reply_outcome,
                .finished = on_request_finished,
                .moved = on_request_moved,
                .userdata = a,
        };
        if (request_new(&req, &p) < 0)
                return 1; /* already answered (Canceled) and audited by the request */
        key = g_new(uint64_t, 1);
        *key = q->request_id;
        g_hash_table_insert(a->requests, key, req);
        a->starting_id = q->request_id;
        request_start(req); /* may finish and unlink it at once */
        a->starting_id = 0;
        /* Still in the table: a policy holds it. */
        req = g_hash_table_lookup(a->requests, &q->request_id);
        if (req && a->cb.request_held)
                a->cb.request_held(a, req, a->userdata);
        return 1;
}

static int method_release(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;

        if (!check_sender(a, m, "Release"))
                return 1;
        log_notice("bluetoothd released the agent");
        agent_cancel_all(a, "agent released by bluetoothd");
        if (a->cb.released)
                a->cb.released(a, a->userdata);
        return sd_bus_reply_method_return(m, NULL);
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Agent *a = userdata;

        if (!check_sender(a, m, "Cancel"))
                return 1;
        /* bluetoothd has at most one reply-awaited request outstanding per agent and gives up on
         * it: cancel what we hold. */
        agent_cancel_all(a, "canceled by bluetoothd");
        return sd_bus_reply_method_return(m, NULL);
}

static int method_device_only(sd_bus_message *m, void *userdata, AgentMethod method) {
        Agent *a = userdata;
        PairingQuery q = { 0 };
        const char *device;
        int r;

        if (!check_sender(a, m, agent_method_to_string(method)))
                return 1;
        r = sd_bus_message_read(m, "o", &device);
        if (r < 0)
                return r;
        return handle_request(a, m, method, device, &q);
}

static int method_request_pin_code(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return method_device_only(m, userdata, AGENT_METHOD_REQUEST_PIN_CODE);
}

static int method_request_passkey(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return method_device_only(m, userdata, AGENT_METHOD_REQUEST_PASSKEY);
}

static int method_request_authorization(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return method_device_only(m, userdata, AGENT_METHOD_REQUEST_AUTHORIZATION);
}

static int method_display_pin_code(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Agent *a = userdata;
        PairingQuery q = { 0 };
        const char *device, *pin;
        int r;

        if (!check_sender(a, m, "DisplayPinCode"))
                return 1;
        r = sd_bus_message_read(m, "os", &device, &pin);
        if (r < 0)
                return r;
        q.pincode = pin;
        return handle_request(a, m, AGENT_METHOD_DISPLAY_PIN_CODE, device, &q);
}

static int method_display_passkey(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Agent *a = userdata;
        PairingQuery q = { 0 };
        const char *device;
        uint32_t passkey;
        uint16_t entered;
        int r;

        if (!check_sender(a, m, "DisplayPasskey"))
                return 1;
        r = sd_bus_message_read(m, "ouq", &device, &passkey, &entered);
        if (r < 0)
                return r;
        q.passkey = passkey;
        q.entered = entered;
        return handle_request(a, m, AGENT_METHOD_DISPLAY_PASSKEY, device, &q);
}

static int method_request_confirmation(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Agent *a = userdata;
        PairingQuery q = { 0 };
        const char *device;
        uint32_t passkey;
        int r;

        if (!check_sender(a, m, "RequestConfirmation"))
                return 1;
        r = sd_bus_message_read(m, "ou", &device, &passkey);
        if (r < 0)
                return r;
        q.passkey = passkey;
        return handle_request(a, m, AGENT_METHOD_REQUEST_CONFIRMATION, device, &q);
}

static int method_authorize_service(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        Agent *a = userdata;
        PairingQuery q = { 0 };
        const char *device, *uuid;
        int r;

        if (!check_sender(a, m, "AuthorizeService"))
                return 1;
        r = sd_bus_message_read(m, "os", &device, &uuid);
        if (r < 0)
                return r;
        q.uuid = uuid;
        return handle_request(a, m, AGENT_METHOD_AUTHORIZE_SERVICE, device, &q);
}

/* UNPRIVILEGED: access control is ours (check_sender: only the owner of org.bluez) and the D-Bus
 * policy's. Without it sd-bus checks the caller's uid itself with a blocking bus round trip per
 * call, refuses other uids with AccessDenied before we can audit them, and drops calls whose
 * sender has already left the bus, such as bluetoothd's Cancel() and Release() at exit. */
static const sd_bus_vtable agent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Release", "", "", method_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RequestPinCode", SD_BUS_ARGS("o", device),
                                SD_BUS_RESULT("s", pincode), method_request_pin_code,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DisplayPinCode", SD_BUS_ARGS("o", device, "s", pincode),
                                SD_BUS_NO_RESULT, method_display_pin_code,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RequestPasskey", SD_BUS_ARGS("o", device),
                                SD_BUS_RESULT("u", passkey), method_request_passkey,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS(
                "DisplayPasskey", SD_BUS_ARGS("o", device, "u", passkey, "q", entered),
                SD_BUS_NO_RESULT, method_display_passkey, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RequestConfirmation", SD_BUS_ARGS("o", device, "u", passkey),
                                SD_BUS_NO_RESULT, method_request_confirmation,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RequestAuthorization", SD_BUS_ARGS("o", device), SD_BUS_NO_RESULT,
                                method_request_authorization, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AuthorizeService", SD_BUS_ARGS("o", device, "s", uuid),
                                SD_BUS_NO_RESULT, method_authorize_service,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* When the loop exits, answer whatever is still held while the bus is still open: sd-bus's own
 * exit handler (normal priority) flushes and closes the connection after this one. */
static int on_loop_exit(sd_event_source *s, void *userdata) {
        Agent *a = userdata;

        a->stopping = true;
        agent_cancel_all(a, "pairgated is stopping");
        return 0;
}

void agent_stop(Agent *a) {
        a->stopping = true;
}

int agent_new(Agent **ret, sd_bus *bus, sd_event *event, Bluez *bluez, BluezOwner *owner,
              DeviceCache *cache, const AgentCallbacks *cb, void *userdata) {
        Agent *a = g_new0(Agent, 1);
        int r;

        a->bus = sd_bus_ref(bus);
        a->event = sd_event_ref(event);
        a->bluez = bluez;
        a->owner = owner;
        a->cache = cache;
        a->requests = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, request_destroy);
        if (cb)
                a->cb = *cb;
        a->userdata = userdata;
        r = sd_bus_add_object_vtable(bus, &a->object, AGENT_OBJECT_PATH, AGENT_INTERFACE,
                                     agent_vtable, a);
        if (r >= 0)
                r = sd_event_add_exit(event, &a->exit_source, on_loop_exit, a);
        if (r >= 0)
                r = sd_event_source_set_priority(a->exit_source, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0) {
                agent_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

void agent_set_config(Agent *a, const Config *c, PolicySet *policies) {
        a->config = c;
        policy_set_unref(a->policies);
        a->policies = policy_set_ref(policies);
}

void agent_set_limiter(Agent *a, Limiter *limiter) {
        a->limiter = limiter;
}

void agent_cancel_all(Agent *a, const char *reason) {
        g_autoptr(GArray) ids = g_array_new(false, false, sizeof(uint64_t));
        GHashTableIter it;
        void *key;

        /* Collect first: each cancel unlinks its request from the table. Look every id up again
         * in case one cancel ended another request. */
        g_hash_table_iter_init(&it, a->requests);
        while (g_hash_table_iter_next(&it, &key, NULL))
                g_array_append_val(ids, *(uint64_t *) key);
        for (guint i = 0; i < ids->len; i++) {
                Request *r = g_hash_table_lookup(a->requests, &g_array_index(ids, uint64_t, i));
                if (r)
                        request_cancel(r, reason);
        }
}

Request *agent_get_request(Agent *a, uint64_t id) {
        return g_hash_table_lookup(a->requests, &id);
}

static gint by_id(gconstpointer x, gconstpointer y) {
        uint64_t i = request_id(*(Request *const *) x), j = request_id(*(Request *const *) y);

        return i < j ? -1 : i > j;
}

GPtrArray *agent_held_requests(Agent *a) {
        GPtrArray *out = g_ptr_array_new();
        GHashTableIter it;
        void *value;

        g_hash_table_iter_init(&it, a->requests);
        while (g_hash_table_iter_next(&it, NULL, &value))
                g_ptr_array_add(out, value);
        g_ptr_array_sort(out, by_id);
        return out;
}

unsigned agent_held_count(Agent *a) {
        return g_hash_table_size(a->requests);
}

Agent *agent_free(Agent *a) {
        if (!a)
                return NULL;
        if (a->requests) {
                agent_cancel_all(a, "pairgated is stopping");
                g_hash_table_unref(a->requests);
        }
        sd_event_source_disable_unref(a->exit_source);
        sd_bus_slot_unref(a->object);
        policy_set_unref(a->policies);
        sd_event_unref(a->event);
        sd_bus_unref(a->bus);
        g_free(a);
        return NULL;
}
