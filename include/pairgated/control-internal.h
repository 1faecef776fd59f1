/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared by the files of the control interface (control.c: the object, the name, access, status,
 * window; control-requests.c: held requests; control-devices.c: devices). Not for other
 * modules. */

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "control-names.h"
#include "control.h"

struct Control {
        /* bus and event referenced, the rest borrowed (limiter NULL: nobody is locked out) */
        ControlEnv env;
        const Config *config;
        PairingWindow *window;                  /* NULL: the configuration has none */
        PairingWindow *listened;                /* the window our listener is on */
        PairingWindowListener *window_listener; /* WindowChanged */
        sd_bus_slot *object, *name_request;
        GList *forgets; /* ForgetDevice calls waiting for bluetoothd (ControlForget*) */
        uint64_t allowed, denied;
};

/* Every method starts here: 1 and *ret_uid when the caller is root or in pairgate-admin; <0
 * with AccessDenied in error (and an audit record) otherwise. */
int control_check_access(Control *c, sd_bus_message *m, uint32_t *ret_uid, sd_bus_error *error);
/* CLOCK_MONOTONIC µs -> CLOCK_REALTIME µs (0 stays 0). */
uint64_t control_realtime(uint64_t monotonic_usec);
/* One "{sv}" entry of an a{sv} being built: key, then the variant's type and value(s). */
int control_append_entry(sd_bus_message *m, const char *key, const char *type, ...);
/* One AUDIT_CONTROL_ACTION record. */
void control_audit_action(uint32_t uid, const char *action, const char *address,
                          const char *message);

/* control-requests.c */
int control_method_list_requests(sd_bus_message *m, void *userdata, sd_bus_error *error);
int control_method_approve(sd_bus_message *m, void *userdata, sd_bus_error *error);
int control_method_deny(sd_bus_message *m, void *userdata, sd_bus_error *error);
int control_method_enter_passkey(sd_bus_message *m, void *userdata, sd_bus_error *error);
int control_method_enter_pin_code(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* control-devices.c */
int control_method_list_devices(sd_bus_message *m, void *userdata, sd_bus_error *error);
int control_method_forget_device(sd_bus_message *m, void *userdata, sd_bus_error *error);
int control_method_lift_lockout(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Answers the ForgetDevice calls still waiting for bluetoothd (Control going away). */
void control_devices_done(Control *c);
