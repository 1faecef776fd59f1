/* SPDX-License-Identifier: MIT */
/* button = { ... }: every key of the button policy's section, checked with file:line errors. */
#include <errno.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <string.h>

#include <glib.h>

#include "button-config.h"
#include "macro.h"
#include "settings.h"

#define KNOWN_KEYS                                                                                \
        "source, device, key, chip, line, active_low, bias, debounce_ms, long_press_ms, window, " \
        "window_pairings, adapter, led, led_gpio"

static int parse_key(const PolicyEnv *env, const config_setting_t *s, unsigned *ret,
                     char **ret_error) {
        const SettingScope scope = { .file = env->config_path, .section = "button" };
        const char *name;
        int code;

        if (setting_is_int(s))
                return setting_get_uint(&scope, s, 1, KEY_MAX, ret, ret_error);
        name = config_setting_get_string(s);
        if (!name)
                return setting_fail(
                        ret_error,
                        policy_error(env, s,
                                     "button.key must be a key name (\"KEY_CONNECT\") or a "
                                     "key code"));
        code = libevdev_event_code_from_name(EV_KEY, name);
        if (code <= 0)
                return setting_fail(
                        ret_error,
                        policy_error(env, s,
                                     "button.key: '%s' is not a key name known to libevdev "
                                     "(KEY_* or BTN_*, as in linux/input-event-codes.h)",
                                     name));
        *ret = (unsigned) code;
        return 0;
}

static int parse_led_gpio(ButtonConfig *c, const PolicyEnv *env, const config_setting_t *s,
                          char **ret_error) {
        const SettingScope scope = { .file = env->config_path, .section = "button" };
        const char *chip = NULL;
        bool have_line = false;
        int r;

        if (!config_setting_is_group(s))
                return setting_fail(
                        ret_error,
                        policy_error(env, s,
                                     "button.led_gpio must be a group { chip = \"gpiochip0\"; "
                                     "line = N; active_low = false; }"));
        for (int i = 0; i < config_setting_length(s); i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "chip")) {
                        r = setting_get_string(&scope, e, &chip, ret_error);
                        if (r >= 0 && !gpio_chip_name_is_valid(chip))
                                r = setting_fail(
                                        ret_error,
                                        policy_error(env, e,
                                                     "button.led_gpio.chip: '%s' is not a chip "
                                                     "(\"/dev/gpiochipN\", \"gpiochipN\" or a "
                                                     "chip label)",
                                                     chip));
                } else if (streq(name, "line")) {
                        r = setting_get_uint(&scope, e, 0, 65535, &c->led.line, ret_error);
                        have_line = true;
                } else if (streq(name, "active_low"))
                        r = setting_get_bool(&scope, e, &c->led.active_low, ret_error);
                else
                        r = setting_fail(ret_error,
                                         policy_error(env, e,
                                                      "button.led_gpio: unknown key '%s' "
                                                      "(known: chip, line, active_low)",
                                                      name));
                if (r < 0)
                        return r;
        }
        if (!chip || !have_line)
                return setting_fail(
                        ret_error,
                        policy_error(env, s, "button.led_gpio needs both chip and line"));
        c->led_chip = g_strdup(chip);
        c->led.chip = c->led_chip;
        c->has_led = true;
        return 0;
}

