/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the controller's life cycle: informers, their
 * handlers (which only queue keys), the workers, the drain, and the
 * scrape-time gauges. The state machines are in reconcile_claim.c and
 * reconcile_volume.c. */
#include "controller_int.h"

#include "backends/backend.h"
#include "claim.h"
#include "memory.h"
#include "pv.h"

#include "berth/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The informers resync every 10 minutes, as a net under lost events. */
#define RESYNC_MS (10 * 60 * 1000)
/* Objects per list page. A page is decoded whole before the transform
 * drops what is not ours: 500 claims or PVs of a real cluster (with
 * managedFields and kubectl's last-applied copy) are about 10 MB decoded,
 * and the claims' and PVs' informers list side by side. 100 keeps that
 * peak, and the heap it fragments, a fifth as large for a few more
 * requests (bench/scale). */
#define LIST_PAGE 100
#define EVENT_QUEUE 8192
#define EVENT_FLUSH_MS 5000

double prov_seconds_since(int64_t start_ms)
{
  return (double)(berth_clock_monotonic_ms(NULL) - start_ms) / 1000.0;
}

bool prov_active(prov_controller_t *c)
{
  return atomic_load(&c->active);
}

static void done_key(char kind, const char *uid, char *key, size_t size)
{
  snprintf(key, size, "%c:%s", kind, uid);
}

bool prov_done_has(prov_controller_t *c, char kind, const char *uid)
{
  char key[160];
  bool has;

  if (uid == NULL)
    return false;
  done_key(kind, uid, key, sizeof(key));
  pthread_mutex_lock(&c->lock);
  has = prov_map_has(&c->done, key);
  pthread_mutex_unlock(&c->lock);
  return has;
}

void prov_done_add(prov_controller_t *c, char kind, const char *uid)
{
  char key[160];

  if (uid == NULL)
    return;
  done_key(kind, uid, key, sizeof(key));
  pthread_mutex_lock(&c->lock);
  prov_map_put(&c->done, key, NULL);
  pthread_mutex_unlock(&c->lock);
}

void prov_done_remove(prov_controller_t *c, char kind, const char *uid)
{
  char key[160];

  if (uid == NULL)
    return;
  done_key(kind, uid, key, sizeof(key));
  pthread_mutex_lock(&c->lock);
  prov_map_remove(&c->done, key);
  pthread_mutex_unlock(&c->lock);
}

void prov_enqueue_claim(prov_controller_t *c, const char *ns, const char *name)
{
  char key[512];

  if (ns == NULL || name == NULL)
    return;
  snprintf(key, sizeof(key), "c/%s/%s", ns, name);
  prov_queue_add(c->queue, key);
}

void prov_enqueue_volume(prov_controller_t *c, const char *name)
{
  char key[512];

  if (name == NULL)
    return;
  snprintf(key, sizeof(key), "v/%s", name);
  prov_queue_add(c->queue, key);
}

/* ---- handlers: cheap filters, then a key in the queue ------------------ */

static void claim_changed(void *ctx, json_t *obj)
{
  prov_controller_t *c = ctx;
  bool guarded = prov_obj_has_finalizer(obj, PROV_CLAIM_FINALIZER);
  /* Bound claims of ours too: a grown request is the resizer's. */
  bool wanted =
      prov_provisioners_find(c->provs, prov_claim_provisioner(obj)) != NULL;

  if (guarded || wanted)
    prov_enqueue_claim(c, berth_k8s_obj_namespace(obj),
                       berth_k8s_obj_name(obj));
}

static void claim_added(void *ctx, json_t *obj)
{
  claim_changed(ctx, obj);
}

/* A copy of obj without what our own writes change (finalizers) and what
 * every write changes (resourceVersion, managedFields); NULL when out of
 * memory. */
static json_t *strip_own_writes(const json_t *obj)
{
  json_t *copy = json_deep_copy(obj);
  json_t *meta = json_object_get(copy, "metadata");

  json_object_del(meta, "finalizers");
  json_object_del(meta, "resourceVersion");
  json_object_del(meta, "managedFields");
  return copy;
}

