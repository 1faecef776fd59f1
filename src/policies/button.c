/* SPDX-License-Identifier: MIT */
/* button: a physical button decides the requests routed to it.
 *
 *   - A short press allows the oldest pending request, a long press (long_press_ms) denies it.
 *     Only a press that went DOWN after the request arrived counts (a press, or a held button,
 *     from before never approves a later stranger); one press decides one request.
 *   - RequestPasskey / RequestPinCode: a button cannot supply a number: pass.
 *   - No press: the core's request_timeout ends the request (cancel() is called).
 *   - Pairing window (window = N s): a short press while nothing is pending makes the adapter
 *     discoverable and pairable for N s (DiscoverableTimeout = PairableTimeout = N, so BlueZ and
 *     the kernel end it even without us); meanwhile requests routed to button are allowed without
 *     a press. It closes after N s, after window_pairings devices paired, or on a long press; the
 *     adapter then goes back to non-discoverable and Pairable/PairableTimeout/DiscoverableTimeout
 *     get the values they had before. Opened/closed (and why) are audited.
 *   - LED: blinks while a request waits, on while a window is open, off otherwise.
 *
 * Reload: a new instance takes over one event-loop iteration after its init (so a reload that is
 * refused later leaves the old one alone): older instances close their input and LED and hand
 * their pending requests over, so the GPIO line is free and one press is seen once. */
#include <errno.h>
#include <inttypes.h>
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <stdio.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "button-input.h"
#include "button.h"
#include "device-cache.h"
#include "led.h"
#include "macro.h"
#include "time-util.h"

#define ADAPTER_INTERFACE "org.bluez.Adapter1"
#define WINDOW_MAX_SEC    3600

typedef struct ButtonPolicy ButtonPolicy;

struct PolicyCall {
        ButtonPolicy *owner; /* NULL once decided (or orphaned) */
        uint64_t request_id;
        uint64_t arrived_usec;
        AgentMethod method;
        char *address;
        policy_done_t done;
        void *userdata;
        sd_event_source *deliver; /* decided: done() is called from this defer source */
        PolicyResult result;
        char reason[128];
};

typedef struct AdapterSnapshot {
        bool valid;
        bool pairable;
        uint32_t pairable_timeout, discoverable_timeout;
} AdapterSnapshot;

typedef struct BusCall {
        ButtonPolicy *b;
        sd_bus_slot *slot;
        unsigned generation; /* window generation the call was made for */
        bool opening;        /* a failure closes the window */
        char what[32];
} BusCall;

struct ButtonPolicy {
        /* configuration */
        ButtonInputConfig input;
        LedConfig led_config;
        char *device, *chip;
        char *adapter;
        char *led_sysfs, *led_chip;
        unsigned long_press_ms;
        unsigned window_sec, window_pairings;

        /* runtime (event != NULL) */
        sd_event *event;
        sd_bus *bus;
        DeviceCache *devices;
        DeviceListener *listener;
        sd_event_source *takeover;
        sd_event_source *exit_source; /* closes the window before sd-bus closes at exit */
        ButtonInput *in;
        Led *led;
        GQueue pending; /* PolicyCall*, oldest first */

        uint64_t down_usec; /* the press in progress */
        sd_event_source *long_timer;

        sd_event_source *window_timer;
        AdapterSnapshot snapshot;
        GHashTable *unpaired; /* device paths last seen with Paired = false */
        GList *bus_calls;     /* BusCall* */
        unsigned window_generation;
        unsigned pairings;

        bool has_led;
        bool active;
        bool input_was_open;
        bool pressed, consumed;
        bool window_open;
        bool adapter_touched; /* the opening Sets were sent: closing must undo them */
};

/* Runtime instances, oldest first: during a reload the old and the new one live side by side. */
static GList *instances;

/* ---- configuration ------------------------------------------------------------------------ */

#define KNOWN_KEYS                                                                                \
        "source, device, key, chip, line, active_low, bias, debounce_ms, long_press_ms, window, " \
        "window_pairings, adapter, led, led_gpio"

static int fail(char **ret_error, char *msg) {
        if (ret_error)
                *ret_error = msg;
        else
                g_free(msg);
        return -EINVAL;
}

