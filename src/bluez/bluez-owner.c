/* SPDX-License-Identifier: MIT */
#include <glib.h>

#include "audit.h"
#include "bluez-owner.h"
#include "macro.h"

#define BLUEZ_SERVICE "org.bluez"

struct BluezOwner {
        sd_bus *bus;
        char *owner; /* NULL: nobody owns org.bluez (or we do not know yet) */
        sd_bus_slot *match, *get_owner;
        bluez_owner_changed_t cb;
        void *userdata;
};

static void set_owner(BluezOwner *o, const char *new_owner) {
        if (new_owner && !*new_owner)
                new_owner = NULL;
        if (streq_ptr(o->owner, new_owner))
                return;
        g_free(o->owner);
        o->owner = g_strdup(new_owner);
        if (o->cb)
                o->cb(o, o->owner, o->userdata);
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BluezOwner *o = userdata;
        const char *name, *old, *new;

        /* The bus filters on arg0; check again all the same. */
        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || !streq(name, BLUEZ_SERVICE))
                return 0;
        /* A GetNameOwner still in flight is now stale. */
        o->get_owner = sd_bus_slot_unref(o->get_owner);
        set_owner(o, new);
        return 0;
}

static int on_get_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        BluezOwner *o = userdata;
        const char *owner = NULL;

        o->get_owner = sd_bus_slot_unref(o->get_owner);
        if (!sd_bus_message_is_method_error(m, NULL))
                (void) sd_bus_message_read(m, "s", &owner);
        if (owner)
                set_owner(o, owner);
        else
                log_info("Waiting for org.bluez (bluetoothd) to appear on the bus");
        return 0;
}

int bluez_owner_new(BluezOwner **ret, sd_bus *bus, bluez_owner_changed_t cb, void *userdata) {
        BluezOwner *o = g_new0(BluezOwner, 1);

        o->bus = sd_bus_ref(bus);
        o->cb = cb;
        o->userdata = userdata;
        *ret = o;
        return 0;
}

BluezOwner *bluez_owner_free(BluezOwner *o) {
        if (!o)
                return NULL;
        sd_bus_slot_unref(o->match);
        sd_bus_slot_unref(o->get_owner);
        sd_bus_unref(o->bus);
        g_free(o->owner);
        g_free(o);
        return NULL;
}

int bluez_owner_start(BluezOwner *o) {
        int r;

        r = sd_bus_add_match_async(o->bus, &o->match,
                                   "type='signal',sender='org.freedesktop.DBus',"
                                   "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                                   "member='NameOwnerChanged',arg0='" BLUEZ_SERVICE "'",
                                   on_name_owner_changed, NULL, o);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(o->bus, &o->get_owner, "org.freedesktop.DBus",
                                        "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "GetNameOwner", on_get_owner, o, "s", BLUEZ_SERVICE);
}

const char *bluez_owner_get(const BluezOwner *o) {
        return o ? o->owner : NULL;
}

bool bluez_owner_is(const BluezOwner *o, const char *sender) {
        return o && o->owner && sender && streq(sender, o->owner);
}
