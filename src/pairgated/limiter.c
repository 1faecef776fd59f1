/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "limiter.h"
#include "limits-state.h"
#include "macro.h"
#include "refusal-summary.h"
#include "time-util.h"

#define DEVICE_INTERFACE      "org.bluez.Device1"
#define SUMMARY_PERIOD_USEC   (60ULL * 1000000ULL)
#define STATE_SAVE_DELAY_USEC 1000000ULL
#define USEC_PER_SEC          1000000ULL

struct Limiter {
        sd_event *event;
        sd_bus *bus;
        BluezOwner *owner;
        char *state_path;
        bool state_loaded;
        Limits *limits;
        RefusalSummary *summary;
        sd_event_source *expiry_timer;  /* CLOCK_REALTIME: the next end of a lockout */
        sd_event_source *summary_timer; /* CLOCK_MONOTONIC: the end of the summary period */
        GHashTable *blocking;           /* device path -> sd_bus_slot* of a Set in flight */
        uint64_t next_expiry;           /* the earliest end of a lockout, 0: none */
        sd_event_source *save_timer;    /* CLOCK_MONOTONIC: write the state file */
        bool state_dirty;               /* the state file is behind */
};

typedef struct BlockCall {
        Limiter *l;
        char *path;
} BlockCall;

static char *utc(uint64_t usec, char buf[32]) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
                g_strlcpy(buf, "?", 32);
        return buf;
}

static bool lockouts_on(const Limiter *l) {
        return limits_settings(l->limits)->lockout_time_sec > 0;
}

static void write_state(Limiter *l) {
        int r;

        l->state_dirty = false;
        if (!l->state_path)
                return;
        r = limits_state_save(l->limits, l->state_path);
        if (r < 0)
                log_warning("Cannot write the lockout state %s: %s (lockouts will not survive a "
                            "restart)",
                            l->state_path, g_strerror(-r));
}

static int on_save_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        write_state(userdata);
        return 0;
}

/* The state changed: write it soon, once for every change of the next STATE_SAVE_DELAY_USEC (a
 * flood that locks out many devices must not cost one fsync each). */
static void save_state(Limiter *l) {
        int r;

        if (!l->state_path || l->state_dirty)
                return;
        l->state_dirty = true;
        if (l->save_timer) {
                r = sd_event_source_set_time_relative(l->save_timer, STATE_SAVE_DELAY_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(l->save_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(l->event, &l->save_timer, CLOCK_MONOTONIC,
                                               STATE_SAVE_DELAY_USEC, 0, on_save_timer, l);
        if (r < 0)
                write_state(l);
}

static void audit_ended(const char *address, uint64_t until, const char *reason) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_LOCKOUT_ENDED);
        char when[32];
        _cleanup_free_ char *msg = g_strdup_printf("%s is no longer locked out (%s; it was locked "
                                                   "out until %s)",
                                                   address, reason, utc(until, when));

        rec.message = msg;
        rec.address = address;
        rec.until_realtime = until;
        rec.reason = reason;
        audit_emit(&rec);
}

static void on_expired(const char *address, uint64_t until, void *userdata) {
        const char *reason = userdata;

        audit_ended(address, until, reason);
}

static void arm_expiry(Limiter *l);

/* Lockouts that ended by now: audited, the state written, the timer armed for the next. */
static void expire(Limiter *l, const char *reason) {
        uint64_t now = realtime_usec();
        uint64_t next = limits_next_expiry(l->limits);

        if (next && next <= now) {
                limits_expire(l->limits, now, on_expired, (void *) reason);
                save_state(l);
        }
        arm_expiry(l);
}

static int on_expiry_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        expire(userdata, "lockout_time elapsed");
        return 0;
}

