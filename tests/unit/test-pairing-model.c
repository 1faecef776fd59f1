/* SPDX-License-Identifier: MIT */
/* Every cell of the reference tables (bluez-agent-semantics.md §3.3-§3.6), transcribed literally
 * here and compared with what src/config/pairing-model.c computes by rules. Expected values are
 * strings, so the transcription does not depend on the module's enums. */
#include <errno.h>
#include <glib.h>

#include "agent-types.h"
#include "pairing-model.h"

typedef struct Expect {
        const char *call;
        const char *model;
        bool auth;
} Expect;

/* Cell shorthands. */
/* clang-format off */
#define NC  { "RequestConfirmation", "numeric-comparison", true }
#define JWC { "RequestConfirmation", "just-works-confirm", false }
#define RA  { "RequestAuthorization", "just-works", false }
#define DP  { "DisplayPasskey", "passkey-entry-local-displays", true }
#define RP  { "RequestPasskey", "passkey-entry-local-types", true }
#define RP2 { "RequestPasskey", "passkey-entry-both-type", true }
#define KAC { "none-kernel-accepts", "just-works", false }
#define KRF { "none-kernel-refuses", "refused", false }

/* Rows: local capability; columns: remote capability. Both in this order: */
static const char *const caps[5] = {
        "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput", "KeyboardDisplay",
};

/* §3.3 BR/EDR SSP. The reference's main table shows remotes with IO setting MITM and NoIO remotes
 * clearing it; its notes give the two other combinations: a remote with IO that clears MITM
 * changes nothing (the kernel sets MITM for us), a NoIO remote that sets MITM breaks the Just
 * Works test and gives RequestConfirmation (hint 0). A KeyboardDisplay remote is DisplayYesNo on
 * the wire; a KeyboardDisplay local row is "as DisplayYesNo". */
static const Expect bredr_mitm[5][5] = {
        /* local \ remote:    DO   DYN  KO   NoIO KD  */
        /* DisplayOnly     */ { JWC, JWC, DP,  JWC, JWC },
        /* DisplayYesNo    */ { JWC, NC,  DP,  JWC, NC },
        /* KeyboardOnly    */ { RP,  RP,  RP2, JWC, RP },
        /* NoInputNoOutput */ { KAC, KAC, KAC, KAC, KAC },
        /* KeyboardDisplay */ { JWC, NC,  DP,  JWC, NC },
};

static const Expect bredr_nomitm[5][5] = {
        /* DisplayOnly     */ { JWC, JWC, DP,  RA,  JWC },
        /* DisplayYesNo    */ { JWC, NC,  DP,  RA,  NC },
        /* KeyboardOnly    */ { RP,  RP,  RP2, RA,  RP },
        /* NoInputNoOutput */ { KAC, KAC, KAC, KAC, KAC },
        /* KeyboardDisplay */ { JWC, NC,  DP,  RA,  NC },
};

/* §3.4 LE Secure Connections, remote AuthReq with MITM. */
static const Expect le_sc_mitm[5][5] = {
        /* DisplayOnly     */ { KRF, KRF, DP,  KRF, DP },
        /* DisplayYesNo    */ { KRF, NC,  DP,  KRF, NC },
        /* KeyboardOnly    */ { RP,  RP,  RP2, KRF, RP },
        /* NoInputNoOutput */ { RA,  RA,  RA,  RA,  RA },
        /* KeyboardDisplay */ { RP,  NC,  DP,  KRF, NC },
};

