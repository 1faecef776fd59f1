/* SPDX-License-Identifier: MIT */
/* watch: each request as it starts, passes to another policy and ends, from the control
 * interface's signals, until SIGINT or SIGTERM. One sd-event loop, no polling. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "commands.h"
#include "control-names.h"
#include "ctl-args.h"
#include "ctl-bus.h"
#include "ctl-dict.h"
#include "ctl-format.h"
#include "json-writer.h"
#include "macro.h"

/* pairgated holds at most 64 requests (max_pending). */
#define LISTED_MAX 64

typedef struct Watch {
        sd_bus *bus;
        bool json;
        /* The ids printed from ListRequests: their RequestStarted, queued while the list was
         * read, is not printed a second time. */
        uint64_t listed[LISTED_MAX];
        size_t n_listed;
} Watch;

static void stamp(void) {
        char t[32];

        ctl_format_time(ctl_now_realtime(), t);
        printf("%s ", t);
}

/* JSON lines: {"event":..., "time":..., ...}. */
static void json_head(JsonWriter *w, const char *event) {
        char t[40];

        ctl_format_time_iso(ctl_now_realtime(), t);
        json_init(w, stdout, false);
        json_begin_object(w);
        json_key(w, "event");
        json_string(w, event);
        json_key(w, "time");
        json_string(w, t);
}

static void json_tail(JsonWriter *w) {
        json_end_object(w);
        json_finish(w);
}

static void show_request(Watch *wt, const CtlDict *req, const char *what) {
        const char *needs = ctl_dict_str(req, "Needs");
        uint64_t id = 0;

        if (wt->json) {
                JsonWriter w;
                json_head(&w, what);
                json_key(&w, "request");
                ctl_json_request(&w, req, ctl_now_realtime());
                json_tail(&w);
                return;
        }
        (void) ctl_dict_uint(req, "Id", &id);
        stamp();
        printf("%-8s", what);
        ctl_print_request(stdout, req, ctl_now_realtime());
        if (streq(needs, "passkey"))
                printf(" -> pairgatectl passkey %" PRIu64 " NNNNNN", id);
        else if (streq(needs, "pin"))
                printf(" -> pairgatectl pin %" PRIu64 " CODE", id);
        else
                printf(" -> pairgatectl approve|deny %" PRIu64, id);
        printf("\n");
}

static int list_requests(Watch *wt) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        CtlDict *reqs = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_call_method(wt->bus, CONTROL_BUS_NAME, CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                               "ListRequests", &e, &reply, NULL);
        if (r < 0) {
                if (sd_bus_error_has_names(&e, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                           SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                        if (!wt->json) {
                                stamp();
                                printf("pairgated is not running; waiting for it\n");
                        }
                        return 0;
                }
                _cleanup_free_ char *s = ctl_error_sentence(&e, r, NULL);
                ctl_print_error("%s", s ? s : "out of memory");
                return r;
        }
        r = ctl_dict_read_array(reply, &reqs, &n);
        if (r < 0) {
                ctl_print_error("cannot read pairgated's answer to ListRequests: %s", strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t id;
                show_request(wt, &reqs[i], "pending");
                if (ctl_dict_uint(&reqs[i], "Id", &id) && wt->n_listed < LISTED_MAX)
                        wt->listed[wt->n_listed++] = id;
        }
        ctl_dict_array_free(reqs, n);
        return 0;
}

static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *wt = userdata;
        _cleanup_(ctl_dict_clear) CtlDict req = { 0 };
        uint64_t id;

        if (ctl_dict_read(m, &req) < 0)
                return 0; /* a malformed signal is not ours to print */
        if (ctl_dict_uint(&req, "Id", &id))
                for (size_t i = 0; i < wt->n_listed; i++)
                        if (wt->listed[i] == id)
                                return 0;
        show_request(wt, &req, "waiting");
        return 0;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *wt = userdata;
        _cleanup_(ctl_dict_clear) CtlDict req = { 0 };

        if (ctl_dict_read(m, &req) < 0)
                return 0;
        show_request(wt, &req, "moved");
        return 0;
}

