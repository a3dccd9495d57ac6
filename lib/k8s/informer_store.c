/* SPDX-License-Identifier: Apache-2.0 */
/* The compact cache's store: key -> JSON text, in blocks of memory mapped
 * apart from malloc's heap. See lib/k8s/informer_int.h.
 *
 * Why not malloc: a cache is filled while lists and watch events decode
 * and free far more memory than it keeps, so each small long-lived
 * allocation lands between short-lived ones, and the pages it pins stay
 * resident after the rest is freed (measured: a fresh provisioner caching
 * 2,000 objects held 3 MB in use and 7 MB free but resident). Here records
 * are appended to 64 KiB blocks; a deleted record only counts as dead
 * until its block is empty (unmapped) or the dead bytes pass a quarter of
 * the used ones (the live records of the blocks more than a quarter dead
 * are copied into fresh blocks). The table of
 * slots is one array, open addressing with linear probing and
 * backward-shift deletion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "informer_int.h"

#define BLOCK_SIZE (64 * 1024)
#define MIN_SLOTS 64
/* Compact when dead bytes pass 1/DEAD_SHARE of the used ones: the mapped
 * blocks stay within a third more than the live records (a churning
 * cache, every claim updated a few times as it is bound, would otherwise
 * map up to twice what it keeps); a block is moved when more than
 * 1/DEAD_SHARE of it is dead. */
#define DEAD_SHARE 4

typedef struct block {
  struct block *next;
  size_t size; /* mapped bytes */
  size_t used; /* bytes handed out, header included */
  size_t dead; /* of them, freed records */
  bool old;    /* being emptied by compact() */
} block_t;

/* One key and its text, each NUL-terminated, 8-byte aligned. */
typedef struct rec {
  uint32_t klen;
  uint32_t tlen;
  char data[];
} rec_t;

typedef struct slot {
  rec_t *r; /* NULL: empty */
  block_t *b;
  uint64_t hash;
} slot_t;

struct berth__k8s_store {
  slot_t *slots;
  size_t nslots; /* a power of two */
  size_t count;
  block_t *blocks; /* the first is the one appended to */
  size_t used;     /* over all blocks, headers included */
  size_t dead;
  size_t dead_after; /* dead bytes left by the last compaction */
  bool fresh;        /* the next record starts a new block */
};

static uint64_t hash_key(const char *k)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */

  while (*k != '\0') {
    h ^= (unsigned char)*k++;
    h *= 1099511628211ULL;
  }
  return h;
}

static size_t rec_size(size_t klen, size_t tlen)
{
  return (sizeof(rec_t) + klen + 1 + tlen + 1 + 7) & ~(size_t)7;
}

static block_t *block_new(size_t need)
{
  size_t size = BLOCK_SIZE;
  block_t *b;

  need += (sizeof(block_t) + 7) & ~(size_t)7;
  if (need > size)
    size = (need + 4095) & ~(size_t)4095;
  b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
           0);
  if (b == MAP_FAILED)
    return NULL;
  b->next = NULL;
  b->size = size;
  b->used = (sizeof(block_t) + 7) & ~(size_t)7;
  b->dead = 0;
  b->old = false;
  return b;
}

static void block_unlink(berth__k8s_store_t *s, block_t *b)
{
  block_t **p = &s->blocks;

  while (*p != NULL && *p != b)
    p = &(*p)->next;
  if (*p == b)
    *p = b->next;
  s->used -= b->used;
  s->dead -= b->dead;
  if (s->dead_after > s->dead)
    s->dead_after = s->dead;
  munmap(b, b->size);
}

static bool block_empty(const block_t *b)
{
  return b->dead == b->used - ((sizeof(block_t) + 7) & ~(size_t)7);
}

/* Unmap every block but the current one that holds no live record (one
 * whose records all died while it was current). */
static void release_empty(berth__k8s_store_t *s)
{
  block_t *b = s->blocks != NULL ? s->blocks->next : NULL;
  block_t *next;

  for (; b != NULL; b = next) {
    next = b->next;
    if (block_empty(b))
      block_unlink(s, b);
  }
}

