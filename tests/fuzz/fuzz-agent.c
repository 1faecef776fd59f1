/* SPDX-License-Identifier: MIT */
/* The org.bluez.Agent1 object (agent.c) through its real dispatch path: method calls from a fake
 * bluetoothd or a stranger over a private connection (fuzz-bus.h), every method with arguments
 * of the right and of wrong signatures, on the agent's path or others, with Cancel and Release
 * in between, devices known to the cache (with arbitrary names) or not, up to the policy chain
 * (allowlist, the button's waiting queue, and the scripted test policy allowing, denying,
 * passing or holding).
 * Properties: every call is answered exactly once (held ones by Cancel, Release or shutdown);
 * a stranger is always refused and audited; answers are only Rejected, Canceled or sd-bus's own
 * errors for bad calls; an approval carries the method's result type and a valid passkey or PIN;
 * never more requests held than max_pending; one decision record per request; every audit line
 * is clean text. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "fuzz-check.h"
#include "fuzz-input.h"
#include "fuzz-stack.h"
#include "macro.h"

#define ROUTES(r)                                                                          \
        "routes = { RequestPinCode = " r "; DisplayPinCode = " r "; RequestPasskey = " r   \
        "; DisplayPasskey = " r "; RequestConfirmation = " r "; RequestAuthorization = " r \
        "; AuthorizeService = " r "; };\n"
#define ALLOWLIST "allowlist = { devices = [ \"AA:BB:CC:DD:EE:FF\" ]; };\n"

static const char *const configs[] = {
        ALLOWLIST ROUTES("[ \"allowlist\" ]"),
        "capability = \"KeyboardDisplay\";\n" ROUTES("[ ]"),
        "capability = \"NoInputNoOutput\";\n",
        /* Requests wait for a press that never comes (the node is absent): held until Cancel,
         * Release or shutdown, in the waiting queue. */
        "max_pending = 3;\n" ALLOWLIST ROUTES(
                "[ \"allowlist\", \"button\" ]") "button = { source = \"input\"; device = "
                                                 "\"/nonexistent/pairgate-fuzz/event0\"; "
                                                 "key = \"KEY_CONNECT\"; };\n",
#ifdef PAIRGATE_TEST_POLICIES
        ALLOWLIST ROUTES("[ \"allowlist\", \"test\" ]") "test = { verdict = \"allow\"; };\n",
        ALLOWLIST ROUTES("[ \"allowlist\", \"test\" ]") "test = { verdict = \"deny\"; };\n",
        ROUTES("[ \"test\" ]") "test = { verdict = \"pass\"; };\n",
        "max_pending = 2;\n" ROUTES("[ \"test\" ]") "test = { verdict = \"hold\"; };\n",
        ALLOWLIST ROUTES(
                "[ \"allowlist\", \"test\" ]") "test = { verdict = \"allow\"; pin = "
                                               "\"1234567890abcdef\"; passkey = 999999; };\n",
#endif
};

static const char *const methods[] = { "RequestPinCode",
                                       "DisplayPinCode",
                                       "RequestPasskey",
                                       "DisplayPasskey",
                                       "RequestConfirmation",
                                       "RequestAuthorization",
                                       "AuthorizeService",
                                       "Cancel",
                                       "Release",
                                       "Introspect" };
/* The right signature of each (Introspect: not an Agent1 method). */
static const char *const signatures[] = { "o", "os", "o", "ouq", "ou", "o", "os", "", "", "" };
static const char *const wrong_signatures[] = { "",   "s",  "u",     "oo", "ous", "ouqq",
                                                "oq", "as", "a{sv}", "v",  "ob",  "ouu" };
static const char *const device_paths[] = {
        "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF",
        "/org/bluez/hci0/dev_11_22_33_44_55_66",
        "/org/bluez/hci0/dev_aa_bb_cc_dd_ee_ff",
        "/org/bluez/hci0",
        "/dev_AA_BB_CC_DD_EE_FF",
        "/",
};

