/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: the informer against the real kube-apiserver. A storm
 * of changes runs while the bed's fault proxy drops watch streams (cleanly
 * and by aborting the connection) and answers watches with 410 (ERROR
 * events and HTTP 410), and etcd compacts the history (ConfigMaps bypass
 * the watch cache, tests/bed/bed_k8s.py); afterwards the cache and a
 * shadow copy kept only from the handlers' notifications must both equal a
 * fresh list, and no handler may have seen a duplicate or out-of-order
 * notification. Run under `tests/bed/bed.py run k8s -- test_k8s_informer`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "berth/k8s_informer.h"
#include "test_k8s_common.h"
#include "test_timing.h"

#define NS "storm"

static berth_k8s_client_t *client;
static const berth_k8s_resource_t *cms = &berth_k8s_res_configmaps;

/* What the handlers saw: key -> resourceVersion, and any inconsistency. */
typedef struct {
  pthread_mutex_t lock;
  json_t *shadow;
  int duplicates; /* add of a key we had */
  int stale;      /* update whose old version is not the one we had */
  int spurious;   /* delete of a key we did not have */
  int backwards;  /* a version not above the previous one */
  int adds, updates, deletes, resyncs;
} seen_t;

static long rv_num(const json_t *obj)
{
  const char *rv = berth_k8s_obj_resource_version(obj);

  return rv != NULL ? atol(rv) : -1;
}

static char *key_of(const json_t *obj)
{
  const char *ns = berth_k8s_obj_namespace(obj);

  return berth_strdup_printf("%s/%s", ns != NULL ? ns : "",
                             berth_k8s_obj_name(obj));
}

static void on_add(void *ctx, json_t *obj)
{
  seen_t *s = ctx;
  char *key = key_of(obj);

  pthread_mutex_lock(&s->lock);
  if (json_object_get(s->shadow, key) != NULL)
    s->duplicates++;
  json_object_set_new(s->shadow, key, json_integer(rv_num(obj)));
  s->adds++;
  pthread_mutex_unlock(&s->lock);
  free(key);
}

static void on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  seen_t *s = ctx;
  char *key = key_of(new_obj);
  json_t *had;

  pthread_mutex_lock(&s->lock);
  if (old_obj == new_obj) {
    s->resyncs++;
  } else {
    had = json_object_get(s->shadow, key);
    if (had == NULL || json_integer_value(had) != rv_num(old_obj))
      s->stale++;
    if (rv_num(new_obj) <= rv_num(old_obj))
      s->backwards++;
    json_object_set_new(s->shadow, key, json_integer(rv_num(new_obj)));
    s->updates++;
  }
  pthread_mutex_unlock(&s->lock);
  free(key);
}

static void on_delete(void *ctx, json_t *obj)
{
  seen_t *s = ctx;
  char *key = key_of(obj);

  pthread_mutex_lock(&s->lock);
  if (json_object_get(s->shadow, key) == NULL)
    s->spurious++;
  json_object_del(s->shadow, key);
  s->deletes++;
  pthread_mutex_unlock(&s->lock);
  free(key);
}

static berth_status_t index_by_value(void *ctx, const json_t *obj,
                                     berth_k8s_index_values_t *values)
{
  const char *v =
      json_string_value(json_object_get(json_object_get(obj, "data"), "v"));

  (void)ctx;
  return v != NULL ? berth_k8s_index_values_add(values, v) : BERTH_OK;
}

static int setup(void **state)
{
  (void)state;
  client = tk_client(NULL);
  tk_namespace(client, NS);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  berth_k8s_client_destroy(client);
  return 0;
}

/* The truth: name -> resourceVersion from a fresh list. */
static json_t *fresh_list(const char *selector)
{
  berth_k8s_list_options_t lo;
  berth_error_t err;
  json_t *list = NULL;
  json_t *truth = json_object();
  json_t *item;
  size_t i;

  memset(&lo, 0, sizeof(lo));
  lo.label_selector = selector;
  if (berth_k8s_list_all(client, cms, NS, &lo, &list, &err) != BERTH_OK)
    fail_msg("list: %s", err.message);
  json_array_foreach(json_object_get(list, "items"), i, item)
  {
    char *key = key_of(item);
    json_object_set_new(truth, key, json_integer(rv_num(item)));
    free(key);
  }
  json_decref(list);
  return truth;
}

