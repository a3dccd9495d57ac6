/* SPDX-License-Identifier: Apache-2.0 */
/* berth: an injectable clock and random source.
 *
 * Code that waits, expires or jitters takes a berth_clock_t and a
 * berth_rand_t rather than calling time() or rand() itself, so that tests
 * can control time and randomness (a fixed SigV4 date, a backoff without
 * real sleeps, a reproducible jitter). NULL means the process default. */
#ifndef BERTH_CLOCK_H
#define BERTH_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_clock {
  /* Wall-clock time in milliseconds since the Unix epoch. */
  int64_t (*realtime_ms)(void *ctx);
  /* Monotonic time in milliseconds from an arbitrary start. */
  int64_t (*monotonic_ms)(void *ctx);
  /* Sleep for ms milliseconds (tests can advance a fake clock instead). */
  void (*sleep_ms)(void *ctx, int64_t ms);
  void *ctx;
} berth_clock_t;

typedef struct berth_rand {
  /* Return 64 random bits. */
  uint64_t (*next)(void *ctx);
  void *ctx;
} berth_rand_t;

/* The system clock (CLOCK_REALTIME, CLOCK_MONOTONIC, nanosleep). Borrowed,
 * static, never NULL. */
const berth_clock_t *berth_clock_system(void);

/* Wall-clock ms from clock, or from the system clock when clock is NULL. */
int64_t berth_clock_realtime_ms(const berth_clock_t *clock);

/* Monotonic ms from clock, or from the system clock when clock is NULL. */
int64_t berth_clock_monotonic_ms(const berth_clock_t *clock);

/* Sleep through clock, or the system clock when clock is NULL. */
void berth_clock_sleep_ms(const berth_clock_t *clock, int64_t ms);

/* A thread-safe random source seeded from getrandom(2). Borrowed, static,
 * never NULL. Good for jitter, not for keys. */
const berth_rand_t *berth_rand_system(void);

/* A uniformly distributed integer in [0, n) from r (the system source when
 * r is NULL). n == 0 gives 0. */
uint64_t berth_rand_below(const berth_rand_t *r, uint64_t n);

/* A deterministic generator (splitmix64) for tests: state is the seed and
 * is advanced by each call. */
uint64_t berth_rand_splitmix64(void *state);

/* Full-jitter exponential backoff, as in the AWS architecture blog "Exponential
 * Backoff And Jitter": a random delay in [0, min(cap_ms, base_ms * 2^attempt)].
 * attempt counts from 0. */
int64_t berth_backoff_full_jitter(const berth_rand_t *r, int64_t base_ms,
                                  int64_t cap_ms, unsigned attempt);

/* Format ms since the epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-25T15:18:33.123Z") into out (at least 25 bytes). */
void berth_time_format_rfc3339(int64_t ms, char *out, size_t outsize);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_CLOCK_H */
