/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "since.h"

#define USEC_PER_SEC 1000000ULL

static const struct {
        const char *name;
        uint64_t seconds;
} units[] = {
        { "s", 1 },        { "sec", 1 },      { "secs", 1 },      { "second", 1 },
        { "seconds", 1 },  { "m", 60 },       { "min", 60 },      { "mins", 60 },
        { "minute", 60 },  { "minutes", 60 }, { "h", 3600 },      { "hr", 3600 },
        { "hour", 3600 },  { "hours", 3600 }, { "d", 86400 },     { "day", 86400 },
        { "days", 86400 }, { "w", 604800 },   { "week", 604800 }, { "weeks", 604800 },
};

/* "1h 30min", "90s": the sum in seconds. */
static int parse_span(const char *s, uint64_t *ret) {
        uint64_t total = 0;
        bool any = false;

        while (*s) {
                uint64_t n = 0;
                size_t digits = 0, len = 0;
                bool found = false;

                while (*s == ' ')
                        s++;
                if (!*s)
                        break;
                for (; isdigit((unsigned char) *s); s++, digits++) {
                        if (digits >= 9)
                                return -EINVAL;
                        n = n * 10 + (uint64_t) (*s - '0');
                }
                if (digits == 0)
                        return -EINVAL;
                while (*s == ' ')
                        s++;
                while (isalpha((unsigned char) s[len]))
                        len++;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (strlen(units[i].name) == len && strncmp(units[i].name, s, len) == 0) {
                                total += n * units[i].seconds;
                                found = true;
                                break;
                        }
                if (!found)
                        return -EINVAL;
                s += len;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

static int local_midnight(uint64_t now, int day_offset, uint64_t *ret) {
        time_t t = (time_t) (now / USEC_PER_SEC), m;
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday += day_offset;
        tm.tm_isdst = -1;
        m = mktime(&tm);
        if (m < 0) /* (also mktime's error, -1) */
                return -EINVAL;
        *ret = (uint64_t) m * USEC_PER_SEC;
        return 0;
}

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or 'T'), "HH:MM[:SS]". */
static int parse_calendar(const char *s, uint64_t now, uint64_t *ret) {
        struct tm tm = { 0 };
        int y, mo, d, h = 0, mi = 0, sec = 0, n = -1;
        time_t t;

        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
                const char *rest = s + n;
                if (*rest == ' ' || *rest == 'T') {
                        int m2 = -1;
                        rest++;
                        if (sscanf(rest, "%2d:%2d%n", &h, &mi, &m2) != 2 || m2 != 5)
                                return -EINVAL;
                        rest += m2;
                        if (*rest == ':') {
                                int m3 = -1;
                                if (sscanf(rest + 1, "%2d%n", &sec, &m3) != 1 || m3 != 2)
                                        return -EINVAL;
                                rest += 3;
                        }
                }
                if (*rest)
                        return -EINVAL;
                tm.tm_year = y - 1900;
                tm.tm_mon = mo - 1;
                tm.tm_mday = d;
        } else {
                time_t nt = (time_t) (now / USEC_PER_SEC);
                int m2 = -1;

                if (sscanf(s, "%2d:%2d%n", &h, &mi, &m2) != 2 || m2 != 5)
                        return -EINVAL;
                if (s[m2] == ':') {
                        int m3 = -1;
                        if (sscanf(s + m2 + 1, "%2d%n", &sec, &m3) != 1 || m3 != 2)
                                return -EINVAL;
                        m2 += 3;
                }
                if (s[m2])
                        return -EINVAL;
                if (!localtime_r(&nt, &tm))
                        return -EINVAL;
                y = tm.tm_year + 1900;
                mo = tm.tm_mon + 1;
                d = tm.tm_mday;
        }
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
            mi > 59 || sec < 0 || sec > 60)
                return -EINVAL;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        /* mktime normalises 2026-02-31 into March: refuse dates that moved. */
        if (t < 0 || tm.tm_mday != d || tm.tm_mon != mo - 1) /* (t: also -1, the error) */
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC;
        return 0;
}

int since_parse(const char *s, uint64_t now, uint64_t *ret) {
        char buf[64];
        size_t n;
        uint64_t span;
        bool future = false;

        if (!s)
                return -EINVAL;
        while (*s == ' ')
                s++;
        n = strlen(s);
        while (n > 0 && s[n - 1] == ' ')
                n--;
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = '\0';

        if (streq(buf, "now")) {
                *ret = now;
                return 0;
        }
        if (streq(buf, "today"))
                return local_midnight(now, 0, ret);
        if (streq(buf, "yesterday"))
                return local_midnight(now, -1, ret);
        if (streq(buf, "tomorrow"))
                return local_midnight(now, 1, ret);
        if (buf[0] == '@') {
                uint64_t secs = 0;
                size_t i = 1;
                for (; buf[i]; i++) {
                        if (!isdigit((unsigned char) buf[i]) || i > 12)
                                return -EINVAL;
                        secs = secs * 10 + (uint64_t) (buf[i] - '0');
                }
                if (i == 1)
                        return -EINVAL;
                *ret = secs * USEC_PER_SEC;
                return 0;
        }
        if (parse_calendar(buf, now, ret) == 0)
                return 0;

        /* A span: "1h", "-1h", "+1h", "1h ago". */
        {
                char *p = buf;
                size_t len = strlen(p);
                if (len > 4 && streq(p + len - 4, " ago"))
                        p[len - 4] = '\0';
                else if (*p == '-')
                        p++;
                else if (*p == '+') {
                        p++;
                        future = true;
                }
                if (parse_span(p, &span) < 0)
                        return -EINVAL;
        }
        span *= USEC_PER_SEC;
        if (future)
                *ret = now + span;
        else
                *ret = span > now ? 0 : now - span;
        return 0;
}
