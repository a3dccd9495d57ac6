/* SPDX-License-Identifier: Apache-2.0 */
/* berth: an informer, a local cache of one resource kept in step with the
 * API server by list then watch.
 *
 * What it does, as client-go's SharedIndexInformer:
 *  - lists (paged) and then watches from the list's resourceVersion with
 *    allowWatchBookmarks=true and a server-side timeout of 5 to 10 minutes;
 *  - when a watch ends or breaks, watches again from the last version it
 *    saw (an event's or a bookmark's), after a jittered back-off when the
 *    watch failed;
 *  - on 410 Gone (an HTTP 410 or an ERROR event with code 410) lists again
 *    and delivers only the differences to the cache: new objects as adds,
 *    changed ones (another resourceVersion) as updates, vanished ones as
 *    deletes;
 *  - keeps the objects in a cache keyed by "namespace/name" ("name" for
 *    cluster-scoped objects), with an optional index by label and any
 *    number of custom indexes;
 *  - calls add/update/delete handlers, and optionally update(obj, obj) for
 *    every cached object every resync period.
 *
 * Threads: the informer runs two threads of its own, one that lists and
 * watches and one that calls the handlers, in the order of the changes,
 * after the cache has changed. Handlers must not block for long (the
 * changes queue up meanwhile) and must not stop or destroy the informer;
 * they may read the cache and use the client. The cache functions may be
 * called from any thread at any time: they take the informer's lock and
 * return new references (json_incref) to the cached objects.
 *
 * Cached objects are shared and immutable: never modify a json_t the
 * informer gives you (handlers' arguments or cache reads); json_deep_copy()
 * it first.
 *
 * Memory: a transform (as client-go's SetTransform) trims each object, or
 * leaves it out, before it enters the cache; a compact cache keeps the
 * objects as compact JSON text (jansson trees take about seven times
 * their text) and decodes them on every read. Lists are taken page by
 * page, each page transformed before the next is fetched. */
#ifndef BERTH_K8S_INFORMER_H
#define BERTH_K8S_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/k8s.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_k8s_informer berth_k8s_informer_t;

/* Handlers; any may be NULL. Objects are borrowed for the duration of the
 * call (json_incref() to keep them). on_delete gets the object's final
 * state: the DELETED event's object, or after a relist the last state the
 * cache had. */
typedef struct berth_k8s_informer_handlers {
  void (*on_add)(void *ctx, json_t *obj);
  void (*on_update)(void *ctx, json_t *old_obj, json_t *new_obj);
  void (*on_delete)(void *ctx, json_t *obj);
  void *ctx;
} berth_k8s_informer_handlers_t;

/* A transform: called on every object the informer receives (list items,
 * watch events) before it enters the cache, on the informer's watch thread
 * with its lock held, so it must be quick and must not read this
 * informer's cache (reading another informer's is fine if that one's
 * transform never reads this one). obj is the informer's own freshly
 * decoded object: the transform may change it in place. It returns what to
 * cache, a new reference (obj itself, changed or not, or a smaller copy),
 * or NULL to cache nothing: the object is then handled as if it did not
 * exist. As with client-go's FilteringResourceEventHandler, an object that
 * starts to pass is delivered as an add, and one that stops passing as a
 * delete (with its last cached state). It must depend on obj alone, or on
 * state that changes only together with obj, since a cached object at the
 * same resourceVersion is not transformed again. Objects of watch events
 * reach it without metadata.managedFields (cut before parsing); list
 * items still carry it. */
typedef json_t *(*berth_k8s_transform_fn)(void *ctx, json_t *obj);

typedef struct berth_k8s_informer_options {
  const berth_k8s_resource_t *resource; /* required; borrowed: must outlive
                                         * the informer */
  const char *namespace_name;           /* NULL: all namespaces */
  const char *label_selector;           /* NULL: everything */
  const char *field_selector;
  long page_size;                   /* list limit; 0: 500 */
  int64_t resync_ms;                /* 0: no periodic resync */
  long watch_timeout_s;             /* 0: random in [300, 600), as client-go */
  long idle_timeout_ms;             /* a watch silent this long is reopened;
                                     * 0: 5 minutes */
  bool index_labels;                /* keep the label index */
  berth_k8s_transform_fn transform; /* NULL: cache objects whole */
  void *transform_ctx;
  bool compact; /* keep objects as text; every read and
                 * handler argument is a fresh copy */
} berth_k8s_informer_options_t;

/* Decode arenas for compact informers. Call once at start, before any
 * thread runs: jansson's allocation functions (process-wide,
 * json_set_alloc_funcs) become libberth's, which are malloc and free
 * except inside an arena. A compact informer then decodes each list page
 * and each batch of watch events, and runs its transform, with jansson's
 * allocations in an arena of mapped memory released whole afterwards: the
 * page's short-lived tree never enters malloc's heap, where it would
 * leave free memory pinned around the few long-lived allocations made
 * meanwhile. What the informer keeps (the cache, its indexes, the queued
 * notifications) is copied to malloc's heap. With arenas, a compact
 * informer's transform must keep no part of obj (or any jansson value it
 * makes) beyond its call but what it returns; text from json_dumps()
 * must be freed with jansson's free function (json_get_alloc_funcs).
 * BERTH_EINVAL when jansson already has other allocation functions. */
