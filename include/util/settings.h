/* SPDX-License-Identifier: MIT */
#pragma once

/* Reading libconfig settings with errors that name the file and line: the one set of helpers
 * that config.c and every policy section use. Every error is "file:line: message"; a typed
 * getter names the setting as "section.key" (or 'key' at the top level). */

#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>

#include "macro.h"

/* Where settings come from: the file to name when a setting has none (a configuration parsed from
 * a string), and the section prefix for messages (NULL at the top level). */
typedef struct SettingScope {
        const char *file;
        const char *section;
} SettingScope;

/* "file:line: message" for s (NULL: line 0 of fallback_file). */
char *setting_error(const char *fallback_file, const config_setting_t *s, const char *fmt, ...)
        _printf_(3, 4);
char *setting_verror(const char *fallback_file, const config_setting_t *s, const char *fmt,
                     va_list ap) _printf_(3, 0);
/* Hand msg to the caller through ret_error (or free it) and return -EINVAL. */
int setting_fail(char **ret_error, char *msg);
/* Shorthand for setting_fail(ret_error, setting_error(scope->file, s, ...)). */
int setting_failf(char **ret_error, const SettingScope *scope, const config_setting_t *s,
                  const char *fmt, ...) _printf_(4, 5);

bool setting_is_int(const config_setting_t *s);
/* "an integer", "a string", "a group { ... }", ... for messages. */
const char *setting_type_name(const config_setting_t *s);

/* Typed getters: 0 and *ret set, or -EINVAL and *ret_error. */
int setting_get_uint(const SettingScope *scope, const config_setting_t *s, long long min,
                     long long max, unsigned *ret, char **ret_error);
int setting_get_bool(const SettingScope *scope, const config_setting_t *s, bool *ret,
                     char **ret_error);
/* A non-empty string, borrowed from the setting. */
int setting_get_string(const SettingScope *scope, const config_setting_t *s, const char **ret,
                       char **ret_error);
