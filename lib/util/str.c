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

void berth_memzero(void *p, size_t n)
{
  volatile unsigned char *v = p;

  while (n-- > 0)
    *v++ = 0;
}
