/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4, see include/berth/sigv4.h.
 *
 * Reference: AWS General Reference, "Signature Version 4 signing process"
 * and "Create a canonical request"; the byte-level rules follow the
 * official suite (aws-c-auth tests/aws-signing-test-suite/v4) and
 * botocore's SigV4Auth, which the test emulator uses to verify us.
 *
 * Pure: no I/O, no clock, no global state. Strings are assembled in one
 * berth_buf_t each, with offsets rather than pointers while a buffer may
 * still grow, so that a request costs a handful of allocations. */
#include "berth/sigv4.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "berth/buf.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* An entry of the header or query list: offsets into a scratch buffer. */
typedef struct entry {
  size_t name;      /* offset of the NUL-terminated name */
  size_t value;     /* offset of the NUL-terminated value */
  size_t order;     /* position in the input, for a stable sort */
  const char *base; /* the scratch buffer's data, set before sorting */
} entry_t;

typedef struct list {
  entry_t *items;
  size_t count;
  size_t cap;
  berth_buf_t text; /* names and values, NUL-separated */
} list_t;

static void list_init(list_t *l)
{
  memset(l, 0, sizeof(*l));
  berth_buf_init(&l->text);
}

static void list_cleanup(list_t *l)
{
  if (l->text.data != NULL)
    berth_memzero(l->text.data, l->text.len);
  berth_buf_cleanup(&l->text);
  free(l->items);
  memset(l, 0, sizeof(*l));
}

/* Reserve a new entry and return it (its offsets still to be set). */
static entry_t *list_push(list_t *l)
{
  if (l->count == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    entry_t *items = realloc(l->items, cap * sizeof(*items));
    if (items == NULL)
      return NULL;
    l->items = items;
    l->cap = cap;
  }
  memset(&l->items[l->count], 0, sizeof(entry_t));
  l->items[l->count].order = l->count;
  return &l->items[l->count++];
}

static int entry_cmp(const void *a, const void *b)
{
  const entry_t *x = a;
  const entry_t *y = b;
  int c = strcmp(x->base + x->name, y->base + y->name);

  if (c != 0)
    return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by name, keeping input order among equal names. */
static void list_sort(list_t *l)
{
  size_t i;

  for (i = 0; i < l->count; i++)
    l->items[i].base = l->text.data;
  if (l->count > 1)
    qsort(l->items, l->count, sizeof(entry_t), entry_cmp);
}

static int query_cmp(const void *a, const void *b)
{
  const entry_t *x = a;
  const entry_t *y = b;
  int c = strcmp(x->base + x->name, y->base + y->name);

  if (c != 0)
    return c;
  c = strcmp(x->base + x->value, y->base + y->value);
  if (c != 0)
    return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

static bool is_unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

berth_status_t berth_sigv4_uri_encode(struct berth_buf *out, const char *s,
                                      size_t len, bool keep_slash)
{
  static const char digits[] = "0123456789ABCDEF";
  berth_status_t st;
  size_t i;
  size_t run = 0;

  st = berth_buf_reserve(out, len);
  if (st != BERTH_OK)
    return st;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[3];

    if (is_unreserved(c) || (keep_slash && c == '/')) {
      run++;
      continue;
    }
    if (run > 0) {
      st = berth_buf_append(out, s + i - run, run);
      if (st != BERTH_OK)
        return st;
      run = 0;
    }
    esc[0] = '%';
    esc[1] = digits[c >> 4];
    esc[2] = digits[c & 15];
    st = berth_buf_append(out, esc, 3);
    if (st != BERTH_OK)
      return st;
  }
  if (run > 0)
    st = berth_buf_append(out, s + len - run, run);
  return st;
}

/* Append the percent-decoding of len bytes at s to out. A '%' that does
 * not start a valid escape stays as it is; '+' stays '+' (it is a space
 * only in HTML forms, not in RFC 3986 queries). */
static berth_status_t uri_decode(berth_buf_t *out, const char *s, size_t len)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  for (i = 0; i < len && st == BERTH_OK; i++) {
    int hi, lo;

    if (s[i] == '%' && i + 2 < len && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      st = berth_buf_append_byte(out, (char)(hi * 16 + lo));
      i += 2;
    } else {
      st = berth_buf_append_byte(out, s[i]);
    }
  }
  return st;
}

