/* SPDX-License-Identifier: Apache-2.0 */
/* The informer: list, watch, resume, relist on 410; its life cycle and
 * cache reads. See include/berth/k8s_informer.h.
 *
 * Two threads. The watcher (here) lists and watches, applies every change
 * to the cache under the lock and queues a notification; the dispatcher
 * (informer_dispatch.c) pops the queue and calls the handlers, so that a
 * slow handler never stalls the watch stream and handlers run without the
 * lock held. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/clock.h"
#include "berth/log.h"
#include "informer_int.h"
#include "k8s_int.h"

#define DEFAULT_PAGE 500
#define DEFAULT_IDLE_MS 300000L
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 30000

static void set_rv(berth_k8s_informer_t *inf, const char *rv)
{
  if (rv != NULL && rv[0] != '\0')
    berth_strlcpy(inf->rv, rv, sizeof(inf->rv));
}

/* Sleep ms unless stopped first; true when stopping. */
static bool pause_ms(berth_k8s_informer_t *inf, int64_t ms)
{
  struct timespec ts;
  bool stop;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&inf->lock);
  while (!inf->stopping &&
         pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) == 0)
    ;
  stop = inf->stopping;
  pthread_mutex_unlock(&inf->lock);
  return stop;
}

/* One page; true when it was the last (no continue token). */
static bool last_page(const json_t *page)
{
  const char *cont = json_string_value(
      json_object_get(json_object_get(page, "metadata"), "continue"));

  return cont == NULL || cont[0] == '\0';
}

/* Fetch one page (lo) and stage it in r; the page's resourceVersion goes
 * to rv (when it has one), its continue token to *next (malloc'd; NULL on
 * the last page). A compact informer decodes and transforms the page in a
 * decode arena, released whole before the next page: what is staged is
 * text in malloc's heap (see berth__k8s_relist_page). */
static berth_status_t list_page(berth_k8s_informer_t *inf,
                                const berth_k8s_list_options_t *lo,
                                berth__k8s_relist_t *r, char *rv,
                                size_t rv_size, char **next, berth_error_t *err)
{
  bool arena = inf->compact && berth__k8s_arena_begin();
  json_t *page = NULL;
  const char *meta_rv;
  berth_status_t st;

  *next = NULL;
  st = berth_k8s_list(inf->client, &inf->res, inf->ns, lo, &page, err);
  if (st != BERTH_OK)
    goto done;
  /* Later pages carry the same snapshot version; keep the newest. */
  meta_rv = json_string_value(
      json_object_get(json_object_get(page, "metadata"), "resourceVersion"));
  if (meta_rv != NULL)
    berth_strlcpy(rv, meta_rv, rv_size);
  pthread_mutex_lock(&inf->lock);
  st = berth__k8s_relist_page(inf, r, json_object_get(page, "items"));
  pthread_mutex_unlock(&inf->lock);
  if (st != BERTH_OK) {
    st = berth_error_set(err, st, "k8s informer: out of memory");
    goto done;
  }
  if (!last_page(page)) {
    *next = strdup(json_string_value(
        json_object_get(json_object_get(page, "metadata"), "continue")));
    if (*next == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }

done:
  json_decref(page);
  berth__k8s_arena_end(arena);
  return st;
}

/* List page by page (as client-go's pager), each page staged through the
 * transform before the next is fetched, then make the cache equal to the
 * list. When a continue token expires (410) the list restarts once without
 * paging, as the pager does. */
static berth_status_t list_into_cache(berth_k8s_informer_t *inf,
                                      berth_error_t *err)
{
  berth_k8s_list_options_t lo;
  berth__k8s_relist_t r;
  char *cont = NULL;
  char *next = NULL;
  char rv[64] = "";
  bool restarted = false;
  berth_status_t st;

  memset(&lo, 0, sizeof(lo));
  lo.label_selector = inf->label_selector;
  lo.field_selector = inf->field_selector;
  lo.limit = inf->page_size;
  berth__k8s_relist_init(&r);
  for (;;) {
    lo.continue_token = cont;
    st = list_page(inf, &lo, &r, rv, sizeof(rv), &next, err);
    if (st == BERTH_EGONE && cont != NULL && !restarted) {
      restarted = true;
      free(cont);
      cont = NULL;
      lo.limit = 0;
      berth__k8s_relist_cleanup(&r);
      berth__k8s_relist_init(&r);
      continue;
    }
    free(cont);
    cont = next;
    next = NULL;
    if (st != BERTH_OK)
      goto done;
    if (cont == NULL)
      break;
  }
  pthread_mutex_lock(&inf->lock);
  berth__k8s_relist_commit(inf, &r);
  set_rv(inf, rv);
  inf->stats.lists++;
  inf->synced = true;
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->lock);

done:
  free(cont);
  berth__k8s_relist_cleanup(&r);
  return st;
}

