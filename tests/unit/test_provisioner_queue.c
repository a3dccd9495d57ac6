/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-provisioner's work queue (provisioner/queue.c):
 * deduplication, one worker per key, per-key exponential backoff with
 * jitter under a fake clock, delays, forget, shutdown, and a threaded
 * stress run that checks no key is ever held by two workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* A clock that only moves when the test says so. */
typedef struct fake {
  int64_t now;
} fake_t;

static int64_t fake_ms(void *ctx)
{
  return ((fake_t *)ctx)->now;
}

static void fake_sleep(void *ctx, int64_t ms)
{
  ((fake_t *)ctx)->now += ms;
}

static berth_clock_t fake_clock(fake_t *f)
{
  berth_clock_t c = {fake_ms, fake_ms, fake_sleep, f};
  return c;
}

static uint64_t seed = 42;
static const berth_rand_t test_rand = {berth_rand_splitmix64, &seed};

static prov_queue_t *make(berth_clock_t *clock, double jitter)
{
  prov_queue_options_t o;
  prov_queue_t *q = NULL;

  memset(&o, 0, sizeof(o));
  o.clock = clock;
  o.rand = &test_rand;
  o.jitter = jitter;
  assert_int_equal(prov_queue_create(&o, &q), BERTH_OK);
  return q;
}

/* Take the next key, which must be want (NULL: none ready). */
static void expect_key(prov_queue_t *q, const char *want)
{
  char *key = NULL;
  bool got = prov_queue_try_get(q, &key);

  if (want == NULL) {
    assert_false(got);
    return;
  }
  assert_true(got);
  assert_string_equal(key, want);
  free(key);
}

static void test_dedup_and_order(void **state)
{
  fake_t f = {1000};
  berth_clock_t clock = fake_clock(&f);
  prov_queue_t *q = make(&clock, -1);
  prov_queue_stats_t s;

  (void)state;
  prov_queue_add(q, "a");
  prov_queue_add(q, "b");
  prov_queue_add(q, "a");
  prov_queue_get_stats(q, &s);
  assert_int_equal(s.ready, 2);
  assert_int_equal(s.adds, 2);
  expect_key(q, "a");
  expect_key(q, "b");
  expect_key(q, NULL);
  prov_queue_done(q, "a");
  prov_queue_done(q, "b");
  prov_queue_get_stats(q, &s);
  assert_int_equal(s.processing, 0);
  prov_queue_destroy(q);
}

static void test_one_worker_per_key(void **state)
{
  fake_t f = {0};
  berth_clock_t clock = fake_clock(&f);
  prov_queue_t *q = make(&clock, -1);

  (void)state;
  prov_queue_add(q, "k");
  expect_key(q, "k");
  /* Added while held: not handed out again until done. */
  prov_queue_add(q, "k");
  prov_queue_add(q, "k");
  expect_key(q, NULL);
  prov_queue_done(q, "k");
  expect_key(q, "k");
  prov_queue_done(q, "k");
  expect_key(q, NULL);
  prov_queue_destroy(q);
}

static void test_backoff_doubles_to_cap(void **state)
{
  fake_t f = {0};
  berth_clock_t clock = fake_clock(&f);
  prov_queue_t *q = make(&clock, -1);
  int64_t want[] = {1000,  2000,   4000,   8000,   16000, 32000,
                    64000, 128000, 256000, 300000, 300000};
  int64_t d;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    assert_int_equal(prov_queue_add_rate_limited(q, "x", &d), BERTH_OK);
    assert_int_equal(d, want[i]);
    assert_int_equal(prov_queue_failures(q, "x"), i + 1);
    /* Not before its time, then exactly at it. */
    f.now += d - 1;
    expect_key(q, NULL);
    f.now += 1;
    expect_key(q, "x");
    prov_queue_done(q, "x");
  }
  prov_queue_forget(q, "x");
  assert_int_equal(prov_queue_failures(q, "x"), 0);
  assert_int_equal(prov_queue_add_rate_limited(q, "x", &d), BERTH_OK);
  assert_int_equal(d, 1000);
  prov_queue_destroy(q);
}

