/* SPDX-License-Identifier: Apache-2.0 */
/* gid allocation for gidRangeStart/gidRangeEnd (as aws-efs-csi-driver's
 * access points do): each volume gets the lowest gid of the range that no
 * other volume has, set as its directory's group and recorded on its PV
 * (pv.beta.kubernetes.io/gid) so that kubelet adds it to the pods'
 * supplemental groups.
 *
 * Who has which gid: the controller passes the gids on the class's
 * existing PVs; this file remembers the gids it handed out whose PV may
 * not exist yet (two claims provisioned at once); and after a crash
 * between the chown and the PV's creation, the directory itself still has
 * its gid, which the caller passes as `current` so that it is reused. */
#include "backends/nfs_int.h"

#include <stdlib.h>
#include <string.h>

struct berth__nfsb_gid_entry {
  char *pv_name; /* owned */
  uint32_t gid;
};

void berth__nfsb_gids_init(berth__nfsb_gids_t *g)
{
  memset(g, 0, sizeof(*g));
  pthread_mutex_init(&g->lock, NULL);
}

void berth__nfsb_gids_cleanup(berth__nfsb_gids_t *g)
{
  size_t i;

  for (i = 0; i < g->n; i++)
    free(g->entries[i].pv_name);
  free(g->entries);
  pthread_mutex_destroy(&g->lock);
  memset(g, 0, sizeof(*g));
}

static int nfsb_cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a;
  uint32_t y = *(const uint32_t *)b;

  return (x > y) - (x < y);
}

/* The index of pv_name's reservation, or g->n. Lock held. */
static size_t nfsb_find(const berth__nfsb_gids_t *g, const char *pv_name)
{
  size_t i;

  for (i = 0; i < g->n; i++) {
    if (strcmp(g->entries[i].pv_name, pv_name) == 0)
      break;
  }
  return i;
}

/* The gids taken by others: used plus the reservations of other volumes,
 * sorted, in a new array. Lock held. */
static uint32_t *nfsb_taken(const berth__nfsb_gids_t *g, const char *pv_name,
                            const uint32_t *used, size_t n_used, size_t *n)
{
  uint32_t *taken = malloc((n_used + g->n + 1) * sizeof(*taken));
  size_t i;

  if (taken == NULL)
    return NULL;
  if (n_used > 0)
    memcpy(taken, used, n_used * sizeof(*taken));
  *n = n_used;
  for (i = 0; i < g->n; i++) {
    if (strcmp(g->entries[i].pv_name, pv_name) != 0)
      taken[(*n)++] = g->entries[i].gid;
  }
  qsort(taken, *n, sizeof(*taken), nfsb_cmp_u32);
  return taken;
}

static bool nfsb_in(const uint32_t *sorted, size_t n, uint32_t gid)
{
  return bsearch(&gid, sorted, n, sizeof(gid), nfsb_cmp_u32) != NULL;
}

/* The lowest gid in [min, max] not in sorted, or -1. */
static int64_t nfsb_lowest_free(const uint32_t *sorted, size_t n, uint32_t min,
                                uint32_t max)
{
  uint64_t candidate = min;
  size_t i;

  for (i = 0; i < n && candidate <= max; i++) {
    if (sorted[i] == candidate)
      candidate++;
    else if (sorted[i] > candidate)
      break;
  }
  return candidate <= max ? (int64_t)candidate : -1;
}

/* Remember gid for pv_name (replacing an older reservation). Lock held. */
static berth_status_t nfsb_reserve(berth__nfsb_gids_t *g, const char *pv_name,
                                   uint32_t gid)
{
  size_t i = nfsb_find(g, pv_name);
  char *name;

  if (i < g->n) {
    g->entries[i].gid = gid;
    return BERTH_OK;
  }
  if (g->n == g->cap) {
    size_t cap = g->cap != 0 ? g->cap * 2 : 16;
    struct berth__nfsb_gid_entry *e = realloc(g->entries, cap * sizeof(*e));

    if (e == NULL)
      return BERTH_ENOMEM;
    g->entries = e;
    g->cap = cap;
  }
  name = strdup(pv_name);
  if (name == NULL)
    return BERTH_ENOMEM;
  g->entries[g->n].pv_name = name;
  g->entries[g->n].gid = gid;
  g->n++;
  return BERTH_OK;
}

berth_status_t berth__nfsb_gid_pick(berth__nfsb_gids_t *g, const char *pv_name,
                                    uint32_t min, uint32_t max,
                                    const uint32_t *used, size_t n_used,
                                    int64_t current, uint32_t *out,
                                    berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  uint32_t *taken = NULL;
  size_t n_taken = 0;
  int64_t gid = -1;
  size_t i;

  pthread_mutex_lock(&g->lock);
  i = nfsb_find(g, pv_name);
  if (i < g->n && g->entries[i].gid >= min && g->entries[i].gid <= max)
    gid = g->entries[i].gid; /* a repeat of the same provision */
  taken = nfsb_taken(g, pv_name, used, n_used, &n_taken);
  if (taken == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "gid allocation: out of memory");
    goto done;
  }
  if (gid >= 0 && nfsb_in(taken, n_taken, (uint32_t)gid))
    gid = -1; /* another volume's PV has it now: choose again */
  if (gid < 0 && current >= min && current <= max &&
      !nfsb_in(taken, n_taken, (uint32_t)current))
    gid = current;
  if (gid < 0)
    gid = nfsb_lowest_free(taken, n_taken, min, max);
  if (gid < 0) {
    st = berth_error_set(err, BERTH_ETOOBIG,
                         "gidRangeStart/gidRangeEnd: every gid from %u to "
                         "%u is in use",
                         min, max);
    goto done;
  }
  if (nfsb_reserve(g, pv_name, (uint32_t)gid) != BERTH_OK) {
    st = berth_error_set(err, BERTH_ENOMEM, "gid allocation: out of memory");
    goto done;
  }
  *out = (uint32_t)gid;

done:
  pthread_mutex_unlock(&g->lock);
  free(taken);
  return st;
}

void berth__nfsb_gid_release(berth__nfsb_gids_t *g, const char *pv_name)
{
  size_t i;

  pthread_mutex_lock(&g->lock);
  i = nfsb_find(g, pv_name);
  if (i < g->n) {
    free(g->entries[i].pv_name);
    g->entries[i] = g->entries[g->n - 1];
    g->n--;
  }
  pthread_mutex_unlock(&g->lock);
}
