/* SPDX-License-Identifier: MIT */
/* pairgatectl's pure logic: argument checks (ids, passkeys, PINs, addresses, window seconds,
 * options), --since times, JSON string escaping, terminal escaping, and the error sentences. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control-names.h"
#include "ctl-args.h"
#include "ctl-bus.h"
#include "json-writer.h"
#include "macro.h"
#include "since.h"
#include "text-escape.h"

static void test_request_id(void) {
        static const char *const bad[] = {
                "", "0", "-1", "+1", " 1", "1 ", "1.0", "0x10", "abc", "1e3", "18446744073709551616"
        };
        uint64_t id;

        g_assert_cmpint(ctl_parse_request_id("7", &id), ==, 0);
        g_assert_cmpuint(id, ==, 7);
        g_assert_cmpint(ctl_parse_request_id("007", &id), ==, 0);
        g_assert_cmpuint(id, ==, 7);
        g_assert_cmpint(ctl_parse_request_id("18446744073709551615", &id), ==, 0);
        g_assert_cmpuint(id, ==, UINT64_MAX);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                g_assert_cmpint(ctl_parse_request_id(bad[i], &id), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_request_id(NULL, &id), ==, -EINVAL);
}

static void test_passkey(void) {
        static const char *const bad[] = {
                "12345",  "1234567", "abcdef",  "1000000", "12 456", "-12345",       "+12345",
                "12345a", "",        " 123456", "123456 ", "0x1234", "１２３４５６", "99999.9"
        };
        uint32_t p = 1;

        g_assert_cmpint(ctl_parse_passkey("000000", &p), ==, 0);
        g_assert_cmpuint(p, ==, 0);
        g_assert_cmpint(ctl_parse_passkey("012345", &p), ==, 0);
        g_assert_cmpuint(p, ==, 12345);
        g_assert_cmpint(ctl_parse_passkey("999999", &p), ==, 0);
        g_assert_cmpuint(p, ==, 999999);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                p = 4242;
                g_assert_cmpint(ctl_parse_passkey(bad[i], &p), ==, -EINVAL);
                g_assert_cmpuint(p, ==, 4242); /* untouched */
        }
}

static void test_pin_address_seconds(void) {
        char a[18];
        uint32_t s;

        g_assert_cmpint(ctl_check_pin("0000"), ==, 0);
        g_assert_cmpint(ctl_check_pin("abcdefghijklmnop"), ==, 0);
        g_assert_cmpint(ctl_check_pin(""), ==, -EINVAL);
        g_assert_cmpint(ctl_check_pin("abcdefghijklmnopq"), ==, -EINVAL);
        g_assert_cmpint(ctl_check_pin("12 34"), ==, -EINVAL);
        g_assert_cmpint(ctl_check_pin("12\n4"), ==, -EINVAL);
        g_assert_cmpint(ctl_check_pin("p\xc3\xa9"), ==, -EINVAL);

        g_assert_cmpint(ctl_parse_address("aa:bb:cc:dd:ee:0f", a), ==, 0);
        g_assert_cmpstr(a, ==, "AA:BB:CC:DD:EE:0F");
        g_assert_cmpint(ctl_parse_address("AA:BB:CC:DD:EE", a), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_address("AA:BB:CC:DD:EE:FF:00", a), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_address("AA-BB-CC-DD-EE-FF", a), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_address("AA:BB:CC:DD:EE:FG", a), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_address("AAA:B:CC:DD:EE:FF", a), ==, -EINVAL);

        g_assert_cmpint(ctl_parse_window_seconds("1", &s), ==, 0);
        g_assert_cmpuint(s, ==, 1);
        g_assert_cmpint(ctl_parse_window_seconds("86400", &s), ==, 0);
        g_assert_cmpint(ctl_parse_window_seconds("86401", &s), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_window_seconds("0", &s), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_window_seconds("1m", &s), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_window_seconds("", &s), ==, -EINVAL);
}

