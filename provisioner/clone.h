/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: claims cloned from another claim (a dataSource or
 * dataSourceRef of kind PersistentVolumeClaim).
 *
 * prov_clone_resolve checks the rules Kubernetes documents for clones, in
 * the order and words of the external provisioner (getPVCSource): the
 * source is in the claim's namespace (a dataSourceRef.namespace elsewhere
 * needs the CrossNamespaceVolumeDataSource feature gate and a
 * ReferenceGrant, which berth does not take: refused), it exists, it is
 * Bound and not being deleted, it is of the same StorageClass, the new
 * claim asks for at least the source's request, the source's PV is bound
 * to it, was provisioned by the same provisioner, and has the same volume
 * mode. Every refusal is BERTH_EINVAL with the reason; the controller
 * makes a ProvisioningFailed Event of it and retries with backoff (a
 * source that becomes Bound later is then used).
 *
 * The hooks it fills in (berth_clone_source_t) let the backend's copy
 * stop when the claim is deleted or the lease lost, and report progress:
 * Normal CloneProgress Events on the claim (at most one every
 * PROV_CLONE_EVENT_MS and PROV_CLONE_EVENTS_MAX per attempt) and the
 * berth_provisioner_clone_{files,bytes}_total counters. */
#ifndef BERTH_PROVISIONER_CLONE_H
#define BERTH_PROVISIONER_CLONE_H

#include "controller_int.h"

#include "backends/backend.h"

#define PROV_CLONE_EVENT_MS 5000
#define PROV_CLONE_EVENTS_MAX 20
#define PROV_CLONE_CHECK_MS 200 /* between looks at the claim */

typedef struct prov_clone {
  prov_controller_t *c;
  const json_t *claim;  /* borrowed: the claim being provisioned */
  json_t *source_claim; /* owned */
  json_t *source_pv;    /* owned */
  berth_clone_source_t hooks;
  int64_t last_check_ms;
  int64_t last_event_ms;
  unsigned events;
  bool cancelled;
  uint64_t files; /* reported so far, for the counters' increments */
  uint64_t bytes;
} prov_clone_t;

/* ---- clone_check.c: the rules, no I/O ---- */

/* true when ds (a claim's dataSource or dataSourceRef) names a claim. */
bool prov_clone_is_claim_source(const json_t *ds);

/* ds (claim's spec.<field>) names a claim in claim's own namespace. */
berth_status_t prov_clone_check_ref(const json_t *claim, const char *field,
                                    const json_t *ds, berth_error_t *err);

/* The source claim src (named name) may be cloned into claim: Bound, not
 * being deleted, same class, not larger than claim's request, with a
 * volume. */
berth_status_t prov_clone_check_source(const json_t *claim, const char *name,
                                       const json_t *src, berth_error_t *err);

/* The source's PV (NULL: not found) is bound to src, was provisioned by
 * prov, and has claim's volume mode. */
berth_status_t prov_clone_check_pv(const json_t *claim, const char *name,
                                   const json_t *src, const json_t *pv,
                                   const char *prov, berth_error_t *err);

/* ---- clone.c ---- */

/* Check the clone of claim (in class sclass, served by provisioner prov)
 * from the claim that ds names (field is "dataSource" or
 * "dataSourceRef", for messages) and fill *out, cleaned up with
 * prov_clone_cleanup (also after a failure). */
berth_status_t prov_clone_resolve(prov_controller_t *c, const json_t *claim,
                                  const char *prov, const char *field,
                                  const json_t *ds, prov_clone_t *out,
                                  berth_error_t *err);

void prov_clone_cleanup(prov_clone_t *cl);

#endif /* BERTH_PROVISIONER_CLONE_H */
