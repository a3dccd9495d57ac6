/* SPDX-License-Identifier: Apache-2.0 */
/* The Event recorder: core/v1 Events with count aggregation and a spam
 * filter, as client-go's tools/record (events_cache.go). See
 * include/berth/k8s_events.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "berth/k8s_events.h"
#include "k8s_int.h"

#define DEFAULT_BURST 25
#define DEFAULT_QPS (1.0 / 300.0)
#define DEFAULT_CACHE 4096
#define MAX_MESSAGE 1024

/* An Event we created, for aggregation; and a spam-filter bucket. Both
 * live in small LRU tables searched linearly: events are rare. A key is
 * kept as the first KEY_BYTES of its SHA-256 (no two keys share one but
 * on purpose, and finding such a pair is SHA-256's collision problem):
 * a thousand claims' Events cost their table slots, not a few hundred
 * bytes of object, reason and message text each. */
#define KEY_BYTES 16

typedef struct {
  unsigned char key[KEY_BYTES];
  char *ev_ref; /* the Event's namespace, a NUL, its name */
  long long count;
  int64_t first_ms;
  int64_t used_ms;
} agg_t;

typedef struct {
  unsigned char key[KEY_BYTES];
  double tokens;
  int64_t last_ms;
  int64_t used_ms;
} bucket_t;

struct berth_k8s_recorder {
  berth_k8s_client_t *client;
  char *component;
  char *host;
  char *instance;
  double burst;
  double qps;
  size_t cap;
  const berth_clock_t *clock;
  pthread_mutex_t lock;
  agg_t *agg;
  size_t nagg;
  bucket_t *buckets;
  size_t nbuckets;
  uint64_t seq;
  berth_k8s_recorder_stats_t stats;
};

void berth_k8s_object_ref_from(const json_t *obj,
                               const berth_k8s_resource_t *res,
                               berth_k8s_object_ref_t *ref)
{
  memset(ref, 0, sizeof(*ref));
  if (res != NULL) {
    berth_k8s_resource_api_version(res, ref->buf, sizeof(ref->buf));
    ref->api_version = ref->buf;
    ref->kind = res->kind;
  } else {
    ref->api_version = json_string_value(json_object_get(obj, "apiVersion"));
    ref->kind = json_string_value(json_object_get(obj, "kind"));
  }
  ref->namespace_name = berth_k8s_obj_namespace(obj);
  ref->name = berth_k8s_obj_name(obj);
  ref->uid = berth_k8s_obj_uid(obj);
  ref->resource_version = berth_k8s_obj_resource_version(obj);
}

berth_status_t berth_k8s_recorder_create(berth_k8s_client_t *client,
                                         const berth_k8s_recorder_options_t *o,
                                         berth_k8s_recorder_t **out,
                                         berth_error_t *err)
{
  berth_k8s_recorder_t *r = NULL;
  const char *instance;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (client == NULL || o == NULL || o->component == NULL ||
      o->component[0] == '\0' || out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "k8s events: a client and a component are required");
    goto done;
  }
  r = calloc(1, sizeof(*r));
  if (r == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  pthread_mutex_init(&r->lock, NULL);
  r->client = client;
  r->burst = o->burst > 0 ? o->burst : DEFAULT_BURST;
  r->qps = o->qps > 0 ? o->qps : DEFAULT_QPS;
  r->cap = o->cache_size > 0 ? o->cache_size : DEFAULT_CACHE;
  r->clock = o->clock != NULL ? o->clock : berth_clock_system();
  instance = o->instance != NULL ? o->instance
             : o->host != NULL   ? o->host
                                 : o->component;
  r->agg = calloc(r->cap, sizeof(*r->agg));
  r->buckets = calloc(r->cap, sizeof(*r->buckets));
  if (r->agg == NULL || r->buckets == NULL ||
      !berth__k8s_dup(o->component, &r->component) ||
      !berth__k8s_dup(o->host, &r->host) ||
      !berth__k8s_dup(instance, &r->instance)) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  *out = r;
  r = NULL;

done:
  berth_k8s_recorder_destroy(r);
  return st;
}

