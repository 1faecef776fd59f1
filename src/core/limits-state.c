/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include <glib.h>

#include "limits-state.h"
#include "macro.h"

#define HEADER "pairgate-lockouts 1"
/* Far more lines than LIMITS_MAX_DEVICES entries: the rest is not ours. */
#define MAX_LINES (LIMITS_MAX_DEVICES + 16)

static void append_entry(const LimitsEntry *e, void *userdata) {
        GString *s = userdata;

        g_string_append_printf(s, "%s %" PRIu64 " %u %" PRIu64 "\n", e->address, e->locked_until,
                               e->in_a_row, e->last_lockout);
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int limits_state_save(const Limits *l, const char *path) {
        g_autoptr(GString) s = g_string_new("# pairgated's lockouts (limits = { ... }): address, "
                                            "locked until, lockouts in a row, last lockout end\n"
                                            "# (realtime microseconds). Written by pairgated; "
                                            "use pairgatectl to lift a lockout.\n" HEADER "\n");
        _cleanup_free_ char *tmp = g_strdup_printf("%s.tmp", path);
        _cleanup_close_ int fd = -EBADF;
        int r;

        limits_foreach(l, append_entry, s);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, s->str, s->len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;
        guint64 v;

        if (!g_ascii_isdigit(*s))
                return false;
        errno = 0;
        v = g_ascii_strtoull(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

int limits_state_load(Limits *l, const char *path, uint64_t now, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GArray) entries = g_array_new(false, false, sizeof(LimitsEntry));
        g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
        bool header = false;
        size_t len;

        if (!g_file_get_contents(path, &text, &len, &err))
                return g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? -ENOENT : -EIO;
        if (strlen(text) != len) {
                *ret_error = g_strdup_printf("%s: NUL byte in the file", path);
                return -EBADMSG;
        }
        lines = g_strsplit(text, "\n", MAX_LINES + 1);
        for (guint i = 0; lines[i]; i++) {
                const char *line = lines[i];
                char **f;
                LimitsEntry e = { 0 };
                uint64_t in_a_row;

                if (i >= MAX_LINES) {
                        *ret_error = g_strdup_printf("%s:%u: too many lines", path, i + 1);
                        return -EBADMSG;
                }
                if (*line == '\0' || *line == '#')
                        continue;
                if (!header) {
                        if (!streq(line, HEADER)) {
                                *ret_error = g_strdup_printf("%s:%u: expected \"%s\"", path, i + 1,
                                                             HEADER);
                                return -EBADMSG;
                        }
                        header = true;
                        continue;
                }
                f = g_strsplit(line, " ", 0);
                g_ptr_array_add(owned, f);
                if (g_strv_length(f) != 4 || !parse_u64(f[1], &e.locked_until) ||
                    !parse_u64(f[2], &in_a_row) || in_a_row > UINT32_MAX ||
                    !parse_u64(f[3], &e.last_lockout)) {
                        *ret_error = g_strdup_printf("%s:%u: not \"ADDRESS UNTIL IN_A_ROW LAST\"",
                                                     path, i + 1);
                        return -EBADMSG;
                }
                e.address = f[0];
                e.in_a_row = (unsigned) in_a_row;
                g_array_append_val(entries, e);
        }
        if (!header) {
                *ret_error = g_strdup_printf("%s: no \"%s\" line", path, HEADER);
                return -EBADMSG;
        }
        /* Check every address before changing anything. */
        for (guint i = 0; i < entries->len; i++) {
                Limits *probe = limits_new();
                int r = limits_restore(probe, &g_array_index(entries, LimitsEntry, i), now);

                limits_free(probe);
                if (r < 0) {
                        *ret_error =
                                g_strdup_printf("%s: '%s' is not a Bluetooth address", path,
                                                g_array_index(entries, LimitsEntry, i).address);
                        return -EBADMSG;
                }
        }
        for (guint i = 0; i < entries->len; i++)
                (void) limits_restore(l, &g_array_index(entries, LimitsEntry, i), now);
        return 0;
}
