/* SPDX-License-Identifier: MIT */
#pragma once

/* Where doctor's facts come from. */

#include <systemd/sd-bus.h>

#include "doctor-facts.h"

/* doctor-bus.c: bluetoothd (owner of org.bluez, its pid), its adapters and devices
 * (ObjectManager), pairgated's GetStatus (docs/control-interface.md). bus NULL: bus_error set. */
void doctor_gather_bus(DoctorFacts *f, sd_bus *bus, const char *bus_error);

/* doctor-host.c: bluetoothd's command line and version, known agent programs (ROOT/proc), the
 * bonds (ROOT/var/lib/bluetooth), the installed D-Bus policy, agent lock and unit. root is "/"
 * normally, another directory for tests and image builders. */
void doctor_gather_host(DoctorFacts *f, const char *root);
