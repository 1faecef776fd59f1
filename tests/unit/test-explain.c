/* SPDX-License-Identifier: MIT */
/* `pairgated --explain`: golden output for every capability (text and JSON), the JSON's shape
 * (parsed back with a small strict parser), JSON escaping, and the warnings.
 *
 * Regenerate the golden files after an intended change with
 *   PAIRGATE_UPDATE_GOLDEN=1 ./test-explain
 * and review the diff. */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "agent-types.h"
#include "config.h"
#include "explain.h"
#include "macro.h"
#include "pairing-model.h"

#ifndef PAIRGATE_TEST_SRCDIR
#error "PAIRGATE_TEST_SRCDIR must be defined (tests/unit/CMakeLists.txt does it)"
#endif

/* ---- a hand-built Config (independent of config.c's parser) --------------------------------- */

static void set_route(Config *c, AgentMethod m, const char *const *policies) {
        g_strfreev(c->routes[m]);
        c->routes[m] = policies ? g_strdupv((char **) policies) : NULL;
}

static Config *test_config_init(Config *c, Capability cap) {
        static const char *const confirm[] = { "allowlist", "speech", "button", NULL };
        static const char *const allow[] = { "allowlist", NULL };
        static const char *const speech[] = { "speech", NULL };
        static const char *const empty[] = { NULL };

        *c = (Config){};
        /* The fixed golden config: architecture.md §5's example, RequestPasskey unrouted. */
        c->path = g_strdup("tests/unit/explain-test.conf");
        c->capability = cap;
        c->request_timeout_sec = 25;
        c->max_pending = 8;
        c->trust_on_approve = true; /* the default */
        set_route(c, AGENT_METHOD_REQUEST_CONFIRMATION, confirm);
        set_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION, allow);
        set_route(c, AGENT_METHOD_REQUEST_PASSKEY, NULL);
        set_route(c, AGENT_METHOD_DISPLAY_PASSKEY, speech);
        set_route(c, AGENT_METHOD_REQUEST_PIN_CODE, empty);
        set_route(c, AGENT_METHOD_DISPLAY_PIN_CODE, speech);
        set_route(c, AGENT_METHOD_AUTHORIZE_SERVICE, allow);
        return c;
}

/* Frees what test_config_init() allocated; the Config itself lives on the caller's stack. */
static void test_config_clear(Config *c) {
        for (int m = 0; m < _AGENT_METHOD_MAX; m++)
                g_clear_pointer(&c->routes[m], g_strfreev);
        g_clear_pointer(&c->path, g_free);
}
#define _cleanup_test_config_ _cleanup_(test_config_clear)

static char *render(const Config *c, bool json) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        g_assert_nonnull(f);
        g_assert_cmpint(explain_print(f, c, json), ==, 0);
        g_assert_cmpint(fclose(f), ==, 0);
        g_assert_nonnull(buf);
        g_assert_cmpuint(strlen(buf), ==, len);
        return buf;
}

/* ---- a minimal strict JSON parser ----------------------------------------------------------- */

typedef enum JType { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } JType;

typedef struct JValue JValue;
struct JValue {
        JType type;
        bool boolean;
        double number;
        char *string;
        GPtrArray *items; /* J_ARRAY: JValue*; J_OBJECT: JValue* values */
        GPtrArray *keys;  /* J_OBJECT: char*, parallel to items */
};

static void jvalue_free(JValue *v) {
        if (!v)
                return;
        g_free(v->string);
        if (v->items)
                g_ptr_array_unref(v->items);
        if (v->keys)
                g_ptr_array_unref(v->keys);
        g_free(v);
}

typedef struct JParser {
        const char *p;
        const char *error;
} JParser;

static JValue *j_value(JParser *jp);

static void j_ws(JParser *jp) {
        while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')
                jp->p++;
}

static JValue *j_fail(JParser *jp, const char *why) {
        if (!jp->error)
                jp->error = why;
        return NULL;
}

