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

typedef struct berth__k8s_cache berth__k8s_cache_t;

berth_status_t berth__k8s_cache_create(bool index_labels,
                                       berth__k8s_cache_t **out);
void berth__k8s_cache_destroy(berth__k8s_cache_t *c);

/* Register a custom index (name copied). */
berth_status_t berth__k8s_cache_add_index(berth__k8s_cache_t *c,
                                          const char *name,
                                          berth_k8s_index_fn fn, void *ctx);

/* The cache key of obj: "namespace/name", or "name" without a namespace.
 * NULL (out of memory or no name) otherwise. free() it. */
char *berth__k8s_cache_key(const json_t *obj);

/* The object under key, borrowed, or NULL. */
json_t *berth__k8s_cache_get(berth__k8s_cache_t *c, const char *key);

/* Store obj (the cache takes a new reference) under key, reindexing it;
 * the replaced object, if any, is handed to the caller in *old (a
 * reference the caller now owns) or NULL. */
berth_status_t berth__k8s_cache_put(berth__k8s_cache_t *c, const char *key,
                                    json_t *obj, json_t **old);

/* Remove key; returns the removed object (the caller owns the reference)
 * or NULL. */
json_t *berth__k8s_cache_del(berth__k8s_cache_t *c, const char *key);

size_t berth__k8s_cache_count(const berth__k8s_cache_t *c);

/* Every key, as a new array of strings. */
json_t *berth__k8s_cache_keys(const berth__k8s_cache_t *c);

/* New array of new references: all objects sorted by key; by label
 * "key=value"; by a custom index. NULL for an unknown index or no memory. */
json_t *berth__k8s_cache_list(const berth__k8s_cache_t *c);
json_t *berth__k8s_cache_by_label(const berth__k8s_cache_t *c,
                                  const char *key, const char *value);
json_t *berth__k8s_cache_by_index(const berth__k8s_cache_t *c,
                                  const char *name, const char *value);

/* ---- The informer (informer.c, informer_dispatch.c) ---------------- */

typedef enum {
  NOTE_ADD,
  NOTE_UPDATE,
  NOTE_DELETE
} berth__k8s_note_type_t;

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
