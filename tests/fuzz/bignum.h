/* SPDX-License-Identifier: Apache-2.0 */
/* A small exact unsigned integer for the fuzz targets' oracles: values
 * are checked against arithmetic that cannot overflow, written
 * independently of the code under test. Fixed size; operations report
 * overflow instead of wrapping. */
#ifndef BERTH_FUZZ_BIGNUM_H
#define BERTH_FUZZ_BIGNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIG_LIMBS 256 /* 8192 bits */

typedef struct {
  uint32_t l[BIG_LIMBS]; /* little-endian base 2^32 */
} big_t;

void big_set_u64(big_t *a, uint64_t v);
bool big_mul_small(big_t *a, uint32_t m);     /* false on overflow */
bool big_add_small(big_t *a, uint32_t v);     /* false on overflow */
bool big_add(big_t *a, const big_t *b);       /* false on overflow */
uint32_t big_div_small(big_t *a, uint32_t d); /* returns the remainder */
int big_cmp(const big_t *a, const big_t *b);
bool big_is_zero(const big_t *a);
/* true and *out when a fits in 64 bits. */
bool big_to_u64(const big_t *a, uint64_t *out);

#endif /* BERTH_FUZZ_BIGNUM_H */
