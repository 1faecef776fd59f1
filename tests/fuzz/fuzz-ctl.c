/* SPDX-License-Identifier: MIT */
/* pairgatectl's input handling: its arguments (request ids, passkeys, PINs, addresses, window
 * seconds, options, --since times) and what the daemon sends it (a request's a{sv}, with
 * untrusted names, read by ctl-dict.c and printed as a line and as JSON), and its escaping.
 * Properties: each argument parser accepts exactly its documented language and returns the
 * value typed; addresses are parsed as the daemon parses them (bdaddr.c); options and
 * positionals come from argv as given; --since is deterministic and exact for "now" and
 * "@SECONDS"; escaped text is valid UTF-8 with no control or unsafe character and unescapes to
 * the input; JSON output is valid JSON; printed requests hold no control or unsafe character. */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bdaddr.h"
#include "ctl-args.h"
#include "ctl-dict.h"
#include "ctl-format.h"
#include "fuzz-bus.h"
#include "fuzz-check.h"
#include "fuzz-input.h"
#include "json-writer.h"
#include "macro.h"
#include "since.h"
#include "text-escape.h"

static FuzzBus *bus;

static bool all_digits(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!g_ascii_isdigit(*s))
                        return false;
        return true;
}

static void check_numbers(const char *s) {
        uint64_t id = 0;
        uint32_t u = 0;
        bool digits = all_digits(s);
        unsigned long long v = digits ? strtoull(s, NULL, 10) : 0;
        bool fits = digits && strlen(s) <= 20 &&
                    !(v == ULLONG_MAX && strcmp(s, "18446744073709551615"));
        int r;

        r = ctl_parse_request_id(s, &id);
        fuzz_assert((r >= 0) == (fits && v > 0), "request id \"%s\": %d", s, r);
        fuzz_assert(r < 0 || id == v, "request id \"%s\" read as %" G_GUINT64_FORMAT, s, id);

        r = ctl_parse_passkey(s, &u);
        fuzz_assert((r >= 0) == (digits && strlen(s) == 6), "passkey \"%s\": %d", s, r);
        fuzz_assert(r < 0 || (u == v && u <= 999999), "passkey \"%s\" read as %u", s, u);

        r = ctl_parse_window_seconds(s, &u);
        fuzz_assert(r < 0 || (digits && u == v && u >= 1 && u <= 86400), "seconds \"%s\": %u", s,
                    u);
        fuzz_assert(r >= 0 || !digits || strlen(s) > 6 || v == 0 || v > 86400,
                    "seconds \"%s\" refused", s);
}

static void check_pin_and_address(const char *s) {
        char a[18], b[BDADDR_STRLEN];
        bool printable = *s && strlen(s) <= 16;
        int r;

        for (const char *p = s; *p; p++)
                printable &= (unsigned char) *p > 0x20 && (unsigned char) *p < 0x7f;
        fuzz_assert((ctl_check_pin(s) >= 0) == printable, "PIN \"%s\"", s);

        r = ctl_parse_address(s, a);
        fuzz_assert((r >= 0) == bdaddr_normalize(s, b),
                    "pairgatectl and pairgated disagree on the address \"%s\"", s);
        fuzz_assert(r < 0 || streq(a, b), "address \"%s\": \"%s\" and \"%s\"", s, a, b);
}

