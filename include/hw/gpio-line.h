/* SPDX-License-Identifier: MIT */
#pragma once

/* One GPIO line through the kernel GPIO character device, uAPI v2 (<linux/gpio.h>, Linux 5.10+):
 * no libgpiod, so the same code runs on Debian 12 (libgpiod 1.6) and on distributions that ship
 * libgpiod 2. Edge timestamps are CLOCK_MONOTONIC (the uAPI default). */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum GpioBias {
        GPIO_BIAS_AS_IS,
        GPIO_BIAS_PULL_UP,
        GPIO_BIAS_PULL_DOWN,
        GPIO_BIAS_DISABLED,
        _GPIO_BIAS_MAX,
        _GPIO_BIAS_INVALID = -EINVAL,
} GpioBias;

const char *gpio_bias_to_string(GpioBias b);
GpioBias gpio_bias_from_string(const char *s);

/* A chip as written in the configuration: "/dev/gpiochipN" (any absolute path), "gpiochipN", or
 * the chip's label ("pinctrl-bcm2711"). Syntax only: nothing is opened. */
bool gpio_chip_name_is_valid(const char *chip);
/* The device node for a chip name: paths as they are, "gpiochipN" under /dev, labels by asking
 * every /dev/gpiochip* (-ENOENT when none has that label). */
int gpio_chip_resolve(const char *chip, char **ret_path);

/* Request `line` of the chip at `chip_path` as an input with both edges detected and the given
 * debounce period (0: none; the kernel debounces in software where the hardware cannot).
 * Returns the line fd (O_NONBLOCK, CLOEXEC; read struct gpio_v2_line_event from it) or -errno.
 * A line beyond the chip's count is -EINVAL; a line another process (or instance) holds, -EBUSY. */
int gpio_line_request_input(const char *chip_path, unsigned line, bool active_low, GpioBias bias,
                            unsigned debounce_us, const char *consumer);
/* Request `line` as an output driven to `value` (logical: active_low applies). */
int gpio_line_request_output(const char *chip_path, unsigned line, bool active_low, bool value,
                             const char *consumer);
int gpio_line_set_value(int line_fd, bool value);
