/* SPDX-License-Identifier: MIT */
#pragma once

/* The limits against abuse (limits = { ... }): lockouts of devices that keep being refused, and a
 * budget of requests that may reach a person. Pure logic: every time is passed in, nothing is
 * read, written, logged or sent here (pairgated/limiter.c does that).
 *
 * Devices are keyed by their address as BlueZ reports it (Device1.Address: the identity address
 * once BlueZ has resolved the device's IRK, otherwise the address it used). Lockout times are
 * CLOCK_REALTIME microseconds, because they outlive a restart; the budget uses any monotonic
 * clock. The table is bounded (LIMITS_MAX_DEVICES): when full, the device seen least recently
 * that is not locked out is forgotten first. */

#include <stdbool.h>
#include <stdint.h>

#define LIMITS_DEFAULT_LOCKOUT_AFTER      3
#define LIMITS_DEFAULT_LOCKOUT_WINDOW_SEC 600
#define LIMITS_DEFAULT_LOCKOUT_TIME_SEC   900
#define LIMITS_DEFAULT_PROMPTS_PER_MINUTE 6
#define LIMITS_MAX_LOCKOUT_AFTER          100
#define LIMITS_MAX_LOCKOUT_WINDOW_SEC     86400
#define LIMITS_MAX_LOCKOUT_TIME_SEC       604800 /* a week */
#define LIMITS_MAX_PROMPTS_PER_MINUTE     600
#define LIMITS_MAX_DEVICES                4096

typedef struct LimitsSettings {
        unsigned lockout_after;      /* refusals within lockout_window that start a lockout */
        unsigned lockout_window_sec; /* 1..LIMITS_MAX_LOCKOUT_WINDOW_SEC */
        unsigned lockout_time_sec;   /* 0: no lockouts */
        unsigned prompts_per_minute; /* 0: no budget */
        bool block;                  /* lockout_after lockouts in a row: set Blocked in BlueZ */
} LimitsSettings;

/* No limits at all: what a configuration without a limits section means. */
#define LIMITS_SETTINGS_OFF                                               \
        ((LimitsSettings){ .lockout_after = LIMITS_DEFAULT_LOCKOUT_AFTER, \
                           .lockout_window_sec = LIMITS_DEFAULT_LOCKOUT_WINDOW_SEC })

typedef struct Limits Limits;

Limits *limits_new(void);
Limits *limits_free(Limits *l);
/* New settings (a reload): lockouts in force keep their end; the budget starts over when its size
 * changes. */
void limits_configure(Limits *l, const LimitsSettings *s);
const LimitsSettings *limits_settings(const Limits *l);

/* When the lockout of address ends (realtime µs), or 0 when it is not locked out at now. */
uint64_t limits_locked_until(const Limits *l, const char *address, uint64_t now);

typedef struct LimitsLockout {
        uint64_t until;    /* realtime µs */
        unsigned refusals; /* refusals within the window that started it */
        unsigned in_a_row; /* this lockout's number in a row (1 for the first) */
        bool block;        /* settings.block and in_a_row >= lockout_after: block the device */
} LimitsLockout;

/* A refusal (deny or timeout) of address at now. Returns 1 and fills *ret when it starts a
 * lockout, 0 otherwise (also when lockouts are off or the device is already locked out). */
int limits_note_refusal(Limits *l, const char *address, uint64_t now, LimitsLockout *ret);
/* An allowed request: its refusals and its lockouts in a row are forgotten. */
void limits_note_allow(Limits *l, const char *address);
/* Take one request of the prompt budget at now_mono (µs of a monotonic clock): false when
 * prompts_per_minute requests were taken within the last 60 s. Always true without a budget. */
bool limits_take_prompt(Limits *l, uint64_t now_mono);

/* End a lockout now: *ret_until (may be NULL) gets its planned end. Its lockouts in a row and
 * refusals are forgotten too. Returns false when address was not locked out at now. */
bool limits_lift(Limits *l, const char *address, uint64_t now, uint64_t *ret_until);
/* Forget everything about address (its lockout too). */
void limits_forget(Limits *l, const char *address);

/* Lockouts that ended by now: cb for each (the entry stays, with its lockouts in a row). */
typedef void (*limits_ended_t)(const char *address, uint64_t until, void *userdata);
void limits_expire(Limits *l, uint64_t now, limits_ended_t cb, void *userdata);
/* The earliest end of a lockout in force (realtime µs), 0 when none. */
uint64_t limits_next_expiry(const Limits *l);

typedef struct LimitsEntry {
        const char *address;
        uint64_t locked_until; /* 0: not locked out */
        unsigned in_a_row;     /* lockouts in a row so far */
        uint64_t last_lockout; /* realtime µs the last lockout ended (or ends) */
} LimitsEntry;
typedef void (*limits_each_t)(const LimitsEntry *e, void *userdata);
/* Every device with a lockout in force or lockouts in a row (what the state file keeps), in no
 * particular order. */
void limits_foreach(const Limits *l, limits_each_t cb, void *userdata);
/* Put back what the state file kept (entries that no longer matter at now are dropped).
 * Returns -EINVAL for an invalid address. */
int limits_restore(Limits *l, const LimitsEntry *e, uint64_t now);
unsigned limits_size(const Limits *l);
