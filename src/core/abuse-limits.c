/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include <glib.h>

#include "abuse-limits.h"
#include "macro.h"

#define USEC_PER_SEC   1000000ULL
#define BUDGET_WINDOW  (60ULL * USEC_PER_SEC)
#define ADDRESS_STRLEN 18

typedef struct Entry {
        char address[ADDRESS_STRLEN];
        GArray *refusals;      /* guint64 realtime µs within the window, oldest first */
        uint64_t locked_until; /* 0: not locked out */
        uint64_t last_lockout; /* end of the last lockout, for "in a row" */
        unsigned in_a_row;
        uint64_t last_seen;
} Entry;

struct Limits {
        LimitsSettings s;
        GHashTable *entries; /* address -> Entry* */
        uint64_t *prompts;   /* ring of the last prompts_per_minute prompt times */
        unsigned n_prompts, next_prompt;
};

static void entry_free(void *p) {
        Entry *e = p;

        g_array_unref(e->refusals);
        g_free(e);
}

Limits *limits_new(void) {
        Limits *l = g_new0(Limits, 1);

        l->s = LIMITS_SETTINGS_OFF;
        l->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
        return l;
}

Limits *limits_free(Limits *l) {
        if (!l)
                return NULL;
        g_hash_table_unref(l->entries);
        g_free(l->prompts);
        g_free(l);
        return NULL;
}

void limits_configure(Limits *l, const LimitsSettings *s) {
        if (s->prompts_per_minute != l->s.prompts_per_minute) {
                g_free(l->prompts);
                l->prompts = s->prompts_per_minute ? g_new0(uint64_t, s->prompts_per_minute) : NULL;
                l->n_prompts = l->next_prompt = 0;
        }
        l->s = *s;
}

const LimitsSettings *limits_settings(const Limits *l) {
        return &l->s;
}

/* "AA:BB:CC:DD:EE:FF" in upper case, or false. */
static bool canonical(const char *address, char ret[ADDRESS_STRLEN]) {
        if (!address || strlen(address) != ADDRESS_STRLEN - 1)
                return false;
        for (int i = 0; i < ADDRESS_STRLEN - 1; i++) {
                char c = address[i];
                if (i % 3 == 2 ? c != ':' : !g_ascii_isxdigit(c))
                        return false;
                ret[i] = g_ascii_toupper(c);
        }
        ret[ADDRESS_STRLEN - 1] = '\0';
        return true;
}

static Entry *lookup(const Limits *l, const char *address) {
        char a[ADDRESS_STRLEN];

        return canonical(address, a) ? g_hash_table_lookup(l->entries, a) : NULL;
}

static uint64_t window_usec(const Limits *l) {
        return (uint64_t) l->s.lockout_window_sec * USEC_PER_SEC;
}

static void prune_refusals(const Limits *l, Entry *e, uint64_t now) {
        guint drop = 0;

        while (drop < e->refusals->len &&
               g_array_index(e->refusals, guint64, drop) + window_usec(l) <= now)
                drop++;
        if (drop)
                g_array_remove_range(e->refusals, 0, drop);
}

/* Whether the entry still says anything at now. */
static bool entry_matters(const Limits *l, Entry *e, uint64_t now) {
        prune_refusals(l, e, now);
        return e->locked_until > now || e->refusals->len > 0 ||
               (e->in_a_row > 0 && e->last_lockout + window_usec(l) > now);
}

/* Make room for one more entry: drop what no longer matters, else the device seen least recently
 * that is not locked out, else the lockout that ends first. */
static void make_room(Limits *l, uint64_t now) {
        GHashTableIter it;
        Entry *e, *victim = NULL, *locked = NULL;

        if (g_hash_table_size(l->entries) < LIMITS_MAX_DEVICES)
                return;
        g_hash_table_iter_init(&it, l->entries);
        while (g_hash_table_iter_next(&it, NULL, (void **) &e)) {
                if (!entry_matters(l, e, now)) {
                        g_hash_table_iter_remove(&it);
                        continue;
                }
                if (e->locked_until > now) {
                        if (!locked || e->locked_until < locked->locked_until)
                                locked = e;
                } else if (!victim || e->last_seen < victim->last_seen)
                        victim = e;
        }
        if (g_hash_table_size(l->entries) < LIMITS_MAX_DEVICES)
                return;
        victim = victim ? victim : locked;
        if (victim)
                g_hash_table_remove(l->entries, victim->address);
}

static Entry *get_or_add(Limits *l, const char *address, uint64_t now) {
        char a[ADDRESS_STRLEN];
        Entry *e;

        if (!canonical(address, a))
                return NULL;
        e = g_hash_table_lookup(l->entries, a);
        if (e)
                return e;
        make_room(l, now);
        e = g_new0(Entry, 1);
        memcpy(e->address, a, sizeof a);
        e->refusals = g_array_new(false, false, sizeof(guint64));
        g_hash_table_insert(l->entries, e->address, e);
        return e;
}

