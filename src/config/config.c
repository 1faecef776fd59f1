/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

#include "config.h"
#include "macro.h"
#include "policy.h"
#include "settings.h"
#include "text-escape.h"

static const char *const top_level_keys[] = { "capability",       "request_timeout", "max_pending",
                                              "trust_on_approve", "routes",          "limits" };

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        for (int m = 0; m < _AGENT_METHOD_MAX; m++)
                g_strfreev(c->routes[m]);
        config_destroy(&c->cfg);
        g_free(c->path);
        g_free(c);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

static int fail(char **ret_error, const Config *c, const config_setting_t *s, const char *fmt, ...)
        _printf_(4, 5);
static int fail(char **ret_error, const Config *c, const config_setting_t *s, const char *fmt,
                ...) {
        va_list ap;
        char *e;

        va_start(ap, fmt);
        e = setting_verror(c->path, s, fmt, ap);
        va_end(ap);
        return setting_fail(ret_error, e);
}

static int parse_uint_range(Config *c, config_setting_t *root, const char *key, unsigned lo,
                            unsigned hi, unsigned *value, char **ret_error) {
        config_setting_t *s = config_setting_get_member(root, key);

        if (!s)
                return 0;
        return setting_get_uint(&(const SettingScope){ .file = c->path }, s, lo, hi, value,
                                ret_error);
}

static int parse_limits(Config *c, config_setting_t *section, char **ret_error) {
        const SettingScope scope = { .file = c->path, .section = "limits" };
        LimitsSettings *l = &c->limits;
        int r = 0;

        if (config_setting_type(section) != CONFIG_TYPE_GROUP)
                return fail(ret_error, c, section, "'limits' must be a group { ... }, not %s",
                            setting_type_name(section));
        c->has_limits = true;
        *l = (LimitsSettings){ .lockout_after = LIMITS_DEFAULT_LOCKOUT_AFTER,
                               .lockout_window_sec = LIMITS_DEFAULT_LOCKOUT_WINDOW_SEC,
                               .lockout_time_sec = LIMITS_DEFAULT_LOCKOUT_TIME_SEC,
                               .prompts_per_minute = LIMITS_DEFAULT_PROMPTS_PER_MINUTE };
        for (int i = 0; r >= 0 && i < config_setting_length(section); i++) {
                config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                const char *name = config_setting_name(e);

                if (streq(name, "lockout_after"))
                        r = setting_get_uint(&scope, e, 1, LIMITS_MAX_LOCKOUT_AFTER,
                                             &l->lockout_after, ret_error);
                else if (streq(name, "lockout_window"))
                        r = setting_get_uint(&scope, e, 1, LIMITS_MAX_LOCKOUT_WINDOW_SEC,
                                             &l->lockout_window_sec, ret_error);
                else if (streq(name, "lockout_time"))
                        r = setting_get_uint(&scope, e, 0, LIMITS_MAX_LOCKOUT_TIME_SEC,
                                             &l->lockout_time_sec, ret_error);
                else if (streq(name, "prompts_per_minute"))
                        r = setting_get_uint(&scope, e, 0, LIMITS_MAX_PROMPTS_PER_MINUTE,
                                             &l->prompts_per_minute, ret_error);
                else if (streq(name, "block"))
                        r = setting_get_bool(&scope, e, &l->block, ret_error);
                else
                        r = setting_failf(ret_error, &scope, e,
                                          "limits: unknown key '%s' (known: lockout_after, "
                                          "lockout_window, lockout_time, prompts_per_minute, "
                                          "block)",
                                          name);
        }
        if (r >= 0 && l->block && l->lockout_time_sec == 0)
                r = fail(ret_error, c, config_setting_get_member(section, "block"),
                         "limits.block = true needs lockouts (limits.lockout_time > 0)");
        return r;
}