berth_status_t berth_sigv4_sha256_hex(const void *data, size_t len,
                                      char hex[65])
{
  unsigned char md[SHA256_DIGEST_LENGTH];

  if (SHA256(data != NULL ? data : (const void *)"", len, md) == NULL)
    return BERTH_EINTERNAL;
  to_hex(md, sizeof(md), hex);
  return BERTH_OK;
}

static berth_status_t hmac(const void *key, size_t key_len, const void *data,
                           size_t len, unsigned char out[32])
{
  unsigned int out_len = 32;

  if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) == NULL ||
      out_len != 32)
    return BERTH_EINTERNAL;
  return BERTH_OK;
}

berth_status_t berth_sigv4_derive_key(const char *secret, const char *date,
                                      const char *region, const char *service,
                                      unsigned char key[BERTH_SIGV4_KEY_LEN])
{
  berth_buf_t k;
  unsigned char a[32], b[32];
  berth_status_t st;

  berth_buf_init(&k);
  st = berth_buf_append_str(&k, "AWS4");
  if (st == BERTH_OK)
    st = berth_buf_append_str(&k, secret);
  if (st != BERTH_OK)
    goto done;
  st = hmac(k.data, k.len, date, strlen(date), a);
  if (st == BERTH_OK)
    st = hmac(a, 32, region, strlen(region), b);
  if (st == BERTH_OK)
    st = hmac(b, 32, service, strlen(service), a);
  if (st == BERTH_OK)
    st = hmac(a, 32, "aws4_request", 12, key);

done:
  berth_memzero(a, sizeof(a));
  berth_memzero(b, sizeof(b));
  if (k.data != NULL)
    berth_memzero(k.data, k.len);
  berth_buf_cleanup(&k);
  return st;
}

berth_status_t berth_sigv4_format_date(int64_t time_ms, char out[17])
{
  struct tm tm;
  time_t t;

  /* 253402300799 is 9999-12-31T23:59:59Z. */
  if (time_ms < 0 || time_ms / 1000 > 253402300799LL)
    return BERTH_EINVAL;
  t = (time_t)(time_ms / 1000);
  if (gmtime_r(&t, &tm) == NULL)
    return BERTH_EINVAL;
  if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
    return BERTH_EINVAL;
  return BERTH_OK;
}

berth_status_t berth_sigv4_parse_date(const char *s, int64_t *out_ms)
{
  struct tm tm;
  int v[6];
  static const int widths[6] = {4, 2, 2, 2, 2, 2};
  size_t pos = 0;
  int i, j;
  time_t t;

  if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
    return BERTH_EPARSE;
  for (i = 0; i < 6; i++) {
    v[i] = 0;
    if (i == 3)
      pos++; /* the 'T' */
    for (j = 0; j < widths[i]; j++, pos++) {
      if (s[pos] < '0' || s[pos] > '9')
        return BERTH_EPARSE;
      v[i] = v[i] * 10 + (s[pos] - '0');
    }
  }
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
      v[4] > 59 || v[5] > 60)
    return BERTH_EPARSE;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  t = timegm(&tm);
  if (t == (time_t)-1)
    return BERTH_EPARSE;
  *out_ms = (int64_t)t * 1000;
  return BERTH_OK;
}

/* Headers the signer supplies itself or never signs. */
static bool header_ignored(const char *name)
{
  static const char *const ignored[] = {
      "authorization",        "x-amz-date", "x-amz-security-token",
      "x-amz-content-sha256", "user-agent", "expect",
      "x-amzn-trace-id",      NULL};
  size_t i;

  for (i = 0; ignored[i] != NULL; i++)
    if (strcasecmp(name, ignored[i]) == 0)
      return true;
  return false;
}

/* Add name (lower-cased) and value (trimmed, inner white space collapsed)
 * to the header list. */
