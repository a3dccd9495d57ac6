/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the daemons' program-support module (lib/prog/): the option
 * helpers' values and messages, the --http-endpoint address, and the HTTP
 * server itself, with libmicrohttpd both linked and loaded, answering real
 * requests on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/prog.h"
#include "berth/prog_http.h"
#include "berth/version.h"

/* A berth_prog_t whose out and err are memory streams. */
typedef struct {
  berth_prog_t p;
  char *out;
  char *err;
  size_t outlen;
  size_t errlen;
} capture_t;

static void capture_open(capture_t *c)
{
  memset(c, 0, sizeof(*c));
  c->p.name = "berth-test";
  c->p.out = open_memstream(&c->out, &c->outlen);
  c->p.err = open_memstream(&c->err, &c->errlen);
  assert_non_null(c->p.out);
  assert_non_null(c->p.err);
}

/* Flush and return what went to err so far. */
static const char *capture_err(capture_t *c)
{
  fflush(c->p.err);
  return c->err;
}

static void capture_close(capture_t *c)
{
  fclose(c->p.out);
  fclose(c->p.err);
  free(c->out);
  free(c->err);
}

static void test_fail_and_version(void **state)
{
  capture_t c;
  char want[128];

  (void)state;
  capture_open(&c);
  assert_false(berth_prog_fail(&c.p, "--x: '%s' is bad", "y"));
  assert_string_equal(capture_err(&c), "berth-test: --x: 'y' is bad\n");
  berth_prog_version(&c.p);
  fflush(c.p.out);
  snprintf(want, sizeof(want), "berth-test %s (commit %s)\n", BERTH_VERSION,
           berth_build_commit());
  assert_string_equal(c.out, want);
  capture_close(&c);
}

static void test_env(void **state)
{
  (void)state;
  setenv("BERTH_TEST_PROG_ENV", "v", 1);
  assert_string_equal(berth_prog_env("BERTH_TEST_PROG_ENV"), "v");
  /* Empty is no value, as unset. */
  setenv("BERTH_TEST_PROG_ENV", "", 1);
  assert_null(berth_prog_env("BERTH_TEST_PROG_ENV"));
  unsetenv("BERTH_TEST_PROG_ENV");
  assert_null(berth_prog_env("BERTH_TEST_PROG_ENV"));
}

static void test_bool(void **state)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  static const char *const bad[] = {"",  "yes",   "no",    "tRuE", "fALSE",
                                    "2", " true", "true ", "on"};
  bool b;
  size_t i;

  (void)state;
  for (i = 0; i < 6; i++) {
    b = false;
    assert_int_equal(berth_prog_bool_parse(yes[i], &b), BERTH_OK);
    assert_true(b);
    b = true;
    assert_int_equal(berth_prog_bool_parse(no[i], &b), BERTH_OK);
    assert_false(b);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    b = true;
    assert_int_equal(berth_prog_bool_parse(bad[i], &b), BERTH_EPARSE);
    assert_true(b); /* untouched */
  }
  assert_int_equal(berth_prog_bool_parse(NULL, &b), BERTH_EPARSE);
}

static void test_duration(void **state)
{
  capture_t c;
  int64_t ms = -1;

  (void)state;
  capture_open(&c);
  assert_true(berth_prog_duration(&c.p, "--d", "1m30s", 0, &ms));
  assert_int_equal(ms, 90000);
  assert_true(berth_prog_duration(&c.p, "--d", "2", 5000, &ms));
  assert_int_equal(ms, 2000);
  assert_string_equal(capture_err(&c), "");
  /* Beyond the maximum: refused, not clamped; the message is the
   * parser's, after the program's name. */
  ms = 7;
  assert_false(berth_prog_duration(&c.p, "--d", "6s", 5000, &ms));
  assert_int_equal(ms, 7);
  assert_true(strncmp(capture_err(&c), "berth-test: ", 12) == 0);
  assert_non_null(strstr(capture_err(&c), "--d"));
  assert_non_null(strstr(capture_err(&c), "6s"));
  assert_false(berth_prog_duration(&c.p, "--d", "-1s", 0, &ms));
  assert_int_equal(ms, 7);
  capture_close(&c);
}

