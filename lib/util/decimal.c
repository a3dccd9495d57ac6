/* SPDX-License-Identifier: Apache-2.0 */
/* Decimal digits to exact integers, for durations and quantities (see
 * util_int.h). No floating point: a double cannot hold every value these
 * grammars can write, and converting one to an integer is undefined
 * behaviour when it is out of range. */
#include "util_int.h"

#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool berth__decimal_scan(const char **s, berth__decimal_t *d)
{
  const char *p = *s;

  d->ip = p;
  d->nip = 0;
  while (is_digit(p[d->nip]))
    d->nip++;
  p += d->nip;
  d->fp = p;
  d->nfp = 0;
  if (*p == '.') {
    d->fp = ++p;
    while (is_digit(p[d->nfp]))
      d->nfp++;
    p += d->nfp;
  }
  if (d->nip + d->nfp == 0)
    return false;
  *s = p;
  return true;
}

bool berth__decimal_whole(const berth__decimal_t *d, uint64_t *out)
{
  uint64_t v = 0;
  size_t i;

  for (i = 0; i < d->nip; i++) {
    unsigned digit = (unsigned)(d->ip[i] - '0');

    if (v > (UINT64_MAX - digit) / 10)
      return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

void berth__decimal_frac_mul(const berth__decimal_t *d, uint64_t m,
                             uint64_t *whole, bool *inexact)
{
  uint64_t carry = 0;
  size_t i = d->nfp;

  /* Each step computes digit * m + carry < 10 * m <= 10 * 2^60 < 2^64;
   * the low decimal digit stays in the fraction, the rest carries. */
  *inexact = false;
  while (i-- > 0) {
    uint64_t t = (uint64_t)(d->fp[i] - '0') * m + carry;

    if (t % 10 != 0)
      *inexact = true;
    carry = t / 10;
  }
  *whole = carry;
}

void berth__str_escape(const char *s, char *out, size_t size)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t o = 0;

  for (; *u != '\0'; u++) {
    size_t need = (*u >= 0x20 && *u < 0x7f) ? 1 : 4;

    if (o + need + 4 > size) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    if (need == 1) {
      out[o++] = (char)*u;
    } else {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[*u >> 4];
      out[o++] = hex[*u & 15];
    }
  }
  out[o] = '\0';
}
