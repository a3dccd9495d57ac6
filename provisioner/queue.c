/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the work queue, see queue.h.
 *
 * Every key the queue knows has one item in a map: its flags (dirty: to be
 * processed; processing: held by a worker), its failure count and, while
 * it waits for a delay, its place in a min-heap ordered by due time. Keys
 * ready for a worker wait in a FIFO. An item with nothing left to say (not
 * dirty, not processing, no failures, no delay) is freed. */
#include "queue.h"

#include "map.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NO_HEAP ((size_t)-1)

typedef struct qitem {
  char *key;
  struct qitem *next; /* in the ready FIFO */
  bool dirty;
  bool processing;
  bool in_ready;
  unsigned failures;
  int64_t due_ms;     /* while in the heap */
  int64_t ready_ms;   /* when it entered the ready FIFO */
  int64_t started_ms; /* when a worker took it */
  size_t heap_idx;    /* NO_HEAP when not delayed */
} qitem_t;

struct prov_queue {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  prov_queue_options_t o;
  prov_map_t items; /* key -> qitem_t */
  qitem_t *head;    /* ready FIFO */
  qitem_t *tail;
  size_t nready;
  qitem_t **heap;
  size_t nheap;
  size_t capheap;
  size_t nprocessing;
  uint64_t adds;
  uint64_t retries;
  prov_queue_hist_t wait;
  prov_queue_hist_t work;
  bool shutdown;
};

const double prov_queue_bucket_le[PROV_QUEUE_NBUCKETS] = {
    0.001, 0.01, 0.1, 1, 10, 60, 300, 3600};

static void hist_observe(prov_queue_hist_t *h, int64_t ms)
{
  double s = (double)(ms > 0 ? ms : 0) / 1000.0;
  size_t i;

  for (i = 0; i < PROV_QUEUE_NBUCKETS && s > prov_queue_bucket_le[i]; i++)
    ;
  if (i < PROV_QUEUE_NBUCKETS)
    h->counts[i]++;
  h->count++;
  h->sum += s;
}

static int64_t q_now(const prov_queue_t *q)
{
  return berth_clock_monotonic_ms(q->o.clock);
}

/* ---- heap ------------------------------------------------------------- */

static void heap_swap(prov_queue_t *q, size_t a, size_t b)
{
  qitem_t *t = q->heap[a];

  q->heap[a] = q->heap[b];
  q->heap[b] = t;
  q->heap[a]->heap_idx = a;
  q->heap[b]->heap_idx = b;
}