typedef struct {
  berth_k8s_informer_t *inf;
  uint64_t events;
} watch_state_t;

static berth_status_t on_event(void *ctx, berth_k8s_event_type_t type,
                               json_t *obj)
{
  watch_state_t *w = ctx;
  berth_k8s_informer_t *inf = w->inf;

  if (type == BERTH_K8S_EVENT_ERROR)
    return BERTH_OK; /* berth_k8s_watch turns it into its result */
  pthread_mutex_lock(&inf->lock);
  if (type == BERTH_K8S_EVENT_BOOKMARK) {
    inf->stats.bookmarks++;
  } else {
    inf->stats.events++;
    berth__k8s_informer_apply(inf, type, obj);
  }
  set_rv(inf, berth_k8s_obj_resource_version(obj));
  pthread_mutex_unlock(&inf->lock);
  w->events++;
  return inf->stopping ? BERTH_ECANCELED : BERTH_OK;
}

static void *watcher_main(void *arg)
{
  berth_k8s_informer_t *inf = arg;
  const berth_rand_t *rnd = berth__k8s_client_rand(inf->client);
  berth_k8s_watch_options_t wo;
  watch_state_t ws;
  berth_error_t err;
  bool need_list = true;
  unsigned attempt = 0;
  char rv[64];
  int64_t started;
  berth_status_t st;

  while (!inf->stopping) {
    if (need_list) {
      st = list_into_cache(inf, &err);
      if (st != BERTH_OK) {
        berth_log(BERTH_LOG_WARN, "k8s informer: list failed, retrying",
                  "resource", inf->res.resource, "error", err.message, NULL);
        if (pause_ms(inf, berth_backoff_full_jitter(rnd, BACKOFF_BASE_MS,
                                                    BACKOFF_CAP_MS, attempt++)))
          break;
        continue;
      }
      need_list = false;
      attempt = 0;
    }
    pthread_mutex_lock(&inf->lock);
    memcpy(rv, inf->rv, sizeof(rv));
    inf->stats.watches++;
    pthread_mutex_unlock(&inf->lock);
    memset(&wo, 0, sizeof(wo));
    wo.resource_version = rv;
    wo.label_selector = inf->label_selector;
    wo.field_selector = inf->field_selector;
    wo.allow_bookmarks = true;
    /* client-go's reflector: a random timeout in [min, 2*min) spreads the
     * reconnections of many clients. */
    wo.timeout_seconds = inf->watch_timeout_s > 0
                             ? inf->watch_timeout_s
                             : 300 + (long)berth_rand_below(rnd, 300);
    wo.idle_timeout_ms = inf->idle_timeout_ms;
    wo.cancel = &inf->stopping;
    /* Each batch of events is decoded in a decode arena; apply() keeps
     * nothing of it but what the cache and queue copy to malloc's heap. */
    wo.decode_arena = inf->compact;
    /* A transform keeps what its controller reads, never the server-side
     * apply bookkeeping: not parsing it halves the decoding of a real
     * server's events (bench/informer). */
    wo.drop_managed_fields = inf->transform != NULL;
    ws.inf = inf;
    ws.events = 0;
    started = berth_clock_monotonic_ms(NULL);
    st = berth_k8s_watch(inf->client, &inf->res, inf->ns, &wo, on_event, &ws,
                         &err);
    if (inf->stopping)
      break;
    if (st == BERTH_OK &&
        (ws.events > 0 || berth_clock_monotonic_ms(NULL) - started >= 1000)) {
      attempt = 0; /* the server ended the watch: open the next one */
      continue;
    }
    if (st == BERTH_OK) {
      /* As client-go's reflector: a watch closed within a second with
       * nothing in it is a failure, and is retried after a back-off. */
      st = berth_error_set(&err, BERTH_ETRANSPORT,
                           "watch closed at once without events");
    }
    pthread_mutex_lock(&inf->lock);
    inf->stats.watch_errors++;
    pthread_mutex_unlock(&inf->lock);
    if (st == BERTH_EGONE) {
      /* Our version left the server's history: list again and deliver
       * what changed meanwhile. */
      berth_log(BERTH_LOG_INFO, "k8s informer: watch expired, relisting",
                "resource", inf->res.resource, "error", err.message, NULL);
      pthread_mutex_lock(&inf->lock);
      inf->stats.relists++;
      pthread_mutex_unlock(&inf->lock);
      need_list = true;
      continue;
    }
    if (ws.events > 0)
      attempt = 0;
    berth_log(BERTH_LOG_DEBUG, "k8s informer: watch ended, resuming",
              "resource", inf->res.resource, "error", err.message, NULL);
    if (pause_ms(inf, berth_backoff_full_jitter(rnd, BACKOFF_BASE_MS,
                                                BACKOFF_CAP_MS, attempt++)))
      break;
  }
  return NULL;
}

