/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the sweep's decisions (provisioner/sweep_decide.c), without
 * a server or a backend: storage owned by a PV or a claim, held in flight
 * or younger than the grace period is kept; only storage whose PV and
 * claim both answer 404 (or whose claim's name now belongs to another
 * uid) is removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sweep_decide.h"

#define GRACE_MS 600000

enum {
  PV = 1 << 0,
  CLAIM = 1 << 1,
  HELD = 1 << 2,
  YOUNG = 1 << 3,
  ALL = 1 << 4
};

static prov_sweep_facts_t facts(unsigned bits)
{
  prov_sweep_facts_t f;

  memset(&f, 0, sizeof(f));
  f.pv_cached = bits & PV;
  f.claim_cached = bits & CLAIM;
  f.held = bits & HELD;
  f.grace_ms = GRACE_MS;
  f.age_ms = (bits & YOUNG) ? GRACE_MS - 1 : GRACE_MS;
  return f;
}

/* Only an old record with no PV, no claim and no hold goes on to the
 * GETs. */
static void test_decide_every_combination(void **state)
{
  unsigned bits;

  (void)state;
  for (bits = 0; bits < ALL; bits++) {
    prov_sweep_facts_t f = facts(bits);

    assert_int_equal(prov_sweep_decide(&f),
                     bits == 0 ? PROV_SWEEP_CONFIRM : PROV_SWEEP_KEEP);
  }
}

static void test_decide_each_keep(void **state)
{
  prov_sweep_facts_t f;

  (void)state;
  f = facts(PV);
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_KEEP);
  f = facts(CLAIM);
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_KEEP);
  f = facts(HELD);
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_KEEP);
  f = facts(YOUNG);
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_KEEP);
  /* A record whose age cannot be told is never old enough. */
  f = facts(0);
  f.age_ms = -1;
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_KEEP);
  /* No grace at all still needs a known age. */
  f.grace_ms = 0;
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_KEEP);
  f.age_ms = 0;
  assert_int_equal(prov_sweep_decide(&f), PROV_SWEEP_CONFIRM);
}

static void test_confirm(void **state)
{
  (void)state;
  assert_int_equal(prov_sweep_confirm(BERTH_ENOTFOUND, BERTH_ENOTFOUND, false),
                   PROV_SWEEP_REMOVE);
  /* The name now belongs to another claim (another uid). */
  assert_int_equal(prov_sweep_confirm(BERTH_ENOTFOUND, BERTH_OK, false),
                   PROV_SWEEP_REMOVE);
  /* The claim exists (the cache was behind). */
  assert_int_equal(prov_sweep_confirm(BERTH_ENOTFOUND, BERTH_OK, true),
                   PROV_SWEEP_KEEP);
  /* The PV exists: never, whatever its reclaim policy. */
  assert_int_equal(prov_sweep_confirm(BERTH_OK, BERTH_ENOTFOUND, false),
                   PROV_SWEEP_KEEP);
  assert_int_equal(prov_sweep_confirm(BERTH_OK, BERTH_OK, false),
                   PROV_SWEEP_KEEP);
  /* Unsure answers keep. */
  assert_int_equal(prov_sweep_confirm(BERTH_ETIMEOUT, BERTH_ENOTFOUND, false),
                   PROV_SWEEP_KEEP);
  assert_int_equal(prov_sweep_confirm(BERTH_ENOTFOUND, BERTH_ETRANSPORT, false),
                   PROV_SWEEP_KEEP);
  assert_int_equal(prov_sweep_confirm(BERTH_EPERM, BERTH_EPERM, false),
                   PROV_SWEEP_KEEP);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decide_every_combination),
      cmocka_unit_test(test_decide_each_keep),
      cmocka_unit_test(test_confirm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
