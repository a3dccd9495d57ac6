/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests of the HTTP client (include/berth/http.h) against the
 * test bed's HTTPS server (tests/bed/https_server.py), run under
 * `bed.py run https`, which exports BERTH_HTTPS_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "test_timing.h"
#include <pthread.h>
#include <jansson.h>

#include "berth/clock.h"
#include "berth/http.h"

static const char *need_env(const char *name)
{
  const char *v = getenv(name);

  if (v == NULL || *v == '\0') {
    print_error("%s is not set: run this test under tests/bed/bed.py run "
                "https -- ...\n",
                name);
    fail();
  }
  return v;
}

/* A URL on the plain TLS port (or the mTLS port) with the given path. */
static char *url_for(const char *base_env, const char *path)
{
  char *u = berth_strdup_printf("%s%s", need_env(base_env), path);

  assert_non_null(u);
  return u;
}

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  berth_buf_t b;
  char chunk[4096];
  size_t n;

  assert_non_null(f);
  berth_buf_init(&b);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    assert_int_equal(berth_buf_append(&b, chunk, n), BERTH_OK);
  fclose(f);
  return berth_buf_detach(&b);
}

/* A client that trusts the bed's CA, with optional tweaks. */
static berth_http_client_t *make_client(const berth_http_options_t *base)
{
  berth_http_options_t o;
  berth_http_client_t *c = NULL;
  berth_error_t err;

  if (base != NULL)
    o = *base;
  else
    berth_http_options_init(&o);
  if (o.ca_file == NULL && o.ca_data == NULL && !o.insecure_skip_tls_verify)
    o.ca_file = need_env("BERTH_HTTPS_CA");
  assert_int_equal(berth_http_client_create(&o, &c, &err), BERTH_OK);
  assert_non_null(c);
  return c;
}

/* GET (or another method) path on the plain port; returns the status. */
static berth_status_t fetch(berth_http_client_t *c, const char *method,
                            const char *path, berth_http_response_t *resp,
                            berth_error_t *err)
{
  berth_http_request_t req = {0};
  char *url = url_for("BERTH_HTTPS_URL", path);
  berth_status_t st;

  req.method = method;
  req.url = url;
  st = berth_http_do(c, &req, resp, err);
  free(url);
  return st;
}

/* The value of header `name` in an /echo answer, or NULL. Borrowed. */
static const char *echo_header(json_t *echo, const char *name)
{
  json_t *headers = json_object_get(echo, "headers");
  json_t *pair;
  size_t i;

  json_array_foreach(headers, i, pair)
  {
    if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0)
      return json_string_value(json_array_get(pair, 1));
  }
  return NULL;
}

static json_t *parse_json(const berth_http_response_t *resp)
{
  json_error_t jerr;
  json_t *j =
      json_loadb(resp->body.data, resp->body.len, JSON_ALLOW_NUL, &jerr);

  if (j == NULL)
    print_error("bad JSON (%s): %s\n", jerr.text, berth_buf_str(&resp->body));
  assert_non_null(j);
  return j;
}

