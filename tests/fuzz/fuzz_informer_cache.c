/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the informer's cache fed by watch events
 * (lib/k8s/informer_cache.c behind lib/k8s/watch_decoder.c), as the
 * informer applies them: ADDED and MODIFIED store the object under its
 * key, DELETED removes it. A plain model (a JSON object from key to
 * object) is kept beside it. Invariants: same count, same object under
 * every key, the list sorted by key and complete, a label look-up returns
 * exactly the objects with that label. The cache keeps whole objects
 * here (identity is what the model compares); the compact store is
 * checked against a reference map in test_k8s_informer_apply. */
#include <string.h>

#include "berth/json.h"
#include "berth/k8s_watch.h"
#include "fuzz.h"
#include "informer_int.h"

typedef struct {
  berth__k8s_cache_t *cache;
  json_t *model;
} state_t;

static berth_status_t on_event(void *ctx, berth_k8s_event_type_t type,
                               json_t *object)
{
  state_t *s = ctx;
  char *key = berth__k8s_cache_key(object);
  json_t *old = NULL;

  if (key == NULL)
    return BERTH_OK; /* no name: the informer skips it too */
  if (type == BERTH_K8S_EVENT_ADDED || type == BERTH_K8S_EVENT_MODIFIED) {
    if (berth__k8s_cache_put(s->cache, key, object, &old) == BERTH_OK) {
      FUZZ_CHECK(old == json_object_get(s->model, key),
                 "put %s replaced another object than the model's", key);
      json_object_set(s->model, key, object);
    }
    json_decref(old);
  } else if (type == BERTH_K8S_EVENT_DELETED) {
    old = berth__k8s_cache_del(s->cache, key);
    FUZZ_CHECK(old == json_object_get(s->model, key),
               "del %s removed another object than the model's", key);
    json_object_del(s->model, key);
    json_decref(old);
  }
  free(key);
  return BERTH_OK;
}

static void check(state_t *s)
{
  json_t *list = berth__k8s_cache_list(s->cache);
  const char *prev = NULL;
  const char *key;
  json_t *obj;
  size_t i;

  FUZZ_CHECK(berth__k8s_cache_count(s->cache) == json_object_size(s->model),
             "%zu cached, %zu in the model", berth__k8s_cache_count(s->cache),
             json_object_size(s->model));
  json_object_foreach(s->model, key, obj)
  {
    json_t *got = berth__k8s_cache_get(s->cache, key); /* a new reference */

    FUZZ_CHECK(got == obj, "get %s", key);
    json_decref(got);
  }
  if (list == NULL)
    return;
  FUZZ_CHECK(json_array_size(list) == json_object_size(s->model), "list");
  json_array_foreach(list, i, obj)
  {
    char *k = berth__k8s_cache_key(obj);

    FUZZ_CHECK(k != NULL && json_object_get(s->model, k) == obj,
               "listed object not in the model");
    FUZZ_CHECK(prev == NULL || strcmp(prev, k) < 0, "list not sorted");
    free((char *)prev);
    prev = k;
  }
  free((char *)prev);
  /* Every label of every object: the look-up gives exactly those. */
  json_object_foreach(s->model, key, obj)
  {
    const char *lk;
    json_t *lv;

    json_object_foreach(
        json_object_get(json_object_get(obj, "metadata"), "labels"), lk, lv)
    {
      json_t *got;
      json_t *o;
      size_t j;
      size_t want = 0;
      const char *k2;

      if (!json_is_string(lv))
        continue;
      got = berth__k8s_cache_by_label(s->cache, lk, json_string_value(lv));
      if (got == NULL)
        continue;
      json_object_foreach(s->model, k2, o)
      {
        json_t *v = json_object_get(
            json_object_get(json_object_get(o, "metadata"), "labels"), lk);

        if (json_is_string(v) && json_equal(v, lv))
          want++;
      }
      FUZZ_CHECK(json_array_size(got) == want, "label %s: %zu, want %zu", lk,
                 json_array_size(got), want);
      json_array_foreach(got, j, o)
      {
        json_t *v = json_object_get(
            json_object_get(json_object_get(o, "metadata"), "labels"), lk);

        FUZZ_CHECK(json_is_string(v) && json_equal(v, lv),
                   "label %s: an object without it", lk);
      }
      json_decref(got);
    }
  }
  json_decref(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  state_t s;

  fuzz_quiet_logs();
  s.model = json_object();
  if (s.model == NULL ||
      berth__k8s_cache_create(true, false, &s.cache) != BERTH_OK) {
    json_decref(s.model);
    return 0;
  }
  if (berth_k8s_watch_decoder_create(0, on_event, &s, &dec) == BERTH_OK) {
    berth_k8s_watch_decoder_feed(dec, (const char *)data, size);
    berth_k8s_watch_decoder_finish(dec);
    berth_k8s_watch_decoder_destroy(dec);
    check(&s);
  }
  berth__k8s_cache_destroy(s.cache);
  json_decref(s.model);
  return 0;
}
