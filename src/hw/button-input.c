/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <linux/input.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "button-input.h"
#include "macro.h"
#include "time-util.h"

#define CONSUMER      "pairgate-button"
#define BITS_PER_LONG (sizeof(unsigned long) * 8)

struct ButtonInput {
        sd_event *event;
        ButtonInputConfig config; /* strings and keys point into the copies below */
        char *device, *chip, *label;
        unsigned *keys;
        ButtonInputCallbacks cb;
        void *userdata;

        int fd;
        sd_event_source *io;
        char *opened_path;
        bool raw_records;   /* not an evdev node (a FIFO in tests): timestamps as written */
        bool use_read_time; /* an evdev node whose clock could not be set to CLOCK_MONOTONIC */
        uint8_t partial[sizeof(struct gpio_v2_line_event)]; /* larger than input_event */
        size_t partial_len;
        bool dropping; /* evdev SYN_DROPPED: ignore events up to the next SYN_REPORT */
        uint64_t opened_at;
        unsigned brief_opens; /* consecutive opens that were lost within a second */

        int inotify_fd;
        sd_event_source *inotify_io;
        int wd;
        char *watch_dir;
        sd_event_source *retry;
        int last_error; /* last open error reported (to report changes only) */

        /* debouncing (input source; GPIO lines are debounced by the kernel) */
        bool level;
        bool has_candidate, candidate_level;
        uint64_t candidate_usec;
        sd_event_source *debounce_timer;
};

static unsigned debounce_ms(const ButtonInput *in) {
        return in->config.kind == BUTTON_SOURCE_INPUT && in->config.n_keys == 0
                       ? in->config.debounce_ms
                       : 0;
}

static bool keys_mode(const ButtonInput *in) {
        return in->config.kind == BUTTON_SOURCE_INPUT && in->config.n_keys > 0;
}

static bool is_wanted_key(const ButtonInput *in, unsigned code) {
        if (!keys_mode(in))
                return code == in->config.key;
        for (size_t i = 0; i < in->config.n_keys; i++)
                if (in->config.keys[i] == code)
                        return true;
        return false;
}

/* ---- debouncing ------------------------------------------------------------------------- */

static void commit(ButtonInput *in, bool level, uint64_t usec) {
        in->has_candidate = false;
        (void) sd_event_source_set_enabled(in->debounce_timer, SD_EVENT_OFF);
        if (level == in->level)
                return;
        in->level = level;
        in->cb.edge(level, usec, in->userdata);
}

static int on_debounce_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ButtonInput *in = userdata;

        if (in->has_candidate)
                commit(in, in->candidate_level, in->candidate_usec);
        return 0;
}

void button_input_feed_key(ButtonInput *in, unsigned code, uint64_t usec) {
        uint64_t now = now_usec();

        if (!keys_mode(in) || !in->cb.key)
                return;
        in->cb.key(code, usec > now ? now : usec, in->userdata);
}

/* An edge stands when the level stays for the debounce period; its time is the first edge's. */
void button_input_feed(ButtonInput *in, bool pressed, uint64_t usec) {
        uint64_t period = (uint64_t) debounce_ms(in) * 1000;
        uint64_t now = now_usec();
        int r;

        if (usec > now) /* a timestamp from the future is not believed */
                usec = now;
        if (period == 0) {
                commit(in, pressed, usec);
                return;
        }
        if (in->has_candidate) {
                if (usec < in->candidate_usec + period) {
                        if (pressed == in->level) { /* the candidate was a bounce */
                                in->has_candidate = false;
                                (void) sd_event_source_set_enabled(in->debounce_timer,
                                                                   SD_EVENT_OFF);
                        }
                        return;
                }
                commit(in, in->candidate_level, in->candidate_usec);
        }
        if (pressed == in->level)
                return;
        in->has_candidate = true;
        in->candidate_level = pressed;
        in->candidate_usec = usec;
        if (!in->debounce_timer) {
                r = sd_event_add_time(in->event, &in->debounce_timer, CLOCK_MONOTONIC,
                                      usec + period, 0, on_debounce_timer, in);
                if (r < 0) {
                        log_warning("%s: cannot arm the debounce timer: %s", in->label,
                                    g_strerror(-r));
                        commit(in, pressed, usec);
                }
                return;
        }
        (void) sd_event_source_set_time(in->debounce_timer, usec + period);
        (void) sd_event_source_set_enabled(in->debounce_timer, SD_EVENT_ONESHOT);
}