static void test_options(void) {
        bool json = false;
        const char *since = NULL;
        const CtlOption opts[] = { { "--json", false, &json, NULL },
                                   { "--since", true, NULL, &since },
                                   { 0 } };
        const char *pos[2];
        size_t n;
        char *a1[] = { "--since", "1h", "x", "--json" };
        char *a2[] = { "--since=2026-11-27 10:00" };
        char *a3[] = { "--", "-12", "--json" };
        char *a4[] = { "--since" };
        char *a5[] = { "--jsno" };
        char *a6[] = { "a", "b", "c" };

        g_assert_cmpint(ctl_parse_options("t", 4, a1, opts, pos, 0, 2, &n), ==, 0);
        g_assert_true(json);
        g_assert_cmpstr(since, ==, "1h");
        g_assert_cmpuint(n, ==, 1);
        g_assert_cmpstr(pos[0], ==, "x");
        g_assert_cmpint(ctl_parse_options("t", 1, a2, opts, pos, 0, 2, &n), ==, 0);
        g_assert_cmpstr(since, ==, "2026-11-27 10:00");
        json = false;
        g_assert_cmpint(ctl_parse_options("t", 3, a3, opts, pos, 0, 2, &n), ==, 0);
        g_assert_false(json);
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpstr(pos[0], ==, "-12");
        g_assert_cmpstr(pos[1], ==, "--json");
        /* (these print their one-line error on stderr) */
        g_assert_cmpint(ctl_parse_options("t", 1, a4, opts, pos, 0, 2, &n), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_options("t", 1, a5, opts, pos, 0, 2, &n), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_options("t", 3, a6, opts, pos, 0, 2, &n), ==, -EINVAL);
        g_assert_cmpint(ctl_parse_options("t", 0, a6, opts, pos, 1, 2, &n), ==, -EINVAL);
}

#define SEC 1000000ULL