static char *j_string_raw(JParser *jp) {
        g_autoptr(GString) s = g_string_new(NULL);

        if (*jp->p != '"')
                return (j_fail(jp, "expected string"), NULL);
        jp->p++;
        for (;;) {
                unsigned char ch = (unsigned char) *jp->p;
                if (ch == '\0')
                        return (j_fail(jp, "unterminated string"), NULL);
                if (ch < 0x20)
                        return (j_fail(jp, "raw control character in string"), NULL);
                jp->p++;
                if (ch == '"')
                        break;
                if (ch != '\\') {
                        g_string_append_c(s, (char) ch);
                        continue;
                }
                ch = (unsigned char) *jp->p++;
                switch (ch) {
                case '"':
                case '\\':
                case '/':
                        g_string_append_c(s, (char) ch);
                        break;
                case 'b':
                        g_string_append_c(s, '\b');
                        break;
                case 'f':
                        g_string_append_c(s, '\f');
                        break;
                case 'n':
                        g_string_append_c(s, '\n');
                        break;
                case 'r':
                        g_string_append_c(s, '\r');
                        break;
                case 't':
                        g_string_append_c(s, '\t');
                        break;
                case 'u': {
                        char hex[5] = {};
                        gunichar u;
                        for (int i = 0; i < 4; i++) {
                                if (!g_ascii_isxdigit(jp->p[i]))
                                        return (j_fail(jp, "bad \\u escape"), NULL);
                                hex[i] = jp->p[i];
                        }
                        jp->p += 4;
                        u = (gunichar) g_ascii_strtoull(hex, NULL, 16);
                        if (u >= 0xd800 && u <= 0xdfff)
                                return (j_fail(jp, "surrogates not expected here"), NULL);
                        g_string_append_unichar(s, u);
                        break;
                }
                default:
                        return (j_fail(jp, "bad escape"), NULL);
                }
        }
        if (!g_utf8_validate(s->str, (gssize) s->len, NULL))
                return (j_fail(jp, "invalid UTF-8"), NULL);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static JValue *j_new(JType t) {
        JValue *v = g_new0(JValue, 1);
        v->type = t;
        return v;
}

static JValue *j_array(JParser *jp) {
        JValue *v = j_new(J_ARRAY);

        v->items = g_ptr_array_new_with_free_func((GDestroyNotify) jvalue_free);
        jp->p++; /* [ */
        j_ws(jp);
        if (*jp->p == ']') {
                jp->p++;
                return v;
        }
        for (;;) {
                JValue *item = j_value(jp);
                if (!item)
                        goto fail;
                g_ptr_array_add(v->items, item);
                j_ws(jp);
                if (*jp->p == ',') {
                        jp->p++;
                        continue;
                }
                if (*jp->p == ']') {
                        jp->p++;
                        return v;
                }
                j_fail(jp, "expected , or ]");
                goto fail;
        }
fail:
        jvalue_free(v);
        return NULL;
}

static JValue *j_object(JParser *jp) {
        JValue *v = j_new(J_OBJECT);

        v->items = g_ptr_array_new_with_free_func((GDestroyNotify) jvalue_free);
        v->keys = g_ptr_array_new_with_free_func(g_free);
        jp->p++; /* { */
        j_ws(jp);
        if (*jp->p == '}') {
                jp->p++;
                return v;
        }
        for (;;) {
                char *key;
                JValue *item;

                j_ws(jp);
                key = j_string_raw(jp);
                if (!key)
                        goto fail;
                for (guint i = 0; i < v->keys->len; i++)
                        if (g_str_equal(g_ptr_array_index(v->keys, i), key)) {
                                g_free(key);
                                j_fail(jp, "duplicate key");
                                goto fail;
                        }
                g_ptr_array_add(v->keys, key);
                j_ws(jp);
                if (*jp->p != ':') {
                        j_fail(jp, "expected :");
                        goto fail;
                }
                jp->p++;
                item = j_value(jp);
                if (!item)
                        goto fail;
                g_ptr_array_add(v->items, item);
                j_ws(jp);
                if (*jp->p == ',') {
                        jp->p++;
                        continue;
                }
                if (*jp->p == '}') {
                        jp->p++;
                        return v;
                }
                j_fail(jp, "expected , or }");
                goto fail;
        }
fail:
        jvalue_free(v);
        return NULL;
}

static JValue *j_value(JParser *jp) {
        j_ws(jp);
        switch (*jp->p) {
        case '{':
                return j_object(jp);
        case '[':
                return j_array(jp);
        case '"': {
                char *s = j_string_raw(jp);
                JValue *v;
                if (!s)
                        return NULL;
                v = j_new(J_STRING);
                v->string = s;
                return v;
        }
        case 't':
        case 'f':
        case 'n': {
                static const struct {
                        const char *word;
                        JType type;
                        bool value;
                } words[] = { { "true", J_BOOL, true },
                              { "false", J_BOOL, false },
                              { "null", J_NULL, false } };
                for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
                        if (g_str_has_prefix(jp->p, words[i].word)) {
                                JValue *v = j_new(words[i].type);
                                v->boolean = words[i].value;
                                jp->p += strlen(words[i].word);
                                return v;
                        }
                return j_fail(jp, "bad literal");
        }
        default:
                if (*jp->p == '-' || g_ascii_isdigit(*jp->p)) {
                        char *end;
                        JValue *v = j_new(J_NUMBER);
                        v->number = g_ascii_strtod(jp->p, &end);
                        jp->p = end;
                        return v;
                }
                return j_fail(jp, "unexpected character");
        }
}

static JValue *json_parse(const char *text) {
        JParser jp = { .p = text };
        JValue *v = j_value(&jp);

        if (v) {
                j_ws(&jp);
                if (*jp.p != '\0') {
                        jvalue_free(v);
                        v = j_fail(&jp, "trailing garbage");
                }
        }
        if (!v)
                g_test_message("JSON error: %s at offset %td", jp.error, (ptrdiff_t) (jp.p - text));
        return v;
}

static JValue *j_get(const JValue *obj, const char *key) {
        g_assert_cmpint(obj->type, ==, J_OBJECT);
        for (guint i = 0; i < obj->keys->len; i++)
                if (g_str_equal(g_ptr_array_index(obj->keys, i), key))
                        return g_ptr_array_index(obj->items, i);
        return NULL;
}

static JValue *j_get_typed(const JValue *obj, const char *key, JType type) {
        JValue *v = j_get(obj, key);
        if (!v)
                g_error("key \"%s\" missing", key);
        g_assert_cmpint(v->type, ==, type);
        return v;
}

static void test_json_parser_self_check(void) {
        /* the checker must be able to say no */
        const char *bad[] = { "{",   "{\"a\":1,}", "[1 2]",  "\"a\nb\"", "{\"a\":1,\"a\":2}",
                              "tru", "{} x",       "\"\\x\"" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                JValue *v = json_parse(bad[i]);
                g_assert_null(v);
        }
        JValue *ok = json_parse("{\"a\": [true, null, -1.5, \"\\u00e9\\n\"]}");
        g_assert_nonnull(ok);
        JValue *a = j_get_typed(ok, "a", J_ARRAY);
        g_assert_cmpuint(a->items->len, ==, 4);
        g_assert_cmpstr(((JValue *) g_ptr_array_index(a->items, 3))->string, ==, "\xc3\xa9\n");
        jvalue_free(ok);
}

/* ---- golden files ---------------------------------------------------------------------------- */

static void check_golden(const char *name, const char *actual) {
        g_autofree char *path = g_build_filename(PAIRGATE_TEST_SRCDIR, "golden", name, NULL);
        g_autofree char *expected = NULL;
        g_autoptr(GError) error = NULL;

        if (g_strcmp0(g_getenv("PAIRGATE_UPDATE_GOLDEN"), "1") == 0) {
                g_autofree char *dir = g_path_get_dirname(path);
                g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
                g_assert_true(g_file_set_contents(path, actual, -1, &error));
                g_test_message("updated %s", path);
                return;
        }

        if (!g_file_get_contents(path, &expected, NULL, &error))
                g_error("%s: %s (run with PAIRGATE_UPDATE_GOLDEN=1 to create it)", path,
                        error->message);
        if (g_str_equal(expected, actual))
                return;

        /* report the first differing line */
        g_auto(GStrv) el = g_strsplit(expected, "\n", -1);
        g_auto(GStrv) al = g_strsplit(actual, "\n", -1);
        for (size_t i = 0; el[i] || al[i]; i++)
                if (!el[i] || !al[i] || !g_str_equal(el[i], al[i])) {
                        g_test_message("%s:%zu differs\n  expected: %s\n  actual:   %s", path,
                                       i + 1, el[i] ? el[i] : "(end of file)",
                                       al[i] ? al[i] : "(end of output)");
                        break;
                }
        g_test_fail();
}

static void test_golden(gconstpointer data) {
        Capability cap = GPOINTER_TO_INT(data);
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, cap);
        g_autofree char *text = render(c, false);
        g_autofree char *json = render(c, true);
        g_autofree char *text_name = g_strdup_printf("explain-%s.txt", capability_to_string(cap));
        g_autofree char *json_name = g_strdup_printf("explain-%s.json", capability_to_string(cap));

        check_golden(text_name, text);
        check_golden(json_name, json);
}

