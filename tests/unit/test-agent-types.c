/* SPDX-License-Identifier: MIT */
#include <glib.h>

#include "agent-types.h"
#include "bdaddr.h"

static void test_capability_strings(void) {
        for (int c = 0; c < _CAPABILITY_MAX; c++)
                g_assert_cmpint(capability_from_string(capability_to_string(c)), ==, c);
        g_assert_cmpint(capability_from_string("displayyesno"), ==, _CAPABILITY_INVALID);
        g_assert_cmpint(capability_from_string("Display"), ==, _CAPABILITY_INVALID);
        g_assert_cmpint(capability_from_string(""), ==, _CAPABILITY_INVALID);
        g_assert_cmpint(capability_from_string(NULL), ==, _CAPABILITY_INVALID);
        g_assert_null(capability_to_string(_CAPABILITY_MAX));
        g_assert_null(capability_to_string(-1));
}

static void test_method_strings(void) {
        for (int m = 0; m < _AGENT_METHOD_MAX; m++)
                g_assert_cmpint(agent_method_from_string(agent_method_to_string(m)), ==, m);
        g_assert_cmpint(agent_method_from_string("Cancel"), ==, _AGENT_METHOD_INVALID);
        g_assert_cmpint(agent_method_from_string("Release"), ==, _AGENT_METHOD_INVALID);
        g_assert_cmpstr(agent_method_to_string(AGENT_METHOD_AUTHORIZE_SERVICE), ==,
                        "AuthorizeService");
}

static void test_bdaddr(void) {
        char a[BDADDR_STRLEN], adapter[64];

        g_assert_true(bdaddr_normalize("aa:bb:cc:0d:ee:ff", a));
        g_assert_cmpstr(a, ==, "AA:BB:CC:0D:EE:FF");
        g_assert_false(bdaddr_normalize("aa:bb:cc:0d:ee", a));
        g_assert_false(bdaddr_normalize("aa:bb:cc:0d:ee:fg", a));
        g_assert_false(bdaddr_normalize("aa-bb-cc-0d-ee-ff", a));
        g_assert_false(bdaddr_normalize("aa:bb:cc:0d:ee:ff:", a));
        g_assert_false(bdaddr_normalize(NULL, a));
        g_assert_true(bdaddr_from_device_path("/org/bluez/hci0/dev_AA_BB_CC_DD_EE_0f", a));
        g_assert_cmpstr(a, ==, "AA:BB:CC:DD:EE:0F");
        g_assert_false(bdaddr_from_device_path("/org/bluez/hci0", a));
        g_assert_false(bdaddr_from_device_path("/org/bluez/hci0/dev_AA_BB_CC_DD_EE", a));
        g_assert_false(bdaddr_from_device_path("/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF/x", a));
        g_assert_true(adapter_from_device_path("/org/bluez/hci1/dev_AA_BB_CC_DD_EE_FF", adapter,
                                               sizeof adapter));
        g_assert_cmpstr(adapter, ==, "/org/bluez/hci1");
        g_assert_false(adapter_from_device_path("/dev_AA_BB_CC_DD_EE_FF", adapter, sizeof adapter));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/agent-types/capability", test_capability_strings);
        g_test_add_func("/agent-types/method", test_method_strings);
        g_test_add_func("/agent-types/bdaddr", test_bdaddr);
        return g_test_run();
}
