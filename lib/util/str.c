/* SPDX-License-Identifier: Apache-2.0 */
/* Small string helpers, see include/berth/buf.h. */
#include "berth/buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool berth_str_has_prefix(const char *str, const char *prefix)
{
  return strncmp(str, prefix, strlen(prefix)) == 0;
}

bool berth_str_has_suffix(const char *str, const char *suffix)
{
  size_t n = strlen(str);
  size_t m = strlen(suffix);

  return n >= m && memcmp(str + n - m, suffix, m) == 0;
}

bool berth_str_case_eq(const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcasecmp(a, b) == 0;
}

size_t berth_strlcpy(char *dst, const char *src, size_t dstsize)
{
  size_t n = strlen(src);

  if (dstsize > 0) {
    size_t k = n < dstsize - 1 ? n : dstsize - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}

char *berth_strdup_printf(const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  out = malloc((size_t)n + 1);
  if (out == NULL)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(out, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return out;
}

char *berth_str_trim(char *s)
{
  size_t n;
  size_t start = 0;

  n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    n--;
  while (start < n && isspace((unsigned char)s[start]))
    start++;
  memmove(s, s + start, n - start);
  s[n - start] = '\0';
  return s;
}

berth_status_t berth_str_to_ll(const char *s, long long min, long long max,
                               long long *out)
{
  char *end = NULL;
  long long v;

  if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
    return BERTH_EPARSE;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return BERTH_EPARSE;
  *out = v;
  return BERTH_OK;
}

size_t berth_utf8_len(const unsigned char *s, size_t len)
{
  unsigned char lo = 0x80; /* the second byte's range (RFC 3629 section 4) */
  unsigned char hi = 0xbf;
  size_t n;
  size_t i;

  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
    if (s[0] == 0xe0)
      lo = 0xa0; /* below is overlong */
    else if (s[0] == 0xed)
      hi = 0x9f; /* above are the surrogates */
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
    if (s[0] == 0xf0)
      lo = 0x90; /* below is overlong */
    else if (s[0] == 0xf4)
      hi = 0x8f; /* above is past U+10FFFF */
  } else {
    return 0; /* a continuation byte, 0xc0/0xc1 (overlong) or 0xf5.. */
  }
  if (n > len || s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  }
  return n;
}

void berth_memzero(void *p, size_t n)
{
  volatile unsigned char *v = p;

  while (n-- > 0)
    *v++ = 0;
}
