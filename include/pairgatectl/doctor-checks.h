/* SPDX-License-Identifier: MIT */
#pragma once

/* The checks of `pairgatectl doctor`: facts in, findings out; nothing read from the system. */

#include "doctor-facts.h"
#include "doctor-report.h"

void doctor_check_all(const DoctorFacts *f, Report *r);