/* Room for a record of size bytes: in the current block, else a new one
 * (which becomes current). */
static rec_t *rec_alloc(berth__k8s_store_t *s, size_t size, block_t **out)
{
  block_t *b = s->blocks;
  rec_t *r;

  if (b == NULL || s->fresh || b->size - b->used < size) {
    b = block_new(size);
    if (b == NULL)
      return NULL;
    s->fresh = false;
    b->next = s->blocks;
    s->blocks = b;
    s->used += b->used;
    release_empty(s);
  }
  r = (rec_t *)((char *)b + b->used);
  b->used += size;
  s->used += size;
  *out = b;
  return r;
}

static void rec_free(berth__k8s_store_t *s, rec_t *r, block_t *b)
{
  size_t size = rec_size(r->klen, r->tlen);

  b->dead += size;
  s->dead += size;
  /* An empty block goes back, unless it is the one being filled. */
  if (block_empty(b) && b != s->blocks)
    block_unlink(s, b);
}

static rec_t *rec_make(berth__k8s_store_t *s, const char *key, size_t klen,
                       const char *text, size_t tlen, block_t **b)
{
  rec_t *r = rec_alloc(s, rec_size(klen, tlen), b);

  if (r == NULL)
    return NULL;
  r->klen = (uint32_t)klen;
  r->tlen = (uint32_t)tlen;
  memcpy(r->data, key, klen + 1);
  memcpy(r->data + klen + 1, text, tlen);
  r->data[klen + 1 + tlen] = '\0';
  return r;
}

berth_status_t berth__k8s_store_create(berth__k8s_store_t **out)
{
  berth__k8s_store_t *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return BERTH_ENOMEM;
  s->slots = calloc(MIN_SLOTS, sizeof(slot_t));
  if (s->slots == NULL) {
    free(s);
    return BERTH_ENOMEM;
  }
  s->nslots = MIN_SLOTS;
  *out = s;
  return BERTH_OK;
}

void berth__k8s_store_destroy(berth__k8s_store_t *s)
{
  block_t *b;

  if (s == NULL)
    return;
  while ((b = s->blocks) != NULL) {
    s->blocks = b->next;
    munmap(b, b->size);
  }
  free(s->slots);
  free(s);
}

/* The slot of key, or the empty slot where it would go. */
static slot_t *find(const berth__k8s_store_t *s, const char *key, uint64_t h)
{
  size_t mask = s->nslots - 1;
  size_t i = (size_t)h & mask;

  while (s->slots[i].r != NULL) {
    if (s->slots[i].hash == h && strcmp(s->slots[i].r->data, key) == 0)
      break;
    i = (i + 1) & mask;
  }
  return &s->slots[i];
}

static berth_status_t grow(berth__k8s_store_t *s, size_t nslots)
{
  slot_t *old = s->slots;
  size_t n = s->nslots;
  size_t i;
  size_t j;

  s->slots = calloc(nslots, sizeof(slot_t));
  if (s->slots == NULL) {
    s->slots = old;
    return BERTH_ENOMEM;
  }
  s->nslots = nslots;
  for (i = 0; i < n; i++) {
    if (old[i].r == NULL)
      continue;
    j = (size_t)old[i].hash & (nslots - 1);
    while (s->slots[j].r != NULL)
      j = (j + 1) & (nslots - 1);
    s->slots[j] = old[i];
  }
  free(old);
  return BERTH_OK;
}

/* Move the records of the blocks more than 1/DEAD_SHARE dead into fresh
 * ones: the memory follows what is kept, and blocks still mostly alive
 * are not copied. Each emptied block is unmapped as it empties; out of
 * memory stops the move with every record still valid. */