static berth_status_t add_header(list_t *l, const char *name, const char *value)
{
  entry_t *e = list_push(l);
  berth_status_t st = BERTH_OK;
  const char *p;
  bool pending_space = false;

  if (e == NULL)
    return BERTH_ENOMEM;
  e->name = l->text.len;
  for (p = name; *p != '\0' && st == BERTH_OK; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    st = berth_buf_append_byte(&l->text, c);
  }
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&l->text, '\0');
  e->value = l->text.len;
  for (p = value != NULL ? value : ""; *p != '\0' && st == BERTH_OK; p++) {
    if (is_space(*p)) {
      pending_space = l->text.len > e->value;
      continue;
    }
    if (pending_space) {
      st = berth_buf_append_byte(&l->text, ' ');
      pending_space = false;
    }
    if (st == BERTH_OK)
      st = berth_buf_append_byte(&l->text, *p);
  }
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&l->text, '\0');
  return st;
}

/* Add one query parameter: decoded (when decode) then encoded. */
static berth_status_t add_param(list_t *l, berth_buf_t *tmp, const char *key,
                                size_t key_len, const char *val, size_t val_len,
                                bool decode)
{
  entry_t *e = list_push(l);
  berth_status_t st;

  if (e == NULL)
    return BERTH_ENOMEM;
  berth_buf_reset(tmp);
  st = decode ? uri_decode(tmp, key, key_len)
              : berth_buf_append(tmp, key, key_len);
  e->name = l->text.len;
  if (st == BERTH_OK)
    st = berth_sigv4_uri_encode(&l->text, berth_buf_str(tmp), tmp->len, false);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&l->text, '\0');
  berth_buf_reset(tmp);
  if (st == BERTH_OK)
    st = decode ? uri_decode(tmp, val, val_len)
                : berth_buf_append(tmp, val, val_len);
  e->value = l->text.len;
  if (st == BERTH_OK)
    st = berth_sigv4_uri_encode(&l->text, berth_buf_str(tmp), tmp->len, false);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&l->text, '\0');
  return st;
}

/* Split query on '&' and add each "key=value" (or "key") to l. Empty
 * parts ("a=1&&b=2") are skipped, as botocore does. */
static berth_status_t add_query(list_t *l, berth_buf_t *tmp, const char *query)
{
  berth_status_t st = BERTH_OK;
  const char *p = query;

  while (p != NULL && *p != '\0' && st == BERTH_OK) {
    const char *amp = strchr(p, '&');
    size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', n);

    if (n > 0) {
      if (eq != NULL)
        st = add_param(l, tmp, p, (size_t)(eq - p), eq + 1,
                       n - (size_t)(eq - p) - 1, true);
      else
        st = add_param(l, tmp, p, n, "", 0, true);
    }
    p = amp != NULL ? amp + 1 : NULL;
  }
  return st;
}

/* Append the canonical path: normalised (unless no_normalize) and
 * encoded (unless no_double_encode). Normalisation as botocore's
 * remove_dot_segments: drop empty and "." segments, ".." removes the
 * previous one, a trailing slash survives when something is left. */
static berth_status_t append_path(berth_buf_t *out, const char *path,
                                  const berth_sigv4_params_t *p)
{
  berth_buf_t norm;
  berth_status_t st = BERTH_OK;
  const char *src = path;
  size_t src_len;

  if (path == NULL || *path == '\0')
    return berth_buf_append_byte(out, '/');
  berth_buf_init(&norm);
  if (!p->no_normalize_path) {
    /* Each kept segment is "/" + segment; ".." cuts back to the last
     * '/'. */
    const char *s = path;
    size_t len = strlen(path);
    bool trailing = path[len - 1] == '/';

    while (*s != '\0' && st == BERTH_OK) {
      const char *slash = strchr(s, '/');
      size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);

      if (n == 0 || (n == 1 && s[0] == '.')) {
        /* nothing */
      } else if (n == 2 && s[0] == '.' && s[1] == '.') {
        while (norm.len > 0 && norm.data[norm.len - 1] != '/')
          norm.len--;
        if (norm.len > 0)
          norm.len--;
        if (norm.data != NULL)
          norm.data[norm.len] = '\0';
      } else {
        st = berth_buf_append_byte(&norm, '/');
        if (st == BERTH_OK)
          st = berth_buf_append(&norm, s, n);
      }
      s = slash != NULL ? slash + 1 : s + n;
    }
    if (st == BERTH_OK && (norm.len == 0 || trailing))
      st = berth_buf_append_byte(&norm, '/');
    src = berth_buf_str(&norm);
  }
  src_len = strlen(src);
  if (st == BERTH_OK)
    st = p->no_double_encode ? berth_buf_append(out, src, src_len)
                             : berth_sigv4_uri_encode(out, src, src_len, true);
  berth_buf_cleanup(&norm);
  return st;
}

