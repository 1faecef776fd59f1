/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "bluez.h"
#include "macro.h"

#define AGENT_MANAGER_PATH      "/org/bluez"
#define AGENT_MANAGER_INTERFACE "org.bluez.AgentManager1"
#define RETRY_MIN_USEC          (1ULL * 1000000ULL)
#define RETRY_MAX_USEC          (30ULL * 1000000ULL)
#define RELEASE_RETRY_USEC      (2ULL * 1000000ULL)
#define UNREGISTER_TIMEOUT_USEC (2ULL * 1000000ULL)

struct Bluez {
        sd_bus *bus;
        sd_event *event;
        char *agent_path;
        Capability capability;
        Capability registered_capability; /* of the registration under way or done */
        /* The capability bluetoothd holds for our agent: RegisterAgent succeeded. Calls from
         * bluetoothd arrive in order with its replies, so a call seen before the reply to a new
         * RegisterAgent was sent under the previous registration. */
        bool active;
        Capability active_capability;
        BluezState state;
        bool reregistering; /* registering again for a new capability (see bluez_reregistering) */
        BluezOwner *owner;  /* borrowed: the daemon's */
        uint64_t retry_usec;
        sd_bus_slot *call;
        sd_event_source *retry;
        BluezCallbacks cb;
        void *userdata;
        /* shutdown */
        void (*unregister_done)(void *userdata);
        void *unregister_userdata;
        sd_event_source *unregister_timeout;
};

static int start_registration(Bluez *b);

static void set_state(Bluez *b, BluezState s, const char *reason) {
        BluezState old = b->state;

        if (old == s)
                return;
        b->state = s;
        if (b->cb.state_changed)
                b->cb.state_changed(b, old, reason, b->userdata);
        if (s != BLUEZ_REGISTERING)
                b->reregistering = false; /* done, or failed (the callback has seen it) */
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Bluez *b = userdata;

        b->retry = sd_event_source_disable_unref(b->retry);
        if (bluez_owner_get(b->owner) && b->state == BLUEZ_WAITING)
                (void) start_registration(b);
        return 0;
}

static void schedule_retry(Bluez *b, uint64_t delay, const char *reason) {
        int r;

        set_state(b, BLUEZ_WAITING, reason);
        b->retry = sd_event_source_disable_unref(b->retry);
        r = sd_event_add_time_relative(b->event, &b->retry, CLOCK_MONOTONIC, delay, 0, on_retry, b);
        if (r < 0)
                log_error("Cannot schedule agent registration retry: %s", g_strerror(-r));
}

static void registration_failed(Bluez *b, const char *what, const sd_bus_error *e) {
        _cleanup_free_ char *reason =
                g_strdup_printf("%s failed: %s: %s", what, e && e->name ? e->name : "error",
                                e && e->message ? e->message : "");
        uint64_t delay = b->retry_usec;

        b->retry_usec = MIN(b->retry_usec * 2, RETRY_MAX_USEC);
        log_warning("%s; retrying in %" G_GUINT64_FORMAT " s", reason, delay / 1000000);
        schedule_retry(b, delay, reason);
}

static int on_default_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Bluez *b = userdata;

        b->call = sd_bus_slot_unref(b->call);
        if (sd_bus_message_is_method_error(m, NULL)) {
                registration_failed(b, "RequestDefaultAgent", sd_bus_message_get_error(m));
                return 0;
        }
        b->retry_usec = RETRY_MIN_USEC;
        set_state(b, BLUEZ_REGISTERED, NULL);
        /* A reload may have changed the capability while we were registering. */
        if (b->capability != b->registered_capability)
                (void) bluez_set_capability(b, b->capability);
        return 0;
}

static int on_register_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Bluez *b = userdata;
        int r;

        b->call = sd_bus_slot_unref(b->call);
        if (sd_bus_message_is_method_error(m, "org.bluez.Error.AlreadyExists")) {
                /* This connection already has an agent (with a capability we no longer know for
                 * sure): drop it and register afresh. */
                (void) sd_bus_call_method_async(b->bus, NULL, bluez_owner_get(b->owner),
                                                AGENT_MANAGER_PATH, AGENT_MANAGER_INTERFACE,
                                                "UnregisterAgent", NULL, NULL, "o", b->agent_path);
                return start_registration(b);
        }
        if (sd_bus_message_is_method_error(m, NULL)) {
                b->active = false; /* an earlier registration was unregistered first */
                registration_failed(b, "RegisterAgent", sd_bus_message_get_error(m));
                return 0;
        }
        b->active = true;
        b->active_capability = b->registered_capability;
        r = sd_bus_call_method_async(b->bus, &b->call, bluez_owner_get(b->owner),
                                     AGENT_MANAGER_PATH, AGENT_MANAGER_INTERFACE,
                                     "RequestDefaultAgent", on_default_reply, b, "o",
                                     b->agent_path);
        if (r < 0) {
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST("org.pairgate.Error", "cannot send");
                registration_failed(b, "RequestDefaultAgent", &e);
        }
        return 0;
}

