/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "ctl-args.h"
#include "ctl-bus.h"
#include "macro.h"

#define WINDOW_SECONDS_MAX 86400U

static int parse_decimal(const char *s, size_t max_digits, uint64_t *ret) {
        uint64_t v = 0;
        size_t n = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; s[n]; n++) {
                unsigned d;
                if (s[n] < '0' || s[n] > '9' || n >= max_digits)
                        return -EINVAL;
                d = (unsigned) (s[n] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int ctl_parse_request_id(const char *s, uint64_t *ret) {
        uint64_t v;

        if (parse_decimal(s, 20, &v) < 0 || v == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int ctl_parse_passkey(const char *s, uint32_t *ret) {
        uint64_t v;

        if (!s || strlen(s) != 6 || parse_decimal(s, 6, &v) < 0)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int ctl_check_pin(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n < 1 || n > 16)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
                        return -EINVAL;
        return 0;
}

int ctl_parse_address(const char *s, char ret[static 18]) {
        static const char hex[] = "0123456789ABCDEF";

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (size_t i = 0; i < 17; i++) {
                if (i % 3 == 2) {
                        if (s[i] != ':')
                                return -EINVAL;
                        ret[i] = ':';
                        continue;
                }
                int v = g_ascii_xdigit_value(s[i]);
                if (v < 0)
                        return -EINVAL;
                ret[i] = hex[v];
        }
        ret[17] = '\0';
        return 0;
}

int ctl_parse_window_seconds(const char *s, uint32_t *ret) {
        uint64_t v;

        if (parse_decimal(s, 6, &v) < 0 || v == 0 || v > WINDOW_SECONDS_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int ctl_parse_options(const char *cmd, int argc, char *argv[], const CtlOption *opts,
                      const char **pos, size_t min_pos, size_t max_pos, size_t *ret_n_pos) {
        size_t n = 0;
        bool options_done = false;

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                const CtlOption *o = NULL;
                const char *value = NULL;

                if (!options_done && streq(a, "--")) {
                        options_done = true;
                        continue;
                }
                /* (a negative number is an argument, for the one-line error that explains it) */
                if (options_done || a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
                        if (n >= max_pos) {
                                ctl_print_error("%s: unexpected argument '%s' (see pairgatectl "
                                                "--help)",
                                                cmd, a);
                                return -EINVAL;
                        }
                        pos[n++] = a;
                        continue;
                }
                for (const CtlOption *p = opts; p && p->name; p++) {
                        size_t len = strlen(p->name);
                        if (streq(a, p->name) ||
                            (p->has_value && strncmp(a, p->name, len) == 0 && a[len] == '=')) {
                                o = p;
                                if (a[len] == '=')
                                        value = a + len + 1;
                                break;
                        }
                }
                if (!o) {
                        ctl_print_error("%s: unknown option '%s' (see pairgatectl --help)", cmd, a);
                        return -EINVAL;
                }
                if (o->has_value) {
                        if (!value) {
                                if (i + 1 >= argc) {
                                        ctl_print_error("%s: option %s needs a value", cmd,
                                                        o->name);
                                        return -EINVAL;
                                }
                                value = argv[++i];
                        }
                        *o->value = value;
                } else
                        *o->flag = true;
        }
        if (n < min_pos) {
                ctl_print_error("%s: missing argument (see pairgatectl --help)", cmd);
                return -EINVAL;
        }
        *ret_n_pos = n;
        return 0;
}