/* true when an update is only a finalizer change: our guard going on or
 * off. Such an update must not bring the claim back before its backoff
 * (a refused claim would otherwise loop on its own writes). A resync
 * (same resourceVersion) always counts. */
static bool only_finalizers(const json_t *old_obj, const json_t *new_obj)
{
  const char *a = berth_k8s_obj_resource_version(old_obj);
  const char *b = berth_k8s_obj_resource_version(new_obj);
  json_t *x;
  json_t *y;
  bool same;

  if (a == NULL || b == NULL || strcmp(a, b) == 0)
    return false;
  x = strip_own_writes(old_obj);
  y = strip_own_writes(new_obj);
  same = x != NULL && y != NULL && json_equal(x, y);
  json_decref(x);
  json_decref(y);
  return same;
}

static void claim_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  if (!only_finalizers(old_obj, new_obj))
    claim_changed(ctx, new_obj);
}

static void claim_deleted(void *ctx, json_t *obj)
{
  prov_done_remove(ctx, 'c', berth_k8s_obj_uid(obj));
  prov_done_remove(ctx, 'g', berth_k8s_obj_uid(obj));
  /* Deleted while its storage may exist without a PV: the sync finds the
   * held copy and removes the storage. */
  if (prov_inflight_has(ctx, obj))
    prov_enqueue_claim(ctx, berth_k8s_obj_namespace(obj),
                       berth_k8s_obj_name(obj));
}

static void volume_changed(void *ctx, json_t *obj)
{
  prov_controller_t *c = ctx;

  if (prov_volume_backend(c, obj) != NULL)
    prov_enqueue_volume(c, berth_k8s_obj_name(obj));
}

static void volume_added(void *ctx, json_t *obj)
{
  volume_changed(ctx, obj);
}

static void volume_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  volume_changed(ctx, new_obj);
}

static void volume_deleted(void *ctx, json_t *obj)
{
  prov_controller_t *c = ctx;

  prov_metrics_usage_forget(c->metrics, berth_k8s_obj_name(obj));
  prov_done_remove(c, 'v', berth_k8s_obj_uid(obj));
  prov_done_remove(c, 'f', berth_k8s_obj_uid(obj));
}

/* A class of ours appeared: another tool's PVs of that class may be ours
 * now (--adopt-provisioner), even if they were seen before the class. */
static void adopt_class_volumes(prov_controller_t *c, const char *cls)
{
  json_t *pvs = berth_k8s_informer_by_index(c->volumes, PROV_INDEX_CLASS, cls);
  json_t *pv;
  size_t i;

  json_array_foreach(pvs, i, pv)
  {
    volume_changed(c, pv);
  }
  json_decref(pvs);
}

typedef struct class_walk {
  prov_controller_t *c;
  const char *name;
} class_walk_t;

static bool class_claim(void *ctx, json_t *claim)
{
  class_walk_t *w = ctx;
  const char *cls = prov_claim_class(claim);

  if (cls != NULL && strcmp(cls, w->name) == 0)
    claim_changed(w->c, claim);
  return true;
}

/* A class of ours appeared or changed: its waiting claims get a go (the
 * claims decoded one at a time). */
static void class_changed(void *ctx, json_t *obj)
{
  prov_controller_t *c = ctx;
  const char *name = berth_k8s_obj_name(obj);
  class_walk_t w = {c, name};

  if (prov_provisioners_find(c->provs, prov_class_provisioner(obj)) == NULL ||
      name == NULL)
    return;
  /* Its counters exist from now on, at 0: a rate() sees the first
   * failure too (a series born at 1 shows no increase). */
  prov_metrics_class_init(c->metrics, name);
  if (berth_k8s_informer_each(c->claims, class_claim, &w) != BERTH_OK)
    berth_log(BERTH_LOG_ERROR,
              "out of memory: the class's claims wait for "
              "the resync",
              "class", name, NULL);
  if (prov_volume_adoption(c))
    adopt_class_volumes(c, name);
}

