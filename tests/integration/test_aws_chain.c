/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: the credential chain against the emulator's STS
 * (AssumeRoleWithWebIdentity, AssumeRole), container endpoint and IMDSv2:
 * order, refresh before expiry, the failure modes, and that the
 * credentials each source gives really sign EC2 calls. Run under
 * tests/bed/bed.py run aws. */
#include "test_aws_common.c"

#include <unistd.h>

#include "berth/aws_ec2.h"
#include "test_timing.h"

static char *read_text(const char *path)
{
  FILE *f = fopen(path, "rb");
  char buf[4096];
  size_t n;

  assert_non_null(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return strdup(buf);
}

/* Get credentials from a fresh chain over e; returns the status. */
static berth_status_t chain_get(test_env_t *e, berth_aws_credentials_t *c,
                                berth_error_t *err)
{
  berth_aws_options_t o;
  berth_aws_creds_provider_t *p = NULL;
  berth_status_t st;

  test_options(&o, e);
  assert_int_equal(berth_aws_creds_chain_create(&o, &p, err), BERTH_OK);
  st = berth_aws_creds_get(p, c, err);
  berth_aws_creds_provider_destroy(p);
  return st;
}

/* The credentials sign a real EC2 call. */
static void assert_creds_work(test_env_t *e, const berth_aws_credentials_t *c)
{
  berth_aws_options_t o;
  berth_aws_creds_provider_t *p = NULL;
  berth_aws_t *aws = NULL;
  berth_ec2_volume_list_t l;
  berth_error_t err;

  test_options(&o, e);
  assert_int_equal(berth_aws_creds_static_create(c, &p, NULL), BERTH_OK);
  assert_int_equal(berth_aws_create_with_provider(&o, p, &aws, &err), BERTH_OK);
  if (berth_ec2_describe_volumes(aws, NULL, &l, &err) != BERTH_OK)
    fail_msg("DescribeVolumes with %s credentials: %s", c->source, err.message);
  berth_ec2_volume_list_cleanup(&l);
  berth_aws_destroy(aws);
}

static void test_web_identity(void **state)
{
  test_env_t e;
  berth_aws_credentials_t c;
  berth_error_t err;

  (void)state;
  emulator_reset();
  test_env_base(&e);
  test_env_set(&e, "AWS_ROLE_ARN", bed_env("BERTH_AWS_ROLE_ARN"));
  test_env_set(&e, "AWS_WEB_IDENTITY_TOKEN_FILE",
               bed_env("BERTH_AWS_WEB_IDENTITY_TOKEN_FILE"));
  test_env_set(&e, "AWS_ROLE_SESSION_NAME", "berth-test");
  /* Container and IMDS are configured too, but come later. */
  test_env_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               bed_env("BERTH_AWS_CONTAINER_URL"));
  assert_int_equal(chain_get(&e, &c, &err), BERTH_OK);
  assert_string_equal(c.source, "web-identity");
  assert_true(strncmp(c.access_key_id, "ASIA", 4) == 0);
  assert_non_null(c.session_token);
  assert_true(c.expiration_ms > berth_clock_realtime_ms(NULL));
  assert_creds_work(&e, &c);
  berth_aws_credentials_cleanup(&c);
  assert_int_equal(counter("credentials", "sts_web_identity"), 1);
  assert_int_equal(counter("credentials", "container"), 0);
  assert_int_equal(counter("credentials", "imds"), 0);
  test_env_free(&e);
}

static void test_web_identity_wrong_token(void **state)
{
  test_env_t e;
  berth_aws_credentials_t c;
  berth_error_t err;
  char path[] = "/tmp/berth-wit-XXXXXX";
  int fd;

  (void)state;
  emulator_reset();
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "eyJ.forged.token\n", 17), 17);
  close(fd);
  test_env_base(&e);
  test_env_set(&e, "AWS_ROLE_ARN", bed_env("BERTH_AWS_ROLE_ARN"));
  test_env_set(&e, "AWS_WEB_IDENTITY_TOKEN_FILE", path);
  assert_int_equal(chain_get(&e, &c, &err), BERTH_EUNAUTHORIZED);
  assert_string_equal(err.reason, "InvalidIdentityToken");
  assert_non_null(strstr(err.message, "web identity"));
  assert_non_null(strstr(err.message, "AssumeRoleWithWebIdentity"));
  assert_null(strstr(err.message, "forged"));
  unlink(path);
  test_env_free(&e);
}

