/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the work queue, keyed by object.
 *
 * As client-go's rate-limited work queue, which the sig-storage provisioner
 * library uses:
 *  - a key added while it waits is queued once (deduplicated);
 *  - a key is handed to one worker at a time: added while a worker holds
 *    it, it waits until that worker calls prov_queue_done and is then
 *    queued again, so no two workers ever work on one key;
 *  - a failed key comes back after a per-key exponential backoff: 1 s,
 *    doubling per consecutive failure, at most 5 min, each delay spread by
 *    +/- jitter (10 %) so that keys that failed together do not come back
 *    together; prov_queue_forget resets it after a success;
 *  - shutting down wakes every waiting worker; keys still queued are
 *    dropped (the informers' next list brings them back after a restart).
 *
 * Time and randomness are injected (berth_clock_t, berth_rand_t) so that
 * tests need no sleeps: prov_queue_try_get never blocks. Thread-safe. */
#ifndef BERTH_PROV_QUEUE_H
#define BERTH_PROV_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/clock.h"
#include "berth/status.h"

#define PROV_QUEUE_BASE_DELAY_MS 1000
#define PROV_QUEUE_MAX_DELAY_MS (5 * 60 * 1000)
#define PROV_QUEUE_JITTER 0.1

typedef struct prov_queue prov_queue_t;

/* Zero-initialise; 0 or NULL means the default. */
typedef struct prov_queue_options {
  int64_t base_delay_ms;      /* first backoff */
  int64_t max_delay_ms;       /* longest backoff */
  double jitter;              /* fraction, 0..1; < 0 for none */
  const berth_clock_t *clock; /* borrowed; must outlive the queue */
  const berth_rand_t *rand;   /* borrowed */
} prov_queue_options_t;

/* Upper bounds (seconds) of the queue's latency histograms, as
 * client-go's workqueue metrics (exponential, coarser at the low end: the
 * queue's clock counts milliseconds). */
#define PROV_QUEUE_NBUCKETS 8
extern const double prov_queue_bucket_le[PROV_QUEUE_NBUCKETS];

/* A histogram: per-bucket (not cumulative) counts, the total count and
 * the sum of the observations in seconds. */
typedef struct prov_queue_hist {
  uint64_t counts[PROV_QUEUE_NBUCKETS];
  uint64_t count;
  double sum;
} prov_queue_hist_t;

typedef struct prov_queue_stats {
  size_t ready;           /* queued, waiting for a worker */
  size_t delayed;         /* waiting for their backoff or delay */
  size_t processing;      /* held by workers */
  uint64_t adds;          /* keys queued (after deduplication) */
  uint64_t retries;       /* prov_queue_add_rate_limited calls */
  prov_queue_hist_t wait; /* ready until a worker took it */
  prov_queue_hist_t work; /* taken until prov_queue_done */
  double unfinished_s;    /* sum of the running times of keys held now */
  double longest_s;       /* the longest running time of a key held now */
} prov_queue_stats_t;

/* Create a queue into *out (set only on success). opts may be NULL. */
berth_status_t prov_queue_create(const prov_queue_options_t *opts,
                                 prov_queue_t **out);

/* Free the queue. No thread may be using it. Accepts NULL. */
void prov_queue_destroy(prov_queue_t *q);

/* Queue key now (copied). */
berth_status_t prov_queue_add(prov_queue_t *q, const char *key);

/* Queue key after delay_ms; an earlier pending delay for the key wins. */
berth_status_t prov_queue_add_after(prov_queue_t *q, const char *key,
                                    int64_t delay_ms);

/* Count a failure of key and queue it after its backoff; the delay chosen
 * goes to *delay_ms (may be NULL). */
berth_status_t prov_queue_add_rate_limited(prov_queue_t *q, const char *key,
                                           int64_t *delay_ms);

/* The backoff before jitter for the n-th consecutive failure (n >= 1). */
int64_t prov_queue_backoff_ms(const prov_queue_t *q, unsigned n);

/* Forget key's failures (after a success). */
void prov_queue_forget(prov_queue_t *q, const char *key);

/* Consecutive failures of key. */
unsigned prov_queue_failures(prov_queue_t *q, const char *key);

/* Wait for a key: true with *key (a new string; free() it), false once the
 * queue is shut down. The caller must call prov_queue_done(key). */
bool prov_queue_get(prov_queue_t *q, char **key);

/* As prov_queue_get without waiting: false when no key is ready now (or
 * after shutdown). */
bool prov_queue_try_get(prov_queue_t *q, char **key);

/* The worker is finished with key; a key added meanwhile is queued again. */
void prov_queue_done(prov_queue_t *q, const char *key);

/* Stop handing out keys and wake every waiting worker. Idempotent. */
void prov_queue_shutdown(prov_queue_t *q);

/* true after prov_queue_shutdown. */
bool prov_queue_shutting_down(prov_queue_t *q);

void prov_queue_get_stats(prov_queue_t *q, prov_queue_stats_t *out);

#endif /* BERTH_PROV_QUEUE_H */
