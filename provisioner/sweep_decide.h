/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the sweep's decisions, apart from its effects.
 *
 * The sweep (sweep.c) looks at storage the backends recorded for claims
 * (an NFS journal entry, the tags of an EBS volume or an EFS access
 * point) and removes what neither a PV nor a claim owns any more: what a
 * provisioner killed between the backend call and the PV create left
 * behind for a claim deleted meanwhile. Removing storage is the one
 * thing that must never be wrong, so two pure steps decide it: first from
 * the caches and the record (cheap, no request), then, for the few that
 * pass, from GETs of the PV and the claim (a slow informer is never taken
 * for a deletion). */
#ifndef BERTH_PROV_SWEEP_DECIDE_H
#define BERTH_PROV_SWEEP_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/status.h"

/* What the sweep knows about one recorded volume before any request. */
typedef struct prov_sweep_facts {
  bool pv_cached;    /* the PV of the record is in the PV informer */
  bool claim_cached; /* a claim with the record's uid is in the cache */
  bool held;         /* this process holds the claim in flight */
  int64_t age_ms;    /* since the record was made; < 0: unknown */
  int64_t grace_ms;  /* --sweep-grace */
} prov_sweep_facts_t;

typedef enum prov_sweep_next {
  PROV_SWEEP_KEEP = 0, /* owned, in progress, too young or unsure */
  PROV_SWEEP_CONFIRM,  /* check with GETs of the PV and the claim */
  PROV_SWEEP_REMOVE    /* confirmed: delete the storage and the record */
} prov_sweep_next_t;

/* From the caches: KEEP or CONFIRM. */
prov_sweep_next_t prov_sweep_decide(const prov_sweep_facts_t *f);

/* From the GETs: pv_st is the PV GET's status; claim_st the claim GET's,
 * and claim_same_uid whether the claim it found has the record's uid.
 * REMOVE only when the PV is 404 and the claim is 404 or another claim
 * of the same name; any other answer (an error, a timeout) is KEEP. */
prov_sweep_next_t prov_sweep_confirm(berth_status_t pv_st,
                                     berth_status_t claim_st,
                                     bool claim_same_uid);

#endif /* BERTH_PROV_SWEEP_DECIDE_H */