static void class_updated(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  class_changed(ctx, new_obj);
}

static berth_status_t index_by_class_gid(void *ctx, const json_t *obj,
                                         berth_k8s_index_values_t *values)
{
  char value[512];

  (void)ctx;
  if (!prov_pv_class_gid_key(obj, value, sizeof(value)))
    return BERTH_OK;
  return berth_k8s_index_values_add(values, value);
}

static berth_status_t index_by_class(void *ctx, const json_t *obj,
                                     berth_k8s_index_values_t *values)
{
  const char *cls = json_string_value(
      json_object_get(json_object_get(obj, "spec"), "storageClassName"));

  (void)ctx;
  return cls != NULL ? berth_k8s_index_values_add(values, cls) : BERTH_OK;
}

/* ---- life cycle ------------------------------------------------------- */

static bool trim_is_ours(void *ctx, const char *name)
{
  prov_controller_t *c = ctx;

  return name != NULL && prov_provisioners_find(c->provs, name) != NULL;
}

static bool trim_is_adopted(void *ctx, const char *name)
{
  return prov_volume_adopted_name(ctx, name);
}

/* The PV informer's transform reads the claims' cache; the claims'
 * transform never reads the PVs', so the two locks never cross. */
static bool trim_claim_cached(void *ctx, const char *ns, const char *name)
{
  prov_controller_t *c = ctx;

  return c->claims != NULL && berth_k8s_informer_has(c->claims, ns, name);
}

/* Every informer keeps only what the controller reads (trim.h), as text
 * (compact): the memory goes to the claims and PVs that are ours. */
static berth_status_t make_informer(prov_controller_t *c,
                                    const berth_k8s_resource_t *res,
                                    const berth_k8s_informer_handlers_t *h,
                                    berth_k8s_transform_fn transform,
                                    berth_k8s_informer_t **out,
                                    berth_error_t *err)
{
  berth_k8s_informer_options_t o;

  memset(&o, 0, sizeof(o));
  o.resource = res;
  o.resync_ms = RESYNC_MS;
  o.page_size = LIST_PAGE;
  o.transform = transform;
  o.transform_ctx = &c->trim;
  o.compact = true;
  return berth_k8s_informer_create(c->client, &o, h, out, err);
}

static berth_status_t make_informers(prov_controller_t *c, berth_error_t *err)
{
  berth_k8s_informer_handlers_t hc = {claim_added, claim_updated, claim_deleted,
                                      c};
  berth_k8s_informer_handlers_t hv = {volume_added, volume_updated,
                                      volume_deleted, c};
  berth_k8s_informer_handlers_t hs = {class_changed, class_updated, NULL, c};
  berth_status_t st;

  c->trim.is_ours = trim_is_ours;
  c->trim.claim_cached = trim_claim_cached;
  c->trim.is_adopted = trim_is_adopted;
  c->trim.ctx = c;
  st = make_informer(c, &berth_k8s_res_persistentvolumeclaims, &hc,
                     prov_trim_claim, &c->claims, err);
  if (st == BERTH_OK)
    st = make_informer(c, &berth_k8s_res_persistentvolumes, &hv,
                       prov_trim_volume, &c->volumes, err);
  if (st == BERTH_OK)
    st = berth_k8s_informer_add_index(c->volumes, PROV_INDEX_CLASS_GID,
                                      index_by_class_gid, NULL, err);
  if (st == BERTH_OK)
    st = berth_k8s_informer_add_index(c->volumes, PROV_INDEX_CLASS,
                                      index_by_class, NULL, err);
  if (st == BERTH_OK)
    st = make_informer(c, &berth_k8s_res_storageclasses, &hs, prov_trim_class,
                       &c->classes, err);
  return st;
}

