/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: AWS error bodies and codes (lib/aws/errors.c) on real error
 * bodies from tests/data/aws/ (see its NOTICE) and on
 * EFS's JSON shape; the code -> berth status map; throttling codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_int.h"
#include "berth/aws.h"

#define AWSDATA BERTH_TEST_DATA "/aws"

static char *slurp(const char *path, size_t *len)
{
  char *s = NULL;

  if (berth__aws_read_file(path, 1 << 20, &s) != BERTH_OK)
    fail_msg("cannot read %s (tests/data/aws is part of the checkout)", path);
  *len = strlen(s);
  return s;
}

static void expect_error(const char *file, const char *code,
                         const char *msg_start)
{
  char path[1024];
  char c[128], m[512];
  size_t len;
  char *body;

  snprintf(path, sizeof(path), "%s/%s", AWSDATA, file);
  body = slurp(path, &len);
  assert_int_equal(berth_aws_parse_error(body, len, c, sizeof(c), m, sizeof(m)),
                   BERTH_OK);
  assert_string_equal(c, code);
  if (strncmp(m, msg_start, strlen(msg_start)) != 0)
    fail_msg("%s: message \"%s\"", file, m);
  free(body);
}

static void test_real_bodies(void **state)
{
  (void)state;
  expect_error("ec2-libcloud/run_instances_idem_mismatch.xml",
               "IdempotentParameterMismatch",
               "Arguments on this idempotent request are inconsistent");
  expect_error("ec2-libcloud/describe_key_pairs_doesnt_exist.xml",
               "InvalidKeyPair.NotFound", "The key pair");
  expect_error("ec2-botocore/errors/ec2-describe-instances.xml",
               "InvalidInstanceID.Malformed", "Invalid id");
  expect_error("sts-botocore/errors/sts-get-session-token.xml", "AccessDenied",
               "GetSessionToken call failed");
}

static void test_json_bodies(void **state)
{
  char c[64], m[128];
  const char *efs = "{\"ErrorCode\":\"AccessPointNotFound\","
                    "\"Message\":\"Access point 'fsap-1' does not exist.\"}";
  const char *typed = "{\"__type\":\"com.amazon#ThrottlingException\","
                      "\"message\":\"Rate exceeded\"}";
  const char *colon = "{\"code\":\"FooError:http://internal.amazon.com/\"}";

  (void)state;
  assert_int_equal(
      berth_aws_parse_error(efs, strlen(efs), c, sizeof(c), m, sizeof(m)),
      BERTH_OK);
  assert_string_equal(c, "AccessPointNotFound");
  assert_string_equal(m, "Access point 'fsap-1' does not exist.");
  assert_int_equal(
      berth_aws_parse_error(typed, strlen(typed), c, sizeof(c), m, sizeof(m)),
      BERTH_OK);
  assert_string_equal(c, "ThrottlingException");
  assert_int_equal(
      berth_aws_parse_error(colon, strlen(colon), c, sizeof(c), m, sizeof(m)),
      BERTH_OK);
  assert_string_equal(c, "FooError");
  assert_int_equal(berth_aws_parse_error("nope", 4, c, sizeof(c), m, sizeof(m)),
                   BERTH_EPARSE);
  assert_int_equal(berth_aws_parse_error("{}", 2, c, sizeof(c), m, sizeof(m)),
                   BERTH_EPARSE);
  assert_int_equal(
      berth_aws_parse_error("<a><b>", 6, c, sizeof(c), m, sizeof(m)),
      BERTH_EPARSE);
}

/* Control bytes from a hostile or broken endpoint (a terminal escape,
 * DEL) never reach code or message, and a message cut to fit stays valid
 * UTF-8 (found by tests/fuzz aws_xml: corpus/aws_xml/error-json-del). */
