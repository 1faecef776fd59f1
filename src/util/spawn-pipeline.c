/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <glib.h>

#include "macro.h"
#include "spawn-pipeline.h"
#include "time-util.h"

extern char **environ;

typedef struct Child {
        pid_t pid;
        sd_event_source *source;
        bool exited; /* reported by sd-event (which reaps it right after our callback) */
        int code;    /* si_code: CLD_EXITED, CLD_KILLED, CLD_DUMPED */
        int status;  /* si_status */
} Child;

struct SpawnPipeline {
        sd_event *event;
        Child children[2];
        unsigned n_children, n_exited;
        pid_t pgid;
        int err_fd;
        sd_event_source *err_source, *timer, *kill_timer, *defer;
        char output[SPAWN_OUTPUT_MAX + 1];
        size_t output_len;
        uint64_t started_usec, kill_grace_usec;
        bool stopped, timed_out, terminating;
        spawn_done_t done;
        void *userdata;
};

/* The daemon's environment minus what only the daemon itself may use: the sd_notify socket and
 * watchdog (a child must not report for us), socket activation, and JOURNAL_STREAM (the child's
 * stderr is our pipe, not the journal). */
static char **child_environment(void) {
        static const char *const drop[] = { "NOTIFY_SOCKET=", "WATCHDOG_PID=", "WATCHDOG_USEC=",
                                            "LISTEN_FDS=",    "LISTEN_PID=",   "LISTEN_FDNAMES=",
                                            "JOURNAL_STREAM=" };
        GPtrArray *env = g_ptr_array_new();

        for (char **e = environ; e && *e; e++) {
                bool keep = true;
                for (size_t i = 0; i < ELEMENTSOF(drop); i++)
                        if (g_str_has_prefix(*e, drop[i]))
                                keep = false;
                if (keep)
                        g_ptr_array_add(env, *e); /* borrowed */
        }
        g_ptr_array_add(env, NULL);
        return (char **) g_ptr_array_free(env, false);
}

/* One child: stdin from in_fd (or /dev/null), stdout to out_fd (or /dev/null), stderr to err_fd
 * (or /dev/null), nothing else open; process group pgroup (0: a new group led by the child). */
static int spawn_one(pid_t *ret, char *const argv[], char *const envp[], pid_t pgroup, int in_fd,
                     int out_fd, int err_fd) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawnattr_init(&attr);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -r;
        }
        if (in_fd >= 0)
                r = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
        else
                r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0) {
                if (out_fd >= 0)
                        r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
                else
                        r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
                                                             O_WRONLY, 0);
        }
        if (r == 0) {
                if (err_fd >= 0)
                        r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
                else
                        r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
                                                             O_WRONLY, 0);
        }
        /* Our own descriptors are O_CLOEXEC, but other code in the process (libraries, other
         * policies) might not be: close everything above stderr. */
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        sigemptyset(&none);
        sigfillset(&all);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                            POSIX_SPAWN_SETSIGDEF);
        if (r == 0)
                r = posix_spawnattr_setpgroup(&attr, pgroup);
        /* The daemon blocks SIGCHLD, SIGTERM, ... for sd-event: the child gets a clean slate. */
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(&attr, &all);
        /* posix_spawnp (glibc >= 2.24) reports a failed exec (ENOENT, EACCES) as its result. */
        if (r == 0)
                r = posix_spawnp(ret, argv[0], &fa, &attr, argv, envp);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

static void complete(SpawnPipeline *p) {
        SpawnStatus st = { .result = SPAWN_SUCCESS, .exit_status = 0 };
        const Child *bad = NULL;
        unsigned bad_index = 0;
        ssize_t n;

        /* Whatever is still buffered in the stderr pipe. */
        while (p->err_fd >= 0 && p->output_len < SPAWN_OUTPUT_MAX &&
               (n = read(p->err_fd, p->output + p->output_len, SPAWN_OUTPUT_MAX - p->output_len)) >
                       0)
                p->output_len += (size_t) n;
        p->output[p->output_len] = '\0';

        /* "not found" from any process first; then the reader (a dead reader kills the writer
         * with SIGPIPE, so the reader's failure is the cause); then the command. */
        for (unsigned i = 0; i < p->n_children && !bad; i++)
                if (p->children[i].code == CLD_EXITED && p->children[i].status == 127) {
                        bad = &p->children[i];
                        bad_index = i;
                        st.result = SPAWN_NOT_FOUND;
                }
        for (unsigned i = p->n_children; i-- > 0 && !bad;)
                if (p->children[i].code != CLD_EXITED || p->children[i].status != 0) {
                        bad = &p->children[i];
                        bad_index = i;
                        st.result = SPAWN_FAILED;
                }
        if (p->stopped)
                st.result = SPAWN_STOPPED;
        else if (p->timed_out)
                st.result = SPAWN_TIMEOUT;
        if (bad) {
                st.index = bad_index;
                st.exit_status = bad->code == CLD_EXITED ? bad->status : -1;
                st.signal = bad->code == CLD_EXITED ? 0 : bad->status;
        }
        st.output = p->output;
        st.elapsed_usec = now_usec() - p->started_usec;
        p->done(p, &st, p->userdata);
}