berth_status_t
prov_controller_create(const prov_options_t *opt, berth_k8s_client_t *client,
                       prov_provisioners_t *provs, prov_metrics_t *metrics,
                       prov_controller_t **out, berth_error_t *err)
{
  prov_controller_t *c = calloc(1, sizeof(*c));
  berth_status_t st;

  if (c == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  c->opt = opt;
  c->pv_finalizer = true;
  c->client = client;
  c->provs = provs;
  c->metrics = metrics;
  atomic_init(&c->active, true);
  atomic_init(&c->running, false);
  atomic_init(&c->volumes_started, false);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->idle, NULL);
  prov_map_init(&c->done);
  prov_map_init(&c->inflight);
  st = prov_queue_create(NULL, &c->queue);
  if (st != BERTH_OK)
    berth_error_set(err, st, "out of memory");
  if (st == BERTH_OK)
    st = prov_events_create(
        client, "berth-provisioner", EVENT_QUEUE,
        opt->qps > 0 ? opt->qps : BERTH_K8S_DEFAULT_QPS,
        opt->burst > 0 ? opt->burst : BERTH_K8S_DEFAULT_BURST, &c->events, err);
  if (st == BERTH_OK)
    st = make_informers(c, err);
  if (st != BERTH_OK) {
    prov_controller_destroy(c);
    return st;
  }
  *out = c;
  return BERTH_OK;
}

berth_status_t prov_controller_start_informers(prov_controller_t *c,
                                               berth_error_t *err)
{
  berth_status_t st;

  /* Classes first: claims that arrive find their class cached. The PVs
   * come once the claims are cached (prov_controller_synced), so that
   * their transform knows which claims are ours. */
  st = berth_k8s_informer_start(c->classes, err);
  if (st == BERTH_OK)
    st = berth_k8s_informer_start(c->claims, err);
  return st;
}

bool prov_controller_synced(prov_controller_t *c)
{
  berth_error_t err;

  if (!berth_k8s_informer_has_synced(c->claims))
    return false;
  /* Any thread may ask (the main loop, /readyz): one of them starts it. */
  if (!atomic_exchange(&c->volumes_started, true) &&
      berth_k8s_informer_start(c->volumes, &err) != BERTH_OK) {
    berth_log(BERTH_LOG_ERROR, "cannot start the PV informer", "error",
              err.message, NULL);
    return false;
  }
  return berth_k8s_informer_has_synced(c->classes) &&
         berth_k8s_informer_has_synced(c->volumes);
}

/* One key: the claim or volume state machine, then the queue's verdict. */
static void work(prov_controller_t *c, const char *key)
{
  prov_result_t r = PROV_DONE;
  char buf[512];
  char *slash;

  if (strncmp(key, "c/", 2) == 0) {
    berth_strlcpy(buf, key + 2, sizeof(buf));
    slash = strchr(buf, '/');
    if (slash != NULL) {
      *slash = '\0';
      r = prov_sync_claim(c, buf, slash + 1);
    }
  } else if (strncmp(key, "v/", 2) == 0) {
    r = prov_sync_volume(c, key + 2);
  }
  if (!prov_active(c))
    return;
  if (r == PROV_RETRY)
    prov_queue_add_rate_limited(c->queue, key, NULL);
  else
    prov_queue_forget(c->queue, key);
}

static void *worker(void *arg)
{
  prov_controller_t *c = arg;
  char *key;

  while (prov_active(c) && prov_queue_get(c->queue, &key)) {
    pthread_mutex_lock(&c->lock);
    c->busy_workers++;
    pthread_mutex_unlock(&c->lock);
    work(c, key);
    prov_queue_done(c->queue, key);
    free(key);
    pthread_mutex_lock(&c->lock);
    c->busy_workers--;
    pthread_cond_broadcast(&c->idle);
    pthread_mutex_unlock(&c->lock);
  }
  return NULL;
}