/* §3.4 without MITM: Just Works for every local capability, RequestAuthorization. */
static const Expect le_sc_nomitm[5][5] = {
        /* every row */       { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
};

/* §3.5 LE legacy, remote with MITM. KeyboardOnly-KeyboardOnly: both type (Core spec). */
static const Expect le_legacy_mitm[5][5] = {
        /* DisplayOnly     */ { KRF, KRF, DP,  KRF, DP },
        /* DisplayYesNo    */ { KRF, KRF, DP,  KRF, DP },
        /* KeyboardOnly    */ { RP,  RP,  RP2, KRF, RP },
        /* NoInputNoOutput */ { RA,  RA,  RA,  RA,  RA },
        /* KeyboardDisplay */ { RP,  RP,  DP,  KRF, RP },
};

static const Expect le_legacy_nomitm[5][5] = {
        /* every row */       { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
                              { RA,  RA,  RA,  RA,  RA },
};

/* clang-format on */

typedef struct Table {
        const char *transport;
        bool mitm;
        const Expect (*cells)[5];
} Table;

static const Table tables[] = {
        { "bredr", true, bredr_mitm },         { "bredr", false, bredr_nomitm },
        { "le-sc", true, le_sc_mitm },         { "le-sc", false, le_sc_nomitm },
        { "le-legacy", true, le_legacy_mitm }, { "le-legacy", false, le_legacy_nomitm },
};

static Capability cap(const char *s) {
        Capability c = capability_from_string(s);
        g_assert_cmpint(c, >=, 0);
        return c;
}

static PairingTransport transport(const char *s) {
        PairingTransport t = pairing_transport_from_string(s);
        g_assert_cmpint(t, >=, 0);
        return t;
}

static PairingOutcome lookup(const char *local, const char *remote, const char *t, bool mitm) {
        PairingOutcome o;
        g_assert_cmpint(pairing_model_lookup(cap(local), cap(remote), transport(t), mitm, &o), ==,
                        0);
        return o;
}

static void test_every_cell(void) {
        unsigned n = 0, failures = 0;

        for (size_t t = 0; t < G_N_ELEMENTS(tables); t++)
                for (size_t l = 0; l < 5; l++)
                        for (size_t r = 0; r < 5; r++) {
                                const Expect *e = &tables[t].cells[l][r];
                                PairingOutcome o = lookup(caps[l], caps[r], tables[t].transport,
                                                          tables[t].mitm);

                                if (g_test_verbose())
                                        g_test_message("%s mitm=%d %s <- %s: %s %s %d",
                                                       tables[t].transport, tables[t].mitm, caps[l],
                                                       caps[r], pairing_call_to_string(o.call),
                                                       pairing_model_to_string(o.model),
                                                       o.authenticated);
                                if (!g_str_equal(pairing_call_to_string(o.call), e->call) ||
                                    !g_str_equal(pairing_model_to_string(o.model), e->model) ||
                                    o.authenticated != e->auth) {
                                        failures++;
                                        g_test_message(
                                                "%s mitm=%s local %s remote %s: got %s/%s/%s, "
                                                "reference says %s/%s/%s",
                                                tables[t].transport, tables[t].mitm ? "on" : "off",
                                                caps[l], caps[r], pairing_call_to_string(o.call),
                                                pairing_model_to_string(o.model),
                                                o.authenticated ? "auth" : "unauth", e->call,
                                                e->model, e->auth ? "auth" : "unauth");
                                }
                                n++;
                        }
        g_assert_cmpuint(n, ==, 150);
        g_assert_cmpuint(failures, ==, 0);
}

/* §2.1 / pitfall 6: KeyboardDisplay is DisplayYesNo on BR/EDR, on both sides; LE keeps it. */
static void test_keyboard_display_bredr(void) {
        g_assert_cmpint(
                pairing_model_wire_capability(CAPABILITY_KEYBOARD_DISPLAY, PAIRING_TRANSPORT_BREDR),
                ==, CAPABILITY_DISPLAY_YES_NO);
        g_assert_cmpint(
                pairing_model_wire_capability(CAPABILITY_KEYBOARD_DISPLAY, PAIRING_TRANSPORT_LE_SC),
                ==, CAPABILITY_KEYBOARD_DISPLAY);
        g_assert_cmpint(pairing_model_wire_capability(CAPABILITY_KEYBOARD_DISPLAY,
                                                      PAIRING_TRANSPORT_LE_LEGACY),
                        ==, CAPABILITY_KEYBOARD_DISPLAY);
        for (Capability c = 0; c < _CAPABILITY_MAX; c++)
                if (c != CAPABILITY_KEYBOARD_DISPLAY)
                        g_assert_cmpint(pairing_model_wire_capability(c, PAIRING_TRANSPORT_BREDR),
                                        ==, c);
        g_assert_cmpint(pairing_model_wire_capability(_CAPABILITY_MAX, PAIRING_TRANSPORT_BREDR), ==,
                        _CAPABILITY_INVALID);

        for (int r = 0; r < 5; r++)
                for (int m = 0; m < 2; m++) {
                        PairingOutcome kd = lookup("KeyboardDisplay", caps[r], "bredr", m);
                        PairingOutcome dyn = lookup("DisplayYesNo", caps[r], "bredr", m);
                        g_assert_cmpint(kd.call, ==, dyn.call);
                        g_assert_cmpint(kd.model, ==, dyn.model);
                        g_assert_cmpint(kd.authenticated, ==, dyn.authenticated);
                        /* so a KeyboardDisplay agent never types over BR/EDR */
                        g_assert_cmpint(kd.call, !=, PAIRING_CALL_REQUEST_PASSKEY);
                }
        /* ... whereas over LE it does (remote DisplayOnly) */
        g_assert_cmpint(lookup("KeyboardDisplay", "DisplayOnly", "le-sc", true).call, ==,
                        PAIRING_CALL_REQUEST_PASSKEY);
}

/* §3.2 / §3.6: LE Just Works always reaches the agent, NoInputNoOutput included; the kernel never
 * accepts on its own over LE. */
static void test_le_just_works_reaches_agent(void) {
        const char *le[] = { "le-sc", "le-legacy" };

        for (size_t t = 0; t < G_N_ELEMENTS(le); t++)
                for (int l = 0; l < 5; l++)
                        for (int r = 0; r < 5; r++)
                                for (int m = 0; m < 2; m++) {
                                        PairingOutcome o = lookup(caps[l], caps[r], le[t], m);
                                        g_assert_cmpint(o.call, !=,
                                                        PAIRING_CALL_NONE_KERNEL_ACCEPTS);
                                        if (o.model == PAIRING_MODEL_JUST_WORKS)
                                                g_assert_cmpint(o.call, ==,
                                                                PAIRING_CALL_REQUEST_AUTHORIZATION);
                                        if (!m || l == CAPABILITY_NO_INPUT_NO_OUTPUT)
                                                g_assert_cmpint(o.call, ==,
                                                                PAIRING_CALL_REQUEST_AUTHORIZATION);
                                }
}

/* §3.3 / pitfall 3: a NoInputNoOutput agent is never asked over BR/EDR for a first pairing. */
static void test_bredr_noio_kernel_accepts(void) {
        for (int r = 0; r < 5; r++)
                for (int m = 0; m < 2; m++) {
                        PairingOutcome o = lookup("NoInputNoOutput", caps[r], "bredr", m);
                        g_assert_cmpint(o.call, ==, PAIRING_CALL_NONE_KERNEL_ACCEPTS);
                        g_assert_false(o.authenticated);
                }
}

/* §3.2 hci_get_auth_req: a remote with IO that does not ask for MITM changes nothing when the
 * local side has IO: the kernel asks for MITM on our side. */
static void test_bredr_local_mitm_forced(void) {
        for (int l = 0; l < 5; l++)
                for (int r = 0; r < 5; r++) {
                        if (l == CAPABILITY_NO_INPUT_NO_OUTPUT ||
                            r == CAPABILITY_NO_INPUT_NO_OUTPUT)
                                continue;
                        PairingOutcome on = lookup(caps[l], caps[r], "bredr", true);
                        PairingOutcome off = lookup(caps[l], caps[r], "bredr", false);
                        g_assert_cmpint(on.call, ==, off.call);
                        g_assert_cmpint(on.model, ==, off.model);
                        g_assert_cmpint(on.authenticated, ==, off.authenticated);
                }
        /* but a NoIO remote that sets MITM turns Just Works into a value to confirm */
        g_assert_cmpint(lookup("DisplayYesNo", "NoInputNoOutput", "bredr", true).call, ==,
                        PAIRING_CALL_REQUEST_CONFIRMATION);
        g_assert_cmpint(lookup("DisplayYesNo", "NoInputNoOutput", "bredr", false).call, ==,
                        PAIRING_CALL_REQUEST_AUTHORIZATION);
}

/* §3.1 step 1, §3.6, pitfall 4: JustWorksRepairing for already-paired devices. */
static void test_jw_repairing(void) {
        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++)
                for (Capability l = 0; l < _CAPABILITY_MAX; l++)
                        for (Capability r = 0; r < _CAPABILITY_MAX; r++)
                                for (int m = 0; m < 2; m++) {
                                        PairingCase pc = {
                                                .local = l,
                                                .remote = r,
                                                .transport = t,
                                                .remote_mitm = m,
                                        };
                                        PairingOutcome first, never, confirm, always;

                                        g_assert_cmpint(pairing_model_resolve(&pc, &first), ==, 0);
                                        pc.already_paired = true; /* jw_repairing zero: never */
                                        g_assert_cmpint(pairing_model_resolve(&pc, &never), ==, 0);
                                        pc.jw_repairing = JW_REPAIRING_CONFIRM;
                                        g_assert_cmpint(pairing_model_resolve(&pc, &confirm), ==,
                                                        0);
                                        pc.jw_repairing = JW_REPAIRING_ALWAYS;
                                        g_assert_cmpint(pairing_model_resolve(&pc, &always), ==, 0);

                                        /* Just Works with a confirm hint: RequestAuthorization on
                                         * a first pairing, and the kernel's own acceptance for a
                                         * BR/EDR NoIO agent, which becomes a hint once a key is
                                         * stored. */
                                        bool hint =
                                                first.call == PAIRING_CALL_REQUEST_AUTHORIZATION ||
                                                first.call == PAIRING_CALL_NONE_KERNEL_ACCEPTS;
                                        if (hint) {
                                                g_assert_cmpint(never.call, ==,
                                                                PAIRING_CALL_NONE_BLUEZ_REFUSES);
                                                g_assert_cmpint(confirm.call, ==,
                                                                PAIRING_CALL_REQUEST_AUTHORIZATION);
                                                g_assert_cmpint(always.call, ==,
                                                                PAIRING_CALL_NONE_BLUEZ_ACCEPTS);
                                                g_assert_cmpint(never.model, ==,
                                                                PAIRING_MODEL_JUST_WORKS);
                                                g_assert_false(never.authenticated);
                                                g_assert_false(confirm.authenticated);
                                                g_assert_false(always.authenticated);
                                        } else {
                                                /* numeric comparison, passkeys, value-to-confirm
                                                 * and kernel refusals do not consult it */
                                                g_assert_cmpint(never.call, ==, first.call);
                                                g_assert_cmpint(confirm.call, ==, first.call);
                                                g_assert_cmpint(always.call, ==, first.call);
                                                g_assert_cmpint(never.model, ==, first.model);
                                        }
                                }

        /* the literal cases from the reference */
        PairingCase pc = {
                .local = CAPABILITY_NO_INPUT_NO_OUTPUT,
                .remote = CAPABILITY_DISPLAY_YES_NO,
                .transport = PAIRING_TRANSPORT_BREDR,
                .remote_mitm = true,
                .already_paired = true,
        };
        PairingOutcome o;
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
        g_assert_cmpstr(pairing_call_to_string(o.call), ==, "none-bluez-refuses");
        pc.jw_repairing = JW_REPAIRING_CONFIRM;
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
        g_assert_cmpstr(pairing_call_to_string(o.call), ==, "RequestAuthorization");
        pc = (PairingCase){
                .local = CAPABILITY_DISPLAY_YES_NO,
                .remote = CAPABILITY_KEYBOARD_DISPLAY,
                .transport = PAIRING_TRANSPORT_LE_SC,
                .remote_mitm = false,
                .already_paired = true,
                .jw_repairing = JW_REPAIRING_ALWAYS,
        };
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
        g_assert_cmpstr(pairing_call_to_string(o.call), ==, "none-bluez-accepts");
        pc.remote_mitm = true; /* numeric comparison: not Just Works, repairing does not apply */
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
        g_assert_cmpstr(pairing_call_to_string(o.call), ==, "RequestConfirmation");
}

/* §3.3 notes: legacy PIN gives RequestPinCode for every capability, NoInputNoOutput included. */
static void test_legacy_pin(void) {
        for (int l = 0; l < 5; l++) {
                PairingOutcome o;
                g_assert_cmpint(pairing_model_legacy_pin(cap(caps[l]), &o), ==, 0);
                g_assert_cmpstr(pairing_call_to_string(o.call), ==, "RequestPinCode");
                g_assert_cmpstr(pairing_model_to_string(o.model), ==, "legacy-pin");
                g_assert_false(o.authenticated);

                for (int r = 0; r < 5; r++)
                        for (int m = 0; m < 2; m++) {
                                PairingCase pc = {
                                        .local = cap(caps[l]),
                                        .remote = cap(caps[r]),
                                        .transport = transport("bredr-legacy-pin"),
                                        .remote_mitm = m,
                                        .already_paired = m,
                                };
                                g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
                                g_assert_cmpstr(pairing_call_to_string(o.call), ==,
                                                "RequestPinCode");
                        }
                /* the remote's capability is irrelevant for legacy PIN */
                PairingCase pc = {
                        .local = cap(caps[l]),
                        .remote = _CAPABILITY_INVALID,
                        .transport = PAIRING_TRANSPORT_BREDR_LEGACY_PIN,
                };
                g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
        }
        PairingOutcome o;
        g_assert_cmpint(pairing_model_legacy_pin(_CAPABILITY_INVALID, &o), ==, -EINVAL);
}

static void test_invalid(void) {
        PairingOutcome o;
        PairingCase pc = {
                .local = CAPABILITY_DISPLAY_ONLY,
                .remote = CAPABILITY_DISPLAY_ONLY,
                .transport = PAIRING_TRANSPORT_BREDR,
        };

        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
        g_assert_cmpint(pairing_model_resolve(NULL, &o), ==, -EINVAL);
        g_assert_cmpint(pairing_model_resolve(&pc, NULL), ==, -EINVAL);
        pc.local = _CAPABILITY_MAX;
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, -EINVAL);
        pc.local = CAPABILITY_DISPLAY_ONLY;
        pc.remote = _CAPABILITY_INVALID;
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, -EINVAL);
        pc.remote = CAPABILITY_DISPLAY_ONLY;
        pc.transport = _PAIRING_TRANSPORT_MAX;
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, -EINVAL);
        pc.transport = PAIRING_TRANSPORT_LE_SC;
        pc.jw_repairing = _JW_REPAIRING_MAX;
        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, -EINVAL);
        g_assert_cmpint(pairing_model_lookup(CAPABILITY_DISPLAY_ONLY, CAPABILITY_DISPLAY_ONLY,
                                             _PAIRING_TRANSPORT_INVALID, true, &o),
                        ==, -EINVAL);
}