static void reset_state(ButtonInput *in) {
        bool was = in->level || in->has_candidate;

        in->level = false;
        in->has_candidate = false;
        (void) sd_event_source_set_enabled(in->debounce_timer, SD_EVENT_OFF);
        if (was && in->cb.reset)
                in->cb.reset(in->userdata);
}

/* ---- opening ----------------------------------------------------------------------------- */

static bool test_bit(unsigned bit, const unsigned long *bits) {
        return (bits[bit / BITS_PER_LONG] >> (bit % BITS_PER_LONG)) & 1UL;
}

/* Whether the evdev node reports the button's key, or (keys mode) at least one of the keys. */
static bool evdev_has_key(const ButtonInput *in, int fd) {
        unsigned long bits[KEY_MAX / BITS_PER_LONG + 1] = { 0 };

        if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof bits), bits) < 0)
                return false;
        if (!keys_mode(in))
                return in->config.key <= KEY_MAX && test_bit(in->config.key, bits);
        for (size_t i = 0; i < in->config.n_keys; i++)
                if (in->config.keys[i] <= KEY_MAX && test_bit(in->config.keys[i], bits))
                        return true;
        return false;
}

/* Open one input node. *ret_raw: it is not an evdev node (FIFO). */
static int open_input_path(ButtonInput *in, const char *path, bool *ret_raw) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        int clk = CLOCK_MONOTONIC;
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
                return -ENOTTY; /* a regular file would replay its events forever */
        in->use_read_time = false;
        *ret_raw = false;
        if (ioctl(fd, EVIOCSCLOCKID, &clk) < 0) {
                if (errno == ENOTTY || errno == EINVAL) {
                        if (S_ISCHR(st.st_mode))
                                return -ENOTTY; /* a character device, but not evdev */
                        *ret_raw = true;
                } else {
                        log_warning("%s: %s: cannot set the event clock to CLOCK_MONOTONIC "
                                    "(%s): press times are taken when read",
                                    in->label, path, g_strerror(errno));
                        in->use_read_time = true;
                }
        }
        if (!*ret_raw && !evdev_has_key(in, fd)) {
                if (keys_mode(in))
                        log_warning("%s: %s reports none of the keys wanted: nothing typed "
                                    "there will arrive",
                                    in->label, path);
                else
                        log_warning("%s: %s does not report key code %u: presses of that key "
                                    "will never arrive",
                                    in->label, path, in->config.key);
        }
        return TAKE_FD(fd);
}

static int open_input_by_name(ButtonInput *in, char **ret_path) {
        DIR *dir = opendir("/dev/input");
        struct dirent *de;
        int r = -ENODEV;

        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -EBADF;
                char name[256] = "";
                bool raw = false;

                if (!g_str_has_prefix(de->d_name, "event"))
                        continue;
                path = g_strdup_printf("/dev/input/%s", de->d_name);
                fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == EACCES && r == -ENODEV)
                                r = -EACCES;
                        continue;
                }
                if (ioctl(fd, EVIOCGNAME(sizeof name - 1), name) < 0 ||
                    !streq(name, in->config.device) || !evdev_has_key(in, fd))
                        continue;
                closep(&fd);
                fd = open_input_path(in, path, &raw);
                if (fd < 0) {
                        r = fd;
                        continue;
                }
                in->raw_records = raw;
                *ret_path = TAKE_PTR(path);
                r = TAKE_FD(fd);
                break;
        }
        closedir(dir);
        return r;
}