typedef struct {
  berth_k8s_informer_t *inf;
  seen_t *seen;
  json_t *truth;
} match_t;

static bool cache_matches(void *ctx)
{
  match_t *m = ctx;
  json_t *all = berth_k8s_informer_list(m->inf);
  json_t *mine = json_object();
  json_t *item;
  size_t i;
  bool ok;

  json_array_foreach(all, i, item)
  {
    char *key = key_of(item);
    json_object_set_new(mine, key, json_integer(rv_num(item)));
    free(key);
  }
  ok = json_equal(mine, m->truth);
  pthread_mutex_lock(&m->seen->lock);
  ok = ok && json_equal(m->seen->shadow, m->truth);
  pthread_mutex_unlock(&m->seen->lock);
  json_decref(mine);
  json_decref(all);
  return ok;
}

static void create_cm(const char *name, const char *value)
{
  berth_error_t err;
  json_t *obj = tk_configmap(NS, name, value, "storm");

  if (berth_k8s_create(client, cms, NS, obj, NULL, &err) != BERTH_OK)
    fail_msg("create %s: %s", name, err.message);
  json_decref(obj);
}

static void create_labelled(const char *name, const char *group)
{
  berth_error_t err;
  json_t *obj = tk_configmap(NS, name, "v0", group);

  if (berth_k8s_create(client, cms, NS, obj, NULL, &err) != BERTH_OK)
    fail_msg("create %s: %s", name, err.message);
  json_decref(obj);
}

static void set_value(const char *name, const char *value)
{
  berth_error_t err;
  json_t *patch = json_pack("{s:{s:s}}", "data", "v", value);

  if (berth_k8s_patch(client, cms, NS, name, NULL, BERTH_K8S_PATCH_MERGE, patch,
                      NULL, &err) != BERTH_OK)
    fail_msg("patch %s: %s", name, err.message);
  json_decref(patch);
}

static void delete_cm(const char *name)
{
  berth_error_t err;

  if (berth_k8s_delete(client, cms, NS, name, NULL, NULL, &err) != BERTH_OK)
    fail_msg("delete %s: %s", name, err.message);
}

static void close_watches(void)
{
  json_decref(tk_admin("POST", "/watches/close", "{}"));
}

static bool faults_taken(void *ctx)
{
  json_t *r = tk_admin("GET", "/faults", NULL);
  bool none = r != NULL && json_array_size(json_object_get(r, "faults")) == 0;

  (void)ctx;
  json_decref(r);
  return none;
}

/* A watch fault armed, then the watches closed: the informer's next watch
 * takes it. Waiting for that keeps the rounds from overtaking each other
 * on a loaded machine (an earlier fault still armed would be taken
 * first), so every fault reaches a watch of its own. */
static void fault_next_watch(const char *spec)
{
  tk_fault(spec);
  close_watches();
  if (!tk_poll(faults_taken, NULL, test_bound_ms(10000)))
    fail_msg("the informer did not watch again after %s", spec);
}

