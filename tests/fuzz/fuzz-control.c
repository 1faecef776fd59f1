/* SPDX-License-Identifier: MIT */
/* The control interface (control.c, control-devices.c) through its real dispatch path: Control1
 * calls with arguments of the right and of wrong signatures (request ids, passkeys, PINs,
 * window seconds, addresses), between Agent1 requests from a fake bluetoothd that the operator
 * policy (or the test policy) holds, over a private connection (fuzz-bus.h; the caller's
 * credentials are the socket's, root's; with a sender set, none: refused). Properties: every call
 * of either interface is answered exactly once; Control1 answers only with its documented errors
 * (or sd-bus's for bad calls); an out-of-range passkey or PIN, or a window of more than a day, is
 * InvalidArguments; an approval of a held request answers its Agent1 call at once, an approval of
 * anything else is NotFound or NotApplicable; every audit line is clean text. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "agent.h"
#include "audit.h"
#include "bluez-owner.h"
#include "bluez.h"
#include "chain.h"
#include "config.h"
#include "control-names.h"
#include "control.h"
#include "device-cache.h"
#include "device-history.h"
#include "fuzz-bus.h"
#include "fuzz-check.h"
#include "fuzz-input.h"
#include "macro.h"

#define ROUTES(r)                                                                          \
        "routes = { RequestPinCode = " r "; DisplayPinCode = " r "; RequestPasskey = " r   \
        "; DisplayPasskey = " r "; RequestConfirmation = " r "; RequestAuthorization = " r \
        "; AuthorizeService = " r "; };\n"

static const char *const configs[] = {
        "max_pending = 4;\n" ROUTES("[ \"operator\" ]"),
        "max_pending = 2;\n" ROUTES(
                "[ \"allowlist\", \"operator\" ]") "allowlist = { devices = [ "
                                                   "\"AA:BB:CC:DD:EE:FF\" ]; };\n",
#ifdef PAIRGATE_TEST_POLICIES
        ROUTES("[ \"test\" ]") "test = { verdict = \"hold\"; };\n",
#endif
};

static const char *const agent_methods[] = { "RequestPinCode",      "RequestPasskey",
                                             "RequestConfirmation", "RequestAuthorization",
                                             "AuthorizeService",    "Cancel" };
static const char *const agent_sigs[] = { "o", "o", "ou", "o", "os", "" };
static const char *const control_methods[] = { "ListRequests", "Approve",      "Deny",
                                               "EnterPasskey", "EnterPinCode", "GetStatus",
                                               "OpenWindow",   "CloseWindow",  "ListDevices",
                                               "ForgetDevice", "LiftLockout" };
static const char *const control_sigs[] = { "", "t", "t", "tu", "ts", "", "u", "", "", "s", "s" };
static const char *const wrong_sigs[] = { "", "s", "u", "t", "tt", "ts", "tu", "us", "as", "v" };

typedef struct Call {
        char method[32];
        bool agent1, valid;
        uint64_t request_id; /* Agent1: the id pairgated gives it (ids count from 1) */
        uint32_t passkey;
        const char *pin_arg; /* points into pin below */
        char pin[64];
        uint32_t seconds;
        bool answered, error;
        bool stranger;
} Call;

typedef struct State {
        FuzzInput *in;
        FuzzBus *bus;
        Config *config;
        PolicySet *policies;
        BluezOwner *owner;
        DeviceCache *cache;
        Bluez *bluez;
        Agent *agent;
        DeviceHistory *history;
        Control *control;
        GHashTable *calls; /* cookie -> Call* */
        uint64_t next_request_id;
} State;

static void on_audit(const AuditRecord *rec, const char *line, void *userdata) {
        fuzz_assert_clean(line, SIZE_MAX, "audit line");
}

static Call *agent_call_with_id(State *s, uint64_t id) {
        GHashTableIter it;
        void *v;

        g_hash_table_iter_init(&it, s->calls);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
                Call *c = v;
                if (c->agent1 && c->request_id == id)
                        return c;
        }
        return NULL;
}