uint64_t limits_locked_until(const Limits *l, const char *address, uint64_t now) {
        Entry *e = lookup(l, address);

        return e && e->locked_until > now ? e->locked_until : 0;
}

int limits_note_refusal(Limits *l, const char *address, uint64_t now, LimitsLockout *ret) {
        Entry *e;
        guint64 t = now;

        if (l->s.lockout_time_sec == 0)
                return 0;
        e = get_or_add(l, address, now);
        if (!e)
                return 0;
        e->last_seen = now;
        if (e->locked_until > now)
                return 0;
        prune_refusals(l, e, now);
        g_array_append_val(e->refusals, t);
        if (e->refusals->len < l->s.lockout_after)
                return 0;

        /* A lockout that starts soon after the previous one ended continues the row. */
        if (e->in_a_row > 0 && e->last_lockout + window_usec(l) > now)
                e->in_a_row++;
        else
                e->in_a_row = 1;
        e->locked_until = now + (uint64_t) l->s.lockout_time_sec * USEC_PER_SEC;
        e->last_lockout = e->locked_until;
        *ret = (LimitsLockout){ .until = e->locked_until,
                                .refusals = e->refusals->len,
                                .in_a_row = e->in_a_row,
                                .block = l->s.block && e->in_a_row >= l->s.lockout_after };
        g_array_set_size(e->refusals, 0);
        return 1;
}

void limits_note_allow(Limits *l, const char *address) {
        Entry *e = lookup(l, address);

        if (e && e->locked_until == 0)
                g_hash_table_remove(l->entries, e->address);
        else if (e) {
                g_array_set_size(e->refusals, 0);
                e->in_a_row = 0;
        }
}

bool limits_take_prompt(Limits *l, uint64_t now_mono) {
        unsigned n = l->s.prompts_per_minute;

        if (n == 0)
                return true;
        if (l->n_prompts == n) {
                /* The ring is full: its oldest entry is at next_prompt. */
                if (l->prompts[l->next_prompt] + BUDGET_WINDOW > now_mono)
                        return false;
        } else
                l->n_prompts++;
        l->prompts[l->next_prompt] = now_mono;
        l->next_prompt = (l->next_prompt + 1) % n;
        return true;
}

bool limits_lift(Limits *l, const char *address, uint64_t now, uint64_t *ret_until) {
        Entry *e = lookup(l, address);

        if (!e || e->locked_until <= now)
                return false;
        if (ret_until)
                *ret_until = e->locked_until;
        g_hash_table_remove(l->entries, e->address);
        return true;
}

void limits_forget(Limits *l, const char *address) {
        Entry *e = lookup(l, address);

        if (e)
                g_hash_table_remove(l->entries, e->address);
}

void limits_expire(Limits *l, uint64_t now, limits_ended_t cb, void *userdata) {
        g_autoptr(GPtrArray) ended = g_ptr_array_new();
        GHashTableIter it;
        Entry *e;

        /* Collect first: the callback may look at the table. */
        g_hash_table_iter_init(&it, l->entries);
        while (g_hash_table_iter_next(&it, NULL, (void **) &e))
                if (e->locked_until && e->locked_until <= now)
                        g_ptr_array_add(ended, e);
        for (guint i = 0; i < ended->len; i++) {
                uint64_t until;

                e = ended->pdata[i];
                until = e->locked_until;
                e->locked_until = 0;
                if (cb)
                        cb(e->address, until, userdata);
        }
}

uint64_t limits_next_expiry(const Limits *l) {
        GHashTableIter it;
        Entry *e;
        uint64_t next = 0;

        g_hash_table_iter_init(&it, l->entries);
        while (g_hash_table_iter_next(&it, NULL, (void **) &e))
                if (e->locked_until && (next == 0 || e->locked_until < next))
                        next = e->locked_until;
        return next;
}

void limits_foreach(const Limits *l, limits_each_t cb, void *userdata) {
        GHashTableIter it;
        Entry *e;

        g_hash_table_iter_init(&it, l->entries);
        while (g_hash_table_iter_next(&it, NULL, (void **) &e)) {
                LimitsEntry le = { .address = e->address,
                                   .locked_until = e->locked_until,
                                   .in_a_row = e->in_a_row,
                                   .last_lockout = e->last_lockout };
                if (e->locked_until || e->in_a_row)
                        cb(&le, userdata);
        }
}

int limits_restore(Limits *l, const LimitsEntry *le, uint64_t now) {
        Entry *e;

        if (!canonical(le->address, (char[ADDRESS_STRLEN]){ 0 }))
                return -EINVAL;
        e = get_or_add(l, le->address, now);
        e->locked_until = le->locked_until;
        e->in_a_row = le->in_a_row;
        e->last_lockout = le->last_lockout ? le->last_lockout : le->locked_until;
        e->last_seen = now;
        /* A lockout that ended while pairgated was stopped stays in the table until
         * limits_expire() reports its end. */
        if (!e->locked_until && !entry_matters(l, e, now))
                g_hash_table_remove(l->entries, e->address);
        return 0;
}

unsigned limits_size(const Limits *l) {
        return g_hash_table_size(l->entries);
}