typedef struct Call {
        FuzzCall call;                 /* first: the stack's part */
        bool stranger, valid, request; /* valid: right path, interface and signature */
} Call;

typedef struct State {
        FuzzInput *in;
        FuzzStack *stack;
        unsigned requests, decisions, foreign_expected, foreign_records;
} State;

static char *fuzz_device_path(State *s) {
        return fuzz_bus_device_path(s->in, device_paths, ELEMENTSOF(device_paths));
}

static char *fuzz_text(State *s) {
        return fuzz_bus_string(s->in);
}

/* Append arguments of signature sig, from the input. */
static int append_args(State *s, sd_bus_message *m, const char *sig) {
        int r = 0;

        for (const char *t = sig; r >= 0 && *t; t++) {
                _cleanup_free_ char *str = NULL;
                switch (*t) {
                case 'o':
                        str = fuzz_device_path(s);
                        r = sd_bus_message_append(m, "o", str);
                        break;
                case 's':
                        str = fuzz_text(s);
                        r = sd_bus_message_append(m, "s", str);
                        break;
                case 'u':
                        r = sd_bus_message_append(m, "u", fuzz_u32(s->in));
                        break;
                case 'q':
                        r = sd_bus_message_append(m, "q", fuzz_u16(s->in));
                        break;
                case 'b':
                        r = sd_bus_message_append(m, "b", (int) fuzz_bool(s->in));
                        break;
                case 'v':
                        str = fuzz_text(s);
                        r = sd_bus_message_append(m, "v", "s", str);
                        break;
                case 'a':
                        str = fuzz_text(s);
                        if (t[1] == 's') {
                                r = sd_bus_message_append(m, "as", 1, str);
                                t++;
                        } else {
                                r = sd_bus_message_append(m, "a{sv}", 1, "Name", "s", str);
                                t += 4;
                        }
                        break;
                }
        }
        return r;
}

static void on_audit(const AuditRecord *rec, const char *line, void *userdata) {
        State *s = userdata;

        if (audit_event_decision(rec->event))
                s->decisions++;
        if (rec->event == AUDIT_FOREIGN_CALLER)
                s->foreign_records++;
}

static void on_reply(FuzzCall *fc, sd_bus_message *reply, void *userdata) {
        Call *c = (Call *) fc;
        const char *method = fc->method;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e) {
                static const char *const allowed[] = {
                        "org.bluez.Error.Rejected",
                        "org.bluez.Error.Canceled",
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        "org.freedesktop.DBus.Error.UnknownMethod",
                        "org.freedesktop.DBus.Error.UnknownObject",
                        "org.freedesktop.DBus.Error.UnknownInterface",
                };
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                        known |= streq(e->name, allowed[i]);
                fuzz_assert(known, "%s answered with %s", method, e->name);
                if (c->valid)
                        fuzz_assert(g_str_has_prefix(e->name, "org.bluez.Error."),
                                    "valid %s answered with %s", method, e->name);
                return;
        }
        fuzz_assert(!c->stranger || !c->valid, "a stranger's %s was approved", method);
        if (!c->valid)
                return; /* Introspect and such */
        if (streq(method, "RequestPinCode")) {
                const char *pin = NULL;
                fuzz_assert(streq(sd_bus_message_get_signature(reply, true), "s") &&
                                    sd_bus_message_read(reply, "s", &pin) >= 0,
                            "RequestPinCode approved without a PIN");
                fuzz_assert(strlen(pin) >= 1 && strlen(pin) <= 16 && fuzz_text_is_clean(pin, 16),
                            "a bad PIN");
        } else if (streq(method, "RequestPasskey")) {
                uint32_t passkey = UINT32_MAX;
                fuzz_assert(streq(sd_bus_message_get_signature(reply, true), "u") &&
                                    sd_bus_message_read(reply, "u", &passkey) >= 0,
                            "RequestPasskey approved without a passkey");
                fuzz_assert(passkey <= 999999, "passkey %u", passkey);
        } else
                fuzz_assert(streq(sd_bus_message_get_signature(reply, true), ""),
                            "%s approved with a value", method);
}