berth_status_t berth_k8s_informer_use_arenas(void);

/* Values a custom index function gives for one object. */
typedef struct berth_k8s_index_values berth_k8s_index_values_t;

/* Add one index value (copied) for the object being indexed. */
berth_status_t berth_k8s_index_values_add(berth_k8s_index_values_t *values,
                                          const char *value);

/* A custom index: add zero or more values for obj with
 * berth_k8s_index_values_add. It must depend on obj alone (it is called
 * again on the old object to unindex it) and must not block. */
typedef berth_status_t (*berth_k8s_index_fn)(void *ctx, const json_t *obj,
                                             berth_k8s_index_values_t *values);

/* Create an informer (not started) into *out (set only on success). The
 * client is borrowed and must outlive the informer; strings in opts are
 * copied. */
berth_status_t
berth_k8s_informer_create(berth_k8s_client_t *client,
                          const berth_k8s_informer_options_t *opts,
                          const berth_k8s_informer_handlers_t *handlers,
                          berth_k8s_informer_t **out, berth_error_t *err);

/* Add a custom index named name (copied). Only before start. */
berth_status_t berth_k8s_informer_add_index(berth_k8s_informer_t *inf,
                                            const char *name,
                                            berth_k8s_index_fn fn, void *ctx,
                                            berth_error_t *err);

/* Start the informer's threads. */
berth_status_t berth_k8s_informer_start(berth_k8s_informer_t *inf,
                                        berth_error_t *err);

/* true once the first list is in the cache. */
bool berth_k8s_informer_has_synced(berth_k8s_informer_t *inf);

/* Wait up to timeout_ms (< 0: forever) for the first list; true when
 * synced. */
bool berth_k8s_informer_wait_for_sync(berth_k8s_informer_t *inf,
                                      int64_t timeout_ms);

/* Stop the threads and wait for them; the cache stays readable. Handlers
 * are not called after this returns; pending notifications are dropped.
 * A watch that is open ends at its next byte from the server (events or
 * bookmarks) or at its idle time-out. Idempotent. */
void berth_k8s_informer_stop(berth_k8s_informer_t *inf);

/* Stop and free the informer and its cache. Accepts NULL. */
void berth_k8s_informer_destroy(berth_k8s_informer_t *inf);

/* ---- Cache reads (any thread) ------------------------------------------ */

/* The cached object ns/name (ns NULL or "" for cluster-scoped), a new
 * reference, or NULL. */
json_t *berth_k8s_informer_get(berth_k8s_informer_t *inf, const char *ns,
                               const char *name);

/* true when ns/name (ns NULL or "" for cluster-scoped) is cached; cheaper
 * than berth_k8s_informer_get on a compact cache. */
bool berth_k8s_informer_has(berth_k8s_informer_t *inf, const char *ns,
                            const char *name);

/* Every cached object, as a new array (json_decref() it) sorted by key. */
json_t *berth_k8s_informer_list(berth_k8s_informer_t *inf);

/* Call fn on every cached object in key order (obj borrowed for the
 * call), one at a time, until fn returns false: a compact cache decodes
 * one object, frees it and goes on, so a walk over thousands costs one
 * tree, not thousands (as berth_k8s_informer_list would). The informer's
 * lock is not held during fn (it may take its time); an object changed
 * meanwhile is seen as it is when reached, one removed meanwhile is
 * skipped. BERTH_ENOMEM when out of memory (the walk stops). */
berth_status_t berth_k8s_informer_each(berth_k8s_informer_t *inf,
                                       bool (*fn)(void *ctx, json_t *obj),
                                       void *ctx);

/* The objects with label key=value (needs index_labels), or NULL when out
 * of memory. */
json_t *berth_k8s_informer_by_label(berth_k8s_informer_t *inf, const char *key,
                                    const char *value);

/* The objects whose index `name` holds value; NULL when there is no such
 * index or out of memory. */
json_t *berth_k8s_informer_by_index(berth_k8s_informer_t *inf, const char *name,
                                    const char *value);

/* The values index `name` holds now (for at least one cached object), as a
 * new array of strings; NULL when there is no such index or out of
 * memory. Reads no object: an index whose values carry what a caller needs
 * answers without decoding a compact cache. */
json_t *berth_k8s_informer_index_values(berth_k8s_informer_t *inf,
                                        const char *name);

/* Number of cached objects. */
size_t berth_k8s_informer_count(berth_k8s_informer_t *inf);

/* The last resourceVersion seen (list, event or bookmark) into out. */
void berth_k8s_informer_resource_version(berth_k8s_informer_t *inf, char *out,
                                         size_t outsize);

typedef struct berth_k8s_informer_stats {
  uint64_t lists;        /* complete lists (first and relists) */
  uint64_t relists;      /* of them, after 410 Gone */
  uint64_t watches;      /* watch requests opened */
  uint64_t watch_errors; /* watches that ended in an error */
  uint64_t events;       /* watch events applied (bookmarks excluded) */
  uint64_t bookmarks;
  uint64_t adds, updates, deletes; /* notifications queued */
  uint64_t resyncs;
} berth_k8s_informer_stats_t;

/* Copy the informer's counters into *out. Any thread. */
void berth_k8s_informer_get_stats(berth_k8s_informer_t *inf,
                                  berth_k8s_informer_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_K8S_INFORMER_H */
