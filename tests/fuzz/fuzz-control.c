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

#include "control-names.h"
#include "control.h"
#include "device-history.h"
#include "fuzz-check.h"
#include "fuzz-input.h"
#include "fuzz-stack.h"
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
        FuzzCall call; /* first: the stack's part */
        bool agent1, valid;
        uint64_t request_id; /* Agent1: the id pairgated gives it (ids count from 1) */
        uint32_t passkey;
        const char *pin_arg; /* points into pin below */
        char pin[64];
        uint32_t seconds;
        bool error;
        bool stranger;
} Call;

typedef struct State {
        FuzzInput *in;
        FuzzStack *stack;
        DeviceHistory *history;
        Control *control;
        uint64_t next_request_id;
} State;

static Call *agent_call_with_id(State *s, uint64_t id) {
        GHashTableIter it;
        void *v;

        g_hash_table_iter_init(&it, s->stack->calls);
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

static void on_reply(FuzzCall *fc, sd_bus_message *reply, void *userdata) {
        Call *c = (Call *) fc;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        c->error = e != NULL;
        fuzz_assert(e || c->agent1 || !c->stranger || !c->valid,
                    "%s of a caller without credentials succeeded", c->call.method);
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
                fuzz_assert(known, "%s answered with %s (%s)", c->call.method, e->name, e->message);
        }
        if (!c->valid)
                return;
        if (!c->stranger && streq(c->call.method, "EnterPinCode") && !pin_ok(c->pin))
                fuzz_assert(streq(e->name, CONTROL_ERROR_INVALID_ARGS), "PIN \"%s\": %s", c->pin,
                            e->name);
        if (!c->stranger && streq(c->call.method, "EnterPasskey") && c->passkey > 999999)
                fuzz_assert(streq(e->name, CONTROL_ERROR_INVALID_ARGS), "passkey %u: %s",
                            c->passkey, e->name);
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

static void agent_call(State *s) {
        size_t mi = fuzz_pick(s->in, ELEMENTSOF(agent_methods));
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Call *c = g_new0(Call, 1);

        c->call.method = agent_methods[mi];
        c->agent1 = c->valid = true;
        fuzz_assert(sd_bus_message_new_method_call(s->stack->bus->peer, &m, NULL, AGENT_OBJECT_PATH,
                                                   AGENT_INTERFACE, agent_methods[mi]) >= 0,
                    "new call");
        fuzz_assert(append_args(s, m, agent_sigs[mi], c) >= 0, "arguments");
        c->request_id = streq(c->call.method, "Cancel") ? 0 : ++s->next_request_id;
        fuzz_stack_send(s->stack, m, FUZZ_BLUEZ_OWNER, &c->call);
}

static void control_call(State *s) {
        size_t mi = fuzz_pick(s->in, ELEMENTSOF(control_methods));
        bool wrong = fuzz_pick(s->in, 6) == 0;
        const char *sig =
                wrong ? wrong_sigs[fuzz_pick(s->in, ELEMENTSOF(wrong_sigs))] : control_sigs[mi];
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Call *c = g_new0(Call, 1), *held = NULL;
        bool was_open = false;

        c->call.method = control_methods[mi];
        c->valid = streq(sig, control_sigs[mi]);
        fuzz_assert(sd_bus_message_new_method_call(s->stack->bus->peer, &m, NULL,
                                                   CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                                                   control_methods[mi]) >= 0,
                    "new call");
        fuzz_assert(append_args(s, m, sig, c) >= 0, "arguments");
        if (c->valid && (mi >= 1 && mi <= 4)) {
                held = agent_call_with_id(s, c->request_id);
                was_open = held && !held->call.answered;
        }
        /* No sender: the caller is the socket's peer, root. A sender: its credentials are
         * asked of a bus there is not, so access is refused (the refusal path). */
        c->stranger = fuzz_pick(s->in, 4) == 0;
        fuzz_stack_send(s->stack, m, c->stranger ? FUZZ_STRANGER : NULL, &c->call);
        fuzz_bus_settle(s->stack->bus);
        fuzz_assert(c->call.answered, "%s not answered at once", c->call.method);
        if (c->valid && (mi == 1 || mi == 2) && !c->error)
                fuzz_assert(was_open && held->call.answered,
                            "%s of request %" G_GUINT64_FORMAT " succeeded, its call %s",
                            c->call.method, c->request_id,
                            !was_open ? "was not held" : "is still held");
        if (c->valid && mi == 1 && !c->error)
                fuzz_assert(!held->error || streq(held->call.method, "Cancel"),
                            "an approved %s was refused", held->call.method);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const FuzzStackCallbacks cb = { .reply = on_reply,
                                               .request_held = on_request_held,
                                               .request_ended = on_request_ended,
                                               .decided = on_decided };
        FuzzInput in = FUZZ_INPUT(data, size);
        State s = { .in = &in };
        FuzzStack *st;
        ControlEnv cenv;

        fuzz_stack_new(&s.stack, configs[fuzz_pick(&in, ELEMENTSOF(configs))], &cb, &s);
        st = s.stack;
        s.history = device_history_new(64);
        cenv = (ControlEnv){ .bus = st->bus->daemon,
                             .event = st->bus->event,
                             .agent = st->agent,
                             .bluez = st->bluez,
                             .owner = st->owner,
                             .cache = st->cache,
                             .history = s.history,
                             .config_path = st->config->path };
        fuzz_assert(control_new(&s.control, &cenv) >= 0, "control");
        control_set_config(s.control, st->config, NULL);
        fuzz_stack_start(st);

        for (int i = 0; i < 48 && !fuzz_input_empty(&in); i++) {
                if (fuzz_pick(&in, 3) == 0)
                        agent_call(&s);
                else
                        control_call(&s);
                fuzz_bus_settle(st->bus);
        }
        s.control = control_free(s.control); /* as daemon_free(): the agent's last calls see none */
        fuzz_stack_stop(st);
        fuzz_stack_free(st);
        device_history_free(s.history);
        return 0;
}
