/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth_utf8_len (lib/util/str.c), RFC 3629 exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/buf.h"

static size_t len_of(const char *s, size_t n)
{
  return berth_utf8_len((const unsigned char *)s, n);
}

static void test_table(void **state)
{
  static const struct {
    const char *s;
    size_t n;
    size_t want;
  } cases[] = {
      {"a", 1, 1},
      {"\x7f", 1, 1},
      {"\xc2\x80", 2, 2},
      {"\xdf\xbf", 2, 2},
      {"\xe0\xa0\x80", 3, 3},
      {"\xed\x9f\xbf", 3, 3},
      {"\xee\x80\x80", 3, 3},
      {"\xef\xbf\xbf", 3, 3},
      {"\xf0\x90\x80\x80", 4, 4},
      {"\xf4\x8f\xbf\xbf", 4, 4},
      /* Refused: continuation first, overlong, surrogates, > U+10FFFF,
       * truncated, bad continuation. */
      {"\x80", 1, 0},
      {"\xbf", 1, 0},
      {"\xc0\x80", 2, 0},
      {"\xc1\xbf", 2, 0},
      {"\xe0\x80\x80", 3, 0},
      {"\xe0\x9f\xbf", 3, 0},
      {"\xed\xa0\x80", 3, 0},
      {"\xed\xbf\xbf", 3, 0},
      {"\xf0\x80\x80\x80", 4, 0},
      {"\xf0\x8f\xbf\xbf", 4, 0},
      {"\xf4\x90\x80\x80", 4, 0},
      {"\xf5\x80\x80\x80", 4, 0},
      {"\xff", 1, 0},
      {"\xe2\x82", 2, 0},
      {"\xc2\x41", 2, 0},
      {"\xe2\x28\xa1", 3, 0},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    if (len_of(cases[i].s, cases[i].n) != cases[i].want)
      fail_msg("case %zu: %zu, want %zu", i, len_of(cases[i].s, cases[i].n),
               cases[i].want);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
