/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include <glib.h>

#include "settings.h"

char *setting_verror(const char *fallback_file, const config_setting_t *s, const char *fmt,
                     va_list ap) {
        _cleanup_free_ char *msg = g_strdup_vprintf(fmt, ap);
        const char *file = s ? config_setting_source_file(s) : NULL;

        if (!file)
                file = fallback_file ? fallback_file : "<config>";
        return g_strdup_printf("%s:%u: %s", file, s ? config_setting_source_line(s) : 0, msg);
}

char *setting_error(const char *fallback_file, const config_setting_t *s, const char *fmt, ...) {
        va_list ap;
        char *e;

        va_start(ap, fmt);
        e = setting_verror(fallback_file, s, fmt, ap);
        va_end(ap);
        return e;
}

int setting_fail(char **ret_error, char *msg) {
        if (ret_error)
                *ret_error = msg;
        else
                g_free(msg);
        return -EINVAL;
}

int setting_failf(char **ret_error, const SettingScope *scope, const config_setting_t *s,
                  const char *fmt, ...) {
        va_list ap;
        char *e;

        va_start(ap, fmt);
        e = setting_verror(scope ? scope->file : NULL, s, fmt, ap);
        va_end(ap);
        return setting_fail(ret_error, e);
}

bool setting_is_int(const config_setting_t *s) {
        return config_setting_type(s) == CONFIG_TYPE_INT ||
               config_setting_type(s) == CONFIG_TYPE_INT64;
}

const char *setting_type_name(const config_setting_t *s) {
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_GROUP:
                return "a group { ... }";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "an integer";
        case CONFIG_TYPE_FLOAT:
                return "a float";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "a boolean";
        case CONFIG_TYPE_ARRAY:
                return "an array [ ... ]";
        case CONFIG_TYPE_LIST:
                return "a list ( ... )";
        default:
                return "a setting of unknown type";
        }
}

/* "button.key", or "'key'" at the top level. */
static char *setting_label(const SettingScope *scope, const config_setting_t *s) {
        const char *key = config_setting_name(s);

        if (scope && scope->section)
                return g_strdup_printf("%s.%s", scope->section, key ? key : "?");
        return g_strdup_printf("'%s'", key ? key : "?");
}

int setting_get_uint(const SettingScope *scope, const config_setting_t *s, long long min,
                     long long max, unsigned *ret, char **ret_error) {
        _cleanup_free_ char *label = setting_label(scope, s);
        long long v;

        if (!setting_is_int(s))
                return setting_failf(ret_error, scope, s,
                                     "%s must be an integer (%lld..%lld), not %s", label, min, max,
                                     setting_type_name(s));
        v = config_setting_get_int64(s);
        if (v < min || v > max)
                return setting_failf(ret_error, scope, s, "%s = %lld is out of range (%lld..%lld)",
                                     label, v, min, max);
        *ret = (unsigned) v;
        return 0;
}

int setting_get_bool(const SettingScope *scope, const config_setting_t *s, bool *ret,
                     char **ret_error) {
        _cleanup_free_ char *label = NULL;

        if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
                label = setting_label(scope, s);
                return setting_failf(ret_error, scope, s, "%s must be true or false", label);
        }
        *ret = config_setting_get_bool(s);
        return 0;
}

int setting_get_string(const SettingScope *scope, const config_setting_t *s, const char **ret,
                       char **ret_error) {
        const char *v = config_setting_get_string(s);
        _cleanup_free_ char *label = NULL;

        if (!v || !*v) {
                label = setting_label(scope, s);
                return setting_failf(ret_error, scope, s, "%s must be a non-empty string", label);
        }
        *ret = v;
        return 0;
}