static bool is_int(const config_setting_t *s) {
        return config_setting_type(s) == CONFIG_TYPE_INT ||
               config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int get_uint(const PolicyEnv *env, const config_setting_t *s, long long min, long long max,
                    unsigned *ret, char **ret_error) {
        long long v;

        if (!is_int(s))
                return fail(ret_error, policy_error(env, s, "button.%s must be an integer",
                                                    config_setting_name(s)));
        v = config_setting_get_int64(s);
        if (v < min || v > max)
                return fail(ret_error,
                            policy_error(env, s, "button.%s = %lld is out of range (%lld..%lld)",
                                         config_setting_name(s), v, min, max));
        *ret = (unsigned) v;
        return 0;
}

static int get_string(const PolicyEnv *env, const config_setting_t *s, const char **ret,
                      char **ret_error) {
        const char *v = config_setting_get_string(s);

        if (!v || !*v)
                return fail(ret_error, policy_error(env, s, "button.%s must be a non-empty string",
                                                    config_setting_name(s)));
        *ret = v;
        return 0;
}

static int get_bool(const PolicyEnv *env, const config_setting_t *s, bool *ret, char **ret_error) {
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                return fail(ret_error, policy_error(env, s, "button.%s must be true or false",
                                                    config_setting_name(s)));
        *ret = config_setting_get_bool(s);
        return 0;
}

static int parse_key(const PolicyEnv *env, const config_setting_t *s, unsigned *ret,
                     char **ret_error) {
        const char *name;
        int code;

        if (is_int(s))
                return get_uint(env, s, 1, KEY_MAX, ret, ret_error);
        name = config_setting_get_string(s);
        if (!name)
                return fail(ret_error,
                            policy_error(env, s,
                                         "button.key must be a key name (\"KEY_CONNECT\") or a "
                                         "key code"));
        code = libevdev_event_code_from_name(EV_KEY, name);
        if (code <= 0)
                return fail(ret_error,
                            policy_error(env, s,
                                         "button.key: '%s' is not a key name known to libevdev "
                                         "(KEY_* or BTN_*, as in linux/input-event-codes.h)",
                                         name));
        *ret = (unsigned) code;
        return 0;
}

static int parse_led_gpio(ButtonPolicy *b, const PolicyEnv *env, const config_setting_t *s,
                          char **ret_error) {
        const char *chip = NULL;
        bool have_line = false;
        int r;

        if (!config_setting_is_group(s))
                return fail(ret_error,
                            policy_error(env, s,
                                         "button.led_gpio must be a group { chip = \"gpiochip0\"; "
                                         "line = N; active_low = false; }"));
        for (int i = 0; i < config_setting_length(s); i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "chip")) {
                        r = get_string(env, e, &chip, ret_error);
                        if (r >= 0 && !gpio_chip_name_is_valid(chip))
                                r = fail(ret_error,
                                         policy_error(env, e,
                                                      "button.led_gpio.chip: '%s' is not a chip "
                                                      "(\"/dev/gpiochipN\", \"gpiochipN\" or a "
                                                      "chip label)",
                                                      chip));
                } else if (streq(name, "line")) {
                        r = get_uint(env, e, 0, 65535, &b->led_config.line, ret_error);
                        have_line = true;
                } else if (streq(name, "active_low"))
                        r = get_bool(env, e, &b->led_config.active_low, ret_error);
                else
                        r = fail(ret_error, policy_error(env, e,
                                                         "button.led_gpio: unknown key '%s' "
                                                         "(known: chip, line, active_low)",
                                                         name));
                if (r < 0)
                        return r;
        }
        if (!chip || !have_line)
                return fail(ret_error,
                            policy_error(env, s, "button.led_gpio needs both chip and line"));
        b->led_chip = g_strdup(chip);
        b->led_config.chip = b->led_chip;
        b->has_led = true;
        return 0;
}

