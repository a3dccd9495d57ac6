/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: a background thread that stops promptly, see
 * ticker.h. */
#include "ticker.h"

#include <time.h>

berth_status_t prov_ticker_start(prov_ticker_t *t, void *(*fn)(void *),
                                 void *arg)
{
  pthread_condattr_t ca;

  t->stop = false;
  pthread_mutex_init(&t->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&t->cond, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&t->thread, NULL, fn, arg) != 0) {
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    return BERTH_ENOMEM;
  }
  return BERTH_OK;
}

bool prov_ticker_pause(prov_ticker_t *t, int64_t ms)
{
  struct timespec ts;
  bool go;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&t->lock);
  if (!t->stop)
    pthread_cond_timedwait(&t->cond, &t->lock, &ts);
  go = !t->stop;
  pthread_mutex_unlock(&t->lock);
  return go;
}

void prov_ticker_stop(prov_ticker_t *t)
{
  pthread_mutex_lock(&t->lock);
  t->stop = true;
  pthread_cond_broadcast(&t->cond);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->thread, NULL);
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->lock);
}
