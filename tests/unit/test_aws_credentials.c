/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the AWS credential chain and region resolution
 * (lib/aws/credentials.c, profile.c, config.c) with an injected
 * environment and the fixture files in tests/data/aws/. Nothing here
 * touches the network: sources that would (STS, container, IMDS) are
 * tested by tests/integration/test_aws_credentials.c against the
 * emulator. */
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

#define DATA BERTH_TEST_DATA "/aws"

/* An environment: NULL-terminated name/value pairs. */
typedef struct env {
  const char *kv[64];
} env_t;

static const char *env_get(void *ctx, const char *name)
{
  env_t *e = ctx;
  size_t i;

  for (i = 0; e->kv[i] != NULL; i += 2)
    if (strcmp(e->kv[i], name) == 0)
      return e->kv[i + 1];
  return NULL;
}

/* Options over an environment that always has the fixture files and no
 * IMDS (so nothing waits on 169.254.169.254). */
static void opts_for(berth_aws_options_t *o, env_t *e)
{
  size_t n = 0;

  while (e->kv[n] != NULL)
    n += 2;
  e->kv[n++] = "AWS_SHARED_CREDENTIALS_FILE";
  e->kv[n++] = DATA "/credentials";
  e->kv[n++] = "AWS_CONFIG_FILE";
  e->kv[n++] = DATA "/config";
  e->kv[n++] = "AWS_EC2_METADATA_DISABLED";
  e->kv[n++] = "true";
  e->kv[n] = NULL;
  berth_aws_options_init(o);
  o->getenv = env_get;
  o->getenv_ctx = e;
}

static berth_status_t get_creds(env_t *e, berth_aws_credentials_t *c,
                                berth_error_t *err)
{
  berth_aws_options_t o;
  berth_aws_creds_provider_t *p = NULL;
  berth_status_t st;

  opts_for(&o, e);
  assert_int_equal(berth_aws_creds_chain_create(&o, &p, err), BERTH_OK);
  st = berth_aws_creds_get(p, c, err);
  berth_aws_creds_provider_destroy(p);
  return st;
}

static void test_environment_first(void **state)
{
  env_t e = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY",
              "secretEnv", "AWS_SESSION_TOKEN", "tokenEnv", "AWS_PROFILE",
              "dev", "AWS_ROLE_ARN", "arn:aws:iam::1:role/r",
              "AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent", NULL}};
  berth_aws_credentials_t c;

  (void)state;
  assert_int_equal(get_creds(&e, &c, NULL), BERTH_OK);
  assert_string_equal(c.access_key_id, "AKIDENV");
  assert_string_equal(c.secret_access_key, "secretEnv");
  assert_string_equal(c.session_token, "tokenEnv");
  assert_string_equal(c.source, "environment");
  assert_true(c.expiration_ms == 0);
  berth_aws_credentials_cleanup(&c);
  assert_null(c.access_key_id);
}

static void test_partial_environment(void **state)
{
  env_t e = {{"AWS_ACCESS_KEY_ID", "AKIDENV", NULL}};
  berth_aws_credentials_t c;
  berth_error_t err;

  (void)state;
  assert_int_equal(get_creds(&e, &c, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "AWS_SECRET_ACCESS_KEY"));
}

/* Web identity comes before the shared files; with a missing token file
 * it fails, naming the file, and does not fall through to the profile. */
static void test_web_identity_before_profile(void **state)
{
  env_t e = {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/r",
              "AWS_WEB_IDENTITY_TOKEN_FILE", DATA "/no-such-token",
              "AWS_PROFILE", "dev", NULL}};
  berth_aws_credentials_t c;
  berth_error_t err;

  (void)state;
  assert_int_equal(get_creds(&e, &c, &err), BERTH_EUNAUTHORIZED);
  assert_non_null(strstr(err.message, "web identity"));
  assert_non_null(strstr(err.message, "no-such-token"));
}