static int parse_config(ButtonPolicy *b, const config_setting_t *section, const PolicyEnv *env,
                        char **ret_error) {
        const config_setting_t *input_only = NULL, *gpio_only = NULL, *led = NULL, *led_gpio = NULL,
                               *debounce = NULL;
        const char *source = "input", *device = NULL, *chip = NULL;
        bool have_key = false, have_line = false;
        int r;

        b->input.kind = BUTTON_SOURCE_INPUT;
        b->input.debounce_ms = BUTTON_DEFAULT_DEBOUNCE_MS;
        b->input.bias = GPIO_BIAS_AS_IS;
        b->long_press_ms = BUTTON_DEFAULT_LONG_PRESS_MS;
        b->window_pairings = BUTTON_DEFAULT_WINDOW_PAIRINGS;
        b->adapter = g_strdup(BUTTON_DEFAULT_ADAPTER);

        if (!config_setting_is_group(section))
                return fail(ret_error, policy_error(env, section,
                                                    "button must be a group: button = { ... };"));
        for (int i = 0; i < config_setting_length(section); i++) {
                const config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "source")) {
                        r = get_string(env, e, &source, ret_error);
                        if (r >= 0 && !streq(source, "input") && !streq(source, "gpio"))
                                r = fail(ret_error,
                                         policy_error(env, e,
                                                      "button.source: '%s' is not a source "
                                                      "(\"input\" or \"gpio\")",
                                                      source));
                } else if (streq(name, "device")) {
                        input_only = input_only ? input_only : e;
                        r = get_string(env, e, &device, ret_error);
                        if (r >= 0 && strlen(device) > 255)
                                r = fail(ret_error,
                                         policy_error(env, e, "button.device is too long"));
                } else if (streq(name, "key")) {
                        input_only = input_only ? input_only : e;
                        r = parse_key(env, e, &b->input.key, ret_error);
                        have_key = true;
                } else if (streq(name, "chip")) {
                        gpio_only = gpio_only ? gpio_only : e;
                        r = get_string(env, e, &chip, ret_error);
                        if (r >= 0 && !gpio_chip_name_is_valid(chip))
                                r = fail(ret_error,
                                         policy_error(env, e,
                                                      "button.chip: '%s' is not a chip "
                                                      "(\"/dev/gpiochipN\", \"gpiochipN\" or a "
                                                      "chip label)",
                                                      chip));
                } else if (streq(name, "line")) {
                        gpio_only = gpio_only ? gpio_only : e;
                        r = get_uint(env, e, 0, 65535, &b->input.line, ret_error);
                        have_line = true;
                } else if (streq(name, "active_low")) {
                        gpio_only = gpio_only ? gpio_only : e;
                        r = get_bool(env, e, &b->input.active_low, ret_error);
                } else if (streq(name, "bias")) {
                        const char *v = NULL;
                        gpio_only = gpio_only ? gpio_only : e;
                        r = get_string(env, e, &v, ret_error);
                        if (r >= 0) {
                                b->input.bias = gpio_bias_from_string(v);
                                if (b->input.bias < 0)
                                        r = fail(ret_error,
                                                 policy_error(env, e,
                                                              "button.bias: '%s' is not one of "
                                                              "as-is, pull-up, pull-down, "
                                                              "disabled",
                                                              v));
                        }
                } else if (streq(name, "debounce_ms")) {
                        debounce = e;
                        r = get_uint(env, e, 0, 1000, &b->input.debounce_ms, ret_error);
                } else if (streq(name, "long_press_ms"))
                        r = get_uint(env, e, 100, 60000, &b->long_press_ms, ret_error);
                else if (streq(name, "window"))
                        r = get_uint(env, e, 0, WINDOW_MAX_SEC, &b->window_sec, ret_error);
                else if (streq(name, "window_pairings"))
                        r = get_uint(env, e, 1, 100, &b->window_pairings, ret_error);
                else if (streq(name, "adapter")) {
                        const char *v = NULL;
                        r = get_string(env, e, &v, ret_error);
                        if (r >= 0 && (!g_str_has_prefix(v, "/org/bluez/") ||
                                       !sd_bus_object_path_is_valid(v)))
                                r = fail(ret_error,
                                         policy_error(env, e,
                                                      "button.adapter: '%s' is not an adapter "
                                                      "object path (\"/org/bluez/hci0\")",
                                                      v));
                        if (r >= 0) {
                                g_free(b->adapter);
                                b->adapter = g_strdup(v);
                        }
                } else if (streq(name, "led")) {
                        const char *v = NULL;
                        led = e;
                        r = get_string(env, e, &v, ret_error);
                        if (r >= 0 && v[0] != '/')
                                r = fail(ret_error,
                                         policy_error(env, e,
                                                      "button.led must be the LED's sysfs "
                                                      "directory (\"/sys/class/leds/ACT\")"));
                        if (r >= 0) {
                                b->led_sysfs = g_strdup(v);
                                b->led_config.sysfs = b->led_sysfs;
                                b->has_led = true;
                        }
                } else if (streq(name, "led_gpio")) {
                        led_gpio = e;
                        r = parse_led_gpio(b, env, e, ret_error);
                } else
                        r = fail(ret_error,
                                 policy_error(env, e, "button: unknown key '%s' (known: %s)", name,
                                              KNOWN_KEYS));
                if (r < 0)
                        return r;
        }

        if (led && led_gpio)
                return fail(ret_error,
                            policy_error(env, led_gpio, "button: led and led_gpio are exclusive"));
        if (streq(source, "gpio")) {
                b->input.kind = BUTTON_SOURCE_GPIO;
                if (input_only)
                        return fail(ret_error,
                                    policy_error(env, input_only,
                                                 "button.%s is for source = \"input\", not "
                                                 "\"gpio\"",
                                                 config_setting_name(input_only)));
                if (!chip || !have_line)
                        return fail(ret_error,
                                    policy_error(env, section,
                                                 "button: source = \"gpio\" needs chip and line"));
                b->chip = g_strdup(chip);
                b->input.chip = b->chip;
        } else {
                if (gpio_only)
                        return fail(ret_error,
                                    policy_error(env, gpio_only,
                                                 "button.%s is for source = \"gpio\", not "
                                                 "\"input\"",
                                                 config_setting_name(gpio_only)));
                if (!device || !have_key)
                        return fail(ret_error,
                                    policy_error(env, section,
                                                 "button: source = \"input\" needs device (a path "
                                                 "or an input device name) and key"));
                b->device = g_strdup(device);
                b->input.device = b->device;
        }
        if (b->input.debounce_ms * 2 >= b->long_press_ms)
                return fail(ret_error,
                            policy_error(env, debounce ? debounce : section,
                                         "button: debounce_ms must be well below long_press_ms"));
        return 0;
}