/* ---- JSON shape ----------------------------------------------------------------------------- */

static void check_route(const JValue *route, const Config *c, const char *agent_call) {
        PairingCall call = pairing_call_from_string(agent_call);
        AgentMethod m = pairing_call_to_method(call);
        const char *const *expected = m >= 0 ? config_route(c, m) : NULL;

        if (!expected) {
                g_assert_cmpint(route->type, ==, J_NULL);
                return;
        }
        g_assert_cmpint(route->type, ==, J_ARRAY);
        g_assert_cmpuint(route->items->len, ==, g_strv_length((char **) expected));
        for (guint i = 0; i < route->items->len; i++) {
                const JValue *p = g_ptr_array_index(route->items, i);
                g_assert_cmpint(p->type, ==, J_STRING);
                g_assert_cmpstr(p->string, ==, expected[i]);
        }
}

/* Checks one capability's JSON; returns the number of cells. */
static unsigned check_json_shape(const Config *c, const char *json) {
        JValue *root = json_parse(json);
        bool seen[PAIRING_TRANSPORT_MATRIX_N][_CAPABILITY_MAX][2] = {};
        g_auto(GStrv) warnings = explain_warnings(c);
        JValue *cells, *legacy, *jw;
        unsigned n;

        g_assert_nonnull(root);
        g_assert_cmpint(root->type, ==, J_OBJECT);
        g_assert_cmpuint(root->keys->len, ==, 5);
        g_assert_cmpstr(j_get_typed(root, "capability", J_STRING)->string, ==,
                        capability_to_string(c->capability));
        g_assert_cmpstr(j_get_typed(root, "config", J_STRING)->string, ==, c->path);

        cells = j_get_typed(root, "cells", J_ARRAY);
        const guint n_cells = PAIRING_TRANSPORT_MATRIX_N * _CAPABILITY_MAX * 2;
        g_assert_cmpuint(cells->items->len, ==, n_cells);
        for (guint i = 0; i < cells->items->len; i++) {
                const JValue *cell = g_ptr_array_index(cells->items, i);
                PairingTransport t;
                Capability remote;
                bool mitm;
                PairingOutcome o;

                g_assert_cmpint(cell->type, ==, J_OBJECT);
                g_assert_cmpuint(cell->keys->len, ==, 7);
                t = pairing_transport_from_string(j_get_typed(cell, "transport", J_STRING)->string);
                g_assert_cmpint(t, >=, 0);
                g_assert_cmpint(t, <, PAIRING_TRANSPORT_MATRIX_N);
                remote = capability_from_string(
                        j_get_typed(cell, "remote_capability", J_STRING)->string);
                g_assert_cmpint(remote, >=, 0);
                mitm = j_get_typed(cell, "remote_mitm", J_BOOL)->boolean;
                g_assert_false(seen[t][remote][mitm]);
                seen[t][remote][mitm] = true;

                /* the values are the module's */
                g_assert_cmpint(pairing_model_lookup(c->capability, remote, t, mitm, &o), ==, 0);
                g_assert_cmpstr(j_get_typed(cell, "model", J_STRING)->string, ==,
                                pairing_model_to_string(o.model));
                g_assert_cmpstr(j_get_typed(cell, "agent_call", J_STRING)->string, ==,
                                pairing_call_to_string(o.call));
                g_assert_cmpint(j_get_typed(cell, "authenticated", J_BOOL)->boolean, ==,
                                o.authenticated);
                JValue *route = j_get(cell, "route");
                g_assert_nonnull(route);
                check_route(route, c, pairing_call_to_string(o.call));
        }

        legacy = j_get_typed(root, "legacy_pin", J_OBJECT);
        g_assert_cmpstr(j_get_typed(legacy, "agent_call", J_STRING)->string, ==, "RequestPinCode");
        g_assert_cmpstr(j_get_typed(legacy, "model", J_STRING)->string, ==, "legacy-pin");
        g_assert_false(j_get_typed(legacy, "authenticated", J_BOOL)->boolean);
        check_route(j_get(legacy, "route"), c, "RequestPinCode");

        jw = j_get_typed(root, "warnings", J_ARRAY);
        g_assert_nonnull(warnings);
        g_assert_cmpuint(jw->items->len, ==, g_strv_length(warnings));
        g_assert_cmpuint(jw->items->len, >, 0);
        for (guint i = 0; i < jw->items->len; i++) {
                const JValue *s = g_ptr_array_index(jw->items, i);
                g_assert_cmpint(s->type, ==, J_STRING);
                g_assert_cmpstr(s->string, ==, warnings[i]);
        }
        n = cells->items->len;
        jvalue_free(root);
        return n;
}

