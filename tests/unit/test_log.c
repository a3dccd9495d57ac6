/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: structured logging and redaction (lib/util/log.c).
 *
 * The redaction tests are the proof that Authorization headers, bearer
 * tokens, AWS secret keys, session tokens and signatures never reach a log
 * line, whether they arrive as a field named for a secret or buried in
 * running text (an error message, a URL, a JSON or XML body). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <jansson.h>

#include "berth/log.h"

#define SECRET_SIG                                                             \
  "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SECRET_TOKEN "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.payload.sig"
#define SESSION_TOKEN "FQoGZXIvYXdzEBYaDHx0c2Vzc2lvbnRva2Vu"

typedef struct {
  char lines[16][2048];
  int n;
} capture_t;

static capture_t cap;

static void capture_sink(void *ctx, berth_log_level_t level, const char *line)
{
  capture_t *c = ctx;

  (void)level;
  if (c->n < 16)
    berth_strlcpy(c->lines[c->n++], line, sizeof(c->lines[0]));
}

static int setup(void **state)
{
  (void)state;
  memset(&cap, 0, sizeof(cap));
  berth_log_set_sink(capture_sink, &cap);
  berth_log_set_level(BERTH_LOG_INFO);
  berth_log_set_format(BERTH_LOG_FORMAT_LOGFMT);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  berth_log_set_sink(NULL, NULL);
  return 0;
}

static void assert_clean(const char *line)
{
  static const char *const secrets[] = {SECRET_SIG, SECRET_KEY, SECRET_TOKEN,
                                        SESSION_TOKEN, "hunter2"};
  size_t i;

  for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
    if (strstr(line, secrets[i]) != NULL)
      fail_msg("secret %s leaked in: %s", secrets[i], line);
  }
  assert_non_null(strstr(line, "[REDACTED]"));
}

static void test_logfmt_line(void **state)
{
  (void)state;
  berth_log(BERTH_LOG_INFO, "provisioned volume", "claim", "default/data", "pv",
            "pvc-1", "note", "two words", "empty", "", NULL);
  assert_int_equal(cap.n, 1);
  assert_non_null(strstr(cap.lines[0], " level=info msg=\"provisioned volume\""
                                       " claim=default/data pv=pvc-1 "
                                       "note=\"two words\" empty=\"\""));
  assert_true(strncmp(cap.lines[0], "time=20", 7) == 0);
}

static void test_one_line_per_event(void **state)
{
  (void)state;
  berth_log(BERTH_LOG_WARN, "multi\nline", "v", "a\r\nb\"c\\d\x01", NULL);
  assert_int_equal(cap.n, 1);
  assert_null(strchr(cap.lines[0], '\n'));
  assert_null(strchr(cap.lines[0], '\r'));
  assert_non_null(strstr(cap.lines[0], "msg=\"multi\\nline\""));
  assert_non_null(strstr(cap.lines[0], "v=\"a\\r\\nb\\\"c\\\\d\\x01\""));
}

static void test_level_filter(void **state)
{
  (void)state;
  berth_log(BERTH_LOG_DEBUG, "hidden", NULL);
  assert_int_equal(cap.n, 0);
  assert_false(berth_log_enabled(BERTH_LOG_DEBUG));
  berth_log_set_level(BERTH_LOG_TRACE);
  berth_log(BERTH_LOG_DEBUG, "shown", NULL);
  assert_int_equal(cap.n, 1);
}

static void test_json_line(void **state)
{
  json_t *doc;
  json_error_t jerr;

  (void)state;
  berth_log_set_format(BERTH_LOG_FORMAT_JSON);
  berth_log(BERTH_LOG_ERROR, "say \"hi\"\n", "claim", "ns/c\x02",
            "Authorization", "Bearer " SECRET_TOKEN, NULL);
  assert_int_equal(cap.n, 1);
  doc = json_loads(cap.lines[0], 0, &jerr);
  assert_non_null(doc);
  assert_string_equal(json_string_value(json_object_get(doc, "level")),
                      "error");
  assert_string_equal(json_string_value(json_object_get(doc, "msg")),
                      "say \"hi\"\n");
  assert_string_equal(json_string_value(json_object_get(doc, "claim")),
                      "ns/c\x02");
  assert_string_equal(json_string_value(json_object_get(doc, "Authorization")),
                      "[REDACTED]");
  json_decref(doc);
  assert_clean(cap.lines[0]);
}

