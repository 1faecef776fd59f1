/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <glib.h>

#include "audit.h"
#include "abuse-limits.h"
#include "macro.h"
#include "refusal-summary.h"

typedef struct Item {
        char *address;
        char *device, *address_type, *name, *adapter; /* the last request's (locked-out items) */
        const char *name_source, *method;             /* static */
        uint64_t count, first, last, until;
} Item;

typedef struct Group {
        GHashTable *by_address; /* address -> Item* (owned by items) */
        GPtrArray *items;       /* in the order first seen */
        uint64_t unlisted, unlisted_first, unlisted_last;
} Group;

struct RefusalSummary {
        Group locked, budget;
};

static void item_free(void *p) {
        Item *i = p;

        g_free(i->address);
        g_free(i->device);
        g_free(i->address_type);
        g_free(i->name);
        g_free(i->adapter);
        g_free(i);
}

static void group_init(Group *g) {
        g->by_address = g_hash_table_new(g_str_hash, g_str_equal);
        g->items = g_ptr_array_new_with_free_func(item_free);
}

static void group_clear(Group *g) {
        g_hash_table_remove_all(g->by_address);
        g_ptr_array_set_size(g->items, 0);
        g->unlisted = g->unlisted_first = g->unlisted_last = 0;
}

static void group_done(Group *g) {
        g_hash_table_unref(g->by_address);
        g_ptr_array_unref(g->items);
}

RefusalSummary *refusal_summary_new(void) {
        RefusalSummary *s = g_new0(RefusalSummary, 1);

        group_init(&s->locked);
        group_init(&s->budget);
        return s;
}

RefusalSummary *refusal_summary_free(RefusalSummary *s) {
        if (!s)
                return NULL;
        group_done(&s->locked);
        group_done(&s->budget);
        g_free(s);
        return NULL;
}

bool refusal_summary_is_empty(const RefusalSummary *s) {
        return s->locked.items->len == 0 && s->budget.items->len == 0 && s->budget.unlisted == 0;
}

static void replace(char **p, const char *v) {
        if (streq_ptr(*p, v))
                return;
        g_free(*p);
        *p = g_strdup(v);
}

/* The item of q's address, or NULL when the group lists enough addresses already (the request is
 * then counted as unlisted). */
static Item *group_add(Group *g, const PairingQuery *q, uint64_t now) {
        const char *address = q->address ? q->address : "unknown";
        Item *i = g_hash_table_lookup(g->by_address, address);

        if (!i) {
                if (g->items->len >= LIMITS_MAX_DEVICES) {
                        if (!g->unlisted)
                                g->unlisted_first = now;
                        g->unlisted++;
                        g->unlisted_last = now;
                        return NULL;
                }
                i = g_new0(Item, 1);
                i->address = g_strdup(address);
                i->first = now;
                g_ptr_array_add(g->items, i);
                g_hash_table_insert(g->by_address, i->address, i);
        }
        i->count++;
        i->last = now;
        i->method = agent_method_to_string(q->method);
        return i;
}

void refusal_summary_add_locked_out(RefusalSummary *s, const PairingQuery *q, uint64_t until,
                                    uint64_t now) {
        Item *i = group_add(&s->locked, q, now);

        if (!i)
                return;
        i->until = until;
        replace(&i->device, q->device);
        replace(&i->address_type, q->address_type);
        replace(&i->name, q->name);
        replace(&i->adapter, q->adapter);
        i->name_source = q->name ? q->name_source : NULL;
}

void refusal_summary_add_budget(RefusalSummary *s, const PairingQuery *q, uint64_t now) {
        (void) group_add(&s->budget, q, now);
}

static char *utc(uint64_t usec, char buf[32]) {
        time_t t = (time_t) (usec / 1000000ULL);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
                g_strlcpy(buf, "?", 32);
        return buf;
}

static void flush_locked(const Item *i) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_LOCKOUT_REFUSALS);
        char until[32], first[32];
        _cleanup_free_ char *msg = g_strdup_printf(
                "%s: %" PRIu64 " request%s refused while locked out (since %s; locked out until "
                "%s)",
                i->address, i->count, i->count == 1 ? "" : "s", utc(i->first, first),
                utc(i->until, until));

        rec.message = msg;
        rec.address = i->address;
        rec.address_type = i->address_type;
        rec.device = i->device;
        rec.name = i->name;
        rec.name_source = i->name_source;
        rec.adapter = i->adapter;
        rec.method = i->method;
        rec.count = (int64_t) i->count;
        rec.first_realtime = i->first;
        rec.last_realtime = i->last;
        rec.until_realtime = i->until;
        rec.reason = "locked out (limits.lockout_after refusals within limits.lockout_window)";
        audit_emit(&rec);
}

/* Records of up to REFUSAL_SUMMARY_ADDRESSES_PER_RECORD budget items from *next on. */
static void flush_budget_record(Group *g, guint *next, bool last_record) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_BUDGET_REFUSALS);
        g_autoptr(GString) addresses = g_string_new(NULL);
        _cleanup_free_ char *msg = NULL, *unlisted = NULL;
        uint64_t count = 0, first = 0, last = 0;
        guint n = 0;
        char when[32];

        for (; *next < g->items->len && n < REFUSAL_SUMMARY_ADDRESSES_PER_RECORD; (*next)++, n++) {
                const Item *i = g->items->pdata[*next];

                g_string_append_printf(addresses, "%s%s*%" PRIu64, addresses->len ? " " : "",
                                       i->address, i->count);
                count += i->count;
                first = first && first < i->first ? first : i->first;
                last = MAX(last, i->last);
        }
        if (last_record && g->unlisted) {
                count += g->unlisted;
                first = first && first < g->unlisted_first ? first : g->unlisted_first;
                last = MAX(last, g->unlisted_last);
                unlisted = g_strdup_printf("%" PRIu64, g->unlisted);
                rec.extra_key = "unlisted";
                rec.extra_value = unlisted;
        }
        msg = g_strdup_printf("%" PRIu64 " request%s from %u device%s refused at once: the prompt "
                              "budget was spent (since %s)%s",
                              count, count == 1 ? "" : "s", n, n == 1 ? "" : "s", utc(first, when),
                              unlisted ? "; more devices than listed" : "");
        rec.message = msg;
        rec.count = (int64_t) count;
        rec.first_realtime = first;
        rec.last_realtime = last;
        rec.addresses = addresses->len ? addresses->str : NULL;
        rec.reason = "prompt budget spent (limits.prompts_per_minute)";
        audit_emit(&rec);
}

unsigned refusal_summary_flush(RefusalSummary *s) {
        unsigned records = 0;
        guint next = 0;

        for (guint k = 0; k < s->locked.items->len; k++, records++)
                flush_locked(s->locked.items->pdata[k]);
        while (next < s->budget.items->len || (next == 0 && s->budget.unlisted)) {
                guint before = next;
                flush_budget_record(&s->budget, &next,
                                    next + REFUSAL_SUMMARY_ADDRESSES_PER_RECORD >=
                                            s->budget.items->len);
                records++;
                if (next == before)
                        break; /* only unlisted refusals: one record */
        }
        group_clear(&s->locked);
        group_clear(&s->budget);
        return records;
}
