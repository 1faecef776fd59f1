/* SPDX-License-Identifier: MIT */
#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "macro.h"

static Config *load_ok(const char *text) {
        Config *c = NULL;
        char *error = NULL;
        int r = config_load_string(text, "test.conf", &c, &error);

        if (r < 0)
                g_error("unexpected error: %s", error);
        g_assert_null(error);
        return c;
}

/* Loading must fail with exactly this "file:line: ..." prefix and a message containing needle. */
static void load_fails(const char *text, unsigned line, const char *needle) {
        Config *c = NULL;
        char *error = NULL;
        _cleanup_free_ char *prefix = g_strdup_printf("test.conf:%u: ", line);
        int r = config_load_string(text, "test.conf", &c, &error);

        g_assert_cmpint(r, <, 0);
        g_assert_null(c);
        g_assert_nonnull(error);
        if (!g_str_has_prefix(error, prefix) || !strstr(error, needle))
                g_error("expected '%s...%s', got '%s'", prefix, needle, error);
        g_free(error);
}

static void test_defaults(void) {
        Config *c = load_ok("");

        g_assert_cmpint(c->capability, ==, CAPABILITY_DISPLAY_YES_NO);
        g_assert_cmpuint(c->request_timeout_sec, ==, 25);
        g_assert_cmpuint(c->max_pending, ==, 8);
        g_assert_true(c->trust_on_approve);
        for (int m = 0; m < _AGENT_METHOD_MAX; m++)
                g_assert_null(config_route(c, m));
        config_free(c);
}

static void test_full(void) {
        Config *c = load_ok("capability = \"NoInputNoOutput\";\n"
                            "request_timeout = 10;\n"
                            "max_pending = 2;\n"
                            "routes = {\n"
                            "  RequestAuthorization = [ \"allowlist\" ];\n"
                            "  AuthorizeService = ( \"allowlist\" );\n"
                            "  RequestPasskey = [ ];\n"
                            "};\n"
                            "allowlist = { devices = [ \"aa:bb:cc:dd:ee:ff\" ]; };\n");
        const char *const *route;

        g_assert_cmpint(c->capability, ==, CAPABILITY_NO_INPUT_NO_OUTPUT);
        g_assert_cmpuint(c->request_timeout_sec, ==, 10);
        g_assert_cmpuint(c->max_pending, ==, 2);
        route = config_route(c, AGENT_METHOD_REQUEST_AUTHORIZATION);
        g_assert_nonnull(route);
        g_assert_cmpstr(route[0], ==, "allowlist");
        g_assert_null(route[1]);
        g_assert_nonnull(config_route(c, AGENT_METHOD_AUTHORIZE_SERVICE));
        route = config_route(c, AGENT_METHOD_REQUEST_PASSKEY);
        g_assert_nonnull(route); /* empty route: present, but nobody to decide */
        g_assert_null(route[0]);
        g_assert_null(config_route(c, AGENT_METHOD_REQUEST_CONFIRMATION));
        g_assert_true(config_route_uses(c, "allowlist"));
        g_assert_nonnull(config_policy_section(c, "allowlist"));
        config_free(c);
}

static void test_shipped_file(void) {
        Config *c = NULL;
        char *error = NULL;
        const config_setting_t *devices, *window;
        int r = config_load_file(PAIRGATE_SOURCE_DIR "/conf/pairgate.conf", &c, &error);
        int at_start = -1;

        if (r < 0)
                g_error("shipped config does not load: %s", error);
        /* The safe default: DisplayYesNo; nothing listed; a closed window (nothing opens it at
         * start) before every policy that could approve a stranger; AuthorizeService only for
         * listed devices. */
        g_assert_cmpint(c->capability, ==, CAPABILITY_DISPLAY_YES_NO);
        g_assert_true(c->trust_on_approve);
        /* Limits are on in the shipped file, with the documented defaults. */
        g_assert_true(c->has_limits);
        g_assert_cmpuint(c->limits.lockout_after, ==, LIMITS_DEFAULT_LOCKOUT_AFTER);
        g_assert_cmpuint(c->limits.lockout_window_sec, ==, LIMITS_DEFAULT_LOCKOUT_WINDOW_SEC);
        g_assert_cmpuint(c->limits.lockout_time_sec, ==, LIMITS_DEFAULT_LOCKOUT_TIME_SEC);
        g_assert_cmpuint(c->limits.prompts_per_minute, ==, LIMITS_DEFAULT_PROMPTS_PER_MINUTE);
        g_assert_false(c->limits.block);
        devices = config_setting_get_member(config_policy_section(c, "allowlist"), "devices");
        g_assert_nonnull(devices);
        g_assert_cmpint(config_setting_length(devices), ==, 0);
        window = config_policy_section(c, "window");
        g_assert_nonnull(window);
        g_assert_true(config_setting_lookup_int(window, "at_start", &at_start));
        g_assert_cmpint(at_start, ==, 0);
        for (int m = 0; m < _AGENT_METHOD_MAX; m++) {
                const char *const *route = config_route(c, m);
                bool gated = false;

                for (; route && *route; route++) {
                        if (streq(*route, "window"))
                                gated = true;
                        else if (!streq(*route, "allowlist"))
                                g_assert_true(gated); /* speech, button: only behind the window */
                }
        }
        g_assert_cmpstrv((char **) config_route(c, AGENT_METHOD_AUTHORIZE_SERVICE),
                         ((const char *const[]){ "allowlist", NULL }));
        config_free(c);
}