berth_status_t prov_controller_start_workers(prov_controller_t *c,
                                             berth_error_t *err)
{
  int n = c->opt->workers > 0 ? c->opt->workers : 1;
  int i;

  prov_api_probe_access(c);
  c->workers = calloc((size_t)n, sizeof(*c->workers));
  if (c->workers == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    if (pthread_create(&c->workers[i], NULL, worker, c) != 0)
      break;
    c->nworkers++;
  }
  if (c->nworkers == 0)
    return berth_error_set(err, BERTH_ENOMEM, "cannot start workers");
  if (c->opt->usage_interval_ms > 0)
    prov_usage_start(c, c->opt->usage_interval_ms, &c->usage);
  if (c->opt->sweep_interval_ms > 0)
    prov_sweep_start(c, c->opt->sweep_interval_ms, c->opt->sweep_grace_ms,
                     &c->sweep);
  atomic_store(&c->running, true);
  berth_log(BERTH_LOG_INFO, "controller running", "workers",
            c->nworkers == n ? "all" : "some", NULL);
  return BERTH_OK;
}

void prov_controller_deactivate(prov_controller_t *c)
{
  if (c != NULL)
    atomic_store(&c->active, false);
}

bool prov_controller_ready(prov_controller_t *c)
{
  return c != NULL && atomic_load(&c->running) && prov_controller_synced(c);
}

/* Wait (at most until deadline_ms) for the workers to put their keys
 * down. */
static void wait_idle(prov_controller_t *c, int64_t deadline_ms)
{
  struct timespec ts;

  pthread_mutex_lock(&c->lock);
  while (c->busy_workers > 0 && berth_clock_monotonic_ms(NULL) < deadline_ms) {
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->idle, &c->lock, &ts);
  }
  pthread_mutex_unlock(&c->lock);
}

void prov_controller_stop(prov_controller_t *c, int64_t drain_ms)
{
  char n[16];
  int busy;
  int i;

  if (c == NULL || c->stopped)
    return;
  c->stopped = true;
  prov_queue_shutdown(c->queue);
  wait_idle(c, berth_clock_monotonic_ms(NULL) + drain_ms);
  /* Whatever is still running after the drain must not write any more. */
  atomic_store(&c->active, false);
  pthread_mutex_lock(&c->lock);
  busy = c->busy_workers;
  pthread_mutex_unlock(&c->lock);
  if (busy > 0) {
    /* Said after the store: from this line on nothing in flight is saved
     * (the claims' next leader repairs them). */
    snprintf(n, sizeof(n), "%d", busy);
    berth_log(BERTH_LOG_WARN,
              "drain timed out; work in flight will not be saved", "workers", n,
              NULL);
  }
  for (i = 0; i < c->nworkers; i++)
    pthread_join(c->workers[i], NULL);
  prov_usage_stop(c->usage);
  c->usage = NULL;
  prov_sweep_stop(c->sweep);
  c->sweep = NULL;
  prov_events_destroy(c->events, EVENT_FLUSH_MS);
  c->events = NULL;
  berth_k8s_informer_stop(c->claims);
  berth_k8s_informer_stop(c->volumes);
  berth_k8s_informer_stop(c->classes);
}