static long conn_id(berth_http_client_t *c)
{
  berth_http_response_t resp;
  berth_error_t err;
  json_t *j;
  long id;

  berth_http_response_init(&resp);
  assert_int_equal(fetch(c, NULL, "/conn", &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 200);
  j = parse_json(&resp);
  id = (long)json_integer_value(json_object_get(j, "conn"));
  assert_true(id > 0);
  json_decref(j);
  berth_http_response_cleanup(&resp);
  return id;
}

static void test_get_post_roundtrip(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;
  const char *body = "hello \0berth";
  const char *hdrs[] = {"Content-Type: text/plain", "X-Berth-Test: 1"};
  char *url = url_for("BERTH_HTTPS_URL", "/echo?q=1");
  json_t *j;

  (void)state;
  berth_http_response_init(&resp);
  assert_int_equal(fetch(c, NULL, "/echo", &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 200);
  assert_string_equal(resp.content_type, "application/json");
  assert_int_equal(resp.retry_after_ms, -1);
  j = parse_json(&resp);
  assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
  assert_non_null(echo_header(j, "User-Agent"));
  assert_true(strncmp(echo_header(j, "User-Agent"), "berth/", 6) == 0);
  assert_null(echo_header(j, "Authorization"));
  json_decref(j);

  /* A counted header list and a body with a NUL byte in it. */
  req.method = "PUT";
  req.url = url;
  req.headers = hdrs;
  req.header_count = 2;
  req.body = body;
  req.body_len = 12;
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 200);
  j = parse_json(&resp);
  assert_string_equal(json_string_value(json_object_get(j, "method")), "PUT");
  assert_int_equal(json_string_length(json_object_get(j, "body")), 12);
  assert_memory_equal(json_string_value(json_object_get(j, "body")), body, 12);
  assert_string_equal(json_string_value(json_object_get(j, "path")),
                      "/echo?q=1");
  assert_string_equal(echo_header(j, "Content-Type"), "text/plain");
  assert_string_equal(echo_header(j, "X-Berth-Test"), "1");
  assert_string_equal(echo_header(j, "Content-Length"), "12");
  assert_null(echo_header(j, "Expect"));
  json_decref(j);

  /* POST without a Content-Type sends none (not libcurl's form type). */
  req.method = NULL;
  req.headers = NULL;
  req.header_count = 0;
  req.body = "{}";
  req.body_len = 2;
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_OK);
  j = parse_json(&resp);
  assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
  assert_string_equal(json_string_value(json_object_get(j, "body")), "{}");
  assert_null(echo_header(j, "Content-Type"));
  json_decref(j);

  /* DELETE without a body, and a 404. */
  assert_int_equal(fetch(c, "DELETE", "/echo", &resp, &err), BERTH_OK);
  j = parse_json(&resp);
  assert_string_equal(json_string_value(json_object_get(j, "method")),
                      "DELETE");
  json_decref(j);
  assert_int_equal(fetch(c, NULL, "/no/such/thing", &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 404);
  assert_int_equal(berth_http_status_to_berth(resp.status), BERTH_ENOTFOUND);

  free(url);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

static void test_bearer_token(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;
  const char *own[] = {"Authorization: AWS4-HMAC-SHA256 Credential=x", NULL};
  char *url = url_for("BERTH_HTTPS_URL", "/echo");
  json_t *j;

  (void)state;
  berth_http_options_init(&o);
  o.bearer_token = "first-token";
  c = make_client(&o);
  berth_http_response_init(&resp);

  assert_int_equal(fetch(c, NULL, "/echo", &resp, &err), BERTH_OK);
  j = parse_json(&resp);
  assert_string_equal(echo_header(j, "Authorization"), "Bearer first-token");
  json_decref(j);

  /* A rotated token is used by the next request. */
  assert_int_equal(berth_http_client_set_bearer_token(c, "rotated", &err),
                   BERTH_OK);
  assert_int_equal(fetch(c, NULL, "/echo", &resp, &err), BERTH_OK);
  j = parse_json(&resp);
  assert_string_equal(echo_header(j, "Authorization"), "Bearer rotated");
  json_decref(j);

  /* A request's own Authorization header wins. */
  req.url = url;
  req.headers = own;
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_OK);
  j = parse_json(&resp);
  assert_string_equal(echo_header(j, "Authorization"),
                      "AWS4-HMAC-SHA256 Credential=x");
  json_decref(j);

  /* NULL removes the token. */
  assert_int_equal(berth_http_client_set_bearer_token(c, NULL, &err), BERTH_OK);
  assert_int_equal(fetch(c, NULL, "/echo", &resp, &err), BERTH_OK);
  j = parse_json(&resp);
  assert_null(echo_header(j, "Authorization"));
  json_decref(j);

  free(url);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

static void test_connection_reuse(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  berth_http_client_t *other = make_client(NULL);
  long first;

  (void)state;
  first = conn_id(c);
  assert_int_equal(conn_id(c), first);
  assert_int_equal(conn_id(c), first);
  /* Another client has its own connection. */
  assert_int_not_equal(conn_id(other), first);
  berth_http_client_destroy(other);
  berth_http_client_destroy(c);
}

static void test_ca_file_and_memory(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  char *pem = read_file(need_env("BERTH_HTTPS_CA"));

  (void)state;
  c = make_client(NULL); /* ca_file */
  assert_true(conn_id(c) > 0);
  berth_http_client_destroy(c);

  berth_http_options_init(&o);
  o.ca_data = pem;
  c = make_client(&o);
  free(pem); /* the client keeps its own copy */
  assert_true(conn_id(c) > 0);
  berth_http_client_destroy(c);
}

static void test_tls_verification(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  berth_http_response_t resp;
  berth_error_t err;

  (void)state;
  berth_http_response_init(&resp);

  /* A CA that did not sign the server's certificate. */
  berth_http_options_init(&o);
  o.ca_file = need_env("BERTH_HTTPS_WRONG_CA");
  c = make_client(&o);
  assert_int_equal(fetch(c, NULL, "/conn", &resp, &err), BERTH_ETLS);
  assert_int_equal(err.status, BERTH_ETLS);
  assert_int_equal(err.http_code, 0);
  assert_int_equal(resp.status, 0);
  assert_non_null(strstr(err.message, "https://127.0.0.1:"));
  berth_http_client_destroy(c);

  /* The system's CAs do not know the test CA either. */
  berth_http_options_init(&o);
  assert_int_equal(berth_http_client_create(&o, &c, &err), BERTH_OK);
  assert_int_equal(fetch(c, NULL, "/conn", &resp, &err), BERTH_ETLS);
  berth_http_client_destroy(c);

  /* Unless verification is off. */
  o.insecure_skip_tls_verify = true;
  c = make_client(&o);
  assert_true(conn_id(c) > 0);
  berth_http_client_destroy(c);

  berth_http_response_cleanup(&resp);
}

/* GET /conn on the mTLS port; the result must be want or, when alt is not
 * BERTH_OK, alt. */
static void mtls_get(berth_http_client_t *c, berth_status_t want,
                     berth_status_t alt)
{
  berth_http_request_t req = {0};
  berth_http_response_t resp;
  berth_error_t err;
  char *url = url_for("BERTH_HTTPS_MTLS_URL", "/conn");
  berth_status_t st;

  berth_http_response_init(&resp);
  req.url = url;
  st = berth_http_do(c, &req, &resp, &err);
  if (st != want && (alt == BERTH_OK || st != alt))
    print_error("mTLS: got %s (%s), want %s\n", berth_status_name(st),
                err.message, berth_status_name(want));
  assert_true(st == want || (alt != BERTH_OK && st == alt));
  if (want == BERTH_OK)
    assert_int_equal(resp.status, 200);
  free(url);
  berth_http_response_cleanup(&resp);
}

static void test_mtls(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  berth_error_t err;
  char *cert = read_file(need_env("BERTH_HTTPS_CLIENT_CERT"));
  char *key = read_file(need_env("BERTH_HTTPS_CLIENT_KEY"));

  (void)state;
  /* Certificate and key from files. */
  berth_http_options_init(&o);
  o.client_cert_file = need_env("BERTH_HTTPS_CLIENT_CERT");
  o.client_key_file = need_env("BERTH_HTTPS_CLIENT_KEY");
  c = make_client(&o);
  mtls_get(c, BERTH_OK, BERTH_OK);
  berth_http_client_destroy(c);

  /* From memory. */
  berth_http_options_init(&o);
  o.client_cert_data = cert;
  o.client_key_data = key;
  c = make_client(&o);
  mtls_get(c, BERTH_OK, BERTH_OK);
  berth_http_client_destroy(c);

  /* Without one the server refuses. Under TLS 1.3 it does so with an
   * alert after the handshake and closes; libcurl 7.88 reports a read
   * error, and berth calls it BERTH_ETLS when libcurl's message carries
   * OpenSSL's reason. When the server's close wins the race with libcurl's
   * getpeername(), that message is lost and BERTH_ETRANSPORT is all there
   * is to say. */
  c = make_client(NULL);
  mtls_get(c, BERTH_ETLS, BERTH_ETRANSPORT);
  berth_http_client_destroy(c);

  /* A key without a certificate is a configuration error. */
  berth_http_options_init(&o);
  o.client_key_data = key;
  c = NULL;
  assert_int_equal(berth_http_client_create(&o, &c, &err), BERTH_EINVAL);
  assert_null(c);

  free(cert);
  free(key);
}

static void test_hang_timeout(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c = make_client(NULL);
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;
  char *url = url_for("BERTH_HTTPS_URL", "/hang");
  int64_t t0, elapsed;

  (void)state;
  berth_http_response_init(&resp);
  /* A per-request override. */
  req.url = url;
  req.timeout_ms = 500;
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_ETIMEOUT);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_true(elapsed >= 450);
  assert_true(elapsed < test_bound_ms(3000));
  assert_int_equal(err.status, BERTH_ETIMEOUT);
  /* The client still works afterwards. */
  assert_true(conn_id(c) > 0);
  berth_http_client_destroy(c);

  /* The client's own time-out. */
  berth_http_options_init(&o);
  o.timeout_ms = 400;
  c = make_client(&o);
  req.timeout_ms = 0;
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_ETIMEOUT);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_true(elapsed >= 350);
  assert_true(elapsed < test_bound_ms(3000));
  berth_http_client_destroy(c);

  free(url);
  berth_http_response_cleanup(&resp);
}

