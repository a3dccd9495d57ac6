/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: Kubernetes quantities (lib/util/quantity.c), exact as
 * resource.Quantity reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/quantity.h"

static void test_parse(void **state)
{
  static const struct {
    const char *in;
    uint64_t want;
  } ok[] = {
      {"0", 0},
      {"1", 1},
      {"1Ki", 1024},
      {"10Gi", 10737418240ULL},
      {"1.5Gi", 1610612736ULL},
      {"0.5Mi", 524288},
      {"500M", 500000000},
      {"1G", 1000000000},
      {"1k", 1000},
      {"1e9", 1000000000},
      {"1E3", 1000},
      {"2E", 2000000000000000000ULL},
      {"1500m", 2}, /* 1.5 bytes, rounded up */
      {"1m", 1},
      {"+3Mi", 3145728},
      {".5Ki", 512},
      {"1Ei", 1152921504606846976ULL},
      {"1.000000001G", 1000000001},
      /* 41 fraction digits: more than a 128-bit divisor holds. */
      {"0.0333333333333333333333333333333333333333", 1},
      {"0.00000000000000000000000000000000000000001Ki", 1},
      {"1000000000000000000000000000000000000000e-39", 1},
      {"0.5e1", 5},
      {"5.e3", 5000},
      {"5.k", 5000},
      {"1e+3", 1000},
      {"1000e-3", 1},
      {"1001e-3", 2},
      {"7Ei", 8070450532247928832ULL},
      {"9223372036854775807", 9223372036854775807ULL},
      {"9.223372036854775807E", 9223372036854775807ULL},
      {"8191.999999999999999Pi", 9223372036854775807ULL},
      {"-0", 0},
      {"0e2147483647", 0},
      {"1e-2147483648", 1},
      {"000000000000000000000000000001Ki", 1024},
      {"1n", 1},
      {"1000000000n", 1},
      {"1000000001n", 2},
  };
  static const char *const bad[] = {
      "",
      "Gi",
      "-1Gi",
      "1 Gi",
      "1gi",
      "1GB",
      "1.2.3",
      "abc",
      "1e",
      "1e99",
      "99999999999999999999",
      "20Ei",
      "1Gi ",
      "1E\n\n9",
      "1e 9",
      "1e\t9",
      "1e+ 9",
      "1e",
      "1e+",
      "1e-",
      "1ee3",
      "1e3.5",
      "1e2147483648",
      "1e-2147483649",
      "8Ei",
      "9223372036854775808",
      "9.223372036854775808E",
      "-1",
      "-0.001m",
      "+",
      "-",
      ".",
      "+.",
      ".Ki",
      " 1",
      "\t1",
      "1\n",
      "1K",
      "1KI",
      "1Mi1",
      "0x10",
      "1,5",
      "inf",
      "nan",
      "1e3Ki",
      NULL,
  };
  uint64_t v;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    v = 12345;
    if (berth_quantity_parse(ok[i].in, &v, NULL) != BERTH_OK)
      fail_msg("%s: refused", ok[i].in);
    if (v != ok[i].want)
      fail_msg("%s: %llu, want %llu", ok[i].in, (unsigned long long)v,
               (unsigned long long)ok[i].want);
  }
  for (i = 0; bad[i] != NULL; i++) {
    v = 7;
    if (berth_quantity_parse(bad[i], &v, NULL) == BERTH_OK)
      fail_msg("'%s' accepted as %llu", bad[i], (unsigned long long)v);
    assert_int_equal(v, 7);
  }
  assert_int_equal(berth_quantity_parse(NULL, &v, NULL), BERTH_EINVAL);
}

static void test_format(void **state)
{
  char out[32];

  (void)state;
  berth_quantity_format(10737418240ULL, out, sizeof(out));
  assert_string_equal(out, "10Gi");
  berth_quantity_format(1610612736ULL, out, sizeof(out));
  assert_string_equal(out, "1536Mi");
  berth_quantity_format(1000, out, sizeof(out));
  assert_string_equal(out, "1000");
  berth_quantity_format(0, out, sizeof(out));
  assert_string_equal(out, "0");
  berth_quantity_format(1024, out, sizeof(out));
  assert_string_equal(out, "1Ki");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
