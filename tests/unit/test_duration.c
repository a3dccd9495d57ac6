/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the one duration parser of the three programs
 * (lib/util/duration.c): Go's units, integer arithmetic, no sign, no
 * white space, no NaN or infinity, a maximum, errors naming the flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/duration.h"

static void test_ok(void **state)
{
  static const struct {
    const char *in;
    int64_t ms;
  } ok[] = {
      {"0", 0},
      {"15s", 15000},
      {"1m30s", 90000},
      {"500ms", 500},
      {"2h", 7200000},
      {"10", 10000},
      {"0.5", 500},
      {"1.5s", 1500},
      {".5s", 500},
      {"5.s", 5000},
      {"1h1m1s1ms", 3661001},
      {"1000us", 1},
      {"1001us", 2}, /* sub-millisecond parts round up */
      {"1ns", 1},
      {"0ns", 0},
      {"1\xc2\xb5s", 1},
      {"1\xce\xbcs", 1},
      {"0.0000000001h", 1},
      {"0.001s", 1},
      {"2562047h", 9223369200000LL},
      {"9223372036854ms", 9223372036854LL},
      {"00000000000000000000000000001s", 1000},
      {"1.00000000000000000000000000001s", 1000}, /* < 1 ns: dropped */
      {"1.000001s", 1001},
      {"0.5ns", 0},
      {"999999.6ns0.6ns", 1}, /* 999999 ns + 0 ns, as Go sums them */
  };
  int64_t ms;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    berth_error_t err;

    ms = -7;
    if (berth_duration_parse("--x", ok[i].in, 0, &ms, &err) != BERTH_OK)
      fail_msg("'%s' refused: %s", ok[i].in, err.message);
    if (ms != ok[i].ms)
      fail_msg("'%s': %lld ms, want %lld", ok[i].in, (long long)ms,
               (long long)ok[i].ms);
  }
}

static void test_bad(void **state)
{
  /* Issue 14: 1e300, infs and nanms were undefined behaviour (a double
   * out of int64 range converted), and became INT64_MIN; "\t-5s" was
   * -4999 ms through strtod's white space and sign. */
  static const char *const bad[] = {
      "",
      "s",
      "ms",
      "5x",
      "1d",
      "-1s",
      "+1s",
      "-0",
      "1s5",
      " 5s",
      "5s ",
      "\t-5s",
      "\n-5s",
      "1 s",
      "1e300",
      "1e300s",
      "1e3s",
      "infs",
      "inf",
      "nanms",
      "nan",
      "NaN",
      "0x10s",
      "1.5.5s",
      ".s",
      "..5s",
      "1,5s",
      "1S",
      "1H",
      "1mm",
      "1sm",
      "5\xc2\xb5",
      "\xc2\xb5s",
      "1\xc2s",
      "9223372036855ms",
      "2562048h",
      "99999999999999999999999s",
      "5s\n",
      "1h-1m",
      NULL,
  };
  size_t i;

  (void)state;
  for (i = 0; bad[i] != NULL; i++) {
    berth_error_t err;
    int64_t ms = 7;

    berth_error_clear(&err);
    if (berth_duration_parse("--drain-timeout", bad[i], 0, &ms, &err) !=
        BERTH_EPARSE)
      fail_msg("'%s' accepted as %lld ms", bad[i], (long long)ms);
    assert_int_equal(ms, 7);
    assert_non_null(strstr(err.message, "--drain-timeout"));
  }
}

static void test_maximum(void **state)
{
  berth_error_t err;
  int64_t ms = 0;

  (void)state;
  assert_int_equal(
      berth_duration_parse("--min-age", "24h", 86400000, &ms, &err), BERTH_OK);
  assert_true(ms == 86400000);
  assert_int_equal(
      berth_duration_parse("--min-age", "24h1ms", 86400000, &ms, &err),
      BERTH_EPARSE);
  assert_non_null(strstr(err.message, "--min-age"));
  assert_non_null(strstr(err.message, "maximum"));
  /* Rounding up may not cross the maximum either. */
  assert_int_equal(
      berth_duration_parse("--min-age", "86399999001us", 86400000, &ms, &err),
      BERTH_OK);
  assert_int_equal(berth_duration_parse("--min-age", "86400000000001ns",
                                        86400000, &ms, &err),
                   BERTH_EPARSE);
  /* A control byte in the value is shown escaped, not printed. */
  assert_int_equal(berth_duration_parse("--x", "\x1b[2J", 0, &ms, &err),
                   BERTH_EPARSE);
  assert_null(strchr(err.message, '\x1b'));
  assert_int_equal(berth_duration_parse("--x", NULL, 0, &ms, &err),
                   BERTH_EPARSE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ok),
      cmocka_unit_test(test_bad),
      cmocka_unit_test(test_maximum),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
