/* SPDX-License-Identifier: MIT */
/* The plain-language warnings of --explain, --check-config and the daemon's config-warning
 * records: what the configured capability and routes cannot serve, and why. */
#include <errno.h>
#include <glib.h>

#include "explain-internal.h"
#include "explain.h"
#include "macro.h"
#include "pairing-model.h"
#include "policy.h"

/* ---- warnings -------------------------------------------------------------------------------- */

/* "A, B or C" */
static char *join_or(GPtrArray *items) {
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < items->len; i++) {
                if (i > 0)
                        g_string_append(s, i + 1 == items->len ? " or " : ", ");
                g_string_append(s, g_ptr_array_index(items, i));
        }
        return g_string_free(s, FALSE);
}

static void add_warning(GPtrArray *w, char *owned) {
        g_ptr_array_add(w, owned);
}

/* Who decides RequestAuthorization (Just Works), and what that means for strangers. */
static char *just_works_route_sentence(const Config *c) {
        const char *const *r;
        g_autofree char *b = NULL;

        switch (explain_route_state(c, AGENT_METHOD_REQUEST_AUTHORIZATION, &r)) {
        case ROUTE_MISSING:
                return g_strdup("RequestAuthorization has no route, so every such pairing fails");
        case ROUTE_EMPTY:
                return g_strdup("RequestAuthorization's route is empty, so every such pairing is "
                                "refused");
        case ROUTE_SOME:
        default:
                break;
        }
        b = explain_route_bracketed(r);
        if (explain_route_is_only(r, "allowlist"))
                return g_strdup_printf("RequestAuthorization is routed to %s only, so strangers "
                                       "are refused",
                                       b);
        if (explain_route_contains(r, "allowlist"))
                return g_strdup_printf("RequestAuthorization is routed to %s: a device not on the "
                                       "allowlist is paired, without authentication, if a later "
                                       "policy in that route allows it",
                                       b);
        return g_strdup_printf("RequestAuthorization is routed to %s, which has no allowlist: a "
                               "stranger that gets past it is paired without authentication",
                               b);
}

static char *authorize_service_sentence(const Config *c) {
        const char *const *r;
        g_autofree char *b = NULL;

        switch (explain_route_state(c, AGENT_METHOD_AUTHORIZE_SERVICE, &r)) {
        case ROUTE_MISSING:
                return g_strdup("AuthorizeService has no route, so every profile connection from "
                                "a device not marked Trusted is refused");
        case ROUTE_EMPTY:
                return g_strdup("AuthorizeService's route is empty, so every profile connection "
                                "from a device not marked Trusted is refused");
        case ROUTE_SOME:
        default:
                break;
        }
        b = explain_route_bracketed(r);
        if (explain_route_is_only(r, "allowlist"))
                return g_strdup_printf("AuthorizeService is routed to %s only, so a stranger's "
                                       "connections are refused (devices marked Trusted skip it%s)",
                                       b,
                                       c->trust_on_approve
                                               ? "; pairgate marks the devices it approved Trusted"
                                               : "");
        return g_strdup_printf("AuthorizeService is routed to %s (devices marked Trusted skip it)",
                               b);
}

/* One example cell producing `call`, for the "no route" warning. */
static char *example_cell(const Matrix *mx, PairingCall call) {
        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++)
                for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++)
                        for (size_t m = 0; m < 2; m++)
                                if (mx->cell[t][remote][m].call == call)
                                        return g_strdup_printf(
                                                "e.g. %s with a %s remote%s",
                                                pairing_transport_to_string(t),
                                                capability_to_string(remote),
                                                explain_mitm_order[m]
                                                        ? " asking for MITM protection"
                                                        : "");
        if (mx->legacy_pin.call == call)
                return g_strdup("remotes before Bluetooth 2.1, which pair with a legacy PIN");
        return NULL;
}

static void warn_just_works(GPtrArray *w, const Config *c) {
        g_autofree char *route = just_works_route_sentence(c);

        add_warning(w, g_strdup_printf("Any device can force Just Works by claiming "
                                       "NoInputNoOutput (or, over LE, by not asking for MITM "
                                       "protection): pairgate then gets RequestAuthorization and "
                                       "no passkey or number protects the pairing. %s.",
                                       route));
}

