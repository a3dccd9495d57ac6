/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers of the AWS integration tests, #included by
 * test_aws_*.c (not built alone): the bed's environment, the emulator's
 * admin API, an environment table for berth_aws_options_t.getenv, and a
 * clock that runs at real speed with an adjustable offset. */
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
#include "berth/buf.h"
#include "berth/http.h"
#include "berth/json.h"

/* Not every test uses every helper. */
#if defined(__GNUC__)
#define TEST_AWS_HELPER static __attribute__((unused))
#else
#define TEST_AWS_HELPER static
#endif

/* A variable the bed must have exported; fails the test otherwise. */
TEST_AWS_HELPER const char *bed_env(const char *name)
{
  const char *v = getenv(name);

  if (v == NULL || *v == '\0')
    fail_msg("%s is not set: run under tests/bed/bed.py run aws -- ...", name);
  return v;
}

/* Call the emulator's admin API; returns the parsed answer (new
 * reference) or fails the test. */
TEST_AWS_HELPER json_t *admin(const char *method, const char *path,
                              const char *body)
{
  berth_http_client_t *c = NULL;
  berth_http_request_t req;
  berth_http_response_t resp;
  const char *hdrs[] = {"Content-Type: application/json", NULL};
  char url[512];
  json_t *out = NULL;

  snprintf(url, sizeof(url), "%s%s", bed_env("BERTH_AWS_ADMIN_URL"), path);
  assert_int_equal(berth_http_client_create(NULL, &c, NULL), BERTH_OK);
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  req.headers = hdrs;
  req.body = body;
  req.body_len = body != NULL ? strlen(body) : 0;
  berth_http_response_init(&resp);
  assert_int_equal(berth_http_do(c, &req, &resp, NULL), BERTH_OK);
  if (resp.status != 200)
    fail_msg("admin %s %s: HTTP %ld %s", method, path, resp.status,
             berth_buf_str(&resp.body));
  assert_int_equal(berth_json_parse(resp.body.data, resp.body.len, &out, NULL),
                   BERTH_OK);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
  return out;
}

TEST_AWS_HELPER void admin_post(const char *path, const char *body)
{
  json_decref(admin("POST", path, body));
}

/* A counter of the emulator ("credentials", "imds"), 0 when absent. */
TEST_AWS_HELPER long long counter(const char *group, const char *key)
{
  json_t *c = admin("GET", "/counters", NULL);
  json_t *v = json_object_get(json_object_get(c, group), key);
  long long n = json_is_integer(v) ? json_integer_value(v) : 0;

  json_decref(c);
  return n;
}

/* Reset the emulator and make its state machines instant. */
TEST_AWS_HELPER void emulator_reset(void)
{
  admin_post("/reset", "{}");
  admin_post("/config", "{\"create_delay_ms\": 0, \"attach_delay_ms\": 0, "
                        "\"detach_delay_ms\": 0, \"modify_delay_ms\": 0, "
                        "\"optimize_delay_ms\": 0}");
}

/* --- an environment table ---------------------------------------------------
 */

#define ENV_MAX 48

typedef struct test_env {
  const char *kv[2 * ENV_MAX + 1];
  char *owned[ENV_MAX];
  size_t n_owned;
} test_env_t;

TEST_AWS_HELPER const char *test_env_get(void *ctx, const char *name)
{
  test_env_t *e = ctx;
  size_t i;

  for (i = 0; e->kv[i] != NULL; i += 2)
    if (strcmp(e->kv[i], name) == 0)
      return e->kv[i + 1];
  return NULL;
}

TEST_AWS_HELPER void test_env_set(test_env_t *e, const char *name,
                                  const char *value)
{
  size_t i;

  for (i = 0; e->kv[i] != NULL; i += 2) {
    if (strcmp(e->kv[i], name) == 0) {
      e->kv[i + 1] = value;
      return;
    }
  }
  assert_true(i + 2 < sizeof(e->kv) / sizeof(e->kv[0]));
  e->kv[i] = name;
  e->kv[i + 1] = value;
  e->kv[i + 2] = NULL;
}

/* A copy of value that lives as long as the table. */
TEST_AWS_HELPER const char *test_env_own(test_env_t *e, const char *value)
{
  char *s = strdup(value);

  assert_non_null(s);
  assert_true(e->n_owned < ENV_MAX);
  e->owned[e->n_owned++] = s;
  return s;
}

TEST_AWS_HELPER void test_env_free(test_env_t *e)
{
  size_t i;

  for (i = 0; i < e->n_owned; i++)
    free(e->owned[i]);
  memset(e, 0, sizeof(*e));
}

/* The base environment: the emulator's endpoint and region, the bed's
 * empty shared files, no static keys (tests add what they test). */
TEST_AWS_HELPER void test_env_base(test_env_t *e)
{
  memset(e, 0, sizeof(*e));
  test_env_set(e, "AWS_ENDPOINT_URL", bed_env("AWS_ENDPOINT_URL"));
  test_env_set(e, "AWS_REGION", bed_env("AWS_REGION"));
  test_env_set(e, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
               bed_env("AWS_EC2_METADATA_SERVICE_ENDPOINT"));
  test_env_set(e, "AWS_SHARED_CREDENTIALS_FILE",
               bed_env("AWS_SHARED_CREDENTIALS_FILE"));
  test_env_set(e, "AWS_CONFIG_FILE", bed_env("AWS_CONFIG_FILE"));
}

/* The base plus the emulator account's static keys. */
TEST_AWS_HELPER void test_env_static(test_env_t *e)
{
  test_env_base(e);
  test_env_set(e, "AWS_ACCESS_KEY_ID", bed_env("AWS_ACCESS_KEY_ID"));
  test_env_set(e, "AWS_SECRET_ACCESS_KEY", bed_env("AWS_SECRET_ACCESS_KEY"));
}

/* Options over e with small retry delays so that retries take
 * milliseconds. */
TEST_AWS_HELPER void test_options(berth_aws_options_t *o, test_env_t *e)
{
  berth_aws_options_init(o);
  o->getenv = test_env_get;
  o->getenv_ctx = e;
  o->retry_base_ms = 5;
  o->retry_cap_ms = 50;
  o->metadata_timeout_ms = 2000;
  o->timeout_ms = 10000;
}

/* --- a clock with an offset
 * ------------------------------------------------------ */

typedef struct offset_clock {
  int64_t offset_ms;
} offset_clock_t;

TEST_AWS_HELPER int64_t offset_now(void *ctx)
{
  return berth_clock_realtime_ms(NULL) + ((offset_clock_t *)ctx)->offset_ms;
}

TEST_AWS_HELPER int64_t offset_mono(void *ctx)
{
  (void)ctx;
  return berth_clock_monotonic_ms(NULL);
}

TEST_AWS_HELPER void offset_sleep(void *ctx, int64_t ms)
{
  (void)ctx;
  berth_clock_sleep_ms(NULL, ms);
}

/* true when s contains none of the secrets the bed gave us. */
TEST_AWS_HELPER bool free_of_secrets(const char *s)
{
  const char *secret = getenv("AWS_SECRET_ACCESS_KEY");

  return secret == NULL || strstr(s, secret) == NULL;
}
