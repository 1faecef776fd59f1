/* SPDX-License-Identifier: MIT */
#include <glib.h>

#include "device-history.h"
#include "macro.h"

struct DeviceHistory {
        GHashTable *entries; /* address (upper case) -> DeviceHistoryEntry* (key inside) */
        unsigned max_entries;
};

DeviceHistory *device_history_new(unsigned max_entries) {
        DeviceHistory *h = g_new0(DeviceHistory, 1);

        h->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
        h->max_entries = max_entries ? max_entries : 1;
        return h;
}

DeviceHistory *device_history_free(DeviceHistory *h) {
        if (!h)
                return NULL;
        g_hash_table_unref(h->entries);
        g_free(h);
        return NULL;
}

/* The key form of an address: upper case; false when it is not one. */
static bool key_of(const char *address, char ret[18]) {
        if (!address || strlen(address) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                char c = address[i];
                if (i % 3 == 2 ? c != ':' : !g_ascii_isxdigit(c))
                        return false;
                ret[i] = g_ascii_toupper(c);
        }
        ret[17] = '\0';
        return true;
}

static void drop_oldest(DeviceHistory *h) {
        DeviceHistoryEntry *oldest = NULL;
        GHashTableIter it;
        void *value;

        g_hash_table_iter_init(&it, h->entries);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                DeviceHistoryEntry *e = value;
                if (!oldest || e->last_realtime_usec < oldest->last_realtime_usec)
                        oldest = e;
        }
        if (oldest)
                g_hash_table_remove(h->entries, oldest->address);
}

void device_history_note(DeviceHistory *h, const char *address, AgentMethod method,
                         RequestResult result, uint64_t realtime_usec) {
        DeviceHistoryEntry *e;
        char key[18];

        if (!h || !key_of(address, key))
                return;
        e = g_hash_table_lookup(h->entries, key);
        if (!e) {
                if (g_hash_table_size(h->entries) >= h->max_entries)
                        drop_oldest(h);
                e = g_new0(DeviceHistoryEntry, 1);
                memcpy(e->address, key, sizeof e->address);
                g_hash_table_insert(h->entries, e->address, e);
        }
        e->last_result = result;
        e->last_method = method;
        e->last_realtime_usec = realtime_usec;
        e->decisions++;
        if (result == REQUEST_ALLOW)
                e->allowed++;
        else if (result == REQUEST_DENY || result == REQUEST_TIMEOUT)
                e->refusals++;
}

const DeviceHistoryEntry *device_history_get(const DeviceHistory *h, const char *address) {
        char key[18];

        return h && key_of(address, key) ? g_hash_table_lookup(h->entries, key) : NULL;
}

bool device_history_forget(DeviceHistory *h, const char *address) {
        char key[18];

        return h && key_of(address, key) && g_hash_table_remove(h->entries, key);
}

unsigned device_history_size(const DeviceHistory *h) {
        return h ? g_hash_table_size(h->entries) : 0;
}

void device_history_foreach(const DeviceHistory *h,
                            void (*cb)(const DeviceHistoryEntry *e, void *userdata),
                            void *userdata) {
        GHashTableIter it;
        void *value;

        if (!h)
                return;
        g_hash_table_iter_init(&it, h->entries);
        while (g_hash_table_iter_next(&it, NULL, &value))
                cb(value, userdata);
}
