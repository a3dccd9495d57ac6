/* Unit tests: Kubernetes quantities (provisioner/quantity.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "quantity.h"

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
      NULL,
  };
  uint64_t v;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    v = 12345;
    if (prov_quantity_parse(ok[i].in, &v) != BERTH_OK)
      fail_msg("%s: refused", ok[i].in);
    if (v != ok[i].want)
      fail_msg("%s: %llu, want %llu", ok[i].in, (unsigned long long)v,
               (unsigned long long)ok[i].want);
  }
  for (i = 0; bad[i] != NULL; i++) {
    v = 7;
    if (prov_quantity_parse(bad[i], &v) == BERTH_OK)
      fail_msg("'%s' accepted as %llu", bad[i], (unsigned long long)v);
    assert_int_equal(v, 7);
  }
  assert_int_equal(prov_quantity_parse(NULL, &v), BERTH_EINVAL);
}

static void test_format(void **state)
{
  char out[32];

  (void)state;
  prov_quantity_format(10737418240ULL, out, sizeof(out));
  assert_string_equal(out, "10Gi");
  prov_quantity_format(1610612736ULL, out, sizeof(out));
  assert_string_equal(out, "1536Mi");
  prov_quantity_format(1000, out, sizeof(out));
  assert_string_equal(out, "1000");
  prov_quantity_format(0, out, sizeof(out));
  assert_string_equal(out, "0");
  prov_quantity_format(1024, out, sizeof(out));
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