/* ---- audit and LED ------------------------------------------------------------------------ */

static void audit_event(const ButtonPolicy *b, const char *key, const char *value,
                        const char *message, const char *reason) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_POLICY_EVENT);

        rec.policy = "button";
        rec.message = message;
        rec.reason = reason;
        rec.extra_key = key;
        rec.extra_value = value;
        if (streq(key, "window"))
                rec.adapter = b->adapter;
        audit_emit(&rec);
}

static void update_led(ButtonPolicy *b) {
        if (!b->led)
                return;
        led_set_mode(b->led, !g_queue_is_empty(&b->pending) ? LED_BLINK
                             : b->window_open               ? LED_ON
                                                            : LED_OFF);
}

/* ---- adapter properties ------------------------------------------------------------------- */

static void bus_call_free(BusCall *c) {
        sd_bus_slot_unref(c->slot);
        g_free(c);
}

static void window_close(ButtonPolicy *b, const char *why);

static int on_set_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BusCall *c = userdata;
        ButtonPolicy *b = c->b;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        b->bus_calls = g_list_remove(b->bus_calls, c);
        if (e) {
                log_warning("button: %s on %s failed: %s: %s", c->what, b->adapter, e->name,
                            e->message ? e->message : "");
                if (c->opening && b->window_open && c->generation == b->window_generation) {
                        _cleanup_free_ char *why =
                                g_strdup_printf("the adapter refused %s: %s", c->what, e->name);
                        window_close(b, why);
                }
        }
        bus_call_free(c);
        return 0;
}

/* Properties.Set on the adapter; tracked (reply checked) unless the instance is going away. */
static void adapter_set(ButtonPolicy *b, const char *prop, char type, uint32_t value, bool opening,
                        bool tracked) {
        char sig[2] = { type, 0 };
        BusCall *c = NULL;
        int r;

        if (tracked) {
                c = g_new0(BusCall, 1);
                c->b = b;
                c->generation = b->window_generation;
                c->opening = opening;
                snprintf(c->what, sizeof c->what, "Set %s", prop);
        }
        if (type == 'b')
                r = sd_bus_call_method_async(b->bus, c ? &c->slot : NULL, "org.bluez", b->adapter,
                                             "org.freedesktop.DBus.Properties", "Set",
                                             c ? on_set_reply : NULL, c, "ssv", ADAPTER_INTERFACE,
                                             prop, sig, (int) value);
        else
                r = sd_bus_call_method_async(b->bus, c ? &c->slot : NULL, "org.bluez", b->adapter,
                                             "org.freedesktop.DBus.Properties", "Set",
                                             c ? on_set_reply : NULL, c, "ssv", ADAPTER_INTERFACE,
                                             prop, sig, value);
        if (r < 0) {
                log_warning("button: cannot set %s on %s: %s", prop, b->adapter, g_strerror(-r));
                g_free(c);
                return;
        }
        if (c)
                b->bus_calls = g_list_prepend(b->bus_calls, c);
}

static void adapter_open(ButtonPolicy *b) {
        /* Timeouts first: they apply when the switch turns on. */
        adapter_set(b, "DiscoverableTimeout", 'u', b->window_sec, true, true);
        adapter_set(b, "PairableTimeout", 'u', b->window_sec, true, true);
        adapter_set(b, "Pairable", 'b', true, true, true);
        adapter_set(b, "Discoverable", 'b', true, true, true);
        b->adapter_touched = true;
}

static void adapter_restore(ButtonPolicy *b, bool tracked) {
        if (!b->adapter_touched || !b->bus)
                return;
        b->adapter_touched = false;
        adapter_set(b, "Discoverable", 'b', false, false, tracked);
        if (!b->snapshot.valid)
                return;
        /* PairableTimeout first: setting it stops BlueZ's running pairable timer. */
        adapter_set(b, "PairableTimeout", 'u', b->snapshot.pairable_timeout, false, tracked);
        adapter_set(b, "Pairable", 'b', b->snapshot.pairable, false, tracked);
        adapter_set(b, "DiscoverableTimeout", 'u', b->snapshot.discoverable_timeout, false,
                    tracked);
}

