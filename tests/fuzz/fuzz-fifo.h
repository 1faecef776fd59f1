/* SPDX-License-Identifier: MIT */
#pragma once

/* A FIFO standing in for an evdev node, for the targets that feed struct input_event records
 * through the real read path of button-input.c (as the bus tests do): one FIFO in a temporary
 * directory for the whole run, and a writer that feeds it a chunk at a time, running the reader's
 * event loop between chunks so that records split over reads. */

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* Make the FIFO (once, from LLVMFuzzerInitialize); it is removed at exit. */
void fuzz_fifo_init(void);
/* The FIFO's path, for ButtonInputConfig.device. */
const char *fuzz_fifo_path(void);
/* Open the FIFO for writing (after the reader has opened it). */
int fuzz_fifo_open_writer(void);
/* Write data[0..size) to writer in pieces of chunk bytes (> 0), running e after each until it
 * has nothing left to do now. */
void fuzz_fifo_feed(int writer, sd_event *e, const uint8_t *data, size_t size, size_t chunk);
/* Close *writer (the device goes away) and run e. */
void fuzz_fifo_close_writer(int *writer, sd_event *e);