static void heap_up(prov_queue_t *q, size_t i)
{
  while (i > 0 && q->heap[(i - 1) / 2]->due_ms > q->heap[i]->due_ms) {
    heap_swap(q, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void heap_down(prov_queue_t *q, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1;
    size_t r = l + 1;
    size_t m = i;

    if (l < q->nheap && q->heap[l]->due_ms < q->heap[m]->due_ms)
      m = l;
    if (r < q->nheap && q->heap[r]->due_ms < q->heap[m]->due_ms)
      m = r;
    if (m == i)
      return;
    heap_swap(q, i, m);
    i = m;
  }
}

static berth_status_t heap_push(prov_queue_t *q, qitem_t *it)
{
  if (q->nheap == q->capheap) {
    size_t n = q->capheap == 0 ? 64 : q->capheap * 2;
    qitem_t **h = realloc(q->heap, n * sizeof(*h));
    if (h == NULL)
      return BERTH_ENOMEM;
    q->heap = h;
    q->capheap = n;
  }
  it->heap_idx = q->nheap;
  q->heap[q->nheap++] = it;
  heap_up(q, it->heap_idx);
  return BERTH_OK;
}

static void heap_remove(prov_queue_t *q, qitem_t *it)
{
  size_t i = it->heap_idx;

  if (i == NO_HEAP)
    return;
  q->nheap--;
  if (i != q->nheap) {
    q->heap[i] = q->heap[q->nheap];
    q->heap[i]->heap_idx = i;
    heap_down(q, i);
    heap_up(q, i);
  }
  it->heap_idx = NO_HEAP;
}

/* ---- items ------------------------------------------------------------ */

static qitem_t *item_get(prov_queue_t *q, const char *key, bool create)
{
  qitem_t *it = prov_map_get(&q->items, key);

  if (it != NULL || !create)
    return it;
  it = calloc(1, sizeof(*it));
  if (it == NULL)
    return NULL;
  it->key = strdup(key);
  it->heap_idx = NO_HEAP;
  if (it->key == NULL || prov_map_put(&q->items, key, it) != BERTH_OK) {
    free(it->key);
    free(it);
    return NULL;
  }
  return it;
}

/* Free it when nothing refers to it any more. */
static void item_maybe_free(prov_queue_t *q, qitem_t *it)
{
  if (it->dirty || it->processing || it->in_ready || it->failures > 0 ||
      it->heap_idx != NO_HEAP)
    return;
  prov_map_remove(&q->items, it->key);
  free(it->key);
  free(it);
}

static void ready_push(prov_queue_t *q, qitem_t *it)
{
  if (it->in_ready)
    return;
  it->in_ready = true;
  it->ready_ms = q_now(q);
  it->next = NULL;
  if (q->tail != NULL)
    q->tail->next = it;
  else
    q->head = it;
  q->tail = it;
  q->nready++;
  pthread_cond_signal(&q->cond);
}

static qitem_t *ready_pop(prov_queue_t *q)
{
  qitem_t *it = q->head;

  if (it == NULL)
    return NULL;
  q->head = it->next;
  if (q->head == NULL)
    q->tail = NULL;
  it->next = NULL;
  it->in_ready = false;
  q->nready--;
  return it;
}

/* Mark it dirty and queue it unless a worker holds it. Locked. */
static void item_add(prov_queue_t *q, qitem_t *it)
{
  heap_remove(q, it);
  if (it->dirty)
    return;
  it->dirty = true;
  q->adds++;
  if (!it->processing)
    ready_push(q, it);
}

/* Move the delayed items that are due to the ready FIFO. Locked. */
static void promote_due(prov_queue_t *q)
{
  int64_t now = q_now(q);

  while (q->nheap > 0 && q->heap[0]->due_ms <= now)
    item_add(q, q->heap[0]);
}

/* ---- API -------------------------------------------------------------- */

berth_status_t prov_queue_create(const prov_queue_options_t *opts,
                                 prov_queue_t **out)
{
  prov_queue_t *q = calloc(1, sizeof(*q));
  pthread_condattr_t ca;

  if (q == NULL)
    return BERTH_ENOMEM;
  if (opts != NULL)
    q->o = *opts;
  if (q->o.base_delay_ms <= 0)
    q->o.base_delay_ms = PROV_QUEUE_BASE_DELAY_MS;
  if (q->o.max_delay_ms <= 0)
    q->o.max_delay_ms = PROV_QUEUE_MAX_DELAY_MS;
  if (q->o.jitter == 0)
    q->o.jitter = PROV_QUEUE_JITTER;
  if (q->o.jitter > 1)
    q->o.jitter = 1;
  pthread_mutex_init(&q->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cond, &ca);
  pthread_condattr_destroy(&ca);
  prov_map_init(&q->items);
  *out = q;
  return BERTH_OK;
}

static void free_item(void *ctx, const char *key, void *value)
{
  qitem_t *it = value;

  (void)ctx;
  (void)key;
  free(it->key);
  free(it);
}

void prov_queue_destroy(prov_queue_t *q)
{
  if (q == NULL)
    return;
  prov_map_each(&q->items, free_item, NULL);
  prov_map_cleanup(&q->items);
  free(q->heap);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->lock);
  free(q);
}

berth_status_t prov_queue_add(prov_queue_t *q, const char *key)
{
  berth_status_t st = BERTH_OK;
  qitem_t *it;

  pthread_mutex_lock(&q->lock);
  if (!q->shutdown) {
    it = item_get(q, key, true);
    if (it != NULL)
      item_add(q, it);
    else
      st = BERTH_ENOMEM;
  }
  pthread_mutex_unlock(&q->lock);
  return st;
}

/* Delay it by delay_ms unless it is queued already or due sooner. Locked. */
static berth_status_t item_delay(prov_queue_t *q, qitem_t *it, int64_t delay_ms)
{
  int64_t due = q_now(q) + delay_ms;
  berth_status_t st = BERTH_OK;

  if (delay_ms <= 0) {
    item_add(q, it);
  } else if (it->dirty) {
    /* Queued now already: sooner than any delay. */
  } else if (it->heap_idx != NO_HEAP) {
    if (due < it->due_ms) {
      it->due_ms = due;
      heap_up(q, it->heap_idx);
    }
  } else {
    it->due_ms = due;
    st = heap_push(q, it);
  }
  /* A waiting worker may have to wake earlier now. */
  pthread_cond_broadcast(&q->cond);
  return st;
}

berth_status_t prov_queue_add_after(prov_queue_t *q, const char *key,
                                    int64_t delay_ms)
{
  berth_status_t st = BERTH_OK;
  qitem_t *it;

  pthread_mutex_lock(&q->lock);
  if (!q->shutdown) {
    it = item_get(q, key, true);
    st = it != NULL ? item_delay(q, it, delay_ms) : BERTH_ENOMEM;
    if (it != NULL)
      item_maybe_free(q, it);
  }
  pthread_mutex_unlock(&q->lock);
  return st;
}

int64_t prov_queue_backoff_ms(const prov_queue_t *q, unsigned n)
{
  int64_t d = q->o.base_delay_ms;

  while (n > 1 && d < q->o.max_delay_ms) {
    d *= 2;
    n--;
  }
  return d < q->o.max_delay_ms ? d : q->o.max_delay_ms;
}

/* d spread uniformly over [d - j*d, d + j*d], at most the maximum. */
static int64_t q_jitter(const prov_queue_t *q, int64_t d)
{
  int64_t span;

  if (q->o.jitter <= 0)
    return d;
  span = (int64_t)((double)d * q->o.jitter);
  if (span > 0)
    d += (int64_t)berth_rand_below(q->o.rand, (uint64_t)(2 * span + 1)) - span;
  return d < q->o.max_delay_ms ? d : q->o.max_delay_ms;
}

berth_status_t prov_queue_add_rate_limited(prov_queue_t *q, const char *key,
                                           int64_t *delay_ms)
{
  berth_status_t st = BERTH_OK;
  int64_t d = 0;
  qitem_t *it;

  pthread_mutex_lock(&q->lock);
  if (!q->shutdown) {
    it = item_get(q, key, true);
    if (it != NULL) {
      if (it->failures < 64)
        it->failures++;
      q->retries++;
      d = q_jitter(q, prov_queue_backoff_ms(q, it->failures));
      st = item_delay(q, it, d);
    } else {
      st = BERTH_ENOMEM;
    }
  }
  pthread_mutex_unlock(&q->lock);
  if (delay_ms != NULL)
    *delay_ms = d;
  return st;
}

void prov_queue_forget(prov_queue_t *q, const char *key)
{
  qitem_t *it;

  pthread_mutex_lock(&q->lock);
  it = item_get(q, key, false);
  if (it != NULL) {
    it->failures = 0;
    item_maybe_free(q, it);
  }
  pthread_mutex_unlock(&q->lock);
}

unsigned prov_queue_failures(prov_queue_t *q, const char *key)
{
  unsigned n = 0;
  qitem_t *it;

  pthread_mutex_lock(&q->lock);
  it = item_get(q, key, false);
  if (it != NULL)
    n = it->failures;
  pthread_mutex_unlock(&q->lock);
  return n;
}

/* Hand out the first ready key. Locked. */
static bool take(prov_queue_t *q, char **key)
{
  qitem_t *it = ready_pop(q);
  char *copy;

  if (it == NULL)
    return false;
  copy = strdup(it->key);
  if (copy == NULL) {
    ready_push(q, it); /* try again later */
    return false;
  }
  it->dirty = false;
  it->processing = true;
  it->started_ms = q_now(q);
  hist_observe(&q->wait, it->started_ms - it->ready_ms);
  q->nprocessing++;
  *key = copy;
  return true;
}

/* Wait on the condition until due_ms on the monotonic clock, or for a
 * second at most when nothing is delayed. Locked. */
static void wait_until(prov_queue_t *q)
{
  int64_t wait_ms = 1000;
  struct timespec ts;

  if (q->nheap > 0) {
    wait_ms = q->heap[0]->due_ms - q_now(q);
    if (wait_ms < 1)
      wait_ms = 1;
    if (wait_ms > 1000)
      wait_ms = 1000;
  }
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += wait_ms / 1000;
  ts.tv_nsec += (wait_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&q->cond, &q->lock, &ts);
}

bool prov_queue_get(prov_queue_t *q, char **key)
{
  bool got = false;

  pthread_mutex_lock(&q->lock);
  while (!q->shutdown) {
    promote_due(q);
    got = take(q, key);
    if (got)
      break;
    wait_until(q);
  }
  pthread_mutex_unlock(&q->lock);
  return got;
}

bool prov_queue_try_get(prov_queue_t *q, char **key)
{
  bool got = false;

  pthread_mutex_lock(&q->lock);
  if (!q->shutdown) {
    promote_due(q);
    got = take(q, key);
  }
  pthread_mutex_unlock(&q->lock);
  return got;
}

void prov_queue_done(prov_queue_t *q, const char *key)
{
  qitem_t *it;

  pthread_mutex_lock(&q->lock);
  it = item_get(q, key, false);
  if (it != NULL && it->processing) {
    hist_observe(&q->work, q_now(q) - it->started_ms);
    it->processing = false;
    q->nprocessing--;
    if (it->dirty)
      ready_push(q, it);
    item_maybe_free(q, it);
  }
  pthread_mutex_unlock(&q->lock);
}

void prov_queue_shutdown(prov_queue_t *q)
{
  pthread_mutex_lock(&q->lock);
  q->shutdown = true;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

bool prov_queue_shutting_down(prov_queue_t *q)
{
  bool s;

  pthread_mutex_lock(&q->lock);
  s = q->shutdown;
  pthread_mutex_unlock(&q->lock);
  return s;
}

typedef struct running_ctx {
  int64_t now_ms;
  prov_queue_stats_t *out;
} running_ctx_t;

/* prov_map_each: add a held key's running time to the stats. */
static void running_time(void *ctx, const char *key, void *value)
{
  running_ctx_t *run = ctx;
  qitem_t *it = value;
  double s;

  (void)key;
  if (!it->processing)
    return;
  s = (double)(run->now_ms - it->started_ms) / 1000.0;
  run->out->unfinished_s += s;
  if (s > run->out->longest_s)
    run->out->longest_s = s;
}

void prov_queue_get_stats(prov_queue_t *q, prov_queue_stats_t *out)
{
  running_ctx_t run;

  pthread_mutex_lock(&q->lock);
  out->ready = q->nready;
  out->delayed = q->nheap;
  out->processing = q->nprocessing;
  out->adds = q->adds;
  out->retries = q->retries;
  out->wait = q->wait;
  out->work = q->work;
  out->unfinished_s = 0;
  out->longest_s = 0;
  run.now_ms = q_now(q);
  run.out = out;
  prov_map_each(&q->items, running_time, &run);
  pthread_mutex_unlock(&q->lock);
}