static void test_errors(void) {
        load_fails("capability = \"DisplayYesNo\"\nrequest_timeout = ;\n", 2, "syntax error");
        load_fails("\n\nfoo = 1;\n", 3, "unknown key 'foo'");
        load_fails("capability = \"Display\";\n", 1, "unknown capability 'Display'");
        load_fails("capability = 3;\n", 1, "'capability' must be a string");
        load_fails("\nrequest_timeout = \"25\";\n", 2, "'request_timeout' must be an integer");
        load_fails("request_timeout = 0;\n", 1, "out of range");
        load_fails("request_timeout = 601;\n", 1, "out of range");
        /* bluetoothd gives up on an agent call after 60 s: we must answer first. */
        load_fails("request_timeout = 60;\n", 1, "'request_timeout' = 60 is out of range (1..59)");
        load_fails("trust_on_approve = 1;\n", 1, "'trust_on_approve' must be true or false");
        load_fails("max_pending = 65;\n", 1, "out of range");
        load_fails("routes = [ \"allowlist\" ];\n", 1, "'routes' must be a group");
        load_fails("routes = {\n  RequestConfirmaton = [ \"allowlist\" ];\n};\n", 2,
                   "unknown Agent1 method 'RequestConfirmaton'");
        load_fails("routes = {\n  Cancel = [ ];\n};\n", 2, "cannot be routed");
        load_fails("routes = {\n  RequestConfirmation = \"allowlist\";\n};\n", 2,
                   "must be a list of policy names");
        load_fails("routes = {\n  RequestConfirmation = [ 1 ];\n};\n", 2,
                   "policy names are strings");
        load_fails("routes = {\n\n  RequestConfirmation = [ \"allowlist\", \"speach\" ];\n};\n", 3,
                   "unknown policy 'speach'");
        load_fails("routes = {\n  RequestConfirmation = [ \"allowlist\", \"allowlist\" ];\n};\n", 2,
                   "listed twice");
        load_fails("allowlist = [ ];\n", 1, "must be a group");
        load_fails(
                "allowlist = {\n  devices = [ \"AA:BB:CC:DD:EE:FF\",\n \"AA:BB:CC:DD:EE\" ];\n};\n",
                3, "'AA:BB:CC:DD:EE' is not a Bluetooth address");
        load_fails("allowlist = {\n  device = [ ];\n};\n", 2, "unknown key 'device'");
        load_fails("allowlist = {\n  devices = \"AA:BB:CC:DD:EE:FF\";\n};\n", 2,
                   "must be a list of addresses");
        load_fails("capability = \"DisplayYesNo\";\ncapability = \"DisplayOnly\";\n", 2,
                   "duplicate");
        load_fails("routes = {\n  AuthorizeService = [ \"allowlist\",\n \"button\" ];\n};\n", 3,
                   "policy 'button' needs a 'button = { ... };' section");
}

/* A refused value is quoted in the error as the file has it: controls, invalid UTF-8 and
 * characters that reorder text come out as \xNN (the error reaches a terminal and the journal);
 * quotes and printable UTF-8 stay. */
static void test_error_escaped(void) {
        load_fails("allowlist = {\n  devices = [ \"00:11\033[2J\xff\xe2\x80\xae\" ];\n};\n", 2,
                   "'00:11\\x1b[2J\\xff\\xe2\\x80\\xae' is not a Bluetooth address");
        load_fails("routes = {\n  RequestConfirmation = \"allowlist\";\n};\n", 2, "[ \"...\" ]");
}