/* The PINs Control1 takes: 1..16 printable ASCII characters. */
static bool pin_ok(const char *pin) {
        size_t n = strlen(pin);

        for (size_t i = 0; i < n; i++)
                if ((unsigned char) pin[i] < 0x20 || (unsigned char) pin[i] > 0x7e)
                        return false;
        return n >= 1 && n <= 16;
}

static void on_reply(sd_bus_message *reply, uint64_t cookie, void *userdata) {
        State *s = userdata;
        Call *c = g_hash_table_lookup(s->calls, &cookie);
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        fuzz_assert(c, "a reply to no call");
        fuzz_assert(!c->answered, "%s answered twice", c->method);
        c->answered = true;
        c->error = e != NULL;
        fuzz_assert(e || c->agent1 || !c->stranger || !c->valid,
                    "%s of a caller without credentials succeeded", c->method);
        if (!e || c->agent1)
                return;
        {
                static const char *const allowed[] = {
                        CONTROL_ERROR_NOT_FOUND,
                        CONTROL_ERROR_INVALID_ARGS,
                        CONTROL_ERROR_NOT_APPLICABLE,
                        CONTROL_ERROR_FAILED,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        "org.freedesktop.DBus.Error.UnknownMethod",
                };
                bool known = c->stranger && streq(e->name, CONTROL_ERROR_ACCESS_DENIED);
                for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                        known |= streq(e->name, allowed[i]);
                fuzz_assert(!c->stranger || !c->valid ||
                                    streq(e->name, CONTROL_ERROR_ACCESS_DENIED),
                            "a caller without credentials got %s", e->name);
                fuzz_assert(known, "%s answered with %s (%s)", c->method, e->name, e->message);
        }
        if (!c->valid)
                return;
        if (!c->stranger && streq(c->method, "EnterPinCode") && !pin_ok(c->pin))
                fuzz_assert(streq(e->name, CONTROL_ERROR_INVALID_ARGS), "PIN \"%s\": %s", c->pin,
                            e->name);
        if (!c->stranger && streq(c->method, "EnterPasskey") && c->passkey > 999999)
                fuzz_assert(streq(e->name, CONTROL_ERROR_INVALID_ARGS), "passkey %u: %s",
                            c->passkey, e->name);
}

static int on_call(FuzzBus *b, sd_bus_message *call, void *userdata) {
        return 0; /* RegisterAgent, RequestName, GetManagedObjects, ...: an empty answer */
}

static void on_owner_changed(BluezOwner *o, const char *new_owner, void *userdata) {
        State *s = userdata;

        if (new_owner)
                (void) device_cache_reset(s->cache);
        bluez_owner_changed(s->bluez);
}

static void on_request_held(Agent *a, Request *r, void *userdata) {
        State *s = userdata;

        control_request_held(s->control, r);
}

static void on_request_ended(Agent *a, const Request *r, void *userdata) {
        State *s = userdata;

        control_request_ended(s->control, r);
}

static void on_decided(Agent *a, const PairingQuery *q, RequestResult result, void *userdata) {
        State *s = userdata;

        device_history_note(s->history, q->address, q->method, result, 1);
        control_note_decision(s->control, result);
}

