/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: SigV4 (lib/aws/sigv4.c) against the official AWS SigV4 test
 * suite in the checkout: tests/data/sigv4/v4/<case>/ (aws-c-auth's
 * layout; origin and license in tests/data/sigv4/NOTICE). Every case runs
 * twice, once signing with the Authorization header and once as a
 * presigned URL, and must match byte for byte: canonical request, string
 * to sign, signature and the whole signed request. A missing suite is a
 * failure, not a skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "berth/sigv4.h"

#define SUITE_DIR BERTH_TEST_DATA "/sigv4/v4"
#define SUITE_CASES 38
#define MAX_HEADERS 32

typedef struct suite_case {
  char name[256];
  bool query_mode;
} suite_case_t;

/* A raw request as request.txt writes it. */
typedef struct raw_request {
  char *text; /* the file, modified in place */
  char *method;
  char *target; /* path and query */
  char *version;
  char *lines[MAX_HEADERS]; /* each header as written (folds included) */
  berth_sigv4_header_t headers[MAX_HEADERS];
  char *names[MAX_HEADERS];
  char *values[MAX_HEADERS];
  size_t count;
  const char *body;
  size_t body_len;
} raw_request_t;

static char *read_file(const char *dir, const char *name, size_t *len_out)
{
  char path[1024];
  FILE *f;
  berth_buf_t buf;
  char chunk[4096];
  size_t n;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL) {
    print_error("cannot open %s\n", path);
    return NULL;
  }
  berth_buf_init(&buf);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    assert_int_equal(berth_buf_append(&buf, chunk, n), BERTH_OK);
  fclose(f);
  if (len_out != NULL)
    *len_out = buf.len;
  return berth_buf_detach(&buf);
}

/* Parse request.txt: "METHOD TARGET HTTP/1.1\n", header lines "Name:value"
 * (a line starting with white space continues the previous one), then an
 * optional blank line and body. The target may contain spaces. */
static void parse_request(char *text, size_t len, raw_request_t *r)
{
  char *line_end;
  char *p;
  char *sp1, *sp2;

  memset(r, 0, sizeof(*r));
  r->text = text;
  line_end = strchr(text, '\n');
  assert_non_null(line_end);
  *line_end = '\0';
  sp1 = strchr(text, ' ');
  sp2 = strrchr(text, ' ');
  assert_true(sp1 != NULL && sp2 != NULL && sp1 < sp2);
  *sp1 = '\0';
  *sp2 = '\0';
  r->method = text;
  r->target = sp1 + 1;
  r->version = sp2 + 1;
  p = line_end + 1;
  while (p < text + len && *p != '\n') {
    char *end = strchr(p, '\n');
    char *colon;

    if (end == NULL)
      end = text + len;
    if ((*p == ' ' || *p == '\t') && r->count > 0) {
      /* A folded line: keep it in the previous header. */
      *(p - 1) = '\n';
      if (*end == '\n')
        *end = '\0';
      p = end + 1;
      continue;
    }
    assert_true(r->count < MAX_HEADERS);
    if (*end == '\n')
      *end = '\0';
    r->lines[r->count] = p;
    colon = strchr(p, ':');
    assert_non_null(colon);
    r->count++;
    p = end + 1;
  }
  /* Split names and values now that folds are joined. */
  {
    size_t i;
    for (i = 0; i < r->count; i++) {
      char *line = strdup(r->lines[i]);
      char *colon = strchr(line, ':');
      assert_non_null(line);
      *colon = '\0';
      r->names[i] = line;
      r->values[i] = colon + 1;
      r->headers[i].name = r->names[i];
      r->headers[i].value = r->values[i];
    }
  }
  if (p < text + len && *p == '\n') {
    r->body = p + 1;
    r->body_len = (size_t)(text + len - (p + 1));
  }
}

static void free_request(raw_request_t *r)
{
  size_t i;

  for (i = 0; i < r->count; i++)
    free(r->names[i]);
  free(r->text);
}