static void test_strings(void) {
        const char *transports[] = { "bredr", "le-sc", "le-legacy", "bredr-legacy-pin" };
        const char *models[] = { "numeric-comparison",
                                 "passkey-entry-local-displays",
                                 "passkey-entry-local-types",
                                 "passkey-entry-both-type",
                                 "just-works",
                                 "just-works-confirm",
                                 "legacy-pin",
                                 "refused" };
        const char *calls[] = { "RequestConfirmation", "RequestAuthorization",
                                "RequestPasskey",      "DisplayPasskey",
                                "RequestPinCode",      "none-kernel-accepts",
                                "none-kernel-refuses", "none-bluez-accepts",
                                "none-bluez-refuses" };
        const char *jw[] = { "never", "confirm", "always" };

        g_assert_cmpint(G_N_ELEMENTS(transports), ==, _PAIRING_TRANSPORT_MAX);
        g_assert_cmpint(G_N_ELEMENTS(models), ==, _PAIRING_MODEL_MAX);
        g_assert_cmpint(G_N_ELEMENTS(calls), ==, _PAIRING_CALL_MAX);
        g_assert_cmpint(G_N_ELEMENTS(jw), ==, _JW_REPAIRING_MAX);

        for (size_t i = 0; i < G_N_ELEMENTS(transports); i++)
                g_assert_cmpstr(
                        pairing_transport_to_string(pairing_transport_from_string(transports[i])),
                        ==, transports[i]);
        for (size_t i = 0; i < G_N_ELEMENTS(models); i++)
                g_assert_cmpstr(pairing_model_to_string(pairing_model_from_string(models[i])), ==,
                                models[i]);
        for (size_t i = 0; i < G_N_ELEMENTS(calls); i++) {
                PairingCall c = pairing_call_from_string(calls[i]);
                g_assert_cmpstr(pairing_call_to_string(c), ==, calls[i]);
                /* the Agent1 calls map to the method of the same name; none-* to nothing */
                AgentMethod m = pairing_call_to_method(c);
                if (g_str_has_prefix(calls[i], "none-")) {
                        g_assert_true(pairing_call_is_none(c));
                        g_assert_cmpint(m, ==, _AGENT_METHOD_INVALID);
                } else {
                        g_assert_false(pairing_call_is_none(c));
                        g_assert_cmpstr(agent_method_to_string(m), ==, calls[i]);
                }
        }
        for (size_t i = 0; i < G_N_ELEMENTS(jw); i++)
                g_assert_cmpstr(jw_repairing_to_string(jw_repairing_from_string(jw[i])), ==, jw[i]);

        g_assert_cmpint(pairing_transport_from_string("BREDR"), ==, _PAIRING_TRANSPORT_INVALID);
        g_assert_cmpint(pairing_model_from_string(NULL), ==, _PAIRING_MODEL_INVALID);
        g_assert_cmpint(pairing_call_from_string("Cancel"), ==, _PAIRING_CALL_INVALID);
        g_assert_cmpint(jw_repairing_from_string(""), ==, _JW_REPAIRING_INVALID);
        g_assert_null(pairing_transport_to_string(_PAIRING_TRANSPORT_MAX));
        g_assert_null(pairing_model_to_string(_PAIRING_MODEL_INVALID));
        g_assert_null(pairing_call_to_string(_PAIRING_CALL_MAX));
        g_assert_null(jw_repairing_to_string(_JW_REPAIRING_INVALID));
}

