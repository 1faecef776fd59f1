/* SPDX-License-Identifier: MIT */
/* Audit records: fields, escaping and bounding of hostile names, no PIN ever written; and the
 * request lifecycle's one record per request on every path (decision, timeout, cancel, free). */
#include <glib.h>
#include <systemd/sd-event.h>

#include "audit.h"
#include "macro.h"
#include "request.h"

static GPtrArray *lines, *messages;

static void sink(const AuditRecord *r, const char *line, void *userdata) {
        g_ptr_array_add(lines, g_strdup(line));
        g_ptr_array_add(messages, audit_record_message(r));
}

static void reset(void) {
        g_ptr_array_set_size(lines, 0);
        g_ptr_array_set_size(messages, 0);
}

static void test_escape(void) {
        _cleanup_free_ char *a = audit_escape("plain name", 64);
        _cleanup_free_ char *b = audit_escape("a\nb\"c\\d\x01\xc3\xa9", 64);
        _cleanup_free_ char *c = audit_escape("0123456789", 4);
        _cleanup_free_ char *d = audit_escape(NULL, 4);

        g_assert_cmpstr(a, ==, "plain name");
        g_assert_cmpstr(b, ==, "a\\x0ab\\x22c\\x5cd\\x01\\xc3\\xa9");
        g_assert_cmpstr(c, ==, "0123...");
        g_assert_cmpstr(d, ==, "");
}

static void test_record_fields(void) {
        AuditRecord r = AUDIT_RECORD_INIT(AUDIT_DECISION_DENY);
        char name[249];
        const char *line;

        memset(name, 'N', 248);
        name[0] = '$';
        name[1] = '(';
        name[2] = '\n';
        name[248] = '\0';
        r.request_id = 42;
        r.method = "RequestAuthorization";
        r.device = "/org/bluez/hci0/dev_11_22_33_44_55_66";
        r.address = "11:22:33:44:55:66";
        r.name = name;
        r.model = "just-works";
        r.reason = "no policy decided";
        r.latency_ms = 3;
        reset();
        audit_emit(&r);
        g_assert_cmpuint(lines->len, ==, 1);
        line = lines->pdata[0];
        g_assert_null(strchr(line, '\n'));
        g_assert_true(g_str_has_prefix(line,
                                       "audit event=deny request=42 method=RequestAuthorization "
                                       "device=/org/bluez/hci0/dev_11_22_33_44_55_66 "
                                       "address=11:22:33:44:55:66 name=\"$(\\x0aNNN"));
        /* 64 raw bytes of name, then "...": 3 escaped + 61 N. */
        {
                _cleanup_free_ char *ns = g_strnfill(61, 'N');
                _cleanup_free_ char *expect = g_strdup_printf("name=\"$(\\x0a%s...\"", ns);
                g_assert_nonnull(strstr(line, expect));
        }
        g_assert_nonnull(strstr(line, " decision=deny reason=\"no policy decided\" latency_ms=3"));
        g_assert_cmpint(audit_event_priority(AUDIT_DECISION_DENY), ==, LOG_NOTICE);
        g_assert_cmpint(audit_event_priority(AUDIT_FOREIGN_CALLER), ==, LOG_WARNING);
        for (int e = 0; e < _AUDIT_EVENT_MAX; e++) {
                g_assert_nonnull(audit_event_to_string(e));
                g_assert_cmpuint(strlen(audit_event_message_id(e)), ==, 32);
                for (int f = 0; f < e; f++)
                        g_assert_cmpstr(audit_event_message_id(e), !=, audit_event_message_id(f));
        }
}

/* Request lifecycle without a bus: messages are NULL, so only the records are observed. */
typedef struct Ctx {
        sd_event *event;
        int n_finished;
        Request *req;
} Ctx;

static void on_finished(Request *r, void *userdata) {
        Ctx *c = userdata;
        c->n_finished++;
        c->req = NULL;
        request_free(r);
}

static void never_reply(sd_bus_message *m, const RequestOutcome *o) {
        g_assert_not_reached(); /* no message held in these tests */
}

static Request *start(Ctx *c, PolicySet *set, const char *const *route, AgentMethod m,
                      uint64_t timeout_usec, const char *pin) {
        PairingQuery q = { .method = m,
                           .device = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF",
                           .address = "AA:BB:CC:DD:EE:FF",
                           .pincode = pin,
                           .model = "legacy-pin" };
        RequestParams p = { .id = 1,
                            .event = c->event,
                            .query = &q,
                            .policies = set,
                            .route = route,
                            .timeout_usec = timeout_usec,
                            .reply = never_reply,
                            .finished = on_finished,
                            .userdata = c };
        Request *r = NULL;

        g_assert_cmpint(request_new(&r, &p), ==, 0);
        c->req = r;
        request_start(r);
        return r;
}

