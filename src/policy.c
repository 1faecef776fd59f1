/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include <glib.h>

#include "macro.h"
#include "policy.h"

extern const PolicyOps allowlist_policy_ops;
extern const PolicyOps button_policy_ops;
extern const PolicyOps speech_policy_ops;
#ifdef PAIRGATE_TEST_POLICIES
extern const PolicyOps test_policy_ops;
#endif

static const PolicyOps *const registry[] = {
        &allowlist_policy_ops,
        &button_policy_ops,
        &speech_policy_ops,
#ifdef PAIRGATE_TEST_POLICIES
        &test_policy_ops,
#endif
};

const PolicyOps *policy_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(registry); i++)
                if (streq(registry[i]->name, name))
                        return registry[i];
        return NULL;
}

const char *const *policy_names(void) {
        static const char *names[ELEMENTSOF(registry) + 1];

        if (!names[0])
                for (size_t i = 0; i < ELEMENTSOF(registry); i++)
                        names[i] = registry[i]->name;
        return names;
}

char *policy_error(const PolicyEnv *env, const config_setting_t *s, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        const char *file = s ? config_setting_source_file(s) : NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        if (!file)
                file = env && env->config_path ? env->config_path : "<config>";
        return g_strdup_printf("%s:%u: %s", file, s ? config_setting_source_line(s) : 0, msg);
}