/* A device as bluetoothd announces it, with an arbitrary name. */
static void add_device(State *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *path = fuzz_device_path(s), *name = fuzz_text(s);
        int r;

        r = sd_bus_message_new_signal(s->stack->bus->peer, &m, "/",
                                      "org.freedesktop.DBus.ObjectManager", "InterfacesAdded");
        if (r >= 0)
                r = sd_bus_message_append(m, "oa{sa{sv}}", path, 1, "org.bluez.Device1", 4, "Name",
                                          "s", name, "Address", "s", "AA:BB:CC:DD:EE:FF", "Paired",
                                          "b", (int) fuzz_bool(s->in), "Class", "u",
                                          fuzz_u32(s->in));
        fuzz_assert(r >= 0, "building InterfacesAdded");
        fuzz_assert(fuzz_bus_send(s->stack->bus, m, FUZZ_BLUEZ_OWNER) > 0, "sending");
}

static void call(State *s) {
        size_t mi = fuzz_pick(s->in, ELEMENTSOF(methods));
        uint8_t how = fuzz_u8(s->in);
        bool stranger = how & 1, wrong_sig = (how & 6) == 6, wrong_path = (how & 0x38) == 0x38;
        bool wrong_iface = (how & 0xc0) == 0xc0 && !wrong_path;
        const char *sig = wrong_sig
                                  ? wrong_signatures[fuzz_pick(s->in, ELEMENTSOF(wrong_signatures))]
                                  : signatures[mi];
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        bool agent1 = mi < ELEMENTSOF(methods) - 1;
        Call *c = g_new0(Call, 1);
        int r;

        r = sd_bus_message_new_method_call(s->stack->bus->peer, &m, NULL,
                                           wrong_path ? "/org/pairgate/other" : AGENT_OBJECT_PATH,
                                           !agent1       ? "org.freedesktop.DBus.Introspectable"
                                           : wrong_iface ? "org.pairgate.Nothing"
                                                         : AGENT_INTERFACE,
                                           methods[mi]);
        if (r >= 0)
                r = append_args(s, m, sig);
        fuzz_assert(r >= 0, "building %s(%s): %s", methods[mi], sig, g_strerror(-r));
        c->call.method = methods[mi];
        c->stranger = stranger;
        c->valid = agent1 && !wrong_path && !wrong_iface && streq(sig, signatures[mi]);
        c->request = c->valid && mi < 7;
        if (c->valid && stranger)
                s->foreign_expected++;
        if (c->request && !stranger)
                s->requests++;
        fuzz_stack_send(s->stack, m, stranger ? FUZZ_STRANGER : FUZZ_BLUEZ_OWNER, &c->call);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const FuzzStackCallbacks cb = { .reply = on_reply, .audit = on_audit };
        FuzzInput in = FUZZ_INPUT(data, size);
        State s = { .in = &in };
        FuzzBus *bus;

        fuzz_stack_new(&s.stack, configs[fuzz_pick(&in, ELEMENTSOF(configs))], &cb, &s);
        fuzz_stack_start(s.stack);
        bus = s.stack->bus;
        for (int i = 0; i < 48 && !fuzz_input_empty(&in); i++) {
                if (fuzz_pick(&in, 6) == 0)
                        add_device(&s);
                else
                        call(&s);
                fuzz_bus_settle(bus);
                fuzz_assert(bus->calls_sent - bus->replies <= s.stack->config->max_pending,
                            "%u calls held (max_pending %u)", bus->calls_sent - bus->replies,
                            s.stack->config->max_pending);
        }
        /* Shutdown answers whatever is held. */
        fuzz_stack_stop(s.stack);
        fuzz_assert(s.decisions == s.requests, "%u requests, %u decision records", s.requests,
                    s.decisions);
        fuzz_assert(s.foreign_records == s.foreign_expected, "%u strangers, %u records",
                    s.foreign_expected, s.foreign_records);
        fuzz_stack_free(s.stack);
        return 0;
}
