/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the sweep's decisions, see sweep_decide.h. */
#include "sweep_decide.h"

prov_sweep_next_t prov_sweep_decide(const prov_sweep_facts_t *f)
{
  /* Owned: a PV (whatever its reclaim policy, Retain included) or a
   * claim that may still get one. */
  if (f->pv_cached || f->claim_cached)
    return PROV_SWEEP_KEEP;
  /* Being provisioned right now by this process: its worker finishes or
   * cleans up itself. */
  if (f->held)
    return PROV_SWEEP_KEEP;
  /* Too young (or of unknown age): the informers may not show the claim
   * or the PV yet, or another leader's worker may be on it. */
  if (f->age_ms < 0 || f->age_ms < f->grace_ms)
    return PROV_SWEEP_KEEP;
  return PROV_SWEEP_CONFIRM;
}

prov_sweep_next_t prov_sweep_confirm(berth_status_t pv_st,
                                     berth_status_t claim_st,
                                     bool claim_same_uid)
{
  if (pv_st != BERTH_ENOTFOUND)
    return PROV_SWEEP_KEEP;
  if (claim_st == BERTH_ENOTFOUND)
    return PROV_SWEEP_REMOVE;
  /* A claim of the same name made since is another claim. */
  if (claim_st == BERTH_OK && !claim_same_uid)
    return PROV_SWEEP_REMOVE;
  return PROV_SWEEP_KEEP;
}
