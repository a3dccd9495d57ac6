/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-provisioner's Event correlator (provisioner/
 * correlator.c): first events always go, repeats need a token of the
 * source bucket, the optional Provisioning Event is shed only under
 * pressure, similar events are combined after max_similar, windows end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "correlator.h"

static prov_correlator_t *make(double qps, int burst)
{
  prov_correlator_options_t o;
  prov_correlator_t *c = NULL;

  memset(&o, 0, sizeof(o));
  o.qps = qps;
  o.burst = burst;
  o.max_similar = 3;
  o.window_ms = 60000;
  o.capacity = 8;
  assert_int_equal(prov_correlator_create(&o, &c), BERTH_OK);
  return c;
}

static prov_verdict_t judge(prov_correlator_t *c, const char *obj,
                            const char *type, const char *reason,
                            const char *msg, bool optional, bool pressure,
                            int64_t now, char *out)
{
  prov_event_in_t in;
  char buf[256];

  memset(&in, 0, sizeof(in));
  in.object = obj;
  in.type = type;
  in.reason = reason;
  in.message = msg;
  in.optional = optional;
  in.pressure = pressure;
  in.now_ms = now;
  return prov_correlator_judge(c, &in, out != NULL ? out : buf, 256);
}

#define FAIL(c, obj, msg, now)                                                 \
  judge(c, obj, "Warning", "ProvisioningFailed", msg, false, false, now, NULL)
#define PROVISIONING(c, obj, pressure, now)                                    \
  judge(c, obj, "Normal", "Provisioning", "p", true, pressure, now, NULL)

/* A storm of failures on many claims: each claim's first
 * ProvisioningFailed goes, whatever the bucket holds. */
static void test_first_failure_always_sent(void **state)
{
  prov_correlator_t *c = make(1, 2);
  prov_correlator_stats_t st;
  char obj[32];
  int i;

  (void)state;
  for (i = 0; i < 6; i++) {
    snprintf(obj, sizeof(obj), "uid-%d", i);
    assert_int_equal(FAIL(c, obj, "disk full", 0), PROV_EVENT_SEND);
  }
  prov_correlator_get_stats(c, &st);
  assert_int_equal(st.sent, 6);
  assert_int_equal(st.folded, 0);
  prov_correlator_destroy(c);
}

/* Repeats on one claim take tokens; without one they are folded, and a
 * token refilled later lets the next repeat go. */
static void test_repeats_folded_without_token(void **state)
{
  prov_correlator_t *c = make(1, 2);
  prov_correlator_stats_t st;

  (void)state;
  assert_int_equal(FAIL(c, "a", "x", 0), PROV_EVENT_SEND); /* 1 left */
  assert_int_equal(FAIL(c, "a", "x", 0), PROV_EVENT_SEND); /* 0 left */
  assert_int_equal(FAIL(c, "a", "x", 10), PROV_EVENT_FOLD);
  assert_int_equal(FAIL(c, "a", "x", 500), PROV_EVENT_FOLD);
  assert_int_equal(FAIL(c, "a", "x", 1010), PROV_EVENT_SEND); /* refilled */
  prov_correlator_get_stats(c, &st);
  assert_int_equal(st.folded, 2);
  assert_int_equal(st.sent, 3);
  prov_correlator_destroy(c);
}

/* Provisioning is shed only under pressure and without a token; the
 * outcome that follows is still sent. */
static void test_provisioning_shed_under_pressure(void **state)
{
  prov_correlator_t *c = make(1, 1);
  prov_correlator_stats_t st;

  (void)state;
  /* No pressure: sent even with the bucket empty. */
  assert_int_equal(PROVISIONING(c, "a", false, 0), PROV_EVENT_SEND);
  assert_int_equal(PROVISIONING(c, "b", false, 0), PROV_EVENT_SEND);
  /* Pressure and no token: shed. */
  assert_int_equal(PROVISIONING(c, "c", true, 0), PROV_EVENT_SHED);
  assert_int_equal(judge(c, "c", "Normal", "ProvisioningSucceeded", "ok", false,
                         true, 0, NULL),
                   PROV_EVENT_SEND);
  /* Pressure with a token: sent. */
  assert_int_equal(PROVISIONING(c, "d", true, 1000), PROV_EVENT_SEND);
  prov_correlator_get_stats(c, &st);
  assert_int_equal(st.shed, 1);
  prov_correlator_destroy(c);
}

/* Only the event marked optional is shed: a Warning (first on its
 * object) under pressure with an empty bucket is sent. */
static void test_warning_not_shed_under_pressure(void **state)
{
  prov_correlator_t *c = make(1, 1);

  (void)state;
  assert_int_equal(PROVISIONING(c, "a", true, 0), PROV_EVENT_SEND);
  assert_int_equal(
      judge(c, "b", "Warning", "ProvisioningFailed", "m", false, true, 0, NULL),
      PROV_EVENT_SEND);
  prov_correlator_destroy(c);
}

/* More than max_similar events (any message) on one object and reason
 * within the window: the message says they are combined. */
static void test_similar_combined(void **state)
{
  prov_correlator_t *c = make(1000, 1000);
  char out[256];
  int i;

  (void)state;
  for (i = 0; i < 3; i++) {
    char m[16];
    snprintf(m, sizeof(m), "err %d", i);
    assert_int_equal(
        judge(c, "a", "Warning", "ProvisioningFailed", m, false, false, i, out),
        PROV_EVENT_SEND);
    assert_string_equal(out, m);
  }
  assert_int_equal(judge(c, "a", "Warning", "ProvisioningFailed", "err 3",
                         false, false, 3, out),
                   PROV_EVENT_SEND);
  assert_string_equal(out, "(combined from similar events): err 3");
  /* Another reason on the same object is its own count. */
  assert_int_equal(judge(c, "a", "Normal", "ProvisioningSucceeded", "ok", false,
                         false, 4, out),
                   PROV_EVENT_SEND);
  assert_string_equal(out, "ok");
  prov_correlator_destroy(c);
}

/* After the window, a repeat is a first event again (sent without a
 * token, message as given). */
static void test_window_ends(void **state)
{
  prov_correlator_t *c = make(0.001, 1);
  char out[256];

  (void)state;
  assert_int_equal(FAIL(c, "a", "x", 0), PROV_EVENT_SEND);
  assert_int_equal(FAIL(c, "a", "x", 1), PROV_EVENT_FOLD);
  assert_int_equal(judge(c, "a", "Warning", "ProvisioningFailed", "x", false,
                         false, 60001, out),
                   PROV_EVENT_SEND);
  assert_string_equal(out, "x");
  prov_correlator_destroy(c);
}

/* The table is bounded: more keys than its capacity are still judged
 * (first events sent), and memory stays bounded (ASan checks the rest). */
static void test_capacity(void **state)
{
  prov_correlator_t *c = make(0.001, 1);
  char obj[32];
  int i;

  (void)state;
  for (i = 0; i < 100; i++) {
    snprintf(obj, sizeof(obj), "uid-%d", i);
    assert_int_equal(FAIL(c, obj, "m", i), PROV_EVENT_SEND);
  }
  prov_correlator_destroy(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_failure_always_sent),
      cmocka_unit_test(test_repeats_folded_without_token),
      cmocka_unit_test(test_provisioning_shed_under_pressure),
      cmocka_unit_test(test_warning_not_shed_under_pressure),
      cmocka_unit_test(test_similar_combined),
      cmocka_unit_test(test_window_ends),
      cmocka_unit_test(test_capacity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