static int read_snapshot(sd_bus_message *m, AdapterSnapshot *s) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        unsigned found = 0;

        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "Pairable")) {
                        int v;
                        r = sd_bus_message_read(m, "v", "b", &v);
                        s->pairable = v;
                        found |= 1;
                } else if (streq(key, "PairableTimeout")) {
                        r = sd_bus_message_read(m, "v", "u", &s->pairable_timeout);
                        found |= 2;
                } else if (streq(key, "DiscoverableTimeout")) {
                        r = sd_bus_message_read(m, "v", "u", &s->discoverable_timeout);
                        found |= 4;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        s->valid = found == 7;
        return 0;
}

static int on_snapshot(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BusCall *c = userdata;
        ButtonPolicy *b = c->b;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        bool current = b->window_open && c->generation == b->window_generation;

        b->bus_calls = g_list_remove(b->bus_calls, c);
        bus_call_free(c);
        if (!current) /* closed before BlueZ answered: nothing was changed */
                return 0;
        b->snapshot = (AdapterSnapshot){ 0 };
        if (e)
                log_warning("button: cannot read %s's properties (%s): they will not be restored "
                            "when the window closes",
                            b->adapter, e->name);
        else if (read_snapshot(m, &b->snapshot) < 0 || !b->snapshot.valid)
                log_warning("button: %s did not report Pairable/PairableTimeout/"
                            "DiscoverableTimeout: they will not be restored",
                            b->adapter);
        adapter_open(b);
        return 0;
}

/* ---- pairing window ----------------------------------------------------------------------- */

static void window_close(ButtonPolicy *b, const char *why) {
        _cleanup_free_ char *msg = NULL;

        if (!b->window_open)
                return;
        b->window_open = false;
        (void) sd_event_source_set_enabled(b->window_timer, SD_EVENT_OFF);
        msg = g_strdup_printf("Pairing window on %s closed: %s (%u pairing%s)", b->adapter, why,
                              b->pairings, b->pairings == 1 ? "" : "s");
        audit_event(b, "window", "closed", msg, why);
        /* Tracked replies only while the instance lives on (done() sends and forgets). */
        adapter_restore(b, b->active);
        update_led(b);
}

static int on_window_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ButtonPolicy *b = userdata;
        _cleanup_free_ char *why = g_strdup_printf("%u s elapsed", b->window_sec);

        window_close(b, why);
        return 0;
}