static void expect_file(const char *dir, const char *file, const char *got)
{
  char *want = read_file(dir, file, NULL);

  assert_non_null(want);
  if (strcmp(want, got) != 0) {
    print_error("%s/%s differs\n--- expected\n%s\n--- got\n%s\n---\n", dir,
                file, want, got);
    free(want);
    fail();
  }
  free(want);
}

static void run_case(void **state)
{
  const suite_case_t *c = *state;
  char dir[1400];
  char *text;
  size_t len;
  raw_request_t req;
  json_t *ctx = NULL;
  const char *ak, *sk, *token, *region, *service, *ts;
  long long expires;
  bool normalize, sign_body, omit;
  berth_sigv4_credentials_t cred;
  berth_sigv4_params_t p;
  berth_sigv4_request_t sreq;
  berth_sigv4_result_t res;
  berth_error_t err;
  berth_buf_t signed_req;
  char *query;
  char *ctx_text;
  size_t i;
  int64_t when;
  const char *pre = c->query_mode ? "query-" : "header-";
  char fname[64];

  snprintf(dir, sizeof(dir), "%s/%s", SUITE_DIR, c->name);
  ctx_text = read_file(dir, "context.json", &len);
  assert_non_null(ctx_text);
  assert_int_equal(berth_json_parse(ctx_text, len, &ctx, NULL), BERTH_OK);
  free(ctx_text);
  assert_int_equal(
      berth_json_get_string(ctx, "credentials.access_key_id", &ak, NULL),
      BERTH_OK);
  assert_int_equal(
      berth_json_get_string(ctx, "credentials.secret_access_key", &sk, NULL),
      BERTH_OK);
  assert_int_equal(
      berth_json_opt_string(ctx, "credentials.token", NULL, &token, NULL),
      BERTH_OK);
  assert_int_equal(berth_json_get_string(ctx, "region", &region, NULL),
                   BERTH_OK);
  assert_int_equal(berth_json_get_string(ctx, "service", &service, NULL),
                   BERTH_OK);
  assert_int_equal(berth_json_get_string(ctx, "timestamp", &ts, NULL),
                   BERTH_OK);
  assert_int_equal(
      berth_json_opt_bool(ctx, "normalize", true, &normalize, NULL), BERTH_OK);
  assert_int_equal(
      berth_json_opt_bool(ctx, "sign_body", false, &sign_body, NULL), BERTH_OK);
  assert_int_equal(
      berth_json_opt_bool(ctx, "omit_session_token", false, &omit, NULL),
      BERTH_OK);
  assert_int_equal(
      berth_json_opt_int(ctx, "expiration_in_seconds", 3600, &expires, NULL),
      BERTH_OK);
  /* "2015-08-30T12:36:00Z" -> "20150830T123600Z". */
  {
    char amz[17];
    assert_int_equal(strlen(ts), 20);
    snprintf(amz, sizeof(amz), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts, ts + 5, ts + 8,
             ts + 11, ts + 14, ts + 17);
    assert_int_equal(berth_sigv4_parse_date(amz, &when), BERTH_OK);
  }

  text = read_file(dir, "request.txt", &len);
  assert_non_null(text);
  parse_request(text, len, &req);

  memset(&cred, 0, sizeof(cred));
  cred.access_key_id = ak;
  cred.secret_access_key = sk;
  cred.session_token = token;
  memset(&p, 0, sizeof(p));
  p.region = region;
  p.service = service;
  p.credentials = &cred;
  p.time_ms = when;
  p.mode = c->query_mode ? BERTH_SIGV4_QUERY : BERTH_SIGV4_HEADER;
  p.expires_s = expires;
  p.no_normalize_path = !normalize;
  p.content_sha256_header = sign_body && !c->query_mode;
  p.omit_session_token = omit;

  query = strchr(req.target, '?');
  memset(&sreq, 0, sizeof(sreq));
  sreq.method = req.method;
  sreq.headers = req.headers;
  sreq.header_count = req.count;
  sreq.body = req.body;
  sreq.body_len = req.body_len;
  {
    char *path = strdup(req.target);
    assert_non_null(path);
    if (query != NULL)
      path[query - req.target] = '\0';
    sreq.path = path;
    sreq.query = query != NULL ? query + 1 : NULL;
    berth_error_clear(&err);
    assert_int_equal(berth_sigv4_sign(&sreq, &p, &res, &err), BERTH_OK);
    free(path);
  }

  snprintf(fname, sizeof(fname), "%scanonical-request.txt", pre);
  expect_file(dir, fname, res.canonical_request);
  snprintf(fname, sizeof(fname), "%sstring-to-sign.txt", pre);
  expect_file(dir, fname, res.string_to_sign);
  snprintf(fname, sizeof(fname), "%ssignature.txt", pre);
  expect_file(dir, fname, res.signature);

  /* The signed request: request line (with the presigned query), the
   * original header lines, the added headers, a blank line, the body. */
  berth_buf_init(&signed_req);
  if (c->query_mode)
    assert_int_equal(
        berth_buf_appendf(&signed_req, "%s %s%c%s %s\n", req.method, req.target,
                          query != NULL ? '&' : '?', res.query, req.version),
        BERTH_OK);
  else
    assert_int_equal(berth_buf_appendf(&signed_req, "%s %s %s\n", req.method,
                                       req.target, req.version),
                     BERTH_OK);
  for (i = 0; i < req.count; i++)
    assert_int_equal(berth_buf_appendf(&signed_req, "%s\n", req.lines[i]),
                     BERTH_OK);
  for (i = 0; i < res.header_count; i++)
    assert_int_equal(berth_buf_appendf(&signed_req, "%s:%s\n",
                                       res.headers[i].name,
                                       res.headers[i].value),
                     BERTH_OK);
  assert_int_equal(berth_buf_append_byte(&signed_req, '\n'), BERTH_OK);
  if (req.body != NULL)
    assert_int_equal(berth_buf_append(&signed_req, req.body, req.body_len),
                     BERTH_OK);
  snprintf(fname, sizeof(fname), "%ssigned-request.txt", pre);
  expect_file(dir, fname, berth_buf_str(&signed_req));
  if (!c->query_mode)
    assert_non_null(strstr(res.authorization, res.signature));

  berth_buf_cleanup(&signed_req);
  berth_sigv4_result_cleanup(&res);
  free_request(&req);
  json_decref(ctx);
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(((const suite_case_t *)a)->name,
                ((const suite_case_t *)b)->name);
}