static void arm_expiry(Limiter *l) {
        uint64_t next = limits_next_expiry(l->limits);
        int r;

        l->next_expiry = next;
        if (!next) {
                if (l->expiry_timer)
                        (void) sd_event_source_set_enabled(l->expiry_timer, SD_EVENT_OFF);
                return;
        }
        if (l->expiry_timer) {
                r = sd_event_source_set_time(l->expiry_timer, next);
                if (r >= 0)
                        r = sd_event_source_set_enabled(l->expiry_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(l->event, &l->expiry_timer, CLOCK_REALTIME, next,
                                      USEC_PER_SEC / 10, on_expiry_timer, l);
        if (r < 0)
                log_warning("Cannot arm the lockout timer: %s (lockouts end at the next request)",
                            g_strerror(-r));
}

static int on_summary_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Limiter *l = userdata;

        (void) refusal_summary_flush(l->summary);
        return 0;
}

/* Something was added to the summary: make sure it is written at the end of the period. */
static void arm_summary(Limiter *l) {
        int enabled = SD_EVENT_OFF;
        int r;

        if (l->summary_timer && sd_event_source_get_enabled(l->summary_timer, &enabled) >= 0 &&
            enabled != SD_EVENT_OFF)
                return;
        if (l->summary_timer) {
                r = sd_event_source_set_time_relative(l->summary_timer, SUMMARY_PERIOD_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(l->summary_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(l->event, &l->summary_timer, CLOCK_MONOTONIC,
                                               SUMMARY_PERIOD_USEC, USEC_PER_SEC, on_summary_timer,
                                               l);
        if (r < 0) {
                /* Never lose the count: write it now rather than never. */
                log_warning("Cannot arm the summary timer: %s", g_strerror(-r));
                (void) refusal_summary_flush(l->summary);
        }
}

static void slot_unref(void *p) {
        sd_bus_slot_unref(p);
}

int limiter_new(Limiter **ret, sd_event *event, sd_bus *bus, BluezOwner *owner,
                const char *state_path) {
        Limiter *l = g_new0(Limiter, 1);

        l->event = sd_event_ref(event);
        l->bus = bus ? sd_bus_ref(bus) : NULL;
        l->owner = owner;
        l->state_path = g_strdup(state_path);
        l->limits = limits_new();
        l->summary = refusal_summary_new();
        l->blocking = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, slot_unref);
        *ret = l;
        return 0;
}

Limiter *limiter_free(Limiter *l) {
        if (!l)
                return NULL;
        (void) refusal_summary_flush(l->summary);
        if (l->state_dirty)
                write_state(l);
        sd_event_source_disable_unref(l->save_timer);
        sd_event_source_disable_unref(l->expiry_timer);
        sd_event_source_disable_unref(l->summary_timer);
        refusal_summary_free(l->summary);
        g_hash_table_unref(l->blocking);
        limits_free(l->limits);
        g_free(l->state_path);
        sd_bus_unref(l->bus);
        sd_event_unref(l->event);
        g_free(l);
        return NULL;
}

static void load_state(Limiter *l) {
        _cleanup_free_ char *error = NULL;
        int r;

        l->state_loaded = true;
        if (!l->state_path)
                return;
        r = limits_state_load(l->limits, l->state_path, realtime_usec(), &error);
        if (r == -ENOENT)
                log_info("No lockout state in %s yet", l->state_path);
        else if (r == -EBADMSG)
                log_warning("Lockout state ignored, it is corrupt: %s", error);
        else if (r < 0)
                log_warning("Lockout state %s ignored: %s", l->state_path, g_strerror(-r));
        else
                log_info("Lockout state read from %s: %u device(s)", l->state_path,
                         limits_size(l->limits));
}

typedef struct Collect {
        GPtrArray *addresses;
        bool locked_only;
} Collect;

static void collect(const LimitsEntry *e, void *userdata) {
        Collect *c = userdata;

        if (!c->locked_only || e->locked_until)
                g_ptr_array_add(c->addresses, g_strdup(e->address));
}

void limiter_configure(Limiter *l, const LimitsSettings *s) {
        bool was_on = lockouts_on(l);

        limits_configure(l->limits, s);
        if (lockouts_on(l)) {
                if (!l->state_loaded) {
                        load_state(l);
                        expire(l, "ended while pairgated was stopped");
                }
                return;
        }
        if (was_on) {
                /* Lockouts turned off: end those in force. */
                g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
                Collect c = { all, true };
                uint64_t now = realtime_usec(), until;

                limits_foreach(l->limits, collect, &c);
                for (guint i = 0; i < all->len; i++)
                        if (limits_lift(l->limits, all->pdata[i], now, &until))
                                audit_ended(all->pdata[i], until,
                                            "lockouts turned off (limits.lockout_time = 0)");
                save_state(l);
                arm_expiry(l);
        }
}

bool limiter_refuse_locked_out(Limiter *l, const PairingQuery *q) {
        uint64_t now, until;

        if (!lockouts_on(l) || !q->address)
                return false;
        now = realtime_usec();
        if (l->next_expiry && l->next_expiry <= now)
                /* A lockout's end is due and the timer has not run yet: say so first. */
                expire(l, "lockout_time elapsed");
        until = limits_locked_until(l->limits, q->address, now);
        if (!until)
                return false;
        refusal_summary_add_locked_out(l->summary, q, until, now);
        arm_summary(l);
        return true;
}

bool limiter_take_prompt(Limiter *l, const PairingQuery *q) {
        if (limits_take_prompt(l->limits, now_usec()))
                return true;
        refusal_summary_add_budget(l->summary, q, realtime_usec());
        arm_summary(l);
        return false;
}

static int on_blocked_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BlockCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                log_warning("Cannot set Blocked on %s: %s: %s", c->path, e->name,
                            e->message ? e->message : "");
        /* Removing the slot from the table frees c (the slot's destroy callback). */
        g_hash_table_remove(c->l->blocking, c->path);
        return 0;
}

static void block_call_free(void *p) {
        BlockCall *c = p;

        g_free(c->path);
        g_free(c);
}

static int set_blocked(Limiter *l, const char *path) {
        const char *owner = l->owner ? bluez_owner_get(l->owner) : NULL;
        sd_bus_slot *slot = NULL;
        BlockCall *c;
        int r;

        if (!owner || !l->bus || !path)
                return -ENOTCONN;
        c = g_new0(BlockCall, 1);
        c->l = l;
        c->path = g_strdup(path);
        r = sd_bus_call_method_async(l->bus, &slot, owner, path, "org.freedesktop.DBus.Properties",
                                     "Set", on_blocked_reply, c, "ssv", DEVICE_INTERFACE, "Blocked",
                                     "b", 1);
        if (r < 0) {
                block_call_free(c);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, block_call_free);
        g_hash_table_replace(l->blocking, g_strdup(path), slot);
        return 0;
}

static void block_device(Limiter *l, const PairingQuery *q, const LimitsLockout *lo) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_BLOCKED);
        _cleanup_free_ char *msg = NULL, *reason = NULL;
        int r = set_blocked(l, q->device);

        reason = g_strdup_printf("locked out %u times in a row (limits.block); to undo: "
                                 "bluetoothctl unblock %s",
                                 lo->in_a_row, q->address);
        msg = r >= 0 ? g_strdup_printf("%s locked out %u times in a row: set Blocked in BlueZ",
                                       q->address, lo->in_a_row)
                     : g_strdup_printf("%s locked out %u times in a row, but it cannot be set "
                                       "Blocked in BlueZ: %s",
                                       q->address, lo->in_a_row, g_strerror(-r));
        policy_audit_query(&rec, q);
        rec.request_id = 0; /* about the device, not one request */
        rec.message = msg;
        rec.reason = reason;
        rec.count = lo->in_a_row;
        audit_emit(&rec);
}