static void window_open(ButtonPolicy *b, const char *why) {
        _cleanup_free_ char *msg = NULL;
        uint64_t usec = (uint64_t) b->window_sec * 1000000ULL;
        int r;

        if (!b->window_timer)
                r = sd_event_add_time_relative(b->event, &b->window_timer, CLOCK_MONOTONIC, usec, 0,
                                               on_window_timer, b);
        else {
                r = sd_event_source_set_time_relative(b->window_timer, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(b->window_timer, SD_EVENT_ONESHOT);
        }
        if (r < 0) {
                log_error("button: cannot open the pairing window (timer: %s)", g_strerror(-r));
                return;
        }
        b->window_open = true;
        b->window_generation++;
        b->pairings = 0;
        msg = g_strdup_printf("Pairing window on %s opened for %u s (until %u pairing%s)",
                              b->adapter, b->window_sec, b->window_pairings,
                              b->window_pairings == 1 ? "" : "s");
        audit_event(b, "window", "opened", msg, why);
        update_led(b);
        if (!b->bus) {
                log_warning("button: no bus: the adapter is not made discoverable");
                return;
        }
        /* Read what we are about to change, then change it. */
        BusCall *c = g_new0(BusCall, 1);
        c->b = b;
        c->generation = b->window_generation;
        snprintf(c->what, sizeof c->what, "GetAll");
        r = sd_bus_call_method_async(b->bus, &c->slot, "org.bluez", b->adapter,
                                     "org.freedesktop.DBus.Properties", "GetAll", on_snapshot, c,
                                     "s", ADAPTER_INTERFACE);
        if (r < 0) {
                g_free(c);
                log_warning("button: cannot read %s's properties: %s", b->adapter, g_strerror(-r));
                b->snapshot = (AdapterSnapshot){ 0 };
                adapter_open(b);
                return;
        }
        b->bus_calls = g_list_prepend(b->bus_calls, c);
}

static void on_device_changed(const Device *d, bool removed, void *userdata) {
        ButtonPolicy *b = userdata;
        _cleanup_free_ char *why = NULL;

        if (removed) {
                g_hash_table_remove(b->unpaired, d->path);
                return;
        }
        if (!d->paired) {
                g_hash_table_add(b->unpaired, g_strdup(d->path));
                return;
        }
        /* Paired, and last seen unpaired: a pairing just completed. Devices already paired
         * before we saw them never count. */
        if (!g_hash_table_remove(b->unpaired, d->path) || !b->window_open)
                return;
        if (d->adapter && !streq(d->adapter, b->adapter))
                return;
        b->pairings++;
        log_info("button: %s paired during the pairing window (%u of %u)",
                 d->address ? d->address : d->path, b->pairings, b->window_pairings);
        if (b->pairings < b->window_pairings)
                return;
        why = g_strdup_printf("%u successful pairing%s", b->pairings, b->pairings == 1 ? "" : "s");
        window_close(b, why);
}

/* ---- decisions ------------------------------------------------------------------------------ */

static void call_free(PolicyCall *c) {
        sd_event_source_disable_unref(c->deliver);
        g_free(c->address);
        g_free(c);
}

static int on_deliver(sd_event_source *s, void *userdata) {
        PolicyCall *c = userdata;

        c->done(&c->result, c->userdata);
        call_free(c);
        return 0;
}

/* Decide c: it leaves the queue now, and its done() runs from a defer source, so the chain and
 * the request (which may free a whole policy set) never run inside our input handlers. */
static void decide_call(ButtonPolicy *b, PolicyCall *c, Verdict v) {
        int r;

        g_queue_remove(&b->pending, c);
        c->owner = NULL;
        c->result = (PolicyResult){ .verdict = v, .reason = c->reason };
        update_led(b);
        r = sd_event_add_defer(b->event, &c->deliver, on_deliver, c);
        if (r < 0) {
                log_error("button: cannot schedule a decision: %s", g_strerror(-r));
                on_deliver(NULL, c);
        }
}

static void act(ButtonPolicy *b, bool long_press, uint64_t down_usec, uint64_t held_usec) {
        PolicyCall *c = g_queue_peek_head(&b->pending);
        unsigned n = g_queue_get_length(&b->pending);
        const char *kind = long_press ? "long press" : "short press";

        if (c) {
                if (c->arrived_usec >= down_usec) {
                        _cleanup_free_ char *msg = g_strdup_printf(
                                "Button %s ignored: it began %.1f s before the oldest pending "
                                "request arrived",
                                kind, (double) (c->arrived_usec - down_usec) / 1e6);
                        audit_event(b, "press", "ignored", msg,
                                    "press began before the request arrived");
                        return;
                }
                if (n > 1)
                        snprintf(c->reason, sizeof c->reason,
                                 "%s (%.1f s); oldest of %u pending "
                                 "requests",
                                 kind, (double) held_usec / 1e6, n);
                else
                        snprintf(c->reason, sizeof c->reason, "%s (%.1f s)", kind,
                                 (double) held_usec / 1e6);
                log_info("button: %s decides %s from %s (request %" PRIu64 ")", kind,
                         agent_method_to_string(c->method), c->address ? c->address : "?",
                         c->request_id);
                decide_call(b, c, long_press ? VERDICT_DENY : VERDICT_ALLOW);
                return;
        }
        if (b->window_sec == 0) {
                log_info("button: %s with nothing pending (no pairing window configured)", kind);
                return;
        }
        if (!b->window_open && !long_press)
                window_open(b, "short press with nothing pending");
        else if (b->window_open && long_press)
                window_close(b, "closed early by a long press");
        else
                log_info("button: %s with nothing pending: the pairing window stays %s", kind,
                         b->window_open ? "open" : "closed");
}

static int on_long_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ButtonPolicy *b = userdata;

        uint64_t until;

        if (!b->pressed || b->consumed)
                return 0;
        /* A release read but not yet debounced ends the press before this deadline perhaps
         * (events read late): look again when it is settled. */
        if (button_input_release_pending(b->in, &until)) {
                (void) sd_event_source_set_time(s, until + 1000);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        b->consumed = true; /* held long enough: decide now, ignore the release */
        act(b, true, b->down_usec, (uint64_t) b->long_press_ms * 1000);
        return 0;
}

static void on_edge(bool pressed, uint64_t usec, void *userdata) {
        ButtonPolicy *b = userdata;
        uint64_t held;
        int r;

        if (pressed) {
                uint64_t at = usec + (uint64_t) b->long_press_ms * 1000;
                b->pressed = true;
                b->consumed = false;
                b->down_usec = usec;
                if (!b->long_timer)
                        r = sd_event_add_time(b->event, &b->long_timer, CLOCK_MONOTONIC, at, 0,
                                              on_long_timer, b);
                else {
                        r = sd_event_source_set_time(b->long_timer, at);
                        if (r >= 0)
                                r = sd_event_source_set_enabled(b->long_timer, SD_EVENT_ONESHOT);
                }
                if (r < 0)
                        log_warning("button: cannot time the press: %s", g_strerror(-r));
                return;
        }
        if (!b->pressed) /* a release without a press we saw (held while opening) */
                return;
        b->pressed = false;
        (void) sd_event_source_set_enabled(b->long_timer, SD_EVENT_OFF);
        if (b->consumed)
                return;
        held = usec > b->down_usec ? usec - b->down_usec : 0;
        act(b, held >= (uint64_t) b->long_press_ms * 1000, b->down_usec, held);
}

static void on_reset(void *userdata) {
        ButtonPolicy *b = userdata;

        b->pressed = false;
        (void) sd_event_source_set_enabled(b->long_timer, SD_EVENT_OFF);
}

static void on_input_state(ButtonInputState state, const char *detail, int error, void *userdata) {
        ButtonPolicy *b = userdata;
        _cleanup_free_ char *msg = NULL;

        switch (state) {
        case BUTTON_INPUT_OPENED:
                msg = g_strdup_printf("Button input %s %s", detail,
                                      b->input_was_open ? "reopened" : "opened");
                audit_event(b, "input", b->input_was_open ? "reopened" : "opened", msg, NULL);
                b->input_was_open = true;
                break;
        case BUTTON_INPUT_ABSENT:
                log_warning("button: input %s is not available (%s); waiting for it", detail,
                            g_strerror(-error));
                break;
        case BUTTON_INPUT_LOST:
                msg = g_strdup_printf("Button input %s lost (%s); waiting for it to come back",
                                      detail, error ? g_strerror(-error) : "end of file");
                audit_event(b, "input", "lost", msg, error ? g_strerror(-error) : "end of file");
                break;
        }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static gint by_arrival(gconstpointer a, gconstpointer b, gpointer unused) {
        const PolicyCall *x = a, *y = b;

        return x->arrived_usec < y->arrived_usec ? -1 : x->arrived_usec > y->arrived_usec;
}

static void move_calls(ButtonPolicy *from, ButtonPolicy *to) {
        PolicyCall *c;

        while ((c = g_queue_pop_head(&from->pending))) {
                c->owner = to;
                if (to)
                        g_queue_insert_sorted(&to->pending, c, by_arrival, NULL);
        }
}

static void release_hardware(ButtonPolicy *b) {
        b->in = button_input_free(b->in);
        b->led = led_free(b->led);
        b->exit_source = sd_event_source_disable_unref(b->exit_source);
        b->pressed = false;
        (void) sd_event_source_set_enabled(b->long_timer, SD_EVENT_OFF);
        if (b->listener) {
                device_cache_remove_listener(b->devices, b->listener);
                b->listener = NULL;
        }
}

/* An older instance (previous configuration) gives way to `to`. */
static void retire(ButtonPolicy *b, ButtonPolicy *to) {
        window_close(b, "configuration reloaded");
        move_calls(b, to);
        release_hardware(b);
        b->active = false;
}

/* The event loop is exiting (SIGTERM): the bus, attached to the loop, is flushed and closed by
 * its own exit source, so put the adapter back now, before it (priority IMPORTANT), untracked. */
static int on_exit_loop(sd_event_source *s, void *userdata) {
        ButtonPolicy *b = userdata;

        b->active = false;
        window_close(b, "pairgated is stopping");
        return 0;
}

static int on_takeover(sd_event_source *s, void *userdata) {
        ButtonPolicy *b = userdata;
        static const ButtonInputCallbacks cb = {
                .edge = on_edge,
                .state = on_input_state,
                .reset = on_reset,
        };
        int r;

        b->takeover = sd_event_source_disable_unref(b->takeover);
        for (GList *l = instances; l; l = l->next)
                if (l->data != b)
                        retire(l->data, b);
        b->active = true;
        r = sd_event_add_exit(b->event, &b->exit_source, on_exit_loop, b);
        if (r >= 0)
                r = sd_event_source_set_priority(b->exit_source, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0)
                log_warning("button: cannot watch for the loop's exit: %s", g_strerror(-r));
        if (b->devices)
                b->listener = device_cache_add_listener(b->devices, on_device_changed, b);
        if (b->has_led) {
                r = led_new(&b->led, b->event, &b->led_config);
                if (r < 0)
                        log_warning("button: cannot use the LED %s: %s; continuing without it",
                                    b->led_sysfs ? b->led_sysfs : b->led_chip, g_strerror(-r));
        }
        update_led(b);
        r = button_input_new(&b->in, b->event, &b->input, &cb, b);
        if (r >= 0)
                r = button_input_start(b->in);
        if (r < 0)
                log_error("button: cannot watch the input: %s", g_strerror(-r));
        return 0;
}

static void free_config(ButtonPolicy *b) {
        g_free(b->device);
        g_free(b->chip);
        g_free(b->adapter);
        g_free(b->led_sysfs);
        g_free(b->led_chip);
}

static int button_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                       char **ret_error) {
        ButtonPolicy *b = p->data;
        int r;

        g_queue_init(&b->pending);
        if (!section) {
                if (!env->event)
                        return 0; /* not configured; routes that name it are refused at start */
                return fail(ret_error, policy_error(env, NULL,
                                                    "button: a route uses the button policy but "
                                                    "there is no button = { ... }; section"));
        }
        r = parse_config(b, section, env, ret_error);
        if (r < 0) {
                free_config(b); /* done() is not called after a failed init */
                return r;
        }
        if (!env->event)
                return 0;

        b->event = sd_event_ref(env->event);
        b->bus = env->bus ? sd_bus_ref(env->bus) : NULL;
        b->devices = env->devices;
        b->unpaired = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        r = sd_event_add_defer(b->event, &b->takeover, on_takeover, b);
        if (r < 0) {
                g_hash_table_unref(b->unpaired);
                sd_bus_unref(b->bus);
                sd_event_unref(b->event);
                free_config(b);
                (void) fail(ret_error, policy_error(env, section, "button: %s", g_strerror(-r)));
                return r;
        }
        instances = g_list_append(instances, b);
        return 0;
}

static void button_done(Policy *p) {
        ButtonPolicy *b = p->data;
        GList *l;

        if (!b->event) {
                free_config(b);
                return;
        }
        instances = g_list_remove(instances, b);
        /* Closing here is fire-and-forget (untracked): nobody will read the replies. */
        b->active = false;
        window_close(b, "configuration reloaded");
        l = g_list_last(instances);
        if (!g_queue_is_empty(&b->pending) && !l)
                log_warning("button: %u request(s) still waiting; the core will end them",
                            g_queue_get_length(&b->pending));
        move_calls(b, l ? l->data : NULL);
        if (l)
                update_led(l->data);
        release_hardware(b);
        sd_event_source_disable_unref(b->takeover);
        sd_event_source_disable_unref(b->long_timer);
        sd_event_source_disable_unref(b->window_timer);
        g_list_free_full(b->bus_calls, (GDestroyNotify) bus_call_free);
        g_hash_table_unref(b->unpaired);
        sd_bus_unref(b->bus);
        sd_event_unref(b->event);
        free_config(b);
}

static int button_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                         PolicyResult *ret, PolicyCall **ret_call) {
        ButtonPolicy *b = p->data;
        PolicyCall *c;

        if (!b->event)
                return -EOPNOTSUPP;
        switch (q->method) {
        case AGENT_METHOD_REQUEST_PASSKEY:
        case AGENT_METHOD_REQUEST_PIN_CODE:
                *ret = (PolicyResult){ .verdict = VERDICT_PASS,
                                       .reason = "a button cannot supply a passkey or PIN" };
                return 1;
        case AGENT_METHOD_DISPLAY_PASSKEY:
        case AGENT_METHOD_DISPLAY_PIN_CODE:
                *ret = (PolicyResult){ .verdict = VERDICT_PASS,
                                       .reason = "nothing for the button to approve" };
                return 1;
        default:
                break;
        }
        if (q->device && !q->paired && b->unpaired)
                g_hash_table_add(b->unpaired, g_strdup(q->device));
        if (b->window_open) {
                *ret = (PolicyResult){ .verdict = VERDICT_ALLOW, .reason = "pairing window open" };
                return 1;
        }
        c = g_new0(PolicyCall, 1);
        c->owner = b;
        c->request_id = q->request_id;
        c->arrived_usec = q->arrived_usec ? q->arrived_usec : now_usec();
        c->method = q->method;
        c->address = g_strdup(q->address);
        c->done = done;
        c->userdata = userdata;
        g_queue_insert_sorted(&b->pending, c, by_arrival, NULL);
        log_info("button: %s from %s waits for a press (%u pending)",
                 agent_method_to_string(q->method), q->address ? q->address : "?",
                 g_queue_get_length(&b->pending));
        update_led(b);
        *ret_call = c;
        return 0;
}

static void button_cancel(PolicyCall *c) {
        ButtonPolicy *b = c->owner;

        if (b) {
                g_queue_remove(&b->pending, c);
                update_led(b);
        }
        call_free(c);
}

/* ---- test hooks --------------------------------------------------------------------------- */

void button_policy_inject(Policy *p, bool pressed, uint64_t usec) {
        ButtonPolicy *b = p->data;

        if (b->in)
                button_input_feed(b->in, pressed, usec);
}

bool button_policy_window_is_open(Policy *p) {
        return ((ButtonPolicy *) p->data)->window_open;
}

unsigned button_policy_pending(Policy *p) {
        return g_queue_get_length(&((ButtonPolicy *) p->data)->pending);
}

bool button_policy_is_active(Policy *p) {
        return ((ButtonPolicy *) p->data)->active;
}

bool button_policy_input_is_open(Policy *p) {
        return button_input_is_open(((ButtonPolicy *) p->data)->in);
}

const PolicyOps button_policy_ops = {
        .name = "button",
        .needs_section = true,
        .size = sizeof(ButtonPolicy),
        .init = button_init,
        .done = button_done,
        .decide = button_decide,
        .cancel = button_cancel,
};
