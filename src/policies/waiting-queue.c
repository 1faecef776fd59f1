/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <glib.h>

#include "audit.h"
#include "macro.h"
#include "time-util.h"
#include "waiting-queue.h"

struct WaitingQueue {
        sd_event *event;
        GQueue calls; /* PolicyCall*, oldest first */
        void (*changed)(void *userdata);
        void *userdata;
};

static void changed(WaitingQueue *q) {
        if (q && q->changed)
                q->changed(q->userdata);
}

static void call_free(PolicyCall *c) {
        explicit_bzero(&c->result, sizeof c->result); /* it may hold a PIN */
        sd_event_source_disable_unref(c->deliver);
        g_free(c->address);
        g_free(c);
}

static gint by_arrival(gconstpointer a, gconstpointer b, gpointer unused) {
        const PolicyCall *x = a, *y = b;

        return x->arrived_usec < y->arrived_usec ? -1 : x->arrived_usec > y->arrived_usec;
}

int waiting_queue_new(WaitingQueue **ret, sd_event *event, void (*changed_cb)(void *userdata),
                      void *userdata) {
        WaitingQueue *q = g_new0(WaitingQueue, 1);

        q->event = sd_event_ref(event);
        g_queue_init(&q->calls);
        q->changed = changed_cb;
        q->userdata = userdata;
        *ret = q;
        return 0;
}

WaitingQueue *waiting_queue_free(WaitingQueue *q) {
        if (!q)
                return NULL;
        q->changed = NULL;
        waiting_queue_move(q, NULL);
        sd_event_unref(q->event);
        g_free(q);
        return NULL;
}

PolicyCall *waiting_queue_add(WaitingQueue *q, const PairingQuery *query, policy_done_t done,
                              void *userdata) {
        PolicyCall *c = g_new0(PolicyCall, 1);

        c->queue = q;
        c->request_id = query->request_id;
        c->arrived_usec = query->arrived_usec ? query->arrived_usec : now_usec();
        c->method = query->method;
        c->address = g_strdup(query->address);
        c->done = done;
        c->userdata = userdata;
        g_queue_insert_sorted(&q->calls, c, by_arrival, NULL);
        changed(q);
        return c;
}

PolicyCall *waiting_queue_oldest(WaitingQueue *q) {
        return q ? g_queue_peek_head(&q->calls) : NULL;
}

unsigned waiting_queue_length(const WaitingQueue *q) {
        return q ? g_queue_get_length((GQueue *) &q->calls) : 0;
}

static int on_deliver(sd_event_source *s, void *userdata) {
        PolicyCall *c = userdata;

        c->done(&c->result, c->userdata);
        call_free(c);
        return 0;
}

void waiting_queue_decide(PolicyCall *c, Verdict v) {
        waiting_queue_answer(c, &(PolicyResult){ .verdict = v });
}

void waiting_queue_answer(PolicyCall *c, const PolicyResult *res) {
        WaitingQueue *q = c->queue;
        int r;

        g_queue_remove(&q->calls, c);
        c->queue = NULL;
        c->result = *res;
        c->result.reason = c->reason;
        changed(q);
        r = sd_event_add_defer(q->event, &c->deliver, on_deliver, c);
        if (r < 0) {
                log_error("cannot schedule a decision: %s", g_strerror(-r));
                on_deliver(NULL, c);
        }
}

void waiting_queue_cancel(PolicyCall *c) {
        WaitingQueue *q = c->queue;

        if (q) {
                g_queue_remove(&q->calls, c);
                changed(q);
        }
        call_free(c);
}

void waiting_queue_move(WaitingQueue *from, WaitingQueue *to) {
        PolicyCall *c;
        bool any = false;

        while ((c = g_queue_pop_head(&from->calls))) {
                c->queue = to;
                if (to)
                        g_queue_insert_sorted(&to->calls, c, by_arrival, NULL);
                any = true;
        }
        if (any) {
                changed(from);
                changed(to);
        }
}
