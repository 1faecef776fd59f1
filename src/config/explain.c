/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <glib.h>

#include "explain.h"
#include "macro.h"
#include "pairing-model.h"

#define WRAP_COLUMNS        100
#define LE_SAFE_TIMEOUT_SEC 28 /* LE's SMP timer is 30 s; leave the reply some margin */

static const bool mitm_order[2] = { true, false };

typedef struct Matrix {
        PairingOutcome cell[PAIRING_TRANSPORT_MATRIX_N][_CAPABILITY_MAX]
                           [2]; /* [t][remote][!mitm] */
        PairingOutcome legacy_pin;
} Matrix;

static bool config_capability_valid(const Config *c) {
        return c && c->capability >= 0 && c->capability < _CAPABILITY_MAX;
}

static int matrix_fill(Capability local, Matrix *ret) {
        int r;

        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++)
                for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++)
                        for (size_t m = 0; m < 2; m++) {
                                r = pairing_model_lookup(local, remote, t, mitm_order[m],
                                                         &ret->cell[t][remote][m]);
                                if (r < 0)
                                        return r;
                        }
        return pairing_model_legacy_pin(local, &ret->legacy_pin);
}

/* ---- routes ---------------------------------------------------------------------------------- */

typedef enum RouteState {
        ROUTE_MISSING, /* no route: rejected */
        ROUTE_EMPTY,   /* an empty list: rejected as well */
        ROUTE_SOME,
} RouteState;

static RouteState route_state(const Config *c, AgentMethod m, const char *const **ret) {
        const char *const *r = config_route(c, m);

        if (ret)
                *ret = r;
        if (!r)
                return ROUTE_MISSING;
        return r[0] ? ROUTE_SOME : ROUTE_EMPTY;
}

static bool route_is_only(const char *const *r, const char *policy) {
        return r && r[0] && streq(r[0], policy) && !r[1];
}

static bool route_contains(const char *const *r, const char *policy) {
        for (; r && *r; r++)
                if (streq(*r, policy))
                        return true;
        return false;
}

/* "[allowlist, speech]" */
static char *route_bracketed(const char *const *r) {
        g_autofree char *joined = g_strjoinv(", ", (char **) r);
        return g_strdup_printf("[%s]", joined);
}

/* The ROUTE column for one cell. */
static char *route_column(const Config *c, PairingCall call) {
        const char *const *r;
        AgentMethod m = pairing_call_to_method(call);

        if (m < 0)
                return g_strdup("(pairgate not asked)");
        switch (route_state(c, m, &r)) {
        case ROUTE_MISSING:
                return g_strdup(m == AGENT_METHOD_DISPLAY_PASSKEY ? "(no route: passkey not shown)"
                                                                  : "(no route: rejected)");
        case ROUTE_EMPTY:
                return g_strdup(m == AGENT_METHOD_DISPLAY_PASSKEY
                                        ? "(empty route: passkey not shown)"
                                        : "(empty route: rejected)");
        case ROUTE_SOME:
        default:
                return g_strjoinv(", ", (char **) r);
        }
}

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

        switch (route_state(c, AGENT_METHOD_REQUEST_AUTHORIZATION, &r)) {
        case ROUTE_MISSING:
                return g_strdup("RequestAuthorization has no route, so every such pairing fails");
        case ROUTE_EMPTY:
                return g_strdup("RequestAuthorization's route is empty, so every such pairing is "
                                "refused");
        case ROUTE_SOME:
        default:
                break;
        }
        b = route_bracketed(r);
        if (route_is_only(r, "allowlist"))
                return g_strdup_printf("RequestAuthorization is routed to %s only, so strangers "
                                       "are refused",
                                       b);
        if (route_contains(r, "allowlist"))
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

        switch (route_state(c, AGENT_METHOD_AUTHORIZE_SERVICE, &r)) {
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
        b = route_bracketed(r);
        if (route_is_only(r, "allowlist"))
                return g_strdup_printf("AuthorizeService is routed to %s only, so a stranger's "
                                       "connections are refused (devices marked Trusted skip it)",
                                       b);
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
                                                mitm_order[m] ? " asking for MITM protection" : "");
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

        switch (route_state(c, AGENT_METHOD_REQUEST_PASSKEY, &r)) {
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
                b = route_bracketed(r);
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
                st = route_state(c, m, NULL);
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
        warn_timeout(w, c);
        warn_repairing(w);
        return w;
}