static void test_json_shape(void) {
        unsigned total = 0;

        for (Capability cap = 0; cap < _CAPABILITY_MAX; cap++) {
                _cleanup_test_config_ Config cfg = {};
                Config *c = test_config_init(&cfg, cap);
                g_autofree char *json = render(c, true);
                total += check_json_shape(c, json);
        }
        g_assert_cmpuint(total, ==, 150);
}

static void test_json_escaping(void) {
        static const char *const weird[] = { "al\"low\\list", "tab\there",   "nl\nx",
                                             "\x01\x1f",      "caf\xc3\xa9", NULL };
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_DISPLAY_YES_NO);
        g_autofree char *json = NULL;
        JValue *root = NULL;

        g_free(c->path);
        c->path = g_strdup("/tmp/odd \"dir\"\\\n\x7f/pairgate.conf");
        set_route(c, AGENT_METHOD_REQUEST_CONFIRMATION, weird);
        json = render(c, true);
        root = json_parse(json);
        g_assert_nonnull(root);
        g_assert_cmpstr(j_get_typed(root, "config", J_STRING)->string, ==, c->path);
        /* every RequestConfirmation cell carries the odd route back intact */
        check_json_shape(c, json);

        /* no path: null */
        g_clear_pointer(&c->path, g_free);
        g_free(json);
        json = render(c, true);
        g_clear_pointer(&root, jvalue_free);
        root = json_parse(json);
        g_assert_nonnull(root);
        g_assert_cmpint(j_get(root, "config")->type, ==, J_NULL);
        jvalue_free(root);
}