static void test_storm(void **state)
{
  berth_k8s_informer_options_t opts;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_stats_t stats;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;
  seen_t seen;
  match_t m;
  json_t *objs;
  char name[32];
  char value[32];
  bool alive[200];
  int next = 0;
  int round;
  int i;
  int64_t start;
  uint64_t seed = 1234;

  (void)state;
  memset(&seen, 0, sizeof(seen));
  pthread_mutex_init(&seen.lock, NULL);
  seen.shadow = json_object();
  memset(alive, 0, sizeof(alive));
  for (next = 0; next < 40; next++) {
    snprintf(name, sizeof(name), "cm-%03d", next);
    create_cm(name, next % 2 ? "odd" : "even");
    alive[next] = true;
  }

  memset(&opts, 0, sizeof(opts));
  opts.resource = cms;
  opts.namespace_name = NS;
  opts.label_selector = "group=storm";
  /* One page a list: a continue token outlives no compaction (etcd
   * answers 410 for it), and the storm compacts while relists run.
   * Paging is tested without compactions in test_paged_sync. */
  opts.page_size = 500;
  opts.index_labels = true;
  memset(&h, 0, sizeof(h));
  h.on_add = on_add;
  h.on_update = on_update;
  h.on_delete = on_delete;
  h.ctx = &seen;
  assert_int_equal(berth_k8s_informer_create(client, &opts, &h, &inf, &err),
                   BERTH_OK);
  assert_int_equal(
      berth_k8s_informer_add_index(inf, "value", index_by_value, NULL, &err),
      BERTH_OK);
  assert_int_equal(berth_k8s_informer_start(inf, &err), BERTH_OK);
  assert_int_equal(
      berth_k8s_informer_add_index(inf, "late", index_by_value, NULL, &err),
      BERTH_EINVAL);
  assert_true(berth_k8s_informer_wait_for_sync(inf, 20000));
  assert_int_equal(berth_k8s_informer_count(inf), 40);
  m.inf = inf;
  m.seen = &seen;
  m.truth = fresh_list("group=storm");
  assert_true(tk_poll(cache_matches, &m, 20000));
  json_decref(m.truth);

  /* Indexes. */
  objs = berth_k8s_informer_by_label(inf, "group", "storm");
  assert_int_equal(json_array_size(objs), 40);
  json_decref(objs);
  objs = berth_k8s_informer_by_index(inf, "value", "odd");
  assert_int_equal(json_array_size(objs), 20);
  json_decref(objs);
  assert_null(berth_k8s_informer_by_index(inf, "nope", "odd"));
  objs = berth_k8s_informer_get(inf, NS, "cm-007");
  assert_non_null(objs);
  json_decref(objs);

  /* The storm. */
  for (round = 0; round < 25; round++) {
    switch (round % 5) {
    case 0: /* the next stream ends cleanly after 2 events */
      fault_next_watch("{\"kind\":\"watch-drop\",\"resource\":"
                       "\"configmaps\",\"after\":2,\"count\":1}");
      break;
    case 1: /* the next watch gets an ERROR event 410 */
      fault_next_watch("{\"kind\":\"watch-gone\",\"resource\":\"configmaps\","
                       "\"count\":1}");
      break;
    case 2: /* the history is gone: resuming gets 410, then a relist */
      json_decref(tk_admin("POST", "/compact", "{\"keep\":0}"));
      close_watches();
      break;
    case 3: /* HTTP 410 */
      fault_next_watch("{\"kind\":\"watch-gone\",\"http\":true,\"resource\":"
                       "\"configmaps\",\"count\":1}");
      break;
    case 4: /* the connection is cut after one event */
      fault_next_watch("{\"kind\":\"watch-drop\",\"resource\":\"configmaps\","
                       "\"after\":1,\"abort\":true,\"count\":1}");
      break;
    }
    for (i = 0; i < 3 && next < 200; i++, next++) {
      snprintf(name, sizeof(name), "cm-%03d", next);
      create_cm(name, "new");
      alive[next] = true;
    }
    for (i = 0; i < 6; i++) {
      int k = (int)(berth_rand_splitmix64(&seed) % (uint64_t)next);
      if (!alive[k])
        continue;
      snprintf(name, sizeof(name), "cm-%03d", k);
      snprintf(value, sizeof(value), "r%d-%d", round, i);
      set_value(name, value);
    }
    for (i = 0; i < 2; i++) {
      int k = (int)(berth_rand_splitmix64(&seed) % (uint64_t)next);
      if (!alive[k])
        continue;
      snprintf(name, sizeof(name), "cm-%03d", k);
      delete_cm(name);
      alive[k] = false;
    }
    if (round % 5 == 2)
      json_decref(tk_admin("POST", "/compact", "{\"keep\":0}"));
  }
  tk_clear_faults();

  /* Converged: cache and shadow equal a fresh list. */
  m.truth = fresh_list("group=storm");
  if (!tk_poll(cache_matches, &m, 30000)) {
    char *a = json_dumps(m.truth, JSON_COMPACT | JSON_SORT_KEYS);
    fprintf(stderr, "truth: %s\n", a);
    free(a);
    fail_msg("the informer did not converge");
  }
  json_decref(m.truth);
  pthread_mutex_lock(&seen.lock);
  assert_int_equal(seen.duplicates, 0);
  assert_int_equal(seen.stale, 0);
  assert_int_equal(seen.spurious, 0);
  assert_int_equal(seen.backwards, 0);
  assert_true(seen.adds > 40 && seen.updates > 0 && seen.deletes > 0);
  pthread_mutex_unlock(&seen.lock);
  berth_k8s_informer_get_stats(inf, &stats);
  fprintf(stderr,
          "informer: lists=%llu relists=%llu watches=%llu "
          "watch_errors=%llu events=%llu bookmarks=%llu adds=%llu "
          "updates=%llu deletes=%llu\n",
          (unsigned long long)stats.lists, (unsigned long long)stats.relists,
          (unsigned long long)stats.watches,
          (unsigned long long)stats.watch_errors,
          (unsigned long long)stats.events, (unsigned long long)stats.bookmarks,
          (unsigned long long)stats.adds, (unsigned long long)stats.updates,
          (unsigned long long)stats.deletes);
  assert_true(stats.relists >= 10);
  assert_true(stats.watches >= 25);
  /* Five rounds each of the three faults that end a watch with an error
   * (the clean ends of case 0 are not errors). */
  assert_true(stats.watch_errors >= 15);

  start = tk_now();
  berth_k8s_informer_destroy(inf);
  /* Destroy stops the watch at once, not at its timeout (minutes). */
  assert_true(tk_now() - start < test_bound_ms(3000));
  json_decref(seen.shadow);
  pthread_mutex_destroy(&seen.lock);
}

