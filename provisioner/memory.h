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
#include <stdint.h>

#include "berth/buf.h"

/* At start, before any thread: the informers' decode arenas
 * (berth_k8s_informer_use_arenas); at most PROV_ARENAS malloc arenas and
 * a fixed mmap threshold of PROV_MMAP_THRESHOLD, unless MALLOC_ARENA_MAX,
 * MALLOC_MMAP_THRESHOLD_ (or GLIBC_TUNABLES) say otherwise (glibc only). */
void prov_memory_init(void);

/* The process's steps of work so far (any counter that grows when work
 * is done) and whether work is in flight; trims the heap (malloc_trim)
 * once the work has been quiet for a second after a change. Call it
 * periodically from one thread. */
typedef struct prov_memory_trim {
  uint64_t seen;      /* the work counter at the last call */
  uint64_t trimmed;   /* ... at the last trim */
  int64_t changed_ms; /* when seen last changed */
} prov_memory_trim_t;

void prov_memory_maybe_trim(prov_memory_trim_t *t, uint64_t work, bool busy,
                            int64_t now_ms);

/* The allocator's figures as metrics: berth_provisioner_heap_bytes with
 * state in_use (allocated), free (held by malloc, not in use: what
 * fragmentation costs) and mmapped (large blocks). glibc only. */
void prov_memory_collect(berth_buf_t *out);

#define PROV_ARENAS 2
#define PROV_MMAP_THRESHOLD (128 * 1024)

#endif /* BERTH_PROV_MEMORY_H */