static int open_device(ButtonInput *in, char **ret_path) {
        _cleanup_free_ char *path = NULL;
        int fd, r;

        if (in->config.kind == BUTTON_SOURCE_GPIO) {
                r = gpio_chip_resolve(in->config.chip, &path);
                if (r < 0)
                        return r;
                fd = gpio_line_request_input(path, in->config.line, in->config.active_low,
                                             in->config.bias, in->config.debounce_ms * 1000,
                                             CONSUMER);
                if (fd < 0)
                        return fd;
                in->raw_records = false;
                *ret_path = g_strdup_printf("%s line %u", path, in->config.line);
                return fd;
        }
        if (in->config.device[0] != '/')
                return open_input_by_name(in, ret_path);
        fd = open_input_path(in, in->config.device, &in->raw_records);
        if (fd >= 0)
                *ret_path = g_strdup(in->config.device);
        return fd;
}

/* The directory whose changes may bring the device (back). */
static char *target_dir(const ButtonInput *in) {
        if (in->config.kind == BUTTON_SOURCE_GPIO)
                return g_strdup(in->config.chip[0] == '/' ? in->config.chip : "/dev/");
        if (in->config.device[0] != '/')
                return g_strdup("/dev/input/");
        return g_strdup(in->config.device);
}

/* The deepest existing directory on the way to the device. */
static char *watch_dir_for(const ButtonInput *in) {
        _cleanup_free_ char *p = target_dir(in);
        char *dir = g_path_get_dirname(p);

        for (;;) {
                struct stat st;
                char *up;

                if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                        return dir;
                up = g_path_get_dirname(dir);
                if (streq(up, dir)) {
                        g_free(up);
                        return dir;
                }
                g_free(dir);
                dir = up;
        }
}

static void close_watch(ButtonInput *in) {
        in->inotify_io = sd_event_source_disable_unref(in->inotify_io);
        closep(&in->inotify_fd);
        in->inotify_fd = -EBADF;
        in->wd = -1;
        g_free(in->watch_dir);
        in->watch_dir = NULL;
        (void) sd_event_source_set_enabled(in->retry, SD_EVENT_OFF);
}

static int try_open(ButtonInput *in);

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ButtonInput *in = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n > 0)
                        continue;
                if (n < 0 && errno == EINTR)
                        continue;
                break;
        }
        (void) try_open(in);
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        ButtonInput *in = userdata;

        (void) try_open(in);
        return 0;
}

