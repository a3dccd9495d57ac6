/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Kubernetes quantities (berth_quantity_parse/format),
 * checked against exact arithmetic. An independent reading of
 * resource.Quantity's grammar decides valid or not; bignum.c computes
 * ceil(digits * 10^e * 2^b) exactly; the parser must agree on both, and
 * what it formats must parse back to the same bytes. */
#include <string.h>

#include "berth/quantity.h"
#include "bignum.h"
#include "fuzz.h"

#define ORACLE_MAX_LEN 256

typedef struct {
  char digits[ORACLE_MAX_LEN + 1]; /* integer and fraction digits */
  long nfrac;
  long e10;
  int b2;
  int neg;
} reading_t;

/* resource.Quantity's grammar, read one character class at a time. */
static int read_quantity(const char *s, reading_t *r)
{
  static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  static const struct {
    const char *s;
    int e;
  } dec[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
             {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  size_t nd = 0;
  size_t i;
  int seen_digit = 0;

  memset(r, 0, sizeof(*r));
  if (*s == '-' || *s == '+')
    r->neg = *s++ == '-';
  while (*s >= '0' && *s <= '9') {
    r->digits[nd++] = *s++;
    seen_digit = 1;
  }
  if (*s == '.') {
    s++;
    while (*s >= '0' && *s <= '9') {
      r->digits[nd++] = *s++;
      r->nfrac++;
      seen_digit = 1;
    }
  }
  if (!seen_digit)
    return 0;
  for (i = 0; i < 6; i++) {
    if (strcmp(s, bin[i]) == 0) {
      r->b2 = 10 * (int)(i + 1);
      return 1;
    }
  }
  for (i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
    if (strcmp(s, dec[i].s) == 0) {
      r->e10 = dec[i].e;
      return 1;
    }
  }
  if (*s != 'e' && *s != 'E')
    return 0;
  s++;
  {
    int eneg = 0;
    long long v = 0;

    if (*s == '+' || *s == '-')
      eneg = *s++ == '-';
    if (*s == '\0')
      return 0;
    for (; *s != '\0'; s++) {
      if (*s < '0' || *s > '9')
        return 0;
      if (v < 10000000000LL)
        v = v * 10 + (*s - '0');
    }
    if (eneg ? v > 2147483648LL : v > 2147483647LL)
      return 0;
    r->e10 = eneg ? -(long)v : (long)v;
  }
  return 1;
}

/* The exact ceiling of the reading, false when above INT64_MAX. */
static int exact_ceiling(const reading_t *r, uint64_t *out)
{
  big_t v;
  long e = r->e10 - r->nfrac;
  size_t i;
  int inexact = 0;

  big_set_u64(&v, 0);
  for (i = 0; r->digits[i] != '\0'; i++) {
    big_mul_small(&v, 10);
    big_add_small(&v, (uint32_t)(r->digits[i] - '0'));
  }
  if (big_is_zero(&v)) {
    *out = 0;
    return 1;
  }
  for (i = 0; i < (size_t)r->b2 / 10; i++)
    big_mul_small(&v, 1024);
  if (e > 0) {
    if (e > 400)
      return 0;
    for (; e > 0; e--)
      big_mul_small(&v, 10);
  } else if (e < -600) {
    *out = 1; /* below 10^-300 and above 0 */
    return 1;
  } else {
    for (; e < 0; e++)
      inexact |= big_div_small(&v, 10) != 0;
  }
  if (!big_to_u64(&v, out) || *out > (uint64_t)INT64_MAX - (inexact != 0))
    return 0;
  *out += inexact != 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = fuzz_strndup(data, size);
  berth_error_t err;
  reading_t r;
  uint64_t got = 0;
  uint64_t want = 0;
  berth_status_t st;

  if (s == NULL)
    return 0;
  st = berth_quantity_parse(s, &got, &err);
  FUZZ_CHECK(st == BERTH_OK || st == BERTH_EINVAL, "status %d", (int)st);
  if (st == BERTH_OK) {
    char text[32];
    uint64_t again = 0;

    FUZZ_CHECK(got <= (uint64_t)INT64_MAX, "'%s' -> %llu", s,
               (unsigned long long)got);
    berth_quantity_format(got, text, sizeof(text));
    FUZZ_CHECK(berth_quantity_parse(text, &again, NULL) == BERTH_OK &&
                   again == got,
               "%llu formats as '%s', which reads back as %llu",
               (unsigned long long)got, text, (unsigned long long)again);
  }
  if (strlen(s) == size && size <= ORACLE_MAX_LEN) {
    if (!read_quantity(s, &r)) {
      FUZZ_CHECK(st != BERTH_OK, "'%s' is not a quantity, read as %llu", s,
                 (unsigned long long)got);
    } else if (!exact_ceiling(&r, &want) || (r.neg && want != 0)) {
      FUZZ_CHECK(st != BERTH_OK, "'%s' is out of range, read as %llu", s,
                 (unsigned long long)got);
    } else {
      FUZZ_CHECK(st == BERTH_OK, "'%s' (%llu bytes) refused: %s", s,
                 (unsigned long long)want, err.message);
      FUZZ_CHECK(got == want, "'%s': %llu bytes, exactly %llu", s,
                 (unsigned long long)got, (unsigned long long)want);
    }
  }
  free(s);
  return 0;
}