/* Append the canonical headers block (each "name:value\n", repeated names
 * joined with ',') and fill signed with "a;b;c". */
static berth_status_t append_headers(berth_buf_t *out, berth_buf_t *signed_h,
                                     list_t *l)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  list_sort(l);
  for (i = 0; i < l->count && st == BERTH_OK; i++) {
    const entry_t *e = &l->items[i];
    const char *name = l->text.data + e->name;
    bool same = i > 0 && strcmp(name, l->text.data + l->items[i - 1].name) == 0;

    if (same) {
      st = berth_buf_append_byte(out, ',');
    } else {
      if (i > 0)
        st = berth_buf_append_byte(out, '\n');
      if (st == BERTH_OK && signed_h->len > 0)
        st = berth_buf_append_byte(signed_h, ';');
      if (st == BERTH_OK)
        st = berth_buf_append_str(signed_h, name);
      if (st == BERTH_OK)
        st = berth_buf_append_str(out, name);
      if (st == BERTH_OK)
        st = berth_buf_append_byte(out, ':');
    }
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, l->text.data + e->value);
  }
  if (st == BERTH_OK && l->count > 0)
    st = berth_buf_append_byte(out, '\n');
  return st;
}

static berth_status_t append_query(berth_buf_t *out, list_t *l)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  for (i = 0; i < l->count; i++)
    l->items[i].base = l->text.data;
  if (l->count > 1)
    qsort(l->items, l->count, sizeof(entry_t), query_cmp);
  for (i = 0; i < l->count && st == BERTH_OK; i++) {
    if (i > 0)
      st = berth_buf_append_byte(out, '&');
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, l->text.data + l->items[i].name);
    if (st == BERTH_OK)
      st = berth_buf_append_byte(out, '=');
    if (st == BERTH_OK)
      st = berth_buf_append_str(out, l->text.data + l->items[i].value);
  }
  return st;
}

/* Append "&Name=encoded(value)" (no '&' for the first) to q. */
static berth_status_t query_out(berth_buf_t *q, const char *name,
                                const char *value)
{
  berth_status_t st = BERTH_OK;

  if (q->len > 0)
    st = berth_buf_append_byte(q, '&');
  if (st == BERTH_OK)
    st = berth_buf_append_str(q, name);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(q, '=');
  if (st == BERTH_OK)
    st = berth_sigv4_uri_encode(q, value, strlen(value), false);
  return st;
}

void berth_sigv4_result_cleanup(berth_sigv4_result_t *res)
{
  size_t i;
  char **owned[5];

  if (res == NULL)
    return;
  owned[0] = &res->canonical_request;
  owned[1] = &res->string_to_sign;
  owned[2] = &res->credential_scope;
  owned[3] = &res->signed_headers;
  owned[4] = &res->query;
  for (i = 0; i < 5; i++) {
    if (*owned[i] != NULL) {
      berth_memzero(*owned[i], strlen(*owned[i]));
      free(*owned[i]);
    }
  }
  for (i = 0; i < res->header_count && i < BERTH_SIGV4_MAX_ADDED_HEADERS; i++) {
    if (res->headers[i].value != NULL) {
      berth_memzero(res->headers[i].value, strlen(res->headers[i].value));
      free(res->headers[i].value);
    }
  }
  berth_memzero(res, sizeof(*res));
}

static berth_status_t add_out_header(berth_sigv4_result_t *r, const char *name,
                                     const char *value)
{
  char *v = strdup(value);

  if (v == NULL)
    return BERTH_ENOMEM;
  r->headers[r->header_count].name = name;
  r->headers[r->header_count].value = v;
  r->header_count++;
  return BERTH_OK;
}

/* true when s has no control byte (and none of the bytes in forbidden):
 * safe inside one header line. */
