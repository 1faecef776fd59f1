/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "audit.h"
#include "policy.h"
#include "settings.h"

char *policy_error(const PolicyEnv *env, const config_setting_t *s, const char *fmt, ...) {
        va_list ap;
        char *e;

        va_start(ap, fmt);
        e = setting_verror(env ? env->config_path : NULL, s, fmt, ap);
        va_end(ap);
        return e;
}

void policy_audit_query(AuditRecord *rec, const PairingQuery *q) {
        rec->request_id = q->request_id;
        rec->method = agent_method_to_string(q->method);
        rec->device = q->device;
        rec->address = q->address;
        rec->address_type = q->address_type;
        rec->name = q->name;
        rec->name_source = q->name_source;
        rec->adapter = q->adapter;
}