static void test_profile_assume_role(void **state)
{
  test_env_t e;
  berth_aws_credentials_t c;
  berth_error_t err;
  char path[] = "/tmp/berth-awsconfig-XXXXXX";
  FILE *f;
  int fd;

  (void)state;
  emulator_reset();
  fd = mkstemp(path);
  assert_true(fd >= 0);
  f = fdopen(fd, "w");
  fprintf(f,
          "[profile base]\n"
          "aws_access_key_id = %s\n"
          "aws_secret_access_key = %s\n"
          "[profile middle]\n"
          "role_arn = arn:aws:iam::123456789012:role/middle\n"
          "source_profile = base\n"
          "[profile app]\n"
          "role_arn = arn:aws:iam::123456789012:role/app\n"
          "source_profile = middle\n"
          "role_session_name = berth-app\n"
          "external_id = ext-1\n"
          "duration_seconds = 900\n",
          bed_env("AWS_ACCESS_KEY_ID"), bed_env("AWS_SECRET_ACCESS_KEY"));
  fclose(f);
  test_env_base(&e);
  test_env_set(&e, "AWS_CONFIG_FILE", path);
  test_env_set(&e, "AWS_PROFILE", "app");
  assert_int_equal(chain_get(&e, &c, &err), BERTH_OK);
  assert_string_equal(c.source, "assume-role");
  assert_true(strncmp(c.access_key_id, "ASIA", 4) == 0);
  /* base -> middle -> app: two AssumeRole calls, each signed by the
   * credentials before it. */
  assert_int_equal(counter("credentials", "sts_assume_role"), 2);
  assert_creds_work(&e, &c);
  berth_aws_credentials_cleanup(&c);
  unlink(path);
  test_env_free(&e);
}

static void test_container(void **state)
{
  test_env_t e;
  berth_aws_credentials_t c;
  berth_error_t err;
  char *token;

  (void)state;
  emulator_reset();
  token = read_text(bed_env("BERTH_AWS_CONTAINER_TOKEN_FILE"));
  test_env_base(&e);
  test_env_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               bed_env("BERTH_AWS_CONTAINER_URL"));
  /* The token file wins over the token variable. */
  test_env_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");
  test_env_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
               bed_env("BERTH_AWS_CONTAINER_TOKEN_FILE"));
  assert_int_equal(chain_get(&e, &c, &err), BERTH_OK);
  assert_string_equal(c.source, "container");
  assert_creds_work(&e, &c);
  berth_aws_credentials_cleanup(&c);
  assert_int_equal(counter("credentials", "imds"), 0);

  /* The variable alone, right and wrong. */
  test_env_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL);
  test_env_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN", token);
  assert_int_equal(chain_get(&e, &c, &err), BERTH_OK);
  berth_aws_credentials_cleanup(&c);
  test_env_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");
  assert_int_equal(chain_get(&e, &c, &err), BERTH_EFORBIDDEN);
  assert_string_equal(err.reason, "AccessDeniedException");
  assert_non_null(strstr(err.message, "container"));
  assert_null(strstr(err.message, "wrong"));

  /* _RELATIVE_URI goes to 169.254.170.2, which is not reachable here: a
   * transport error naming the container source, quickly. */
  test_env_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL);
  test_env_set(&e, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds");
  assert_int_not_equal(chain_get(&e, &c, &err), BERTH_OK);
  assert_non_null(strstr(err.message, "container"));
  free(token);
  test_env_free(&e);
}

