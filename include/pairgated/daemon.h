/* SPDX-License-Identifier: MIT */
#pragma once

/* The daemon: one sd-event loop owning the bus, the config, the policies, the agent object and
 * the BlueZ watch; signals (TERM/INT: stop, HUP: reload), sd_notify READY/STATUS/WATCHDOG. */

#include "config.h"

typedef struct Daemon Daemon;

/* Takes ownership of config. */
int daemon_new(Daemon **ret, const char *config_path, Config *config);
Daemon *daemon_free(Daemon *d);
/* Runs until stopped; returns the process exit code. */
int daemon_run(Daemon *d);
