/* SPDX-License-Identifier: MIT */
/* doctor's facts from the system bus: who bluetoothd is, its adapters and devices, and what
 * pairgated says about itself (GetStatus). Blocking calls with a short timeout: this is a
 * one-shot client, not the daemon. */
#include <errno.h>
#include <string.h>

#include "bus-dict.h"
#include "control-names.h"
#include "doctor-gather.h"
#include "macro.h"
#include "text-escape.h"

#define DOCTOR_CALL_TIMEOUT_USEC (UINT64_C(5) * 1000 * 1000)

static int read_string(sd_bus_message *m, char **ret) {
        const char *s;
        int r = sd_bus_message_read(m, "v", "s", &s);

        if (r < 0)
                return r;
        g_free(*ret);
        *ret = g_strdup(s);
        return 1;
}

static int read_bool(sd_bus_message *m, bool *ret) {
        int b, r = sd_bus_message_read(m, "v", "b", &b);

        if (r >= 0)
                *ret = b;
        return r < 0 ? r : 1;
}

static int read_u32(sd_bus_message *m, uint32_t *ret) {
        int r = sd_bus_message_read(m, "v", "u", ret);

        return r < 0 ? r : 1;
}

static int adapter_prop(sd_bus_message *m, const char *key, void *userdata) {
        AdapterFacts *a = userdata;

        if (streq(key, "Address"))
                return read_string(m, &a->address);
        if (streq(key, "Alias")) {
                g_autofree char *raw = NULL;
                int r = read_string(m, &raw);

                if (r > 0) {
                        g_free(a->alias);
                        a->alias = text_escape(raw, SIZE_MAX, false);
                }
                return r;
        }
        if (streq(key, "Class"))
                return read_u32(m, &a->klass);
        if (streq(key, "Powered"))
                return read_bool(m, &a->powered);
        if (streq(key, "Pairable"))
                return read_bool(m, &a->pairable);
        if (streq(key, "Discoverable"))
                return read_bool(m, &a->discoverable);
        if (streq(key, "PairableTimeout"))
                return read_u32(m, &a->pairable_timeout);
        if (streq(key, "DiscoverableTimeout"))
                return read_u32(m, &a->discoverable_timeout);
        return 0;
}

static int device_prop(sd_bus_message *m, const char *key, void *userdata) {
        DeviceFacts *d = userdata;

        if (streq(key, "Address"))
                return read_string(m, &d->address);
        if (streq(key, "AddressType"))
                return read_string(m, &d->address_type);
        if (streq(key, "Paired"))
                return read_bool(m, &d->paired);
        if (streq(key, "Bonded"))
                return read_bool(m, &d->bonded);
        if (streq(key, "Trusted"))
                return read_bool(m, &d->trusted);
        return 0;
}

/* One interface of an object of GetManagedObjects: adapters and devices. */
static int on_interface(sd_bus_message *m, const char *path, const char *iface, void *userdata) {
        DoctorFacts *f = userdata;
        int r;

        if (streq(iface, "org.bluez.Adapter1")) {
                AdapterFacts *a = g_new0(AdapterFacts, 1);

                a->path = g_strdup(path);
                g_ptr_array_add(f->adapters, a);
                r = bus_dict_walk(m, adapter_prop, a);
        } else if (streq(iface, "org.bluez.Device1")) {
                DeviceFacts *d = g_new0(DeviceFacts, 1);

                g_ptr_array_add(f->devices, d);
                r = bus_dict_walk(m, device_prop, d);
        } else
                return 0;
        return r < 0 ? r : 1;
}

static int gather_bluez_objects(DoctorFacts *f, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, "org.bluez", "/", "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", &e, &reply, "");
        if (r < 0)
                return r;
        return bus_objects_walk(reply, on_interface, f);
}

static int status_prop(sd_bus_message *m, const char *key, void *userdata) {
        DoctorFacts *f = userdata;

        if (streq(key, "Registered"))
                return read_bool(m, &f->registered);
        if (streq(key, "Capability"))
                return read_string(m, &f->pg_capability);
        if (streq(key, "Version"))
                return read_string(m, &f->pg_version);
        return 0;
}

static void gather_pairgated(DoctorFacts *f, sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_get_name_creds(bus, CONTROL_BUS_NAME, 0, NULL);
        if (r < 0) {
                f->pairgated = PAIRGATED_NOT_RUNNING;
                return;
        }
        r = sd_bus_call_method(bus, CONTROL_BUS_NAME, CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                               "GetStatus", &e, &reply, "");
        if (r < 0) {
                if (sd_bus_error_has_names(&e, CONTROL_ERROR_ACCESS_DENIED,
                                           SD_BUS_ERROR_ACCESS_DENIED))
                        f->pairgated = PAIRGATED_DENIED;
                else if (sd_bus_error_has_names(&e, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                                SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        f->pairgated = PAIRGATED_NOT_RUNNING;
                else {
                        f->pairgated = PAIRGATED_ERROR;
                        f->pairgated_error = g_strdup(e.name ? e.name : strerror(-r));
                }
                return;
        }
        r = bus_dict_walk(reply, status_prop, f);
        if (r < 0) {
                f->pairgated = PAIRGATED_ERROR;
                f->pairgated_error =
                        g_strdup_printf("unexpected GetStatus reply: %s", strerror(-r));
                return;
        }
        f->pairgated = PAIRGATED_STATUS;
}

void doctor_gather_bus(DoctorFacts *f, sd_bus *bus, const char *bus_error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        pid_t pid;
        int r;

        f->bus_asked = true;
        if (!bus) {
                f->bus_error = g_strdup(bus_error ? bus_error : "no bus");
                f->pairgated = PAIRGATED_NOT_ASKED;
                return;
        }
        (void) sd_bus_set_method_call_timeout(bus, DOCTOR_CALL_TIMEOUT_USEC);
        r = sd_bus_get_name_creds(bus, "org.bluez", SD_BUS_CREDS_PID, &creds);
        if (r >= 0) {
                f->bluetoothd_running = true;
                if (sd_bus_creds_get_pid(creds, &pid) >= 0)
                        f->bluetoothd_pid = (uint32_t) pid;
                r = gather_bluez_objects(f, bus);
                if (r < 0)
                        /* Treat as no adapter known; the adapter check says so. */
                        g_ptr_array_set_size(f->adapters, 0);
        }
        gather_pairgated(f, bus);
}