static int arm_retry(ButtonInput *in, uint64_t usec) {
        int r;

        if (!in->retry)
                return sd_event_add_time_relative(in->event, &in->retry, CLOCK_MONOTONIC, usec,
                                                  100 * 1000ULL, on_retry, in);
        r = sd_event_source_set_time_relative(in->retry, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(in->retry, SD_EVENT_ONESHOT);
        return r;
}

/* Watch the deepest existing directory (again: it may have become deeper or been removed). */
static int update_watch(ButtonInput *in) {
        _cleanup_free_ char *dir = watch_dir_for(in);
        int r;

        if (in->inotify_fd < 0) {
                in->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (in->inotify_fd < 0)
                        return -errno;
                r = sd_event_add_io(in->event, &in->inotify_io, in->inotify_fd, EPOLLIN, on_inotify,
                                    in);
                if (r < 0) {
                        closep(&in->inotify_fd);
                        in->inotify_fd = -EBADF;
                        return r;
                }
        }
        if (in->wd >= 0 && streq(in->watch_dir, dir))
                return 0;
        if (in->wd >= 0)
                (void) inotify_rm_watch(in->inotify_fd, in->wd);
        in->wd = inotify_add_watch(in->inotify_fd, dir,
                                   IN_CREATE | IN_ATTRIB | IN_MOVED_TO | IN_DELETE_SELF |
                                           IN_MOVE_SELF | IN_ONLYDIR);
        if (in->wd < 0)
                return -errno;
        g_free(in->watch_dir);
        in->watch_dir = TAKE_PTR(dir);
        return 0;
}

static void close_device(ButtonInput *in) {
        in->io = sd_event_source_disable_unref(in->io);
        closep(&in->fd);
        in->fd = -EBADF;
        in->partial_len = 0;
        in->dropping = false;
        g_free(in->opened_path);
        in->opened_path = NULL;
}

/* The device is gone: close it now, report, and wait for it to come back. */
static void lost(ButtonInput *in, int error) {
        _cleanup_free_ char *path = g_strdup(in->opened_path);
        int r;

        in->brief_opens = now_usec() - in->opened_at < 1000000ULL ? in->brief_opens + 1 : 0;

        close_device(in);
        reset_state(in);
        in->last_error = error;
        if (in->cb.state)
                in->cb.state(BUTTON_INPUT_LOST, path, error, in->userdata);
        r = update_watch(in);
        if (r < 0)
                log_warning("%s: cannot watch %s for the device: %s", in->label, in->watch_dir,
                            g_strerror(-r));
        /* A device that keeps vanishing right after opening gets the slow retry only. */
        r = arm_retry(in,
                      in->brief_opens >= 2 ? BUTTON_INPUT_RETRY_USEC : BUTTON_INPUT_REOPEN_USEC);
        if (r < 0)
                log_warning("%s: cannot arm the retry timer: %s", in->label, g_strerror(-r));
}

static void process_evdev(ButtonInput *in, const struct input_event *ev) {
        uint64_t usec;

        if (ev->type == EV_SYN) {
                if (ev->code == SYN_DROPPED) {
                        in->dropping = true;
                        reset_state(in);
                } else if (ev->code == SYN_REPORT)
                        in->dropping = false;
                return;
        }
        if (in->dropping || ev->type != EV_KEY || !is_wanted_key(in, ev->code))
                return;
        if (ev->value != 0 && ev->value != 1) /* 2: autorepeat */
                return;
        usec = in->use_read_time ? now_usec()
                                 : (uint64_t) ev->input_event_sec * 1000000ULL +
                                           (uint64_t) ev->input_event_usec;
        if (keys_mode(in)) {
                if (ev->value == 1)
                        button_input_feed_key(in, ev->code, usec);
                return;
        }
        button_input_feed(in, ev->value == 1, usec);
}

static void process_gpio(ButtonInput *in, const struct gpio_v2_line_event *ev) {
        if (ev->id != GPIO_V2_LINE_EVENT_RISING_EDGE && ev->id != GPIO_V2_LINE_EVENT_FALLING_EDGE)
                return;
        /* Rising is the logical value becoming active: active_low is applied by the kernel. */
        button_input_feed(in, ev->id == GPIO_V2_LINE_EVENT_RISING_EDGE, ev->timestamp_ns / 1000);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ButtonInput *in = userdata;
        size_t rec = in->config.kind == BUTTON_SOURCE_GPIO ? sizeof(struct gpio_v2_line_event)
                                                           : sizeof(struct input_event);
        uint8_t buf[64 * sizeof(struct gpio_v2_line_event)];

        for (;;) {
                size_t have = in->partial_len, off = 0;
                ssize_t n;

                memcpy(buf, in->partial, have);
                n = read(fd, buf + have, sizeof buf - have);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) { /* 0: a FIFO's last writer closed; <0: ENODEV and such */
                        lost(in, n < 0 ? -errno : 0);
                        return 0;
                }
                have += (size_t) n;
                for (; have - off >= rec; off += rec) {
                        if (in->config.kind == BUTTON_SOURCE_GPIO) {
                                struct gpio_v2_line_event ev;
                                memcpy(&ev, buf + off, sizeof ev);
                                process_gpio(in, &ev);
                        } else {
                                struct input_event ev;
                                memcpy(&ev, buf + off, sizeof ev);
                                process_evdev(in, &ev);
                        }
                }
                in->partial_len = have - off;
                memcpy(in->partial, buf + off, in->partial_len);
        }
        if (revents & (EPOLLHUP | EPOLLERR))
                lost(in, revents & EPOLLERR ? -EIO : 0);
        return 0;
}

