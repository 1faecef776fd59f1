/* SPDX-License-Identifier: MIT */
/* The main() of a fuzz target outside libFuzzer (every test build): runs each file given, or
 * every file under each directory given (sorted, recursively), through LLVMFuzzerTestOneInput
 * once. Any violated property or sanitizer report aborts, which fails the test. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int compare_paths(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int replay_path(const char *path, unsigned *count) {
        struct stat st;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, g_strerror(errno));
                return -errno;
        }
        if (S_ISDIR(st.st_mode)) {
                g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
                g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
                const char *n;

                if (!dir)
                        return -EIO;
                while ((n = g_dir_read_name(dir)))
                        g_ptr_array_add(names, g_build_filename(path, n, NULL));
                g_ptr_array_sort(names, compare_paths);
                for (guint i = 0; i < names->len; i++) {
                        int r = replay_path(names->pdata[i], count);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        {
                _cleanup_free_ char *data = NULL;
                gsize size = 0;

                if (!g_file_get_contents(path, &data, &size, NULL)) {
                        fprintf(stderr, "%s: cannot read\n", path);
                        return -EIO;
                }
                /* A copy of exactly size bytes: ASan sees reads past the end. */
                {
                        _cleanup_free_ uint8_t *copy = g_malloc(size ? size : 1);
                        memcpy(copy, data, size);
                        (void) LLVMFuzzerTestOneInput(copy, size);
                }
                (*count)++;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned count = 0;

        if (LLVMFuzzerInitialize)
                (void) LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++)
                if (replay_path(argv[i], &count) < 0)
                        return 1;
        printf("%s: %u inputs replayed\n", argv[0], count);
        /* No input at all means a wrong path, not a pass. */
        return count > 0 ? 0 : 1;
}
