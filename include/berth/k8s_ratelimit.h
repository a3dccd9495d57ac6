/* SPDX-License-Identifier: Apache-2.0 */
/* berth: a token-bucket rate limiter for API clients.
 *
 * The bucket holds at most `burst` tokens and gains `qps` tokens a second;
 * each request takes one, waiting for it when the bucket is empty (as
 * client-go's flowcontrol.NewTokenBucketRateLimiter and Go's
 * golang.org/x/time/rate: a reservation may drive the bucket below zero,
 * and the next requests wait in turn). A server that answers 429 with
 * Retry-After can hold the whole bucket until then, so that every thread
 * using the client backs off, not only the one that was told.
 *
 * Time comes from an injected berth_clock_t, so tests need no sleeps.
 * Thread-safe. */
#ifndef BERTH_K8S_RATELIMIT_H
#define BERTH_K8S_RATELIMIT_H

#include <stdint.h>

#include "berth/clock.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_k8s_ratelimit berth_k8s_ratelimit_t;

/* Create a limiter into *out (set only on success), full (burst tokens).
 * qps <= 0 makes an unlimited limiter (holds still apply); burst < 1 is
 * taken as 1. clock NULL: the system clock (borrowed: it must outlive the
 * limiter). */
berth_status_t berth_k8s_ratelimit_create(double qps, int burst,
                                          const berth_clock_t *clock,
                                          berth_k8s_ratelimit_t **out);

/* Free a limiter. Accepts NULL. */
void berth_k8s_ratelimit_destroy(berth_k8s_ratelimit_t *rl);

/* Take a token and return how many milliseconds the caller must wait
 * before using it (0: now). Never fails. */
int64_t berth_k8s_ratelimit_reserve(berth_k8s_ratelimit_t *rl);

/* Take a token, sleep (through the clock) until it may be used, and
 * return the time waited in ms. */
int64_t berth_k8s_ratelimit_wait(berth_k8s_ratelimit_t *rl);

/* Grant no token before delay_ms from now (a 429's Retry-After). A hold
 * never shortens an earlier, longer one. */
void berth_k8s_ratelimit_hold(berth_k8s_ratelimit_t *rl, int64_t delay_ms);

/* Tokens in the bucket now (may be negative while reservations wait). */
double berth_k8s_ratelimit_tokens(berth_k8s_ratelimit_t *rl);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_K8S_RATELIMIT_H */