static void test_reset(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;

  (void)state;
  berth_http_response_init(&resp);
  assert_int_equal(fetch(c, NULL, "/reset", &resp, &err), BERTH_ETRANSPORT);
  assert_int_equal(err.status, BERTH_ETRANSPORT);
  assert_true(err.message[0] != '\0');
  /* Nothing listens on port 1: connection refused. */
  req.url = "https://127.0.0.1:1/";
  req.timeout_ms = 5000;
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_ETRANSPORT);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

static void test_status_codes(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  berth_http_response_t resp;
  berth_error_t err;
  long first = conn_id(c);

  (void)state;
  berth_http_response_init(&resp);
  assert_int_equal(fetch(c, NULL, "/status/429", &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 429);
  assert_int_equal(resp.retry_after_ms, 2000);
  assert_int_equal(berth_http_status_to_berth(resp.status), BERTH_ETHROTTLED);

  assert_int_equal(fetch(c, NULL, "/status/503", &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 503);
  assert_int_equal(resp.retry_after_ms, 2000);
  assert_int_equal(berth_http_status_to_berth(resp.status), BERTH_EUNAVAILABLE);

  /* Reusing a response replaces what the last call captured. */
  assert_int_equal(fetch(c, NULL, "/status/409", &resp, &err), BERTH_OK);
  assert_int_equal(resp.status, 409);
  assert_int_equal(resp.retry_after_ms, -1);
  assert_int_equal(berth_http_status_to_berth(resp.status), BERTH_ECONFLICT);
  assert_string_equal(berth_buf_str(&resp.body), "{\"code\": 409}\n");

  /* Error statuses keep the connection alive too. */
  assert_int_equal(conn_id(c), first);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

static void test_body_limit(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  berth_http_response_t resp;
  berth_error_t err;

  (void)state;
  berth_http_options_init(&o);
  o.max_body_bytes = 1000;
  c = make_client(&o);
  berth_http_response_init(&resp);

  /* Exactly the limit is fine. */
  assert_int_equal(fetch(c, NULL, "/big?bytes=1000", &resp, &err), BERTH_OK);
  assert_int_equal(resp.body.len, 1000);
  /* Over it, announced by Content-Length. */
  assert_int_equal(fetch(c, NULL, "/big?bytes=5000", &resp, &err),
                   BERTH_ETOOBIG);
  assert_int_equal(err.http_code, 200);
  /* Over it, found while reading a chunked body. */
  assert_int_equal(fetch(c, NULL, "/big?bytes=200000&chunked=1", &resp, &err),
                   BERTH_ETOOBIG);
  assert_int_equal(err.status, BERTH_ETOOBIG);
  assert_non_null(strstr(err.message, "1000 bytes"));
  assert_true(resp.body.len <= 1000);
  /* The client recovers. */
  assert_int_equal(fetch(c, NULL, "/big?bytes=10&chunked=1", &resp, &err),
                   BERTH_OK);
  assert_string_equal(berth_buf_str(&resp.body), "xxxxxxxxxx");

  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

/* What a stream callback saw. */
typedef struct {
  berth_buf_t data;
  int calls;
  long status;
  int64_t first_ms;
  int stop_after; /* stop on this call (0: never) */
  berth_status_t stop_with;
} sink_t;

static berth_status_t on_chunk(void *ctx, long http_status, const char *data,
                               size_t len)
{
  sink_t *s = ctx;

  if (s->calls++ == 0)
    s->first_ms = berth_clock_monotonic_ms(NULL);
  s->status = http_status;
  assert_int_equal(berth_buf_append(&s->data, data, len), BERTH_OK);
  if (s->stop_after > 0 && s->calls >= s->stop_after)
    return s->stop_with;
  return BERTH_OK;
}

static void sink_init(sink_t *s)
{
  memset(s, 0, sizeof(*s));
  berth_buf_init(&s->data);
}

static berth_status_t stream(berth_http_client_t *c, const char *path,
                             long idle_ms, sink_t *s, long *status,
                             berth_error_t *err)
{
  berth_http_request_t req = {0};
  char *url = url_for("BERTH_HTTPS_URL", path);
  berth_status_t st;

  req.url = url;
  req.idle_timeout_ms = idle_ms;
  st = berth_http_stream(c, &req, on_chunk, s, status, err);
  free(url);
  return st;
}

static int count_lines(const berth_buf_t *b)
{
  int n = 0;
  size_t i;

  for (i = 0; i < b->len; i++)
    n += b->data[i] == '\n';
  return n;
}

static void test_stream_incremental(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  sink_t s;
  berth_error_t err;
  long status = -1;
  int64_t end;

  (void)state;
  /* The whole-request time-out (300 ms) must not cut a 5 x 150 ms stream;
   * the idle time-out (400 ms) is longer than any gap. */
  berth_http_options_init(&o);
  o.timeout_ms = 300;
  c = make_client(&o);
  sink_init(&s);
  assert_int_equal(
      stream(c, "/stream?lines=6&delay_ms=150", 400, &s, &status, &err),
      BERTH_OK);
  end = berth_clock_monotonic_ms(NULL);
  assert_int_equal(status, 200);
  assert_int_equal(s.status, 200);
  assert_int_equal(count_lines(&s.data), 6);
  assert_true(berth_str_has_prefix(berth_buf_str(&s.data), "{\"n\":0}\n"));
  /* The first line was delivered long before the stream ended. */
  assert_true(end - s.first_ms >= 5 * 150 * 8 / 10);
  assert_true(s.calls >= 3);
  berth_buf_cleanup(&s.data);

  /* An error status comes through the callback with its code. */
  sink_init(&s);
  assert_int_equal(stream(c, "/status/410", 0, &s, &status, &err), BERTH_OK);
  assert_int_equal(status, 410);
  assert_int_equal(s.status, 410);
  assert_string_equal(berth_buf_str(&s.data), "{\"code\": 410}\n");
  berth_buf_cleanup(&s.data);
  berth_http_client_destroy(c);
}

static void test_stream_truncated(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  sink_t s;
  berth_error_t err;
  long status = -1;

  (void)state;
  sink_init(&s);
  assert_int_equal(stream(c, "/truncated", 0, &s, &status, &err),
                   BERTH_ETRANSPORT);
  assert_int_equal(status, 200);
  assert_int_equal(err.http_code, 200);
  /* The complete chunks arrived before the error. */
  assert_true(
      berth_str_has_prefix(berth_buf_str(&s.data), "{\"n\":0}\n{\"n\":1}\n"));
  berth_buf_cleanup(&s.data);
  berth_http_client_destroy(c);
}

static void test_stream_abort(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  sink_t s;
  berth_error_t err;
  long status = -1;
  int64_t t0, elapsed, bound;

  (void)state;
  sink_init(&s);
  s.stop_after = 1;
  s.stop_with = BERTH_ECANCELED;
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(
      stream(c, "/stream?lines=20&delay_ms=200", 0, &s, &status, &err),
      BERTH_ECANCELED);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_int_equal(s.calls, 1);
  assert_int_equal(status, 200);
  /* Not the whole 4 s stream: scaled, but always below it. */
  bound = test_bound_ms(2000) < 3500 ? test_bound_ms(2000) : 3500;
  assert_true(elapsed < bound);
  berth_buf_cleanup(&s.data);

  /* The callback's own status comes back unchanged. */
  sink_init(&s);
  s.stop_after = 2;
  s.stop_with = BERTH_EPARSE;
  assert_int_equal(
      stream(c, "/stream?lines=20&delay_ms=50", 0, &s, &status, &err),
      BERTH_EPARSE);
  assert_int_equal(s.calls, 2);
  assert_int_equal(err.status, BERTH_EPARSE);
  berth_buf_cleanup(&s.data);

  /* The client is fine afterwards. */
  assert_true(conn_id(c) > 0);
  berth_http_client_destroy(c);
}

static void test_stream_idle_timeout(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  sink_t s;
  berth_error_t err;
  long status = -1;
  int64_t t0, elapsed;

  (void)state;
  sink_init(&s);
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(stream(c, "/stream?lines=2&stall=1", 300, &s, &status, &err),
                   BERTH_ETIMEOUT);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_int_equal(status, 200);
  assert_int_equal(count_lines(&s.data), 2);
  assert_true(elapsed >= 280);
  assert_true(elapsed < test_bound_ms(3000));
  assert_non_null(strstr(err.message, "300 ms"));
  berth_buf_cleanup(&s.data);
  berth_http_client_destroy(c);
}

typedef struct {
  volatile int flag;
  int64_t delay_ms;
  int64_t set_ms; /* when the flag went up (monotonic) */
} canceller_t;

static void *cancel_later(void *arg)
{
  canceller_t *k = arg;

  /* The stimulus, not a synchronisation: the request must notice it. */
  berth_clock_sleep_ms(NULL, k->delay_ms);
  k->set_ms = berth_clock_monotonic_ms(NULL);
  k->flag = 1;
  return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;
  canceller_t k = {0, 300, 0};
  pthread_t t;
  char *url = url_for("BERTH_HTTPS_URL", "/hang");
  int64_t t0, end, elapsed;

  (void)state;
  berth_http_response_init(&resp);
  req.url = url;
  req.timeout_ms = 10000;
  req.cancel = &k.flag;
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(pthread_create(&t, NULL, cancel_later, &k), 0);
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_ECANCELED);
  end = berth_clock_monotonic_ms(NULL);
  pthread_join(t, NULL);
  assert_true(end - t0 >= 250);
  /* The property: noticed within a few poll intervals of the flag going
   * up (measured from then, not from the request's start). */
  elapsed = end - k.set_ms;
  if (elapsed >= test_bound_ms(5 * BERTH_HTTP_CANCEL_POLL_MS))
    fail_msg("cancel noticed %lld ms after the flag, want < %lld",
             (long long)elapsed,
             (long long)test_bound_ms(5 * BERTH_HTTP_CANCEL_POLL_MS));
  assert_non_null(strstr(err.message, "canceled"));

  /* Already canceled: the request stops at once; the client still works. */
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_ECANCELED);
  assert_true(berth_clock_monotonic_ms(NULL) - t0 < test_bound_ms(2000));
  assert_true(conn_id(c) > 0);
  free(url);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

static void test_no_secrets_in_errors(void **state)
{
  berth_http_options_t o;
  berth_http_client_t *c;
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;

  (void)state;
  berth_http_options_init(&o);
  o.bearer_token = "tok-SECRET-1";
  c = make_client(&o);
  berth_http_response_init(&resp);
  req.url = "https://user:pw-SECRET-2@127.0.0.1:1/x?sig=SECRET-3#frag";
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_ETRANSPORT);
  assert_non_null(strstr(err.message, "GET https://127.0.0.1:1/x"));
  assert_null(strstr(err.message, "SECRET"));
  assert_null(strstr(err.message, "Bearer"));
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
}

static void test_invalid_requests(void **state)
{
  berth_http_client_t *c = make_client(NULL);
  berth_http_response_t resp;
  berth_http_request_t req = {0};
  berth_error_t err;
  char *url = url_for("BERTH_HTTPS_URL", "/echo");
  const char *injected[] = {"X-A: 1\r\nX-B: 2", NULL};

  (void)state;
  berth_http_response_init(&resp);
  req.url = "not a url";
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_EINVAL);
  req.url = "ftp://127.0.0.1/";
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_EINVAL);
  req.url = url;
  req.method = "get";
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_EINVAL);
  req.method = NULL;
  req.headers = injected;
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_EINVAL);
  assert_null(strstr(err.message, "X-B"));
  req.headers = NULL;
  req.body_len = 3; /* without a body */
  assert_int_equal(berth_http_do(c, &req, &resp, &err), BERTH_EINVAL);
  assert_int_equal(berth_http_do(NULL, &req, &resp, &err), BERTH_EINVAL);
  assert_int_equal(berth_http_stream(c, &req, NULL, NULL, NULL, &err),
                   BERTH_EINVAL);
  free(url);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(c);
  berth_http_client_destroy(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_post_roundtrip),
      cmocka_unit_test(test_bearer_token),
      cmocka_unit_test(test_connection_reuse),
      cmocka_unit_test(test_ca_file_and_memory),
      cmocka_unit_test(test_tls_verification),
      cmocka_unit_test(test_mtls),
      cmocka_unit_test(test_hang_timeout),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_status_codes),
      cmocka_unit_test(test_body_limit),
      cmocka_unit_test(test_stream_incremental),
      cmocka_unit_test(test_stream_truncated),
      cmocka_unit_test(test_stream_abort),
      cmocka_unit_test(test_stream_idle_timeout),
      cmocka_unit_test(test_cancel_from_another_thread),
      cmocka_unit_test(test_no_secrets_in_errors),
      cmocka_unit_test(test_invalid_requests),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