static bool resynced(void *ctx)
{
  seen_t *s = ctx;
  bool ok;

  pthread_mutex_lock(&s->lock);
  ok = s->resyncs >= 2 * s->adds && s->adds > 0;
  pthread_mutex_unlock(&s->lock);
  return ok;
}

static void test_resync_and_cluster_scope(void **state)
{
  berth_k8s_informer_options_t opts;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;
  seen_t seen;
  json_t *ns;

  (void)state;
  memset(&seen, 0, sizeof(seen));
  pthread_mutex_init(&seen.lock, NULL);
  seen.shadow = json_object();
  /* Namespaces: cluster-scoped, keyed by name alone. */
  memset(&opts, 0, sizeof(opts));
  opts.resource = &berth_k8s_res_namespaces;
  opts.resync_ms = 200;
  memset(&h, 0, sizeof(h));
  h.on_add = on_add;
  h.on_update = on_update;
  h.ctx = &seen;
  assert_int_equal(berth_k8s_informer_create(client, &opts, &h, &inf, &err),
                   BERTH_OK);
  assert_int_equal(berth_k8s_informer_start(inf, &err), BERTH_OK);
  assert_true(berth_k8s_informer_wait_for_sync(inf, 20000));
  ns = berth_k8s_informer_get(inf, NULL, NS);
  assert_non_null(ns);
  json_decref(ns);
  assert_true(tk_poll(resynced, &seen, 10000));
  berth_k8s_informer_destroy(inf);
  json_decref(seen.shadow);
  pthread_mutex_destroy(&seen.lock);
}

/* The history the informer's version was in is gone for real (not a
 * fault on one watch): while its watches fail, objects change and the
 * server compacts; the informer must list again to see the changes. */
