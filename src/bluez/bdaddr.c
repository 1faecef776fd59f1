/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <string.h>

#include "bdaddr.h"

static bool parse(const char *s, char sep, char ret[BDADDR_STRLEN]) {
        for (int i = 0; i < 17; i++) {
                char c = s[i];
                if (i % 3 == 2) {
                        if (c != sep)
                                return false;
                        ret[i] = ':';
                } else {
                        if (!isxdigit((unsigned char) c))
                                return false;
                        ret[i] = (char) toupper((unsigned char) c);
                }
        }
        ret[17] = '\0';
        return true;
}

bool bdaddr_normalize(const char *s, char ret[BDADDR_STRLEN]) {
        return s && strlen(s) == 17 && parse(s, ':', ret);
}

bool bdaddr_from_device_path(const char *path, char ret[BDADDR_STRLEN]) {
        const char *base = path ? strrchr(path, '/') : NULL;

        if (!base || strncmp(base, "/dev_", 5) != 0 || strlen(base + 5) != 17)
                return false;
        return parse(base + 5, '_', ret);
}

bool adapter_from_device_path(const char *path, char *ret, size_t size) {
        const char *base = path ? strrchr(path, '/') : NULL;
        size_t n;

        if (!base || strncmp(base, "/dev_", 5) != 0)
                return false;
        n = (size_t) (base - path);
        if (n == 0 || n >= size)
                return false;
        memcpy(ret, path, n);
        ret[n] = '\0';
        return true;
}
