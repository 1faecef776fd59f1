/* SPDX-License-Identifier: MIT */
/* allowlist: allows devices whose Address (not object path: LE private addresses change) is
 * listed; passes otherwise, so the next policy of the route, or the final rejection, decides.
 *
 * An address proves nothing (anyone can claim one), so a pairing request for a device that is
 * already Paired is never approved by the allowlist alone: approving it would let whoever claims
 * the owner's address replace the owner's keys with no number compared. It passes (a person
 * must approve re-pairing) and says why in a record of its own, unless the section sets the
 * scary-named unsafe_approve_repairing = true. */
#include <errno.h>

#include <glib.h>

#include "audit.h"
#include "bdaddr.h"
#include "macro.h"
#include "policy.h"
#include "settings.h"

typedef struct Allowlist {
        GHashTable *addresses; /* canonical "AA:BB:..." */
        bool unsafe_approve_repairing;
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
                const SettingScope scope = { .file = env->config_path, .section = "allowlist" };

                if (streq(config_setting_name(e), "unsafe_approve_repairing")) {
                        if (setting_get_bool(&scope, e, &a->unsafe_approve_repairing, ret_error) <
                            0)
                                return -EINVAL;
                } else if (!streq(config_setting_name(e), "devices")) {
                        *ret_error = policy_error(env, e,
                                                  "allowlist: unknown key '%s' (known: devices, "
                                                  "unsafe_approve_repairing)",
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

static bool is_pairing(AgentMethod m) {
        return m == AGENT_METHOD_REQUEST_CONFIRMATION || m == AGENT_METHOD_REQUEST_AUTHORIZATION ||
               m == AGENT_METHOD_REQUEST_PASSKEY || m == AGENT_METHOD_REQUEST_PIN_CODE;
}

static void audit_repairing(const PairingQuery *q, const char *reason) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_POLICY_EVENT);
        _cleanup_free_ char *msg =
                g_strdup_printf("allowlist: %s is already paired: re-pairing it is not approved "
                                "by address alone",
                                q->address);

        policy_audit_query(&rec, q);
        rec.policy = "allowlist";
        rec.message = msg;
        rec.reason = reason;
        audit_emit(&rec);
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
                if (q->paired && is_pairing(q->method) && !a->unsafe_approve_repairing) {
                        ret->reason = "allowlisted, but already paired: re-pairing needs a person "
                                      "(an address alone could replace the owner's keys)";
                        audit_repairing(q, ret->reason);
                        return 1;
                }
                ret->verdict = VERDICT_ALLOW;
                ret->reason = "address is allowlisted";
        }
        return 1;
}

/* Listed devices are never locked out nor counted against the prompt budget (limits). */
static bool allowlist_vouches(Policy *p, const PairingQuery *q) {
        Allowlist *a = p->data;
        char addr[BDADDR_STRLEN];

        return q->address && bdaddr_normalize(q->address, addr) &&
               g_hash_table_contains(a->addresses, addr);
}

static bool allowlist_can_allow(const config_setting_t *section, AgentMethod m) {
        return m == AGENT_METHOD_REQUEST_CONFIRMATION || m == AGENT_METHOD_REQUEST_AUTHORIZATION ||
               m == AGENT_METHOD_AUTHORIZE_SERVICE;
}

const PolicyOps allowlist_policy_ops = {
        .can_allow = allowlist_can_allow,
        .name = "allowlist",
        .size = sizeof(Allowlist),
        .init = allowlist_init,
        .done = allowlist_done,
        .decide = allowlist_decide,
        .vouches = allowlist_vouches,
};