static void test_control_bytes(void **state)
{
  const char *body = "{\"__type\":\"co.amaz\\u007fna\",\"message\":"
                     "\"red \\u001b[31m\\u0007 text\"}";
  const char *utf8 = "{\"code\":\"X\",\"message\":\"aaaaaa\\u00e9\"}";
  char c[64], m[128];
  char small[8];
  size_t i;

  (void)state;
  assert_int_equal(
      berth_aws_parse_error(body, strlen(body), c, sizeof(c), m, sizeof(m)),
      BERTH_OK);
  for (i = 0; c[i] != '\0'; i++)
    assert_true((unsigned char)c[i] >= 0x20 && c[i] != 0x7f);
  for (i = 0; m[i] != '\0'; i++)
    assert_true((unsigned char)m[i] >= 0x20 && m[i] != 0x7f);
  assert_non_null(strstr(m, "red "));
  /* "aaaaaa" and half of the two bytes of U+00E9 fit in 8: the half goes. */
  assert_int_equal(berth_aws_parse_error(utf8, strlen(utf8), c, sizeof(c),
                                         small, sizeof(small)),
                   BERTH_OK);
  assert_string_equal(small, "aaaaaa");
}

/* A server echoing a signature or token back: redacted in the message. */
static void test_message_redacted(void **state)
{
  const char *body =
      "<Response><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>"
      "Got Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, "
      "SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef"
      "</Message></Error></Errors></Response>";
  char c[64], m[256];

  (void)state;
  assert_int_equal(
      berth_aws_parse_error(body, strlen(body), c, sizeof(c), m, sizeof(m)),
      BERTH_OK);
  assert_null(strstr(m, "0123456789abcdef0123456789abcdef"));
}

static void test_status_map(void **state)
{
  (void)state;
  assert_int_equal(berth_aws_error_status("InvalidVolume.NotFound", 400),
                   BERTH_ENOTFOUND);
  assert_int_equal(berth_aws_error_status("AccessPointNotFound", 404),
                   BERTH_ENOTFOUND);
  assert_int_equal(berth_aws_error_status("InvalidZone.NotFound", 400),
                   BERTH_EINVAL);
  assert_int_equal(berth_aws_error_status("AccessPointAlreadyExists", 409),
                   BERTH_EEXIST);
  assert_int_equal(berth_aws_error_status("IdempotentParameterMismatch", 400),
                   BERTH_ECONFLICT);
  assert_int_equal(berth_aws_error_status("VolumeInUse", 400), BERTH_ECONFLICT);
  assert_int_equal(berth_aws_error_status("RequestLimitExceeded", 503),
                   BERTH_ETHROTTLED);
  assert_int_equal(berth_aws_error_status("ThrottlingException", 400),
                   BERTH_ETHROTTLED);
  assert_int_equal(berth_aws_error_status("SignatureDoesNotMatch", 403),
                   BERTH_EUNAUTHORIZED);
  assert_int_equal(berth_aws_error_status("RequestExpired", 400),
                   BERTH_EUNAUTHORIZED);
  assert_int_equal(berth_aws_error_status("UnauthorizedOperation", 403),
                   BERTH_EFORBIDDEN);
  assert_int_equal(berth_aws_error_status("InvalidParameterValue", 400),
                   BERTH_EINVAL);
  assert_int_equal(berth_aws_error_status("InvalidVolumeID.Malformed", 400),
                   BERTH_EINVAL);
  assert_int_equal(berth_aws_error_status("VolumeLimitExceeded", 400),
                   BERTH_EPERM);
  assert_int_equal(berth_aws_error_status("InternalError", 500),
                   BERTH_EUNAVAILABLE);
  assert_int_equal(berth_aws_error_status("Whatever", 503), BERTH_EUNAVAILABLE);
  assert_int_equal(berth_aws_error_status(NULL, 404), BERTH_ENOTFOUND);
  assert_int_equal(berth_aws_error_status(NULL, 400), BERTH_EHTTP);
  assert_true(berth_aws_error_is_throttling("Throttling"));
  assert_true(berth_aws_error_is_throttling("TooManyRequestsException"));
  assert_false(berth_aws_error_is_throttling("ThrottlingX"));
  assert_false(berth_aws_error_is_throttling(NULL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_bodies),
      cmocka_unit_test(test_json_bodies),
      cmocka_unit_test(test_message_redacted),
      cmocka_unit_test(test_control_bytes),
      cmocka_unit_test(test_status_map),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
