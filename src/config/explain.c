/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <glib.h>

#include "explain-internal.h"
#include "explain.h"
#include "macro.h"
#include "pairing-model.h"

#define WRAP_COLUMNS 100

const bool explain_mitm_order[2] = { true, false };

bool explain_config_capability_valid(const Config *c) {
        return c && c->capability >= 0 && c->capability < _CAPABILITY_MAX;
}

int explain_matrix_fill(Capability local, Matrix *ret) {
        int r;

        for (PairingTransport t = 0; t < PAIRING_TRANSPORT_MATRIX_N; t++)
                for (Capability remote = 0; remote < _CAPABILITY_MAX; remote++)
                        for (size_t m = 0; m < 2; m++) {
                                r = pairing_model_lookup(local, remote, t, explain_mitm_order[m],
                                                         &ret->cell[t][remote][m]);
                                if (r < 0)
                                        return r;
                        }
        return pairing_model_legacy_pin(local, &ret->legacy_pin);
}

/* ---- routes ---------------------------------------------------------------------------------- */

RouteState explain_route_state(const Config *c, AgentMethod m, const char *const **ret) {
        const char *const *r = config_route(c, m);

        if (ret)
                *ret = r;
        if (!r)
                return ROUTE_MISSING;
        return r[0] ? ROUTE_SOME : ROUTE_EMPTY;
}

bool explain_route_is_only(const char *const *r, const char *policy) {
        return r && r[0] && streq(r[0], policy) && !r[1];
}

bool explain_route_contains(const char *const *r, const char *policy) {
        for (; r && *r; r++)
                if (streq(*r, policy))
                        return true;
        return false;
}

/* "[allowlist, speech]" */
char *explain_route_bracketed(const char *const *r) {
        g_autofree char *joined = g_strjoinv(", ", (char **) r);
        return g_strdup_printf("[%s]", joined);
}

/* The ROUTE column for one cell. */
static char *route_column(const Config *c, PairingCall call) {
        const char *const *r;
        AgentMethod m = pairing_call_to_method(call);

        if (m < 0)
                return g_strdup("(pairgate not asked)");
        switch (explain_route_state(c, m, &r)) {
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
                                                       explain_mitm_order[m] ? "true" : "false");
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
                                         explain_mitm_order[m] ? "yes" : "no",
                                         &mx->cell[t][remote][m]);
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

        if (!f || !explain_config_capability_valid(c))
                return -EINVAL;
        r = explain_matrix_fill(c->capability, &mx);
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
