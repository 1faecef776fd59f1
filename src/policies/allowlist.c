/* SPDX-License-Identifier: MIT */
/* allowlist: allows devices whose Address (not object path: LE private addresses change) is
 * listed; passes otherwise, so the next policy of the route, or the final rejection, decides. */
#include <errno.h>

#include <glib.h>

#include "bdaddr.h"
#include "macro.h"
#include "policy.h"

typedef struct Allowlist {
        GHashTable *addresses; /* canonical "AA:BB:..." */
} Allowlist;

static int allowlist_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                          char **ret_error) {
        Allowlist *a = p->data;
        const config_setting_t *devices;
        /* Owned here until init succeeds: done() is not called after a failed init. */
        g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        if (!section)
                goto out;
        for (int i = 0; i < config_setting_length(section); i++) {
                const config_setting_t *e = config_setting_get_elem(section, (unsigned) i);
                if (!streq(config_setting_name(e), "devices")) {
                        *ret_error =
                                policy_error(env, e, "allowlist: unknown key '%s' (known: devices)",
                                             config_setting_name(e));
                        return -EINVAL;
                }
        }
        devices = config_setting_get_member(section, "devices");
        if (!devices)
                goto out;
        if (config_setting_type(devices) != CONFIG_TYPE_ARRAY &&
            config_setting_type(devices) != CONFIG_TYPE_LIST) {
                *ret_error = policy_error(env, devices,
                                          "allowlist.devices must be a list of addresses "
                                          "[ \"AA:BB:CC:DD:EE:FF\", ... ]");
                return -EINVAL;
        }
        for (int i = 0; i < config_setting_length(devices); i++) {
                const config_setting_t *e = config_setting_get_elem(devices, (unsigned) i);
                const char *s = config_setting_get_string(e);
                char addr[BDADDR_STRLEN];

                if (!s || !bdaddr_normalize(s, addr)) {
                        *ret_error =
                                policy_error(env, e,
                                             "allowlist.devices: '%s' is not a Bluetooth address "
                                             "(AA:BB:CC:DD:EE:FF)",
                                             s ? s : "(not a string)");
                        return -EINVAL;
                }
                g_hash_table_add(set, g_strdup(addr));
        }
out:
        a->addresses = g_steal_pointer(&set);
        return 0;
}

static void allowlist_done(Policy *p) {
        Allowlist *a = p->data;

        if (a->addresses)
                g_hash_table_unref(a->addresses);
}

static int allowlist_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                            PolicyResult *ret, PolicyCall **ret_call) {
        Allowlist *a = p->data;
        char addr[BDADDR_STRLEN];

        *ret = (PolicyResult){ .verdict = VERDICT_PASS, .reason = "address not allowlisted" };
        if (q->address && bdaddr_normalize(q->address, addr) &&
            g_hash_table_contains(a->addresses, addr)) {
                /* A passkey or PIN can't be invented by an allowlist: it only approves yes/no
                 * questions and passes the others on. */
                if (q->method == AGENT_METHOD_REQUEST_PASSKEY ||
                    q->method == AGENT_METHOD_REQUEST_PIN_CODE) {
                        ret->reason = "allowlisted, but the allowlist cannot supply a passkey/PIN";
                        return 1;
                }
                ret->verdict = VERDICT_ALLOW;
                ret->reason = "address is allowlisted";
        }
        return 1;
}

const PolicyOps allowlist_policy_ops = {
        .name = "allowlist",
        .size = sizeof(Allowlist),
        .init = allowlist_init,
        .done = allowlist_done,
        .decide = allowlist_decide,
};
