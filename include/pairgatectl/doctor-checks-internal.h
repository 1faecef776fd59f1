/* SPDX-License-Identifier: MIT */
#pragma once

/* The families of doctor's checks (doctor-checks.c runs them in order). */

#include "doctor-facts.h"
#include "doctor-report.h"

/* doctor-checks.c: bluetoothd, pairgated, other agents, adapters, installation */
void check_bluetoothd(const DoctorFacts *f, Report *r);
void check_pairgated(const DoctorFacts *f, Report *r);
void check_other_agents(const DoctorFacts *f, Report *r);
void check_adapters(const DoctorFacts *f, Report *r);
void check_installation(const DoctorFacts *f, Report *r);

/* doctor-checks-conf.c: main.conf, pairgate's configuration, allowlist, bonds, fixed secrets */
void check_main_conf(const DoctorFacts *f, Report *r);
void check_battery_loop(const DoctorFacts *f, Report *r);
void check_pairgate_config(const DoctorFacts *f, Report *r);
void check_noio_bredr(const DoctorFacts *f, Report *r);
void check_allowlist(const DoctorFacts *f, Report *r);
void check_bonds(const DoctorFacts *f, Report *r);
void check_fixed_secrets(const DoctorFacts *f, Report *r);

/* Shared: does pairgate's window keep the adapter non-pairable while closed? */
bool facts_window_holds_closed(const DoctorFacts *f, bool *ret_configured);
