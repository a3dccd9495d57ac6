/* SPDX-License-Identifier: Apache-2.0 */
/* Decode arenas: jansson's allocations on one thread, for the length of a
 * scope, from mapped chunks released whole when the scope ends. See
 * lib/k8s/informer_int.h and berth_k8s_informer_use_arenas.
 *
 * Why: a list page or a watch event decodes into thousands of small
 * jansson values (a real server's objects carry managedFields and
 * kubectl's last-applied copy), freed a moment later, while the same
 * thread and others make a few long-lived allocations (the cache's
 * indexes, queued notifications, connection state). In malloc's heap the
 * long-lived ones land between the short-lived ones, and the freed
 * memory around them stays resident: malloc_trim returns only whole free
 * pages. In an arena the short-lived values never touch the heap.
 *
 * A chunk is one anonymous mapping: a header (the chunk list) and then
 * the values, 16-byte aligned, handed out in order. free() of a value in
 * this thread's arena does nothing; anything else goes to free(). A
 * value that escapes its scope is a bug: once its chunk is unmapped, any
 * use of it faults at once instead of reading reused memory. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "informer_int.h"

#define ALIGN 16
/* The first chunk fits a watch event; later ones double up to MAX. */
#define CHUNK_MIN (64 * 1024)
#define CHUNK_MAX (1024 * 1024)

typedef struct chunk {
  struct chunk *next; /* older chunks */
  size_t size;        /* the mapping's length, header included */
  size_t used;        /* bytes handed out, header included */
} chunk_t;

#define HEADER ((sizeof(chunk_t) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

typedef struct arena {
  bool open;        /* a scope is open on this thread */
  bool suspended;   /* ... but allocations go to malloc for now */
  chunk_t *chunks;  /* newest first */
  size_t mapped;    /* bytes mapped by the chunks */
  size_t next_size; /* the next chunk's size */
} arena_t;

static _Thread_local arena_t tls;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed;
static berth_status_t install_status;

static bool owns(const arena_t *a, const void *p)
{
  const chunk_t *c;
  uintptr_t u = (uintptr_t)p;

  for (c = a->chunks; c != NULL; c = c->next) {
    if (u >= (uintptr_t)c + HEADER && u < (uintptr_t)c + c->size)
      return true;
  }
  return false;
}

static chunk_t *chunk_new(arena_t *a, size_t need)
{
  size_t size = a->next_size > 0 ? a->next_size : CHUNK_MIN;
  chunk_t *c;
  void *m;

  if (size < HEADER + need)
    size = (HEADER + need + CHUNK_MIN - 1) & ~(size_t)(CHUNK_MIN - 1);
  m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
           0);
  if (m == MAP_FAILED)
    return NULL;
  c = m;
  c->size = size;
  c->used = HEADER;
  c->next = a->chunks;
  a->chunks = c;
  a->mapped += size;
  if (a->next_size < CHUNK_MAX)
    a->next_size = a->next_size > 0 ? a->next_size * 2 : CHUNK_MIN * 2;
  return c;
}

static void *arena_alloc(arena_t *a, size_t size)
{
  size_t need = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  chunk_t *c = a->chunks;
  void *p;

  if (need < size)
    return NULL; /* overflow */
  if (c == NULL || c->size - c->used < need) {
    c = chunk_new(a, need);
    if (c == NULL)
      return NULL;
  }
  p = (char *)c + c->used;
  c->used += need;
  return p;
}

static void *json_alloc(size_t size)
{
  arena_t *a = &tls;

  if (a->open && !a->suspended)
    return arena_alloc(a, size);
  return malloc(size);
}

static void json_release(void *p)
{
  arena_t *a = &tls;

  if (p == NULL || (a->open && owns(a, p)))
    return; /* released with its scope */
  free(p);
}

static void install(void)
{
  json_malloc_t m;
  json_free_t f;

  json_get_alloc_funcs(&m, &f);
  if (m != malloc || f != free) {
    install_status = BERTH_EINVAL; /* someone else's allocator */
    return;
  }
  json_set_alloc_funcs(json_alloc, json_release);
  installed = true;
}

berth_status_t berth_k8s_informer_use_arenas(void)
{
  pthread_once(&install_once, install);
  return installed ? BERTH_OK : install_status;
}

bool berth__k8s_arena_begin(void)
{
  arena_t *a = &tls;

  if (!installed || a->open)
    return false; /* no arenas, or the outer scope goes on */
  memset(a, 0, sizeof(*a));
  a->open = true;
  return true;
}

void berth__k8s_arena_end(bool opened)
{
  arena_t *a = &tls;
  chunk_t *c;

  if (!opened)
    return;
  while ((c = a->chunks) != NULL) {
    a->chunks = c->next;
    munmap(c, c->size);
  }
  memset(a, 0, sizeof(*a));
}

bool berth__k8s_arena_suspend(void)
{
  bool was = tls.suspended;

  tls.suspended = true;
  return was;
}

void berth__k8s_arena_resume(bool was)
{
  tls.suspended = was;
}

void berth__k8s_json_free(void *p)
{
  json_free_t f;

  json_get_alloc_funcs(NULL, &f);
  f(p);
}

size_t berth__k8s_arena_mapped(void)
{
  return tls.open ? tls.mapped : 0;
}