void prov_controller_destroy(prov_controller_t *c)
{
  if (c == NULL)
    return;
  prov_controller_stop(c, 0);
  berth_k8s_informer_destroy(c->claims);
  berth_k8s_informer_destroy(c->volumes);
  berth_k8s_informer_destroy(c->classes);
  prov_queue_destroy(c->queue);
  prov_map_cleanup(&c->done);
  prov_inflight_cleanup(c);
  free(c->workers);
  pthread_cond_destroy(&c->idle);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* ---- memory ------------------------------------------------------------ */

void prov_controller_release_memory(prov_controller_t *c)
{
  berth_k8s_informer_t *infs[] = {c->claims, c->volumes, c->classes};
  berth_k8s_informer_stats_t s;
  prov_queue_stats_t q;
  uint64_t work;
  size_t i;

  prov_queue_get_stats(c->queue, &q);
  work = q.adds + q.retries;
  for (i = 0; i < sizeof(infs) / sizeof(infs[0]); i++) {
    berth_k8s_informer_get_stats(infs[i], &s);
    work += s.lists + s.events;
  }
  prov_memory_maybe_trim(&c->trim_state, work, q.ready + q.processing > 0,
                         berth_clock_monotonic_ms(NULL));
}

/* ---- scrape-time gauges ------------------------------------------------ */

/* One family over the three informers: which = 0 objects, 1 lists,
 * 2 watches. */
/* The work queue's name in the workqueue_* metrics. */
#define PROV_WORKQUEUE_NAME "berth-provisioner"

static void informer_family(prov_controller_t *c, berth_buf_t *out, int which)
{
  static const char *const names[] = {"objects", "lists_total",
                                      "watches_total"};
  static const char *const types[] = {"gauge", "counter", "counter"};
  static const char *const helps[] = {
      "Objects in the informer's cache.",
      "Lists the informer made (the first, and after 410 Gone).",
      "Watches the informer opened."};
  berth_k8s_informer_t *infs[] = {c->claims, c->volumes, c->classes};
  const char *res[] = {"persistentvolumeclaims", "persistentvolumes",
                       "storageclasses"};
  berth_k8s_informer_stats_t s;
  unsigned long long v;
  int i;

  berth_buf_appendf(out,
                    "# HELP berth_provisioner_informer_%s %s\n"
                    "# TYPE berth_provisioner_informer_%s %s\n",
                    names[which], helps[which], names[which], types[which]);
  for (i = 0; i < 3; i++) {
    berth_k8s_informer_get_stats(infs[i], &s);
    v = which == 0   ? (unsigned long long)berth_k8s_informer_count(infs[i])
        : which == 1 ? (unsigned long long)s.lists
                     : (unsigned long long)s.watches;
    berth_buf_appendf(out,
                      "berth_provisioner_informer_%s{resource=\"%s\"} %llu\n",
                      names[which], res[i], v);
  }
}

static void workqueue_hist(berth_buf_t *out, const char *name, const char *help,
                           const prov_queue_hist_t *h)
{
  uint64_t cum = 0;
  size_t b;

  berth_buf_appendf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
                    name);
  for (b = 0; b < PROV_QUEUE_NBUCKETS; b++) {
    cum += h->counts[b];
    berth_buf_appendf(out, "%s_bucket{name=\"%s\",le=\"%g\"} %llu\n", name,
                      PROV_WORKQUEUE_NAME, prov_queue_bucket_le[b],
                      (unsigned long long)cum);
  }
  berth_buf_appendf(out,
                    "%s_bucket{name=\"%s\",le=\"+Inf\"} %llu\n"
                    "%s_sum{name=\"%s\"} %.6f\n%s_count{name=\"%s\"} %llu\n",
                    name, PROV_WORKQUEUE_NAME, (unsigned long long)h->count,
                    name, PROV_WORKQUEUE_NAME, h->sum, name,
                    PROV_WORKQUEUE_NAME, (unsigned long long)h->count);
}

/* creationTimestamp ("2026-12-06T07:45:28Z", as the API server writes
 * it) in seconds since the epoch, or -1. */
static int64_t created_s(const json_t *obj)
{
  const char *ts = json_string_value(
      json_object_get(json_object_get(obj, "metadata"), "creationTimestamp"));
  struct tm tm;
  char z = '\0';

  memset(&tm, 0, sizeof(tm));
  if (ts == NULL ||
      sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 ||
      z != 'Z')
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm);
}

typedef struct pending {
  char cls[254]; /* a class name: a DNS subdomain, at most 253 */
  unsigned long n;
  int64_t oldest_s;
} pending_t;

/* Our claims that are not Bound yet, by class (at most 64 classes: more
 * than anyone has, the first 64 tell enough). */
typedef struct pending_walk {
  prov_controller_t *c;
  pending_t p[64];
  size_t np;
  int64_t now;
} pending_walk_t;