static void test_relist_after_history_lost(void **state)
{
  berth_k8s_informer_options_t opts;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_stats_t before, after;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;
  seen_t seen;
  match_t m;
  char name[32];
  int i;

  (void)state;
  memset(&seen, 0, sizeof(seen));
  pthread_mutex_init(&seen.lock, NULL);
  seen.shadow = json_object();
  for (i = 0; i < 6; i++) {
    snprintf(name, sizeof(name), "lost-%d", i);
    create_labelled(name, "lost");
  }
  memset(&opts, 0, sizeof(opts));
  opts.resource = cms;
  opts.namespace_name = NS;
  opts.label_selector = "group=lost";
  memset(&h, 0, sizeof(h));
  h.on_add = on_add;
  h.on_update = on_update;
  h.on_delete = on_delete;
  h.ctx = &seen;
  assert_int_equal(berth_k8s_informer_create(client, &opts, &h, &inf, &err),
                   BERTH_OK);
  assert_int_equal(berth_k8s_informer_start(inf, &err), BERTH_OK);
  assert_true(berth_k8s_informer_wait_for_sync(inf, 20000));
  berth_k8s_informer_get_stats(inf, &before);

  /* Watches fail (500) while objects change and the history goes. */
  tk_fault("{\"kind\":\"error\",\"verb\":\"watch\",\"resource\":"
           "\"configmaps\"}");
  close_watches();
  for (i = 6; i < 9; i++) {
    snprintf(name, sizeof(name), "lost-%d", i);
    create_labelled(name, "lost");
  }
  set_value("lost-1", "v1");
  delete_cm("lost-2");
  delete_cm("lost-3");
  json_decref(tk_admin("POST", "/compact", "{\"keep\":0}"));
  tk_clear_faults();

  /* Only a relist can bring these changes: their events are gone. */
  m.inf = inf;
  m.seen = &seen;
  m.truth = fresh_list("group=lost");
  assert_int_equal(json_object_size(m.truth), 7);
  if (!tk_poll(cache_matches, &m, 20000))
    fail_msg("the informer never caught up after its history was lost");
  berth_k8s_informer_get_stats(inf, &after);
  assert_true(after.relists > before.relists);
  assert_true(after.lists > before.lists);
  assert_int_equal(seen.duplicates, 0);
  assert_int_equal(seen.spurious, 0);
  json_decref(m.truth);
  berth_k8s_informer_destroy(inf);
  json_decref(seen.shadow);
  pthread_mutex_destroy(&seen.lock);
}

/* The sequence number of the API server's last logged request. */
static long last_request_seq(void)
{
  json_t *r = tk_admin("GET", "/requests?limit=1", NULL);
  json_t *items = json_object_get(r, "items");
  long seq = (long)json_integer_value(json_object_get(
      json_array_get(items, json_array_size(items) - 1), "seq"));

  json_decref(r);
  return seq;
}

/* The informer's list requests after seq: how many asked for pages of
 * `limit`, and how many of those continued one. */
static void count_pages(long seq, const char *limit, int *pages, int *continued)
{
  char path[160];
  json_t *r;
  json_t *item;
  size_t i;

  snprintf(path, sizeof(path),
           "/requests?verb=list&resource=configmaps&limit=1000&since=%ld", seq);
  r = tk_admin("GET", path, NULL);
  *pages = *continued = 0;
  json_array_foreach(json_object_get(r, "items"), i, item)
  {
    const char *q = json_string_value(json_object_get(item, "query"));
    if (q == NULL || strstr(q, limit) == NULL)
      continue;
    (*pages)++;
    if (strstr(q, "continue=") != NULL)
      (*continued)++;
  }
  json_decref(r);
}

/* The first watch request after sequence number seq whose query holds
 * `mark` (its query), waited for; NULL when none came. Free it. */
static char *next_watch_query(long seq, const char *mark)
{
  char path[160];
  char *q = NULL;
  int64_t deadline = tk_now() + 20000;

  snprintf(path, sizeof(path),
           "/requests?verb=watch&resource=configmaps&limit=1000&since=%ld",
           seq);
  while (q == NULL && tk_now() < deadline) {
    json_t *r = tk_admin("GET", path, NULL);
    json_t *item;
    size_t i;
    json_array_foreach(json_object_get(r, "items"), i, item)
    {
      const char *s = json_string_value(json_object_get(item, "query"));
      if (q == NULL && s != NULL && strstr(s, mark) != NULL)
        q = strdup(s);
    }
    json_decref(r);
    if (q == NULL)
      berth_clock_sleep_ms(NULL, 50); /* polling the log, with a deadline */
  }
  return q;
}

/* A watch resumes from the last version its events (and bookmarks)
 * brought, not from the list's: the server's request log says which
 * version the next watch asked for. */
