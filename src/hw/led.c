/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>

#include <glib.h>

#include "audit.h"
#include "gpio-line.h"
#include "led.h"
#include "macro.h"

struct Led {
        sd_event *event;
        LedMode mode;
        bool lit;
        sd_event_source *blink;
        /* sysfs */
        char *dir;
        char *saved_trigger; /* NULL when it could not be read */
        char *saved_brightness;
        unsigned max_brightness;
        bool write_failed;
        bool took_over; /* our "none" is in the trigger file: restore the saved one */
        /* gpio */
        int line_fd;
};

static int read_file(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *path = g_build_filename(dir, name, NULL);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        if (!g_file_get_contents(path, &text, NULL, &error))
                return error->domain == G_FILE_ERROR && error->code == G_FILE_ERROR_NOENT ? -ENOENT
                                                                                          : -EIO;
        g_strstrip(text);
        *ret = text;
        return 0;
}

/* sysfs attributes: one write() of the whole value, no stdio buffering (O_TRUNC: harmless on
 * sysfs, and right for the plain files unit tests use). */
static int write_file(const char *dir, const char *name, const char *value) {
        _cleanup_free_ char *path = g_build_filename(dir, name, NULL);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        size_t n = strlen(value);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, value, n);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

/* "none [timer] heartbeat" -> "timer" */
static char *current_trigger(const char *triggers) {
        const char *open = strchr(triggers, '['), *close;

        if (!open)
                return NULL;
        close = strchr(open, ']');
        if (!close)
                return NULL;
        return g_strndup(open + 1, (size_t) (close - open - 1));
}

static void apply(Led *l, bool lit) {
        int r;

        l->lit = lit;
        if (l->line_fd >= 0) {
                r = gpio_line_set_value(l->line_fd, lit);
        } else {
                char v[16];
                snprintf(v, sizeof v, "%u", lit ? l->max_brightness : 0);
                r = write_file(l->dir, "brightness", v);
        }
        if (r < 0 && !l->write_failed) {
                l->write_failed = true;
                log_warning("button: cannot set the LED %s: %s", l->dir ? l->dir : "(GPIO line)",
                            g_strerror(-r));
        }
}

static int on_blink(sd_event_source *s, uint64_t usec, void *userdata) {
        Led *l = userdata;

        apply(l, !l->lit);
        /* next toggle: an expired timer left enabled would fire at every loop iteration */
        return sd_event_source_set_time(s, usec + LED_BLINK_HALF_PERIOD_USEC);
}

void led_set_mode(Led *l, LedMode m) {
        int r;

        if (!l || l->mode == m)
                return;
        l->mode = m;
        if (m != LED_BLINK) {
                (void) sd_event_source_set_enabled(l->blink, SD_EVENT_OFF);
                apply(l, m == LED_ON);
                return;
        }
        apply(l, true);
        if (!l->blink) {
                r = sd_event_add_time_relative(l->event, &l->blink, CLOCK_MONOTONIC,
                                               LED_BLINK_HALF_PERIOD_USEC, 10 * 1000ULL, on_blink,
                                               l);
                if (r < 0) {
                        log_warning("button: cannot blink the LED: %s", g_strerror(-r));
                        return;
                }
                (void) sd_event_source_set_enabled(l->blink, SD_EVENT_ON);
                return;
        }
        (void) sd_event_source_set_time_relative(l->blink, LED_BLINK_HALF_PERIOD_USEC);
        (void) sd_event_source_set_enabled(l->blink, SD_EVENT_ON);
}

LedMode led_get_mode(const Led *l) {
        return l ? l->mode : LED_OFF;
}

static int open_sysfs(Led *l, const char *dir) {
        _cleanup_free_ char *triggers = NULL, *max = NULL;
        int r;

        l->dir = g_strdup(dir);
        r = read_file(dir, "max_brightness", &max);
        if (r < 0)
                return r;
        l->max_brightness = (unsigned) g_ascii_strtoull(max, NULL, 10);
        if (l->max_brightness == 0)
                l->max_brightness = 1;
        if (read_file(dir, "trigger", &triggers) >= 0)
                l->saved_trigger = current_trigger(triggers);
        (void) read_file(dir, "brightness", &l->saved_brightness);
        /* Take it over: the trigger first (setting "none" also turns it off). */
        r = write_file(dir, "trigger", "none");
        if (r < 0)
                return r;
        l->took_over = true;
        return write_file(dir, "brightness", "0");
}

int led_new(Led **ret, sd_event *e, const LedConfig *c) {
        Led *l = g_new0(Led, 1);
        int r;

        l->event = sd_event_ref(e);
        l->line_fd = -EBADF;
        if (c->sysfs)
                r = open_sysfs(l, c->sysfs);
        else {
                _cleanup_free_ char *path = NULL;
                r = gpio_chip_resolve(c->chip, &path);
                if (r >= 0)
                        r = l->line_fd = gpio_line_request_output(path, c->line, c->active_low,
                                                                  false, "pairgate-led");
        }
        if (r < 0) {
                led_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

Led *led_free(Led *l) {
        if (!l)
                return NULL;
        sd_event_source_disable_unref(l->blink);
        if (l->line_fd >= 0) {
                (void) gpio_line_set_value(l->line_fd, false);
                close(l->line_fd);
        } else if (l->took_over && l->saved_trigger) {
                int r = write_file(l->dir, "trigger", l->saved_trigger);
                if (r >= 0 && streq(l->saved_trigger, "none") && l->saved_brightness)
                        r = write_file(l->dir, "brightness", l->saved_brightness);
                if (r < 0)
                        log_warning("button: cannot restore the LED %s (trigger %s): %s", l->dir,
                                    l->saved_trigger, g_strerror(-r));
        }
        sd_event_unref(l->event);
        g_free(l->dir);
        g_free(l->saved_trigger);
        g_free(l->saved_brightness);
        g_free(l);
        return NULL;
}