static void test_imds(void **state)
{
  test_env_t e;
  berth_aws_options_t o;
  berth_aws_credentials_t c;
  berth_error_t err;
  char *region = NULL;
  int64_t t0;

  (void)state;
  emulator_reset();
  test_env_base(&e);
  assert_int_equal(chain_get(&e, &c, &err), BERTH_OK);
  assert_string_equal(c.source, "imds");
  assert_creds_work(&e, &c);
  berth_aws_credentials_cleanup(&c);
  assert_int_equal(counter("credentials", "imds"), 1);
  assert_true(counter("imds", "token_requests") >= 1);

  /* The region from IMDS when nothing else names one. */
  test_env_set(&e, "AWS_REGION", NULL);
  test_options(&o, &e);
  assert_int_equal(berth_aws_region_resolve(&o, &region, &err), BERTH_OK);
  assert_string_equal(region, bed_env("AWS_REGION"));
  free(region);

  /* No instance profile. */
  admin_post("/faults", "{\"imds_no_role\": true}");
  assert_int_equal(chain_get(&e, &c, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "no IAM role"));

  /* Hop limit 1 from a container: the token PUT never answers; berth
   * gives up after the metadata time-out and says why. */
  admin_post("/faults", "{\"imds_no_role\": false, \"imds_hop_limit\": true}");
  test_options(&o, &e);
  o.metadata_timeout_ms = 300;
  {
    berth_aws_creds_provider_t *p = NULL;
    assert_int_equal(berth_aws_creds_chain_create(&o, &p, NULL), BERTH_OK);
    t0 = berth_clock_monotonic_ms(NULL);
    assert_int_equal(berth_aws_creds_get(p, &c, &err), BERTH_ETIMEOUT);
    assert_true(berth_clock_monotonic_ms(NULL) - t0 < test_bound_ms(5000));
    assert_non_null(strstr(err.message, "hop limit"));
    berth_aws_creds_provider_destroy(p);
  }
  admin_post("/faults", "{\"imds_hop_limit\": false, \"imds_disabled\": "
                        "true}");
  assert_int_equal(chain_get(&e, &c, &err), BERTH_EFORBIDDEN);
  admin_post("/faults", "{\"imds_disabled\": false}");
  /* AWS_EC2_METADATA_DISABLED ends the chain. */
  test_env_set(&e, "AWS_EC2_METADATA_DISABLED", "true");
  assert_int_equal(chain_get(&e, &c, &err), BERTH_ENOTFOUND);
  test_env_free(&e);
}

/* Refresh before expiry, with a clock moved forward: cached while far
 * from expiry, refetched inside the 5-minute window, old credentials kept
 * when a refresh fails while they are still valid, an error once they
 * have expired. */
static void test_refresh(void **state)
{
  test_env_t e;
  berth_aws_options_t o;
  berth_aws_creds_provider_t *p = NULL;
  berth_aws_credentials_t c1, c2, c3;
  berth_error_t err;
  offset_clock_t oc = {0};
  berth_clock_t clock = {offset_now, offset_mono, offset_sleep, &oc};
  char body[256];
  char *token;

  (void)state;
  emulator_reset();
  token = read_text(bed_env("BERTH_AWS_CONTAINER_TOKEN_FILE"));
  test_env_base(&e);
  test_env_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               bed_env("BERTH_AWS_CONTAINER_URL"));
  test_env_set(&e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
               bed_env("BERTH_AWS_CONTAINER_TOKEN_FILE"));
  test_options(&o, &e);
  o.clock = &clock;
  assert_int_equal(berth_aws_creds_chain_create(&o, &p, NULL), BERTH_OK);
  assert_int_equal(berth_aws_creds_get(p, &c1, &err), BERTH_OK);
  assert_int_equal(berth_aws_creds_get(p, &c2, &err), BERTH_OK);
  assert_string_equal(c1.access_key_id, c2.access_key_id);
  assert_true(berth_aws_creds_fetch_count(p) == 1);
  berth_aws_credentials_cleanup(&c2);

  /* c1 expires an hour from (real) now. 58 minutes later it is inside
   * the 5-minute window: fetched again; the emulator now hands out
   * two-hour credentials. */
  admin_post("/config", "{\"credential_ttl_s\": 7200}");
  oc.offset_ms = 58 * 60 * 1000;
  assert_int_equal(berth_aws_creds_get(p, &c2, &err), BERTH_OK);
  assert_true(berth_aws_creds_fetch_count(p) == 2);
  assert_string_not_equal(c1.access_key_id, c2.access_key_id);
  assert_int_equal(counter("credentials", "container"), 2);

  /* The endpoint starts refusing. At 117 minutes c2 (expiring at 120) is
   * due for refresh; the refresh fails, c2 is still valid: kept. */
  snprintf(body, sizeof(body), "{\"container\": \"rotated-away\"}");
  admin_post("/tokens", body);
  oc.offset_ms = 117 * 60 * 1000;
  assert_int_equal(berth_aws_creds_get(p, &c3, &err), BERTH_OK);
  assert_string_equal(c3.access_key_id, c2.access_key_id);
  assert_true(berth_aws_creds_fetch_count(p) == 3);
  berth_aws_credentials_cleanup(&c3);
  /* Past c2's expiry the failure shows. */
  oc.offset_ms = 121 * 60 * 1000;
  assert_int_equal(berth_aws_creds_get(p, &c3, &err), BERTH_EFORBIDDEN);
  snprintf(body, sizeof(body), "{\"container\": \"%s\"}", token);
  admin_post("/tokens", body);
  berth_aws_credentials_cleanup(&c1);
  berth_aws_credentials_cleanup(&c2);
  berth_aws_creds_provider_destroy(p);
  free(token);
  test_env_free(&e);
}

