/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: when berth-provisioner gives malloc's free memory back
 * (provisioner/memory.c, prov_memory_trim_due): once after a burst has
 * been quiet for a second; during a long burst every couple of seconds
 * when enough is free; never again while nothing happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "memory.h"

#define MB (1024 * 1024)

static void test_after_burst(void **state)
{
  prov_memory_trim_t t;

  (void)state;
  memset(&t, 0, sizeof(t));
  /* Work changes: not yet (a burst is going on, little free). */
  assert_false(prov_memory_trim_due(&t, 10, false, 0, 1000));
  assert_false(prov_memory_trim_due(&t, 10, false, 0, 1500));
  /* Quiet for a second: once. */
  assert_true(prov_memory_trim_due(&t, 10, false, 0, 2000));
  assert_false(prov_memory_trim_due(&t, 10, false, 0, 2200));
  assert_false(prov_memory_trim_due(&t, 10, false, 50 * MB, 60000));
  /* Still busy (work in flight): not a quiet moment. */
  assert_false(prov_memory_trim_due(&t, 11, true, 0, 61000));
  assert_false(prov_memory_trim_due(&t, 11, true, 0, 63000));
  assert_true(prov_memory_trim_due(&t, 11, false, 0, 64000));
}

static void test_during_burst(void **state)
{
  prov_memory_trim_t t;
  int64_t now = 1000;
  uint64_t work = 0;
  int trims = 0;

  (void)state;
  memset(&t, 0, sizeof(t));
  /* A 20 s burst, checked every 200 ms, with little free: no trim. */
  for (; now < 21000; now += 200)
    trims += prov_memory_trim_due(&t, ++work, true, MB - 1, now);
  assert_int_equal(trims, 0);
  /* With a megabyte free: at once, then every PROV_TRIM_BUSY_MS. */
  for (; now < 41000; now += 200)
    trims += prov_memory_trim_due(&t, ++work, true, 3 * MB, now);
  assert_int_equal(trims, 20000 / PROV_TRIM_BUSY_MS);
  /* The burst ends: idle with much free, one trim once quiet, then
   * none. */
  trims = 0;
  for (; now < 100000; now += 200)
    trims += prov_memory_trim_due(&t, work, false, 3 * MB, now);
  assert_int_equal(trims, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_after_burst),
      cmocka_unit_test(test_during_burst),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