static bool dup_opt(const char *s, char **dst)
{
  return berth__k8s_dup(s != NULL && s[0] != '\0' ? s : NULL, dst);
}

berth_status_t
berth_k8s_informer_create(berth_k8s_client_t *client,
                          const berth_k8s_informer_options_t *opts,
                          const berth_k8s_informer_handlers_t *handlers,
                          berth_k8s_informer_t **out, berth_error_t *err)
{
  berth_k8s_informer_t *inf = NULL;
  pthread_condattr_t ca;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (client == NULL || opts == NULL || opts->resource == NULL || out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "k8s informer: client and resource are required");
    goto done;
  }
  inf = calloc(1, sizeof(*inf));
  if (inf == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  pthread_mutex_init(&inf->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&inf->cond, &ca);
  pthread_condattr_destroy(&ca);
  inf->client = client;
  inf->res = *opts->resource;
  inf->page_size = opts->page_size > 0 ? opts->page_size : DEFAULT_PAGE;
  inf->resync_ms = opts->resync_ms > 0 ? opts->resync_ms : 0;
  inf->watch_timeout_s = opts->watch_timeout_s;
  inf->idle_timeout_ms =
      opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : DEFAULT_IDLE_MS;
  if (handlers != NULL)
    inf->h = *handlers;
  inf->transform = opts->transform;
  inf->transform_ctx = opts->transform_ctx;
  inf->compact = opts->compact;
  if (!dup_opt(opts->resource->namespaced ? opts->namespace_name : NULL,
               &inf->ns) ||
      !dup_opt(opts->label_selector, &inf->label_selector) ||
      !dup_opt(opts->field_selector, &inf->field_selector) ||
      berth__k8s_cache_create(opts->index_labels, opts->compact, &inf->cache) !=
          BERTH_OK) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  *out = inf;
  inf = NULL;

done:
  berth_k8s_informer_destroy(inf);
  return st;
}

