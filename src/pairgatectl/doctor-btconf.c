/* SPDX-License-Identifier: MIT */
/* bluetoothd's main.conf read the way BlueZ 5.66 reads it (src/main.c: load_config,
 * parse_config, parse_jw_repairing, get_mode). GKeyFile, like bluetoothd, so that quoting,
 * comments and booleans mean here what they mean there. */
#include "doctor-btconf.h"

#include <glib.h>

#include "macro.h"

static const char *const privacy_values[] = {
        /* main.c parse_config, "Privacy": anything else is logged and treated as "off" */
        "off", "network", "on", "device", "limited-network", "limited-device",
};

static void note_wrong_type(GPtrArray *wrong, GKeyFile *kf, const char *group, const char *key) {
        g_autofree char *raw = g_key_file_get_value(kf, group, key, NULL);

        if (raw)
                g_ptr_array_add(wrong, g_strdup_printf("%s.%s = %s", group, key, raw));
}

static void get_int(GKeyFile *kf, GPtrArray *wrong, const char *key, int *val) {
        g_autoptr(GError) err = NULL;
        int v = g_key_file_get_integer(kf, "General", key, &err);

        if (!err)
                *val = v;
        else if (!g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) &&
                 !g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
                note_wrong_type(wrong, kf, "General", key);
}

static int get_bool(GKeyFile *kf, GPtrArray *wrong, const char *group, const char *key) {
        g_autoptr(GError) err = NULL;
        gboolean v = g_key_file_get_boolean(kf, group, key, &err);

        if (!err)
                return v ? 1 : 0;
        if (!g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) &&
            !g_error_matches(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
                note_wrong_type(wrong, kf, group, key);
        return -1;
}

static void parse(BtConf *c, GKeyFile *kf) {
        g_autoptr(GPtrArray) wrong = g_ptr_array_new_with_free_func(g_free);
        int b;

        c->jw_repairing_raw = g_key_file_get_string(kf, "General", "JustWorksRepairing", NULL);
        if (c->jw_repairing_raw) {
                /* parse_jw_repairing: exact strcmp, unknown values are "never" */
                int j = jw_repairing_from_string(c->jw_repairing_raw);

                c->jw_repairing = j < 0 ? JW_REPAIRING_NEVER : (JwRepairing) j;
        }
        b = get_bool(kf, wrong, "General", "AlwaysPairable");
        if (b >= 0)
                c->always_pairable = b;
        get_int(kf, wrong, "PairableTimeout", &c->pairable_timeout);
        get_int(kf, wrong, "DiscoverableTimeout", &c->discoverable_timeout);
        c->privacy = g_key_file_get_string(kf, "General", "Privacy", NULL);
        c->privacy_valid = !c->privacy;
        for (size_t i = 0; c->privacy && i < ELEMENTSOF(privacy_values); i++)
                if (streq(c->privacy, privacy_values[i]))
                        c->privacy_valid = true;
        b = get_bool(kf, wrong, "General", "ReverseServiceDiscovery");
        if (b >= 0)
                c->reverse_service_discovery = b;
        c->controller_mode = g_key_file_get_string(kf, "General", "ControllerMode", NULL);
        c->secure_connections = g_key_file_get_string(kf, "General", "SecureConnections", NULL);
        c->gatt_client = get_bool(kf, wrong, "GATT", "Client");

        g_ptr_array_add(wrong, NULL);
        c->wrong_type = (char **) g_ptr_array_free(g_steal_pointer(&wrong), FALSE);
}

static BtConf *btconf_new(const char *path) {
        BtConf *c = g_new0(BtConf, 1);

        c->path = g_strdup(path);
        c->jw_repairing = JW_REPAIRING_NEVER;
        c->discoverable_timeout = 180; /* main.c DEFAULT_DISCOVERABLE_TIMEOUT */
        c->privacy_valid = true;       /* unset: "off" */
        c->reverse_service_discovery = true;
        c->gatt_client = -1;
        c->wrong_type = g_new0(char *, 1);
        return c;
}

static BtConf *load(const char *label, GKeyFile *kf, gboolean ok, GError *err) {
        BtConf *c = btconf_new(label);

        if (!ok) {
                c->exists = !g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
                if (c->exists)
                        c->parse_error = g_strdup(err->message);
                return c;
        }
        c->exists = true;
        g_strfreev(c->wrong_type);
        c->wrong_type = NULL;
        parse(c, kf);
        return c;
}

BtConf *btconf_load_file(const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;
        gboolean ok;

        g_key_file_set_list_separator(kf, ',');
        ok = g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err);
        return load(path, kf, ok, err);
}

BtConf *btconf_load_string(const char *text, const char *label) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) err = NULL;
        gboolean ok;

        g_key_file_set_list_separator(kf, ',');
        ok = g_key_file_load_from_data(kf, text, (gsize) -1, G_KEY_FILE_NONE, &err);
        return load(label, kf, ok, err);
}

BtConf *btconf_free(BtConf *c) {
        if (!c)
                return NULL;
        g_free(c->path);
        g_free(c->parse_error);
        g_free(c->jw_repairing_raw);
        g_free(c->privacy);
        g_free(c->controller_mode);
        g_free(c->secure_connections);
        g_strfreev(c->wrong_type);
        g_free(c);
        return NULL;
}

bool btconf_has_bredr(const BtConf *c) {
        return !streq(c->controller_mode, "le");
}

bool btconf_has_le(const BtConf *c) {
        return !streq(c->controller_mode, "bredr");
}