/* ---- text ------------------------------------------------------------------------------------ */

static void test_text_layout(void) {
        for (Capability cap = 0; cap < _CAPABILITY_MAX; cap++) {
                _cleanup_test_config_ Config cfg = {};
                Config *c = test_config_init(&cfg, cap);
                g_autofree char *text = render(c, false);
                g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
                unsigned headers = 0, rows = 0, bullets = 0;
                g_auto(GStrv) warnings = explain_warnings(c);

                for (size_t i = 0; lines[i]; i++) {
                        if (g_str_has_prefix(lines[i], "  REMOTE "))
                                headers++;
                        for (Capability r = 0; r < _CAPABILITY_MAX; r++)
                                if (g_str_has_prefix(lines[i], "  ") &&
                                    g_str_has_prefix(lines[i] + 2, capability_to_string(r)) &&
                                    lines[i][2 + strlen(capability_to_string(r))] == ' ')
                                        rows++;
                        if (g_str_has_prefix(lines[i], "  - "))
                                bullets++;
                        /* fixed-width: columns line up under the header */
                        if (g_str_has_prefix(lines[i], "  REMOTE "))
                                g_assert_cmpint(strstr(lines[i], "ROUTE") - lines[i], ==, 83);
                }
                g_assert_cmpuint(headers, ==, 4); /* 3 transports + legacy PIN */
                g_assert_cmpuint(rows, ==, 30);
                g_assert_cmpuint(bullets, ==, g_strv_length(warnings));
                g_assert_nonnull(strstr(text, capability_to_string(cap)));
                g_assert_nonnull(strstr(text, "tests/unit/explain-test.conf"));
        }
}

