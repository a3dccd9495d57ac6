/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by lib/k8s: files, base64, time stamps, escaping.
 * See lib/k8s/k8s_int.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "berth/buf.h"
#include "k8s_int.h"

berth_status_t berth__k8s_read_file(const char *path, size_t max,
                                    const char *what, char **out,
                                    size_t *out_len, berth_error_t *err)
{
  FILE *f = NULL;
  berth_buf_t buf;
  char chunk[8192];
  size_t n;
  berth_status_t st = BERTH_OK;

  berth_buf_init(&buf);
  berth_buf_set_limit(&buf, max);
  f = fopen(path, "rb");
  if (f == NULL) {
    st = berth_error_set(err, errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
                         "%s %s: %s", what, path, strerror(errno));
    goto done;
  }
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    st = berth_buf_append(&buf, chunk, n);
    if (st != BERTH_OK) {
      st = berth_error_set(err, st, "%s %s: %s", what, path,
                           st == BERTH_ETOOBIG ? "file too large"
                                               : "out of memory");
      goto done;
    }
  }
  if (ferror(f)) {
    st = berth_error_set(err, BERTH_EIO, "%s %s: read error", what, path);
    goto done;
  }
  if (out_len != NULL)
    *out_len = buf.len;
  *out = berth_buf_detach(&buf);
  if (*out == NULL)
    st = berth_error_set(err, BERTH_ENOMEM, "%s %s: out of memory", what, path);

done:
  if (f != NULL)
    fclose(f);
  if (buf.data != NULL)
    berth_memzero(buf.data, buf.len);
  berth_buf_cleanup(&buf);
  return st;
}

berth_status_t berth__k8s_base64_decode(const char *in, char **out,
                                        size_t *out_len)
{
  size_t n = strlen(in);
  char *clean = NULL;
  unsigned char *dec = NULL;
  size_t k = 0;
  size_t i;
  int len;
  berth_status_t st = BERTH_OK;

  /* Go's base64.StdEncoding, which kubeconfig -data fields use: padded,
   * standard alphabet. YAML folding may leave white space in long values. */
  clean = malloc(n + 1);
  dec = malloc(n / 4 * 3 + 4);
  if (clean == NULL || dec == NULL) {
    st = BERTH_ENOMEM;
    goto done;
  }
  for (i = 0; i < n; i++) {
    if (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' || in[i] == '\t')
      continue;
    clean[k++] = in[i];
  }
  clean[k] = '\0';
  if (k % 4 != 0) {
    st = BERTH_EPARSE;
    goto done;
  }
  for (i = 0; i < k; i++) {
    char ch = clean[i];
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
              (ch == '=' && i >= k - 2 && (i == k - 1 || clean[k - 1] == '='));
    if (!ok) {
      st = BERTH_EPARSE;
      goto done;
    }
  }
  len = k > 0 ? EVP_DecodeBlock(dec, (const unsigned char *)clean, (int)k) : 0;
  if (len < 0) {
    st = BERTH_EPARSE;
    goto done;
  }
  /* EVP_DecodeBlock counts padding as zero bytes; take them off. */
  if (k >= 1 && clean[k - 1] == '=')
    len--;
  if (k >= 2 && clean[k - 2] == '=')
    len--;
  dec[len] = '\0';
  if (out_len != NULL)
    *out_len = (size_t)len;
  *out = (char *)dec;
  dec = NULL;

done:
  free(clean);
  free(dec);
  return st;
}

char *berth__k8s_base64_encode(const void *in, size_t len)
{
  char *out = malloc(4 * ((len + 2) / 3) + 1);

  if (out == NULL)
    return NULL;
  EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  return out;
}

static bool digits(const char *s, int n, int *out)
{
  int v = 0;
  int i;

  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

berth_status_t berth__k8s_parse_time(const char *s, int64_t *out_ms)
{
  struct tm tm;
  int y, mo, d, h, mi, sec, oh = 0, om = 0;
  int64_t ms = 0;
  int64_t frac_scale = 100;
  int64_t t;
  int sign = 0;
  const char *p;

  /* RFC 3339 section 5.6: date-time = full-date "T" full-time, with 't'
   * and 'z' allowed in lower case. */
  if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
      !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
      !digits(s + 17, 2, &sec))
    return BERTH_EPARSE;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return BERTH_EPARSE;
  p = s + 19;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return BERTH_EPARSE;
    for (; *p >= '0' && *p <= '9'; p++) {
      ms += (*p - '0') * frac_scale;
      frac_scale /= 10;
    }
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p == '+' ? 1 : -1;
    if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) ||
        oh > 23 || om > 59)
      return BERTH_EPARSE;
    p += 6;
  } else {
    return BERTH_EPARSE;
  }
  if (*p != '\0')
    return BERTH_EPARSE;
  memset(&tm, 0, sizeof(tm));
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  t = (int64_t)timegm(&tm);
  t -= (int64_t)sign * (oh * 3600 + om * 60);
  *out_ms = t * 1000 + ms;
  return BERTH_OK;
}

static void format_time(int64_t ms, bool micro, char *out, size_t outsize)
{
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;

  gmtime_r(&secs, &tm);
  if (micro)
    snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms % 1000) * 1000);
  else
    snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void berth__k8s_format_time(int64_t ms, char *out, size_t outsize)
{
  format_time(ms, false, out, outsize);
}

void berth__k8s_format_microtime(int64_t ms, char *out, size_t outsize)
{
  format_time(ms, true, out, outsize);
}

berth_status_t berth__k8s_append_escaped(berth_buf_t *out, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  berth_status_t st = BERTH_OK;
  const unsigned char *p;

  for (p = (const unsigned char *)s; *p != '\0' && st == BERTH_OK; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
        (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
        *p == '~') {
      st = berth_buf_append_byte(out, (char)*p);
    } else {
      char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      st = berth_buf_append(out, esc, 3);
    }
  }
  return st;
}

void berth__k8s_free_secret(char *s)
{
  if (s == NULL)
    return;
  berth_memzero(s, strlen(s));
  free(s);
}

bool berth__k8s_dup(const char *s, char **dst)
{
  *dst = NULL;
  if (s == NULL)
    return true;
  *dst = strdup(s);
  return *dst != NULL;
}
