/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: how the process uses the C library's allocator
 * (glibc malloc), so that its resident memory follows what it keeps.
 *
 * Two habits of glibc cost a long-running controller memory it no longer
 * uses: one arena per thread that ever allocated (up to 8 per core; the
 * provisioner runs 16 workers, 3 informers with 2 threads each, the
 * events sender, the leader elector, the HTTP server), each keeping its
 * own free memory; and free memory in the middle of a heap, which stays
 * resident until malloc_trim() hands its pages back. A list of 100,000
 * objects decodes megabytes that are freed a page later, between the few
 * objects the cache keeps. */
#ifndef BERTH_PROV_MEMORY_H
#define BERTH_PROV_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/buf.h"

/* At start, before any thread: the informers' decode arenas
 * (berth_k8s_informer_use_arenas); at most PROV_ARENAS malloc arenas and
 * a fixed mmap threshold of PROV_MMAP_THRESHOLD, unless MALLOC_ARENA_MAX,
 * MALLOC_MMAP_THRESHOLD_ (or GLIBC_TUNABLES) say otherwise (glibc only). */
void prov_memory_init(void);

/* The process's steps of work so far (any counter that grows when work
 * is done) and whether work is in flight; trims the heap (malloc_trim)
 * once the work has been quiet for a second after a change, and, while
 * work goes on, every PROV_TRIM_BUSY_MS when malloc holds at least
 * PROV_TRIM_FREE_BYTES free: a burst of a thousand claims frees
 * megabytes between allocations that live on (queued keys and Events,
 * connections), and glibc gives back only the top of a heap by itself.
 * Call it periodically from one thread. */
typedef struct prov_memory_trim {
  uint64_t seen;      /* the work counter at the last call */
  uint64_t trimmed;   /* ... at the last trim */
  int64_t changed_ms; /* when seen last changed */
  int64_t trim_ms;    /* when the heap was last trimmed (0: never) */
} prov_memory_trim_t;

void prov_memory_maybe_trim(prov_memory_trim_t *t, uint64_t work, bool busy,
                            int64_t now_ms);

/* The decision alone (pure): whether to trim now, given what malloc holds
 * free (free_bytes); records the trim in t when it says yes. */
bool prov_memory_trim_due(prov_memory_trim_t *t, uint64_t work, bool busy,
                          size_t free_bytes, int64_t now_ms);

#define PROV_TRIM_QUIET_MS 1000
#define PROV_TRIM_BUSY_MS 2000
#define PROV_TRIM_FREE_BYTES (1024 * 1024)

/* The allocator's figures as metrics: berth_provisioner_heap_bytes with
 * state in_use (allocated), free (held by malloc, not in use: what
 * fragmentation costs) and mmapped (large blocks). glibc only. */
void prov_memory_collect(berth_buf_t *out);

#define PROV_ARENAS 2
#define PROV_MMAP_THRESHOLD (128 * 1024)

#endif /* BERTH_PROV_MEMORY_H */
