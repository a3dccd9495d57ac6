/* SPDX-License-Identifier: Apache-2.0 */
/* The informer's internals: its indexed cache (informer_cache.c, not
 * thread-safe: the informer guards it with its lock), its state
 * (informer.c) and its dispatcher thread (informer_dispatch.c). */
#ifndef BERTH_K8S_INFORMER_INT_H
#define BERTH_K8S_INFORMER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <pthread.h>

#include "berth/k8s_informer.h"
#include "berth/k8s_watch.h"

/* ---- The compact store (informer_store.c): key -> JSON text, kept in
 * blocks mapped apart from malloc's heap. Not thread-safe. ---------- */

typedef struct berth__k8s_store berth__k8s_store_t;

berth_status_t berth__k8s_store_create(berth__k8s_store_t **out);
void berth__k8s_store_destroy(berth__k8s_store_t *s);

/* The text of key (borrowed until the store changes) and its length, or
 * NULL. */
const char *berth__k8s_store_get(const berth__k8s_store_t *s, const char *key,
                                 size_t *len);

/* Store a copy of text (len bytes) under key (copied), replacing any. */
berth_status_t berth__k8s_store_put(berth__k8s_store_t *s, const char *key,
                                    const char *text, size_t len);

/* Remove key; false when it was not there. */
bool berth__k8s_store_del(berth__k8s_store_t *s, const char *key);

size_t berth__k8s_store_count(const berth__k8s_store_t *s);

/* Iterate: *pos starts at 0; true with the next key and text (borrowed). */
bool berth__k8s_store_at(const berth__k8s_store_t *s, size_t *pos,
                         const char **key, const char **text, size_t *len);

/* Bytes mapped (blocks and the table). */
size_t berth__k8s_store_mapped(const berth__k8s_store_t *s);

/* ---- Decode arenas (informer_arena.c) -------------------------------
 * Once berth_k8s_informer_use_arenas() has given jansson libberth's
 * allocation functions, a thread may open a scope: until it ends, the
 * jansson values the thread allocates come from mapped chunks that are
 * released all at once when the scope ends (freeing one before does
 * nothing). While a scope is suspended, allocations come from malloc and
 * outlive it; freeing works on either kind at any time. A compact
 * informer decodes each list page and each batch of watch events in a
 * scope, and suspends it where the cache, its indexes and the
 * notification queue take what they keep. Nothing allocated in a scope
 * may be used after it ends. */

/* Open a scope on this thread; true when this call opened it (false: no
 * arenas, or a scope is open already and goes on). Pass the result to
 * berth__k8s_arena_end. */
bool berth__k8s_arena_begin(void);
void berth__k8s_arena_end(bool opened);

/* Route this thread's allocations to malloc (the previous state is
 * returned) and back. Harmless without a scope. */
bool berth__k8s_arena_suspend(void);
void berth__k8s_arena_resume(bool was);

/* Bytes mapped by this thread's open scope (0 without one). */
size_t berth__k8s_arena_mapped(void);

/* Free what jansson allocated for the caller (json_dumps' text) with
 * jansson's own free function, arena or not. */
void berth__k8s_json_free(void *p);

/* ---- The cache (informer_cache.c) ------------------------------------ */

typedef struct berth__k8s_cache berth__k8s_cache_t;

/* A compact cache keeps each object as its compact JSON text and decodes
 * it on every read (see informer_cache.c). */
berth_status_t berth__k8s_cache_create(bool index_labels, bool compact,
                                       berth__k8s_cache_t **out);
void berth__k8s_cache_destroy(berth__k8s_cache_t *c);

/* Register a custom index (name copied). */
berth_status_t berth__k8s_cache_add_index(berth__k8s_cache_t *c,
                                          const char *name,
                                          berth_k8s_index_fn fn, void *ctx);

/* The cache key of obj: "namespace/name", or "name" without a namespace.
 * NULL (out of memory or no name) otherwise. free() it. */
char *berth__k8s_cache_key(const json_t *obj);

/* The object under key, a new reference (a fresh copy in a compact
 * cache), or NULL. */
json_t *berth__k8s_cache_get(const berth__k8s_cache_t *c, const char *key);

/* true when key is cached (no decoding). */
bool berth__k8s_cache_has(const berth__k8s_cache_t *c, const char *key);

/* Store obj (the cache takes a new reference, or its text) under key,
 * reindexing it;
 * the replaced object, if any, is handed to the caller in *old (a
 * reference the caller now owns) or NULL. */
berth_status_t berth__k8s_cache_put(berth__k8s_cache_t *c, const char *key,
                                    json_t *obj, json_t **old);

/* Remove key; returns the removed object (the caller owns the reference)
 * or NULL. */
json_t *berth__k8s_cache_del(berth__k8s_cache_t *c, const char *key);

size_t berth__k8s_cache_count(const berth__k8s_cache_t *c);