static void check_options(FuzzInput *in) {
        char *argv[9] = { 0 };
        int argc = (int) fuzz_pick(in, 9);
        bool json = false, all = false;
        const char *since = NULL, *pos[3] = { 0 };
        const CtlOption opts[] = { { "--json", false, &json, NULL },
                                   { "--all", false, &all, NULL },
                                   { "--since", true, NULL, &since },
                                   {} };
        size_t max_pos = fuzz_pick(in, 4), min_pos = fuzz_pick(in, 2), n = 99;
        int r;

        for (int i = 0; i < argc; i++)
                argv[i] = fuzz_string(in);
        r = ctl_parse_options("fuzz", argc, argv, opts, pos, min_pos, max_pos, &n);
        if (r >= 0) {
                fuzz_assert(n >= min_pos && n <= max_pos, "%zu positionals", n);
                for (size_t k = 0; k < n; k++) {
                        bool from_argv = false;
                        for (int i = 0; i < argc; i++)
                                from_argv |= pos[k] == argv[i];
                        fuzz_assert(from_argv, "a positional not from argv");
                }
                if (since) {
                        bool inside = false;
                        for (int i = 0; i < argc; i++)
                                inside |= since >= argv[i] && since <= argv[i] + strlen(argv[i]);
                        fuzz_assert(inside, "--since value not from argv");
                }
                if (json || all) {
                        bool seen = false;
                        for (int i = 0; i < argc; i++)
                                seen |= streq(argv[i], json ? "--json" : "--all");
                        fuzz_assert(seen, "a flag set that was not given");
                }
        }
        for (int i = 0; i < argc; i++)
                g_free(argv[i]);
}

static void check_since(const char *s) {
        const uint64_t now = 1795766400ULL * 1000000ULL + 123456;
        uint64_t a = 0, b = 0;
        int r = since_parse(s, now, &a), r2 = since_parse(s, now, &b);

        fuzz_assert(r == r2 && (r < 0 || a == b), "--since \"%s\" is not deterministic", s);
        if (streq(s, "now"))
                fuzz_assert(r >= 0 && a == now, "--since now");
        if (s[0] == '@' && all_digits(s + 1) && strlen(s + 1) <= 12)
                fuzz_assert(r >= 0 && a == strtoull(s + 1, NULL, 10) * 1000000ULL, "--since \"%s\"",
                            s);
}

