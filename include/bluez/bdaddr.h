/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BDADDR_STRLEN 18 /* "AA:BB:CC:DD:EE:FF" + NUL */

/* Parse "aa:bb:cc:dd:ee:ff" (any case) into canonical upper-case form. */
bool bdaddr_normalize(const char *s, char ret[BDADDR_STRLEN]);
/* Parse the address out of a BlueZ device object path ".../dev_AA_BB_CC_DD_EE_FF". */
bool bdaddr_from_device_path(const char *path, char ret[BDADDR_STRLEN]);
/* "/org/bluez/hci0/dev_..." -> "/org/bluez/hci0" (ret must hold strlen(path)+1 bytes). */
bool adapter_from_device_path(const char *path, char *ret, size_t size);