void berth_k8s_recorder_destroy(berth_k8s_recorder_t *r)
{
  size_t i;

  if (r == NULL)
    return;
  for (i = 0; i < r->nagg; i++)
    free(r->agg[i].ev_ref);
  free(r->agg);
  free(r->buckets);
  free(r->component);
  free(r->host);
  free(r->instance);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

void berth_k8s_recorder_get_stats(berth_k8s_recorder_t *r,
                                  berth_k8s_recorder_stats_t *out)
{
  pthread_mutex_lock(&r->lock);
  *out = r->stats;
  pthread_mutex_unlock(&r->lock);
}

/* The slot for key in an LRU table of n entries (of size `size`, key first
 * and used_ms as given): the entry itself, a free slot, or the least
 * recently used one (whose key the caller frees). */
#define LRU_FIND(table, n, cap, k, out_idx, found)                             \
  do {                                                                         \
    size_t i_, lru_ = 0;                                                       \
    found = false;                                                             \
    for (i_ = 0; i_ < (n); i_++) {                                             \
      if (memcmp((table)[i_].key, (k), KEY_BYTES) == 0) {                      \
        found = true;                                                          \
        break;                                                                 \
      }                                                                        \
      if ((table)[i_].used_ms < (table)[lru_].used_ms)                         \
        lru_ = i_;                                                             \
    }                                                                          \
    out_idx = found ? i_ : (n) < (cap) ? (n) : lru_;                           \
  } while (0)

/* The table key of a key string: its SHA-256's first KEY_BYTES. */
static bool digest(const char *s, unsigned char out[KEY_BYTES])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 ||
      len < KEY_BYTES)
    return false;
  memcpy(out, md, KEY_BYTES);
  return true;
}

/* The spam filter: true when the object may have one more event now. */
static bool allow(berth_k8s_recorder_t *r, const unsigned char *key,
                  int64_t now)
{
  size_t i;
  bool found;
  bucket_t *b;

  LRU_FIND(r->buckets, r->nbuckets, r->cap, key, i, found);
  b = &r->buckets[i];
  if (!found) {
    if (i == r->nbuckets)
      r->nbuckets++;
    memcpy(b->key, key, KEY_BYTES);
    b->tokens = r->burst;
    b->last_ms = now;
  }
  b->used_ms = now;
  if (now > b->last_ms) {
    b->tokens += (double)(now - b->last_ms) * r->qps / 1000.0;
    if (b->tokens > r->burst)
      b->tokens = r->burst;
    b->last_ms = now;
  }
  if (b->tokens < 1.0)
    return false;
  b->tokens -= 1.0;
  return true;
}

static json_t *event_body(berth_k8s_recorder_t *r,
                          const berth_k8s_object_ref_t *ref, const char *ns,
                          const char *name, const char *type,
                          const char *reason, const char *message,
                          long long count, int64_t first_ms, int64_t now)
{
  char first[40];
  char last[40];
  json_t *involved;
  json_t *ev;

  berth__k8s_format_time(first_ms, first, sizeof(first));
  berth__k8s_format_time(now, last, sizeof(last));
  involved = json_object();
  if (involved == NULL)
    return NULL;
#define PUT(o, k, v)                                                           \
  do {                                                                         \
    if ((v) != NULL)                                                           \
      json_object_set_new((o), (k), json_string(v));                           \
  } while (0)
  PUT(involved, "apiVersion", ref->api_version);
  PUT(involved, "kind", ref->kind);
  PUT(involved, "namespace", ref->namespace_name);
  PUT(involved, "name", ref->name);
  PUT(involved, "uid", ref->uid);
  PUT(involved, "resourceVersion", ref->resource_version);
  ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:{s:s}, "
                 "s:s, s:s, s:I, s:s, s:s}",
                 "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
                 "namespace", ns, "involvedObject", involved, "reason", reason,
                 "message", message, "type", type, "source", "component",
                 r->component, "firstTimestamp", first, "lastTimestamp", last,
                 "count", (json_int_t)count, "reportingComponent", r->component,
                 "reportingInstance", r->instance);
  if (ev != NULL && r->host != NULL)
    json_object_set_new(json_object_get(ev, "source"), "host",
                        json_string(r->host));
#undef PUT
  return ev;
}