char **explain_warnings(const Config *c) {
        Matrix mx;
        GPtrArray *w;

        if (!config_capability_valid(c) || matrix_fill(c->capability, &mx) < 0)
                return NULL;
        w = warnings_build(c, &mx);
        g_ptr_array_set_free_func(w, NULL);
        g_ptr_array_add(w, NULL);
        return (char **) g_ptr_array_free(w, FALSE);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void json_string(GString *out, const char *s) {
        if (!s) {
                g_string_append(out, "null");
                return;
        }
        g_string_append_c(out, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        g_string_append(out, "\\\"");
                        break;
                case '\\':
                        g_string_append(out, "\\\\");
                        break;
                case '\b':
                        g_string_append(out, "\\b");
                        break;
                case '\f':
                        g_string_append(out, "\\f");
                        break;
                case '\n':
                        g_string_append(out, "\\n");
                        break;
                case '\r':
                        g_string_append(out, "\\r");
                        break;
                case '\t':
                        g_string_append(out, "\\t");
                        break;
                default:
                        if (*p < 0x20)
                                g_string_append_printf(out, "\\u%04x", *p);
                        else
                                g_string_append_c(out, (char) *p);
                }
        }
        g_string_append_c(out, '"');
}

static void json_route(GString *out, const Config *c, PairingCall call) {
        AgentMethod m = pairing_call_to_method(call);
        const char *const *r = m >= 0 ? config_route(c, m) : NULL;

        if (!r) {
                g_string_append(out, "null");
                return;
        }
        g_string_append_c(out, '[');
        for (size_t i = 0; r[i]; i++) {
                if (i > 0)
                        g_string_append(out, ", ");
                json_string(out, r[i]);
        }
        g_string_append_c(out, ']');
}

static void json_outcome(GString *out, const Config *c, const PairingOutcome *o) {
        g_string_append(out, "\"model\": ");
        json_string(out, pairing_model_to_string(o->model));
        g_string_append(out, ", \"agent_call\": ");
        json_string(out, pairing_call_to_string(o->call));
        g_string_append_printf(
                out, ", \"authenticated\": %s, \"route\": ", o->authenticated ? "true" : "false");
        json_route(out, c, o->call);
}

static void render_json(GString *out, const Config *c, const Matrix *mx, char **warnings) {
        bool first = true;

        g_string_append(out, "{\n  \"capability\": ");
        json_string(out, capability_to_string(c->capability));
        g_string_append(out, ",\n  \"config\": ");
        json_string(out, c->path);
        g_string_append(out, ",\n  \"cells\": [");
        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++)
                for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++)
                        for (size_t m = 0; m < 2; m++) {
                                g_string_append(out, first ? "\n    {" : ",\n    {");
                                first = false;
                                g_string_append(out, "\"transport\": ");
                                json_string(out, pairing_transport_to_string(t));
                                g_string_append(out, ", \"remote_capability\": ");
                                json_string(out, capability_to_string(remote));
                                g_string_append_printf(out, ", \"remote_mitm\": %s, ",
                                                       mitm_order[m] ? "true" : "false");
                                json_outcome(out, c, &mx->cell[t][remote][m]);
                                g_string_append_c(out, '}');
                        }
        g_string_append(out, "\n  ],\n  \"legacy_pin\": {");
        json_outcome(out, c, &mx->legacy_pin);
        g_string_append(out, "},\n  \"warnings\": [");
        for (size_t i = 0; warnings[i]; i++) {
                g_string_append(out, i == 0 ? "\n    " : ",\n    ");
                json_string(out, warnings[i]);
        }
        g_string_append(out, warnings[0] ? "\n  ]\n}\n" : "]\n}\n");
}

/* ---- text ------------------------------------------------------------------------------------ */

