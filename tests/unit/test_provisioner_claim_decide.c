/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the claim state machine's decisions (provisioner/
 * claim_decide.c), without a server or a backend: every transition by
 * name, then the safety properties over every combination of facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "claim_decide.h"

enum {
  GOING = 1 << 0,
  GUARDED = 1 << 1,
  PV = 1 << 2,
  BOUND = 1 << 3,
  OURS = 1 << 4,
  NO_CLASS = 1 << 5,
  WAIT_NODE = 1 << 6,
  ALL = 1 << 7
};

static prov_claim_facts_t facts(unsigned bits)
{
  prov_claim_facts_t f;

  memset(&f, 0, sizeof(f));
  f.going = bits & GOING;
  f.guarded = bits & GUARDED;
  f.pv_exists = bits & PV;
  f.bound = bits & BOUND;
  f.ours = bits & OURS;
  f.class_missing = bits & NO_CLASS;
  f.wait_for_node = bits & WAIT_NODE;
  return f;
}

static void expect(unsigned bits, prov_claim_next_t want)
{
  prov_claim_facts_t f = facts(bits);

  assert_string_equal(prov_claim_next_name(prov_claim_decide(&f)),
                      prov_claim_next_name(want));
}

/* Each transition out of a sync, by name. */
static void test_transitions(void **state)
{
  (void)state;
  /* A new claim of ours: provision. */
  expect(OURS, PROV_NEXT_PROVISION);
  /* Ours, WaitForFirstConsumer, no node yet: the scheduler's annotation
   * queues it again. */
  expect(OURS | WAIT_NODE, PROV_NEXT_NOTHING);
  /* Not ours. */
  expect(0, PROV_NEXT_NOTHING);
  /* Its class is not cached yet: back off, it may appear. */
  expect(NO_CLASS, PROV_NEXT_WAIT_CLASS);
  /* Bound and ours: resize if asked (then unguard). */
  expect(OURS | BOUND, PROV_NEXT_RESIZE);
  expect(OURS | PV | GUARDED, PROV_NEXT_RESIZE);
  /* Bound, not ours (any more): only unguard. */
  expect(BOUND | GUARDED, PROV_NEXT_UNGUARD);
  /* Going, guarded, its PV saved after all: unguard (the PV's reclaim
   * policy takes over). */
  expect(GOING | GUARDED | PV | OURS, PROV_NEXT_UNGUARD);
  /* Going, guarded, no PV: remove the storage. */
  expect(GOING | GUARDED | OURS, PROV_NEXT_CLEANUP);
  expect(GOING | GUARDED, PROV_NEXT_CLEANUP);
  /* Going and not guarded: nothing of ours without a PV. */
  expect(GOING | OURS, PROV_NEXT_NOTHING);
  expect(GOING | OURS | PV, PROV_NEXT_NOTHING);
}

/* The backend's answer. */
static void test_after_backend(void **state)
{
  (void)state;
  assert_int_equal(prov_claim_after_backend(BERTH_OK), PROV_NEXT_SAVE);
  assert_int_equal(prov_claim_after_backend(BERTH_EINVAL), PROV_NEXT_REFUSE);
  assert_int_equal(prov_claim_after_backend(BERTH_ETRANSPORT),
                   PROV_NEXT_BACKOFF);
  assert_int_equal(prov_claim_after_backend(BERTH_ETIMEOUT), PROV_NEXT_BACKOFF);
  assert_int_equal(prov_claim_after_backend(BERTH_EIO), PROV_NEXT_BACKOFF);
}

/* The PV create's answer. */
static void test_after_save(void **state)
{
  (void)state;
  assert_int_equal(prov_claim_after_save(BERTH_OK), PROV_NEXT_SUCCEEDED);
  /* 409: pvc-<uid> can only be this claim's. */
  assert_int_equal(prov_claim_after_save(BERTH_EEXIST), PROV_NEXT_SUCCEEDED);
  assert_int_equal(prov_claim_after_save(BERTH_EINVAL), PROV_NEXT_UNDO);
  assert_int_equal(prov_claim_after_save(BERTH_EUNAVAILABLE),
                   PROV_NEXT_BACKOFF);
  assert_int_equal(prov_claim_after_save(BERTH_ETHROTTLED), PROV_NEXT_BACKOFF);
}

/* Over all 128 combinations of facts: never provision a claim that is
 * going, bound or has its PV (no duplicate), never remove storage unless
 * the claim is going, guarded and without a PV (no loss), and a going
 * claim that is not guarded is left alone. */
static void test_safety_properties(void **state)
{
  unsigned bits;

  (void)state;
  for (bits = 0; bits < ALL; bits++) {
    prov_claim_facts_t f = facts(bits);
    prov_claim_next_t n = prov_claim_decide(&f);

    if (n == PROV_NEXT_PROVISION) {
      assert_false(f.going);
      assert_false(f.bound);
      assert_false(f.pv_exists);
      assert_false(f.wait_for_node);
      assert_true(f.ours);
    }
    if (n == PROV_NEXT_CLEANUP) {
      assert_true(f.going);
      assert_true(f.guarded);
      assert_false(f.pv_exists);
    }
    if (f.going && !f.guarded)
      assert_int_equal(n, PROV_NEXT_NOTHING);
    if (f.going && f.guarded)
      assert_true(n == PROV_NEXT_CLEANUP || n == PROV_NEXT_UNGUARD);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transitions),
      cmocka_unit_test(test_after_backend),
      cmocka_unit_test(test_after_save),
      cmocka_unit_test(test_safety_properties),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