/* Every key, sorted, as a new array of strings. */
json_t *berth__k8s_cache_keys(const berth__k8s_cache_t *c);

/* New array of new references to the store's entries (objects, or their
 * text in a compact cache: see berth__k8s_cache_decode): all sorted by
 * key; by label "key=value"; by a custom index. NULL for an unknown index
 * or no memory. Entries never change, so they may be decoded without the
 * informer's lock. */
json_t *berth__k8s_cache_list(const berth__k8s_cache_t *c);
json_t *berth__k8s_cache_by_label(const berth__k8s_cache_t *c, const char *key,
                                  const char *value);
json_t *berth__k8s_cache_by_index(const berth__k8s_cache_t *c, const char *name,
                                  const char *value);

/* Turn an array of entries into objects, in place (compact: the cache's
 * mode). Consumes entries; returns them, or NULL when out of memory. */
json_t *berth__k8s_cache_decode(bool compact, json_t *entries);

/* The values a custom index holds now, as a new array of strings; NULL for
 * an unknown index or no memory. */
json_t *berth__k8s_cache_index_values(const berth__k8s_cache_t *c,
                                      const char *name);

/* ---- The informer (informer.c, informer_dispatch.c) ---------------- */

typedef enum { NOTE_ADD, NOTE_UPDATE, NOTE_DELETE } berth__k8s_note_type_t;

typedef struct berth__k8s_note {
  berth__k8s_note_type_t type;
  json_t *old_obj; /* owned references */
  json_t *new_obj;
  struct berth__k8s_note *next;
} berth__k8s_note_t;

struct berth_k8s_informer {
  berth_k8s_client_t *client;
  berth_k8s_resource_t res;
  char *ns;
  char *label_selector;
  char *field_selector;
  long page_size;
  int64_t resync_ms;
  long watch_timeout_s;
  long idle_timeout_ms;
  berth_k8s_informer_handlers_t h;
  berth_k8s_transform_fn transform;
  void *transform_ctx;
  bool compact;

  pthread_mutex_t lock; /* everything below */
  pthread_cond_t cond;  /* queue, sync and stop changes */
  berth__k8s_cache_t *cache;
  char rv[64];
  bool synced;
  bool started;
  bool threads_running;
  volatile int stopping;
  berth__k8s_note_t *head;
  berth__k8s_note_t *tail;
  berth_k8s_informer_stats_t stats;
  pthread_t watcher;
  pthread_t dispatcher;
};

/* ---- Changes into the cache (informer_apply.c) ----------------------- */

/* Apply one watch event (ADDED, MODIFIED, DELETED; obj is the informer's
 * own, which the transform may change) to the cache through the transform
 * and queue its notification; the caller holds inf->lock. */
void berth__k8s_informer_apply(berth_k8s_informer_t *inf,
                               berth_k8s_event_type_t type, json_t *obj);

/* A relist in progress: what each listed object will do to the cache,
 * kept small (only objects that pass the transform, or that are cached;
 * in a compact informer as text). */
typedef struct berth__k8s_relist {
  json_t *staged; /* key -> transformed object (or its text), null (drop),
                   * false (same) */
} berth__k8s_relist_t;

/* obj as compact JSON text in a jansson string (consumes obj), and back
 * (consumes the string); NULL when out of memory. A compact informer
 * stages relists and queues notifications as text, decoded one at a time:
 * a list of thousands that all pass costs their text, not their trees.
 * The text is always malloc's, never a decode arena's: it outlives the
 * page or event it came from. */
json_t *berth__k8s_text_of(json_t *obj);
json_t *berth__k8s_object_of(json_t *text);

void berth__k8s_relist_init(berth__k8s_relist_t *r);
void berth__k8s_relist_cleanup(berth__k8s_relist_t *r);

/* Stage the items of one list page (obj's are the informer's own); the
 * caller holds inf->lock. BERTH_ENOMEM when out of memory. */
berth_status_t berth__k8s_relist_page(berth_k8s_informer_t *inf,
                                      berth__k8s_relist_t *r, json_t *items);

/* Make the cache equal to the staged list, queueing only the differences
 * (adds, updates, deletes of vanished or no longer passing objects); the
 * caller holds inf->lock. */
void berth__k8s_relist_commit(berth_k8s_informer_t *inf,
                              berth__k8s_relist_t *r);

/* Queue a notification (references taken) and wake the dispatcher; the
 * caller holds inf->lock. */
void berth__k8s_informer_enqueue(berth_k8s_informer_t *inf,
                                 berth__k8s_note_type_t type, json_t *old_obj,
                                 json_t *new_obj);

/* The dispatcher thread's body (arg: the informer). */
void *berth__k8s_informer_dispatch(void *arg);

/* Free every queued notification (after the threads stopped). */
void berth__k8s_informer_drop_queue(berth_k8s_informer_t *inf);

#endif /* BERTH_K8S_INFORMER_INT_H */