static const char *const transport_title[PAIRING_TRANSPORT_MATRIX_N] = {
        [PAIRING_TRANSPORT_BREDR] = ("BR/EDR Secure Simple Pairing (KeyboardDisplay is sent as "
                                     "DisplayYesNo)"),
        [PAIRING_TRANSPORT_LE_SC] = "LE Secure Connections",
        [PAIRING_TRANSPORT_LE_LEGACY] = "LE legacy pairing (no numeric comparison)",
};

#define ROW_FORMAT "  %-16s %-5s %-29s %-21s %-5s %s\n"

static void text_row(GString *out, const Config *c, const char *remote, const char *mitm,
                     const PairingOutcome *o) {
        g_autofree char *route = route_column(c, o->call);

        g_string_append_printf(out, ROW_FORMAT, remote, mitm, pairing_model_to_string(o->model),
                               pairing_call_to_string(o->call), o->authenticated ? "yes" : "no",
                               route);
}

/* Word-wrap `text` after a "  - " bullet, continuation lines indented to match. */
static void text_wrapped(GString *out, const char *text) {
        g_auto(GStrv) words = g_strsplit(text, " ", -1);
        size_t col = 0;

        g_string_append(out, "  -");
        col = 3;
        for (size_t i = 0; words[i]; i++) {
                size_t len = strlen(words[i]);
                if (len == 0)
                        continue;
                if (col > 4 && col + 1 + len > WRAP_COLUMNS) {
                        g_string_append(out, "\n    ");
                        col = 4;
                } else {
                        g_string_append_c(out, ' ');
                        col++;
                }
                g_string_append(out, words[i]);
                col += len;
        }
        g_string_append_c(out, '\n');
}

static void render_text(GString *out, const Config *c, const Matrix *mx, char **warnings) {
        g_string_append(out, "pairgated --explain\n");
        g_string_append_printf(out, "  capability       %s\n", capability_to_string(c->capability));
        g_string_append_printf(out, "  config           %s\n", c->path ?: "(none)");
        g_string_append_printf(out, "  request_timeout  %u s\n\n", c->request_timeout_sec);
        g_string_append(out,
                        "What happens when a remote device pairs with this one (pairgated answers "
                        "as the responder).\n"
                        "MITM: the remote asks for MITM protection. AUTH: the key is "
                        "authenticated. ROUTE: the policies\n"
                        "asked, in order, for that agent call; none-* calls never reach "
                        "pairgate.\n");

        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++) {
                g_string_append_printf(out, "\n%s\n", transport_title[t]);
                g_string_append_printf(out, ROW_FORMAT, "REMOTE", "MITM", "MODEL", "AGENT CALL",
                                       "AUTH", "ROUTE");
                for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++)
                        for (size_t m = 0; m < 2; m++)
                                text_row(out, c, capability_to_string(remote),
                                         mitm_order[m] ? "yes" : "no", &mx->cell[t][remote][m]);
        }

        g_string_append(out, "\nBR/EDR legacy PIN (remote before Bluetooth 2.1)\n");
        g_string_append_printf(out, ROW_FORMAT, "REMOTE", "MITM", "MODEL", "AGENT CALL", "AUTH",
                               "ROUTE");
        text_row(out, c, "any", "-", &mx->legacy_pin);

        g_string_append(out,
                        "\nAlready-paired devices that pair again with Just Works: bluetoothd's "
                        "JustWorksRepairing decides\n(default \"never\": refused without "
                        "asking pairgate).\n");

        if (!warnings[0]) {
                g_string_append(out, "\nWarnings: none\n");
                return;
        }
        g_string_append(out, "\nWarnings:\n");
        for (size_t i = 0; warnings[i]; i++)
                text_wrapped(out, warnings[i]);
}

int explain_print(FILE *f, const Config *c, bool json) {
        g_autoptr(GString) out = NULL;
        g_auto(GStrv) warnings = NULL;
        Matrix mx;
        int r;

        if (!f || !config_capability_valid(c))
                return -EINVAL;
        r = matrix_fill(c->capability, &mx);
        if (r < 0)
                return r;
        warnings = explain_warnings(c);
        if (!warnings)
                return -EINVAL;

        out = g_string_new(NULL);
        if (json)
                render_json(out, c, &mx, warnings);
        else
                render_text(out, c, &mx, warnings);

        if (fwrite(out->str, 1, out->len, f) != out->len || fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}
