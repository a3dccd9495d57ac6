/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the token-bucket rate limiter (lib/k8s/ratelimit.c) with an
 * injected clock: no real sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include "berth/k8s_ratelimit.h"

typedef struct {
  int64_t now;
  int64_t slept;
} fake_t;

static int64_t fake_now(void *ctx)
{
  return ((fake_t *)ctx)->now;
}

static void fake_sleep(void *ctx, int64_t ms)
{
  ((fake_t *)ctx)->now += ms;
  ((fake_t *)ctx)->slept += ms;
}

static void test_burst_then_rate(void **state)
{
  fake_t f = {1000000, 0};
  berth_clock_t clock = {fake_now, fake_now, fake_sleep, &f};
  berth_k8s_ratelimit_t *rl = NULL;
  int i;

  (void)state;
  assert_int_equal(berth_k8s_ratelimit_create(10.0, 5, &clock, &rl), BERTH_OK);
  /* A full bucket: burst requests go at once. */
  for (i = 0; i < 5; i++)
    assert_true(berth_k8s_ratelimit_reserve(rl) == 0);
  /* Then one every 100 ms, queued behind each other. */
  assert_true(berth_k8s_ratelimit_reserve(rl) == 100);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 200);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 300);
  /* Time passes: the debt is paid, the bucket refills, never above burst. */
  f.now += 300;
  assert_true(berth_k8s_ratelimit_tokens(rl) > -0.001 &&
              berth_k8s_ratelimit_tokens(rl) < 0.001);
  f.now += 60000;
  assert_true(berth_k8s_ratelimit_tokens(rl) == 5.0);
  berth_k8s_ratelimit_destroy(rl);
}

static void test_wait_sleeps_through_clock(void **state)
{
  fake_t f = {0, 0};
  berth_clock_t clock = {fake_now, fake_now, fake_sleep, &f};
  berth_k8s_ratelimit_t *rl = NULL;
  int i;

  (void)state;
  assert_int_equal(berth_k8s_ratelimit_create(50.0, 100, &clock, &rl),
                   BERTH_OK);
  /* 100 at once, then 50 more over one second. */
  for (i = 0; i < 150; i++)
    berth_k8s_ratelimit_wait(rl);
  assert_true(f.slept >= 990 && f.slept <= 1010);
  berth_k8s_ratelimit_destroy(rl);
}

static void test_hold(void **state)
{
  fake_t f = {0, 0};
  berth_clock_t clock = {fake_now, fake_now, fake_sleep, &f};
  berth_k8s_ratelimit_t *rl = NULL;

  (void)state;
  assert_int_equal(berth_k8s_ratelimit_create(100.0, 10, &clock, &rl),
                   BERTH_OK);
  /* A 429 with Retry-After: 2 holds everyone for two seconds. */
  berth_k8s_ratelimit_hold(rl, 2000);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 2000);
  f.now += 500;
  assert_true(berth_k8s_ratelimit_reserve(rl) == 1500);
  /* A shorter hold does not shorten it. */
  berth_k8s_ratelimit_hold(rl, 100);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 1500);
  f.now += 1500;
  assert_true(berth_k8s_ratelimit_reserve(rl) == 0);
  berth_k8s_ratelimit_hold(rl, 0);
  berth_k8s_ratelimit_hold(rl, -5);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 0);
  berth_k8s_ratelimit_destroy(rl);
}

static void test_unlimited_and_odd_values(void **state)
{
  fake_t f = {0, 0};
  berth_clock_t clock = {fake_now, fake_now, fake_sleep, &f};
  berth_k8s_ratelimit_t *rl = NULL;
  int i;

  (void)state;
  assert_int_equal(berth_k8s_ratelimit_create(0, 0, &clock, &rl), BERTH_OK);
  for (i = 0; i < 100000; i++)
    assert_true(berth_k8s_ratelimit_reserve(rl) == 0);
  berth_k8s_ratelimit_hold(rl, 10);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 10);
  berth_k8s_ratelimit_destroy(rl);
  /* A burst below one is one; fractional rates round the wait up. */
  assert_int_equal(berth_k8s_ratelimit_create(3.0, -1, &clock, &rl), BERTH_OK);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 0);
  assert_true(berth_k8s_ratelimit_reserve(rl) == 334);
  berth_k8s_ratelimit_destroy(rl);
  berth_k8s_ratelimit_destroy(NULL);
}

/* Many threads on one limiter with the real clock: the grants never beat
 * the rate (burst + qps * elapsed). */
typedef struct {
  berth_k8s_ratelimit_t *rl;
  int n;
} worker_t;

static void *worker(void *arg)
{
  worker_t *w = arg;
  int i;

  for (i = 0; i < w->n; i++)
    berth_k8s_ratelimit_wait(w->rl);
  return NULL;
}

static void test_threads(void **state)
{
  berth_k8s_ratelimit_t *rl = NULL;
  pthread_t t[4];
  worker_t w;
  int64_t start;
  int64_t elapsed;
  int i;

  (void)state;
  assert_int_equal(berth_k8s_ratelimit_create(1000.0, 20, NULL, &rl), BERTH_OK);
  w.rl = rl;
  w.n = 50;
  start = berth_clock_monotonic_ms(NULL);
  for (i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, &w);
  for (i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  elapsed = berth_clock_monotonic_ms(NULL) - start;
  /* 200 grants, 20 free: at least 180 ms at 1000/s. */
  assert_true(elapsed >= 175);
  berth_k8s_ratelimit_destroy(rl);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_burst_then_rate),
      cmocka_unit_test(test_wait_sleeps_through_clock),
      cmocka_unit_test(test_hold),
      cmocka_unit_test(test_unlimited_and_odd_values),
      cmocka_unit_test(test_threads),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