static bool header_text_ok(const char *s, const char *forbidden)
{
  for (; *s != '\0'; s++) {
    if ((unsigned char)*s < 0x20 || *s == 0x7f || strchr(forbidden, *s) != NULL)
      return false;
  }
  return true;
}

/* A request header's value: no control byte but tab, except a line
 * break followed by a space or tab (an obsolete folded line, RFC 9112
 * section 5.2, which the official suite signs); a break followed by
 * anything else would start a new header. NULL is an empty value. */
static bool header_value_ok(const char *v)
{
  for (; v != NULL && *v != '\0'; v++) {
    unsigned char c = (unsigned char)*v;

    if (c == '\n' && (v[1] == ' ' || v[1] == '\t'))
      continue;
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return false;
  }
  return true;
}

/* One signing: its inputs, what is built on the way, and the result. The
 * steps below fill it in the order of the AWS documentation ("Create a
 * signed AWS API request"): canonical request, string to sign, signing
 * key and signature, then what goes on the request. */
typedef struct sign {
  const berth_sigv4_request_t *req;
  const berth_sigv4_params_t *params;
  const berth_sigv4_credentials_t *cred;
  berth_sigv4_result_t r;
  list_t headers, query;
  berth_buf_t creq, sts, signed_h, scope, tmp, qout;
  char payload_hex[65];
  char date[9];
  char expires[24];
  const char *payload;
  const char *token;
  bool query_mode;
} sign_t;

static berth_status_t sign_oom(berth_error_t *err)
{
  return berth_error_set(err, BERTH_ENOMEM, "sigv4: out of memory");
}

/* The request, the credentials, the region and service, the time and
 * the expiry are usable. */
static berth_status_t sign_check(sign_t *s, berth_error_t *err)
{
  const berth_sigv4_request_t *req = s->req;
  const berth_sigv4_params_t *params = s->params;
  const berth_sigv4_credentials_t *cred = params->credentials;

  if (req->method == NULL || *req->method == '\0')
    return berth_error_set(err, BERTH_EINVAL, "sigv4: no request or method");
  if (cred == NULL || cred->access_key_id == NULL ||
      *cred->access_key_id == '\0' || cred->secret_access_key == NULL ||
      *cred->secret_access_key == '\0')
    return berth_error_set(err, BERTH_EINVAL, "sigv4: no credentials");
  if (params->region == NULL || *params->region == '\0' ||
      params->service == NULL || *params->service == '\0')
    return berth_error_set(err, BERTH_EINVAL, "sigv4: no region or service");
  /* What goes into the Authorization and X-Amz-Security-Token headers
   * comes from configuration or a credentials endpoint: a control byte
   * there would start a header line of its own. */
  if (!header_text_ok(cred->access_key_id, "/, ") ||
      !header_text_ok(params->region, "/, ") ||
      !header_text_ok(params->service, "/, ") ||
      (cred->session_token != NULL && !header_text_ok(cred->session_token, "")))
    return berth_error_set(err, BERTH_EINVAL,
                           "sigv4: the access key id, region, service or "
                           "session token has a control byte or a "
                           "delimiter");
  if (berth_sigv4_format_date(params->time_ms, s->r.amz_date) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL, "sigv4: time out of range");
  if (params->expires_s < 0 || params->expires_s > 604800)
    return berth_error_set(err, BERTH_EINVAL,
                           "sigv4: X-Amz-Expires must be 1..604800 seconds");
  s->cred = cred;
  s->query_mode = params->mode == BERTH_SIGV4_QUERY;
  if (cred->session_token != NULL && *cred->session_token != '\0')
    s->token = cred->session_token;
  memcpy(s->date, s->r.amz_date, 8);
  s->date[8] = '\0';
  snprintf(s->expires, sizeof(s->expires), "%lld",
           (long long)(params->expires_s > 0 ? params->expires_s : 3600));
  return BERTH_OK;
}

/* The payload hash (given, UNSIGNED-PAYLOAD, or the body's SHA-256) and
 * the credential scope date/region/service/aws4_request. */
