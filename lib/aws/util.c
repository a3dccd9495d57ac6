/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers of lib/aws: form encoding, times, UUIDs, token files,
 * URLs. See lib/aws/aws_int.h. */
#include "aws_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/sigv4.h"

berth_status_t berth__aws_form_add(berth_buf_t *form, const char *name,
                                   const char *value)
{
  berth_status_t st = BERTH_OK;

  if (form->len > 0)
    st = berth_buf_append_byte(form, '&');
  if (st == BERTH_OK)
    st = berth_sigv4_uri_encode(form, name, strlen(name), false);
  if (st == BERTH_OK)
    st = berth_buf_append_byte(form, '=');
  if (st == BERTH_OK && value != NULL)
    st = berth_sigv4_uri_encode(form, value, strlen(value), false);
  return st;
}

berth_status_t berth__aws_form_addf(berth_buf_t *form, const char *name,
                                    const char *fmt, ...)
{
  char small[128];
  char *big = NULL;
  va_list ap;
  int n;
  berth_status_t st;

  va_start(ap, fmt);
  n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0)
    return BERTH_EINVAL;
  if ((size_t)n >= sizeof(small)) {
    big = malloc((size_t)n + 1);
    if (big == NULL)
      return BERTH_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  st = berth__aws_form_add(form, name, big != NULL ? big : small);
  free(big);
  return st;
}

static int digits(const char **p, int n)
{
  int v = 0;
  int i;

  for (i = 0; i < n; i++) {
    if (**p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  return v;
}

berth_status_t berth__aws_parse_time(const char *s, int64_t *out_ms)
{
  struct tm tm;
  const char *p = s;
  int y, mo, d, h, mi, sec;
  int64_t ms = 0;
  int64_t offset_s = 0;
  time_t t;

  if (s == NULL)
    return BERTH_EPARSE;
  y = digits(&p, 4);
  if (y < 0 || *p++ != '-')
    return BERTH_EPARSE;
  mo = digits(&p, 2);
  if (mo < 1 || mo > 12 || *p++ != '-')
    return BERTH_EPARSE;
  d = digits(&p, 2);
  if (d < 1 || d > 31 || (*p != 'T' && *p != 't' && *p != ' '))
    return BERTH_EPARSE;
  p++;
  h = digits(&p, 2);
  if (h < 0 || h > 23 || *p++ != ':')
    return BERTH_EPARSE;
  mi = digits(&p, 2);
  if (mi < 0 || mi > 59 || *p++ != ':')
    return BERTH_EPARSE;
  sec = digits(&p, 2);
  if (sec < 0 || sec > 60)
    return BERTH_EPARSE;
  if (*p == '.') {
    int scale = 100;
    p++;
    if (*p < '0' || *p > '9')
      return BERTH_EPARSE;
    while (*p >= '0' && *p <= '9') {
      ms += (*p - '0') * scale;
      scale /= 10;
      p++;
    }
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int oh, om;
    p++;
    oh = digits(&p, 2);
    if (oh < 0 || *p++ != ':')
      return BERTH_EPARSE;
    om = digits(&p, 2);
    if (om < 0)
      return BERTH_EPARSE;
    offset_s = sign * (oh * 3600 + om * 60);
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
  t = timegm(&tm);
  if (t == (time_t)-1)
    return BERTH_EPARSE;
  *out_ms = ((int64_t)t - offset_s) * 1000 + ms;
  return BERTH_OK;
}

void berth__aws_uuid(const berth_rand_t *r, char out[37])
{
  const berth_rand_t *src = r != NULL ? r : berth_rand_system();
  unsigned char b[16];
  uint64_t x = 0;
  size_t i;

  for (i = 0; i < 16; i++) {
    if (i % 8 == 0)
      x = src->next(src->ctx);
    b[i] = (unsigned char)(x & 0xff);
    x >>= 8;
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
           "%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
}

berth_status_t berth__aws_read_file(const char *path, size_t limit, char **out)
{
  FILE *f;
  berth_buf_t buf;
  char chunk[4096];
  size_t n;
  berth_status_t st = BERTH_OK;
  char *s;

  f = fopen(path, "rb");
  if (f == NULL)
    return errno == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO;
  berth_buf_init(&buf);
  berth_buf_set_limit(&buf, limit);
  while (st == BERTH_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    st = berth_buf_append(&buf, chunk, n);
  if (st == BERTH_OK && ferror(f))
    st = BERTH_EIO;
  fclose(f);
  berth_memzero(chunk, sizeof(chunk));
  if (st == BERTH_OK && buf.data != NULL && memchr(buf.data, '\0', buf.len))
    st = BERTH_EPARSE;
  if (st != BERTH_OK) {
    if (buf.data != NULL)
      berth_memzero(buf.data, buf.len);
    berth_buf_cleanup(&buf);
    return st;
  }
  s = berth_buf_detach(&buf);
  if (s == NULL)
    return BERTH_ENOMEM;
  berth_str_trim(s);
  *out = s;
  return BERTH_OK;
}

void berth__aws_free_secret(char *s)
{
  if (s != NULL) {
    berth_memzero(s, strlen(s));
    free(s);
  }
}

berth_status_t berth__aws_url_split(const char *url, char *scheme,
                                    size_t scheme_size, char *host,
                                    size_t host_size, char *path,
                                    size_t path_size)
{
  const char *p;
  const char *host_start;
  const char *host_end;
  size_t n;

  if (url == NULL)
    return BERTH_EPARSE;
  if (strncmp(url, "https://", 8) == 0) {
    berth_strlcpy(scheme, "https", scheme_size);
    host_start = url + 8;
  } else if (strncmp(url, "http://", 7) == 0) {
    berth_strlcpy(scheme, "http", scheme_size);
    host_start = url + 7;
  } else {
    return BERTH_EPARSE;
  }
  host_end = host_start + strcspn(host_start, "/?#");
  if (host_end == host_start ||
      memchr(host_start, '@', (size_t)(host_end - host_start)))
    return BERTH_EPARSE;
  n = (size_t)(host_end - host_start);
  if (n >= host_size)
    return BERTH_EPARSE;
  memcpy(host, host_start, n);
  host[n] = '\0';
  p = host_end;
  if (*p == '?' || *p == '#')
    return BERTH_EPARSE;
  n = strlen(p);
  while (n > 0 && p[n - 1] == '/')
    n--;
  if (n >= path_size)
    return BERTH_EPARSE;
  memcpy(path, p, n);
  path[n] = '\0';
  return BERTH_OK;
}
