/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the claim state machine's decisions, see
 * claim_decide.h. */
#include "claim_decide.h"

prov_claim_next_t prov_claim_decide(const prov_claim_facts_t *f)
{
  /* A claim on its way out: only what we made for it matters. */
  if (f->going) {
    if (!f->guarded)
      return PROV_NEXT_NOTHING;
    return f->pv_exists ? PROV_NEXT_UNGUARD : PROV_NEXT_CLEANUP;
  }
  /* Provisioned already (by us, or bound to another PV). */
  if (f->bound || f->pv_exists)
    return f->ours ? PROV_NEXT_RESIZE : PROV_NEXT_UNGUARD;
  if (!f->ours)
    return f->class_missing ? PROV_NEXT_WAIT_CLASS : PROV_NEXT_NOTHING;
  if (f->wait_for_node)
    return PROV_NEXT_NOTHING;
  return PROV_NEXT_PROVISION;
}

prov_claim_next_t prov_claim_after_backend(berth_status_t st)
{
  if (st == BERTH_OK)
    return PROV_NEXT_SAVE;
  /* BERTH_EINVAL: the request itself is wrong and the backend wrote
   * nothing (backend.h). */
  return st == BERTH_EINVAL ? PROV_NEXT_REFUSE : PROV_NEXT_BACKOFF;
}

prov_claim_next_t prov_claim_after_save(berth_status_t st)
{
  if (st == BERTH_OK || st == BERTH_EEXIST)
    return PROV_NEXT_SUCCEEDED;
  return st == BERTH_EINVAL ? PROV_NEXT_UNDO : PROV_NEXT_BACKOFF;
}

const char *prov_claim_next_name(prov_claim_next_t n)
{
  static const char *const names[] = {
      "NOTHING", "WAIT_CLASS", "UNGUARD", "RESIZE",    "CLEANUP", "PROVISION",
      "SAVE",    "REFUSE",     "BACKOFF", "SUCCEEDED", "UNDO"};

  if ((unsigned)n < sizeof(names) / sizeof(names[0]))
    return names[n];
  return "?";
}