/* Characters that must not reach a terminal raw (text-escape.h's list, written out again). */
static bool unsafe(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad || cp == 0x061c ||
               (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
               (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
               (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe ||
               (cp >= 0xe0000 && cp <= 0xe007f);
}

/* No control or unsafe character (text_escape's contract), valid UTF-8. */
static void assert_terminal_safe(const char *s, size_t len, const char *what) {
        size_t i = 0;

        while (i < len) {
                uint32_t cp = 0;
                size_t n = text_utf8_decode(s + i, len - i, &cp);
                fuzz_assert(n > 0, "%s: invalid UTF-8 at %zu", what, i);
                fuzz_assert(!unsafe(cp), "%s: character U+%04X at %zu", what, cp, i);
                i += n;
        }
}

static void check_escape(const char *s, size_t len) {
        for (int utf8 = 0; utf8 <= 1; utf8++) {
                _cleanup_free_ char *e = text_escape(s, len, utf8);
                _cleanup_free_ char *back = NULL;
                size_t n;

                fuzz_assert(e, "text_escape returned NULL");
                assert_terminal_safe(e, strlen(e), "escaped text");
                if (!utf8)
                        for (const char *p = e; *p; p++)
                                fuzz_assert(*p >= 0x20 && *p < 0x7f, "ASCII mode kept 0x%02x",
                                            (unsigned char) *p);
                back = g_malloc(strlen(e) + 1);
                n = text_unescape_hex(back, e, strlen(e));
                fuzz_assert(n == len && (len == 0 || memcmp(back, s, len) == 0),
                            "escaping is not undone by text_unescape_hex");
        }
        {
                char *out = NULL;
                size_t olen = 0;
                FILE *f = open_memstream(&out, &olen);
                fuzz_assert(f, "open_memstream");
                fputc('"', f);
                json_write_escaped(f, s, len);
                fputc('"', f);
                fclose(f);
                fuzz_assert(fuzz_json_is_valid(out, olen), "JSON string invalid: %s", out);
                assert_terminal_safe(out, olen, "JSON string");
                free(out);
        }
}

/* A request dictionary as ListRequests sends it, with arbitrary values. */
static sd_bus_message *request_dict(FuzzInput *in) {
        static const char *const keys[] = { "Id",
                                            "Method",
                                            "Address",
                                            "AddressType",
                                            "Name",
                                            "Passkey",
                                            "Uuid",
                                            "Model",
                                            "HeldBy",
                                            "Device",
                                            "ArrivedRealtime",
                                            "TimeoutRealtime",
                                            "Needs",
                                            "Adapter" };
        sd_bus_message *m = NULL;
        size_t n = fuzz_pick(in, 16);
        int r;

        fuzz_assert(sd_bus_message_new_method_call(bus->peer, &m, NULL, "/", "a.b", "C") >= 0,
                    "message");
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *key = keys[fuzz_pick(in, ELEMENTSOF(keys))];
                _cleanup_free_ char *raw = fuzz_string(in), *text = fuzz_bus_text(raw);
                switch (fuzz_pick(in, 6)) {
                case 0:
                        r = sd_bus_message_append(m, "{sv}", key, "s", text);
                        break;
                case 1:
                        r = sd_bus_message_append(m, "{sv}", key, "t",
                                                  (uint64_t) fuzz_u32(in) << fuzz_pick(in, 33));
                        break;
                case 2:
                        r = sd_bus_message_append(m, "{sv}", key, "u", fuzz_u32(in));
                        break;
                case 3:
                        r = sd_bus_message_append(m, "{sv}", key, "b", (int) fuzz_bool(in));
                        break;
                case 4:
                        r = sd_bus_message_append(m, "{sv}", key, "as", 2, text, "x");
                        break;
                default:
                        r = sd_bus_message_append(m, "{sv}", key, "d", 1.5);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_seal(m, 1, 0);
        if (r >= 0)
                r = sd_bus_message_rewind(m, true);
        fuzz_assert(r >= 0, "building the dictionary: %d", r);
        return m;
}

static void check_request(FuzzInput *in) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = request_dict(in);
        uint64_t now = (uint64_t) fuzz_u32(in) << fuzz_pick(in, 33);
        CtlDict d = { 0 };
        char *out = NULL;
        size_t len = 0;
        FILE *f;
        JsonWriter w;

        fuzz_assert(ctl_dict_read(m, &d) >= 0, "a valid a{sv} refused");
        f = open_memstream(&out, &len);
        ctl_print_request(f, &d, now);
        fclose(f);
        assert_terminal_safe(out, len, "printed request");
        free(out);

        f = open_memstream(&out, &len);
        json_init(&w, f, fuzz_bool(in));
        ctl_json_request(&w, &d, now);
        json_finish(&w);
        fclose(f);
        fuzz_assert(fuzz_json_is_valid(out, len), "request JSON invalid: %s", out);
        free(out);
        ctl_dict_clear(&d);
}

static void check_times(FuzzInput *in) {
        uint64_t t = (uint64_t) fuzz_u32(in) << fuzz_pick(in, 33);
        char a[32], b[40], c[32];

        ctl_format_time(t, a);
        ctl_format_time_iso(t, b);
        ctl_format_span(t, c);
        fuzz_assert(memchr(a, 0, sizeof a) && memchr(b, 0, sizeof b) && memchr(c, 0, sizeof c),
                    "a time not terminated");
        assert_terminal_safe(a, strlen(a), "time");
        assert_terminal_safe(b, strlen(b), "ISO time");
        assert_terminal_safe(c, strlen(c), "span");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        (void) setlocale(LC_ALL, "C.UTF-8");
        setenv("TZ", "Europe/Berlin", 1);
        ctl_format_init();
        fuzz_bus_new(&bus, NULL, NULL, NULL);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = FUZZ_INPUT(data, size);
        _cleanup_free_ char *s = fuzz_string(&in);
        size_t raw_len = fuzz_u8(&in);
        _cleanup_free_ uint8_t *raw = NULL;

        check_numbers(s);
        check_pin_and_address(s);
        check_since(s);
        raw_len = MIN(raw_len, in.size);
        raw = g_memdup2(in.data, raw_len); /* may hold NUL */
        in.data += raw_len;
        in.size -= raw_len;
        check_escape(raw ? (const char *) raw : "", raw_len);
        check_escape(s, strlen(s));
        check_options(&in);
        check_request(&in);
        check_times(&in);
        return 0;
}