/* ---- warnings -------------------------------------------------------------------------------- */

static bool any_contains(char **w, const char *needle) {
        for (; w && *w; w++)
                if (strstr(*w, needle))
                        return true;
        return false;
}

static void test_warnings_just_works(void) {
        static const char *const only_allow[] = { "allowlist", NULL };
        static const char *const allow_button[] = { "allowlist", "button", NULL };
        static const char *const button[] = { "button", NULL };
        static const char *const empty[] = { NULL };
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_DISPLAY_YES_NO);

        set_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION, only_allow);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "force Just Works by claiming NoInputNoOutput"));
                g_assert_true(
                        any_contains(w, "routed to [allowlist] only, so strangers are refused"));
        }
        set_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION, NULL);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "RequestAuthorization has no route, so every such "
                                              "pairing fails"));
                g_assert_false(any_contains(w, "strangers are refused"));
        }
        set_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION, empty);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "RequestAuthorization's route is empty"));
        }
        set_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION, allow_button);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "routed to [allowlist, button]: a device not on "
                                              "the allowlist is paired"));
                g_assert_false(any_contains(w, "strangers are refused"));
        }
        set_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION, button);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "routed to [button], which has no allowlist"));
        }
}

static void test_warnings_keyboard_only(void) {
        static const char *const typist[] = { "keypad", NULL };
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_KEYBOARD_ONLY);

        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "Capability KeyboardOnly: a phone will ask pairgate "
                                              "to type the passkey"));
                g_assert_true(any_contains(w, "no route for RequestPasskey, so every such pairing "
                                              "fails"));
                /* reported once, not again by the generic "no route" warning */
                g_assert_false(any_contains(w, "leads to RequestPasskey"));
        }
        set_route(c, AGENT_METHOD_REQUEST_PASSKEY, typist);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "RequestPasskey is routed to [keypad]"));
                g_assert_false(any_contains(w, "no route for RequestPasskey"));
        }
        /* other capabilities do not get the KeyboardOnly warning */
        c->capability = CAPABILITY_KEYBOARD_DISPLAY;
        set_route(c, AGENT_METHOD_REQUEST_PASSKEY, NULL);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_false(any_contains(w, "Capability KeyboardOnly"));
                /* but KeyboardDisplay does type over LE, and RequestPasskey has no route */
                g_assert_true(
                        any_contains(w, "Capability KeyboardDisplay leads to RequestPasskey"));
        }
}

static void test_warnings_no_input_no_output(void) {
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_NO_INPUT_NO_OUTPUT);

        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "over BR/EDR the kernel accepts pairing without "
                                              "asking pairgate; only AuthorizeService can still "
                                              "refuse"));
                g_assert_true(any_contains(w, "AuthorizeService is routed to [allowlist] only"));
                g_assert_true(any_contains(w, "no key is ever authenticated"));
                /* everything is Just Works anyway: no "force Just Works" warning, no refusals */
                g_assert_false(any_contains(w, "force Just Works"));
                g_assert_false(any_contains(w, "kernel refuses"));
        }
        set_route(c, AGENT_METHOD_AUTHORIZE_SERVICE, NULL);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "AuthorizeService has no route"));
        }
}

static void test_warnings_le_refusals(void) {
        for (Capability cap = 0; cap < _CAPABILITY_MAX; cap++) {
                _cleanup_test_config_ Config cfg = {};
                Config *c = test_config_init(&cfg, cap);
                g_auto(GStrv) w = explain_warnings(c);
                bool refused = any_contains(w, "over LE the kernel refuses");

                g_assert_cmpint(refused, ==, cap != CAPABILITY_NO_INPUT_NO_OUTPUT);
        }
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_DISPLAY_ONLY);
        g_auto(GStrv) w = explain_warnings(c);
        g_assert_true(any_contains(w, "claiming DisplayOnly, DisplayYesNo or NoInputNoOutput;"));

        c->capability = CAPABILITY_DISPLAY_YES_NO;
        g_auto(GStrv) w2 = explain_warnings(c);
        g_assert_true(any_contains(w2, "claiming DisplayOnly or NoInputNoOutput (with LE legacy "
                                       "pairing also DisplayYesNo)"));
}

