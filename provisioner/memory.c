/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: allocator settings and heap trimming; see memory.h. */
#include "memory.h"

#include <stdlib.h>

#include "berth/buf.h"
#include "berth/k8s_informer.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

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

bool prov_memory_trim_due(prov_memory_trim_t *t, uint64_t work, bool busy,
                          size_t free_bytes, int64_t now_ms)
{
  bool quiet;

  if (work != t->seen) {
    t->seen = work;
    t->changed_ms = now_ms;
  }
  /* Nothing done since the last trim: nothing more to give back. */
  if (work == t->trimmed)
    return false;
  /* After a burst: once, when the work has stopped for a while. */
  quiet = !busy && now_ms - t->changed_ms >= PROV_TRIM_QUIET_MS;
  /* During one: now and then, when there is enough to give back. */
  if (!quiet && (free_bytes < PROV_TRIM_FREE_BYTES ||
                 (t->trim_ms != 0 && now_ms - t->trim_ms < PROV_TRIM_BUSY_MS)))
    return false;
  t->trimmed = work;
  t->trim_ms = now_ms;
  return true;
}

void prov_memory_maybe_trim(prov_memory_trim_t *t, uint64_t work, bool busy,
                            int64_t now_ms)
{
#ifdef __GLIBC__
  struct mallinfo2 mi = mallinfo2();

  if (prov_memory_trim_due(t, work, busy, mi.fordblks, now_ms))
    malloc_trim(0);
#else
  (void)prov_memory_trim_due(t, work, busy, 0, now_ms);
#endif
}
