/* SPDX-License-Identifier: MIT */
#pragma once

/* bluetoothd's /etc/bluetooth/main.conf as BlueZ 5.66 reads it (src/main.c load_config and
 * parse_config): a GKeyFile with ',' as list separator; a file that does not parse is ignored as
 * a whole (every option keeps its default); a value of the wrong type keeps that option's default;
 * strings are compared exactly (no trimming of trailing comments: "always # x" is not "always"). */

#include <stdbool.h>

#include "pairing-model.h"

typedef struct BtConf {
        char *path;
        bool exists;       /* false: no file, bluetoothd runs on its defaults */
        char *parse_error; /* set: the file did not parse, bluetoothd ignores all of it */

        /* [General] JustWorksRepairing: NULL when unset (default "never"); an unknown value means
         * "never" (main.c parse_jw_repairing). */
        char *jw_repairing_raw;
        JwRepairing jw_repairing;
        bool always_pairable;           /* [General] AlwaysPairable, default false */
        int pairable_timeout;           /* [General] PairableTimeout, default 0 (never) */
        int discoverable_timeout;       /* [General] DiscoverableTimeout, default 180 */
        char *privacy;                  /* [General] Privacy as written, NULL: "off" */
        bool privacy_valid;             /* one of the values 5.66 knows (else treated as off) */
        bool reverse_service_discovery; /* [General] ReverseServiceDiscovery, default true */
        char *controller_mode;          /* [General] ControllerMode, NULL: "dual" */
        char *secure_connections;       /* [General] SecureConnections (5.67+), NULL: unset */
        int gatt_client;                /* [GATT] Client (5.74+): -1 unset, 0 false, 1 true */
        char **wrong_type;              /* "Group.Key: value" read with its default because the
                                         * value has the wrong type; NULL-terminated */
} BtConf;

/* Always returns a BtConf (NULL only on allocation failure): a missing file gives exists=false
 * and the defaults; one that does not parse gives parse_error and the defaults. */
BtConf *btconf_load_file(const char *path);
BtConf *btconf_load_string(const char *text, const char *label);
BtConf *btconf_free(BtConf *c);
static inline void btconf_freep(BtConf **c) {
        if (*c)
                btconf_free(*c);
}

/* Does the adapter run BR/EDR (ControllerMode "dual" or "bredr"; anything else bluetoothd
 * treats as dual, main.c get_mode)? */
bool btconf_has_bredr(const BtConf *c);
bool btconf_has_le(const BtConf *c);