static void test_warnings_unrouted_calls(void) {
        static const char *const confirm[] = { "allowlist", NULL };
        static const char *const empty[] = { NULL };
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_DISPLAY_ONLY);

        set_route(c, AGENT_METHOD_DISPLAY_PASSKEY, NULL);
        set_route(c, AGENT_METHOD_REQUEST_CONFIRMATION, empty);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "leads to DisplayPasskey"));
                g_assert_true(any_contains(w, "no policy presents the passkey"));
                g_assert_true(any_contains(w, "RequestConfirmation has an empty route: every "
                                              "such pairing fails"));
                g_assert_true(any_contains(w, "RequestPinCode has an empty route"));
                /* DisplayOnly never types: no RequestPasskey warning despite no route */
                g_assert_false(any_contains(w, "RequestPasskey"));
        }
        /* a capability that produces no RequestConfirmation is not warned about it */
        c->capability = CAPABILITY_NO_INPUT_NO_OUTPUT;
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_false(any_contains(w, "RequestConfirmation"));
                g_assert_false(any_contains(w, "DisplayPasskey"));
        }
        /* everything routed: no "no route" warnings at all */
        c->capability = CAPABILITY_KEYBOARD_DISPLAY;
        for (AgentMethod m = 0; m < _AGENT_METHOD_MAX; m++)
                set_route(c, m, confirm);
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_false(any_contains(w, "no route"));
                g_assert_false(any_contains(w, "empty route"));
                g_assert_false(any_contains(w, "cannot pair"));
        }
}

static void test_warnings_timeout(void) {
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_DISPLAY_YES_NO);

        c->request_timeout_sec = 28;
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_false(any_contains(w, "request_timeout"));
        }
        c->request_timeout_sec = 29;
        {
                g_auto(GStrv) w = explain_warnings(c);
                g_assert_true(any_contains(w, "request_timeout is 29 s"));
                g_assert_true(any_contains(w, "30 s"));
        }
        c->request_timeout_sec = 60;
        g_autofree char *text = render(c, false);
        g_assert_nonnull(strstr(text, "request_timeout is 60 s"));
}

static char **warnings_of(const char *text) {
        g_autofree char *error = NULL;
        Config *c = NULL;
        char **w;

        if (config_load_string(text, "t.conf", &c, &error) < 0)
                g_error("config: %s", error);
        w = explain_warnings(c);
        config_free(c);
        return w;
}

/* A route whose policies can never approve is refused every time, although the table names them:
 * say so. */
static void test_warnings_undecidable_routes(void) {
        g_auto(GStrv) speech_only =
                warnings_of("routes = { RequestConfirmation = [ \"speech\" ]; };\nspeech = { };\n");
        g_auto(GStrv) window_only = warnings_of(
                "routes = { RequestAuthorization = [ \"window\" ]; };\nwindow = { };\n");
        g_auto(GStrv) pin = warnings_of("routes = { RequestPinCode = [ \"speech\" ]; };\n"
                                        "speech = { generate_pin = true; };\n");
        g_auto(GStrv) pin_off = warnings_of("routes = { RequestPinCode = [ \"speech\" ]; };\n"
                                            "speech = { };\n");
        g_auto(GStrv) fine =
                warnings_of("routes = { RequestConfirmation = [ \"allowlist\" ]; };\n");

        g_assert_true(any_contains(speech_only, "RequestConfirmation is routed to [speech], but "
                                                "no policy in it can approve"));
        g_assert_true(any_contains(window_only, "RequestAuthorization is routed to [window], but "
                                                "no policy in it can approve"));
        g_assert_false(any_contains(pin, "no policy in it can approve"));
        g_assert_true(any_contains(pin_off, "RequestPinCode is routed to [speech], but no policy"));
        g_assert_false(any_contains(fine, "no policy in it can approve"));
}

