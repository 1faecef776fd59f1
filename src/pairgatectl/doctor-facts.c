/* SPDX-License-Identifier: MIT */
/* The facts doctor gathered: allocation and release. */
#include "doctor-facts.h"

#include <stdlib.h>

static void adapter_facts_free(gpointer p) {
        AdapterFacts *a = p;

        g_free(a->path);
        g_free(a->address);
        g_free(a->alias);
        g_free(a);
}

static void device_facts_free(gpointer p) {
        DeviceFacts *d = p;

        g_free(d->address);
        g_free(d->address_type);
        g_free(d);
}

static void bond_facts_free(gpointer p) {
        BondFacts *b = p;

        g_free(b->adapter);
        g_free(b->address);
        g_free(b->address_type);
        g_free(b);
}

static void process_facts_free(gpointer p) {
        ProcessFacts *x = p;

        g_free(x->name);
        g_free(x);
}

DoctorFacts *doctor_facts_new(void) {
        DoctorFacts *f = g_new0(DoctorFacts, 1);

        f->adapters = g_ptr_array_new_with_free_func(adapter_facts_free);
        f->devices = g_ptr_array_new_with_free_func(device_facts_free);
        f->bonds = g_ptr_array_new_with_free_func(bond_facts_free);
        f->agent_processes = g_ptr_array_new_with_free_func(process_facts_free);
        return f;
}

DoctorFacts *doctor_facts_free(DoctorFacts *f) {
        if (!f)
                return NULL;
        btconf_free(f->btconf);
        config_free(f->config);
        g_free(f->config_error);
        g_free(f->bus_error);
        g_strfreev(f->bluetoothd_argv);
        g_free(f->bluetoothd_version);
        g_ptr_array_unref(f->adapters);
        g_ptr_array_unref(f->devices);
        g_free(f->pairgated_error);
        g_free(f->pg_capability);
        g_free(f->pg_version);
        g_ptr_array_unref(f->agent_processes);
        g_free(f->state_dir);
        g_ptr_array_unref(f->bonds);
        g_strfreev(f->state_adapters);
        g_free(f->dbus_policy);
        g_free(f->agent_lock);
        g_free(f->unit);
        g_free(f);
        return NULL;
}

int bluez_version_number(const char *version) {
        char *end;
        long major, minor;

        if (!version)
                return 0;
        major = strtol(version, &end, 10);
        if (end == version || *end != '.')
                return 0;
        minor = strtol(end + 1, &end, 10);
        if (major < 0 || major > 99 || minor < 0 || minor > 99)
                return 0;
        return (int) (major * 100 + minor);
}