static void test_profiles(void **state)
{
  struct {
    const char *profile;
    const char *ak;
    const char *token;
  } cases[] = {
      {NULL, "AKIDDEFAULTCREDS", NULL},
      {"dev", "AKIDDEVCREDS", "tokenDev"},
      {"both", "AKIDBOTHFROMCREDS", NULL},
      {"onlyconfig", "AKIDONLYCONFIG", NULL},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    env_t e = {{NULL}};
    berth_aws_credentials_t c;

    if (cases[i].profile != NULL) {
      e.kv[0] = "AWS_PROFILE";
      e.kv[1] = cases[i].profile;
      e.kv[2] = NULL;
    }
    assert_int_equal(get_creds(&e, &c, NULL), BERTH_OK);
    assert_string_equal(c.access_key_id, cases[i].ak);
    if (cases[i].token != NULL)
      assert_string_equal(c.session_token, cases[i].token);
    else
      assert_null(c.session_token);
    assert_string_equal(c.source, "profile");
    berth_aws_credentials_cleanup(&c);
  }
}

/* The inline comment is cut off the value. */
static void test_profile_values(void **state)
{
  env_t e = {{"AWS_PROFILE", "dev", NULL}};
  berth_aws_credentials_t c;

  (void)state;
  assert_int_equal(get_creds(&e, &c, NULL), BERTH_OK);
  assert_string_equal(c.secret_access_key, "secretDevFromCredentialsFile");
  berth_aws_credentials_cleanup(&c);
}

static void test_profile_errors(void **state)
{
  struct {
    const char *profile;
    berth_status_t st;
    const char *words;
  } cases[] = {
      {"nope", BERTH_ENOTFOUND, "profile nope not found"},
      /* "[onlycreds-style]" in the config file is not "[profile ...]". */
      {"onlycreds-style", BERTH_ENOTFOUND, "not found"},
      {"half", BERTH_EINVAL, "must both be set"},
      {"role-no-source", BERTH_EINVAL, "source_profile"},
      {"loop-a", BERTH_EINVAL, "cyclic"},
      {"bad-source", BERTH_EINVAL, "credential_source"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    env_t e = {{"AWS_PROFILE", cases[i].profile, NULL}};
    berth_aws_credentials_t c;
    berth_error_t err;

    memset(&c, 0, sizeof(c));
    assert_int_equal(get_creds(&e, &c, &err), cases[i].st);
    if (strstr(err.message, cases[i].words) == NULL)
      fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].profile, err.message,
               cases[i].words);
    assert_null(c.access_key_id);
  }
}

static void test_nothing_configured(void **state)
{
  env_t e = {{"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/c",
              "AWS_CONFIG_FILE", "/nonexistent/f", NULL}};
  berth_aws_options_t o;
  berth_aws_creds_provider_t *p = NULL;
  berth_aws_credentials_t c;
  berth_error_t err;
  char *region = NULL;

  (void)state;
  /* opts_for appends the fixture files after these, which win (first
   * match), so both files are missing here. */
  opts_for(&o, &e);
  assert_int_equal(berth_aws_creds_chain_create(&o, &p, &err), BERTH_OK);
  assert_int_equal(berth_aws_creds_get(p, &c, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "no AWS credentials"));
  berth_aws_creds_provider_destroy(p);
  assert_int_equal(berth_aws_region_resolve(&o, &region, &err),
                   BERTH_ENOTFOUND);
  assert_null(region);
}

static void test_container_uri_rules(void **state)
{
  (void)state;
  assert_true(berth__aws_container_uri_allowed("http://127.0.0.1:8080/creds"));
  assert_true(berth__aws_container_uri_allowed("http://127.1.2.3/x"));
  assert_true(berth__aws_container_uri_allowed("http://localhost:1/x"));
  assert_true(berth__aws_container_uri_allowed("http://[::1]:9/x"));
  assert_true(
      berth__aws_container_uri_allowed("http://169.254.170.23/v1/credentials"));
  assert_true(berth__aws_container_uri_allowed("http://169.254.170.2/x"));
  assert_true(berth__aws_container_uri_allowed("https://creds.example.com/x"));
  assert_false(berth__aws_container_uri_allowed("http://10.0.0.1/x"));
  assert_false(berth__aws_container_uri_allowed("http://127.0.0.1.evil.com/x"));
  assert_false(berth__aws_container_uri_allowed("http://user@127.0.0.1/x"));
  assert_false(berth__aws_container_uri_allowed("ftp://127.0.0.1/x"));
}