static void compact(berth__k8s_store_t *s)
{
  block_t *b;
  block_t *ob;
  rec_t *r;
  slot_t *sl;
  size_t i;

  for (b = s->blocks; b != NULL; b = b->next)
    b->old = b->dead * DEAD_SHARE > b->used;
  s->fresh = true;
  for (i = 0; i < s->nslots; i++) {
    sl = &s->slots[i];
    if (sl->r == NULL || !sl->b->old)
      continue;
    r = rec_make(s, sl->r->data, sl->r->klen, sl->r->data + sl->r->klen + 1,
                 sl->r->tlen, &b);
    if (r == NULL)
      break;
    ob = sl->b;
    rec_free(s, sl->r, ob);
    sl->r = r;
    sl->b = b;
  }
  for (b = s->blocks; b != NULL; b = b->next)
    b->old = false;
  release_empty(s);
  s->dead_after = s->dead;
}

/* At least a block's worth of dead bytes since the last compaction (so
 * that dead bytes spread thin over many blocks do not start one scan per
 * change), and more than 1/DEAD_SHARE of the used bytes. */
static void maybe_compact(berth__k8s_store_t *s)
{
  if (s->dead >= s->dead_after + BLOCK_SIZE && s->dead * DEAD_SHARE > s->used)
    compact(s);
}

const char *berth__k8s_store_get(const berth__k8s_store_t *s, const char *key,
                                 size_t *len)
{
  slot_t *sl = find(s, key, hash_key(key));

  if (sl->r == NULL)
    return NULL;
  if (len != NULL)
    *len = sl->r->tlen;
  return sl->r->data + sl->r->klen + 1;
}

berth_status_t berth__k8s_store_put(berth__k8s_store_t *s, const char *key,
                                    const char *text, size_t len)
{
  uint64_t h = hash_key(key);
  size_t klen = strlen(key);
  slot_t *sl;
  block_t *b;
  rec_t *r;

  if (klen > UINT32_MAX || len > UINT32_MAX)
    return BERTH_ETOOBIG;
  /* At most half full, so that probes stay short. */
  if ((s->count + 1) * 2 > s->nslots && grow(s, s->nslots * 2) != BERTH_OK)
    return BERTH_ENOMEM;
  r = rec_make(s, key, klen, text, len, &b);
  if (r == NULL)
    return BERTH_ENOMEM;
  sl = find(s, key, h);
  if (sl->r != NULL) {
    rec_free(s, sl->r, sl->b);
  } else {
    s->count++;
    sl->hash = h;
  }
  sl->r = r;
  sl->b = b;
  maybe_compact(s);
  return BERTH_OK;
}

bool berth__k8s_store_del(berth__k8s_store_t *s, const char *key)
{
  size_t mask = s->nslots - 1;
  slot_t *sl = find(s, key, hash_key(key));
  size_t i;
  size_t j;
  size_t home;

  if (sl->r == NULL)
    return false;
  rec_free(s, sl->r, sl->b);
  s->count--;
  /* Backward-shift deletion: pull later members of the probe run into
   * the hole, so that lookups never need tombstones. */
  i = (size_t)(sl - s->slots);
  j = i;
  for (;;) {
    s->slots[i].r = NULL;
    for (;;) {
      j = (j + 1) & mask;
      if (s->slots[j].r == NULL) {
        maybe_compact(s);
        return true;
      }
      home = (size_t)s->slots[j].hash & mask;
      /* Stays when its home lies cyclically in (i, j]. */
      if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
        continue;
      break;
    }
    s->slots[i] = s->slots[j];
    i = j;
  }
}

size_t berth__k8s_store_count(const berth__k8s_store_t *s)
{
  return s->count;
}

bool berth__k8s_store_at(const berth__k8s_store_t *s, size_t *pos,
                         const char **key, const char **text, size_t *len)
{
  const slot_t *sl;

  while (*pos < s->nslots) {
    sl = &s->slots[(*pos)++];
    if (sl->r == NULL)
      continue;
    *key = sl->r->data;
    *text = sl->r->data + sl->r->klen + 1;
    *len = sl->r->tlen;
    return true;
  }
  return false;
}

size_t berth__k8s_store_mapped(const berth__k8s_store_t *s)
{
  const block_t *b;
  size_t n = s->nslots * sizeof(slot_t);

  for (b = s->blocks; b != NULL; b = b->next)
    n += b->size;
  return n;
}