static void test_jitter_bounds(void **state)
{
  fake_t f = {0};
  berth_clock_t clock = fake_clock(&f);
  prov_queue_t *q = make(&clock, 0.1);
  int64_t d;
  int64_t lo = INT64_MAX;
  int64_t hi = 0;
  char key[16];
  int i;

  (void)state;
  /* First failures of many keys: 1 s +/- 10 %, and spread. */
  for (i = 0; i < 500; i++) {
    snprintf(key, sizeof(key), "k%d", i);
    prov_queue_add_rate_limited(q, key, &d);
    assert_true(d >= 900 && d <= 1100);
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
  }
  assert_true(hi - lo > 100);
  /* Near the cap, jitter never goes above it. */
  for (i = 0; i < 20; i++)
    prov_queue_add_rate_limited(q, "capped", &d);
  assert_true(d <= PROV_QUEUE_MAX_DELAY_MS && d >= 270000);
  prov_queue_destroy(q);
}

static void test_add_after_and_immediate(void **state)
{
  fake_t f = {0};
  berth_clock_t clock = fake_clock(&f);
  prov_queue_t *q = make(&clock, -1);
  prov_queue_stats_t s;

  (void)state;
  prov_queue_add_after(q, "late", 5000);
  prov_queue_add_after(q, "soon", 1000);
  prov_queue_add_after(q, "late", 9000); /* the earlier delay wins */
  prov_queue_get_stats(q, &s);
  assert_int_equal(s.delayed, 2);
  f.now = 1000;
  expect_key(q, "soon");
  expect_key(q, NULL);
  f.now = 5000;
  expect_key(q, "late");
  /* A plain add of a delayed key queues it now. */
  prov_queue_add_after(q, "x", 60000);
  prov_queue_add(q, "x");
  expect_key(q, "x");
  prov_queue_get_stats(q, &s);
  assert_int_equal(s.delayed, 0);
  prov_queue_done(q, "soon");
  prov_queue_done(q, "late");
  prov_queue_done(q, "x");
  prov_queue_destroy(q);
}

static void test_shutdown(void **state)
{
  prov_queue_t *q = make(NULL, 0);
  char *key;

  (void)state;
  prov_queue_add(q, "a");
  prov_queue_shutdown(q);
  assert_true(prov_queue_shutting_down(q));
  assert_false(prov_queue_get(q, &key));
  assert_false(prov_queue_try_get(q, &key));
  assert_int_equal(prov_queue_add(q, "b"), BERTH_OK); /* ignored */
  prov_queue_destroy(q);
}

/* ---- threads ------------------------------------------------------------ */

#define KEYS 16
#define WORKERS 8
#define ROUNDS 4000

typedef struct stress {
  prov_queue_t *q;
  atomic_int busy[KEYS];
  atomic_int overlaps;
  atomic_int handled;
} stress_t;

static void *stress_worker(void *arg)
{
  stress_t *s = arg;
  char *key;
  int k;

  while (prov_queue_get(s->q, &key)) {
    k = atoi(key + 1);
    if (atomic_fetch_add(&s->busy[k], 1) != 0)
      atomic_fetch_add(&s->overlaps, 1);
    for (volatile int spin = 0; spin < 200; spin++)
      ;
    atomic_fetch_sub(&s->busy[k], 1);
    atomic_fetch_add(&s->handled, 1);
    prov_queue_done(s->q, key);
    free(key);
  }
  return NULL;
}

static void test_threads_never_share_a_key(void **state)
{
  stress_t s;
  pthread_t t[WORKERS];
  char key[16];
  int i;

  (void)state;
  memset(&s, 0, sizeof(s));
  s.q = make(NULL, 0);
  for (i = 0; i < WORKERS; i++)
    pthread_create(&t[i], NULL, stress_worker, &s);
  for (i = 0; i < ROUNDS; i++) {
    snprintf(key, sizeof(key), "k%d", i % KEYS);
    prov_queue_add(s.q, key);
  }
  /* Wait (bounded) until every queued key has been handled. */
  for (i = 0; i < 5000; i++) {
    prov_queue_stats_t st;
    prov_queue_get_stats(s.q, &st);
    if (st.ready == 0 && st.processing == 0)
      break;
    berth_clock_sleep_ms(NULL, 1);
  }
  prov_queue_shutdown(s.q);
  for (i = 0; i < WORKERS; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(atomic_load(&s.overlaps), 0);
  assert_true(atomic_load(&s.handled) >= KEYS);
  assert_true(atomic_load(&s.handled) <= ROUNDS);
  prov_queue_destroy(s.q);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dedup_and_order),
      cmocka_unit_test(test_one_worker_per_key),
      cmocka_unit_test(test_backoff_doubles_to_cap),
      cmocka_unit_test(test_jitter_bounds),
      cmocka_unit_test(test_add_after_and_immediate),
      cmocka_unit_test(test_shutdown),
      cmocka_unit_test(test_threads_never_share_a_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