static berth_status_t sign_payload_and_scope(sign_t *s, berth_error_t *err)
{
  const berth_sigv4_request_t *req = s->req;
  berth_status_t st;

  if (s->params->unsigned_payload) {
    s->payload = BERTH_SIGV4_UNSIGNED_PAYLOAD;
  } else if (req->payload_hash != NULL) {
    s->payload = req->payload_hash;
  } else {
    st = berth_sigv4_sha256_hex(
        req->body, req->body != NULL ? req->body_len : 0, s->payload_hex);
    if (st != BERTH_OK)
      return berth_error_set(err, st, "sigv4: SHA-256 failed");
    s->payload = s->payload_hex;
  }
  st = berth_buf_appendf(&s->scope, "%s/%s/%s/aws4_request", s->date,
                         s->params->region, s->params->service);
  return st == BERTH_OK ? BERTH_OK : sign_oom(err);
}

/* The headers to sign: the request's (checked; a Host header required)
 * and, in header mode, X-Amz-Date, the session token and the content
 * hash. */
static berth_status_t sign_headers(sign_t *s, berth_error_t *err)
{
  const berth_sigv4_params_t *params = s->params;
  berth_status_t st = BERTH_OK;
  bool have_host = false;
  size_t i;

  for (i = 0; i < s->req->header_count; i++) {
    const berth_sigv4_header_t *h = &s->req->headers[i];

    if (h->name == NULL || *h->name == '\0')
      return berth_error_set(err, BERTH_EINVAL, "sigv4: empty header name");
    if (!header_text_ok(h->name, ": ") || !header_value_ok(h->value))
      return berth_error_set(err, BERTH_EINVAL,
                             "sigv4: a header name or value has a control "
                             "byte");
    if (strcasecmp(h->name, "host") == 0)
      have_host = true;
    if (header_ignored(h->name))
      continue;
    if (add_header(&s->headers, h->name, h->value) != BERTH_OK)
      return sign_oom(err);
  }
  if (!have_host)
    return berth_error_set(err, BERTH_EINVAL, "sigv4: no Host header");
  if (!s->query_mode) {
    st = add_header(&s->headers, "x-amz-date", s->r.amz_date);
    if (st == BERTH_OK && s->token != NULL && !params->omit_session_token)
      st = add_header(&s->headers, "x-amz-security-token", s->token);
    if (st == BERTH_OK && params->content_sha256_header)
      st = add_header(&s->headers, "x-amz-content-sha256", s->payload);
  }
  return st == BERTH_OK ? BERTH_OK : sign_oom(err);
}

/* Query mode: the X-Amz-* parameters the signature covers, and the query
 * to append to the request, in the suite's order (Expires after
 * SignedHeaders; the signature is added last). */
static berth_status_t sign_presign_params(sign_t *s)
{
  const char *token =
      s->token != NULL && !s->params->omit_session_token ? s->token : NULL;
  const char *sh = berth_buf_str(&s->signed_h);
  char *credential;
  berth_status_t st;

  berth_buf_reset(&s->tmp);
  st = berth_buf_appendf(&s->tmp, "%s/%s", s->cred->access_key_id,
                         berth_buf_str(&s->scope));
  if (st != BERTH_OK)
    return st;
  credential = berth_buf_detach(&s->tmp);
  if (credential == NULL)
    return BERTH_ENOMEM;
  st = add_param(&s->query, &s->tmp, "X-Amz-Algorithm", 15, ALGORITHM,
                 strlen(ALGORITHM), false);
  if (st == BERTH_OK)
    st = add_param(&s->query, &s->tmp, "X-Amz-Credential", 16, credential,
                   strlen(credential), false);
  if (st == BERTH_OK)
    st = add_param(&s->query, &s->tmp, "X-Amz-Date", 10, s->r.amz_date, 16,
                   false);
  if (st == BERTH_OK)
    st = add_param(&s->query, &s->tmp, "X-Amz-Expires", 13, s->expires,
                   strlen(s->expires), false);
  if (st == BERTH_OK)
    st = add_param(&s->query, &s->tmp, "X-Amz-SignedHeaders", 19, sh,
                   s->signed_h.len, false);
  if (st == BERTH_OK && token != NULL)
    st = add_param(&s->query, &s->tmp, "X-Amz-Security-Token", 20, token,
                   strlen(token), false);
  if (st == BERTH_OK)
    st = query_out(&s->qout, "X-Amz-Algorithm", ALGORITHM);
  if (st == BERTH_OK)
    st = query_out(&s->qout, "X-Amz-Credential", credential);
  if (st == BERTH_OK)
    st = query_out(&s->qout, "X-Amz-Date", s->r.amz_date);
  if (st == BERTH_OK)
    st = query_out(&s->qout, "X-Amz-SignedHeaders", sh);
  if (st == BERTH_OK)
    st = query_out(&s->qout, "X-Amz-Expires", s->expires);
  if (st == BERTH_OK && s->token != NULL)
    st = query_out(&s->qout, "X-Amz-Security-Token", s->token);
  free(credential);
  return st;
}

