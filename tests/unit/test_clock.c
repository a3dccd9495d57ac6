/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: injectable clock, random source, backoff, time format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/clock.h"

typedef struct {
  int64_t now;
  int64_t slept;
} fake_time_t;

static int64_t fake_now(void *ctx)
{
  return ((fake_time_t *)ctx)->now;
}

static void fake_sleep(void *ctx, int64_t ms)
{
  fake_time_t *t = ctx;

  t->now += ms;
  t->slept += ms;
}

static void test_injected_clock(void **state)
{
  fake_time_t t = {1764083913123, 0};
  berth_clock_t clock = {fake_now, fake_now, fake_sleep, &t};
  char buf[32];

  (void)state;
  assert_int_equal(berth_clock_realtime_ms(&clock), 1764083913123);
  berth_clock_sleep_ms(&clock, 1500);
  assert_int_equal(berth_clock_monotonic_ms(&clock), 1764083914623);
  assert_int_equal(t.slept, 1500);
  berth_time_format_rfc3339(1764083913123, buf, sizeof(buf));
  assert_string_equal(buf, "2025-11-25T15:18:33.123Z");
}

static void test_system_clock_moves(void **state)
{
  int64_t a;
  int64_t b;

  (void)state;
  a = berth_clock_monotonic_ms(NULL);
  berth_clock_sleep_ms(NULL, 20);
  b = berth_clock_monotonic_ms(NULL);
  assert_true(b - a >= 20);
  assert_true(berth_clock_realtime_ms(NULL) > 1700000000000LL);
}

static void test_rand_deterministic(void **state)
{
  uint64_t s1 = 42;
  uint64_t s2 = 42;
  berth_rand_t r1 = {berth_rand_splitmix64, &s1};
  berth_rand_t r2 = {berth_rand_splitmix64, &s2};
  int i;

  (void)state;
  for (i = 0; i < 100; i++)
    assert_int_equal(berth_rand_below(&r1, 1000), berth_rand_below(&r2, 1000));
  assert_int_equal(berth_rand_below(&r1, 0), 0);
  assert_int_equal(berth_rand_below(&r1, 1), 0);
}

static void test_rand_system_covers_range(void **state)
{
  int seen[8] = {0};
  int i;

  (void)state;
  for (i = 0; i < 2000; i++)
    seen[berth_rand_below(NULL, 8)]++;
  for (i = 0; i < 8; i++)
    assert_true(seen[i] > 100); /* expected 250 each */
}

static void test_backoff_full_jitter(void **state)
{
  uint64_t s = 7;
  berth_rand_t r = {berth_rand_splitmix64, &s};
  int64_t max_seen = 0;
  int i;
  unsigned attempt;

  (void)state;
  for (attempt = 0; attempt < 20; attempt++) {
    for (i = 0; i < 50; i++) {
      int64_t d = berth_backoff_full_jitter(&r, 100, 5000, attempt);
      int64_t ceiling = attempt >= 6 ? 5000 : 100LL << attempt;
      if (ceiling > 5000)
        ceiling = 5000;
      assert_true(d >= 0);
      assert_true(d <= ceiling);
      if (d > max_seen)
        max_seen = d;
    }
  }
  assert_true(max_seen > 2500); /* the cap is reached in practice */
  assert_int_equal(berth_backoff_full_jitter(&r, 0, 5000, 3), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_injected_clock),
      cmocka_unit_test(test_system_clock_moves),
      cmocka_unit_test(test_rand_deterministic),
      cmocka_unit_test(test_rand_system_covers_range),
      cmocka_unit_test(test_backoff_full_jitter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
