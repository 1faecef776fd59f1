/* SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "fuzz-check.h"
#include "fuzz-stack.h"
#include "macro.h"

static void on_reply(sd_bus_message *reply, uint64_t cookie, void *userdata) {
        FuzzStack *s = userdata;
        FuzzCall *c = g_hash_table_lookup(s->calls, &cookie);

        fuzz_assert(c, "a reply to no call");
        fuzz_assert(!c->answered, "%s answered twice", c->method);
        c->answered = true;
        s->cb->reply(c, reply, s->userdata);
}

static void on_audit(const AuditRecord *rec, const char *line, void *userdata) {
        FuzzStack *s = userdata;

        fuzz_assert_clean(line, SIZE_MAX, "audit line");
        if (s->cb->audit)
                s->cb->audit(rec, line, s->userdata);
}

/* As daemon.c: whatever the old owner asked is void; the cache reloads from the new one. */
static void on_owner_changed(BluezOwner *o, const char *new_owner, void *userdata) {
        FuzzStack *s = userdata;

        if (s->agent)
                agent_cancel_all(s->agent,
                                 new_owner ? "org.bluez changed owner" : "bluetoothd is gone");
        if (new_owner)
                (void) device_cache_reset(s->cache);
        else
                device_cache_clear(s->cache);
        bluez_owner_changed(s->bluez);
}

static void on_released(Agent *a, void *userdata) {
        FuzzStack *s = userdata;

        bluez_released(s->bluez);
}

static void on_request_held(Agent *a, Request *r, void *userdata) {
        FuzzStack *s = userdata;

        if (s->cb->request_held)
                s->cb->request_held(a, r, s->userdata);
}

static void on_request_ended(Agent *a, const Request *r, void *userdata) {
        FuzzStack *s = userdata;

        if (s->cb->request_ended)
                s->cb->request_ended(a, r, s->userdata);
}

static void on_decided(Agent *a, const PairingQuery *q, RequestResult result, void *userdata) {
        FuzzStack *s = userdata;

        if (s->cb->decided)
                s->cb->decided(a, q, result, s->userdata);
}

void fuzz_stack_new(FuzzStack **ret, const char *config, const FuzzStackCallbacks *cb,
                    void *userdata) {
        static const AgentCallbacks agent_cb = { .released = on_released,
                                                 .request_held = on_request_held,
                                                 .request_ended = on_request_ended,
                                                 .decided = on_decided };
        FuzzStack *s = g_new0(FuzzStack, 1);
        _cleanup_free_ char *error = NULL;
        PolicyEnv env;

        s->cb = cb;
        s->userdata = userdata;
        s->calls = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        fuzz_assert(config_load_string(config, "fuzz.conf", &s->config, &error) >= 0, "config: %s",
                    error);
        fuzz_bus_new(&s->bus, NULL, on_reply, s);
        audit_set_sink(on_audit, s);
        fuzz_assert(bluez_owner_new(&s->owner, s->bus->daemon, on_owner_changed, s) >= 0, "owner");
        fuzz_assert(device_cache_new(&s->cache, s->bus->daemon, s->owner) >= 0, "cache");
        env = (PolicyEnv){ .event = s->bus->event,
                           .bus = s->bus->daemon,
                           .bluez_owner = s->owner,
                           .devices = s->cache,
                           .config_path = s->config->path };
        fuzz_assert(policy_set_new(&s->policies, s->config, &env, &error) >= 0, "policies: %s",
                    error);
        fuzz_assert(bluez_new(&s->bluez, s->bus->daemon, s->bus->event, s->owner, AGENT_OBJECT_PATH,
                              s->config->capability, NULL, s) >= 0,
                    "bluez");
        fuzz_assert(agent_new(&s->agent, s->bus->daemon, s->bus->event, s->bluez, s->owner,
                              s->cache, &agent_cb, s) >= 0,
                    "agent");
        agent_set_config(s->agent, s->config, s->policies);
        *ret = s;
}

void fuzz_stack_start(FuzzStack *s) {
        fuzz_assert(bluez_owner_start(s->owner) >= 0, "owner start");
        fuzz_bus_settle(s->bus);
}

void fuzz_stack_send(FuzzStack *s, sd_bus_message *m, const char *sender, FuzzCall *c) {
        int64_t cookie = fuzz_bus_send(s->bus, m, sender);
        uint64_t *key;

        fuzz_assert(cookie > 0, "sending %s", c->method);
        key = g_new(uint64_t, 1);
        *key = (uint64_t) cookie;
        g_hash_table_insert(s->calls, key, c);
}

void fuzz_stack_stop(FuzzStack *s) {
        GHashTableIter it;
        void *v;

        s->agent = agent_free(s->agent);
        fuzz_bus_settle(s->bus);
        fuzz_assert(s->bus->replies == s->bus->calls_sent, "%u calls, %u answers",
                    s->bus->calls_sent, s->bus->replies);
        g_hash_table_iter_init(&it, s->calls);
        while (g_hash_table_iter_next(&it, NULL, &v))
                fuzz_assert(((FuzzCall *) v)->answered, "%s never answered",
                            ((FuzzCall *) v)->method);
}

FuzzStack *fuzz_stack_free(FuzzStack *s) {
        if (!s)
                return NULL;
        audit_set_sink(NULL, NULL);
        agent_free(s->agent);
        policy_set_unref(s->policies);
        bluez_free(s->bluez);
        device_cache_free(s->cache);
        bluez_owner_free(s->owner);
        fuzz_bus_free(s->bus);
        config_free(s->config);
        g_hash_table_unref(s->calls);
        g_free(s);
        return NULL;
}