berth_status_t berth_k8s_informer_add_index(berth_k8s_informer_t *inf,
                                            const char *name,
                                            berth_k8s_index_fn fn, void *ctx,
                                            berth_error_t *err)
{
  berth_status_t st;

  berth_error_clear(err);
  if (inf->started)
    return berth_error_set(err, BERTH_EINVAL,
                           "k8s informer: indexes must be added before start");
  st = berth__k8s_cache_add_index(inf->cache, name, fn, ctx);
  if (st != BERTH_OK)
    berth_error_set(err, st, "k8s informer: cannot add index \"%s\": %s",
                    name != NULL ? name : "", berth_strerror(st));
  return st;
}

berth_status_t berth_k8s_informer_start(berth_k8s_informer_t *inf,
                                        berth_error_t *err)
{
  berth_error_clear(err);
  if (inf->started)
    return berth_error_set(err, BERTH_EINVAL, "k8s informer: already started");
  inf->started = true;
  if (pthread_create(&inf->dispatcher, NULL, berth__k8s_informer_dispatch,
                     inf) != 0)
    return berth_error_set(err, BERTH_ENOMEM,
                           "k8s informer: cannot start a thread");
  if (pthread_create(&inf->watcher, NULL, watcher_main, inf) != 0) {
    pthread_mutex_lock(&inf->lock);
    inf->stopping = 1;
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->lock);
    pthread_join(inf->dispatcher, NULL);
    return berth_error_set(err, BERTH_ENOMEM,
                           "k8s informer: cannot start a thread");
  }
  inf->threads_running = true;
  return BERTH_OK;
}

bool berth_k8s_informer_has_synced(berth_k8s_informer_t *inf)
{
  bool s;

  pthread_mutex_lock(&inf->lock);
  s = inf->synced;
  pthread_mutex_unlock(&inf->lock);
  return s;
}

bool berth_k8s_informer_wait_for_sync(berth_k8s_informer_t *inf,
                                      int64_t timeout_ms)
{
  struct timespec ts;
  bool s;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  if (timeout_ms >= 0) {
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&inf->lock);
  while (!inf->synced && !inf->stopping) {
    if (timeout_ms < 0)
      pthread_cond_wait(&inf->cond, &inf->lock);
    else if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) != 0)
      break;
  }
  s = inf->synced;
  pthread_mutex_unlock(&inf->lock);
  return s;
}

void berth_k8s_informer_stop(berth_k8s_informer_t *inf)
{
  if (inf == NULL)
    return;
  pthread_mutex_lock(&inf->lock);
  inf->stopping = 1;
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->lock);
  if (inf->threads_running) {
    pthread_join(inf->watcher, NULL);
    pthread_join(inf->dispatcher, NULL);
    inf->threads_running = false;
  }
  berth__k8s_informer_drop_queue(inf);
}

void berth_k8s_informer_destroy(berth_k8s_informer_t *inf)
{
  if (inf == NULL)
    return;
  berth_k8s_informer_stop(inf);
  berth__k8s_cache_destroy(inf->cache);
  free(inf->ns);
  free(inf->label_selector);
  free(inf->field_selector);
  pthread_cond_destroy(&inf->cond);
  pthread_mutex_destroy(&inf->lock);
  free(inf);
}

/* ---- Cache reads ------------------------------------------------------- */

json_t *berth_k8s_informer_get(berth_k8s_informer_t *inf, const char *ns,
                               const char *name)
{
  char *key;
  json_t *obj;

  if (name == NULL)
    return NULL;
  key = ns != NULL && ns[0] != '\0' ? berth_strdup_printf("%s/%s", ns, name)
                                    : strdup(name);
  if (key == NULL)
    return NULL;
  pthread_mutex_lock(&inf->lock);
  obj = berth__k8s_cache_get(inf->cache, key);
  pthread_mutex_unlock(&inf->lock);
  free(key);
  return obj;
}

