/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SigV4 signing (lib/aws/sigv4.c), a pure function of the
 * request, credentials and time. The input is lines: flags (first byte),
 * method, path, query, region, service, access key, secret, token, time
 * in seconds, then "name:value" headers up to an empty line, then the
 * body. Invariants: signing twice gives byte-identical results; no added
 * header or query parameter carries a CR, LF, NUL or other control byte
 * (no header injection); the signature is 64 lower-case hex digits; the
 * secret appears in no output and no error message more often than
 * another secret's signing shows it (a secret may equal text the output
 * holds anyway, such as "X-Amz-Date" or a header value). */
#include <string.h>

#include "berth/sigv4.h"
#include "fuzz.h"

#define MAX_HEADERS 16

static void check_value(const char *what, const char *v)
{
  const unsigned char *p;

  FUZZ_CHECK(v != NULL, "%s is NULL", what);
  for (p = (const unsigned char *)v; *p != '\0'; p++)
    FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "%s has byte 0x%02x: %s", what, *p, v);
}

static size_t occurrences(const char *s, const char *needle)
{
  size_t n = 0;

  if (s == NULL)
    return 0;
  while ((s = strstr(s, needle)) != NULL) {
    n++;
    s++;
  }
  return n;
}

/* s was made with the secret, other with another secret (every byte
 * changed): the secret may stand in s only where it stands in other too,
 * i.e. where the input or the format put it, not the signing. */
static void check_no_secret(const char *what, const char *s, const char *other,
                            const char *secret)
{
  if (strlen(secret) >= 8)
    FUZZ_CHECK(occurrences(s, secret) <= occurrences(other, secret),
               "the secret is in %s", what);
}

/* o: the same request signed with another secret, or NULL. */
static void check_result(const berth_sigv4_result_t *r,
                         const berth_sigv4_result_t *o,
                         const berth_sigv4_params_t *p, const char *secret)
{
  size_t i;

  FUZZ_CHECK(strlen(r->signature) == 64 &&
                 strspn(r->signature, "0123456789abcdef") == 64,
             "signature '%s'", r->signature);
  for (i = 0; i < r->header_count; i++) {
    check_value(r->headers[i].name, r->headers[i].value);
    check_no_secret(
        r->headers[i].name, r->headers[i].value,
        o != NULL && i < o->header_count ? o->headers[i].value : NULL, secret);
  }
  if (p->mode == BERTH_SIGV4_QUERY) {
    FUZZ_CHECK(r->query != NULL, "query mode without a query");
    /* Encoded: unreserved characters, %XX, '=' and '&' only. */
    FUZZ_CHECK(strspn(r->query,
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                      "qrstuvwxyz0123456789-_.~%=&") == strlen(r->query),
               "query not encoded: %s", r->query);
    check_no_secret("query", r->query, o != NULL ? o->query : NULL, secret);
  } else {
    FUZZ_CHECK(
        r->authorization != NULL &&
            strncmp(r->authorization, "AWS4-HMAC-SHA256 Credential=", 28) == 0,
        "authorization '%s'",
        r->authorization != NULL ? r->authorization : "(null)");
  }
  check_no_secret("the canonical request", r->canonical_request,
                  o != NULL ? o->canonical_request : NULL, secret);
  check_no_secret("the string to sign", r->string_to_sign,
                  o != NULL ? o->string_to_sign : NULL, secret);
}

static bool same(const berth_sigv4_result_t *a, const berth_sigv4_result_t *b)
{
  size_t i;

  if (strcmp(a->signature, b->signature) != 0 ||
      strcmp(a->amz_date, b->amz_date) != 0 ||
      strcmp(a->canonical_request, b->canonical_request) != 0 ||
      strcmp(a->string_to_sign, b->string_to_sign) != 0 ||
      a->header_count != b->header_count ||
      (a->query == NULL) != (b->query == NULL) ||
      (a->query != NULL && strcmp(a->query, b->query) != 0))
    return false;
  for (i = 0; i < a->header_count; i++) {
    if (strcmp(a->headers[i].name, b->headers[i].name) != 0 ||
        strcmp(a->headers[i].value, b->headers[i].value) != 0)
      return false;
  }
  return true;
}

/* A copy of secret with every byte changed (never to NUL): text the
 * signing copied from it cannot stand in the other's output. */
