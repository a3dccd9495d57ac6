/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: reading a Lease (lib/k8s/lease.c). Its counts are int32 in
 * the API; a hostile or broken server's larger values are refused, since
 * the leader multiplies leaseDurationSeconds by 1000 (issue 14). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/k8s_lease.h"

static berth_status_t from_text(const char *text, berth_k8s_lease_t *l,
                                berth_error_t *err)
{
  json_t *obj = json_loads(text, 0, NULL);
  berth_status_t st;

  assert_non_null(obj);
  st = berth_k8s_lease_from_json(obj, l, err);
  json_decref(obj);
  return st;
}

static void test_counts(void **state)
{
  static const char *const bad[] = {
      "{\"spec\":{\"leaseDurationSeconds\":9223372036854775807}}",
      "{\"spec\":{\"leaseDurationSeconds\":2147483648}}",
      "{\"spec\":{\"leaseDurationSeconds\":-1}}",
      "{\"spec\":{\"leaseDurationSeconds\":\"15\"}}",
      "{\"spec\":{\"leaseTransitions\":9223372036854775807}}",
      NULL,
  };
  berth_k8s_lease_t l;
  berth_error_t err;
  size_t i;

  (void)state;
  assert_int_equal(from_text("{\"metadata\":{\"resourceVersion\":\"7\"},"
                             "\"spec\":{\"holderIdentity\":\"a\","
                             "\"leaseDurationSeconds\":15,"
                             "\"leaseTransitions\":2147483647}}",
                             &l, &err),
                   BERTH_OK);
  assert_true(l.lease_duration_seconds == 15);
  assert_true(l.lease_transitions == 2147483647);
  assert_string_equal(l.holder_identity, "a");
  assert_int_equal(from_text("{\"spec\":{}}", &l, &err), BERTH_OK);
  assert_true(l.lease_duration_seconds == 0);
  for (i = 0; bad[i] != NULL; i++) {
    berth_error_clear(&err);
    if (from_text(bad[i], &l, &err) != BERTH_EPARSE)
      fail_msg("%s accepted", bad[i]);
    assert_non_null(strstr(err.message, "lease: spec."));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