static void test_since(void) {
        /* 2026-11-27 12:34:56 UTC */
        const uint64_t now = 1795782896ULL * SEC;
        const uint64_t midnight = 1795737600ULL * SEC;
        uint64_t t;
        static const char *const bad[] = { "",
                                           "soon",
                                           "1",
                                           "1 fortnight",
                                           "2026-13-01",
                                           "2026-02-30",
                                           "2026-11-27 25:00",
                                           "2026-11-27 10",
                                           "10:61",
                                           "2026-11-27 10:00 extra",
                                           "h",
                                           "@",
                                           "@12x",
                                           "yesterday 10:00" };

        g_assert_cmpint(since_parse("now", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now);
        g_assert_cmpint(since_parse("today", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, midnight);
        g_assert_cmpint(since_parse("yesterday", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, midnight - 86400 * SEC);
        g_assert_cmpint(since_parse("2026-11-27 10:00", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, midnight + 10 * 3600 * SEC);
        g_assert_cmpint(since_parse("2026-11-27T10:00:30", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, midnight + (10 * 3600 + 30) * SEC);
        g_assert_cmpint(since_parse(" 2026-11-27 ", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, midnight);
        g_assert_cmpint(since_parse("10:00", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, midnight + 10 * 3600 * SEC);
        g_assert_cmpint(since_parse("1h", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 3600 * SEC);
        g_assert_cmpint(since_parse("-1h", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 3600 * SEC);
        g_assert_cmpint(since_parse("1h ago", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 3600 * SEC);
        g_assert_cmpint(since_parse("30min", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 1800 * SEC);
        g_assert_cmpint(since_parse("1h 30min", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 5400 * SEC);
        g_assert_cmpint(since_parse("2 days", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 2 * 86400 * SEC);
        g_assert_cmpint(since_parse("90s", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now - 90 * SEC);
        g_assert_cmpint(since_parse("+1w", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, now + 604800 * SEC);
        g_assert_cmpint(since_parse("@1795766400", now, &t), ==, 0);
        g_assert_cmpuint(t, ==, 1795766400ULL * SEC);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (since_parse(bad[i], now, &t) != -EINVAL)
                        g_error("since_parse accepted '%s'", bad[i]);
        }
}

/* Writes with a fresh writer into a string. */
static char *json_of(void (*fn)(JsonWriter *w, const void *arg), const void *arg) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        JsonWriter w;

        g_assert_nonnull(f);
        json_init(&w, f, false);
        fn(&w, arg);
        fclose(f);
        return buf;
}

static void write_string(JsonWriter *w, const void *arg) {
        json_string(w, arg);
}

static void write_doc(JsonWriter *w, const void *arg) {
        json_begin_array(w);
        json_begin_object(w);
        json_key(w, "id");
        json_uint(w, 7);
        json_key(w, "name");
        json_string(w, NULL);
        json_key(w, "ok");
        json_bool(w, true);
        json_key(w, "list");
        json_begin_array(w);
        json_end_array(w);
        json_key(w, "n");
        json_int(w, -3);
        json_end_object(w);
        json_begin_object(w);
        json_end_object(w);
        json_end_array(w);
        json_finish(w);
}

static void test_json(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain", "\"plain\"" },
                { "q\"b\\s/", "\"q\\\"b\\\\s/\"" },
                { "a\nb\tc\rd", "\"a\\nb\\tc\\rd\"" },
                { "\x01\x1b[31m\x7f", "\"\\u0001\\u001b[31m\\u007f\"" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5",
                  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xb5\"" },
                /* invalid UTF-8: a lone continuation, a truncated sequence, an overlong '/',
                 * a surrogate: each bad byte one U+FFFD */
                { "a\x80z", "\"a\\ufffdz\"" },
                { "\xe2\x82", "\"\\ufffd\\ufffd\"" },
                { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
                { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
                { "\xff", "\"\\ufffd\"" },
                /* C1 controls and the JavaScript line terminators */
                { "\xc2\x9b"
                  "1m",
                  "\"\\u009b1m\"" },
                { "x\xe2\x80\xa8y", "\"x\\u2028y\"" },
                /* bidirectional override, zero-width space, a tag (a surrogate pair) */
                { "\xe2\x80\xae"
                  "a\xe2\x80\x8b",
                  "\"\\u202ea\\u200b\"" },
                { "\xf3\xa0\x80\x81", "\"\\udb40\\udc01\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = json_of(write_string, cases[i].in);
                g_assert_cmpstr(s, ==, cases[i].out);
        }
        {
                _cleanup_free_ char *s = json_of(write_string, NULL);
                g_assert_cmpstr(s, ==, "null");
        }
        {
                _cleanup_free_ char *s = json_of(write_doc, NULL);
                g_assert_cmpstr(s, ==,
                                "[{\"id\":7,\"name\":null,\"ok\":true,\"list\":[],\"n\":-3},{}]\n");
        }
}

static void test_text_escape(void) {
        static const struct {
                const char *in;
                const char *ascii, *utf8;
        } cases[] = {
                { "Owner phone", "Owner phone", "Owner phone" },
                { "a\"b\\c", "a\\x22b\\x5cc", "a\\x22b\\x5cc" },
                { "\x1b[2J\x07\n\r\x7f", "\\x1b[2J\\x07\\x0a\\x0d\\x7f",
                  "\\x1b[2J\\x07\\x0a\\x0d\\x7f" },
                { "J\xc3\xbcrgen", "J\\xc3\\xbcrgen", "J\xc3\xbcrgen" },
                /* C1 CSI, right-to-left override, zero-width space, BOM */
                { "\xc2\x9b"
                  "1m",
                  "\\xc2\\x9b1m", "\\xc2\\x9b1m" },
                { "\xe2\x80\xae"
                  "x",
                  "\\xe2\\x80\\xaex", "\\xe2\\x80\\xaex" },
                { "\xe2\x80\x8b\xef\xbb\xbf", "\\xe2\\x80\\x8b\\xef\\xbb\\xbf",
                  "\\xe2\\x80\\x8b\\xef\\xbb\\xbf" },
                /* invalid UTF-8 */
                { "\xff\xc3", "\\xff\\xc3", "\\xff\\xc3" },
                { "\xf0\x9f\x8e\xb5", "\\xf0\\x9f\\x8e\\xb5", "\xf0\x9f\x8e\xb5" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *a = text_escape(cases[i].in, SIZE_MAX, false);
                _cleanup_free_ char *u = text_escape(cases[i].in, SIZE_MAX, true);
                g_assert_cmpstr(a, ==, cases[i].ascii);
                g_assert_cmpstr(u, ==, cases[i].utf8);
        }
        {
                /* embedded NUL with an explicit length */
                _cleanup_free_ char *a = text_escape("a\0b", 3, true);
                g_assert_cmpstr(a, ==, "a\\x00b");
        }
        {
                static const char in[] = "Evil\\x1b[2J\\x00\\x5c\\x22 \\xZZ\\x4";
                static const char out[] = "Evil\x1b[2J\0\\\" \\xZZ\\x4";
                char raw[sizeof in];
                size_t n = text_unescape_hex(raw, in, strlen(in));
                g_assert_cmpmem(raw, n, out, sizeof out - 1);
                g_assert_cmpint(raw[n], ==, '\0');
        }
}

static void test_error_sentences(void) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        CtlContext req = { .request_id = 7 }, dev = { .address = "AA:BB:CC:DD:EE:FF" };
        char *s;

        sd_bus_error_set(&e, CONTROL_ERROR_NOT_FOUND, "no such request");
        s = ctl_error_sentence(&e, -ENOENT, &req);
        g_assert_cmpstr(s, ==, "no pending request 7 (it ended or never existed)");
        free(s);
        s = ctl_error_sentence(&e, -ENOENT, &dev);
        g_assert_cmpstr(s, ==, "no device AA:BB:CC:DD:EE:FF known to pairgate or BlueZ");
        free(s);
        sd_bus_error_free(&e);

        sd_bus_error_set(&e, CONTROL_ERROR_ACCESS_DENIED, "uid 65534 is not an admin");
        s = ctl_error_sentence(&e, -EACCES, &req);
        g_assert_cmpstr(s, ==, "permission denied: run as root or as a member of pairgate-admin");
        free(s);
        sd_bus_error_free(&e);
        /* the bus policy's own refusal reads the same */
        sd_bus_error_set(&e, SD_BUS_ERROR_ACCESS_DENIED, "Rejected send message");
        s = ctl_error_sentence(&e, -EACCES, NULL);
        g_assert_cmpstr(s, ==, "permission denied: run as root or as a member of pairgate-admin");
        free(s);
        sd_bus_error_free(&e);

        sd_bus_error_set(&e, SD_BUS_ERROR_SERVICE_UNKNOWN, "The name is not activatable");
        s = ctl_error_sentence(&e, -EHOSTDOWN, NULL);
        g_assert_cmpstr(s, ==,
                        "pairgated is not running (nothing owns org.pairgate on the "
                        "system bus)");
        free(s);
        sd_bus_error_free(&e);

        sd_bus_error_set(&e, CONTROL_ERROR_NOT_APPLICABLE, "request 7 needs a passkey");
        s = ctl_error_sentence(&e, -EINVAL, &req);
        g_assert_cmpstr(s, ==, "not applicable: request 7 needs a passkey");
        free(s);
        sd_bus_error_free(&e);

        s = ctl_error_sentence(NULL, -ETIMEDOUT, NULL);
        g_assert_cmpstr(s, ==, "pairgated did not answer in time");
        free(s);
}

int main(int argc, char *argv[]) {
        /* --since is local time: make it UTC here. */
        setenv("TZ", "UTC", 1);
        tzset();
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/pairgatectl/request-id", test_request_id);
        g_test_add_func("/pairgatectl/passkey", test_passkey);
        g_test_add_func("/pairgatectl/pin-address-seconds", test_pin_address_seconds);
        g_test_add_func("/pairgatectl/options", test_options);
        g_test_add_func("/pairgatectl/since", test_since);
        g_test_add_func("/pairgatectl/json", test_json);
        g_test_add_func("/pairgatectl/text-escape", test_text_escape);
        g_test_add_func("/pairgatectl/error-sentences", test_error_sentences);
        return g_test_run();
}