berth_status_t berth_k8s_record(berth_k8s_recorder_t *r,
                                const berth_k8s_object_ref_t *ref,
                                const char *type, const char *reason,
                                berth_error_t *err, const char *fmt, ...)
{
  char message[MAX_MESSAGE];
  char name[300];
  const char *ns;
  char *obj_key = NULL;
  char *key = NULL;
  unsigned char obj_md[KEY_BYTES];
  unsigned char key_md[KEY_BYTES];
  json_t *body = NULL;
  json_t *patch = NULL;
  va_list ap;
  int64_t now;
  size_t i;
  bool found;
  agg_t *a;
  long long count = 1;
  int64_t first_ms;
  char ts[40];
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (ref == NULL || ref->name == NULL || ref->kind == NULL || type == NULL ||
      reason == NULL || fmt == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "k8s events: object kind and name, type, reason "
                           "and message are required");
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  /* Events of cluster-scoped objects go to "default", as client-go does. */
  ns = ref->namespace_name != NULL && ref->namespace_name[0] != '\0'
           ? ref->namespace_name
           : "default";
  obj_key =
      berth_strdup_printf("%s\x1f%s\x1f%s\x1f%s\x1f%s", r->component, ref->kind,
                          ns, ref->name, ref->uid != NULL ? ref->uid : "");
  key = obj_key != NULL ? berth_strdup_printf("%s\x1f%s\x1f%s\x1f%s", obj_key,
                                              type, reason, message)
                        : NULL;
  if (key == NULL || !digest(obj_key, obj_md) || !digest(key, key_md)) {
    free(key);
    free(obj_key);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }

  pthread_mutex_lock(&r->lock);
  now = berth_clock_realtime_ms(r->clock);
  if (!allow(r, obj_md, now)) {
    r->stats.dropped++;
    st = berth_error_set(err, BERTH_ETHROTTLED,
                         "k8s events: too many events for %s %s/%s, dropped",
                         ref->kind, ns, ref->name);
    goto done;
  }
  LRU_FIND(r->agg, r->nagg, r->cap, key_md, i, found);
  a = &r->agg[i];
  first_ms = now;
  if (found) {
    /* A repeat: bump the existing Event (events_cache.go eventObserve). */
    count = a->count + 1;
    first_ms = a->first_ms;
    berth__k8s_format_time(now, ts, sizeof(ts));
    patch = json_pack("{s:I, s:s}", "count", (json_int_t)count, "lastTimestamp",
                      ts);
    st = patch != NULL
             ? berth_k8s_patch(r->client, &berth_k8s_res_events, a->ev_ref,
                               a->ev_ref + strlen(a->ev_ref) + 1, NULL,
                               BERTH_K8S_PATCH_MERGE, patch, NULL, err)
             : BERTH_ENOMEM;
    if (st == BERTH_OK) {
      a->count = count;
      a->used_ms = now;
      r->stats.aggregated++;
      goto done;
    }
    if (st != BERTH_ENOTFOUND)
      goto failed;
    /* The Event is gone (expired): create it again with the count. */
  }
  snprintf(name, sizeof(name), "%.253s.%llx", ref->name,
           (unsigned long long)now * 1000000ULL + (r->seq++ % 1000000ULL));
  body =
      event_body(r, ref, ns, name, type, reason, message, count, first_ms, now);
  if (body == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto failed;
  }
  st = berth_k8s_create(r->client, &berth_k8s_res_events, ns, body, NULL, err);
  if (st != BERTH_OK)
    goto failed;
  r->stats.created++;
  {
    /* Remember it for aggregation (without memory, just do not). */
    size_t ns_len = strlen(ns);
    size_t name_len = strlen(name);
    char *ev_ref = malloc(ns_len + name_len + 2);
    if (ev_ref == NULL)
      goto done;
    memcpy(ev_ref, ns, ns_len + 1);
    memcpy(ev_ref + ns_len + 1, name, name_len + 1);
    if (!found) {
      if (i == r->nagg)
        r->nagg++; /* a free slot (calloc's: no ev_ref yet) */
      /* else the least recently used entry goes */
      memcpy(a->key, key_md, KEY_BYTES);
    }
    free(a->ev_ref);
    a->ev_ref = ev_ref;
  }
  a->count = count;
  a->first_ms = first_ms;
  a->used_ms = now;
  goto done;

failed:
  r->stats.failed++;
done:
  pthread_mutex_unlock(&r->lock);
  json_decref(body);
  json_decref(patch);
  free(key);
  free(obj_key);
  return st;
}
