/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: status codes and error detail (lib/util/status.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/status.h"

static void test_every_status_has_text(void **state)
{
  int s;

  (void)state;
  for (s = 0; s < BERTH_STATUS_MAX_; s++) {
    assert_non_null(berth_strerror((berth_status_t)s));
    assert_string_not_equal(berth_strerror((berth_status_t)s),
                            "unknown status");
    assert_true(strncmp(berth_status_name((berth_status_t)s), "BERTH_", 6) ==
                0);
  }
  assert_string_equal(berth_strerror(BERTH_OK), "success");
  assert_string_equal(berth_status_name(BERTH_ECONFLICT), "BERTH_ECONFLICT");
  assert_string_equal(berth_strerror((berth_status_t)9999), "unknown status");
  assert_string_equal(berth_strerror((berth_status_t)-1), "unknown status");
}

static void test_error_set_returns_status(void **state)
{
  berth_error_t err;

  (void)state;
  berth_error_clear(&err);
  assert_int_equal(
      berth_error_set(&err, BERTH_ENOTFOUND, "claim %s/%s", "default", "data"),
      BERTH_ENOTFOUND);
  assert_int_equal(err.status, BERTH_ENOTFOUND);
  assert_string_equal(err.message, "claim default/data");
  /* A NULL error is allowed everywhere. */
  assert_int_equal(berth_error_set(NULL, BERTH_EIO, "x"), BERTH_EIO);
  berth_error_clear(NULL);
  berth_error_prefix(NULL, "p");
  berth_error_set_reason(NULL, "r");
}

static void test_error_prefix_and_truncation(void **state)
{
  berth_error_t err;
  char longmsg[2000];

  (void)state;
  berth_error_clear(&err);
  berth_error_set(&err, BERTH_ETIMEOUT, "no answer");
  berth_error_prefix(&err, "GET /api/v1/pods");
  assert_string_equal(err.message, "GET /api/v1/pods: no answer");

  memset(longmsg, 'x', sizeof(longmsg) - 1);
  longmsg[sizeof(longmsg) - 1] = '\0';
  berth_error_set(&err, BERTH_EIO, "%s", longmsg);
  assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
  berth_error_prefix(&err, "ctx");
  assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
  assert_true(strncmp(err.message, "ctx: xxx", 8) == 0);

  berth_error_set_reason(
      &err,
      "AlreadyExistsAndThisReasonIsWayTooLongToFitInSixtyFourBytesOfSpace!!");
  assert_int_equal(strlen(err.reason), sizeof(err.reason) - 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_status_has_text),
      cmocka_unit_test(test_error_set_returns_status),
      cmocka_unit_test(test_error_prefix_and_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
