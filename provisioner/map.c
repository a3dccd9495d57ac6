/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the string map, see map.h. Separate chaining with
 * FNV-1a hashes; the table doubles when it holds more keys than buckets. */
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct prov_map_entry {
  prov_map_entry_t *next;
  uint64_t hash;
  void *value;
  char key[]; /* NUL-terminated copy */
};

#define MAP_MIN_BUCKETS 64

static uint64_t map_hash(const char *s)
{
  uint64_t h = 14695981039346656037ULL;

  for (; *s != '\0'; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

void prov_map_init(prov_map_t *m)
{
  memset(m, 0, sizeof(*m));
}

void prov_map_cleanup(prov_map_t *m)
{
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->nbuckets; i++) {
    prov_map_entry_t *e = m->buckets[i];
    while (e != NULL) {
      prov_map_entry_t *next = e->next;
      free(e);
      e = next;
    }
  }
  free(m->buckets);
  memset(m, 0, sizeof(*m));
}

static prov_map_entry_t **map_slot(const prov_map_t *m, const char *key,
                                   uint64_t h)
{
  prov_map_entry_t **p;

  if (m->nbuckets == 0)
    return NULL;
  p = &m->buckets[h & (m->nbuckets - 1)];
  while (*p != NULL && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
    p = &(*p)->next;
  return p;
}

void *prov_map_get(const prov_map_t *m, const char *key)
{
  prov_map_entry_t **p = map_slot(m, key, map_hash(key));

  return p != NULL && *p != NULL ? (*p)->value : NULL;
}

bool prov_map_has(const prov_map_t *m, const char *key)
{
  prov_map_entry_t **p = map_slot(m, key, map_hash(key));

  return p != NULL && *p != NULL;
}

static berth_status_t map_grow(prov_map_t *m)
{
  size_t n = m->nbuckets == 0 ? MAP_MIN_BUCKETS : m->nbuckets * 2;
  prov_map_entry_t **b = calloc(n, sizeof(*b));
  size_t i;

  if (b == NULL)
    return BERTH_ENOMEM;
  for (i = 0; i < m->nbuckets; i++) {
    prov_map_entry_t *e = m->buckets[i];
    while (e != NULL) {
      prov_map_entry_t *next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = n;
  return BERTH_OK;
}

berth_status_t prov_map_put(prov_map_t *m, const char *key, void *value)
{
  uint64_t h = map_hash(key);
  prov_map_entry_t **p;
  prov_map_entry_t *e;
  size_t len;

  p = map_slot(m, key, h);
  if (p != NULL && *p != NULL) {
    (*p)->value = value;
    return BERTH_OK;
  }
  if (m->count >= m->nbuckets && map_grow(m) != BERTH_OK)
    return BERTH_ENOMEM;
  len = strlen(key);
  e = malloc(sizeof(*e) + len + 1);
  if (e == NULL)
    return BERTH_ENOMEM;
  memcpy(e->key, key, len + 1);
  e->hash = h;
  e->value = value;
  e->next = m->buckets[h & (m->nbuckets - 1)];
  m->buckets[h & (m->nbuckets - 1)] = e;
  m->count++;
  return BERTH_OK;
}

void *prov_map_remove(prov_map_t *m, const char *key)
{
  prov_map_entry_t **p = map_slot(m, key, map_hash(key));
  prov_map_entry_t *e;
  void *value;

  if (p == NULL || *p == NULL)
    return NULL;
  e = *p;
  *p = e->next;
  value = e->value;
  free(e);
  m->count--;
  return value;
}

size_t prov_map_count(const prov_map_t *m)
{
  return m->count;
}

void prov_map_each(const prov_map_t *m,
                   void (*fn)(void *ctx, const char *key, void *value),
                   void *ctx)
{
  size_t i;
  prov_map_entry_t *e;

  for (i = 0; i < m->nbuckets; i++)
    for (e = m->buckets[i]; e != NULL; e = e->next)
      fn(ctx, e->key, e->value);
}