static void test_container_full_uri_refused(void **state)
{
  /* Without shared files, which would come first. */
  env_t e = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds",
              "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/c",
              "AWS_CONFIG_FILE", "/nonexistent/f", NULL}};
  berth_aws_credentials_t c;
  berth_error_t err;

  (void)state;
  assert_int_equal(get_creds(&e, &c, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "FULL_URI"));
}

static void test_region_order(void **state)
{
  struct {
    const char *option;
    const char *kv[6];
    const char *want;
  } cases[] = {
      {"ca-central-1", {"AWS_REGION", "us-east-2", NULL}, "ca-central-1"},
      {NULL,
       {"AWS_REGION", "us-east-2", "AWS_DEFAULT_REGION", "us-west-1", NULL},
       "us-east-2"},
      {NULL, {"AWS_DEFAULT_REGION", "us-west-1", NULL}, "us-west-1"},
      {NULL, {NULL}, "eu-west-1"},
      {NULL, {"AWS_PROFILE", "dev", NULL}, "us-west-2"},
      {NULL, {"AWS_PROFILE", "both", NULL}, "ap-south-1"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    env_t e;
    berth_aws_options_t o;
    char *region = NULL;
    size_t k;

    memset(&e, 0, sizeof(e));
    for (k = 0; cases[i].kv[k] != NULL; k++)
      e.kv[k] = cases[i].kv[k];
    opts_for(&o, &e);
    o.region = cases[i].option;
    assert_int_equal(berth_aws_region_resolve(&o, &region, NULL), BERTH_OK);
    assert_string_equal(region, cases[i].want);
    free(region);
  }
}

/* Static credentials are fetched once and cached. */
static void test_cache(void **state)
{
  env_t e = {{"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY",
              "secretEnv", NULL}};
  berth_aws_options_t o;
  berth_aws_creds_provider_t *p = NULL;
  berth_aws_credentials_t c;
  int i;

  (void)state;
  opts_for(&o, &e);
  assert_int_equal(berth_aws_creds_chain_create(&o, &p, NULL), BERTH_OK);
  for (i = 0; i < 3; i++) {
    assert_int_equal(berth_aws_creds_get(p, &c, NULL), BERTH_OK);
    berth_aws_credentials_cleanup(&c);
  }
  assert_true(berth_aws_creds_fetch_count(p) == 1);
  berth_aws_creds_invalidate(p);
  assert_int_equal(berth_aws_creds_get(p, &c, NULL), BERTH_OK);
  berth_aws_credentials_cleanup(&c);
  assert_true(berth_aws_creds_fetch_count(p) == 2);
  berth_aws_creds_provider_destroy(p);
}

static void test_static_provider(void **state)
{
  berth_aws_credentials_t in, out;
  berth_aws_creds_provider_t *p = NULL;

  (void)state;
  memset(&in, 0, sizeof(in));
  in.access_key_id = "AKIDSTATIC";
  in.secret_access_key = "secretStatic";
  assert_int_equal(berth_aws_creds_static_create(&in, &p, NULL), BERTH_OK);
  assert_int_equal(berth_aws_creds_get(p, &out, NULL), BERTH_OK);
  assert_string_equal(out.access_key_id, "AKIDSTATIC");
  assert_string_equal(out.source, "static");
  berth_aws_credentials_cleanup(&out);
  berth_aws_creds_invalidate(p); /* static ones are never dropped */
  assert_int_equal(berth_aws_creds_get(p, &out, NULL), BERTH_OK);
  berth_aws_credentials_cleanup(&out);
  berth_aws_creds_provider_destroy(p);
  berth_aws_creds_provider_destroy(NULL);
}

static void test_parsers(void **state)
{
  static const char sts[] =
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/"
      "doc/2011-06-15/\">\n"
      "  <AssumeRoleWithWebIdentityResult>\n"
      "    <SubjectFromWebIdentityToken>system:serviceaccount:kube-system:"
      "berth</SubjectFromWebIdentityToken>\n"
      "    <Credentials>\n"
      "      <SessionToken>tokenFromSts</SessionToken>\n"
      "      <SecretAccessKey>secretFromSts</SecretAccessKey>\n"
      "      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
      "      <AccessKeyId>ASIAFROMSTS</AccessKeyId>\n"
      "    </Credentials>\n"
      "  </AssumeRoleWithWebIdentityResult>\n"
      "</AssumeRoleWithWebIdentityResponse>\n";
  static const char imds[] =
      "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\","
      "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","
      "\"SecretAccessKey\":\"secretImds\",\"Token\":\"tokenImds\","
      "\"Expiration\":\"2024-01-01T06:00:00Z\"}";
  berth_aws_credentials_t c;
  berth_error_t err;
  int64_t ms;

  (void)state;
  assert_int_equal(berth__aws_sts_parse_credentials(sts, strlen(sts), &c, &err),
                   BERTH_OK);
  assert_string_equal(c.access_key_id, "ASIAFROMSTS");
  assert_string_equal(c.secret_access_key, "secretFromSts");
  assert_string_equal(c.session_token, "tokenFromSts");
  assert_true(c.expiration_ms == 1573306481000LL);
  berth_aws_credentials_cleanup(&c);
  assert_int_equal(berth__aws_sts_parse_credentials("<x/>", 4, &c, &err),
                   BERTH_EPARSE);
  assert_int_equal(
      berth__aws_parse_json_credentials(imds, strlen(imds), "imds", &c, &err),
      BERTH_OK);
  assert_string_equal(c.session_token, "tokenImds");
  assert_true(c.expiration_ms == 1704088800000LL);
  berth_aws_credentials_cleanup(&c);
  assert_int_equal(berth__aws_parse_json_credentials("{\"Code\":\"Failed\"}",
                                                     17, "imds", &c, &err),
                   BERTH_EUNAVAILABLE);

  assert_int_equal(berth__aws_parse_time("2019-11-09T13:34:41.250Z", &ms),
                   BERTH_OK);
  assert_true(ms == 1573306481250LL);
  assert_int_equal(berth__aws_parse_time("2019-11-09T15:34:41+02:00", &ms),
                   BERTH_OK);
  assert_true(ms == 1573306481000LL);
  assert_int_equal(berth__aws_parse_time("2019-11-09", &ms), BERTH_EPARSE);
  assert_int_equal(berth__aws_parse_time("YYYY-MM-DDTHH:MM:SS.000Z", &ms),
                   BERTH_EPARSE);
}

/* Profile parsing corner cases, straight on text. */
static void test_ini(void **state)
{
  berth__aws_profile_t p;

  (void)state;
  memset(&p, 0, sizeof(p));
  assert_int_equal(berth__aws_profile_parse("[profile  x ]\n"
                                            "  indented = ignored\n"
                                            "a=1\r\n"
                                            "b = two words ; comment\n"
                                            "c = semi;colon\n"
                                            "# c = no\n"
                                            "[profile y]\n"
                                            "a = 2\n",
                                            "x", true, &p),
                   BERTH_OK);
  assert_true(p.found);
  assert_string_equal(berth__aws_profile_get(&p, "a"), "1");
  assert_string_equal(berth__aws_profile_get(&p, "b"), "two words");
  assert_string_equal(berth__aws_profile_get(&p, "c"), "semi;colon");
  assert_null(berth__aws_profile_get(&p, "indented"));
  berth__aws_profile_cleanup(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_environment_first),
      cmocka_unit_test(test_partial_environment),
      cmocka_unit_test(test_web_identity_before_profile),
      cmocka_unit_test(test_profiles),
      cmocka_unit_test(test_profile_values),
      cmocka_unit_test(test_profile_errors),
      cmocka_unit_test(test_nothing_configured),
      cmocka_unit_test(test_container_uri_rules),
      cmocka_unit_test(test_container_full_uri_refused),
      cmocka_unit_test(test_region_order),
      cmocka_unit_test(test_cache),
      cmocka_unit_test(test_static_provider),
      cmocka_unit_test(test_parsers),
      cmocka_unit_test(test_ini),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