static void warn_no_input_no_output(GPtrArray *w, const Config *c) {
        g_autofree char *svc = authorize_service_sentence(c);
        g_autofree char *route = just_works_route_sentence(c);

        add_warning(w, g_strdup_printf("Capability NoInputNoOutput: over BR/EDR the kernel accepts "
                                       "pairing without asking pairgate; only AuthorizeService can "
                                       "still refuse a stranger's audio or other profile "
                                       "connection. %s.",
                                       svc));
        add_warning(w, g_strdup_printf("Capability NoInputNoOutput: every pairing is Just Works "
                                       "and no key is ever authenticated (GATT characteristics "
                                       "that need authentication can never be used). Over LE "
                                       "every pairing still reaches pairgate as "
                                       "RequestAuthorization: %s.",
                                       route));
}

static void warn_keyboard_only(GPtrArray *w, const Config *c) {
        const char *const *r;
        g_autofree char *b = NULL;
        const char *lead = "Capability KeyboardOnly: a phone will ask pairgate to type the passkey "
                           "it shows (RequestPasskey), over LE and over BR/EDR;";

        switch (explain_route_state(c, AGENT_METHOD_REQUEST_PASSKEY, &r)) {
        case ROUTE_MISSING:
                add_warning(w, g_strdup_printf("%s no route for RequestPasskey, so every such "
                                               "pairing fails.",
                                               lead));
                return;
        case ROUTE_EMPTY:
                add_warning(w, g_strdup_printf("%s the route for RequestPasskey is empty, so every "
                                               "such pairing is refused.",
                                               lead));
                return;
        case ROUTE_SOME:
        default:
                b = explain_route_bracketed(r);
                add_warning(w, g_strdup_printf("%s RequestPasskey is routed to %s: one of them "
                                               "must supply the passkey the phone shows, or the "
                                               "pairing fails.",
                                               lead, b));
                return;
        }
}

/* BR/EDR cells that ask the agent to confirm a value the remote never checks. */
static void warn_unauthenticated_confirmation(GPtrArray *w, const Config *c, const Matrix *mx) {
        g_autoptr(GPtrArray) remotes = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *list = NULL;

        for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++) {
                bool on = mx->cell[PAIRING_TRANSPORT_BREDR][remote][0].model ==
                          PAIRING_MODEL_JUST_WORKS_CONFIRM;
                bool off = mx->cell[PAIRING_TRANSPORT_BREDR][remote][1].model ==
                           PAIRING_MODEL_JUST_WORKS_CONFIRM;
                if (!on && !off)
                        continue;
                g_ptr_array_add(remotes,
                                g_strdup_printf("%s%s", capability_to_string(remote),
                                                on && !off ? " (asking for MITM protection)" : ""));
        }
        if (remotes->len == 0)
                return;
        list = join_or(remotes);
        add_warning(w, g_strdup_printf("Capability %s: over BR/EDR a device claiming %s gets a "
                                       "RequestConfirmation with a 6-digit number, but that "
                                       "remote cannot confirm it and the key is not "
                                       "authenticated: accepting the number proves nothing "
                                       "about who is pairing.",
                                       capability_to_string(c->capability), list));
}

/* LE cells the kernel refuses (MITM asked for, only Just Works possible). */
static void warn_le_refusals(GPtrArray *w, const Config *c, const Matrix *mx) {
        g_autoptr(GPtrArray) sc = g_ptr_array_new();
        g_autoptr(GPtrArray) legacy_only = g_ptr_array_new();
        g_autofree char *sc_list = NULL, *legacy_list = NULL, *msg = NULL;

        for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++) {
                bool in_sc = mx->cell[PAIRING_TRANSPORT_LE_SC][remote][0].call ==
                             PAIRING_CALL_NONE_KERNEL_REFUSES;
                bool in_legacy = mx->cell[PAIRING_TRANSPORT_LE_LEGACY][remote][0].call ==
                                 PAIRING_CALL_NONE_KERNEL_REFUSES;
                if (in_sc)
                        g_ptr_array_add(sc, (char *) capability_to_string(remote));
                else if (in_legacy)
                        g_ptr_array_add(legacy_only, (char *) capability_to_string(remote));
        }
        if (sc->len == 0 && legacy_only->len == 0)
                return;

        sc_list = join_or(sc);
        legacy_list = join_or(legacy_only);
        if (sc->len > 0 && legacy_only->len > 0)
                msg = g_strdup_printf("%s (with LE legacy pairing also %s)", sc_list, legacy_list);
        else if (sc->len > 0)
                msg = g_strdup(sc_list);
        else
                msg = g_strdup_printf("%s (LE legacy pairing only)", legacy_list);

        add_warning(w, g_strdup_printf("Capability %s: over LE the kernel refuses, without asking "
                                       "pairgate, a central that asks for MITM protection while "
                                       "claiming %s; pairgate never hears of these attempts.",
                                       capability_to_string(c->capability), msg));
}

