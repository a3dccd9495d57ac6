/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: endpoint resolution (lib/aws/endpoints.c) against botocore's
 * endpoint rule-set tests for EC2, EFS and STS, in the checkout:
 * tests/data/aws/endpoint-tests-botocore/. Every case must
 * give the expected URL (and signing region, where the case names one) or
 * the expected error. A missing directory is a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "berth/aws.h"

#define DIR BERTH_TEST_DATA "/aws/endpoint-tests-botocore"

static void run_file(const char *file, berth_aws_service_t service,
                     size_t min_cases)
{
  char path[1024];
  json_t *doc;
  json_error_t jerr;
  json_t *cases;
  size_t i, failed = 0;

  snprintf(path, sizeof(path), "%s/%s", DIR, file);
  doc = json_load_file(path, 0, &jerr);
  if (doc == NULL)
    fail_msg("cannot read %s: %s (tests/data/aws is part of the checkout)",
             path, jerr.text);
  cases = json_object_get(doc, "testCases");
  assert_true(json_is_array(cases));
  assert_true(json_array_size(cases) >= min_cases);
  for (i = 0; i < json_array_size(cases); i++) {
    json_t *tc = json_array_get(cases, i);
    json_t *params = json_object_get(tc, "params");
    json_t *expect = json_object_get(tc, "expect");
    const char *want_url = json_string_value(
        json_object_get(json_object_get(expect, "endpoint"), "url"));
    const char *want_err = json_string_value(json_object_get(expect, "error"));
    json_t *schemes = json_object_get(
        json_object_get(json_object_get(expect, "endpoint"), "properties"),
        "authSchemes");
    const char *want_signing = json_string_value(
        json_object_get(json_array_get(schemes, 0), "signingRegion"));
    berth_aws_endpoint_params_t p;
    berth_aws_endpoint_t ep;
    berth_error_t err;
    berth_status_t st;

    memset(&p, 0, sizeof(p));
    p.region = json_string_value(json_object_get(params, "Region"));
    p.use_fips = json_is_true(json_object_get(params, "UseFIPS"));
    p.use_dualstack = json_is_true(json_object_get(params, "UseDualStack"));
    p.sts_global = json_is_true(json_object_get(params, "UseGlobalEndpoint"));
    p.custom_url = json_string_value(json_object_get(params, "Endpoint"));
    st = berth_aws_endpoint_resolve(service, &p, &ep, &err);
    if (want_url != NULL) {
      if (st != BERTH_OK || strcmp(ep.url, want_url) != 0 ||
          (want_signing != NULL &&
           strcmp(ep.signing_region, want_signing) != 0)) {
        print_error("%s case %zu (%s fips=%d dual=%d): want %s (%s), got %s "
                    "(%s) %s\n",
                    file, i, p.region ? p.region : "-", p.use_fips,
                    p.use_dualstack, want_url,
                    want_signing ? want_signing : "-",
                    st == BERTH_OK ? ep.url : "error",
                    st == BERTH_OK ? ep.signing_region : "-",
                    st == BERTH_OK ? "" : err.message);
        failed++;
      }
    } else {
      assert_non_null(want_err);
      if (st == BERTH_OK || strncmp(err.message, want_err, 30) != 0) {
        print_error("%s case %zu: want error \"%s\", got %s\n", file, i,
                    want_err, st == BERTH_OK ? ep.url : err.message);
        failed++;
      }
    }
  }
  json_decref(doc);
  if (failed > 0)
    fail_msg("%zu of %s's cases failed", failed, file);
}

static void test_ec2(void **state)
{
  (void)state;
  run_file("ec2-endpoint-tests-1.json", BERTH_AWS_EC2, 50);
}

static void test_efs(void **state)
{
  (void)state;
  run_file("efs-endpoint-tests-1.json", BERTH_AWS_EFS, 20);
}

static void test_sts(void **state)
{
  (void)state;
  run_file("sts-endpoint-tests-1.json", BERTH_AWS_STS, 60);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ec2),
      cmocka_unit_test(test_efs),
      cmocka_unit_test(test_sts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