/* Without trust on approval, a device the button lets pair is then refused its audio. */
static void test_warnings_untrusted_after_pairing(void) {
        static const char base[] = "routes = {\n"
                                   "  RequestConfirmation = [ \"allowlist\", \"button\" ];\n"
                                   "  AuthorizeService = [ \"allowlist\" ];\n"
                                   "};\n"
                                   "button = { device = \"x\"; key = \"KEY_A\"; };\n";
        g_autofree char *off = g_strconcat(base, "trust_on_approve = false;\n", NULL);
        g_auto(GStrv) on_w = warnings_of(base);
        g_auto(GStrv) off_w = warnings_of(off);

        g_assert_false(any_contains(on_w, "trust_on_approve is false"));
        g_assert_true(any_contains(off_w, "trust_on_approve is false: a device that button "
                                          "approves for pairing is not marked Trusted"));
        g_assert_true(any_contains(off_w, "AuthorizeService is routed to [allowlist]"));
}

/* The shipped configuration, through the real parser. */
static void test_shipped_config(void) {
#ifdef PAIRGATE_SOURCE_DIR
        g_autofree char *path =
                g_build_filename(PAIRGATE_SOURCE_DIR, "conf", "pairgate.conf", NULL);
        g_autofree char *error = NULL;
        g_autofree char *json = NULL;
        g_autofree char *text = NULL;
        Config *c = NULL;

        if (config_load_file(path, &c, &error) < 0)
                g_error("%s: %s", path, error ? error : "failed");
        json = render(c, true);
        text = render(c, false);
        g_assert_cmpuint(check_json_shape(c, json), ==, 30);
        g_assert_nonnull(strstr(text, "Warnings:"));
        config_free(c);
#else
        g_test_skip("PAIRGATE_SOURCE_DIR not defined");
#endif
}

static void test_invalid(void) {
        _cleanup_test_config_ Config cfg = {};
        Config *c = test_config_init(&cfg, CAPABILITY_DISPLAY_YES_NO);

        c->capability = _CAPABILITY_INVALID;
        g_assert_null(explain_warnings(c));
        g_assert_cmpint(explain_print(stdout, c, false), ==, -EINVAL);
        c->capability = _CAPABILITY_MAX;
        g_assert_cmpint(explain_print(stdout, c, true), ==, -EINVAL);
        g_assert_null(explain_warnings(NULL));
        g_assert_cmpint(explain_print(stdout, NULL, false), ==, -EINVAL);
        c->capability = CAPABILITY_DISPLAY_ONLY;
        g_assert_cmpint(explain_print(NULL, c, false), ==, -EINVAL);

        /* a write that fails is reported */
        FILE *full = fopen("/dev/full", "w");
        if (full) {
                g_assert_cmpint(explain_print(full, c, false), ==, -EIO);
                (void) fclose(full);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/explain/json-parser-self-check", test_json_parser_self_check);
        for (Capability cap = 0; cap < _CAPABILITY_MAX; cap++) {
                g_autofree char *name =
                        g_strdup_printf("/explain/golden/%s", capability_to_string(cap));
                g_test_add_data_func(name, GINT_TO_POINTER(cap), test_golden);
        }
        g_test_add_func("/explain/json-shape", test_json_shape);
        g_test_add_func("/explain/json-escaping", test_json_escaping);
        g_test_add_func("/explain/text-layout", test_text_layout);
        g_test_add_func("/explain/warnings/just-works", test_warnings_just_works);
        g_test_add_func("/explain/warnings/keyboard-only", test_warnings_keyboard_only);
        g_test_add_func("/explain/warnings/no-input-no-output", test_warnings_no_input_no_output);
        g_test_add_func("/explain/warnings/le-refusals", test_warnings_le_refusals);
        g_test_add_func("/explain/warnings/unrouted-calls", test_warnings_unrouted_calls);
        g_test_add_func("/explain/warnings/timeout", test_warnings_timeout);
        g_test_add_func("/explain/warnings/undecidable-routes", test_warnings_undecidable_routes);
        g_test_add_func("/explain/warnings/untrusted-after-pairing",
                        test_warnings_untrusted_after_pairing);
        g_test_add_func("/explain/shipped-config", test_shipped_config);
        g_test_add_func("/explain/invalid", test_invalid);
        return g_test_run();
}
