/* SPDX-License-Identifier: Apache-2.0 */
/* System clock, random source and backoff, see include/berth/clock.h. */
#include "berth/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

static int64_t ts_to_ms(const struct timespec *ts)
{
  return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static int64_t system_realtime_ms(void *ctx)
{
  struct timespec ts;

  (void)ctx;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts_to_ms(&ts);
}

static int64_t system_monotonic_ms(void *ctx)
{
  struct timespec ts;

  (void)ctx;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts_to_ms(&ts);
}

static void system_sleep_ms(void *ctx, int64_t ms)
{
  struct timespec ts;

  (void)ctx;
  if (ms <= 0)
    return;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  /* Sleep the whole time even when a signal interrupts us. */
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static const berth_clock_t system_clock = {
    system_realtime_ms, system_monotonic_ms, system_sleep_ms, NULL};

const berth_clock_t *berth_clock_system(void)
{
  return &system_clock;
}

int64_t berth_clock_realtime_ms(const berth_clock_t *clock)
{
  if (clock == NULL)
    clock = &system_clock;
  return clock->realtime_ms(clock->ctx);
}

int64_t berth_clock_monotonic_ms(const berth_clock_t *clock)
{
  if (clock == NULL)
    clock = &system_clock;
  return clock->monotonic_ms(clock->ctx);
}

void berth_clock_sleep_ms(const berth_clock_t *clock, int64_t ms)
{
  if (clock == NULL)
    clock = &system_clock;
  clock->sleep_ms(clock->ctx, ms);
}

uint64_t berth_rand_splitmix64(void *state)
{
  uint64_t *s = state;
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static pthread_mutex_t system_rand_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t system_rand_state;
static int system_rand_seeded;

static uint64_t system_rand_next(void *ctx)
{
  uint64_t v;

  (void)ctx;
  pthread_mutex_lock(&system_rand_lock);
  if (!system_rand_seeded) {
    if (getrandom(&system_rand_state, sizeof(system_rand_state), 0) !=
        (ssize_t)sizeof(system_rand_state))
      system_rand_state = (uint64_t)system_realtime_ms(NULL) ^
                          (uint64_t)system_monotonic_ms(NULL) << 20;
    system_rand_seeded = 1;
  }
  v = berth_rand_splitmix64(&system_rand_state);
  pthread_mutex_unlock(&system_rand_lock);
  return v;
}

static const berth_rand_t system_rand = {system_rand_next, NULL};

const berth_rand_t *berth_rand_system(void)
{
  return &system_rand;
}

uint64_t berth_rand_below(const berth_rand_t *r, uint64_t n)
{
  uint64_t limit;
  uint64_t v;

  if (n == 0)
    return 0;
  if (r == NULL)
    r = &system_rand;
  /* Reject the top sliver so that the modulo is unbiased. */
  limit = UINT64_MAX - (UINT64_MAX % n);
  do
    v = r->next(r->ctx);
  while (v >= limit);
  return v % n;
}

int64_t berth_backoff_full_jitter(const berth_rand_t *r, int64_t base_ms,
                                  int64_t cap_ms, unsigned attempt)
{
  int64_t ceiling = base_ms;

  if (base_ms <= 0 || cap_ms <= 0)
    return 0;
  while (attempt-- > 0 && ceiling < cap_ms)
    ceiling *= 2;
  if (ceiling > cap_ms)
    ceiling = cap_ms;
  return (int64_t)berth_rand_below(r, (uint64_t)ceiling + 1);
}

void berth_time_format_rfc3339(int64_t ms, char *out, size_t outsize)
{
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;

  gmtime_r(&secs, &tm);
  snprintf(out, outsize, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(ms % 1000));
}