static int quit(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* Run a fresh loop for usec (an sd_event cannot run again once it exited). */
static void run_loop(Ctx *c, uint64_t usec) {
        g_assert_cmpint(
                sd_event_add_time_relative(c->event, NULL, CLOCK_MONOTONIC, usec, 0, quit, NULL),
                >=, 0);
        g_assert_cmpint(sd_event_loop(c->event), ==, 0);
}

static void new_loop(Ctx *c) {
        c->event = sd_event_unref(c->event);
        g_assert_cmpint(sd_event_new(&c->event), >=, 0);
}

static void test_request_paths(void) {
        const char *const route[] = { "hold", NULL };
        Ctx c = { 0 };
        PolicySet *set = policy_set_new_empty();
        const char *line;

        g_assert_cmpint(sd_event_new(&c.event), >=, 0);

        /* No route: decided at once, one deny record, PIN never written. */
        reset();
        start(&c, set, NULL, AGENT_METHOD_DISPLAY_PIN_CODE, 1000000, "987612");
        g_assert_cmpint(c.n_finished, ==, 1);
        g_assert_cmpuint(lines->len, ==, 1);
        line = lines->pdata[0];
        g_assert_true(g_str_has_prefix(line, "audit event=deny request=1 method=DisplayPinCode"));
        g_assert_null(strstr(line, "987612"));
        /* ... which bluetoothd ignores: the pairing goes on, and the record says so. */
        g_assert_nonnull(strstr(line, " decision=deny effect=ignored-by-bluetoothd "));
        g_assert_nonnull(strstr(messages->pdata[0], "DisplayPinCode from AA:BB:CC:DD:EE:FF: deny"));
        g_assert_nonnull(strstr(messages->pdata[0], "bluetoothd ignores the refusal and the "
                                                    "pairing goes on"));

        /* Held by an unknown policy name -> error (fail closed), one record. */
        reset();
        start(&c, set, route, AGENT_METHOD_REQUEST_CONFIRMATION, 1000000, NULL);
        g_assert_cmpint(c.n_finished, ==, 2);
        g_assert_cmpuint(lines->len, ==, 1);
        g_assert_nonnull(strstr(lines->pdata[0], "event=error"));
        g_assert_null(strstr(lines->pdata[0], "effect="));

        /* Empty route: undecided -> deny. Then timeout with a policy that never answers is covered
         * by the bus tests; here: free of a pending request answers and audits it once. */
        {
                const char *const empty[] = { NULL };
                reset();
                start(&c, set, empty, AGENT_METHOD_REQUEST_AUTHORIZATION, 1000000, NULL);
                g_assert_cmpint(c.n_finished, ==, 3);
                g_assert_nonnull(strstr(lines->pdata[0], "event=deny"));
        }
        policy_set_unref(set);
        sd_event_unref(c.event);
}

/* A scripted policy that never answers: timeout, cancel and free paths. */
struct PolicyCall {
        int dummy;
};
static int hold_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                       PolicyResult *ret, PolicyCall **ret_call) {
        (*(int *) p->data)++;
        *ret_call = g_new0(PolicyCall, 1);
        return 0;
}
static void hold_cancel(PolicyCall *call) {
        g_free(call);
}
static const PolicyOps hold_ops = { .name = "hold", .decide = hold_decide, .cancel = hold_cancel };

static void test_request_timeout_cancel_free(void) {
        const char *const route[] = { "hold", NULL };
        PolicySet *set = policy_set_new_empty();
        Policy *p = g_new0(Policy, 1);
        Ctx c = { 0 };
        Request *r;

        p->ops = &hold_ops;
        p->data = g_new0(int, 1);
        policy_set_put(set, p);
        g_assert_cmpint(sd_event_new(&c.event), >=, 0);

        /* Timeout: one record, decision timeout, after the timeout and not before. */
        reset();
        start(&c, set, route, AGENT_METHOD_REQUEST_CONFIRMATION, 50000, NULL);
        g_assert_cmpint(c.n_finished, ==, 0);
        g_assert_cmpuint(lines->len, ==, 0);
        run_loop(&c, 600000); /* timer accuracy is up to 250 ms by default */
        g_assert_cmpint(c.n_finished, ==, 1);
        g_assert_cmpuint(lines->len, ==, 1);
        g_assert_nonnull(strstr(lines->pdata[0], "event=timeout"));

        /* Cancel: one record, canceled; the timer no longer fires. */
        reset();
        new_loop(&c);
        r = start(&c, set, route, AGENT_METHOD_REQUEST_AUTHORIZATION, 50000, NULL);
        request_cancel(r, "canceled by bluetoothd");
        g_assert_cmpint(c.n_finished, ==, 2);
        run_loop(&c, 600000);
        g_assert_cmpuint(lines->len, ==, 1);
        g_assert_nonnull(strstr(lines->pdata[0], "event=canceled"));
        g_assert_nonnull(strstr(lines->pdata[0], "reason=\"canceled by bluetoothd\""));

        /* Safety net: freeing a pending request writes its one record. */
        reset();
        new_loop(&c);
        r = start(&c, set, route, AGENT_METHOD_AUTHORIZE_SERVICE, 50000, NULL);
        request_free(r);
        g_assert_cmpuint(lines->len, ==, 1);
        g_assert_nonnull(strstr(lines->pdata[0], "event=canceled"));
        g_assert_cmpint(*(int *) p->data, ==, 3);

        policy_set_unref(set);
        sd_event_unref(c.event);
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);
        lines = g_ptr_array_new_with_free_func(g_free);
        messages = g_ptr_array_new_with_free_func(g_free);
        audit_set_backend(AUDIT_BACKEND_STDERR);
        audit_set_sink(sink, NULL);
        g_test_add_func("/audit/escape", test_escape);
        g_test_add_func("/audit/record-fields", test_record_fields);
        g_test_add_func("/audit/request-paths", test_request_paths);
        g_test_add_func("/audit/request-timeout-cancel-free", test_request_timeout_cancel_free);
        r = g_test_run();
        g_ptr_array_unref(lines);
        g_ptr_array_unref(messages);
        return r;
}
