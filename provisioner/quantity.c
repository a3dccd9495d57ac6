/* berth-provisioner: resource quantities, see quantity.h.
 *
 * The grammar (resource.Quantity):
 *   <quantity> ::= <signedNumber><suffix>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G
 *                | T | P | E | (e|E)<signedNumber>
 * The number is split into an integer and a fraction part, each scaled
 * exactly; only the fraction's last step rounds (up). */
#include "quantity.h"

#include <ctype.h>
#include <math.h>
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
  { "Ki", 2, 10 }, { "Mi", 2, 20 }, { "Gi", 2, 30 }, { "Ti", 2, 40 },
  { "Pi", 2, 50 }, { "Ei", 2, 60 }, { "n", 10, -9 }, { "u", 10, -6 },
  { "m", 10, -3 }, { "", 10, 0 },   { "k", 10, 3 },  { "M", 10, 6 },
  { "G", 10, 9 },  { "T", 10, 12 }, { "P", 10, 15 }, { "E", 10, 18 },
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
    if (*end == '\0' && e >= -30 && e <= 30 && isdigit((unsigned char)end[-1])) {
      *base = 10;
      *exp = (int)e;
      return true;
    }
  }
  return false;
}

/* a * b into *out, false on overflow. */
static bool mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
  if (a != 0 && b > UINT64_MAX / a)
    return false;
  *out = a * b;
  return true;
}

/* integer part ip and fraction digits frac (nfrac of them) times
 * base^exp, rounded up, into *out. */
static bool scale(uint64_t ip, const char *frac, size_t nfrac, int base,
                  int exp, uint64_t *out)
{
  long double v = 0;
  long double f = 0;
  long double mult = powl((long double)base, (long double)exp);
  long double place = 0.1L;
  uint64_t m;
  size_t i;

  for (i = 0; i < nfrac; i++, place /= 10)
    f += (long double)(frac[i] - '0') * place;
  if (exp >= 0 && mult < 1.8e19L) {
    m = (uint64_t)mult;
    if (!mul_ok(ip, m, out))
      return false;
    v = ceill(f * mult);
    if (v > (long double)(UINT64_MAX - *out))
      return false;
    *out += (uint64_t)v;
    return true;
  }
  v = ceill(((long double)ip + f) * mult);
  if (v >= 1.8e19L)
    return false;
  *out = (uint64_t)v;
  return true;
}

berth_status_t prov_quantity_parse(const char *s, uint64_t *out)
{
  uint64_t ip = 0;
  const char *frac = NULL;
  size_t nfrac = 0;
  size_t ndigits = 0;
  int base;
  int exp;

  if (s == NULL)
    return BERTH_EINVAL;
  if (*s == '+')
    s++;
  for (; isdigit((unsigned char)*s); s++, ndigits++) {
    if (!mul_ok(ip, 10, &ip) || ip > UINT64_MAX - (uint64_t)(*s - '0'))
      return BERTH_EINVAL;
    ip += (uint64_t)(*s - '0');
  }
  if (*s == '.') {
    frac = ++s;
    for (; isdigit((unsigned char)*s); s++)
      nfrac++;
  }
  if (ndigits + nfrac == 0 || !parse_suffix(s, &base, &exp) ||
      !scale(ip, frac, nfrac, base, exp, out))
    return BERTH_EINVAL;
  return BERTH_OK;
}

void prov_quantity_format(uint64_t bytes, char *out, size_t outsize)
{
  static const char *const names[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
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
