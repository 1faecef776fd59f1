/* SPDX-License-Identifier: MIT */
#include "bus-dict.h"

int bus_dict_walk(sd_bus_message *m, bus_dict_entry_t cb, void *userdata) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");

        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = cb(m, key, userdata);
                if (r == 0)
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_interfaces_walk(sd_bus_message *m, const char *path, bus_interface_t cb, void *userdata) {
        int r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");

        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *iface;

                r = sd_bus_message_read(m, "s", &iface);
                if (r < 0)
                        return r;
                r = cb(m, path, iface, userdata);
                if (r == 0)
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_objects_walk(sd_bus_message *m, bus_interface_t cb, void *userdata) {
        int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");

        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(m, "o", &path);
                if (r < 0)
                        return r;
                r = bus_interfaces_walk(m, path, cb, userdata);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}