static int parse_routes(Config *c, config_setting_t *routes, char **ret_error) {
        if (config_setting_type(routes) != CONFIG_TYPE_GROUP)
                return fail(ret_error, c, routes, "'routes' must be a group { ... }, not %s",
                            setting_type_name(routes));

        for (int i = 0; i < config_setting_length(routes); i++) {
                config_setting_t *r = config_setting_get_elem(routes, (unsigned) i);
                const char *mname = config_setting_name(r);
                AgentMethod m = agent_method_from_string(mname);
                g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

                if (m < 0) {
                        if (streq(mname, "Release") || streq(mname, "Cancel"))
                                return fail(ret_error, c, r,
                                            "'%s' cannot be routed: it is not a request", mname);
                        return fail(ret_error, c, r,
                                    "unknown Agent1 method '%s' in routes (known: RequestPinCode, "
                                    "DisplayPinCode, RequestPasskey, DisplayPasskey, "
                                    "RequestConfirmation, RequestAuthorization, AuthorizeService)",
                                    mname);
                }
                if (config_setting_type(r) != CONFIG_TYPE_ARRAY &&
                    config_setting_type(r) != CONFIG_TYPE_LIST)
                        return fail(ret_error, c, r,
                                    "route '%s' must be a list of policy names [ \"...\" ], not %s",
                                    mname, setting_type_name(r));
                for (int j = 0; j < config_setting_length(r); j++) {
                        config_setting_t *e = config_setting_get_elem(r, (unsigned) j);
                        const char *pname = config_setting_get_string(e);

                        if (!pname)
                                return fail(ret_error, c, e,
                                            "route '%s': policy names are strings, not %s", mname,
                                            setting_type_name(e));
                        if (!policy_lookup(pname)) {
                                _cleanup_free_ char *known =
                                        g_strjoinv(", ", (char **) policy_names());
                                return fail(ret_error, c, e,
                                            "route '%s': unknown policy '%s' (known: %s)", mname,
                                            pname, known);
                        }
                        if (policy_lookup(pname)->needs_section && !config_policy_section(c, pname))
                                return fail(ret_error, c, e,
                                            "route '%s': policy '%s' needs a '%s = { ... };' "
                                            "section",
                                            mname, pname, pname);
                        for (guint k = 0; k < names->len; k++)
                                if (streq(names->pdata[k], pname))
                                        return fail(ret_error, c, e,
                                                    "route '%s': policy '%s' is listed twice",
                                                    mname, pname);
                        g_ptr_array_add(names, g_strdup(pname));
                }
                g_ptr_array_add(names, NULL);
                c->routes[m] = (char **) g_ptr_array_free(g_steal_pointer(&names), false);
        }
        return 0;
}

static bool is_top_level_key(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(top_level_keys); i++)
                if (streq(top_level_keys[i], name))
                        return true;
        return false;
}

static int validate(Config *c, char **ret_error) {
        config_setting_t *root = config_root_setting(&c->cfg);
        config_setting_t *s;
        int r;

        for (int i = 0; i < config_setting_length(root); i++) {
                config_setting_t *e = config_setting_get_elem(root, (unsigned) i);
                const char *name = config_setting_name(e);

                if (is_top_level_key(name))
                        continue;
                if (policy_lookup(name)) {
                        if (config_setting_type(e) != CONFIG_TYPE_GROUP)
                                return fail(ret_error, c, e,
                                            "policy section '%s' must be a group { ... }, not %s",
                                            name, setting_type_name(e));
                        continue;
                }
                return fail(ret_error, c, e, "unknown key '%s'", name);
        }

        c->capability = CAPABILITY_DISPLAY_YES_NO;
        s = config_setting_get_member(root, "capability");
        if (s) {
                const char *v = config_setting_get_string(s);
                if (!v)
                        return fail(ret_error, c, s, "'capability' must be a string, not %s",
                                    setting_type_name(s));
                c->capability = capability_from_string(v);
                if (c->capability < 0)
                        return fail(ret_error, c, s,
                                    "unknown capability '%s' (DisplayOnly, DisplayYesNo, "
                                    "KeyboardOnly, NoInputNoOutput or KeyboardDisplay)",
                                    v);
        }

        c->request_timeout_sec = CONFIG_DEFAULT_REQUEST_TIMEOUT_SEC;
        r = parse_uint_range(c, root, "request_timeout", 1, CONFIG_MAX_REQUEST_TIMEOUT_SEC,
                             &c->request_timeout_sec, ret_error);
        if (r < 0)
                return r;
        c->max_pending = CONFIG_DEFAULT_MAX_PENDING;
        r = parse_uint_range(c, root, "max_pending", 1, 64, &c->max_pending, ret_error);
        if (r < 0)
                return r;

        c->trust_on_approve = true;
        s = config_setting_get_member(root, "trust_on_approve");
        if (s) {
                r = setting_get_bool(&(const SettingScope){ .file = c->path }, s,
                                     &c->trust_on_approve, ret_error);
                if (r < 0)
                        return r;
        }

        c->limits = LIMITS_SETTINGS_OFF;
        s = config_setting_get_member(root, "limits");
        if (s) {
                r = parse_limits(c, s, ret_error);
                if (r < 0)
                        return r;
        }

        s = config_setting_get_member(root, "routes");
        if (s) {
                r = parse_routes(c, s, ret_error);
                if (r < 0)
                        return r;
        }

        /* Every policy validates its own section (present or not), without opening anything. */
        for (const char *const *n = policy_names(); *n; n++) {
                const PolicyOps *ops = policy_lookup(*n);
                const config_setting_t *section = config_policy_section(c, *n);
                Policy p = { .ops = ops, .data = g_malloc0(ops->size ? ops->size : 1) };
                const PolicyEnv env = { .config_path = c->path };

                r = ops->init(&p, section, &env, ret_error);
                if (r >= 0 && ops->done)
                        ops->done(&p);
                g_free(p.data);
                if (r < 0) {
                        if (ret_error && !*ret_error)
                                *ret_error = g_strdup_printf("%s: policy '%s': %s", c->path, *n,
                                                             g_strerror(-r));
                        return r;
                }
        }
        return 0;
}

