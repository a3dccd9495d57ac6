/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the HTTP client's pure helpers: the status mapping and
 * Retry-After parsing (include/berth/http.h). No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "berth/http.h"

static void test_status_mapping(void **state)
{
  static const struct {
    long code;
    berth_status_t want;
  } cases[] = {
      {200, BERTH_OK},           {201, BERTH_OK},
      {204, BERTH_OK},           {299, BERTH_OK},
      {400, BERTH_EHTTP},        {401, BERTH_EUNAUTHORIZED},
      {403, BERTH_EFORBIDDEN},   {404, BERTH_ENOTFOUND},
      {405, BERTH_EHTTP},        {409, BERTH_ECONFLICT},
      {410, BERTH_EGONE},        {413, BERTH_ETOOBIG},
      {422, BERTH_EHTTP},        {429, BERTH_ETHROTTLED},
      {499, BERTH_EHTTP},        {500, BERTH_EUNAVAILABLE},
      {502, BERTH_EUNAVAILABLE}, {503, BERTH_EUNAVAILABLE},
      {504, BERTH_EUNAVAILABLE}, {599, BERTH_EUNAVAILABLE},
      {100, BERTH_EHTTP},        {199, BERTH_EHTTP},
      {300, BERTH_EHTTP},        {304, BERTH_EHTTP},
      {600, BERTH_EHTTP},        {0, BERTH_EHTTP},
      {-1, BERTH_EHTTP},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if (berth_http_status_to_berth(cases[i].code) != cases[i].want)
      print_error("code %ld\n", cases[i].code);
    assert_int_equal(berth_http_status_to_berth(cases[i].code), cases[i].want);
  }
}

static void test_retry_after_seconds(void **state)
{
  int64_t ms = -7;

  (void)state;
  assert_int_equal(berth_http_parse_retry_after("2", 0, &ms), BERTH_OK);
  assert_int_equal(ms, 2000);
  assert_int_equal(berth_http_parse_retry_after("0", 0, &ms), BERTH_OK);
  assert_int_equal(ms, 0);
  assert_int_equal(berth_http_parse_retry_after(" 120\t", 0, &ms), BERTH_OK);
  assert_int_equal(ms, 120000);

  ms = -7;
  assert_int_equal(berth_http_parse_retry_after("", 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("   ", 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after(NULL, 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("-1", 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("1.5", 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("5s", 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("+5", 0, &ms), BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("99999999999999999999", 0, &ms),
                   BERTH_EPARSE);
  assert_int_equal(berth_http_parse_retry_after("soon", 0, &ms), BERTH_EPARSE);
  /* Out-parameter untouched on failure. */
  assert_int_equal(ms, -7);
}

static void test_retry_after_date(void **state)
{
  /* Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 s after the epoch. */
  const int64_t date_ms = INT64_C(1445412480) * 1000;
  int64_t ms = -7;

  (void)state;
  /* IMF-fixdate, 90 s in the future. */
  assert_int_equal(berth_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
                                                date_ms - 90000, &ms),
                   BERTH_OK);
  assert_int_equal(ms, 90000);
  /* The obsolete RFC 850 and asctime forms. */
  assert_int_equal(
      berth_http_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT",
                                   date_ms - 1500, &ms),
      BERTH_OK);
  assert_int_equal(ms, 1500);
  assert_int_equal(berth_http_parse_retry_after("Wed Oct 21 07:28:00 2015",
                                                date_ms - 2000, &ms),
                   BERTH_OK);
  assert_int_equal(ms, 2000);
  /* A date in the past means "now". */
  assert_int_equal(berth_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
                                                date_ms + 5000, &ms),
                   BERTH_OK);
  assert_int_equal(ms, 0);
  assert_int_equal(berth_http_parse_retry_after("Wed, 99 Foo 2015", 0, &ms),
                   BERTH_EPARSE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_mapping),
      cmocka_unit_test(test_retry_after_seconds),
      cmocka_unit_test(test_retry_after_date),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
