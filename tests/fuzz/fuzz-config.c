/* SPDX-License-Identifier: MIT */
/* The configuration loader and validator as `pairgated --check-config` runs it (every policy's
 * section validated, then the warnings), and `--explain` in both forms, on arbitrary libconfig
 * text. Properties: either a Config or a "file:line"-prefixed error (clean text: valid UTF-8,
 * no control byte, whatever the file quotes), never both or neither; an
 * accepted Config holds only values in range and routes of known, distinct policies; loading is
 * deterministic; --explain writes a valid UTF-8 table, and one valid JSON object. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "config.h"
#include "explain.h"
#include "fuzz-check.h"
#include "fuzz-input.h"
#include "macro.h"
#include "policy.h"

#define LABEL "fuzz.conf"

static void check_explain(const Config *c, bool json) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        int r;

        fuzz_assert(f, "open_memstream");
        r = explain_print(f, c, json);
        fclose(f);
        fuzz_assert(r >= 0, "--explain failed on a valid configuration: %d", r);
        fuzz_assert(len > 0 && g_utf8_validate(out, (gssize) len, NULL),
                    "--explain wrote invalid UTF-8");
        if (json)
                fuzz_assert(out[0] == '{' && fuzz_json_is_valid(out, len),
                            "--explain --json is not one valid JSON object");
        free(out);
}

static void check_valid(const Config *c) {
        char **warnings;

        fuzz_assert(c->capability >= 0 && c->capability < _CAPABILITY_MAX, "capability %d",
                    c->capability);
        fuzz_assert(c->request_timeout_sec >= 1 &&
                            c->request_timeout_sec <= CONFIG_MAX_REQUEST_TIMEOUT_SEC,
                    "request_timeout %u", c->request_timeout_sec);
        fuzz_assert(c->max_pending >= 1 && c->max_pending <= 64, "max_pending %u", c->max_pending);
        for (int m = 0; m < _AGENT_METHOD_MAX; m++) {
                const char *const *route = config_route(c, (AgentMethod) m);
                for (size_t i = 0; route && route[i]; i++) {
                        fuzz_assert(policy_lookup(route[i]), "unknown policy '%s' routed",
                                    route[i]);
                        for (size_t j = 0; j < i; j++)
                                fuzz_assert(!streq(route[i], route[j]), "'%s' routed twice",
                                            route[i]);
                        if (policy_lookup(route[i])->needs_section)
                                fuzz_assert(config_policy_section(c, route[i]),
                                            "'%s' routed without its section", route[i]);
                }
        }
        /* --check-config prints the warnings of a valid file. */
        warnings = explain_warnings(c);
        fuzz_assert(warnings, "no warnings list for a valid configuration");
        for (char **w = warnings; *w; w++)
                fuzz_assert(**w && g_utf8_validate(*w, -1, NULL), "empty or invalid warning");
        g_strfreev(warnings);
        check_explain(c, false);
        check_explain(c, true);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = FUZZ_INPUT(data, size);
        _cleanup_free_ char *text = fuzz_rest_string(&in);
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        Config *c = NULL, *c2 = NULL;
        int r, r2;

        /* libconfig reads @include'd files relative to the working directory: not from here. */
        if (strstr(text, "@include"))
                return 0;
        r = config_load_string(text, LABEL, &c, &error);
        if (r < 0) {
                fuzz_assert(!c, "a Config with an error");
                fuzz_assert(error && g_str_has_prefix(error, LABEL ":"),
                            "error without \"file:line:\": %s", error ? error : "(none)");
                fuzz_assert_clean(error, SIZE_MAX, "the configuration error");
        } else {
                fuzz_assert(c && !error, "success without a Config, or with an error");
                check_valid(c);
        }
        r2 = config_load_string(text, LABEL, &c2, &error2);
        fuzz_assert(r == r2 && streq_ptr(error, error2), "loading the same text twice differs");
        config_free(c);
        config_free(c2);
        return 0;
}