/* Request-time inference: a literal table (local capability x method, not yet paired). */
static void test_infer_table(void) {
        static const struct {
                const char *local;
                const char *method;
                const char *expect;
        } cases[] = {
                { "DisplayOnly", "RequestAuthorization", "just-works" },
                { "DisplayYesNo", "RequestAuthorization", "just-works" },
                { "KeyboardOnly", "RequestAuthorization", "just-works" },
                { "NoInputNoOutput", "RequestAuthorization", "just-works" },
                { "KeyboardDisplay", "RequestAuthorization", "just-works" },
                { "DisplayOnly", "RequestConfirmation", "just-works-confirm" },
                { "DisplayYesNo", "RequestConfirmation", "numeric-comparison" },
                { "KeyboardOnly", "RequestConfirmation", "just-works-confirm" },
                { "NoInputNoOutput", "RequestConfirmation", "unknown" },
                { "KeyboardDisplay", "RequestConfirmation", "numeric-comparison" },
                { "DisplayOnly", "DisplayPasskey", "passkey-entry-local-displays" },
                { "DisplayYesNo", "DisplayPasskey", "passkey-entry-local-displays" },
                { "KeyboardOnly", "DisplayPasskey", "unknown" },
                { "NoInputNoOutput", "DisplayPasskey", "unknown" },
                { "KeyboardDisplay", "DisplayPasskey", "passkey-entry-local-displays" },
                { "DisplayOnly", "RequestPasskey", "unknown" },
                { "DisplayYesNo", "RequestPasskey", "unknown" },
                { "KeyboardOnly", "RequestPasskey", "passkey-entry-local-types" },
                { "NoInputNoOutput", "RequestPasskey", "unknown" },
                { "KeyboardDisplay", "RequestPasskey", "passkey-entry-local-types" },
                { "DisplayOnly", "RequestPinCode", "legacy-pin" },
                { "NoInputNoOutput", "RequestPinCode", "legacy-pin" },
                { "KeyboardDisplay", "DisplayPinCode", "legacy-pin" },
                { "DisplayYesNo", "AuthorizeService", "service-authorization" },
                { "NoInputNoOutput", "AuthorizeService", "service-authorization" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                AgentMethod m = agent_method_from_string(cases[i].method);
                g_assert_cmpint(m, >=, 0);
                g_assert_cmpstr(pairing_model_infer(cap(cases[i].local), m, false), ==,
                                cases[i].expect);
        }

        /* already paired: Just Works only gets through with JustWorksRepairing=confirm */
        g_assert_cmpstr(pairing_model_infer(CAPABILITY_DISPLAY_YES_NO,
                                            AGENT_METHOD_REQUEST_AUTHORIZATION, true),
                        ==, "just-works-repairing");
        g_assert_cmpstr(pairing_model_infer(CAPABILITY_NO_INPUT_NO_OUTPUT,
                                            AGENT_METHOD_REQUEST_AUTHORIZATION, true),
                        ==, PAIRING_INFER_JUST_WORKS_REPAIRING);
        /* other methods are not affected by the paired flag */
        g_assert_cmpstr(pairing_model_infer(CAPABILITY_DISPLAY_YES_NO,
                                            AGENT_METHOD_REQUEST_CONFIRMATION, true),
                        ==, "numeric-comparison");

        g_assert_cmpstr(
                pairing_model_infer(_CAPABILITY_INVALID, AGENT_METHOD_REQUEST_AUTHORIZATION, false),
                ==, "unknown");
        g_assert_cmpstr(pairing_model_infer(CAPABILITY_DISPLAY_ONLY, _AGENT_METHOD_INVALID, false),
                        ==, PAIRING_INFER_UNKNOWN);
        g_assert_cmpstr(pairing_model_infer(CAPABILITY_DISPLAY_ONLY, _AGENT_METHOD_MAX, false), ==,
                        "unknown");
}

/* The inference agrees with the matrix: a method the matrix can produce for a capability is never
 * "unknown", a method it cannot produce is "unknown", and the inferred model is one the matrix
 * gives for that call (or the usual one of several). */
static void test_infer_matches_matrix(void) {
        for (Capability l = 0; l < _CAPABILITY_MAX; l++) {
                bool produced[_AGENT_METHOD_MAX] = {};
                bool model_seen[_AGENT_METHOD_MAX][_PAIRING_MODEL_MAX] = {};

                for (PairingTransport t = 0; t < _PAIRING_TRANSPORT_MAX; t++)
                        for (Capability r = 0; r < _CAPABILITY_MAX; r++)
                                for (int m = 0; m < 2; m++) {
                                        PairingCase pc = {
                                                .local = l,
                                                .remote = r,
                                                .transport = t,
                                                .remote_mitm = m,
                                        };
                                        PairingOutcome o;
                                        g_assert_cmpint(pairing_model_resolve(&pc, &o), ==, 0);
                                        AgentMethod am = pairing_call_to_method(o.call);
                                        if (am < 0)
                                                continue;
                                        produced[am] = true;
                                        model_seen[am][o.model] = true;
                                }

                for (AgentMethod am = 0; am < _AGENT_METHOD_MAX; am++) {
                        if (am == AGENT_METHOD_AUTHORIZE_SERVICE ||
                            am == AGENT_METHOD_DISPLAY_PIN_CODE)
                                continue; /* not pairing-matrix calls */
                        const char *s = pairing_model_infer(l, am, false);
                        if (!produced[am]) {
                                g_assert_cmpstr(s, ==, "unknown");
                                continue;
                        }
                        PairingModel pm = pairing_model_from_string(s);
                        g_assert_cmpint(pm, >=, 0);
                        /* KeyboardOnly's RequestPasskey is also "both type" with a KeyboardOnly
                         * remote; the inference says "local types", which is true either way. */
                        g_assert_true(model_seen[am][pm]);
                }
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/pairing-model/every-cell", test_every_cell);
        g_test_add_func("/pairing-model/keyboard-display-bredr", test_keyboard_display_bredr);
        g_test_add_func("/pairing-model/le-just-works-reaches-agent",
                        test_le_just_works_reaches_agent);
        g_test_add_func("/pairing-model/bredr-noio-kernel-accepts", test_bredr_noio_kernel_accepts);
        g_test_add_func("/pairing-model/bredr-local-mitm-forced", test_bredr_local_mitm_forced);
        g_test_add_func("/pairing-model/jw-repairing", test_jw_repairing);
        g_test_add_func("/pairing-model/legacy-pin", test_legacy_pin);
        g_test_add_func("/pairing-model/invalid", test_invalid);
        g_test_add_func("/pairing-model/strings", test_strings);
        g_test_add_func("/pairing-model/infer-table", test_infer_table);
        g_test_add_func("/pairing-model/infer-matches-matrix", test_infer_matches_matrix);
        return g_test_run();
}
