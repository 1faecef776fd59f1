/* SPDX-License-Identifier: MIT */
/* Test helper for dbus-policy.sh: a minimal peer on a private bus.
 *
 *   dbus-policy-peer serve ADDRESS NAME|-
 *       Connect, own NAME (unless "-"), print the unique name on stdout, and answer every method
 *       call with an empty reply until killed.
 *   dbus-policy-peer call ADDRESS OWN|- DEST PATH INTERFACE MEMBER
 *       Connect, own OWN (unless "-"), call DEST PATH INTERFACE.MEMBER without arguments and print
 *       "OK" or the D-Bus error name. Exit 0 when the call got a reply, 1 on an error reply,
 *       2 when the helper itself failed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

static int open_bus(const char *address, const char *own, sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "dbus-policy-peer: cannot connect to %s: %s\n", address,
                        strerror(-r));
                sd_bus_unref(bus);
                return r;
        }
        if (strcmp(own, "-") != 0) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                sd_bus_message *reply = NULL;
                uint32_t ret_code = 0;

                /* Called by hand, not sd_bus_request_name(), to see the D-Bus error name. */
                r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName", &error, &reply, "su",
                                       own, (uint32_t) 0);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "u", &ret_code);
                if (r >= 0 && ret_code != 1 /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */)
                        r = -EEXIST;
                if (r < 0) {
                        /* The error name on stdout: "call" reports it like a call's error. */
                        printf("%s\n", error.name ? error.name : strerror(-r));
                        fprintf(stderr, "dbus-policy-peer: cannot own %s\n", own);
                        sd_bus_error_free(&error);
                        sd_bus_message_unref(reply);
                        sd_bus_unref(bus);
                        return r;
                }
                sd_bus_message_unref(reply);
        }
        *ret = bus;
        return 0;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (sd_bus_message_is_method_call(m, NULL, NULL) <= 0)
                return 0;
        (void) sd_bus_reply_method_return(m, NULL);
        return 1;
}

static int serve(const char *address, const char *own) {
        sd_bus *bus = NULL;
        const char *unique = NULL;
        int r;

        if (open_bus(address, own, &bus) < 0)
                return 2;
        r = sd_bus_add_filter(bus, NULL, on_message, NULL);
        if (r >= 0)
                r = sd_bus_get_unique_name(bus, &unique);
        if (r < 0) {
                fprintf(stderr, "dbus-policy-peer: %s\n", strerror(-r));
                return 2;
        }
        printf("%s\n", unique);
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "dbus-policy-peer: process: %s\n", strerror(-r));
                        return 2;
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "dbus-policy-peer: wait: %s\n", strerror(-r));
                        return 2;
                }
        }
}

static int call(const char *address, const char *own, const char *dest, const char *path,
                const char *interface, const char *member) {
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (open_bus(address, own, &bus) < 0)
                return 2;
        r = sd_bus_message_new_method_call(bus, &m, dest, path, interface, member);
        if (r < 0) {
                fprintf(stderr, "dbus-policy-peer: %s\n", strerror(-r));
                sd_bus_unref(bus);
                return 2;
        }
        r = sd_bus_call(bus, m, 5 * 1000 * 1000, &error, &reply);
        /* Flushed at once: the caller reads stdout even if the process dies afterwards. */
        printf("%s\n", r >= 0 ? "OK" : error.name ? error.name : strerror(-r));
        fflush(stdout);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        sd_bus_flush_close_unref(bus);
        return r >= 0 ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "serve") == 0)
                return serve(argv[2], argv[3]);
        if (argc == 8 && strcmp(argv[1], "call") == 0)
                return call(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
        fprintf(stderr,
                "usage: %s serve ADDRESS NAME|-\n"
                "       %s call ADDRESS OWN|- DEST PATH INTERFACE MEMBER\n",
                argv[0], argv[0]);
        return 2;
}