static bool pending_one(void *ctx, json_t *cl)
{
  pending_walk_t *w = ctx;
  const char *phase = json_string_value(
      json_object_get(json_object_get(cl, "status"), "phase"));
  const char *cls = prov_claim_class(cl);
  int64_t t;
  size_t k;

  if (phase == NULL || strcmp(phase, "Pending") != 0 || cls == NULL ||
      prov_provisioners_find(w->c->provs, prov_claim_provisioner(cl)) == NULL)
    return true;
  for (k = 0; k < w->np && strcmp(w->p[k].cls, cls) != 0; k++)
    ;
  if (k == w->np && w->np == sizeof(w->p) / sizeof(w->p[0]))
    return true;
  if (k == w->np) {
    memset(&w->p[k], 0, sizeof(w->p[k]));
    berth_strlcpy(w->p[k].cls, cls, sizeof(w->p[k].cls));
    w->np++;
  }
  w->p[k].n++;
  t = created_s(cl);
  if (t > 0 && w->now - t > w->p[k].oldest_s)
    w->p[k].oldest_s = w->now - t;
  return true;
}

/* Our claims that are not Bound yet, by class: how many, and the age of
 * the oldest (the "claims pending too long" alert). The claims are
 * decoded one at a time (berth_k8s_informer_each): a scrape during a
 * burst of a thousand claims must not decode them all at once. */
static void pending_claims(prov_controller_t *c, berth_buf_t *out)
{
  pending_walk_t *w = calloc(1, sizeof(*w));
  pending_t *p;
  size_t np = 0;
  size_t k;

  if (w != NULL) {
    w->c = c;
    w->now = berth_clock_realtime_ms(NULL) / 1000;
    if (berth_k8s_informer_each(c->claims, pending_one, w) == BERTH_OK)
      np = w->np;
  }
  p = w != NULL ? w->p : NULL;
  berth_buf_append_str(out, "# HELP berth_provisioner_claims_pending Claims "
                            "of ours not Bound yet, by class.\n"
                            "# TYPE berth_provisioner_claims_pending gauge\n");
  for (k = 0; k < np; k++) {
    berth_buf_append_str(out, "berth_provisioner_claims_pending{class=\"");
    prov_metrics_escape(out, p[k].cls);
    berth_buf_appendf(out, "\"} %lu\n", p[k].n);
  }
  berth_buf_append_str(
      out, "# HELP berth_provisioner_claim_pending_oldest_seconds Age of the "
           "oldest claim of ours not Bound yet, by class.\n"
           "# TYPE berth_provisioner_claim_pending_oldest_seconds gauge\n");
  for (k = 0; k < np; k++) {
    berth_buf_append_str(
        out, "berth_provisioner_claim_pending_oldest_seconds{class=\"");
    prov_metrics_escape(out, p[k].cls);
    berth_buf_appendf(out, "\"} %lld\n", (long long)p[k].oldest_s);
  }
  free(w);
}

/* client-go's workqueue metrics, with its names and help texts, so that
 * the dashboards written for Kubernetes controllers read berth too. */
static void workqueue_families(berth_buf_t *out, const prov_queue_stats_t *q)
{
  berth_buf_appendf(
      out,
      "# HELP workqueue_depth Current depth of workqueue\n"
      "# TYPE workqueue_depth gauge\n"
      "workqueue_depth{name=\"%s\"} %zu\n"
      "# HELP workqueue_adds_total Total number of adds handled by "
      "workqueue\n"
      "# TYPE workqueue_adds_total counter\n"
      "workqueue_adds_total{name=\"%s\"} %llu\n"
      "# HELP workqueue_retries_total Total number of retries handled by "
      "workqueue\n"
      "# TYPE workqueue_retries_total counter\n"
      "workqueue_retries_total{name=\"%s\"} %llu\n"
      "# HELP workqueue_unfinished_work_seconds How many seconds of work "
      "has been done that is in progress and hasn't been observed by "
      "work_duration.\n"
      "# TYPE workqueue_unfinished_work_seconds gauge\n"
      "workqueue_unfinished_work_seconds{name=\"%s\"} %.3f\n"
      "# HELP workqueue_longest_running_processor_seconds How many seconds "
      "has the longest running processor for workqueue been running.\n"
      "# TYPE workqueue_longest_running_processor_seconds gauge\n"
      "workqueue_longest_running_processor_seconds{name=\"%s\"} %.3f\n",
      PROV_WORKQUEUE_NAME, q->ready, PROV_WORKQUEUE_NAME,
      (unsigned long long)q->adds, PROV_WORKQUEUE_NAME,
      (unsigned long long)q->retries, PROV_WORKQUEUE_NAME, q->unfinished_s,
      PROV_WORKQUEUE_NAME, q->longest_s);
  workqueue_hist(out, "workqueue_queue_duration_seconds",
                 "How long in seconds an item stays in workqueue before "
                 "being requested.",
                 &q->wait);
  workqueue_hist(out, "workqueue_work_duration_seconds",
                 "How long in seconds processing an item from workqueue "
                 "takes.",
                 &q->work);
}

