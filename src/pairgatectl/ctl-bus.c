/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-names.h"
#include "ctl-bus.h"
#include "ctl-dict.h"
#include "macro.h"
#include "text-escape.h"

/* Calls to pairgated answer at once (they never wait for a person): 10 s means it is stuck. */
#define CTL_CALL_TIMEOUT_USEC (10ULL * 1000000ULL)

void ctl_print_error(const char *fmt, ...) {
        _cleanup_free_ char *text = NULL, *esc = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        /* One line, whatever the message carried (a daemon's error text, a user's argument). */
        esc = text ? text_escape(text, SIZE_MAX, text_locale_is_utf8()) : NULL;
        fprintf(stderr, "pairgatectl: %s\n", esc ? esc : "out of memory");
}

int ctl_bus_open(sd_bus **ret) {
        int r = sd_bus_open_system(ret);

        if (r < 0) {
                const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
                ctl_print_error("cannot connect to the system bus%s%s: %s", addr ? " at " : "",
                                addr ? addr : "", strerror(-r));
        }
        return r;
}

static char *strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strdup_printf(const char *fmt, ...) {
        char *s;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *ctl_error_sentence(const sd_bus_error *e, int r, const CtlContext *ctx) {
        const char *name = e ? e->name : NULL;
        const char *msg = e && e->message && *e->message ? e->message : NULL;
        uint64_t id = ctx ? ctx->request_id : 0;
        const char *address = ctx ? ctx->address : NULL;

        if (streq(name, CONTROL_ERROR_ACCESS_DENIED) || streq(name, SD_BUS_ERROR_ACCESS_DENIED) ||
            (!name && r == -EACCES) || (!name && r == -EPERM))
                return strdup_printf("permission denied: run as root or as a member of %s",
                                     CONTROL_ADMIN_GROUP);
        if (streq(name, CONTROL_ERROR_NOT_FOUND)) {
                if (id > 0)
                        return strdup_printf(
                                "no pending request %" PRIu64 " (it ended or never existed)", id);
                if (address)
                        return strdup_printf("no device %s known to pairgate or BlueZ", address);
                return strdup_printf("not found%s%s", msg ? ": " : "", msg ? msg : "");
        }
        if (streq(name, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            streq(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return strdup_printf("pairgated is not running (nothing owns %s on the system bus)",
                                     CONTROL_BUS_NAME);
        if (streq(name, SD_BUS_ERROR_UNKNOWN_METHOD) || streq(name, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
            streq(name, SD_BUS_ERROR_UNKNOWN_INTERFACE))
                return strdup_printf("this pairgated has no control interface %s (too old?)%s%s",
                                     CONTROL_INTERFACE, msg ? ": " : "", msg ? msg : "");
        if (streq(name, SD_BUS_ERROR_NO_REPLY) || streq(name, SD_BUS_ERROR_TIMEOUT) ||
            (!name && r == -ETIMEDOUT))
                return strdup_printf("pairgated did not answer in time");
        if (streq(name, CONTROL_ERROR_NOT_APPLICABLE)) {
                if (msg)
                        return strdup_printf("not applicable: %s", msg);
                if (id > 0)
                        return strdup_printf("request %" PRIu64 " cannot be answered this way", id);
                return strdup_printf("not applicable here");
        }
        if (streq(name, CONTROL_ERROR_INVALID_ARGS) || streq(name, SD_BUS_ERROR_INVALID_ARGS))
                return strdup_printf("invalid argument%s%s", msg ? ": " : "", msg ? msg : "");
        if (streq(name, CONTROL_ERROR_FAILED))
                return strdup_printf("pairgated failed%s%s", msg ? ": " : "", msg ? msg : "");
        if (name && msg)
                return strdup_printf("%s (%s)", msg, name);
        if (name)
                return strdup_printf("%s", name);
        return strdup_printf("%s", strerror(r < 0 ? -r : EIO));
}

int ctl_call(sd_bus *bus, const CtlContext *ctx, sd_bus_message **ret_reply, const char *member,
             const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, CONTROL_BUS_NAME, CONTROL_OBJECT_PATH,
                                           CONTROL_INTERFACE, member);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r >= 0)
                r = sd_bus_call(bus, m, CTL_CALL_TIMEOUT_USEC, &e, &reply);
        if (r < 0) {
                _cleanup_free_ char *s = ctl_error_sentence(&e, r, ctx);
                ctl_print_error("%s", s ? s : "out of memory");
                return r;
        }
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

int ctl_call_list(const char *member, CtlDict **ret, size_t *ret_n) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_bus_open(&bus);
        if (r < 0)
                return r;
        r = ctl_call(bus, NULL, &reply, member, NULL);
        if (r < 0)
                return r;
        r = ctl_dict_read_array(reply, ret, ret_n);
        if (r < 0)
                ctl_print_error("cannot read pairgated's answer to %s: %s", member, strerror(-r));
        return r;
}
