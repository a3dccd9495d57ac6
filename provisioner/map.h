/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: a small hash map from strings to pointers.
 *
 * Used by the work queue (its items by key) and the controller (claims it
 * has provisioned in this run). Keys are copied; values are borrowed and
 * never freed by the map. Not thread-safe: callers hold their own lock. */
#ifndef BERTH_PROV_MAP_H
#define BERTH_PROV_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/status.h"

typedef struct prov_map_entry prov_map_entry_t;

typedef struct prov_map {
  prov_map_entry_t **buckets;
  size_t nbuckets; /* a power of two, or 0 before the first insert */
  size_t count;
} prov_map_t;

/* Initialise an empty map (no allocation yet). */
void prov_map_init(prov_map_t *m);

/* Free the map's entries and keys (not the values) and leave it empty.
 * Accepts NULL. */
void prov_map_cleanup(prov_map_t *m);

/* The value stored under key, or NULL. */
void *prov_map_get(const prov_map_t *m, const char *key);

/* true when key is in the map (even with a NULL value). */
bool prov_map_has(const prov_map_t *m, const char *key);

/* Store value under key (copied), replacing an earlier value. */
berth_status_t prov_map_put(prov_map_t *m, const char *key, void *value);

/* Remove key; returns its value (or NULL when it was absent). */
void *prov_map_remove(prov_map_t *m, const char *key);

/* Number of keys. */
size_t prov_map_count(const prov_map_t *m);

/* Call fn for every entry, in no particular order. fn must not change the
 * map. */
void prov_map_each(const prov_map_t *m,
                   void (*fn)(void *ctx, const char *key, void *value),
                   void *ctx);

#endif /* BERTH_PROV_MAP_H */
