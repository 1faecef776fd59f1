/* SPDX-License-Identifier: MIT */
#pragma once

/* What `pairgatectl doctor` learned about the machine before judging it: gathered from the bus
 * (doctor-bus.c), the file system and /proc (doctor-host.c), the two configuration files; judged
 * by doctor-checks.c, which reads nothing itself (so the unit tests can build facts by hand). */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "doctor-btconf.h"

typedef struct AdapterFacts {
        char *path; /* /org/bluez/hci0 */
        char *address;
        char *alias; /* escaped */
        uint32_t klass;
        bool powered, pairable, discoverable;
        uint32_t pairable_timeout, discoverable_timeout;
} AdapterFacts;

typedef struct DeviceFacts { /* a BlueZ Device1 object */
        char *address;
        char *address_type; /* "public" / "random" */
        bool paired, bonded, trusted;
} DeviceFacts;

typedef struct BondFacts { /* /var/lib/bluetooth/<adapter>/<device>/info */
        char *adapter;     /* the adapter's address (directory name) */
        char *address;
        char *address_type;           /* [General] AddressType, NULL when absent */
        bool trusted;                 /* [General] Trusted */
        bool link_key, link_key_auth; /* [LinkKey] Type 5 or 8: authenticated */
        bool le_key, le_key_auth;     /* [LongTermKey]/[PeripheralLongTermKey] Authenticated */
} BondFacts;

typedef struct ProcessFacts {
        int pid;
        char *name;     /* escaped */
        char *what;     /* why it matters (static text) */
        bool fixed_pin; /* started with a fixed PIN/passkey option */
} ProcessFacts;

typedef enum PairgatedState {
        PAIRGATED_NOT_ASKED,   /* no bus */
        PAIRGATED_NOT_RUNNING, /* nobody owns org.pairgate */
        PAIRGATED_DENIED,      /* AccessDenied: not root nor pairgate-admin */
        PAIRGATED_ERROR,       /* another error */
        PAIRGATED_STATUS,      /* GetStatus answered */
} PairgatedState;

typedef struct DoctorFacts {
        BtConf *btconf;

        const char *config_path;
        Config *config;     /* NULL when it did not load */
        char *config_error; /* file:line: message */

        char *bus_error;          /* NULL: connected to the system bus (or not asked) */
        char **bluetoothd_argv;   /* from /proc/PID/cmdline; NULL when unreadable */
        char *bluetoothd_version; /* "5.66"; NULL when unknown */
        GPtrArray *adapters;      /* AdapterFacts* */
        GPtrArray *devices;       /* DeviceFacts* */

        char *pairgated_error;
        char *pg_capability;
        char *pg_version;

        GPtrArray *agent_processes; /* ProcessFacts*: known agent programs running */
        char *state_dir;
        GPtrArray *bonds;      /* BondFacts* */
        char **state_adapters; /* adapter directories in the state directory */

        char *dbus_policy; /* installed pairgate D-Bus policy file, NULL: none found */
        char *agent_lock;  /* installed agent lock fragment, NULL: none */
        char *unit;        /* installed pairgate.service, NULL: none found */

        uint32_t bluetoothd_pid; /* 0: unknown */
        int pairgated_pid;       /* a process called pairgated (/proc), 0: none */
        PairgatedState pairgated;
        int bonds_error; /* 0, or -errno reading the state directory */
        bool bus_asked;  /* false: --no-bus */
        bool bluetoothd_running;
        bool registered;
        bool unit_enabled;
} DoctorFacts;

DoctorFacts *doctor_facts_new(void);
DoctorFacts *doctor_facts_free(DoctorFacts *f);
static inline void doctor_facts_freep(DoctorFacts **f) {
        if (*f)
                doctor_facts_free(*f);
}

/* "5.66" -> 566; "5.7" -> 507; 0 when unknown. */
int bluez_version_number(const char *version);
