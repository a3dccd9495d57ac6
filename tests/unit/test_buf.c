/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: dynamic buffer and string helpers (lib/util/buf.c, str.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"

static void test_append_and_grow(void **state)
{
  berth_buf_t b;
  int i;

  (void)state;
  berth_buf_init(&b);
  assert_string_equal(berth_buf_str(&b), "");
  for (i = 0; i < 1000; i++)
    assert_int_equal(berth_buf_appendf(&b, "%d,", i % 10), BERTH_OK);
  assert_int_equal(b.len, 2000);
  assert_int_equal(strlen(b.data), 2000);
  assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
  assert_int_equal(berth_buf_append(&b, "\0bin", 4), BERTH_OK);
  assert_int_equal(b.len, 2004);
  assert_int_equal(b.data[2004], '\0');
  berth_buf_cleanup(&b);
  assert_null(b.data);
  berth_buf_cleanup(NULL);
}

static void test_limit(void **state)
{
  berth_buf_t b;

  (void)state;
  berth_buf_init(&b);
  berth_buf_set_limit(&b, 8);
  assert_int_equal(berth_buf_append_str(&b, "12345678"), BERTH_OK);
  assert_int_equal(berth_buf_append_byte(&b, '9'), BERTH_ETOOBIG);
  assert_int_equal(berth_buf_appendf(&b, "%s", "x"), BERTH_ETOOBIG);
  /* A failed append leaves the contents as they were. */
  assert_string_equal(berth_buf_str(&b), "12345678");
  berth_buf_consume(&b, 3);
  assert_string_equal(berth_buf_str(&b), "45678");
  assert_int_equal(berth_buf_append_str(&b, "abc"), BERTH_OK);
  assert_int_equal(berth_buf_reserve(&b, SIZE_MAX), BERTH_ENOMEM);
  berth_buf_consume(&b, 100);
  assert_int_equal(b.len, 0);
  berth_buf_cleanup(&b);
}

static void test_detach(void **state)
{
  berth_buf_t b;
  char *s;

  (void)state;
  berth_buf_init(&b);
  s = berth_buf_detach(&b);
  assert_string_equal(s, "");
  free(s);
  berth_buf_append_str(&b, "hello");
  s = berth_buf_detach(&b);
  assert_string_equal(s, "hello");
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  free(s);
}

static void test_strings(void **state)
{
  char dst[4];
  char t[] = "  \t trim me \n";
  char *p;
  long long v = 7;

  (void)state;
  assert_true(berth_str_has_prefix("pvc-123", "pvc-"));
  assert_false(berth_str_has_prefix("pv", "pvc-"));
  assert_true(berth_str_has_suffix("web.svc.", "."));
  assert_false(berth_str_has_suffix("a", "abc"));
  assert_true(berth_str_case_eq("Mongo-1.Mongo", "mongo-1.mongo"));
  assert_false(berth_str_case_eq("a", NULL));
  assert_true(berth_str_case_eq(NULL, NULL));
  assert_int_equal(berth_strlcpy(dst, "abcdef", sizeof(dst)), 6);
  assert_string_equal(dst, "abc");
  assert_string_equal(berth_str_trim(t), "trim me");
  p = berth_strdup_printf("%s-%d", "web", 10);
  assert_string_equal(p, "web-10");
  free(p);

  assert_int_equal(berth_str_to_ll("42", 0, 100, &v), BERTH_OK);
  assert_int_equal(v, 42);
  assert_int_equal(berth_str_to_ll("-1", 0, 100, &v), BERTH_EPARSE);
  assert_int_equal(berth_str_to_ll("12x", 0, 100, &v), BERTH_EPARSE);
  assert_int_equal(berth_str_to_ll("", 0, 100, &v), BERTH_EPARSE);
  assert_int_equal(berth_str_to_ll(" 1", 0, 100, &v), BERTH_EPARSE);
  assert_int_equal(berth_str_to_ll("99999999999999999999", 0, LLONG_MAX, &v),
                   BERTH_EPARSE);
  assert_int_equal(v, 42); /* untouched on failure */
}

static void test_memzero(void **state)
{
  char secret[16] = "hunter2-secret!";
  size_t i;

  (void)state;
  berth_memzero(secret, sizeof(secret));
  for (i = 0; i < sizeof(secret); i++)
    assert_int_equal(secret[i], 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_and_grow), cmocka_unit_test(test_limit),
      cmocka_unit_test(test_detach),          cmocka_unit_test(test_strings),
      cmocka_unit_test(test_memzero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
