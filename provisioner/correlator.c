/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the Event correlator, see correlator.h.
 *
 * What it remembers per object, type and reason (the key) is when the
 * current window began and how many events fell in it; the table is a
 * prov_map_t bounded by capacity: when full, entries whose window is over
 * go first, and if none is, the whole table is forgotten (every event is
 * then a first one again, which errs on the side of sending). */
#include "correlator.h"

#include "map.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMBINED "(combined from similar events): "

typedef struct seen {
  int64_t start_ms; /* the window's beginning */
  int count;        /* events in the window */
} seen_t;

struct prov_correlator {
  pthread_mutex_t lock;
  prov_correlator_options_t o;
  prov_map_t seen; /* key -> seen_t (owned) */
  double tokens;
  int64_t last_ms;
  bool started;
  prov_correlator_stats_t stats;
};

berth_status_t prov_correlator_create(const prov_correlator_options_t *o,
                                      prov_correlator_t **out)
{
  prov_correlator_t *c = calloc(1, sizeof(*c));

  if (c == NULL)
    return BERTH_ENOMEM;
  if (o != NULL)
    c->o = *o;
  if (c->o.qps <= 0)
    c->o.qps = 1;
  if (c->o.burst <= 0)
    c->o.burst = 10;
  if (c->o.max_similar <= 0)
    c->o.max_similar = 10;
  if (c->o.window_ms <= 0)
    c->o.window_ms = 600000;
  if (c->o.capacity == 0)
    c->o.capacity = 4096;
  c->tokens = c->o.burst;
  pthread_mutex_init(&c->lock, NULL);
  prov_map_init(&c->seen);
  *out = c;
  return BERTH_OK;
}

static void free_value(void *ctx, const char *key, void *value)
{
  (void)ctx;
  (void)key;
  free(value);
}

void prov_correlator_destroy(prov_correlator_t *c)
{
  if (c == NULL)
    return;
  prov_map_each(&c->seen, free_value, NULL);
  prov_map_cleanup(&c->seen);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* Refill the source bucket up to now and take a token if there is one. */
static bool take_token(prov_correlator_t *c, int64_t now)
{
  if (!c->started) {
    c->started = true;
    c->last_ms = now;
  }
  if (now > c->last_ms) {
    c->tokens += (double)(now - c->last_ms) * c->o.qps / 1000.0;
    if (c->tokens > c->o.burst)
      c->tokens = c->o.burst;
    c->last_ms = now;
  }
  if (c->tokens < 1.0)
    return false;
  c->tokens -= 1.0;
  return true;
}

typedef struct expire_ctx {
  int64_t now;
  int64_t window;
  char **keys;
  size_t n;
  size_t cap;
} expire_ctx_t;

static void collect_expired(void *ctx, const char *key, void *value)
{
  expire_ctx_t *e = ctx;
  const seen_t *s = value;

  if (e->now - s->start_ms >= e->window && e->n < e->cap)
    e->keys[e->n++] = strdup(key);
}

/* Make room for one more key: forget the windows that are over, or, when
 * none is, everything. */
static void make_room(prov_correlator_t *c, int64_t now)
{
  expire_ctx_t e = {now, c->o.window_ms, NULL, 0, prov_map_count(&c->seen)};
  size_t i;

  if (prov_map_count(&c->seen) < c->o.capacity)
    return;
  e.keys = calloc(e.cap, sizeof(*e.keys));
  if (e.keys != NULL)
    prov_map_each(&c->seen, collect_expired, &e);
  for (i = 0; i < e.n; i++) {
    if (e.keys[i] != NULL)
      free(prov_map_remove(&c->seen, e.keys[i]));
    free(e.keys[i]);
  }
  free(e.keys);
  if (prov_map_count(&c->seen) >= c->o.capacity) {
    prov_map_each(&c->seen, free_value, NULL);
    prov_map_cleanup(&c->seen);
    prov_map_init(&c->seen);
  }
}

/* The key's entry, its window brought up to now (new or restarted when
 * over); NULL when out of memory. */
static seen_t *entry(prov_correlator_t *c, const prov_event_in_t *ev)
{
  char key[512];
  seen_t *s;

  snprintf(key, sizeof(key), "%s\n%s\n%s", ev->object ? ev->object : "",
           ev->type ? ev->type : "", ev->reason ? ev->reason : "");
  s = prov_map_get(&c->seen, key);
  if (s == NULL) {
    make_room(c, ev->now_ms);
    s = calloc(1, sizeof(*s));
    if (s == NULL || prov_map_put(&c->seen, key, s) != BERTH_OK) {
      free(s);
      return NULL;
    }
    s->start_ms = ev->now_ms;
  } else if (ev->now_ms - s->start_ms >= c->o.window_ms) {
    s->start_ms = ev->now_ms;
    s->count = 0;
  }
  return s;
}

static prov_verdict_t decide(prov_correlator_t *c, const prov_event_in_t *ev,
                             seen_t *s)
{
  bool token = take_token(c, ev->now_ms);

  if (s != NULL && s->count > 0)
    return token ? PROV_EVENT_SEND : PROV_EVENT_FOLD;
  if (ev->optional && ev->pressure && !token)
    return PROV_EVENT_SHED;
  return PROV_EVENT_SEND;
}

prov_verdict_t prov_correlator_judge(prov_correlator_t *c,
                                     const prov_event_in_t *ev, char *msg,
                                     size_t msg_size)
{
  const char *m = ev->message != NULL ? ev->message : "";
  prov_verdict_t v;
  seen_t *s;
  bool combine = false;

  pthread_mutex_lock(&c->lock);
  s = entry(c, ev);
  v = decide(c, ev, s);
  if (s != NULL)
    s->count++;
  if (v == PROV_EVENT_SEND) {
    combine = s != NULL && s->count > c->o.max_similar;
    c->stats.sent++;
    if (combine)
      c->stats.combined++;
  } else if (v == PROV_EVENT_FOLD) {
    c->stats.folded++;
  } else {
    c->stats.shed++;
  }
  pthread_mutex_unlock(&c->lock);
  if (v == PROV_EVENT_SEND && msg_size > 0)
    snprintf(msg, msg_size, "%s%s", combine ? COMBINED : "", m);
  return v;
}

void prov_correlator_get_stats(prov_correlator_t *c,
                               prov_correlator_stats_t *out)
{
  memset(out, 0, sizeof(*out));
  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  *out = c->stats;
  pthread_mutex_unlock(&c->lock);
}