static int on_defer(sd_event_source *s, void *userdata) {
        complete(userdata);
        return 0;
}

static void send_group(SpawnPipeline *p, int sig) {
        /* Only while one of our children is unreaped: it keeps the group id from being reused. */
        if (p->n_exited < p->n_children)
                (void) kill(-p->pgid, sig);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        SpawnPipeline *p = userdata;

        for (unsigned i = 0; i < p->n_children; i++) {
                Child *c = &p->children[i];
                if (c->pid != si->si_pid || c->exited)
                        continue;
                if (si->si_code != CLD_EXITED && si->si_code != CLD_KILLED &&
                    si->si_code != CLD_DUMPED)
                        return 0; /* stopped/continued: not an exit */
                c->exited = true;
                c->code = si->si_code;
                c->status = si->si_status;
                if (p->n_exited + 1 == p->n_children) {
                        /* The last one is still a zombie while we run (sd-event reaps it after
                         * this callback), so the group id is still ours: remove anything the
                         * children left behind in their group. */
                        (void) kill(-p->pgid, SIGKILL);
                        p->timer = sd_event_source_disable_unref(p->timer);
                        p->kill_timer = sd_event_source_disable_unref(p->kill_timer);
                        /* Complete from a defer source, outside this child callback. If even
                         * that cannot be allocated, complete now. */
                        if (sd_event_add_defer(p->event, &p->defer, on_defer, p) < 0) {
                                p->n_exited++;
                                complete(p);
                                return 0;
                        }
                }
                p->n_exited++;
                return 0;
        }
        return 0;
}

static int on_stderr(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SpawnPipeline *p = userdata;
        char discard[512];
        ssize_t n;

        if (p->output_len < SPAWN_OUTPUT_MAX)
                n = read(fd, p->output + p->output_len, SPAWN_OUTPUT_MAX - p->output_len);
        else
                n = read(fd, discard, sizeof discard);
        if (n > 0 && p->output_len < SPAWN_OUTPUT_MAX)
                p->output_len += (size_t) n;
        else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF); /* EOF */
        return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        SpawnPipeline *p = userdata;

        send_group(p, SIGKILL);
        return 0;
}

static void terminate(SpawnPipeline *p) {
        if (p->terminating || p->n_exited == p->n_children)
                return;
        p->terminating = true;
        send_group(p, SIGTERM);
        send_group(p, SIGCONT); /* a stopped process would not see SIGTERM */
        p->timer = sd_event_source_disable_unref(p->timer);
        if (sd_event_add_time_relative(p->event, &p->kill_timer, CLOCK_MONOTONIC,
                                       p->kill_grace_usec, 0, on_kill_timer, p) < 0)
                send_group(p, SIGKILL);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        SpawnPipeline *p = userdata;

        p->timed_out = true;
        terminate(p);
        return 0;
}

void spawn_pipeline_stop(SpawnPipeline *p) {
        if (!p)
                return;
        p->stopped = true;
        terminate(p);
}

pid_t spawn_pipeline_pgid(const SpawnPipeline *p) {
        return p->pgid;
}