static void test_number(void **state)
{
  capture_t c;
  double d = -1;

  (void)state;
  capture_open(&c);
  assert_true(berth_prog_number(&c.p, "--n", "2.5", 0.01, 10, &d));
  assert_true(d == 2.5);
  assert_true(berth_prog_number(&c.p, "--n", "10", 0.01, 10, &d));
  assert_true(d == 10);
  d = -1;
  assert_false(berth_prog_number(&c.p, "--n", "10.5", 0.01, 10, &d));
  assert_false(berth_prog_number(&c.p, "--n", "nan", 0.01, 10, &d));
  assert_false(berth_prog_number(&c.p, "--n", "3x", 0.01, 10, &d));
  assert_false(berth_prog_number(&c.p, "--n", "", 0.01, 10, &d));
  assert_true(d == -1);
  assert_string_equal(capture_err(&c),
                      "berth-test: --n: '10.5' is not a number in [0.01, 10]\n"
                      "berth-test: --n: 'nan' is not a number in [0.01, 10]\n"
                      "berth-test: --n: '3x' is not a number in [0.01, 10]\n"
                      "berth-test: --n: '' is not a number in [0.01, 10]\n");
  capture_close(&c);
}

static void test_klog_level(void **state)
{
  (void)state;
  assert_int_equal(berth_prog_klog_level(0), BERTH_LOG_INFO);
  assert_int_equal(berth_prog_klog_level(2), BERTH_LOG_INFO);
  assert_int_equal(berth_prog_klog_level(3), BERTH_LOG_DEBUG);
  assert_int_equal(berth_prog_klog_level(4), BERTH_LOG_DEBUG);
  assert_int_equal(berth_prog_klog_level(5), BERTH_LOG_TRACE);
  assert_int_equal(berth_prog_klog_level(100), BERTH_LOG_TRACE);
}

static void test_endpoint_parse(void **state)
{
  struct sockaddr_storage ss;
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
  berth_error_t err;
  socklen_t len;
  char text[64];

  (void)state;
  assert_int_equal(berth_prog_endpoint_parse(":8080", &ss, &len, NULL),
                   BERTH_OK);
  assert_int_equal(ss.ss_family, AF_INET);
  assert_int_equal(ntohs(sin->sin_port), 8080);
  assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
  assert_int_equal(len, sizeof(*sin));
  assert_int_equal(berth_prog_endpoint_parse("9090", &ss, &len, NULL),
                   BERTH_OK);
  assert_int_equal(ntohs(sin->sin_port), 9090);
  assert_int_equal(berth_prog_endpoint_parse("127.0.0.1:0", &ss, &len, NULL),
                   BERTH_OK);
  inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
  assert_string_equal(text, "127.0.0.1");
  assert_int_equal(berth_prog_endpoint_parse("[::1]:81", &ss, &len, NULL),
                   BERTH_OK);
  assert_int_equal(ss.ss_family, AF_INET6);
  assert_int_equal(ntohs(sin6->sin6_port), 81);
  assert_int_equal(len, sizeof(*sin6));
  assert_int_equal(berth_prog_endpoint_parse("localhost:80", &ss, &len, &err),
                   BERTH_EINVAL);
  assert_string_equal(err.message,
                      "--http-endpoint: 'localhost' is not a numeric address");
  assert_int_equal(berth_prog_endpoint_parse(":99999", &ss, &len, &err),
                   BERTH_EINVAL);
  assert_string_equal(err.message,
                      "--http-endpoint wants [HOST]:PORT, got ':99999'");
  assert_int_equal(berth_prog_endpoint_parse("1.2.3.4:", &ss, &len, NULL),
                   BERTH_EINVAL);
  assert_int_equal(berth_prog_endpoint_parse(
                       "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
                       "0000:0000:0000:0000]:80",
                       &ss, &len, &err),
                   BERTH_EINVAL);
  assert_string_equal(err.message, "--http-endpoint: bad host");
}

/* ---- the server ---------------------------------------------------------
 */

static unsigned route(void *ctx, const char *url, berth_buf_t *out,
                      const char **type)
{
  int *calls = ctx;

  (*calls)++;
  if (strcmp(url, "/json") == 0) {
    *type = "application/json";
    berth_buf_append_str(out, "{\"a\":1}");
    return 200;
  }
  berth_buf_append_str(out, "not here\n");
  return 404;
}

/* Send request to 127.0.0.1:port (HTTP/1.0, so the server closes) and
 * return the whole answer, or NULL. */
