/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: Kubernetes Status decoding (lib/k8s/status.c). Fixtures:
 * tests/data/k8s-client/status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/k8s.h"

static berth_status_t decode(const char *name, long code, int64_t *retry,
                             berth_error_t *err)
{
  char path[1024];
  char data[16384];
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "%s/k8s-client/status/%s", BERTH_TEST_DATA,
           name);
  f = fopen(path, "rb");
  assert_non_null(f);
  n = fread(data, 1, sizeof(data), f);
  fclose(f);
  berth_error_clear(err);
  return berth_k8s_status_decode(code, data, n, retry, err);
}

static void test_reasons(void **state)
{
  static const struct {
    const char *file;
    long code;
    berth_status_t status;
    const char *reason;
    const char *message;
  } cases[] = {
      {"not-found.json", 404, BERTH_ENOTFOUND, "NotFound",
       "persistentvolumeclaims \"data-0\" not found"},
      {"already-exists.json", 409, BERTH_EEXIST, "AlreadyExists",
       "persistentvolumes \"pv-1\" already exists"},
      {"conflict.json", 409, BERTH_ECONFLICT, "Conflict",
       "the object has been modified"},
      {"expired.json", 410, BERTH_EGONE, "Expired", "too old resource version"},
      {"forbidden.json", 403, BERTH_EFORBIDDEN, "Forbidden",
       "cannot list resource"},
      {"unauthorized.json", 401, BERTH_EUNAUTHORIZED, "Unauthorized",
       "Unauthorized"},
      {"internal-error.json", 500, BERTH_EUNAVAILABLE, "InternalError",
       "etcdserver: request timed out"},
      {"too-many-requests.json", 429, BERTH_ETHROTTLED, "TooManyRequests",
       "Too many requests"},
      {"no-reason.json", 418, BERTH_EHTTP, "", "unknown error (HTTP 418)"},
  };
  berth_error_t err;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    berth_status_t st = decode(cases[i].file, cases[i].code, NULL, &err);
    if (st != cases[i].status)
      fail_msg("%s: got %s", cases[i].file, berth_status_name(st));
    assert_int_equal(err.status, cases[i].status);
    assert_int_equal(err.http_code, cases[i].code);
    assert_string_equal(err.reason, cases[i].reason);
    if (strstr(err.message, cases[i].message) == NULL)
      fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].file, err.message,
               cases[i].message);
  }
}

static void test_causes_and_retry_after(void **state)
{
  berth_error_t err;
  int64_t retry = 0;

  (void)state;
  /* An empty message is rebuilt from the causes. */
  assert_int_equal(decode("invalid-causes.json", 422, &retry, &err),
                   BERTH_EINVAL);
  assert_string_equal(err.reason, "Invalid");
  assert_string_equal(err.message, "spec.resources[storage]: Required value; "
                                   "spec.accessModes: Unsupported value: "
                                   "\"ReadWriteSometimes\"");
  assert_true(retry == -1);
  assert_int_equal(decode("too-many-requests.json", 429, &retry, &err),
                   BERTH_ETHROTTLED);
  assert_true(retry == 3000);
  /* A cause already in the message is not repeated. */
  assert_int_equal(decode("internal-error.json", 500, &retry, &err),
                   BERTH_EUNAVAILABLE);
  assert_string_equal(err.message,
                      "Internal error occurred: etcdserver: request timed out");
  assert_true(retry == 1000);
  /* A retryAfterSeconds no int64 of milliseconds holds is capped, never
   * multiplied past INT64_MAX (undefined behaviour). */
  {
    static const char body[] =
        "{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":429,"
        "\"details\":{\"retryAfterSeconds\":9223372036854775807}}";
    assert_int_equal(
        berth_k8s_status_decode(429, body, sizeof(body) - 1, &retry, &err),
        BERTH_ETHROTTLED);
    assert_true(retry == INT64_MAX / 1000 * 1000);
  }
}

static void test_not_a_status(void **state)
{
  berth_error_t err;

  (void)state;
  /* A proxy's HTML page: summarised on one line. */
  assert_int_equal(decode("proxy-502.html", 502, NULL, &err),
                   BERTH_EUNAVAILABLE);
  assert_int_equal(err.http_code, 502);
  assert_string_equal(err.reason, "");
  assert_non_null(strstr(err.message, "HTTP 502: <html> <head><title>502 "
                                      "Bad Gateway</title></head>"));
  assert_null(strchr(err.message, '\n'));
  /* Codes without a body. */
  berth_error_clear(&err);
  assert_int_equal(berth_k8s_status_decode(404, NULL, 0, NULL, &err),
                   BERTH_ENOTFOUND);
  assert_string_equal(err.message, "HTTP 404");
  assert_int_equal(berth_k8s_status_decode(400, "", 0, NULL, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_k8s_status_decode(503, "x", 1, NULL, NULL),
                   BERTH_EUNAVAILABLE);
  /* A Success Status (a DELETE's answer) is not an error. */
  assert_int_equal(decode("success.json", 200, NULL, &err), BERTH_OK);
  assert_int_equal(berth_k8s_status_decode(200, "{}", 2, NULL, &err), BERTH_OK);
}

static void test_json_status(void **state)
{
  berth_error_t err;
  json_t *s = json_pack("{s:s, s:s, s:s, s:i}", "kind", "Status", "status",
                        "Failure", "reason", "Expired", "code", 410);
  json_t *weird = json_pack("{s:s}", "kind", "Status");

  (void)state;
  /* A watch ERROR event: the code comes from the Status. */
  assert_int_equal(berth_k8s_status_decode_json(0, s, NULL, &err), BERTH_EGONE);
  assert_int_equal(err.http_code, 410);
  assert_string_equal(err.reason, "Expired");
  assert_string_equal(err.message, "Expired (HTTP 410)");
  assert_int_equal(berth_k8s_status_decode_json(0, weird, NULL, &err),
                   BERTH_EHTTP);
  json_decref(s);
  json_decref(weird);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reasons),
      cmocka_unit_test(test_causes_and_retry_after),
      cmocka_unit_test(test_not_a_status),
      cmocka_unit_test(test_json_status),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
