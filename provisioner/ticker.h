/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: a background thread that works now and then and
 * stops promptly (the usage walks, the sweep).
 *
 * The thread's function pauses with prov_ticker_pause between steps; a
 * pause returns false as soon as prov_ticker_stop is called, and the
 * function then returns. */
#ifndef BERTH_PROV_TICKER_H
#define BERTH_PROV_TICKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "berth/status.h"

typedef struct prov_ticker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond; /* on CLOCK_MONOTONIC */
  bool stop;
} prov_ticker_t;

/* Start fn(arg) on a thread of its own. BERTH_ENOMEM when the thread
 * cannot be made; there is then nothing to stop. */
berth_status_t prov_ticker_start(prov_ticker_t *t, void *(*fn)(void *),
                                 void *arg);

/* Called on the ticker's thread: wait ms, or until stopped. False when
 * stopped. */
bool prov_ticker_pause(prov_ticker_t *t, int64_t ms);

/* Stop the thread and wait for it to return. */
void prov_ticker_stop(prov_ticker_t *t);

#endif /* BERTH_PROV_TICKER_H */
