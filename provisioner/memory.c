/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: allocator settings and heap trimming; see memory.h. */
#include "memory.h"

#include <stdlib.h>

#include "berth/buf.h"
#include "berth/k8s_informer.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Quiet this long after work before trimming: a burst is over. */
#define QUIET_MS 1000

void prov_memory_init(void)
{
  /* List pages and watch events are decoded in arenas released whole,
   * outside the heap (berth_k8s_informer_use_arenas). Nothing has set
   * jansson's allocator before main, so this cannot fail; if it did,
   * decoding would simply use the heap. */
  (void)berth_k8s_informer_use_arenas();
#ifdef __GLIBC__
  /* Two arenas: the threads mostly wait on the network, so contention is
   * low, and the memory freed by one thread is reused by the next. */
  if (getenv("GLIBC_TUNABLES") != NULL)
    return;
  if (getenv("MALLOC_ARENA_MAX") == NULL)
    mallopt(M_ARENA_MAX, PROV_ARENAS);
  /* A fixed threshold: blocks this big (list pages, response bodies) are
   * mapped and unmapped on free. glibc's default raises the threshold to
   * the largest block freed so far, after which such blocks come from
   * the heap and leave holes there. */
  if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL)
    mallopt(M_MMAP_THRESHOLD, PROV_MMAP_THRESHOLD);
#endif
}

void prov_memory_collect(berth_buf_t *out)
{
#ifdef __GLIBC__
  struct mallinfo2 mi = mallinfo2();

  berth_buf_appendf(out,
                    "# HELP berth_provisioner_heap_bytes malloc's heap: bytes "
                    "in use, free in the heap, and mapped apart.\n"
                    "# TYPE berth_provisioner_heap_bytes gauge\n"
                    "berth_provisioner_heap_bytes{state=\"in_use\"} %zu\n"
                    "berth_provisioner_heap_bytes{state=\"free\"} %zu\n"
                    "berth_provisioner_heap_bytes{state=\"mmapped\"} %zu\n",
                    mi.uordblks, mi.fordblks, mi.hblkhd);
#else
  (void)out;
#endif
}

void prov_memory_maybe_trim(prov_memory_trim_t *t, uint64_t work, bool busy,
                            int64_t now_ms)
{
  if (work != t->seen) {
    t->seen = work;
    t->changed_ms = now_ms;
    return;
  }
  if (busy || work == t->trimmed || now_ms - t->changed_ms < QUIET_MS)
    return;
  t->trimmed = work;
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}