static void test_limits(void) {
        Config *c = load_ok("");

        /* No section: no limits. */
        g_assert_false(c->has_limits);
        g_assert_cmpuint(c->limits.lockout_time_sec, ==, 0);
        g_assert_cmpuint(c->limits.prompts_per_minute, ==, 0);
        config_free(c);

        /* An empty section: the documented defaults. */
        c = load_ok("limits = { };\n");
        g_assert_true(c->has_limits);
        g_assert_cmpuint(c->limits.lockout_after, ==, 3);
        g_assert_cmpuint(c->limits.lockout_window_sec, ==, 600);
        g_assert_cmpuint(c->limits.lockout_time_sec, ==, 900);
        g_assert_cmpuint(c->limits.prompts_per_minute, ==, 6);
        g_assert_false(c->limits.block);
        config_free(c);

        c = load_ok("limits = { lockout_after = 5; lockout_window = 60; lockout_time = 0;\n"
                    "  prompts_per_minute = 0; };\n");
        g_assert_cmpuint(c->limits.lockout_after, ==, 5);
        g_assert_cmpuint(c->limits.lockout_window_sec, ==, 60);
        g_assert_cmpuint(c->limits.lockout_time_sec, ==, 0);
        g_assert_cmpuint(c->limits.prompts_per_minute, ==, 0);
        config_free(c);

        load_fails("limits = 3;\n", 1, "'limits' must be a group");
        load_fails("limits = {\n  lockout_after = 0;\n};\n", 2,
                   "limits.lockout_after = 0 is out of range (1..100)");
        load_fails("limits = {\n\n  lockout_window = 86401;\n};\n", 3,
                   "limits.lockout_window = 86401 is out of range (1..86400)");
        load_fails("limits = {\n  lockout_time = -1;\n};\n", 2, "out of range (0..604800)");
        load_fails("limits = {\n  prompts_per_minute = 601;\n};\n", 2, "out of range (0..600)");
        load_fails("limits = {\n  prompts_per_minute = \"6\";\n};\n", 2, "must be an integer");
        load_fails("limits = {\n  block = 1;\n};\n", 2, "limits.block must be true or false");
        load_fails("limits = {\n  lockout_time = 0;\n  block = true;\n};\n", 3, "needs lockouts");
        load_fails("limits = {\n  lockouts = 3;\n};\n", 2, "limits: unknown key 'lockouts'");
}

/* operator: needs no section; an empty one is fine; keys are errors with their line. */
static void test_operator(void) {
        config_free(load_ok("routes = {\n  RequestPasskey = [ \"operator\" ];\n"
                            "  RequestConfirmation = [ \"allowlist\", \"operator\" ];\n};\n"));
        config_free(load_ok("routes = {\n  RequestPinCode = [ \"operator\" ];\n};\n"
                            "operator = { };\n"));
        load_fails("routes = {\n  RequestPinCode = [ \"operator\" ];\n};\noperator = {\n"
                   "  timeout = 3;\n};\n",
                   5, "operator: unknown key 'timeout'");
}

static void test_file_errors(void) {
        _cleanup_free_ char *dir = g_dir_make_tmp("pairgate-config-XXXXXX", NULL);
        _cleanup_free_ char *path = g_build_filename(dir, "bad.conf", NULL);
        _cleanup_free_ char *expected = g_strdup_printf("%s:2: ", path);
        Config *c = NULL;
        char *error = NULL;

        g_assert_cmpint(config_load_file("/nonexistent/pairgate.conf", &c, &error), <, 0);
        g_assert_nonnull(strstr(error, "/nonexistent/pairgate.conf"));
        g_clear_pointer(&error, g_free);

        g_assert_true(
                g_file_set_contents(path, "capability = \"DisplayOnly\";\nbogus = 1;\n", -1, NULL));
        g_assert_cmpint(config_load_file(path, &c, &error), <, 0);
        if (!g_str_has_prefix(error, expected))
                g_error("expected prefix '%s', got '%s'", expected, error);
        g_free(error);
        g_unlink(path);
        g_rmdir(dir);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/defaults", test_defaults);
        g_test_add_func("/config/full", test_full);
        g_test_add_func("/config/shipped-file", test_shipped_file);
        g_test_add_func("/config/errors", test_errors);
        g_test_add_func("/config/error-escaped", test_error_escaped);
        g_test_add_func("/config/operator", test_operator);
        g_test_add_func("/config/file-errors", test_file_errors);
        g_test_add_func("/config/limits", test_limits);
        return g_test_run();
}
