/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the EFS backend's path patterns and gid allocation
 * (provisioner/backends/efs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "backends/efs.h"

static void test_expand(void **state)
{
  char out[64];
  berth_error_t err;
  static const char *const bad[] = {
      "${.PVC.nope}", "${.PVC.name", "a/../b", "..", "./x", "a/.", "x\ty",
  };
  size_t i;

  (void)state;
  assert_int_equal(
      berth_efs_expand_path("${.PVC.namespace}/${.PVC.name}-${.PV.name}",
                            "data", "ns", "pvc-1", out, sizeof(out), &err),
      BERTH_OK);
  assert_string_equal(out, "ns/data-pvc-1");
  assert_int_equal(
      berth_efs_expand_path("a..b/.c", "x", "y", "z", out, sizeof(out), &err),
      BERTH_OK);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(
        berth_efs_expand_path(bad[i], "x", "y", "z", out, sizeof(out), &err),
        BERTH_EINVAL);
  /* A claim name that would make ".." is refused too. */
  assert_int_equal(berth_efs_expand_path("a/${.PVC.name}", "..", "y", "z", out,
                                         sizeof(out), &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_efs_expand_path("${.PV.name}${.PV.name}", "x", "y",
                                         "0123456789012345678901234567890123",
                                         out, sizeof(out), &err),
                   BERTH_EINVAL);
}

static void test_gid(void **state)
{
  const uint32_t used[] = {1000, 1002, 1001};
  uint32_t g = 0;
  berth_error_t err;

  (void)state;
  assert_int_equal(berth_efs_pick_gid(1000, 1005, used, 3, &g, &err), BERTH_OK);
  assert_int_equal(g, 1003);
  assert_int_equal(berth_efs_pick_gid(1000, 1002, used, 3, &g, &err),
                   BERTH_EPERM);
  assert_int_equal(berth_efs_pick_gid(7, 7, NULL, 0, &g, &err), BERTH_OK);
  assert_int_equal(g, 7);
  assert_int_equal(
      berth_efs_pick_gid(4294967294u, 4294967294u, NULL, 0, &g, &err),
      BERTH_OK);
  assert_int_equal(g, 4294967294u);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_gid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