static int start_registration(Bluez *b) {
        int r;

        b->retry = sd_event_source_disable_unref(b->retry);
        b->call = sd_bus_slot_unref(b->call);
        set_state(b, BLUEZ_REGISTERING, NULL);
        b->registered_capability = b->capability;
        /* To the unique name: a reply can only come from the bluetoothd we are talking to. */
        r = sd_bus_call_method_async(b->bus, &b->call, bluez_owner_get(b->owner),
                                     AGENT_MANAGER_PATH, AGENT_MANAGER_INTERFACE, "RegisterAgent",
                                     on_register_reply, b, "os", b->agent_path,
                                     capability_to_string(b->capability));
        if (r < 0) {
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST("org.pairgate.Error", "cannot send");
                b->active = false;
                registration_failed(b, "RegisterAgent", &e);
        }
        return r;
}

void bluez_owner_changed(Bluez *b) {
        b->active = false;
        b->call = sd_bus_slot_unref(b->call);
        b->retry = sd_event_source_disable_unref(b->retry);
        b->retry_usec = RETRY_MIN_USEC;
        if (bluez_owner_get(b->owner))
                (void) start_registration(b);
        else
                set_state(b, BLUEZ_ABSENT, "org.bluez has no owner");
}

int bluez_new(Bluez **ret, sd_bus *bus, sd_event *event, BluezOwner *owner, const char *agent_path,
              Capability cap, const BluezCallbacks *cb, void *userdata) {
        Bluez *b = g_new0(Bluez, 1);

        b->bus = sd_bus_ref(bus);
        b->event = sd_event_ref(event);
        b->owner = owner;
        b->agent_path = g_strdup(agent_path);
        b->capability = cap;
        b->state = BLUEZ_ABSENT;
        b->retry_usec = RETRY_MIN_USEC;
        if (cb)
                b->cb = *cb;
        b->userdata = userdata;
        *ret = b;
        return 0;
}

Bluez *bluez_free(Bluez *b) {
        if (!b)
                return NULL;
        sd_bus_slot_unref(b->call);
        sd_event_source_disable_unref(b->retry);
        sd_event_source_disable_unref(b->unregister_timeout);
        sd_bus_unref(b->bus);
        sd_event_unref(b->event);
        g_free(b->agent_path);
        g_free(b);
        return NULL;
}

BluezState bluez_state(const Bluez *b) {
        return b->state;
}

bool bluez_reregistering(const Bluez *b) {
        return b->reregistering;
}

Capability bluez_capability(const Bluez *b) {
        return b->state == BLUEZ_REGISTERED ? b->registered_capability : b->capability;
}

Capability bluez_registered_capability(const Bluez *b) {
        return b->active ? b->active_capability : b->capability;
}

int bluez_set_capability(Bluez *b, Capability cap) {
        b->capability = cap;
        if (!bluez_owner_get(b->owner) ||
            (b->state == BLUEZ_REGISTERED && b->registered_capability == cap))
                return 0;
        if (b->state == BLUEZ_REGISTERING)
                return 0; /* on_default_reply re-checks */
        if (b->state == BLUEZ_REGISTERED) {
                /* The capability is fixed at registration: unregister and register again. Calls
                 * on one connection are delivered in order, so bluetoothd sees both in turn. */
                log_info("Capability changed to %s: registering again", capability_to_string(cap));
                b->reregistering = true;
                (void) sd_bus_call_method_async(b->bus, NULL, bluez_owner_get(b->owner),
                                                AGENT_MANAGER_PATH, AGENT_MANAGER_INTERFACE,
                                                "UnregisterAgent", NULL, NULL, "o", b->agent_path);
        }
        return start_registration(b);
}

void bluez_released(Bluez *b) {
        b->active = false;
        b->call = sd_bus_slot_unref(b->call);
        if (bluez_owner_get(b->owner))
                schedule_retry(b, RELEASE_RETRY_USEC, "released by bluetoothd");
}

static void unregister_finish(Bluez *b) {
        void (*done)(void *) = b->unregister_done;

        b->unregister_timeout = sd_event_source_disable_unref(b->unregister_timeout);
        b->call = sd_bus_slot_unref(b->call);
        b->unregister_done = NULL;
        if (done)
                done(b->unregister_userdata);
}

static int on_unregister_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Bluez *b = userdata;

        if (sd_bus_message_is_method_error(m, NULL))
                log_debug("UnregisterAgent: %s", sd_bus_message_get_error(m)->message);
        else
                log_info("Unregistered from bluetoothd");
        unregister_finish(b);
        return 0;
}

static int on_unregister_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        log_warning("bluetoothd did not answer UnregisterAgent in time");
        unregister_finish(userdata);
        return 0;
}

int bluez_unregister(Bluez *b, void (*done)(void *userdata), void *userdata) {
        int r;

        b->retry = sd_event_source_disable_unref(b->retry);
        b->call = sd_bus_slot_unref(b->call);
        if (!bluez_owner_get(b->owner) ||
            (b->state != BLUEZ_REGISTERED && b->state != BLUEZ_REGISTERING))
                return 0;
        b->unregister_done = done;
        b->unregister_userdata = userdata;
        r = sd_bus_call_method_async(b->bus, &b->call, bluez_owner_get(b->owner),
                                     AGENT_MANAGER_PATH, AGENT_MANAGER_INTERFACE, "UnregisterAgent",
                                     on_unregister_reply, b, "o", b->agent_path);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(b->event, &b->unregister_timeout, CLOCK_MONOTONIC,
                                       UNREGISTER_TIMEOUT_USEC, 0, on_unregister_timeout, b);
        if (r < 0)
                return r;
        set_state(b, BLUEZ_WAITING, "unregistering");
        return 1;
}