static char *other_secret(const char *secret)
{
  char *o = strdup(secret);
  size_t i;

  if (o == NULL)
    return NULL;
  for (i = 0; o[i] != '\0'; i++)
    o[i] = (char)(o[i] ^ 1) != '\0' ? (char)(o[i] ^ 1) : (char)(o[i] ^ 2);
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text;
  char *line[10];
  char *p;
  size_t n = 0;
  berth_sigv4_header_t headers[MAX_HEADERS];
  berth_sigv4_credentials_t creds;
  berth_sigv4_request_t req;
  berth_sigv4_params_t params;
  berth_sigv4_result_t r1;
  berth_sigv4_result_t r2;
  berth_sigv4_result_t r3;
  berth_error_t err;
  berth_error_t err3;
  berth_status_t st;
  berth_status_t st2;
  berth_status_t st3;
  char *other;
  unsigned flags;

  fuzz_quiet_logs();
  if (size < 1)
    return 0;
  flags = data[0];
  text = fuzz_strndup(data + 1, size - 1);
  if (text == NULL)
    return 0;
  p = text;
  while (n < 10) {
    char *nl = strchr(p, '\n');

    line[n++] = p;
    if (nl == NULL) {
      p = NULL;
      break;
    }
    *nl = '\0';
    p = nl + 1;
  }
  if (n < 10 || p == NULL)
    goto done;
  memset(&req, 0, sizeof(req));
  memset(&params, 0, sizeof(params));
  req.method = line[0];
  req.path = line[1];
  req.query = line[2];
  params.region = line[3];
  params.service = line[4];
  creds.access_key_id = line[5];
  creds.secret_access_key = line[6];
  creds.session_token = line[7];
  params.credentials = &creds;
  {
    long long secs = strtoll(line[8], NULL, 10);

    /* Any time in ms an int64 holds; the signer refuses what it cannot
     * format. */
    params.time_ms = secs > INT64_MAX / 1000   ? INT64_MAX
                     : secs < INT64_MIN / 1000 ? INT64_MIN
                                               : secs * 1000;
  }
  params.mode = (flags & 1) ? BERTH_SIGV4_QUERY : BERTH_SIGV4_HEADER;
  params.no_normalize_path = (flags & 2) != 0;
  params.no_double_encode = (flags & 4) != 0;
  params.unsigned_payload = (flags & 8) != 0;
  params.content_sha256_header = (flags & 16) != 0;
  params.omit_session_token = (flags & 32) != 0;
  params.expires_s = (flags & 64) ? 604800 : 0;
  /* line[9] is the first header; headers run to an empty line. */
  p = line[9];
  while (req.header_count < MAX_HEADERS && p != NULL && *p != '\0') {
    char *nl = strchr(p, '\n');
    char *colon;

    if (nl != NULL)
      *nl = '\0';
    colon = strchr(p, ':');
    if (colon != NULL) {
      *colon = '\0';
      headers[req.header_count].name = p;
      headers[req.header_count].value = colon + 1;
      req.header_count++;
    }
    p = nl != NULL ? nl + 1 : NULL;
  }
  req.headers = headers;
  if (p != NULL) {
    req.body = p;
    req.body_len = strlen(p);
  }
  berth_error_clear(&err);
  st = berth_sigv4_sign(&req, &params, &r1, &err);
  st2 = berth_sigv4_sign(&req, &params, &r2, NULL);
  FUZZ_CHECK(st == st2, "signing twice: %d then %d", (int)st, (int)st2);
  /* The same request signed with another secret of the same length. */
  other = other_secret(creds.secret_access_key);
  if (other == NULL)
    goto done_results;
  creds.secret_access_key = other;
  berth_error_clear(&err3);
  memset(&r3, 0, sizeof(r3));
  st3 = berth_sigv4_sign(&req, &params, &r3, &err3);
  creds.secret_access_key = line[6];
  if (st == BERTH_OK) {
    FUZZ_CHECK(same(&r1, &r2), "signing twice gave different results");
    check_result(&r1, st3 == BERTH_OK ? &r3 : NULL, &params,
                 creds.secret_access_key);
  } else {
    check_no_secret("the error message", err.message,
                    st3 == st ? err3.message : NULL, creds.secret_access_key);
  }
  berth_sigv4_result_cleanup(&r3);
  free(other);
done_results:
  berth_sigv4_result_cleanup(&r1);
  berth_sigv4_result_cleanup(&r2);

done:
  free(text);
  return 0;
}