/* Agent calls this capability produces for which the route rejects everything. */
static void warn_unrouted_calls(GPtrArray *w, const Config *c, const Matrix *mx) {
        bool produced[_PAIRING_CALL_MAX] = {};

        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++)
                for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++)
                        for (size_t m = 0; m < 2; m++)
                                produced[mx->cell[t][remote][m].call] = true;
        produced[mx->legacy_pin.call] = true;

        for (PairingCall call = 0; call < _PAIRING_CALL_MAX; call++) {
                AgentMethod m = pairing_call_to_method(call);
                const char *name = pairing_call_to_string(call);
                const char *cap = capability_to_string(c->capability);
                g_autofree char *example = NULL;
                const char *why;
                RouteState st;

                if (!produced[call] || m < 0)
                        continue;
                /* covered by the Just Works and KeyboardOnly warnings */
                if (m == AGENT_METHOD_REQUEST_AUTHORIZATION)
                        continue;
                if (m == AGENT_METHOD_REQUEST_PASSKEY && c->capability == CAPABILITY_KEYBOARD_ONLY)
                        continue;
                st = explain_route_state(c, m, NULL);
                if (st == ROUTE_SOME)
                        continue;
                why = st == ROUTE_MISSING ? "has no route" : "has an empty route";
                example = example_cell(mx, call);

                if (m == AGENT_METHOD_REQUEST_PIN_CODE)
                        add_warning(w, g_strdup_printf("Remotes before Bluetooth 2.1 (or without "
                                                       "Secure Simple Pairing) pair with a legacy "
                                                       "PIN; RequestPinCode %s, so they cannot "
                                                       "pair.",
                                                       why));
                else if (m == AGENT_METHOD_DISPLAY_PASSKEY)
                        add_warning(w, g_strdup_printf("Capability %s leads to DisplayPasskey "
                                                       "(%s), but DisplayPasskey %s: no policy "
                                                       "presents the passkey, so the remote user "
                                                       "has nothing to type and such pairings "
                                                       "fail (bluetoothd does not wait for an "
                                                       "answer to DisplayPasskey, so refusing it "
                                                       "stops nothing).",
                                                       cap, example, why));
                else
                        add_warning(w, g_strdup_printf("Capability %s leads to %s (%s), but %s "
                                                       "%s: every such pairing fails.",
                                                       cap, name, example, name, why));
        }
}

/* Some policy of route r can approve m. */
static bool route_can_allow(const Config *c, const char *const *r, AgentMethod m) {
        for (; r && *r; r++) {
                const PolicyOps *ops = policy_lookup(*r);
                if (ops && ops->can_allow && ops->can_allow(config_policy_section(c, *r), m))
                        return true;
        }
        return false;
}

/* A route whose policies can never approve: every such request is refused, although --explain
 * lists those policies as the deciders (e.g. [speech] alone for RequestConfirmation). */
static void warn_undecidable_routes(GPtrArray *w, const Config *c) {
        for (AgentMethod m = 0; m < _AGENT_METHOD_MAX; m++) {
                const char *const *r;
                g_autofree char *b = NULL;

                if (agent_method_is_notification(m) ||
                    explain_route_state(c, m, &r) != ROUTE_SOME || route_can_allow(c, r, m))
                        continue;
                b = explain_route_bracketed(r);
                add_warning(w, g_strdup_printf("%s is routed to %s, but no policy in it can "
                                               "approve %s (speech only presents the code, window "
                                               "only refuses, button cannot type a passkey): "
                                               "every such request is refused.",
                                               agent_method_to_string(m), b,
                                               agent_method_to_string(m)));
        }
}

