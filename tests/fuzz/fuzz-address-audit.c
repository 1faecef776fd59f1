/* SPDX-License-Identifier: MIT */
/* Address and object path parsing (bdaddr.c) and the audit escaping (audit.c) with arbitrary
 * bytes. Properties: a parsed address is canonical and is the input's own; an adapter path is a
 * proper prefix of the device path, within its buffer; an escaped string is printable ASCII,
 * within 4 * bound + 3 bytes, and unescapes to exactly the input's first bytes; a whole audit
 * record (stderr line and journal MESSAGE) with an arbitrary name holds no control byte. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "audit.h"
#include "bdaddr.h"
#include "fuzz-check.h"
#include "fuzz-input.h"
#include "macro.h"

static void assert_canonical(const char a[BDADDR_STRLEN], const char *src, char sep) {
        fuzz_assert(strlen(a) == 17, "address of length %zu", strlen(a));
        for (int i = 0; i < 17; i++) {
                if (i % 3 == 2) {
                        fuzz_assert(a[i] == ':', "separator '%c' at %d", a[i], i);
                        fuzz_assert(src[i] == sep, "accepted separator '%c'", src[i]);
                } else {
                        fuzz_assert(isxdigit((unsigned char) a[i]) &&
                                            !islower((unsigned char) a[i]),
                                    "non-canonical digit '%c'", a[i]);
                        fuzz_assert(a[i] == toupper((unsigned char) src[i]), "digit changed");
                }
        }
}

static void check_address(const char *s) {
        char a[BDADDR_STRLEN], again[BDADDR_STRLEN];

        if (!bdaddr_normalize(s, a))
                return;
        fuzz_assert(strlen(s) == 17, "accepted an address of %zu bytes", strlen(s));
        assert_canonical(a, s, ':');
        fuzz_assert(bdaddr_normalize(a, again) && streq(a, again), "normalizing is not idempotent");
}

static void check_path(const char *path, size_t size) {
        char a[BDADDR_STRLEN], n[BDADDR_STRLEN];
        _cleanup_free_ char *adapter = g_malloc(size);

        if (bdaddr_from_device_path(path, a)) {
                const char *base = strrchr(path, '/');
                fuzz_assert(base && g_str_has_prefix(base, "/dev_") && strlen(base) == 22,
                            "address from a path without /dev_XX_..: %s", path);
                assert_canonical(a, base + 5, '_');
                fuzz_assert(bdaddr_normalize(a, n), "parsed address does not normalize");
        }
        if (adapter_from_device_path(path, adapter, size)) {
                size_t len = strlen(adapter);
                fuzz_assert(len > 0 && len < size, "adapter of %zu bytes in %zu", len, size);
                fuzz_assert(strncmp(adapter, path, len) == 0 &&
                                    g_str_has_prefix(path + len, "/dev_"),
                            "adapter is not the path's prefix before /dev_");
                fuzz_assert(!strchr(path + len + 1, '/'), "adapter cut before the last component");
        }
}

/* audit_escape's own inverse: \xNN back to the byte. */
static GString *unescape(const char *s) {
        GString *out = g_string_new(NULL);

        for (; *s; s++) {
                if (s[0] == '\\') {
                        fuzz_assert(s[1] == 'x' && g_ascii_isxdigit(s[2]) && g_ascii_isxdigit(s[3]),
                                    "a backslash that is not \\xNN");
                        g_string_append_c(out, (char) (g_ascii_xdigit_value(s[2]) * 16 +
                                                       g_ascii_xdigit_value(s[3])));
                        s += 3;
                } else
                        g_string_append_c(out, *s);
        }
        return out;
}

static void check_escape(const char *s, size_t max) {
        _cleanup_free_ char *e = audit_escape(s, max);
        size_t len = strlen(s), kept = MIN(len, max);
        bool cut = len > max;
        g_autoptr(GString) back = NULL;

        fuzz_assert(e, "audit_escape returned NULL");
        for (const char *p = e; *p; p++)
                fuzz_assert(*p >= 0x20 && *p < 0x7f, "escaped output holds byte 0x%02x",
                            (unsigned char) *p);
        fuzz_assert(strlen(e) <= 4 * kept + (cut ? 3 : 0), "escaped %zu bytes into %zu", kept,
                    strlen(e));
        fuzz_assert(!cut || g_str_has_suffix(e, "..."), "a cut string without \"...\"");
        e[strlen(e) - (cut ? 3 : 0)] = '\0';
        fuzz_assert(!strchr(e, '"'), "an unescaped quote");
        back = unescape(e);
        fuzz_assert(back->len == kept && memcmp(back->str, s, kept) == 0,
                    "escaping lost or changed bytes");
}

static const char *line_seen;
static size_t line_max;

static void on_record(const AuditRecord *r, const char *line, void *userdata) {
        fuzz_assert_clean(line, line_max, "audit line");
        line_seen = line;
}

static void check_record(FuzzInput *in, const char *name) {
        static const char *const sources[] = { "name", "alias", NULL };
        AuditRecord r = AUDIT_RECORD_INIT((AuditEvent) fuzz_pick(in, _AUDIT_EVENT_MAX));
        _cleanup_free_ char *uuid = fuzz_string(in), *device = fuzz_string(in);
        _cleanup_free_ char *message = NULL;

        r.name = name;
        r.name_source = sources[fuzz_pick(in, ELEMENTSOF(sources))];
        r.method = "RequestConfirmation";
        r.address = "AA:BB:CC:DD:EE:FF";
        r.reason = "fuzz";
        r.uuid = uuid;     /* from bluetoothd: arbitrary bytes, escaped in the line */
        r.device = device; /* likewise */
        r.has_passkey = fuzz_bool(in);
        r.passkey = fuzz_u32(in) % 1000000;
        r.request_id = fuzz_u32(in);
        /* Every value at most 4 times its length escaped, plus keys, quotes and spaces. */
        line_max = 512 + 4 * (strlen(uuid) + strlen(device)) + 4 * AUDIT_NAME_MAX + 3;
        line_seen = NULL;
        audit_set_sink(on_record, NULL);
        audit_emit(&r);
        audit_set_sink(NULL, NULL);
        fuzz_assert(line_seen, "audit_emit rendered no line");
        /* The journal's MESSAGE: the name escaped and bounded (the other fields are ours). */
        message = audit_record_message(&r);
        if (audit_event_decision(r.event))
                fuzz_assert_clean(message, 512 + 4 * AUDIT_NAME_MAX + 3 + strlen(device),
                                  "audit message");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_quiet();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzInput in = FUZZ_INPUT(data, size);
        size_t max = fuzz_u8(&in), adapter_size = 1 + fuzz_u8(&in);
        _cleanup_free_ char *s = fuzz_string(&in);
        _cleanup_free_ char *rest = NULL;

        check_address(s);
        check_path(s, adapter_size);
        check_escape(s, max);
        check_escape(s, AUDIT_NAME_MAX);
        check_record(&in, s);
        rest = fuzz_rest_string(&in);
        check_address(rest);
        check_path(rest, adapter_size);
        check_escape(rest, SIZE_MAX);
        return 0;
}
