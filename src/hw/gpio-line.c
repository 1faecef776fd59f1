/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include <glib.h>

#include "gpio-line.h"
#include "macro.h"

static const char *const bias_names[_GPIO_BIAS_MAX] = {
        [GPIO_BIAS_AS_IS] = "as-is",
        [GPIO_BIAS_PULL_UP] = "pull-up",
        [GPIO_BIAS_PULL_DOWN] = "pull-down",
        [GPIO_BIAS_DISABLED] = "disabled",
};

const char *gpio_bias_to_string(GpioBias b) {
        return b >= 0 && b < _GPIO_BIAS_MAX ? bias_names[b] : NULL;
}

GpioBias gpio_bias_from_string(const char *s) {
        for (int i = 0; i < _GPIO_BIAS_MAX; i++)
                if (streq(bias_names[i], s))
                        return (GpioBias) i;
        return _GPIO_BIAS_INVALID;
}

static bool is_gpiochip_n(const char *s) {
        const char *d;

        if (!g_str_has_prefix(s, "gpiochip"))
                return false;
        d = s + strlen("gpiochip");
        if (!*d)
                return false;
        for (; *d; d++)
                if (!g_ascii_isdigit(*d))
                        return false;
        return true;
}

bool gpio_chip_name_is_valid(const char *chip) {
        size_t n;

        if (!chip || !*chip)
                return false;
        if (chip[0] == '/')
                return strlen(chip) < 4096 && !strstr(chip, "/../");
        if (is_gpiochip_n(chip))
                return true;
        /* a label: what the kernel reports in gpiochip_info.label */
        n = strlen(chip);
        if (n >= GPIO_MAX_NAME_SIZE)
                return false;
        for (const char *c = chip; *c; c++)
                if (!g_ascii_isgraph(*c) || *c == '/')
                        return false;
        return true;
}

static int chip_label(const char *path, char label[GPIO_MAX_NAME_SIZE]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct gpiochip_info info = { 0 };

        if (fd < 0)
                return -errno;
        if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) < 0)
                return -errno;
        memcpy(label, info.label, GPIO_MAX_NAME_SIZE);
        label[GPIO_MAX_NAME_SIZE - 1] = 0;
        return 0;
}

int gpio_chip_resolve(const char *chip, char **ret_path) {
        DIR *dir;
        struct dirent *de;
        int r = -ENOENT;

        if (!gpio_chip_name_is_valid(chip))
                return -EINVAL;
        if (chip[0] == '/') {
                *ret_path = g_strdup(chip);
                return 0;
        }
        if (is_gpiochip_n(chip)) {
                *ret_path = g_strdup_printf("/dev/%s", chip);
                return 0;
        }
        dir = opendir("/dev");
        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                char label[GPIO_MAX_NAME_SIZE];
                _cleanup_free_ char *path = NULL;

                if (!is_gpiochip_n(de->d_name))
                        continue;
                path = g_strdup_printf("/dev/%s", de->d_name);
                if (chip_label(path, label) >= 0 && streq(label, chip)) {
                        *ret_path = TAKE_PTR(path);
                        r = 0;
                        break;
                }
        }
        closedir(dir);
        return r;
}

static uint64_t bias_flags(GpioBias bias) {
        switch (bias) {
        case GPIO_BIAS_PULL_UP:
                return GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
        case GPIO_BIAS_PULL_DOWN:
                return GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
        case GPIO_BIAS_DISABLED:
                return GPIO_V2_LINE_FLAG_BIAS_DISABLED;
        default:
                return 0;
        }
}

static int request_line(const char *chip_path, struct gpio_v2_line_request *req) {
        _cleanup_close_ int fd = open(chip_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return -errno;
        if (ioctl(fd, GPIO_V2_GET_LINE_IOCTL, req) < 0)
                return -errno;
        if (req->fd < 0)
                return -EIO;
        /* The line fd stays valid after the chip fd is closed. */
        return req->fd;
}

int gpio_line_request_input(const char *chip_path, unsigned line, bool active_low, GpioBias bias,
                            unsigned debounce_us, const char *consumer) {
        struct gpio_v2_line_request req = { 0 };
        int fd, fl;

        req.offsets[0] = line;
        req.num_lines = 1;
        g_strlcpy(req.consumer, consumer, sizeof req.consumer);
        req.config.flags = GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING |
                           GPIO_V2_LINE_FLAG_EDGE_FALLING | bias_flags(bias) |
                           (active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0);
        if (debounce_us > 0) {
                req.config.num_attrs = 1;
                req.config.attrs[0].mask = 1; /* the first (only) line of the request */
                req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
                req.config.attrs[0].attr.debounce_period_us = debounce_us;
        }
        fd = request_line(chip_path, &req);
        if (fd < 0)
                return fd;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int gpio_line_request_output(const char *chip_path, unsigned line, bool active_low, bool value,
                             const char *consumer) {
        struct gpio_v2_line_request req = { 0 };

        req.offsets[0] = line;
        req.num_lines = 1;
        g_strlcpy(req.consumer, consumer, sizeof req.consumer);
        req.config.flags =
                GPIO_V2_LINE_FLAG_OUTPUT | (active_low ? GPIO_V2_LINE_FLAG_ACTIVE_LOW : 0);
        req.config.num_attrs = 1;
        req.config.attrs[0].mask = 1;
        req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
        req.config.attrs[0].attr.values = value ? 1 : 0;
        return request_line(chip_path, &req);
}

int gpio_line_set_value(int line_fd, bool value) {
        struct gpio_v2_line_values v = { .bits = value ? 1 : 0, .mask = 1 };

        if (ioctl(line_fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0)
                return -errno;
        return 0;
}