static int load(Config *c, bool from_file, const char *text, char **ret_error) {
        int ok;

        config_init(&c->cfg);
        /* Keep "file:line" for every setting; refuse duplicate keys (libconfig's default). */
        ok = from_file ? config_read_file(&c->cfg, c->path) : config_read_string(&c->cfg, text);
        if (!ok) {
                if (ret_error) {
                        if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO)
                                *ret_error = g_strdup_printf("%s: cannot read file: %s", c->path,
                                                             g_strerror(errno ? errno : EIO));
                        else
                                *ret_error = g_strdup_printf(
                                        "%s:%d: %s",
                                        config_error_file(&c->cfg) ? config_error_file(&c->cfg)
                                                                   : c->path,
                                        config_error_line(&c->cfg), config_error_text(&c->cfg));
                }
                return config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO ? -ENOENT : -EINVAL;
        }
        return validate(c, ret_error);
}

static int config_load(const char *path_or_label, bool from_file, const char *text, Config **ret,
                       char **ret_error) {
        _cleanup_(config_freep) Config *c = g_new0(Config, 1);
        int r;

        if (ret_error)
                *ret_error = NULL;
        c->path = g_strdup(path_or_label);
        r = load(c, from_file, text, ret_error);
        if (r < 0) {
                /* The validators quote the value they refuse, as the file has it: the message
                 * goes to a terminal (--check-config, pairgatectl doctor) and the journal with
                 * its controls and invalid UTF-8 as \xNN. */
                if (ret_error && *ret_error) {
                        char *safe = text_sanitize(*ret_error); /* (malloc: g_free is free) */
                        if (safe) {
                                g_free(*ret_error);
                                *ret_error = safe;
                        }
                }
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_file(const char *path, Config **ret, char **ret_error) {
        return config_load(path, true, NULL, ret, ret_error);
}

int config_load_string(const char *text, const char *label, Config **ret, char **ret_error) {
        return config_load(label ? label : "<string>", false, text, ret, ret_error);
}

const char *const *config_route(const Config *c, AgentMethod m) {
        if (!c || m < 0 || m >= _AGENT_METHOD_MAX)
                return NULL;
        return (const char *const *) c->routes[m];
}

const config_setting_t *config_policy_section(const Config *c, const char *policy) {
        const config_setting_t *root = config_root_setting(&c->cfg);

        /* A Config built in code (tests) has no tree. */
        return root ? config_setting_get_member(root, policy) : NULL;
}

bool config_route_uses(const Config *c, const char *policy) {
        for (int m = 0; m < _AGENT_METHOD_MAX; m++)
                if (c->routes[m] && g_strv_contains((const char *const *) c->routes[m], policy))
                        return true;
        return false;
}
