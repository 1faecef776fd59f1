/* SPDX-License-Identifier: MIT */
#pragma once

/* How one policy asks a presenter to say something for it, without reaching into the
 * presenter's state: the keypad asks, the speech policy (when configured) says. A presenter
 * registers a callback; a policy calls announce(); every registered presenter gets the
 * announcement and decides itself whether and how to present it (speech: only for requests it
 * saw itself, i.e. when it is routed before the keypad, with texts from its own section).
 *
 * Process-wide (like the button's instances): during a reload the presenters of both policy sets
 * are registered; each knows only the requests it saw. All on the one event loop. */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

typedef enum AnnounceKind {
        ANNOUNCE_KEYPAD_PROMPT, /* a request now waits for digits: say what to type */
        ANNOUNCE_KEYPAD_DIGIT,  /* a digit was typed (digit set; it may be part of a PIN) */
        ANNOUNCE_KEYPAD_DELETE, /* the last digit was removed */
        _ANNOUNCE_KIND_MAX,
} AnnounceKind;

typedef struct Announcement {
        AnnounceKind kind;
        const PairingQuery *query; /* the request's facts (borrowed; request_id, method, device) */
        char digit;                /* ANNOUNCE_KEYPAD_DIGIT: '0'..'9' (never log it) */
} Announcement;

/* Returns whether the presenter presents it. */
typedef bool (*announce_handler_t)(const Announcement *a, void *userdata);

typedef struct Announcer Announcer;

Announcer *announcer_register(announce_handler_t handler, void *userdata);
/* NULL is fine. Returns NULL. */
Announcer *announcer_unregister(Announcer *a);
/* Offer a to every registered presenter; true when at least one presents it. */
bool announce(const Announcement *a);