/* Credentials revoked early (ExpiredToken): the client fetches new ones
 * and the call succeeds. */
static void test_expired_token_refetch(void **state)
{
  test_env_t e;
  berth_aws_options_t o;
  berth_aws_t *aws = NULL;
  berth_ec2_volume_list_t l;
  berth_error_t err;

  (void)state;
  emulator_reset();
  test_env_base(&e);
  test_env_set(&e, "AWS_ROLE_ARN", bed_env("BERTH_AWS_ROLE_ARN"));
  test_env_set(&e, "AWS_WEB_IDENTITY_TOKEN_FILE",
               bed_env("BERTH_AWS_WEB_IDENTITY_TOKEN_FILE"));
  test_options(&o, &e);
  assert_int_equal(berth_aws_create(&o, &aws, &err), BERTH_OK);
  assert_int_equal(berth_ec2_describe_volumes(aws, NULL, &l, &err), BERTH_OK);
  berth_ec2_volume_list_cleanup(&l);
  admin_post("/expire-credentials", "{}");
  if (berth_ec2_describe_volumes(aws, NULL, &l, &err) != BERTH_OK)
    fail_msg("after ExpiredToken: %s", err.message);
  berth_ec2_volume_list_cleanup(&l);
  assert_true(berth_aws_creds_fetch_count(berth_aws_provider(aws)) == 2);
  assert_int_equal(counter("credentials", "sts_web_identity"), 2);
  berth_aws_destroy(aws);
  test_env_free(&e);
}

static void test_environment_first(void **state)
{
  test_env_t e;
  berth_aws_credentials_t c;

  (void)state;
  emulator_reset();
  test_env_static(&e);
  test_env_set(&e, "AWS_ROLE_ARN", bed_env("BERTH_AWS_ROLE_ARN"));
  test_env_set(&e, "AWS_WEB_IDENTITY_TOKEN_FILE",
               bed_env("BERTH_AWS_WEB_IDENTITY_TOKEN_FILE"));
  test_env_set(&e, "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               bed_env("BERTH_AWS_CONTAINER_URL"));
  assert_int_equal(chain_get(&e, &c, NULL), BERTH_OK);
  assert_string_equal(c.source, "environment");
  assert_string_equal(c.access_key_id, bed_env("AWS_ACCESS_KEY_ID"));
  berth_aws_credentials_cleanup(&c);
  assert_int_equal(counter("credentials", "sts_web_identity"), 0);
  assert_int_equal(counter("credentials", "container"), 0);
  assert_int_equal(counter("credentials", "imds"), 0);
  test_env_free(&e);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_environment_first),
      cmocka_unit_test(test_web_identity),
      cmocka_unit_test(test_web_identity_wrong_token),
      cmocka_unit_test(test_profile_assume_role),
      cmocka_unit_test(test_container),
      cmocka_unit_test(test_imds),
      cmocka_unit_test(test_refresh),
      cmocka_unit_test(test_expired_token_refetch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