static void test_redact_secret_keys(void **state)
{
  static const char *const keys[] = {
      "Authorization",
      "token",
      "bearer_token",
      "aws_secret_access_key",
      "X-Amz-Security-Token",
      "client_secret",
      "password",
      "signature",
      "client-key-data",
      "Cookie",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    cap.n = 0;
    berth_log(BERTH_LOG_INFO, "m", keys[i], "hunter2", NULL);
    assert_int_equal(cap.n, 1);
    assert_clean(cap.lines[0]);
  }
  assert_false(berth_log_key_is_secret("claim"));
  assert_false(berth_log_key_is_secret("namespace"));
}

static void test_redact_running_text(void **state)
{
  static const char *const texts[] = {
      "GET failed: Authorization: Bearer " SECRET_TOKEN,
      "header Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
      "us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
      "Signature=" SECRET_SIG,
      "https://ec2.amazonaws.com/?Action=X&X-Amz-Signature=" SECRET_SIG
      "&X-Amz-Date=1",
      "bearer " SECRET_TOKEN,
      "{\"token\": \"" SECRET_TOKEN "\", \"kind\": \"ExecCredential\"}",
      "{\"SecretAccessKey\":\"" SECRET_KEY "\"}",
      "<Credentials><SessionToken>" SESSION_TOKEN "</SessionToken>",
      "env AWS_SECRET_ACCESS_KEY=" SECRET_KEY " AWS_REGION=us-east-1",
      "aws_session_token = " SESSION_TOKEN,
      "X-Amz-Security-Token: " SESSION_TOKEN,
      "password='hunter2'",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    cap.n = 0;
    berth_log(BERTH_LOG_INFO, texts[i], "detail", texts[i], NULL);
    assert_int_equal(cap.n, 1);
    assert_clean(cap.lines[0]);
  }
}

static void test_redact_keeps_ordinary_text(void **state)
{
  berth_buf_t out;

  (void)state;
  berth_buf_init(&out);
  assert_int_equal(berth_redact("claim default/data bound to pvc-1; "
                                "tokenFile=/var/run/token is used",
                                &out),
                   BERTH_OK);
  assert_string_equal(berth_buf_str(&out), "claim default/data bound to "
                                           "pvc-1; tokenFile=/var/run/token "
                                           "is used");
  berth_buf_reset(&out);
  assert_int_equal(berth_redact("X-Amz-Signature=" SECRET_SIG "&a=b", &out),
                   BERTH_OK);
  assert_string_equal(berth_buf_str(&out), "X-Amz-Signature=[REDACTED]&a=b");
  berth_buf_cleanup(&out);
}

static void test_parse_level_and_format(void **state)
{
  berth_log_level_t l;
  berth_log_format_t f;

  (void)state;
  assert_int_equal(berth_log_level_parse("debug", &l), BERTH_OK);
  assert_int_equal(l, BERTH_LOG_DEBUG);
  assert_int_equal(berth_log_level_parse("WARNING", &l), BERTH_OK);
  assert_int_equal(l, BERTH_LOG_WARN);
  assert_int_equal(berth_log_level_parse("4", &l), BERTH_OK);
  assert_int_equal(l, BERTH_LOG_TRACE);
  assert_int_equal(berth_log_level_parse("loud", &l), BERTH_EINVAL);
  assert_int_equal(berth_log_format_parse("json", &f), BERTH_OK);
  assert_int_equal(f, BERTH_LOG_FORMAT_JSON);
  assert_int_equal(berth_log_format_parse("xml", &f), BERTH_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_logfmt_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_line_per_event, setup, teardown),
      cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_json_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redact_secret_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redact_running_text, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_redact_keeps_ordinary_text, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_parse_level_and_format, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
