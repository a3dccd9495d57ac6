/* SPDX-License-Identifier: Apache-2.0 */
/* The informer's changes to its cache: one watch event, or a relist that
 * is staged page by page and committed at its end; both go through the
 * transform. See lib/k8s/informer_int.h.
 *
 * An object the transform leaves out is not cached at all, so a relist
 * stages only what passes the transform or is cached already: the memory
 * a list needs is one page plus what the cache will keep, whatever the
 * number of objects that are not for us. */
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "informer_int.h"
#include "k8s_int.h"

static bool same_version(const json_t *a, const json_t *b)
{
  const char *ra = berth_k8s_obj_resource_version(a);
  const char *rb = berth_k8s_obj_resource_version(b);

  return ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
}

/* What to cache for obj: a new reference, or NULL to cache nothing. */
static json_t *transformed(berth_k8s_informer_t *inf, json_t *obj)
{
  if (inf->transform == NULL)
    return json_incref(obj);
  return inf->transform(inf->transform_ctx, obj);
}

/* Store t (what passed the transform) under key and queue an add or an
 * update; or, t NULL, drop key and queue a delete if it was cached. */
static void store(berth_k8s_informer_t *inf, const char *key, json_t *t)
{
  json_t *old = NULL;
  /* What the cache, its indexes and the queue keep comes from malloc,
   * not from the decode arena of the event (if any). */
  bool was = berth__k8s_arena_suspend();

  if (t == NULL) {
    old = berth__k8s_cache_del(inf->cache, key);
    if (old != NULL)
      berth__k8s_informer_enqueue(inf, NOTE_DELETE, NULL, old);
  } else if (berth__k8s_cache_put(inf->cache, key, t, &old) != BERTH_OK) {
    berth_log(BERTH_LOG_ERROR, "k8s informer: cache update failed", "resource",
              inf->res.resource, "key", key, NULL);
  } else {
    berth__k8s_informer_enqueue(inf, old != NULL ? NOTE_UPDATE : NOTE_ADD, old,
                                t);
  }
  json_decref(old);
  berth__k8s_arena_resume(was);
}

void berth__k8s_informer_apply(berth_k8s_informer_t *inf,
                               berth_k8s_event_type_t type, json_t *obj)
{
  char *key = berth__k8s_cache_key(obj);
  json_t *cur;
  json_t *t;
  bool was;

  if (key == NULL) {
    berth_log(BERTH_LOG_WARN,
              "k8s informer: event for an object without a "
              "name skipped",
              "resource", inf->res.resource, NULL);
    return;
  }
  if (type == BERTH_K8S_EVENT_DELETED) {
    was = berth__k8s_arena_suspend();
    cur = berth__k8s_cache_del(inf->cache, key);
    berth__k8s_arena_resume(was);
    if (cur != NULL) {
      /* The final state as the transform keeps it, else the last one we
       * cached. */
      t = transformed(inf, obj);
      was = berth__k8s_arena_suspend();
      berth__k8s_informer_enqueue(inf, NOTE_DELETE, NULL, t != NULL ? t : cur);
      berth__k8s_arena_resume(was);
      json_decref(t);
    }
    json_decref(cur);
    free(key);
    return;
  }
  cur = berth__k8s_cache_get(inf->cache, key);
  /* Known at this version already (a replay): nothing changed. */
  if (cur == NULL || !same_version(cur, obj)) {
    t = transformed(inf, obj);
    if (t != NULL || cur != NULL)
      store(inf, key, t);
    json_decref(t);
  }
  json_decref(cur);
  free(key);
}

void berth__k8s_relist_init(berth__k8s_relist_t *r)
{
  r->staged = json_object();
}

void berth__k8s_relist_cleanup(berth__k8s_relist_t *r)
{
  json_decref(r->staged);
  r->staged = NULL;
}

berth_status_t berth__k8s_relist_page(berth_k8s_informer_t *inf,
                                      berth__k8s_relist_t *r, json_t *items)
{
  json_t *item;
  json_t *cur;
  json_t *t;
  char *key;
  size_t i;
  bool was;
  berth_status_t st = BERTH_OK;

  if (r->staged == NULL)
    return BERTH_ENOMEM;
  json_array_foreach(items, i, item)
  {
    key = berth__k8s_cache_key(item);
    if (key == NULL)
      continue;
    cur = berth__k8s_cache_get(inf->cache, key);
    if (cur != NULL && same_version(cur, item)) {
      t = json_false();
    } else {
      t = transformed(inf, item);
      if (t == NULL && cur != NULL)
        t = json_null();
      else if (t != NULL && inf->compact)
        t = berth__k8s_text_of(t);
    }
    /* Neither cached nor passing: nothing to remember. The staged set
     * outlives the page (and its decode arena, if any): malloc's. */
    was = berth__k8s_arena_suspend();
    if (t != NULL && json_object_set_new(r->staged, key, t) != 0)
      st = BERTH_ENOMEM;
    berth__k8s_arena_resume(was);
    json_decref(cur);
    free(key);
  }
  /* The page's objects are not needed any more (the caller frees it);
   * emptying it here returns their memory before the next page comes. */
  json_array_clear(items);
  return st;
}

void berth__k8s_relist_commit(berth_k8s_informer_t *inf, berth__k8s_relist_t *r)
{
  json_t *keys = berth__k8s_cache_keys(inf->cache);
  json_t *item;
  json_t *obj;
  json_t *old;
  const char *k;
  json_t *v;
  size_t i;

  json_object_foreach(r->staged, k, v)
  {
    if (json_is_false(v))
      continue;
    if (json_is_string(v)) {
      /* Staged as text (compact): one tree at a time. */
      obj = berth__k8s_object_of(json_incref(v));
      if (obj == NULL) {
        berth_log(BERTH_LOG_ERROR,
                  "k8s informer: out of memory, change "
                  "lost",
                  "resource", inf->res.resource, "key", k, NULL);
        continue;
      }
      store(inf, k, obj);
      json_decref(obj);
      continue;
    }
    store(inf, k, json_is_null(v) ? NULL : v);
  }
  json_array_foreach(keys, i, item)
  {
    k = json_string_value(item);
    if (json_object_get(r->staged, k) != NULL)
      continue;
    /* Gone while we were not watching: deliver the last state we had. */
    old = berth__k8s_cache_del(inf->cache, k);
    if (old != NULL)
      berth__k8s_informer_enqueue(inf, NOTE_DELETE, NULL, old);
    json_decref(old);
  }
  json_decref(keys);
}