static int on_ended(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *wt = userdata;
        const char *result, *policy, *reason;
        uint64_t id;

        if (sd_bus_message_read(m, "tsss", &id, &result, &policy, &reason) < 0)
                return 0;
        if (wt->json) {
                JsonWriter w;
                json_head(&w, "ended");
                json_key(&w, "id");
                json_uint(&w, id);
                json_key(&w, "result");
                json_string(&w, result);
                json_key(&w, "policy");
                json_string(&w, policy);
                json_key(&w, "reason");
                json_string(&w, reason);
                json_tail(&w);
                return 0;
        }
        stamp();
        printf("%-8s%" PRIu64 " ", "ended", id);
        ctl_print_escaped(stdout, result);
        if (*policy) {
                printf(" by ");
                ctl_print_escaped(stdout, policy);
        }
        if (*reason) {
                printf(" (");
                ctl_print_escaped(stdout, reason);
                printf(")");
        }
        printf("\n");
        return 0;
}

static int on_window(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *wt = userdata;
        int open;
        uint64_t closes;
        char when[32];

        if (sd_bus_message_read(m, "bt", &open, &closes) < 0)
                return 0;
        if (wt->json) {
                JsonWriter w;
                json_head(&w, "window");
                json_key(&w, "open");
                json_bool(&w, open);
                if (closes > 0) {
                        json_key(&w, "closes_usec");
                        json_uint(&w, closes);
                }
                json_tail(&w);
                return 0;
        }
        stamp();
        printf("%-8s%s", "window", open ? "open" : "closed");
        if (open && closes > 0) {
                ctl_format_time(closes, when);
                printf(" until %s", when);
        }
        printf("\n");
        return 0;
}

static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Watch *wt = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || !streq(name, CONTROL_BUS_NAME))
                return 0;
        if (wt->json) {
                JsonWriter w;
                json_head(&w, *new ? "daemon-started" : "daemon-stopped");
                json_tail(&w);
        } else {
                stamp();
                printf("%-8s%s\n", "daemon", *new ? "pairgated started" : "pairgated stopped");
        }
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int add_match(Watch *wt, const char *member, sd_bus_message_handler_t cb) {
        return sd_bus_match_signal(wt->bus, NULL, CONTROL_BUS_NAME, CONTROL_OBJECT_PATH,
                                   CONTROL_INTERFACE, member, cb, wt);
}

int cmd_watch(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Watch wt = { 0 };
        const CtlOption opts[] = { { "--json", false, &wt.json, NULL }, { 0 } };
        size_t npos;
        sigset_t mask;
        int r;

        if (ctl_parse_options("watch", argc, argv, opts, NULL, 0, 0, &npos) < 0)
                return CTL_EXIT_USAGE;
        /* Each line reaches a pipe (ssh, a script) as it happens. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                ctl_print_error("cannot block SIGINT and SIGTERM: %s", strerror(errno));
                return CTL_EXIT_FAILURE;
        }
        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, on_signal, NULL);
        if (r < 0) {
                ctl_print_error("cannot set up the event loop: %s", strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        if (ctl_bus_open(&bus) < 0)
                return CTL_EXIT_FAILURE;
        wt.bus = bus;
        /* The matches first, then the list: no request can fall between the two. */
        r = add_match(&wt, "RequestStarted", on_started);
        if (r >= 0)
                r = add_match(&wt, "RequestChanged", on_changed);
        if (r >= 0)
                r = add_match(&wt, "RequestEnded", on_ended);
        if (r >= 0)
                r = add_match(&wt, "WindowChanged", on_window);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',"
                                     "path='/org/freedesktop/DBus',"
                                     "interface='org.freedesktop.DBus',"
                                     "member='NameOwnerChanged',arg0='" CONTROL_BUS_NAME "'",
                                     on_owner, &wt);
        if (r < 0) {
                _cleanup_free_ char *s = ctl_error_sentence(NULL, r, NULL);
                ctl_print_error("cannot subscribe to pairgated's signals: %s",
                                s ? s : "out of memory");
                return CTL_EXIT_FAILURE;
        }
        if (list_requests(&wt) < 0)
                return CTL_EXIT_FAILURE;
        r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_set_exit_on_disconnect(bus, true);
        if (r >= 0)
                r = sd_event_loop(event);
        if (r != 0) {
                ctl_print_error("%s",
                                r > 0 ? "lost the connection to the system bus" : strerror(-r));
                return CTL_EXIT_FAILURE;
        }
        return CTL_EXIT_OK;
}