void prov_controller_collect(void *ctx, berth_buf_t *out)
{
  prov_controller_t *c = ctx;
  prov_queue_stats_t q;
  prov_events_stats_t ev;

  if (c == NULL)
    return;
  prov_queue_get_stats(c->queue, &q);
  prov_events_get_stats(c->events, &ev);
  berth_buf_appendf(
      out,
      "# HELP berth_provisioner_queue_depth Keys ready for a worker.\n"
      "# TYPE berth_provisioner_queue_depth gauge\n"
      "berth_provisioner_queue_depth %zu\n"
      "# HELP berth_provisioner_queue_delayed Keys waiting for a backoff.\n"
      "# TYPE berth_provisioner_queue_delayed gauge\n"
      "berth_provisioner_queue_delayed %zu\n"
      "# HELP berth_provisioner_queue_in_flight Keys held by workers.\n"
      "# TYPE berth_provisioner_queue_in_flight gauge\n"
      "berth_provisioner_queue_in_flight %zu\n"
      "# HELP berth_provisioner_queue_retries_total Keys queued again "
      "after a failure.\n"
      "# TYPE berth_provisioner_queue_retries_total counter\n"
      "berth_provisioner_queue_retries_total %llu\n"
      "# HELP berth_provisioner_events_total Events on claims and volumes, "
      "by outcome.\n"
      "# TYPE berth_provisioner_events_total counter\n"
      "berth_provisioner_events_total{outcome=\"created\"} %llu\n"
      "berth_provisioner_events_total{outcome=\"aggregated\"} %llu\n"
      "berth_provisioner_events_total{outcome=\"dropped\"} %llu\n"
      "berth_provisioner_events_total{outcome=\"failed\"} %llu\n"
      "berth_provisioner_events_total{outcome=\"folded\"} %llu\n"
      "berth_provisioner_events_total{outcome=\"shed\"} %llu\n"
      "berth_provisioner_events_total{outcome=\"combined\"} %llu\n"
      "# HELP berth_provisioner_events_pending Events queued, not yet "
      "sent.\n"
      "# TYPE berth_provisioner_events_pending gauge\n"
      "berth_provisioner_events_pending %llu\n"
      "# HELP berth_provisioner_claims_in_flight Claims whose storage "
      "may exist without a saved PV.\n"
      "# TYPE berth_provisioner_claims_in_flight gauge\n"
      "berth_provisioner_claims_in_flight %zu\n",
      q.ready, q.delayed, q.processing, (unsigned long long)q.retries,
      (unsigned long long)ev.recorder.created,
      (unsigned long long)ev.recorder.aggregated,
      (unsigned long long)(ev.dropped + ev.recorder.dropped),
      (unsigned long long)ev.recorder.failed,
      (unsigned long long)ev.correlator.folded,
      (unsigned long long)ev.correlator.shed,
      (unsigned long long)ev.correlator.combined,
      (unsigned long long)ev.pending, prov_inflight_count(c));
  informer_family(c, out, 0);
  informer_family(c, out, 1);
  informer_family(c, out, 2);
  workqueue_families(out, &q);
  pending_claims(c, out);
  prov_memory_collect(out);
}