static char *ask(int port, const char *request)
{
  struct sockaddr_in sin;
  char *answer = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&answer, &len);
  char chunk[4096];
  ssize_t n;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  assert_true(fd >= 0);
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
  assert_int_equal(write(fd, request, strlen(request)),
                   (ssize_t)strlen(request));
  while ((n = read(fd, chunk, sizeof(chunk))) > 0)
    fwrite(chunk, 1, (size_t)n, mem);
  close(fd);
  fclose(mem);
  return answer;
}

/* The status code of an HTTP answer, or -1. */
static int status_of(const char *answer)
{
  if (answer == NULL || strncmp(answer, "HTTP/1.", 7) != 0 ||
      strlen(answer) < 12)
    return -1;
  return atoi(answer + 9);
}

/* One server with loader: the route's answers, 405, the headers, a busy
 * port refused, and a clean stop. */
static void serve_with(berth_prog_mhd_load_fn load)
{
  int calls = 0;
  berth_prog_http_options_t o = {
      .endpoint = "127.0.0.1:0",
      .max_connections = 4,
      .load = load,
      .route = route,
      .ctx = &calls,
  };
  berth_prog_http_t *h = NULL;
  berth_prog_http_t *again = NULL;
  berth_error_t err;
  char endpoint[32];
  char *a;
  int port = 0;

  assert_int_equal(berth_prog_http_start(&o, &h, &port, &err), BERTH_OK);
  assert_non_null(h);
  assert_true(port > 0);

  a = ask(port, "GET /json HTTP/1.0\r\n\r\n");
  assert_int_equal(status_of(a), 200);
  assert_non_null(strstr(a, "Content-Type: application/json\r\n"));
  assert_non_null(strstr(a, "Cache-Control: no-store\r\n"));
  assert_non_null(strstr(a, "\r\n\r\n{\"a\":1}"));
  free(a);

  a = ask(port, "GET /other HTTP/1.0\r\n\r\n");
  assert_int_equal(status_of(a), 404);
  assert_non_null(strstr(a, "Content-Type: text/plain; charset=utf-8\r\n"));
  assert_non_null(strstr(a, "\r\n\r\nnot here\n"));
  free(a);

  /* Not GET or HEAD: 405, without asking the route. */
  a = ask(port, "DELETE /json HTTP/1.0\r\n\r\n");
  assert_int_equal(status_of(a), 405);
  assert_non_null(strstr(a, "Content-Type: text/plain\r\n"));
  assert_non_null(strstr(a, "\r\n\r\nmethod not allowed\n"));
  free(a);
  assert_int_equal(calls, 2);

  /* HEAD: the route's status and headers, no body. */
  a = ask(port, "HEAD /json HTTP/1.0\r\n\r\n");
  assert_int_equal(status_of(a), 200);
  assert_null(strstr(a, "{\"a\":1}"));
  free(a);

  /* The same port again: a clear error, nothing left behind. */
  snprintf(endpoint, sizeof(endpoint), "127.0.0.1:%d", port);
  o.endpoint = endpoint;
  assert_int_equal(berth_prog_http_start(&o, &again, NULL, &err), BERTH_EIO);
  assert_null(again);
  assert_non_null(strstr(err.message, endpoint));

  berth_prog_http_stop(h);
  berth_prog_http_stop(NULL);
}

static void test_http_linked(void **state)
{
  (void)state;
  serve_with(berth_prog_mhd_linked);
}

static void test_http_dlopen(void **state)
{
  (void)state;
  serve_with(berth_prog_mhd_dlopen);
}

static void test_http_bad_endpoint(void **state)
{
  berth_prog_http_options_t o = {
      .endpoint = "nowhere:80",
      .max_connections = 4,
      .load = berth_prog_mhd_dlopen,
      .route = route,
  };
  berth_prog_http_t *h = NULL;
  berth_error_t err;

  (void)state;
  assert_int_equal(berth_prog_http_start(&o, &h, NULL, &err), BERTH_EINVAL);
  assert_null(h);
  assert_string_equal(err.message,
                      "--http-endpoint: 'nowhere' is not a numeric address");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fail_and_version),
      cmocka_unit_test(test_env),
      cmocka_unit_test(test_bool),
      cmocka_unit_test(test_duration),
      cmocka_unit_test(test_number),
      cmocka_unit_test(test_klog_level),
      cmocka_unit_test(test_endpoint_parse),
      cmocka_unit_test(test_http_linked),
      cmocka_unit_test(test_http_dlopen),
      cmocka_unit_test(test_http_bad_endpoint),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
