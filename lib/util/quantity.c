/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes resource quantities as bytes, see include/berth/quantity.h.
 *
 * The value is digits * 10^e10 * 2^e2 with e2 in {0, 10, ..., 60}. It is
 * computed exactly in 64-bit integers: a value needing more than 19
 * significant integer digits is too big anyway, and the fraction is
 * multiplied out by 2^e2 digit by digit from its last digit, so no divisor
 * ever grows with the number of fraction digits. */
#include "berth/quantity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util_int.h"

#define QMAX ((uint64_t)INT64_MAX)

typedef struct {
  const char *name;
  int e10; /* power of ten */
  int e2;  /* power of two */
} suffix_t;

static const suffix_t suffixes[] = {
    {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40},
    {"Pi", 0, 50}, {"Ei", 0, 60}, {"n", -9, 0},  {"u", -6, 0},
    {"m", -3, 0},  {"", 0, 0},    {"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},
};

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* "e" or "E", an optional sign, then digits only (Go's strconv.ParseInt
 * on what quantity.go's scanner let through), in int32 range. */
static bool parse_exponent(const char *s, int64_t *out)
{
  bool neg = false;
  int64_t v = 0;

  if (*s != 'e' && *s != 'E')
    return false;
  s++;
  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  if (!is_digit(*s))
    return false;
  for (; is_digit(*s); s++) {
    v = v * 10 + (*s - '0');
    if (v > (int64_t)INT32_MAX + 1)
      return false;
  }
  if (*s != '\0' || (!neg && v > INT32_MAX))
    return false;
  *out = neg ? -v : v;
  return true;
}

static bool parse_suffix(const char *s, int64_t *e10, int *e2)
{
  size_t i;

  for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
    if (strcmp(s, suffixes[i].name) == 0) {
      *e10 = suffixes[i].e10;
      *e2 = suffixes[i].e2;
      return true;
    }
  }
  *e2 = 0;
  return parse_exponent(s, e10);
}

/* The digit at position k of d's integer digits followed by its fraction
 * digits. */
static unsigned digit_at(const berth__decimal_t *d, size_t k)
{
  return (unsigned)((k < d->nip ? d->ip[k] : d->fp[k - d->nip]) - '0');
}

/* ceil(V) into *out when it is at most QMAX, where V is d * 10^e10 * 2^e2;
 * false when it is larger. */
static bool exact_value(const berth__decimal_t *d, int64_t e10, int e2,
                        uint64_t *out)
{
  size_t total = d->nip + d->nfp;
  size_t first = 0;
  size_t last = total;
  size_t n;
  size_t nint;
  size_t k;
  int64_t e;
  uint64_t whole = 0;
  uint64_t carry = 0;
  bool inexact = false;

  /* The significant digits D = digits[first, last): V = D * 10^e * 2^e2. */
  while (first < total && digit_at(d, first) == 0)
    first++;
  while (last > first && digit_at(d, last - 1) == 0)
    last--;
  n = last - first;
  if (n == 0) {
    *out = 0;
    return true;
  }
  e = (int64_t)d->nip - (int64_t)last + e10;
  /* V >= 10^(n-1+e), and 10^19 > QMAX whatever 2^e2 adds. */
  if ((int64_t)n - 1 + e >= 19)
    return false;
  if (e < 0 && (uint64_t)-e >= n + 19) {
    /* V < 10^-19 * 2^60 < 1, and V > 0: it rounds up to 1. */
    *out = 1;
    return true;
  }
  /* The integer digits of D * 10^e: at most 19 of them. */
  nint = e >= 0 ? n : ((uint64_t)-e >= n ? 0 : n - (size_t)-e);
  for (k = 0; k < nint; k++)
    whole = whole * 10 + digit_at(d, first + k);
  for (; e > 0; e--) {
    if (whole > UINT64_MAX / 10)
      return false;
    whole *= 10;
  }
  if (whole > (QMAX >> e2))
    return false;
  whole <<= e2;
  if (e < 0) {
    /* The fraction 0.<-e - (n - nint) zeros><D's last n - nint digits>
     * times 2^e2, multiplied out from its last digit: each step is below
     * 10 * 2^60 < 2^64, and the carry left is the product's integer
     * part. Exact whatever the number of digits. */
    size_t zeros = (size_t)-e - (n - nint);

    for (k = last; k > first + nint; k--) {
      uint64_t t = digit_at(d, k - 1) * ((uint64_t)1 << e2) + carry;

      inexact = inexact || t % 10 != 0;
      carry = t / 10;
    }
    for (k = 0; k < zeros; k++) {
      inexact = inexact || carry % 10 != 0;
      carry /= 10;
    }
    carry += inexact;
    if (whole > QMAX - carry)
      return false;
    whole += carry;
  }
  *out = whole;
  return true;
}

berth_status_t berth_quantity_parse(const char *s, uint64_t *out,
                                    berth_error_t *err)
{
  const char *p = s;
  berth__decimal_t d;
  bool neg = false;
  int64_t e10;
  int e2;
  uint64_t v = 0;
  const char *why = "is not a quantity (e.g. 10Gi, 500M, 1.5Gi, 1e9)";
  berth_status_t st = BERTH_EINVAL;
  char shown[80];

  if (s == NULL) {
    why = "is missing";
    goto done;
  }
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (!berth__decimal_scan(&p, &d) || !parse_suffix(p, &e10, &e2))
    goto done;
  if (!exact_value(&d, e10, e2, &v)) {
    why = "is more than 9223372036854775807 bytes";
    goto done;
  }
  if (neg && v != 0) {
    why = "is negative";
    goto done;
  }
  *out = v;
  st = BERTH_OK;

done:
  if (st != BERTH_OK) {
    berth__str_escape(s != NULL ? s : "", shown, sizeof(shown));
    berth_error_set(err, st, "quantity '%s' %s", shown, why);
  }
  return st;
}

void berth_quantity_format(uint64_t bytes, char *out, size_t outsize)
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
