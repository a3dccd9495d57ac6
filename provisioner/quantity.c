/* berth-provisioner: resource quantities, see quantity.h.
 *
 * The grammar (resource.Quantity):
 *   <quantity> ::= <signedNumber><suffix>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G
 *                | T | P | E | (e|E)<signedNumber>
 * The digits are read as one exact integer (128 bits), scaled by the
 * suffix and divided by the fraction's power of ten, rounding up once at
 * the end, as Quantity.Value() does. */
#include "quantity.h"

#include <ctype.h>
#if !defined(__SIZEOF_INT128__)
#include <math.h>
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  int base; /* 2 or 10 */
  int exp;  /* power of base */
} suffix_t;

static const suffix_t suffixes[] = {
    {"Ki", 2, 10}, {"Mi", 2, 20}, {"Gi", 2, 30}, {"Ti", 2, 40},
    {"Pi", 2, 50}, {"Ei", 2, 60}, {"n", 10, -9}, {"u", 10, -6},
    {"m", 10, -3}, {"", 10, 0},   {"k", 10, 3},  {"M", 10, 6},
    {"G", 10, 9},  {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18},
};

/* The suffix of s (after the number) as base and exponent. */
static bool parse_suffix(const char *s, int *base, int *exp)
{
  size_t i;
  char *end;
  long e;

  for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
    if (strcmp(s, suffixes[i].name) == 0) {
      *base = suffixes[i].base;
      *exp = suffixes[i].exp;
      return true;
    }
  }
  if ((s[0] == 'e' || s[0] == 'E') && s[1] != '\0') {
    e = strtol(s + 1, &end, 10);
    if (*end == '\0' && e >= -30 && e <= 30 &&
        isdigit((unsigned char)end[-1])) {
      *base = 10;
      *exp = (int)e;
      return true;
    }
  }
  return false;
}

#if defined(__SIZEOF_INT128__)
typedef unsigned __int128 wide_t;
#define WIDE_MAX (~(wide_t)0)
#else
typedef long double wide_t; /* inexact beyond 64 bits of mantissa */
#define WIDE_MAX 1.0e38L
#endif

/* The digits (integer part, then fraction) as an exact integer n, and the
 * number's value as n * 10^-nfrac. false when n would not fit. */
static bool digits_value(const char *ip, size_t nip, const char *frac,
                         size_t nfrac, wide_t *n)
{
  size_t i;

  *n = 0;
  for (i = 0; i < nip + nfrac; i++) {
    char d = i < nip ? ip[i] : frac[i - nip];
    if (*n > (WIDE_MAX - 9) / 10)
      return false;
    *n = *n * 10 + (wide_t)(d - '0');
  }
  return true;
}

/* n * base^exp / 10^nfrac, rounded up, into *out; false when it does not
 * fit in 64 bits. */
static bool scale(wide_t n, size_t nfrac, int base, int exp, uint64_t *out)
{
  wide_t den = 1;
  wide_t v;
  int i;

  /* A negative decimal exponent divides, as the fraction does. */
  for (i = 0; i < (int)nfrac; i++)
    den *= 10;
  for (i = 0; exp < 0 && i < -exp; i++)
    den *= 10;
  for (i = 0; exp > 0 && i < exp; i++) {
    if (n > WIDE_MAX / (wide_t)base)
      return false;
    n *= (wide_t)base;
  }
#if defined(__SIZEOF_INT128__)
  v = n / den + (n % den != 0);
#else
  v = ceill(n / den);
#endif
  if (v > (wide_t)UINT64_MAX)
    return false;
  *out = (uint64_t)v;
  return true;
}

berth_status_t prov_quantity_parse(const char *s, uint64_t *out)
{
  const char *ip;
  const char *frac = "";
  size_t nip = 0;
  size_t nfrac = 0;
  wide_t n;
  int base;
  int exp;

  if (s == NULL)
    return BERTH_EINVAL;
  if (*s == '+')
    s++;
  for (ip = s; isdigit((unsigned char)*s); s++)
    nip++;
  if (*s == '.') {
    frac = ++s;
    for (; isdigit((unsigned char)*s); s++)
      nfrac++;
  }
  if (nip + nfrac == 0 || nip + nfrac > 60 || !parse_suffix(s, &base, &exp) ||
      !digits_value(ip, nip, frac, nfrac, &n) ||
      !scale(n, nfrac, base, exp, out))
    return BERTH_EINVAL;
  return BERTH_OK;
}

void prov_quantity_format(uint64_t bytes, char *out, size_t outsize)
{
  static const char *const names[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int i;

  for (i = 5; i >= 0; i--) {
    uint64_t unit = (uint64_t)1 << (10 * (i + 1));
    if (bytes != 0 && bytes % unit == 0) {
      snprintf(out, outsize, "%llu%s", (unsigned long long)(bytes / unit),
               names[i]);
      return;
    }
  }
  snprintf(out, outsize, "%llu", (unsigned long long)bytes);
}