int main(void)
{
  DIR *d;
  struct dirent *de;
  suite_case_t cases[2 * SUITE_CASES + 16];
  struct CMUnitTest tests[2 * SUITE_CASES + 16];
  char names[2 * SUITE_CASES + 16][288];
  size_t n = 0, i;

  d = opendir(SUITE_DIR);
  if (d == NULL) {
    fprintf(stderr,
            "FAIL: the AWS SigV4 test suite is missing: cannot open %s "
            "(it is part of the checkout: tests/data/sigv4/v4)\n",
            SUITE_DIR);
    return 1;
  }
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if (n >= SUITE_CASES + 16)
      break;
    snprintf(cases[n].name, sizeof(cases[n].name), "%s", de->d_name);
    n++;
  }
  closedir(d);
  if (n != SUITE_CASES) {
    fprintf(stderr, "FAIL: %s holds %zu cases, expected %d\n", SUITE_DIR, n,
            SUITE_CASES);
    return 1;
  }
  qsort(cases, n, sizeof(cases[0]), name_cmp);
  for (i = 0; i < n; i++) {
    cases[n + i] = cases[i];
    cases[i].query_mode = false;
    cases[n + i].query_mode = true;
  }
  for (i = 0; i < 2 * n; i++) {
    /* Case names are short; a cut one would only blur the report. */
    if (snprintf(names[i], sizeof(names[i]), "%.200s/%s", cases[i].name,
                 cases[i].query_mode ? "query" : "header") < 0)
      return 1;
    memset(&tests[i], 0, sizeof(tests[i]));
    tests[i].name = names[i];
    tests[i].test_func = run_case;
    tests[i].initial_state = &cases[i];
  }
  return _cmocka_run_group_tests("sigv4_suite", tests, 2 * n, NULL, NULL);
}