static int try_open(ButtonInput *in) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (in->fd >= 0)
                return 0;
        fd = open_device(in, &path);
        if (fd < 0) {
                r = fd;
                if (in->cb.state && r != in->last_error) {
                        _cleanup_free_ char *what =
                                in->config.kind == BUTTON_SOURCE_GPIO
                                        ? g_strdup_printf("%s line %u", in->config.chip,
                                                          in->config.line)
                                        : g_strdup(in->config.device);
                        in->cb.state(BUTTON_INPUT_ABSENT, what, r, in->userdata);
                }
                in->last_error = r;
                r = update_watch(in);
                if (r < 0 && r != in->last_error)
                        log_warning("%s: cannot watch for the device: %s", in->label,
                                    g_strerror(-r));
                r = arm_retry(in, in->last_error == -EBUSY ? BUTTON_INPUT_RETRY_BUSY_USEC
                                                           : BUTTON_INPUT_RETRY_USEC);
                return r < 0 ? r : 0;
        }
        r = sd_event_add_io(in->event, &in->io, fd, EPOLLIN, on_io, in);
        if (r < 0)
                return r;
        in->fd = TAKE_FD(fd);
        in->opened_path = TAKE_PTR(path);
        in->opened_at = now_usec();
        in->last_error = 0;
        close_watch(in);
        if (in->cb.state)
                in->cb.state(BUTTON_INPUT_OPENED, in->opened_path, 0, in->userdata);
        return 0;
}

/* ---- object ------------------------------------------------------------------------------ */

int button_input_new(ButtonInput **ret, sd_event *e, const ButtonInputConfig *c,
                     const ButtonInputCallbacks *cb, void *userdata) {
        ButtonInput *in = g_new0(ButtonInput, 1);

        in->event = sd_event_ref(e);
        in->config = *c;
        in->device = g_strdup(c->device);
        in->chip = g_strdup(c->chip);
        in->label = g_strdup(c->label ? c->label : "button");
        in->keys = c->n_keys > 0 ? g_memdup2(c->keys, c->n_keys * sizeof *c->keys) : NULL;
        in->config.device = in->device;
        in->config.chip = in->chip;
        in->config.label = in->label;
        in->config.keys = in->keys;
        in->cb = *cb;
        in->userdata = userdata;
        in->fd = -EBADF;
        in->inotify_fd = -EBADF;
        in->wd = -1;
        in->last_error = 1; /* nothing reported yet */
        *ret = in;
        return 0;
}

int button_input_start(ButtonInput *in) {
        return try_open(in);
}

ButtonInput *button_input_free(ButtonInput *in) {
        if (!in)
                return NULL;
        close_device(in);
        close_watch(in);
        sd_event_source_disable_unref(in->retry);
        sd_event_source_disable_unref(in->debounce_timer);
        sd_event_unref(in->event);
        g_free(in->device);
        g_free(in->chip);
        g_free(in->label);
        g_free(in->keys);
        g_free(in);
        return NULL;
}

bool button_input_release_pending(const ButtonInput *in, uint64_t *ret_until) {
        if (!in || !in->has_candidate || in->candidate_level)
                return false;
        *ret_until = in->candidate_usec + (uint64_t) debounce_ms(in) * 1000;
        return true;
}

bool button_input_is_open(const ButtonInput *in) {
        return in && in->fd >= 0;
}