static int append_args(State *s, sd_bus_message *m, const char *sig, Call *c) {
        static const char *const addresses[] = { "AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff",
                                                 "11:22:33:44:55:66" };
        int r = 0;

        for (const char *t = sig; r >= 0 && *t; t++) {
                _cleanup_free_ char *raw = NULL, *text = NULL;
                switch (*t) {
                case 'o':
                        r = sd_bus_message_append(
                                m, "o",
                                fuzz_bool(s->in) ? "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF"
                                                 : "/org/bluez/hci0/dev_11_22_33_44_55_66");
                        break;
                case 's':
                        if (fuzz_pick(s->in, 3) == 0) {
                                raw = g_strdup(addresses[fuzz_pick(s->in, ELEMENTSOF(addresses))]);
                        } else
                                raw = fuzz_string(s->in);
                        text = fuzz_bus_text(raw);
                        g_strlcpy(c->pin, text, sizeof c->pin);
                        c->pin_arg = c->pin;
                        r = sd_bus_message_append(m, "s", text);
                        break;
                case 't': {
                        /* mostly ids that exist or just did */
                        uint64_t id = fuzz_pick(s->in, 4)
                                              ? fuzz_pick(s->in, 8)
                                              : (uint64_t) fuzz_u32(s->in) << 32 | fuzz_u32(s->in);
                        c->request_id = id;
                        r = sd_bus_message_append(m, "t", id);
                        break;
                }
                case 'u':
                        c->passkey = c->seconds =
                                fuzz_bool(s->in) ? fuzz_u32(s->in) : fuzz_u32(s->in) % 1000000;
                        r = sd_bus_message_append(m, "u", c->passkey);
                        break;
                case 'a':
                        r = sd_bus_message_append(m, "as", 1, "x");
                        t++;
                        break;
                case 'v':
                        r = sd_bus_message_append(m, "v", "s", "x");
                        break;
                }
        }
        return r;
}

static void send_call(State *s, sd_bus_message *m, Call *c, const char *sender) {
        int64_t cookie = fuzz_bus_send(s->bus, m, sender);
        uint64_t *key;

        fuzz_assert(cookie > 0, "sending %s", c->method);
        key = g_new(uint64_t, 1);
        *key = (uint64_t) cookie;
        g_hash_table_insert(s->calls, key, c);
}

static void agent_call(State *s) {
        size_t mi = fuzz_pick(s->in, ELEMENTSOF(agent_methods));
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Call *c = g_new0(Call, 1);

        g_strlcpy(c->method, agent_methods[mi], sizeof c->method);
        c->agent1 = c->valid = true;
        fuzz_assert(sd_bus_message_new_method_call(s->bus->peer, &m, NULL, AGENT_OBJECT_PATH,
                                                   AGENT_INTERFACE, agent_methods[mi]) >= 0,
                    "new call");
        fuzz_assert(append_args(s, m, agent_sigs[mi], c) >= 0, "arguments");
        c->request_id = streq(c->method, "Cancel") ? 0 : ++s->next_request_id;
        send_call(s, m, c, FUZZ_BLUEZ_OWNER);
}

