/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "policy.h"
#include "settings.h"

char *policy_error(const PolicyEnv *env, const config_setting_t *s, const char *fmt, ...) {
        va_list ap;
        char *e;

        va_start(ap, fmt);
        e = setting_verror(env ? env->config_path : NULL, s, fmt, ap);
        va_end(ap);
        return e;
}
