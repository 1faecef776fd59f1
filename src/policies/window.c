/* SPDX-License-Identifier: MIT */
/* window: refuses at once while the daemon's pairing window is closed, passes while it is open.
 * The window itself is the daemon's (pairing-window.c, created from the window = { ... }
 * section); a button press or window.at_start opens it. */
#include <errno.h>
#include <stdio.h>

#include <glib.h>

#include "macro.h"
#include "settings.h"
#include "window.h"

typedef struct WindowPolicy {
        PairingWindow *window; /* the daemon's, borrowed; NULL when only validating */
        bool runtime;
        char reason[96];
} WindowPolicy;

int window_settings_parse(WindowSettings *s, const config_setting_t *section, const PolicyEnv *env,
                          char **ret_error) {
        const SettingScope scope = { .file = env->config_path, .section = "window" };
        int r = 0;

        *s = (WindowSettings){ .duration_sec = WINDOW_DEFAULT_DURATION_SEC,
                               .pairings = WINDOW_DEFAULT_PAIRINGS,
                               .adapter = g_strdup(WINDOW_DEFAULT_ADAPTER) };
        for (int i = 0; section && r >= 0 && i < config_setting_length(section); i++) {
                const config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "duration"))
                        r = setting_get_uint(&scope, e, 1, WINDOW_MAX_SEC, &s->duration_sec,
                                             ret_error);
                else if (streq(name, "pairings"))
                        r = setting_get_uint(&scope, e, 1, 100, &s->pairings, ret_error);
                else if (streq(name, "at_start"))
                        r = setting_get_uint(&scope, e, 0, WINDOW_MAX_SEC, &s->at_start_sec,
                                             ret_error);
                else if (streq(name, "pairable_when_closed"))
                        r = setting_get_bool(&scope, e, &s->pairable_when_closed, ret_error);
                else if (streq(name, "adapter")) {
                        const char *v = NULL;
                        r = setting_get_string(&scope, e, &v, ret_error);
                        if (r >= 0 && (!g_str_has_prefix(v, "/org/bluez/") ||
                                       !sd_bus_object_path_is_valid(v)))
                                r = setting_failf(ret_error, &scope, e,
                                                  "window.adapter: '%s' is not an adapter object "
                                                  "path (\"/org/bluez/hci0\")",
                                                  v);
                        if (r >= 0) {
                                g_free(s->adapter);
                                s->adapter = g_strdup(v);
                        }
                } else
                        r = setting_failf(ret_error, &scope, e,
                                          "window: unknown key '%s' (known: duration, pairings, "
                                          "at_start, adapter, pairable_when_closed)",
                                          name);
        }
        if (r < 0)
                window_settings_clear(s);
        return r;
}

void window_settings_clear(WindowSettings *s) {
        g_free(s->adapter);
        *s = (WindowSettings){ 0 };
}

PairingWindowConfig window_settings_config(const WindowSettings *s) {
        return (PairingWindowConfig){ .adapter = s->adapter,
                                      .duration_sec = s->duration_sec,
                                      .pairings = s->pairings,
                                      .policy = "window",
                                      .hold_closed = !s->pairable_when_closed };
}

static int window_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                       char **ret_error) {
        WindowPolicy *wp = p->data;
        WindowSettings s;
        int r;

        if (!section && env->event)
                return setting_fail(ret_error,
                                    policy_error(env, NULL,
                                                 "window: a route uses the window policy but "
                                                 "there is no window = { ... }; section"));
        r = window_settings_parse(&s, section, env, ret_error);
        if (r < 0)
                return r;
        window_settings_clear(&s);
        if (!env->event)
                return 0;
        if (!env->window)
                return setting_fail(ret_error, policy_error(env, section,
                                                            "window: the daemon has no pairing "
                                                            "window for this section"));
        wp->window = env->window;
        wp->runtime = true;
        return 0;
}

static int window_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                         PolicyResult *ret, PolicyCall **ret_call) {
        WindowPolicy *wp = p->data;

        if (!wp->runtime)
                return -EOPNOTSUPP;
        pairing_window_saw_device(wp->window, q->device, q->paired);
        if (!pairing_window_is_open(wp->window)) {
                *ret = (PolicyResult){ .verdict = VERDICT_DENY, .reason = "pairing window closed" };
                return 1;
        }
        snprintf(wp->reason, sizeof wp->reason, "pairing window open (%u s left)",
                 pairing_window_remaining(wp->window));
        *ret = (PolicyResult){ .verdict = VERDICT_PASS, .reason = wp->reason };
        return 1;
}

const PolicyOps window_policy_ops = {
        .name = "window",
        .needs_section = true,
        .size = sizeof(WindowPolicy),
        .init = window_init,
        .decide = window_decide,
};
