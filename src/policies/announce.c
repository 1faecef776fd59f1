/* SPDX-License-Identifier: MIT */
#include <glib.h>

#include "announce.h"

struct Announcer {
        announce_handler_t handler;
        void *userdata;
};

static GList *announcers; /* Announcer*, in registration order */

Announcer *announcer_register(announce_handler_t handler, void *userdata) {
        Announcer *a = g_new0(Announcer, 1);

        a->handler = handler;
        a->userdata = userdata;
        announcers = g_list_append(announcers, a);
        return a;
}

Announcer *announcer_unregister(Announcer *a) {
        if (a) {
                announcers = g_list_remove(announcers, a);
                g_free(a);
        }
        return NULL;
}

bool announce(const Announcement *a) {
        bool any = false;

        /* A handler may not (un)register others: it only speaks. */
        for (GList *l = announcers; l; l = l->next) {
                Announcer *x = l->data;
                any = x->handler(a, x->userdata) || any;
        }
        return any;
}