/* Without trust on approval, a device that a pairing route approves is asked AuthorizeService for
 * every profile connection afterwards: warn when that route cannot approve what pairing did. */
static void warn_untrusted_after_pairing(GPtrArray *w, const Config *c) {
        static const AgentMethod pairing[] = { AGENT_METHOD_REQUEST_CONFIRMATION,
                                               AGENT_METHOD_REQUEST_AUTHORIZATION,
                                               AGENT_METHOD_REQUEST_PASSKEY,
                                               AGENT_METHOD_REQUEST_PIN_CODE };
        const char *const *svc = config_route(c, AGENT_METHOD_AUTHORIZE_SERVICE);
        g_autoptr(GPtrArray) missing = g_ptr_array_new();
        g_autofree char *who = NULL, *b = NULL;

        if (c->trust_on_approve)
                return;
        for (size_t i = 0; i < ELEMENTSOF(pairing); i++)
                for (const char *const *r = config_route(c, pairing[i]); r && *r; r++) {
                        const PolicyOps *ops = policy_lookup(*r);
                        const config_setting_t *sec = config_policy_section(c, *r);
                        if (!ops || !ops->can_allow || !ops->can_allow(sec, pairing[i]) ||
                            explain_route_contains(svc, *r) ||
                            g_ptr_array_find_with_equal_func(missing, *r, g_str_equal, NULL))
                                continue;
                        g_ptr_array_add(missing, (char *) *r);
                }
        if (missing->len == 0)
                return;
        who = join_or(missing);
        b = svc ? explain_route_bracketed(svc) : g_strdup("nothing (no route)");
        add_warning(w, g_strdup_printf("trust_on_approve is false: a device that %s approves for "
                                       "pairing is not marked Trusted, so bluetoothd asks "
                                       "AuthorizeService before each of its profile connections "
                                       "(audio, HID, ...), and AuthorizeService is routed to %s: "
                                       "those connections are refused. Set trust_on_approve = "
                                       "true, or add %s to the AuthorizeService route.",
                                       who, b, who));
}

static void warn_timeout(GPtrArray *w, const Config *c) {
        if (c->request_timeout_sec <= LE_SAFE_TIMEOUT_SEC)
                return;
        add_warning(w, g_strdup_printf("request_timeout is %u s: over LE the kernel drops the "
                                       "link 30 s after its last pairing message, so a request "
                                       "still undecided by then fails anyway. Keep "
                                       "request_timeout at %u s or less (25 s recommended).",
                                       c->request_timeout_sec, (unsigned) LE_SAFE_TIMEOUT_SEC));
}

static void warn_repairing(GPtrArray *w) {
        add_warning(w, g_strdup("A device that was paired before and pairs again with Just Works "
                                "(for example a phone that \"forgot\" this device) is refused by "
                                "bluetoothd without asking pairgate, because bluetoothd's "
                                "JustWorksRepairing defaults to \"never\": remove the old bond "
                                "first, or set JustWorksRepairing=confirm in "
                                "/etc/bluetooth/main.conf so pairgate gets RequestAuthorization."));
}

static GPtrArray *warnings_build(const Config *c, const Matrix *mx) {
        GPtrArray *w = g_ptr_array_new_with_free_func(g_free);

        if (c->capability == CAPABILITY_NO_INPUT_NO_OUTPUT)
                warn_no_input_no_output(w, c);
        else
                warn_just_works(w, c);
        if (c->capability == CAPABILITY_KEYBOARD_ONLY)
                warn_keyboard_only(w, c);
        warn_unauthenticated_confirmation(w, c, mx);
        warn_le_refusals(w, c, mx);
        warn_unrouted_calls(w, c, mx);
        warn_undecidable_routes(w, c);
        warn_untrusted_after_pairing(w, c);
        warn_timeout(w, c);
        warn_repairing(w);
        return w;
}

char **explain_warnings(const Config *c) {
        Matrix mx;
        GPtrArray *w;

        if (!explain_config_capability_valid(c) || explain_matrix_fill(c->capability, &mx) < 0)
                return NULL;
        w = warnings_build(c, &mx);
        g_ptr_array_set_free_func(w, NULL);
        g_ptr_array_add(w, NULL);
        return (char **) g_ptr_array_free(w, FALSE);
}