/* The canonical request: method, path, query, headers, signed headers,
 * payload hash. Headers are sorted first: query mode needs the signed
 * header list among the query parameters. */
static berth_status_t sign_canonical_request(sign_t *s, berth_error_t *err)
{
  berth_buf_t hblock;
  berth_status_t st;

  berth_buf_init(&hblock);
  st = berth_buf_append_str(&s->creq, s->req->method);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&s->creq, '\n');
  if (st == BERTH_OK)
    st = append_path(&s->creq, s->req->path, s->params);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&s->creq, '\n');
  if (st == BERTH_OK)
    st = append_headers(&hblock, &s->signed_h, &s->headers);
  if (st == BERTH_OK)
    st = add_query(&s->query, &s->tmp, s->req->query);
  if (st == BERTH_OK && s->query_mode)
    st = sign_presign_params(s);
  if (st == BERTH_OK)
    st = append_query(&s->creq, &s->query);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(&s->creq, '\n');
  if (st == BERTH_OK)
    st = berth_buf_append(&s->creq, berth_buf_str(&hblock), hblock.len);
  if (st == BERTH_OK)
    st = berth_buf_appendf(&s->creq, "\n%s\n%s", berth_buf_str(&s->signed_h),
                           s->payload);
  if (hblock.data != NULL)
    berth_memzero(hblock.data, hblock.len);
  berth_buf_cleanup(&hblock);
  return st == BERTH_OK ? BERTH_OK : sign_oom(err);
}

/* The string to sign: algorithm, time, scope, hash of the canonical
 * request. */
static berth_status_t sign_string_to_sign(sign_t *s, berth_error_t *err)
{
  char creq_hex[65];
  berth_status_t st =
      berth_sigv4_sha256_hex(s->creq.data, s->creq.len, creq_hex);

  if (st != BERTH_OK)
    return berth_error_set(err, st, "sigv4: SHA-256 failed");
  st = berth_buf_appendf(&s->sts, ALGORITHM "\n%s\n%s\n%s", s->r.amz_date,
                         berth_buf_str(&s->scope), creq_hex);
  return st == BERTH_OK ? BERTH_OK : sign_oom(err);
}

/* The signing key (given, or derived from the secret for the date,
 * region and service) and the signature of the string to sign, in hex in
 * s->r.signature. The key never outlives this function. */
static berth_status_t sign_signature(sign_t *s, berth_error_t *err)
{
  unsigned char key[BERTH_SIGV4_KEY_LEN];
  unsigned char sig[32];
  berth_status_t st = BERTH_OK;

  if (s->params->signing_key != NULL)
    memcpy(key, s->params->signing_key, sizeof(key));
  else
    st = berth_sigv4_derive_key(s->cred->secret_access_key, s->date,
                                s->params->region, s->params->service, key);
  if (st == BERTH_OK)
    st = hmac(key, sizeof(key), s->sts.data, s->sts.len, sig);
  if (st == BERTH_OK)
    to_hex(sig, sizeof(sig), s->r.signature);
  else if (st != BERTH_ENOMEM)
    berth_error_set(err, st, "sigv4: HMAC-SHA-256 failed");
  else
    sign_oom(err);
  berth_memzero(key, sizeof(key));
  berth_memzero(sig, sizeof(sig));
  return st;
}

/* What to add to the request: the query (query mode), or the headers
 * with Authorization last; then the intermediate texts, for callers that
 * show them. */
