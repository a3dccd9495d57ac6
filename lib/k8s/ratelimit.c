/* SPDX-License-Identifier: Apache-2.0 */
/* A token-bucket rate limiter, see include/berth/k8s_ratelimit.h. */
#include "berth/k8s_ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

struct berth_k8s_ratelimit {
  pthread_mutex_t lock;
  const berth_clock_t *clock;
  double qps;            /* tokens per second; <= 0: unlimited */
  double burst;          /* bucket size */
  double tokens;         /* may go negative: reservations waiting */
  int64_t last_ms;       /* when tokens was last brought up to date */
  int64_t hold_until_ms; /* no token is usable before this (monotonic) */
};

berth_status_t berth_k8s_ratelimit_create(double qps, int burst,
                                          const berth_clock_t *clock,
                                          berth_k8s_ratelimit_t **out)
{
  berth_k8s_ratelimit_t *rl;

  rl = calloc(1, sizeof(*rl));
  if (rl == NULL)
    return BERTH_ENOMEM;
  pthread_mutex_init(&rl->lock, NULL);
  rl->clock = clock != NULL ? clock : berth_clock_system();
  rl->qps = qps > 0 ? qps : 0;
  rl->burst = burst >= 1 ? burst : 1;
  rl->tokens = rl->burst;
  rl->last_ms = berth_clock_monotonic_ms(rl->clock);
  rl->hold_until_ms = rl->last_ms;
  *out = rl;
  return BERTH_OK;
}

void berth_k8s_ratelimit_destroy(berth_k8s_ratelimit_t *rl)
{
  if (rl == NULL)
    return;
  pthread_mutex_destroy(&rl->lock);
  free(rl);
}

/* Bring the bucket up to now; the caller holds the lock. */
static void refill(berth_k8s_ratelimit_t *rl, int64_t now)
{
  if (now > rl->last_ms && rl->qps > 0) {
    rl->tokens += (double)(now - rl->last_ms) * rl->qps / 1000.0;
    if (rl->tokens > rl->burst)
      rl->tokens = rl->burst;
  }
  if (now > rl->last_ms)
    rl->last_ms = now;
}

int64_t berth_k8s_ratelimit_reserve(berth_k8s_ratelimit_t *rl)
{
  int64_t now;
  int64_t wait = 0;

  pthread_mutex_lock(&rl->lock);
  now = berth_clock_monotonic_ms(rl->clock);
  if (rl->qps > 0) {
    refill(rl, now);
    rl->tokens -= 1.0;
    if (rl->tokens < 0) {
      /* Round up (without libm's ceil): a token 0.2 ms away is 1 ms. */
      double exact = -rl->tokens * 1000.0 / rl->qps;
      wait = (int64_t)exact;
      if ((double)wait < exact - 1e-9)
        wait++;
    }
  }
  if (rl->hold_until_ms - now > wait)
    wait = rl->hold_until_ms - now;
  pthread_mutex_unlock(&rl->lock);
  return wait;
}

int64_t berth_k8s_ratelimit_wait(berth_k8s_ratelimit_t *rl)
{
  int64_t wait = berth_k8s_ratelimit_reserve(rl);

  if (wait > 0)
    berth_clock_sleep_ms(rl->clock, wait);
  return wait;
}

void berth_k8s_ratelimit_hold(berth_k8s_ratelimit_t *rl, int64_t delay_ms)
{
  int64_t until;

  if (delay_ms <= 0)
    return;
  pthread_mutex_lock(&rl->lock);
  until = berth_clock_monotonic_ms(rl->clock) + delay_ms;
  if (until > rl->hold_until_ms)
    rl->hold_until_ms = until;
  pthread_mutex_unlock(&rl->lock);
}

double berth_k8s_ratelimit_tokens(berth_k8s_ratelimit_t *rl)
{
  double t;

  pthread_mutex_lock(&rl->lock);
  refill(rl, berth_clock_monotonic_ms(rl->clock));
  t = rl->tokens;
  pthread_mutex_unlock(&rl->lock);
  return t;
}