static void control_call(State *s) {
        size_t mi = fuzz_pick(s->in, ELEMENTSOF(control_methods));
        bool wrong = fuzz_pick(s->in, 6) == 0;
        const char *sig =
                wrong ? wrong_sigs[fuzz_pick(s->in, ELEMENTSOF(wrong_sigs))] : control_sigs[mi];
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Call *c = g_new0(Call, 1), *held = NULL;
        bool was_open = false;

        g_strlcpy(c->method, control_methods[mi], sizeof c->method);
        c->valid = streq(sig, control_sigs[mi]);
        fuzz_assert(sd_bus_message_new_method_call(s->bus->peer, &m, NULL, CONTROL_OBJECT_PATH,
                                                   CONTROL_INTERFACE, control_methods[mi]) >= 0,
                    "new call");
        fuzz_assert(append_args(s, m, sig, c) >= 0, "arguments");
        if (c->valid && (mi >= 1 && mi <= 4)) {
                held = agent_call_with_id(s, c->request_id);
                was_open = held && !held->answered;
        }
        /* No sender: the caller is the socket's peer, root. A sender: its credentials are
         * asked of a bus there is not, so access is refused (the refusal path). */
        c->stranger = fuzz_pick(s->in, 4) == 0;
        send_call(s, m, c, c->stranger ? FUZZ_STRANGER : NULL);
        fuzz_bus_settle(s->bus);
        fuzz_assert(c->answered, "%s not answered at once", c->method);
        if (c->valid && (mi == 1 || mi == 2) && !c->error)
                fuzz_assert(was_open && held->answered,
                            "%s of request %" G_GUINT64_FORMAT " succeeded, its call %s", c->method,
                            c->request_id, !was_open ? "was not held" : "is still held");
        if (c->valid && mi == 1 && !c->error)
                fuzz_assert(!held->error || streq(held->method, "Cancel"),
                            "an approved %s was refused", held->method);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const AgentCallbacks agent_cb = { .request_held = on_request_held,
                                                 .request_ended = on_request_ended,
                                                 .decided = on_decided };
        FuzzInput in = FUZZ_INPUT(data, size);
        State s = { .in = &in };
        _cleanup_free_ char *error = NULL;
        PolicyEnv env;
        ControlEnv cenv;
        GHashTableIter it;
        void *v;

        s.calls = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        fuzz_assert(config_load_string(configs[fuzz_pick(&in, ELEMENTSOF(configs))], "fuzz.conf",
                                       &s.config, &error) >= 0,
                    "config: %s", error);
        fuzz_bus_new(&s.bus, on_call, on_reply, &s);
        audit_set_sink(on_audit, &s);
        fuzz_assert(bluez_owner_new(&s.owner, s.bus->daemon, on_owner_changed, &s) >= 0, "owner");
        fuzz_assert(device_cache_new(&s.cache, s.bus->daemon, s.owner) >= 0, "cache");
        env = (PolicyEnv){ .event = s.bus->event,
                           .bus = s.bus->daemon,
                           .bluez_owner = s.owner,
                           .devices = s.cache,
                           .config_path = s.config->path };
        fuzz_assert(policy_set_new(&s.policies, s.config, &env, &error) >= 0, "policies: %s",
                    error);
        fuzz_assert(bluez_new(&s.bluez, s.bus->daemon, s.bus->event, s.owner, AGENT_OBJECT_PATH,
                              s.config->capability, NULL, &s) >= 0,
                    "bluez");
        fuzz_assert(agent_new(&s.agent, s.bus->daemon, s.bus->event, s.bluez, s.owner, s.cache,
                              &agent_cb, &s) >= 0,
                    "agent");
        agent_set_config(s.agent, s.config, s.policies);
        s.history = device_history_new(64);
        cenv = (ControlEnv){ .bus = s.bus->daemon,
                             .event = s.bus->event,
                             .agent = s.agent,
                             .bluez = s.bluez,
                             .owner = s.owner,
                             .cache = s.cache,
                             .history = s.history,
                             .config_path = s.config->path };
        fuzz_assert(control_new(&s.control, &cenv) >= 0, "control");
        control_set_config(s.control, s.config, NULL);
        fuzz_assert(bluez_owner_start(s.owner) >= 0, "owner start");
        fuzz_bus_settle(s.bus);

        for (int i = 0; i < 48 && !fuzz_input_empty(&in); i++) {
                if (fuzz_pick(&in, 3) == 0)
                        agent_call(&s);
                else
                        control_call(&s);
                fuzz_bus_settle(s.bus);
        }
        s.control = control_free(s.control); /* as daemon_free(): the agent's last calls see none */
        agent_free(s.agent);
        fuzz_bus_settle(s.bus);
        fuzz_assert(s.bus->replies == s.bus->calls_sent, "%u calls, %u answers", s.bus->calls_sent,
                    s.bus->replies);
        g_hash_table_iter_init(&it, s.calls);
        while (g_hash_table_iter_next(&it, NULL, &v))
                fuzz_assert(((Call *) v)->answered, "%s never answered", ((Call *) v)->method);

        audit_set_sink(NULL, NULL);
        device_history_free(s.history);
        policy_set_unref(s.policies);
        bluez_free(s.bluez);
        device_cache_free(s.cache);
        bluez_owner_free(s.owner);
        fuzz_bus_free(s.bus);
        config_free(s.config);
        g_hash_table_unref(s.calls);
        return 0;
}