int button_config_parse(ButtonConfig *c, const config_setting_t *section, const PolicyEnv *env,
                        char **ret_error) {
        const SettingScope scope = { .file = env->config_path, .section = "button" };
        const config_setting_t *input_only = NULL, *gpio_only = NULL, *led = NULL, *led_gpio = NULL,
                               *debounce = NULL;
        const char *source = "input", *device = NULL, *chip = NULL;
        bool have_key = false, have_line = false;
        int r;

        c->input.kind = BUTTON_SOURCE_INPUT;
        c->input.debounce_ms = BUTTON_DEFAULT_DEBOUNCE_MS;
        c->input.bias = GPIO_BIAS_AS_IS;
        c->long_press_ms = BUTTON_DEFAULT_LONG_PRESS_MS;
        c->window_pairings = BUTTON_DEFAULT_WINDOW_PAIRINGS;
        c->adapter = g_strdup(BUTTON_DEFAULT_ADAPTER);

        if (!config_setting_is_group(section))
                return setting_fail(
                        ret_error,
                        policy_error(env, section, "button must be a group: button = { ... };"));
        for (int i = 0; i < config_setting_length(section); i++) {
                const config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "source")) {
                        r = setting_get_string(&scope, e, &source, ret_error);
                        if (r >= 0 && !streq(source, "input") && !streq(source, "gpio"))
                                r = setting_fail(ret_error,
                                                 policy_error(env, e,
                                                              "button.source: '%s' is not a source "
                                                              "(\"input\" or \"gpio\")",
                                                              source));
                } else if (streq(name, "device")) {
                        input_only = input_only ? input_only : e;
                        r = setting_get_string(&scope, e, &device, ret_error);
                        if (r >= 0 && strlen(device) > 255)
                                r = setting_fail(ret_error,
                                                 policy_error(env, e, "button.device is too long"));
                } else if (streq(name, "key")) {
                        input_only = input_only ? input_only : e;
                        r = parse_key(env, e, &c->input.key, ret_error);
                        have_key = true;
                } else if (streq(name, "chip")) {
                        gpio_only = gpio_only ? gpio_only : e;
                        r = setting_get_string(&scope, e, &chip, ret_error);
                        if (r >= 0 && !gpio_chip_name_is_valid(chip))
                                r = setting_fail(
                                        ret_error,
                                        policy_error(env, e,
                                                     "button.chip: '%s' is not a chip "
                                                     "(\"/dev/gpiochipN\", \"gpiochipN\" or a "
                                                     "chip label)",
                                                     chip));
                } else if (streq(name, "line")) {
                        gpio_only = gpio_only ? gpio_only : e;
                        r = setting_get_uint(&scope, e, 0, 65535, &c->input.line, ret_error);
                        have_line = true;
                } else if (streq(name, "active_low")) {
                        gpio_only = gpio_only ? gpio_only : e;
                        r = setting_get_bool(&scope, e, &c->input.active_low, ret_error);
                } else if (streq(name, "bias")) {
                        const char *v = NULL;
                        gpio_only = gpio_only ? gpio_only : e;
                        r = setting_get_string(&scope, e, &v, ret_error);
                        if (r >= 0) {
                                c->input.bias = gpio_bias_from_string(v);
                                if (c->input.bias < 0)
                                        r = setting_fail(
                                                ret_error,
                                                policy_error(env, e,
                                                             "button.bias: '%s' is not one of "
                                                             "as-is, pull-up, pull-down, "
                                                             "disabled",
                                                             v));
                        }
                } else if (streq(name, "debounce_ms")) {
                        debounce = e;
                        r = setting_get_uint(&scope, e, 0, 1000, &c->input.debounce_ms, ret_error);
                } else if (streq(name, "long_press_ms"))
                        r = setting_get_uint(&scope, e, 100, 60000, &c->long_press_ms, ret_error);
                else if (streq(name, "window"))
                        r = setting_get_uint(&scope, e, 0, BUTTON_WINDOW_MAX_SEC, &c->window_sec,
                                             ret_error);
                else if (streq(name, "window_pairings"))
                        r = setting_get_uint(&scope, e, 1, 100, &c->window_pairings, ret_error);
                else if (streq(name, "adapter")) {
                        const char *v = NULL;
                        r = setting_get_string(&scope, e, &v, ret_error);
                        if (r >= 0 && (!g_str_has_prefix(v, "/org/bluez/") ||
                                       !sd_bus_object_path_is_valid(v)))
                                r = setting_fail(
                                        ret_error,
                                        policy_error(env, e,
                                                     "button.adapter: '%s' is not an adapter "
                                                     "object path (\"/org/bluez/hci0\")",
                                                     v));
                        if (r >= 0) {
                                g_free(c->adapter);
                                c->adapter = g_strdup(v);
                        }
                } else if (streq(name, "led")) {
                        const char *v = NULL;
                        led = e;
                        r = setting_get_string(&scope, e, &v, ret_error);
                        if (r >= 0 && v[0] != '/')
                                r = setting_fail(
                                        ret_error,
                                        policy_error(env, e,
                                                     "button.led must be the LED's sysfs "
                                                     "directory (\"/sys/class/leds/ACT\")"));
                        if (r >= 0) {
                                c->led_sysfs = g_strdup(v);
                                c->led.sysfs = c->led_sysfs;
                                c->has_led = true;
                        }
                } else if (streq(name, "led_gpio")) {
                        led_gpio = e;
                        r = parse_led_gpio(c, env, e, ret_error);
                } else
                        r = setting_fail(ret_error,
                                         policy_error(env, e,
                                                      "button: unknown key '%s' (known: %s)", name,
                                                      KNOWN_KEYS));
                if (r < 0)
                        return r;
        }

        if (led && led_gpio)
                return setting_fail(
                        ret_error,
                        policy_error(env, led_gpio, "button: led and led_gpio are exclusive"));
        if (streq(source, "gpio")) {
                c->input.kind = BUTTON_SOURCE_GPIO;
                if (input_only)
                        return setting_fail(ret_error,
                                            policy_error(env, input_only,
                                                         "button.%s is for source = \"input\", not "
                                                         "\"gpio\"",
                                                         config_setting_name(input_only)));
                if (!chip || !have_line)
                        return setting_fail(
                                ret_error,
                                policy_error(env, section,
                                             "button: source = \"gpio\" needs chip and line"));
                c->chip = g_strdup(chip);
                c->input.chip = c->chip;
        } else {
                if (gpio_only)
                        return setting_fail(ret_error,
                                            policy_error(env, gpio_only,
                                                         "button.%s is for source = \"gpio\", not "
                                                         "\"input\"",
                                                         config_setting_name(gpio_only)));
                if (!device || !have_key)
                        return setting_fail(
                                ret_error,
                                policy_error(env, section,
                                             "button: source = \"input\" needs device (a path "
                                             "or an input device name) and key"));
                c->device = g_strdup(device);
                c->input.device = c->device;
        }
        if (c->input.debounce_ms * 2 >= c->long_press_ms)
                return setting_fail(
                        ret_error,
                        policy_error(env, debounce ? debounce : section,
                                     "button: debounce_ms must be well below long_press_ms"));
        return 0;
}

void button_config_clear(ButtonConfig *c) {
        g_free(c->device);
        g_free(c->chip);
        g_free(c->adapter);
        g_free(c->led_sysfs);
        g_free(c->led_chip);
        *c = (ButtonConfig){ 0 };
}
