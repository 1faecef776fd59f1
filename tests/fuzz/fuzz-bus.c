/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/socket.h>

#include <glib.h>

#include "fuzz-bus.h"
#include "fuzz-check.h"
#include "macro.h"

static int on_peer_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        FuzzBus *b = userdata;
        const char *name = NULL;
        int r = 0;

        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        if (sd_bus_message_is_method_call(m, "org.freedesktop.DBus", "GetNameOwner")) {
                if (sd_bus_message_read(m, "s", &name) >= 0 && streq(name, "org.bluez"))
                        return sd_bus_reply_method_return(m, "s", FUZZ_BLUEZ_OWNER);
                return sd_bus_reply_method_errorf(m, "org.freedesktop.DBus.Error.NameHasNoOwner",
                                                  "no owner");
        }
        if (b->on_call)
                r = b->on_call(b, m, b->userdata);
        if (r == 0)
                r = sd_bus_reply_method_return(m, NULL);
        return r < 0 ? r : 1;
}

int fuzz_bus_new(FuzzBus **ret, fuzz_bus_call_t on_call, fuzz_bus_reply_t on_reply,
                 void *userdata) {
        FuzzBus *b = g_new0(FuzzBus, 1);
        sd_id128_t id = { .bytes = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };
        int fds[2], r;

        b->on_call = on_call;
        b->on_reply = on_reply;
        b->userdata = userdata;
        fuzz_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0,
                    "socketpair: %m");
        fuzz_assert(sd_event_new(&b->event) >= 0, "sd_event_new");
        fuzz_assert(sd_bus_new(&b->daemon) >= 0 && sd_bus_new(&b->peer) >= 0, "sd_bus_new");
        r = sd_bus_set_fd(b->daemon, fds[0], fds[0]);
        if (r >= 0)
                r = sd_bus_set_fd(b->peer, fds[1], fds[1]);
        if (r >= 0)
                r = sd_bus_set_server(b->peer, true, id);
        if (r >= 0)
                r = sd_bus_set_anonymous(b->peer, true);
        if (r >= 0)
                r = sd_bus_set_anonymous(b->daemon, true);
        if (r >= 0)
                r = sd_bus_start(b->peer);
        if (r >= 0)
                r = sd_bus_start(b->daemon);
        fuzz_assert(r >= 0, "starting the bus pair: %s", g_strerror(-r));
        /* Both ends are ours: the handshake is a few local writes, no waiting needed. */
        for (int rounds = 0; !sd_bus_is_ready(b->daemon) || !sd_bus_is_ready(b->peer); rounds++) {
                int a = sd_bus_process(b->daemon, NULL), p = sd_bus_process(b->peer, NULL);
                fuzz_assert(a >= 0 && p >= 0 && rounds < 10000, "bus handshake failed");
        }
        fuzz_assert(sd_bus_attach_event(b->daemon, b->event, SD_EVENT_PRIORITY_NORMAL) >= 0,
                    "sd_bus_attach_event");
        fuzz_assert(sd_bus_add_filter(b->peer, NULL, on_peer_message, b) >= 0, "filter");
        *ret = b;
        return 0;
}

FuzzBus *fuzz_bus_free(FuzzBus *b) {
        if (!b)
                return NULL;
        sd_bus_flush_close_unref(b->peer);
        sd_bus_detach_event(b->daemon);
        sd_bus_flush_close_unref(b->daemon);
        sd_event_unref(b->event);
        g_free(b);
        return NULL;
}

void fuzz_bus_settle(FuzzBus *b) {
        for (int rounds = 0;; rounds++) {
                int a, p;

                fuzz_assert(rounds < 100000, "the bus never settles");
                a = sd_event_run(b->event, 0);
                p = sd_bus_process(b->peer, NULL);
                fuzz_assert(a >= 0, "event loop failed: %s", g_strerror(-a));
                fuzz_assert(p >= 0, "peer failed: %s", g_strerror(-p));
                if (a == 0 && p == 0)
                        return;
        }
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        FuzzBus *b = userdata;

        uint64_t cookie = 0;

        b->replies++;
        (void) sd_bus_message_get_reply_cookie(m, &cookie);
        if (b->on_reply)
                b->on_reply(m, cookie, b->userdata);
        return 1;
}

int64_t fuzz_bus_send(FuzzBus *b, sd_bus_message *m, const char *sender) {
        uint64_t cookie = 0;
        int r;

        if (sender) {
                r = sd_bus_message_set_sender(m, sender);
                if (r < 0)
                        return r;
        }
        if (sd_bus_message_is_method_call(m, NULL, NULL)) {
                r = sd_bus_call_async(b->peer, NULL, m, on_reply, b, 0);
                if (r < 0)
                        return r;
                b->calls_sent++;
        } else {
                r = sd_bus_send(b->peer, m, NULL);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_get_cookie(m, &cookie);
        return r < 0 ? r : (int64_t) cookie;
}

char *fuzz_bus_text(const char *raw) {
        _cleanup_free_ char *valid = g_utf8_make_valid(raw, -1);
        GString *out = g_string_new(NULL);

        for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);
                if ((c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
                        c = 0xfffd;
                g_string_append_unichar(out, c);
        }
        return g_string_free(out, false);
}

char *fuzz_bus_string(FuzzInput *in) {
        _cleanup_free_ char *raw = fuzz_string(in);

        return fuzz_bus_text(raw);
}

char *fuzz_bus_device_path(FuzzInput *in, const char *const *fixed, size_t n) {
        size_t i = fuzz_pick(in, n + 1);
        _cleanup_free_ char *raw = NULL;
        GString *p;

        if (i < n)
                return g_strdup(fixed[i]);
        raw = fuzz_string(in);
        p = g_string_new("/org/bluez/hci0/dev_");
        for (const char *c = raw; *c; c++)
                g_string_append_c(p, g_ascii_isalnum(*c) || *c == '_' ? *c : '_');
        return g_string_free(p, false);
}
