/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of gid allocation from gidRangeStart/gidRangeEnd
 * (provisioner/backends/nfs_gid.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "backends/nfs_int.h"

static uint32_t pick(berth__nfsb_gids_t *g, const char *pv, uint32_t min,
                     uint32_t max, const uint32_t *used, size_t n,
                     int64_t current)
{
  berth_error_t err;
  uint32_t gid = 0;
  berth_status_t st;

  st = berth__nfsb_gid_pick(g, pv, min, max, used, n, current, &gid, &err);
  if (st != BERTH_OK)
    fail_msg("%s: %s: %s", pv, berth_status_name(st), err.message);
  return gid;
}

static void test_lowest_free(void **state)
{
  const uint32_t used[] = {5003, 5000, 4000, 5001}; /* unsorted */
  berth__nfsb_gids_t g;

  (void)state;
  berth__nfsb_gids_init(&g);
  assert_int_equal(pick(&g, "pvc-a", 5000, 5010, used, 4, -1), 5002);
  /* Two claims at once: the first one's gid is reserved. */
  assert_int_equal(pick(&g, "pvc-b", 5000, 5010, used, 4, -1), 5004);
  /* The same claim again: the same gid. */
  assert_int_equal(pick(&g, "pvc-a", 5000, 5010, used, 4, -1), 5002);
  /* A delete frees it. */
  berth__nfsb_gid_release(&g, "pvc-a");
  assert_int_equal(pick(&g, "pvc-c", 5000, 5010, used, 4, -1), 5002);
  berth__nfsb_gid_release(&g, "pvc-unknown"); /* harmless */
  berth__nfsb_gids_cleanup(&g);
}

static void test_current_reused(void **state)
{
  const uint32_t used[] = {100};
  berth__nfsb_gids_t g;

  (void)state;
  berth__nfsb_gids_init(&g);
  /* After a crash: the directory already has 105, nobody else does. */
  assert_int_equal(pick(&g, "pvc-a", 100, 110, used, 1, 105), 105);
  /* The directory's gid is another volume's: choose again. */
  assert_int_equal(pick(&g, "pvc-b", 100, 110, used, 1, 100), 101);
  /* Outside the range (root's 0 on a new directory): ignored. */
  assert_int_equal(pick(&g, "pvc-c", 100, 110, used, 1, 0), 102);
  /* Reserved for another volume: not reused. */
  assert_int_equal(pick(&g, "pvc-d", 100, 110, used, 1, 105), 103);
  berth__nfsb_gids_cleanup(&g);
}

static void test_exhausted_and_edges(void **state)
{
  const uint32_t used[] = {7, 8};
  berth__nfsb_gids_t g;
  berth_error_t err;
  uint32_t gid = 42;

  (void)state;
  berth__nfsb_gids_init(&g);
  assert_int_equal(pick(&g, "pvc-a", 7, 9, used, 2, -1), 9);
  assert_int_equal(
      berth__nfsb_gid_pick(&g, "pvc-b", 7, 9, used, 2, -1, &gid, &err),
      BERTH_ETOOBIG);
  assert_int_equal(gid, 42);
  assert_non_null(strstr(err.message, "every gid from 7 to 9"));
  /* A one-gid range at the top of the id space. */
  assert_int_equal(pick(&g, "pvc-c", 4294967294u, 4294967294u, NULL, 0, -1),
                   4294967294u);
  /* A reservation that an existing PV now has (used): choose again. */
  {
    const uint32_t now_used[] = {9};

    assert_int_equal(pick(&g, "pvc-a", 7, 20, now_used, 1, -1), 7);
  }
  /* Many reservations. */
  {
    char name[32];
    uint32_t i;

    for (i = 0; i < 100; i++) {
      snprintf(name, sizeof(name), "pvc-many-%u", i);
      assert_int_equal(pick(&g, name, 1000, 2000, NULL, 0, -1), 1000 + i);
    }
  }
  berth__nfsb_gids_cleanup(&g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lowest_free),
      cmocka_unit_test(test_current_reused),
      cmocka_unit_test(test_exhausted_and_edges),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
