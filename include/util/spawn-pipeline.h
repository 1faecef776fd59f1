/* SPDX-License-Identifier: MIT */
#pragma once

/* Short-lived child processes started from the sd-event loop, never through a shell: a command,
 * optionally piped into a second process that reads its stdout (e.g. a synthesiser piped into an
 * audio player). Each pipeline is one process group, so stopping it reaches everything it
 * started. Children are reaped with sd_event_add_child(), which needs SIGCHLD blocked in every
 * thread (the daemon does it; tests must do it too).
 *
 * Child hygiene: argv passed as is (no splitting, no interpretation), stdin /dev/null (or a pipe
 * carrying `input`), stdout /dev/null (or the pipe to the second process), stderr a pipe whose
 * first bytes are kept for diagnostics, every other descriptor closed, signal mask and
 * dispositions reset, sd_notify/socket-activation/journal variables removed from the
 * environment. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define SPAWN_INPUT_MAX  4096 /* bytes of `input`: below PIPE_BUF, so writing it never blocks */
#define SPAWN_OUTPUT_MAX 512  /* bytes of stderr kept */
#define SPAWN_ARGV_MAX   64

typedef enum SpawnResult {
        SPAWN_SUCCESS,   /* every process exited with status 0 */
        SPAWN_NOT_FOUND, /* a process exited with 127 (command not found, by convention) */
        SPAWN_FAILED,    /* a non-zero exit status, or a death by a signal we did not send */
        SPAWN_TIMEOUT,   /* still running after timeout_usec: the group was killed */
        SPAWN_STOPPED,   /* spawn_pipeline_stop() was called: the group was killed */
} SpawnResult;

typedef struct SpawnStatus {
        SpawnResult result;
        unsigned index;     /* the process the result is about: 0 the command, 1 the second */
        int exit_status;    /* its exit status, or -1 when it was killed by a signal */
        int signal;         /* the signal that killed it, or 0 */
        const char *output; /* first bytes written to stderr (NUL-terminated, may be "") */
        uint64_t elapsed_usec;
} SpawnStatus;

typedef struct SpawnPipeline SpawnPipeline;
/* Called once, from the loop, after every process of the pipeline has been reaped. The callee
 * may free the pipeline. */
typedef void (*spawn_done_t)(SpawnPipeline *p, const SpawnStatus *st, void *userdata);

typedef struct SpawnParams {
        char *const *argv[2];     /* [0]: the command; [1]: NULL or a process reading its stdout */
        const char *input;        /* written to the command's stdin, then EOF; NULL: /dev/null */
        uint64_t timeout_usec;    /* 0: no limit */
        uint64_t kill_grace_usec; /* from SIGTERM to SIGKILL when stopping or timing out */
} SpawnParams;

/* Start the pipeline. Returns 0, or <0 with nothing left running. *ret_index (may be NULL) is
 * set on failure only and says whose failure it was:
 *   0 or 1: that program could not be started (posix_spawnp() failed for argv[0] or argv[1]:
 *           -ENOENT, -EACCES, ...);
 *   -1:     no program's: creating the pipes, watching a started child, writing `input`,
 *           watching stderr or arming the timeout failed (what was started was killed and
 *           reaped). Never a program to blame: there may be no argv[1] at all. */
int spawn_pipeline_start(SpawnPipeline **ret, sd_event *e, const SpawnParams *params,
                         spawn_done_t done, void *userdata, int *ret_index);
/* SIGTERM (and SIGCONT) to the process group, SIGKILL after the grace. done() still comes, with
 * SPAWN_STOPPED, once every process is reaped. Idempotent. */
void spawn_pipeline_stop(SpawnPipeline *p);
/* NULL-safe. A pipeline still running is killed with SIGKILL and reaped synchronously (for
 * shutdown, when the loop may not run again); done() is not called. */
SpawnPipeline *spawn_pipeline_free(SpawnPipeline *p);
/* The process group (the command's pid). */
pid_t spawn_pipeline_pgid(const SpawnPipeline *p);

#ifdef PAIRGATE_TEST_POLICIES
/* Tests only (never in an installed daemon): make one step of spawn_pipeline_start() that comes
 * after a process was started fail with -EIO, as if the system had refused it, to exercise the
 * callers' handling of failures that are no program's. None of these can be made to fail from
 * outside: the input is at most SPAWN_INPUT_MAX bytes (a pipe holds at least a page) and the
 * pipe's read end is still ours while writing, and adding event sources needs no resource a
 * test could exhaust at exactly that point. */
typedef enum SpawnFault {
        SPAWN_FAULT_NONE,
        SPAWN_FAULT_CHILD_SOURCE, /* sd_event_add_child() for the last process started */
        SPAWN_FAULT_INPUT,        /* writing `input` (only when there is input) */
        SPAWN_FAULT_STDERR,       /* sd_event_add_io() for the stderr pipe */
        SPAWN_FAULT_TIMER,        /* the timeout timer (only with timeout_usec > 0) */
        _SPAWN_FAULT_MAX,
} SpawnFault;
extern SpawnFault spawn_pipeline_test_fault;
#endif
