/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-dict.h"
#include "ctl-dict.h"
#include "macro.h"

static void value_clear(CtlValue *v) {
        free(v->key);
        if (v->type == 's')
                free(v->str);
        else if (v->type == 'a') {
                for (char **p = v->strv; p && *p; p++)
                        free(*p);
                free(v->strv);
        }
}

void ctl_dict_clear(CtlDict *d) {
        for (size_t i = 0; i < d->n; i++)
                value_clear(&d->values[i]);
        free(d->values);
        *d = (CtlDict){ 0 };
}

void ctl_dict_array_free(CtlDict *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                ctl_dict_clear(&a[i]);
        free(a);
}

static int read_strv(sd_bus_message *m, char ***ret) {
        char **v = NULL;
        size_t n = 0;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        while ((r = sd_bus_message_read(m, "s", &s)) > 0) {
                char **nv = realloc(v, (n + 2) * sizeof(char *));
                if (!nv) {
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[n] = strdup(s);
                v[n + 1] = NULL;
                if (!v[n]) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                for (char **p = v; *p; p++)
                        free(*p);
                free(v);
                return r;
        }
        *ret = v;
        return 0;
}

static int read_entry(sd_bus_message *m, const char *key, void *userdata) {
        CtlDict *d = userdata;
        CtlValue v = { 0 }, *nv;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (!contents || strlen(contents) > 2)
                return 0;
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        v.sig = contents[0];
        switch (contents[0]) {
        case 's':
        case 'o':
        case 'g': {
                const char *s;
                r = sd_bus_message_read_basic(m, contents[0], &s);
                if (r >= 0) {
                        v.type = 's';
                        v.str = strdup(s);
                        if (!v.str)
                                r = -ENOMEM;
                }
                break;
        }
        case 't': {
                uint64_t t;
                r = sd_bus_message_read_basic(m, 't', &t);
                v.type = 't';
                v.u = t;
                break;
        }
        case 'u': {
                uint32_t u;
                r = sd_bus_message_read_basic(m, 'u', &u);
                v.type = 't';
                v.u = u;
                break;
        }
        case 'q': {
                uint16_t q;
                r = sd_bus_message_read_basic(m, 'q', &q);
                v.type = 't';
                v.u = q;
                break;
        }
        case 'y': {
                uint8_t y;
                r = sd_bus_message_read_basic(m, 'y', &y);
                v.type = 't';
                v.u = y;
                break;
        }
        case 'b': {
                int b;
                r = sd_bus_message_read_basic(m, 'b', &b);
                v.type = 'b';
                v.b = b;
                break;
        }
        case 'a':
                if (streq(contents, "as")) {
                        r = read_strv(m, &v.strv);
                        v.type = 'a';
                        break;
                }
                r = sd_bus_message_skip(m, contents);
                break;
        default:
                r = sd_bus_message_skip(m, contents);
                break;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0 || v.type == 0) { /* an error, or a type this table does not keep */
                value_clear(&v);
                return r < 0 ? r : 1;
        }
        nv = realloc(d->values, (d->n + 1) * sizeof(CtlValue));
        if (nv)
                d->values = nv;
        v.key = strdup(key);
        if (!nv || !v.key) {
                value_clear(&v);
                return -ENOMEM;
        }
        d->values[d->n++] = v;
        return 1;
}

int ctl_dict_read(sd_bus_message *m, CtlDict *ret) {
        CtlDict d = { 0 };
        int r = bus_dict_walk(m, read_entry, &d);

        if (r < 0) {
                ctl_dict_clear(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int ctl_dict_read_array(sd_bus_message *m, CtlDict **ret, size_t *ret_n) {
        CtlDict *a = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "a{sv}");
        if (r < 0)
                return r;
        for (;;) {
                CtlDict d;
                CtlDict *na;

                r = sd_bus_message_at_end(m, false);
                if (r != 0)
                        break;
                r = ctl_dict_read(m, &d);
                if (r < 0)
                        break;
                na = realloc(a, (n + 1) * sizeof(CtlDict));
                if (!na) {
                        ctl_dict_clear(&d);
                        r = -ENOMEM;
                        break;
                }
                a = na;
                a[n++] = d;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                ctl_dict_array_free(a, n);
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

const CtlValue *ctl_dict_find(const CtlDict *d, const char *key) {
        for (size_t i = 0; i < d->n; i++)
                if (streq(d->values[i].key, key))
                        return &d->values[i];
        return NULL;
}

const char *ctl_dict_str(const CtlDict *d, const char *key) {
        const CtlValue *v = ctl_dict_find(d, key);

        return v && v->type == 's' ? v->str : NULL;
}

bool ctl_dict_uint(const CtlDict *d, const char *key, uint64_t *ret) {
        const CtlValue *v = ctl_dict_find(d, key);

        if (!v || v->type != 't')
                return false;
        *ret = v->u;
        return true;
}

bool ctl_dict_bool(const CtlDict *d, const char *key, bool def) {
        const CtlValue *v = ctl_dict_find(d, key);

        return v && v->type == 'b' ? v->b : def;
}

char **ctl_dict_strv(const CtlDict *d, const char *key) {
        const CtlValue *v = ctl_dict_find(d, key);

        return v && v->type == 'a' ? v->strv : NULL;
}
