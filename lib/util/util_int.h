/* SPDX-License-Identifier: Apache-2.0 */
/* lib/util internals shared by its files; not part of the public API. */
#ifndef BERTH_UTIL_INT_H
#define BERTH_UTIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal number as written: integer digits, then fraction digits. */
typedef struct berth__decimal {
  const char *ip; /* the integer digits */
  size_t nip;
  const char *fp; /* the fraction digits (after '.') */
  size_t nfp;
} berth__decimal_t;

/* Scan "digits", "digits.digits", "digits." or ".digits" at *s and move
 * *s past it. false (and *s unchanged) when there is no digit at all. */
bool berth__decimal_scan(const char **s, berth__decimal_t *d);

/* The integer digits as a number, false when they do not fit in 64 bits
 * (leading zeros are fine). */
bool berth__decimal_whole(const berth__decimal_t *d, uint64_t *out);

/* floor(0.<fraction digits> * m) into *whole, and whether that product
 * has a fraction left (*inexact). Exact for m <= 2^60: long
 * multiplication from the last digit, no floating point. */
void berth__decimal_frac_mul(const berth__decimal_t *d, uint64_t m,
                             uint64_t *whole, bool *inexact);

/* Copy s into out (size > 4) for an error message: printable ASCII as
 * is, other bytes as \xNN, cut with "..." when it does not fit. */
void berth__str_escape(const char *s, char *out, size_t size);

#endif /* BERTH_UTIL_INT_H */
