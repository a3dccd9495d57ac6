/* SPDX-License-Identifier: Apache-2.0 */
/* See bignum.h. Schoolbook arithmetic on fixed arrays. */
#include "bignum.h"

#include <string.h>

void big_set_u64(big_t *a, uint64_t v)
{
  memset(a, 0, sizeof(*a));
  a->l[0] = (uint32_t)v;
  a->l[1] = (uint32_t)(v >> 32);
}

bool big_mul_small(big_t *a, uint32_t m)
{
  uint64_t carry = 0;
  size_t i;

  for (i = 0; i < BIG_LIMBS; i++) {
    uint64_t t = (uint64_t)a->l[i] * m + carry;

    a->l[i] = (uint32_t)t;
    carry = t >> 32;
  }
  return carry == 0;
}

bool big_add_small(big_t *a, uint32_t v)
{
  uint64_t carry = v;
  size_t i;

  for (i = 0; i < BIG_LIMBS && carry != 0; i++) {
    uint64_t t = (uint64_t)a->l[i] + carry;

    a->l[i] = (uint32_t)t;
    carry = t >> 32;
  }
  return carry == 0;
}

bool big_add(big_t *a, const big_t *b)
{
  uint64_t carry = 0;
  size_t i;

  for (i = 0; i < BIG_LIMBS; i++) {
    uint64_t t = (uint64_t)a->l[i] + b->l[i] + carry;

    a->l[i] = (uint32_t)t;
    carry = t >> 32;
  }
  return carry == 0;
}

uint32_t big_div_small(big_t *a, uint32_t d)
{
  uint64_t rem = 0;
  size_t i = BIG_LIMBS;

  while (i-- > 0) {
    uint64_t cur = (rem << 32) | a->l[i];

    a->l[i] = (uint32_t)(cur / d);
    rem = cur % d;
  }
  return (uint32_t)rem;
}

int big_cmp(const big_t *a, const big_t *b)
{
  size_t i = BIG_LIMBS;

  while (i-- > 0) {
    if (a->l[i] != b->l[i])
      return a->l[i] < b->l[i] ? -1 : 1;
  }
  return 0;
}

bool big_is_zero(const big_t *a)
{
  size_t i;

  for (i = 0; i < BIG_LIMBS; i++) {
    if (a->l[i] != 0)
      return false;
  }
  return true;
}

bool big_to_u64(const big_t *a, uint64_t *out)
{
  size_t i;

  for (i = 2; i < BIG_LIMBS; i++) {
    if (a->l[i] != 0)
      return false;
  }
  *out = (uint64_t)a->l[1] << 32 | a->l[0];
  return true;
}