void limiter_note_result(Limiter *l, const PairingQuery *q, RequestResult result) {
        AuditRecord rec;
        LimitsLockout lo;
        uint64_t now;
        char when[32];

        if (!q->address)
                return;
        if (result == REQUEST_ALLOW) {
                limits_note_allow(l->limits, q->address);
                return;
        }
        if (result != REQUEST_DENY && result != REQUEST_TIMEOUT)
                return;
        now = realtime_usec();
        if (limits_note_refusal(l->limits, q->address, now, &lo) <= 0)
                return;

        rec = AUDIT_RECORD_INIT(AUDIT_LOCKOUT_STARTED);
        _cleanup_free_ char *msg = g_strdup_printf(
                "%s locked out until %s: refused %u times within %u s (lockout %u in a row); its "
                "requests are refused at once meanwhile",
                q->address, utc(lo.until, when), lo.refusals,
                limits_settings(l->limits)->lockout_window_sec, lo.in_a_row);
        policy_audit_query(&rec, q);
        rec.request_id = 0; /* about the device, not one request */
        rec.message = msg;
        rec.count = lo.refusals;
        rec.until_realtime = lo.until;
        rec.reason = "limits.lockout_after refusals within limits.lockout_window";
        audit_emit(&rec);
        if (lo.block)
                block_device(l, q, &lo);
        save_state(l);
        arm_expiry(l);
}

uint64_t limiter_locked_until(Limiter *l, const char *address) {
        return limits_locked_until(l->limits, address, realtime_usec());
}

typedef struct EachLocked {
        limiter_each_t cb;
        void *userdata;
        uint64_t now;
} EachLocked;

static void each_locked(const LimitsEntry *e, void *userdata) {
        EachLocked *x = userdata;

        if (e->locked_until > x->now)
                x->cb(e->address, e->locked_until, x->userdata);
}

void limiter_foreach_locked(Limiter *l, limiter_each_t cb, void *userdata) {
        EachLocked x = { cb, userdata, realtime_usec() };

        limits_foreach(l->limits, each_locked, &x);
}

/* End address's lockout now; false when it had none. */
static bool end_lockout(Limiter *l, const char *address, const char *reason) {
        char a[18];
        uint64_t until;

        if (!limits_lift(l->limits, address, realtime_usec(), &until))
                return false;
        /* A valid address (limits_lift found it), written like BlueZ writes it. */
        g_strlcpy(a, address, sizeof a);
        for (char *c = a; *c; c++)
                *c = g_ascii_toupper(*c);
        audit_ended(a, until, reason);
        save_state(l);
        arm_expiry(l);
        return true;
}

int limiter_lift(Limiter *l, const char *address, const char *by) {
        _cleanup_free_ char *reason = g_strdup_printf("lifted by %s", by ? by : "an administrator");

        return end_lockout(l, address, reason) ? 0 : -ENOENT;
}

void limiter_forget(Limiter *l, const char *address, const char *by) {
        _cleanup_free_ char *reason =
                g_strdup_printf("device forgotten by %s", by ? by : "an administrator");

        if (!end_lockout(l, address, reason)) {
                limits_forget(l->limits, address);
                save_state(l);
        }
}

void limiter_flush(Limiter *l) {
        (void) refusal_summary_flush(l->summary);
        if (l->summary_timer)
                (void) sd_event_source_set_enabled(l->summary_timer, SD_EVENT_OFF);
}