static void test_resume_version(void **state)
{
  berth_k8s_informer_options_t opts;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;
  seen_t seen;
  match_t m;
  const char *rvq;
  char *q;
  long last = 0, asked;
  const char *k;
  json_t *v;
  long seq;

  (void)state;
  memset(&seen, 0, sizeof(seen));
  pthread_mutex_init(&seen.lock, NULL);
  seen.shadow = json_object();
  create_labelled("resume-0", "resume");
  memset(&opts, 0, sizeof(opts));
  opts.resource = cms;
  opts.namespace_name = NS;
  opts.label_selector = "group=resume";
  memset(&h, 0, sizeof(h));
  h.on_add = on_add;
  h.on_update = on_update;
  h.on_delete = on_delete;
  h.ctx = &seen;
  assert_int_equal(berth_k8s_informer_create(client, &opts, &h, &inf, &err),
                   BERTH_OK);
  assert_int_equal(berth_k8s_informer_start(inf, &err), BERTH_OK);
  assert_true(berth_k8s_informer_wait_for_sync(inf, 20000));
  /* Changes after the list, seen through the watch. */
  create_labelled("resume-1", "resume");
  create_labelled("resume-2", "resume");
  set_value("resume-0", "v1");
  m.inf = inf;
  m.seen = &seen;
  m.truth = fresh_list("group=resume");
  assert_true(tk_poll(cache_matches, &m, 20000));
  json_object_foreach(m.truth, k, v)
  {
    if (json_integer_value(v) > last)
      last = (long)json_integer_value(v);
  }
  seq = last_request_seq();
  close_watches();
  q = next_watch_query(seq, "labelSelector=group%3Dresume");
  if (q == NULL)
    fail_msg("the informer did not watch again after its watch closed");
  rvq = strstr(q, "resourceVersion=");
  asked = rvq != NULL ? atol(rvq + strlen("resourceVersion=")) : -1;
  if (asked < last)
    fail_msg("the watch resumed from %ld, before the last change seen (%ld): "
             "%s",
             asked, last, q);
  free(q);
  json_decref(m.truth);
  berth_k8s_informer_destroy(inf);
  json_decref(seen.shadow);
  pthread_mutex_destroy(&seen.lock);
}

static void test_paged_sync(void **state)
{
  berth_k8s_informer_options_t opts;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;
  seen_t seen;
  match_t m;
  long seq;
  int pages, continued;

  (void)state;
  memset(&seen, 0, sizeof(seen));
  pthread_mutex_init(&seen.lock, NULL);
  seen.shadow = json_object();
  memset(&opts, 0, sizeof(opts));
  opts.resource = cms;
  opts.namespace_name = NS;
  opts.page_size = 3;
  /* Handlers build the shadow from what the informer delivers: the
   * cache and the notifications are both checked against the truth. */
  memset(&h, 0, sizeof(h));
  h.on_add = on_add;
  h.on_update = on_update;
  h.on_delete = on_delete;
  h.ctx = &seen;
  seq = last_request_seq();
  assert_int_equal(berth_k8s_informer_create(client, &opts, &h, &inf, &err),
                   BERTH_OK);
  assert_int_equal(berth_k8s_informer_start(inf, &err), BERTH_OK);
  assert_true(berth_k8s_informer_wait_for_sync(inf, 20000));
  m.inf = inf;
  m.seen = &seen;
  m.truth = fresh_list(NULL);
  assert_true(json_object_size(m.truth) > 10);
  assert_true(tk_poll(cache_matches, &m, 20000));
  /* The sync was paged: more than one list of 3, continued. */
  count_pages(seq, "limit=3", &pages, &continued);
  if (pages < (int)(json_object_size(m.truth) + 2) / 3 || continued < 1)
    fail_msg("%d lists with limit=3 (%d continued) for %zu objects: the "
             "informer did not page",
             pages, continued, json_object_size(m.truth));
  assert_int_equal(seen.duplicates, 0);
  assert_int_equal(seen.spurious, 0);
  json_decref(m.truth);
  berth_k8s_informer_destroy(inf);
  json_decref(seen.shadow);
  pthread_mutex_destroy(&seen.lock);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_storm),
      cmocka_unit_test(test_resync_and_cluster_scope),
      cmocka_unit_test(test_paged_sync),
      cmocka_unit_test(test_relist_after_history_lost),
      cmocka_unit_test(test_resume_version),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