SpawnPipeline *spawn_pipeline_free(SpawnPipeline *p) {
        bool running;

        if (!p)
                return NULL;
        running = p->n_exited < p->n_children;
        /* Drop the child sources first (they do not own the processes), then kill and reap
         * ourselves: SIGKILL cannot be caught, so the wait is short. */
        for (unsigned i = 0; i < p->n_children; i++)
                p->children[i].source = sd_event_source_disable_unref(p->children[i].source);
        if (running) {
                (void) kill(-p->pgid, SIGKILL);
                for (unsigned i = 0; i < p->n_children; i++) {
                        if (p->children[i].exited)
                                continue;
                        while (waitpid(p->children[i].pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                }
        }
        sd_event_source_disable_unref(p->err_source);
        sd_event_source_disable_unref(p->timer);
        sd_event_source_disable_unref(p->kill_timer);
        sd_event_source_disable_unref(p->defer);
        if (p->err_fd >= 0)
                (void) close(p->err_fd);
        sd_event_unref(p->event);
        g_free(p);
        return NULL;
}

static void close_pair(int fds[2]) {
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0) {
                        (void) close(fds[i]);
                        fds[i] = -EBADF;
                }
}

/* Kill and reap what was started before a failure in spawn_pipeline_start(). */
static void abort_started(SpawnPipeline *p) {
        for (unsigned i = 0; i < p->n_children; i++)
                p->children[i].source = sd_event_source_disable_unref(p->children[i].source);
        if (p->n_children > 0) {
                (void) kill(-p->pgid, SIGKILL);
                for (unsigned i = 0; i < p->n_children; i++)
                        while (waitpid(p->children[i].pid, NULL, 0) < 0 && errno == EINTR)
                                ;
        }
        p->n_children = p->n_exited = 0;
}

#ifdef PAIRGATE_TEST_POLICIES
SpawnFault spawn_pipeline_test_fault = SPAWN_FAULT_NONE;
#define FAULT(step, r) (spawn_pipeline_test_fault == (step) ? -EIO : (r))
#else
#define FAULT(step, r) (r)
#endif

int spawn_pipeline_start(SpawnPipeline **ret, sd_event *e, const SpawnParams *params,
                         spawn_done_t done, void *userdata, int *ret_index) {
        int in_pipe[2] = { -EBADF, -EBADF }, mid_pipe[2] = { -EBADF, -EBADF };
        int err_pipe[2] = { -EBADF, -EBADF };
        _cleanup_free_ char **envp = NULL;
        size_t input_len = params->input ? strlen(params->input) : 0;
        SpawnPipeline *p;
        int failed = -1; /* the program that could not be started, if that was the failure */
        int r;

        if (!params->argv[0] || !params->argv[0][0] || !params->argv[0][0][0] ||
            (params->argv[1] && (!params->argv[1][0] || !params->argv[1][0][0])))
                return -EINVAL;
        if (input_len > SPAWN_INPUT_MAX)
                return -E2BIG;

        p = g_new0(SpawnPipeline, 1);
        p->event = sd_event_ref(e);
        p->err_fd = -EBADF;
        p->done = done;
        p->userdata = userdata;
        p->kill_grace_usec = params->kill_grace_usec;
        p->started_usec = now_usec();
        envp = child_environment();

        if ((params->input && pipe2(in_pipe, O_CLOEXEC) < 0) ||
            (params->argv[1] && pipe2(mid_pipe, O_CLOEXEC) < 0) ||
            pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        for (unsigned i = 0; i < 2 && params->argv[i]; i++) {
                Child *c = &p->children[i];
                int in_fd = i == 0 ? in_pipe[0] : mid_pipe[0];
                int out_fd = i == 0 ? mid_pipe[1] : -EBADF;

                r = spawn_one(&c->pid, params->argv[i], envp, i == 0 ? 0 : p->pgid, in_fd, out_fd,
                              err_pipe[1]);
                if (r < 0) {
                        failed = (int) i; /* the one failure that is a program's */
                        goto fail;
                }
                if (i == 0)
                        p->pgid = c->pid;
                p->n_children++;
                r = sd_event_add_child(e, &c->source, c->pid, WEXITED, on_child, p);
                if (i + 1 == 2 || !params->argv[i + 1])
                        r = FAULT(SPAWN_FAULT_CHILD_SOURCE, r);
                if (r < 0)
                        goto fail;
        }
        /* The command has its ends; ours go (the read end of stdin only after writing: while we
         * hold it, writing cannot raise SIGPIPE even if the command already exited). */
        if (params->input) {
                ssize_t n = write(in_pipe[1], params->input, input_len);
                if (n < 0)
                        r = -errno;
                else
                        r = (size_t) n == input_len ? 0 : -EIO;
                r = FAULT(SPAWN_FAULT_INPUT, r);
                if (r < 0)
                        goto fail;
        }
        close_pair(in_pipe);
        close_pair(mid_pipe);
        (void) close(TAKE_FD(err_pipe[1]));
        p->err_fd = TAKE_FD(err_pipe[0]); /* owned by p from here on */
        r = FAULT(SPAWN_FAULT_STDERR,
                  sd_event_add_io(e, &p->err_source, p->err_fd, EPOLLIN, on_stderr, p));
        if (r < 0)
                goto fail;
        if (params->timeout_usec > 0) {
                r = FAULT(SPAWN_FAULT_TIMER,
                          sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC,
                                                     params->timeout_usec, 0, on_timeout, p));
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;

fail:
        abort_started(p);
        close_pair(in_pipe);
        close_pair(mid_pipe);
        close_pair(err_pipe);
        spawn_pipeline_free(p);
        if (ret_index)
                *ret_index = failed;
        return r;
}