static berth_status_t sign_finish(sign_t *s, berth_error_t *err)
{
  berth_sigv4_result_t *r = &s->r;
  berth_buf_t auth;
  berth_status_t st;

  berth_buf_init(&auth);
  if (s->query_mode) {
    st = query_out(&s->qout, "X-Amz-Signature", r->signature);
    if (st == BERTH_OK && (r->query = berth_buf_detach(&s->qout)) == NULL)
      st = BERTH_ENOMEM;
  } else {
    st = berth_buf_appendf(&auth,
                           ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
                                     "Signature=%s",
                           s->cred->access_key_id, berth_buf_str(&s->scope),
                           berth_buf_str(&s->signed_h), r->signature);
    if (st == BERTH_OK && s->token != NULL)
      st = add_out_header(r, "X-Amz-Security-Token", s->token);
    if (st == BERTH_OK)
      st = add_out_header(r, "X-Amz-Date", r->amz_date);
    if (st == BERTH_OK && s->params->content_sha256_header)
      st = add_out_header(r, "x-amz-content-sha256", s->payload);
    if (st == BERTH_OK)
      st = add_out_header(r, "Authorization", berth_buf_str(&auth));
    if (st == BERTH_OK)
      r->authorization = r->headers[r->header_count - 1].value;
  }
  if (auth.data != NULL)
    berth_memzero(auth.data, auth.len);
  berth_buf_cleanup(&auth);
  if (st != BERTH_OK)
    return sign_oom(err);
  r->canonical_request = berth_buf_detach(&s->creq);
  r->string_to_sign = berth_buf_detach(&s->sts);
  r->credential_scope = berth_buf_detach(&s->scope);
  r->signed_headers = berth_buf_detach(&s->signed_h);
  if (r->canonical_request == NULL || r->string_to_sign == NULL ||
      r->credential_scope == NULL || r->signed_headers == NULL)
    return sign_oom(err);
  return BERTH_OK;
}

static void sign_init(sign_t *s, const berth_sigv4_request_t *req,
                      const berth_sigv4_params_t *params)
{
  memset(s, 0, sizeof(*s));
  s->req = req;
  s->params = params;
  list_init(&s->headers);
  list_init(&s->query);
  berth_buf_init(&s->creq);
  berth_buf_init(&s->sts);
  berth_buf_init(&s->signed_h);
  berth_buf_init(&s->scope);
  berth_buf_init(&s->tmp);
  berth_buf_init(&s->qout);
}

/* Free what the signing built; buffers that held secrets or signed text
 * are zeroed first. */
static void sign_cleanup(sign_t *s)
{
  berth_sigv4_result_cleanup(&s->r);
  list_cleanup(&s->headers);
  list_cleanup(&s->query);
  if (s->creq.data != NULL)
    berth_memzero(s->creq.data, s->creq.len);
  if (s->qout.data != NULL)
    berth_memzero(s->qout.data, s->qout.len);
  if (s->tmp.data != NULL)
    berth_memzero(s->tmp.data, s->tmp.len);
  berth_buf_cleanup(&s->creq);
  berth_buf_cleanup(&s->sts);
  berth_buf_cleanup(&s->signed_h);
  berth_buf_cleanup(&s->scope);
  berth_buf_cleanup(&s->tmp);
  berth_buf_cleanup(&s->qout);
}

berth_status_t berth_sigv4_sign(const berth_sigv4_request_t *req,
                                const berth_sigv4_params_t *params,
                                berth_sigv4_result_t *out, berth_error_t *err)
{
  sign_t s;
  berth_status_t st;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (req == NULL || params == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "sigv4: no request or method");
  sign_init(&s, req, params);
  st = sign_check(&s, err);
  if (st == BERTH_OK)
    st = sign_payload_and_scope(&s, err);
  if (st == BERTH_OK)
    st = sign_headers(&s, err);
  if (st == BERTH_OK)
    st = sign_canonical_request(&s, err);
  if (st == BERTH_OK)
    st = sign_string_to_sign(&s, err);
  if (st == BERTH_OK)
    st = sign_signature(&s, err);
  if (st == BERTH_OK)
    st = sign_finish(&s, err);
  if (st == BERTH_OK) {
    *out = s.r;
    memset(&s.r, 0, sizeof(s.r));
  }
  sign_cleanup(&s);
  return st;
}
