/* SPDX-License-Identifier: MIT */
#pragma once

/* Trust on approval. bluetoothd asks the agent (AuthorizeService) before every profile
 * connection (A2DP, AVRCP, HFP, HID, ...) of a device that is not Trusted, and asks nothing for
 * a Trusted one (src/adapter.c process_auth_queue). So a guest whose pairing pairgate approved
 * must become Trusted, or every audio connection would be refused afterwards.
 *
 * When a pairing request that pairgate approved (a policy allowed it, or a route presented the
 * code of a DisplayPasskey/DisplayPinCode) is followed by the device becoming Paired, Trusted is
 * set on it and audited (AUDIT_TRUSTED). A device paired without pairgate's approval (Just Works
 * accepted by the kernel, a pairing started locally) is never trusted here. A device trusted
 * here that loses its pairing (Paired = false) is untrusted again (AUDIT_UNTRUSTED); one that
 * is removed loses its trust with its storage in bluetoothd. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "agent-types.h"
#include "bluez-owner.h"
#include "device-cache.h"

/* How long after the approval the pairing may complete: bluetoothd gives up on an agent call
 * after 60 s, and the Paired signal waits for service discovery. */
#define TRUST_APPROVAL_TTL_USEC (120ULL * 1000000ULL)

typedef struct Trust Trust;

int trust_new(Trust **ret, sd_bus *bus, BluezOwner *owner, DeviceCache *devices);
Trust *trust_free(Trust *t);
/* trust_on_approve: off forgets pending approvals (devices already trusted stay trusted). */
void trust_set_enabled(Trust *t, bool enabled);
/* A request about device ended; whether it counts as an approval of a pairing is decided here
 * (allowed pairing methods, presented notifications). */
void trust_note_request(Trust *t, AgentMethod method, const char *device, bool allowed,
                        bool presented, const char *policy, uint64_t request_id);
/* For tests and status: device was trusted by pairgate since it started. */
bool trust_is_ours(const Trust *t, const char *device);
