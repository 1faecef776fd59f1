/* SPDX-License-Identifier: MIT */
/* The built-in policies, by the name a route gives them. */
#include "macro.h"
#include "policy.h"

extern const PolicyOps allowlist_policy_ops;
extern const PolicyOps button_policy_ops;
extern const PolicyOps keypad_policy_ops;
extern const PolicyOps operator_policy_ops;
extern const PolicyOps speech_policy_ops;
extern const PolicyOps window_policy_ops;
#ifdef PAIRGATE_TEST_POLICIES
extern const PolicyOps test_policy_ops;
#endif

static const PolicyOps *const registry[] = {
        &allowlist_policy_ops, &button_policy_ops, &keypad_policy_ops,
        &operator_policy_ops,  &speech_policy_ops, &window_policy_ops,
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
