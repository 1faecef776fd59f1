/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "fuzz-check.h"
#include "fuzz-fifo.h"
#include "macro.h"

static char *fifo_path;

static void remove_fifo(void) {
        if (fifo_path) {
                char *dir = g_path_get_dirname(fifo_path);
                (void) unlink(fifo_path);
                (void) rmdir(dir);
                g_free(dir);
        }
}

void fuzz_fifo_init(void) {
        char *dir = g_dir_make_tmp("pairgate-fuzz-XXXXXX", NULL);

        fuzz_assert(dir, "no temporary directory");
        fifo_path = g_build_filename(dir, "event0", NULL);
        fuzz_assert(mkfifo(fifo_path, 0600) == 0, "mkfifo: %m");
        g_free(dir);
        atexit(remove_fifo);
}

const char *fuzz_fifo_path(void) {
        return fifo_path;
}

int fuzz_fifo_open_writer(void) {
        int fd = open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

        fuzz_assert(fd >= 0, "opening the FIFO for writing: %m");
        return fd;
}

static void run(sd_event *e) {
        while (sd_event_run(e, 0) > 0)
                ;
}

void fuzz_fifo_feed(int writer, sd_event *e, const uint8_t *data, size_t size, size_t chunk) {
        for (size_t off = 0; off < size; off += chunk) {
                size_t n = MIN(chunk, size - off);
                fuzz_assert(write(writer, data + off, n) == (ssize_t) n, "write: %m");
                run(e);
        }
}

void fuzz_fifo_close_writer(int *writer, sd_event *e) {
        closep(writer);
        *writer = -EBADF;
        run(e);
}
