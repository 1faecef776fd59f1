/* SPDX-License-Identifier: MIT */
#pragma once

/* The daemon's agent stack over a FuzzBus, built as daemon.c builds it, for the targets that
 * play bluetoothd (and other callers) against org.bluez.Agent1 and what sits beside it: a
 * configuration from text, the org.bluez owner watch, the device cache, the policy set, the
 * registration (bluez.c) and the Agent1 object, reacting to an owner change and to Release as
 * the daemon does. It keeps the calls the peer makes (fuzz_stack_send()) and asserts what every
 * such target asserts: no reply to a call it did not make, no call answered twice, every call
 * answered at shutdown (fuzz_stack_stop()), every audit line clean text. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include <glib.h>

#include "agent.h"
#include "audit.h"
#include "bluez-owner.h"
#include "bluez.h"
#include "chain.h"
#include "config.h"
#include "device-cache.h"
#include "fuzz-bus.h"

/* A call the peer made: a target's own record of one starts with it (and is g_free()d whole). */
typedef struct FuzzCall {
        const char *method;
        bool answered;
} FuzzCall;

typedef struct FuzzStackCallbacks {
        /* The daemon's reply (or error) to c, which is now marked answered. */
        void (*reply)(FuzzCall *c, sd_bus_message *reply, void *userdata);
        /* Every audit record, after its line was checked clean (optional). */
        audit_sink_t audit;
        /* The agent's callbacks the target wants (Release is the stack's: bluez_released()). */
        void (*request_held)(Agent *a, Request *r, void *userdata);
        void (*request_ended)(Agent *a, const Request *r, void *userdata);
        void (*decided)(Agent *a, const PairingQuery *q, RequestResult result, void *userdata);
} FuzzStackCallbacks;

typedef struct FuzzStack {
        FuzzBus *bus;
        Config *config;
        PolicySet *policies;
        BluezOwner *owner;
        DeviceCache *cache;
        Bluez *bluez;
        Agent *agent;      /* NULL after fuzz_stack_stop() */
        GHashTable *calls; /* cookie -> FuzzCall* */
        const FuzzStackCallbacks *cb;
        void *userdata;
} FuzzStack;

/* Everything up to agent_set_config(), from the configuration text config (which must load);
 * the peer answers the daemon's calls with empty replies. The target adds what it needs beside
 * the agent (Control1, ...), then calls fuzz_stack_start(). */
void fuzz_stack_new(FuzzStack **ret, const char *config, const FuzzStackCallbacks *cb,
                    void *userdata);
/* Watch org.bluez (its owner appears, the agent registers) and settle. */
void fuzz_stack_start(FuzzStack *s);
/* Send m (built on s->bus->peer) from sender, keeping c (the target's record, owned by s from
 * now on) for its reply. */
void fuzz_stack_send(FuzzStack *s, sd_bus_message *m, const char *sender, FuzzCall *c);
/* Shut the agent down as the daemon does (it answers whatever is held) and assert that every
 * call was answered. Free what uses the agent first. */
void fuzz_stack_stop(FuzzStack *s);
FuzzStack *fuzz_stack_free(FuzzStack *s);
