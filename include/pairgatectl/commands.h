/* SPDX-License-Identifier: MIT */
#pragma once

/* pairgatectl's subcommands. Each gets argv after the subcommand's name (argv[0] is its first
 * argument) and returns the exit status: 0 success, 1 failure (one line on stderr), 2 bad
 * command line (one line on stderr). */

#define CTL_EXIT_OK      0
#define CTL_EXIT_FAILURE 1
#define CTL_EXIT_USAGE   2

int cmd_status(int argc, char *argv[]);
int cmd_pending(int argc, char *argv[]);
int cmd_approve(int argc, char *argv[]);
int cmd_deny(int argc, char *argv[]);
int cmd_passkey(int argc, char *argv[]);
int cmd_pin(int argc, char *argv[]);
int cmd_window(int argc, char *argv[]);
int cmd_devices(int argc, char *argv[]);
int cmd_forget(int argc, char *argv[]);
int cmd_lift(int argc, char *argv[]);
int cmd_watch(int argc, char *argv[]);
int cmd_log(int argc, char *argv[]);