bool berth_k8s_informer_has(berth_k8s_informer_t *inf, const char *ns,
                            const char *name)
{
  char *key;
  bool has;

  if (name == NULL)
    return false;
  key = ns != NULL && ns[0] != '\0' ? berth_strdup_printf("%s/%s", ns, name)
                                    : strdup(name);
  if (key == NULL)
    return false;
  pthread_mutex_lock(&inf->lock);
  has = berth__k8s_cache_has(inf->cache, key);
  pthread_mutex_unlock(&inf->lock);
  free(key);
  return has;
}

json_t *berth_k8s_informer_list(berth_k8s_informer_t *inf)
{
  json_t *out;

  pthread_mutex_lock(&inf->lock);
  out = berth__k8s_cache_list(inf->cache);
  pthread_mutex_unlock(&inf->lock);
  return berth__k8s_cache_decode(inf->compact, out);
}

berth_status_t berth_k8s_informer_each(berth_k8s_informer_t *inf,
                                       bool (*fn)(void *ctx, json_t *obj),
                                       void *ctx)
{
  json_t *keys;
  json_t *k;
  json_t *obj;
  bool more = true;
  size_t i;

  pthread_mutex_lock(&inf->lock);
  keys = berth__k8s_cache_keys(inf->cache);
  pthread_mutex_unlock(&inf->lock);
  if (keys == NULL)
    return BERTH_ENOMEM;
  for (i = 0; more && i < json_array_size(keys); i++) {
    k = json_array_get(keys, i);
    pthread_mutex_lock(&inf->lock);
    obj = berth__k8s_cache_get(inf->cache, json_string_value(k));
    pthread_mutex_unlock(&inf->lock);
    if (obj != NULL)
      more = fn(ctx, obj);
    json_decref(obj);
  }
  json_decref(keys);
  return BERTH_OK;
}

json_t *berth_k8s_informer_by_label(berth_k8s_informer_t *inf, const char *key,
                                    const char *value)
{
  json_t *out;

  if (key == NULL || value == NULL)
    return NULL;
  pthread_mutex_lock(&inf->lock);
  out = berth__k8s_cache_by_label(inf->cache, key, value);
  pthread_mutex_unlock(&inf->lock);
  return berth__k8s_cache_decode(inf->compact, out);
}

json_t *berth_k8s_informer_by_index(berth_k8s_informer_t *inf, const char *name,
                                    const char *value)
{
  json_t *out;

  if (name == NULL || value == NULL)
    return NULL;
  pthread_mutex_lock(&inf->lock);
  out = berth__k8s_cache_by_index(inf->cache, name, value);
  pthread_mutex_unlock(&inf->lock);
  return berth__k8s_cache_decode(inf->compact, out);
}

json_t *berth_k8s_informer_index_values(berth_k8s_informer_t *inf,
                                        const char *name)
{
  json_t *out;

  if (name == NULL)
    return NULL;
  pthread_mutex_lock(&inf->lock);
  out = berth__k8s_cache_index_values(inf->cache, name);
  pthread_mutex_unlock(&inf->lock);
  return out;
}

size_t berth_k8s_informer_count(berth_k8s_informer_t *inf)
{
  size_t n;

  pthread_mutex_lock(&inf->lock);
  n = berth__k8s_cache_count(inf->cache);
  pthread_mutex_unlock(&inf->lock);
  return n;
}

void berth_k8s_informer_resource_version(berth_k8s_informer_t *inf, char *out,
                                         size_t outsize)
{
  pthread_mutex_lock(&inf->lock);
  berth_strlcpy(out, inf->rv, outsize);
  pthread_mutex_unlock(&inf->lock);
}

void berth_k8s_informer_get_stats(berth_k8s_informer_t *inf,
                                  berth_k8s_informer_stats_t *out)
{
  pthread_mutex_lock(&inf->lock);
  *out = inf->stats;
  pthread_mutex_unlock(&inf->lock);
}
