/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the informers' transforms (berth_k8s_transform_fn):
 * what of each claim, PV and StorageClass the controller keeps.
 *
 * Claims and PVs that are not ours are not cached at all: a cluster where
 * berth serves a few claims among many pays for the few. Ours are kept
 * whole but for what no reconciler reads (managedFields, kubectl's
 * last-applied-configuration, creationTimestamp but a claim's, a claim's
 * status but its phase, a PV's lastPhaseTransitionTime: /metrics reads a
 * pending claim's phase and age), because pathPattern may name any of the
 * claim's annotations and labels, and the backends read the claim's spec
 * and the PV's.
 *
 *  - a claim is ours when its storage-provisioner annotation (GA, else
 *    beta) names one of our provisioners, or when it holds our guard
 *    finalizer (a claim whose class moved away mid-provisioning still
 *    needs its cleanup). It becomes ours when the PV controller sets the
 *    annotation (a class created after its claims, a class re-created
 *    with our provisioner): the informer delivers that as an add.
 *  - a PV is ours when pv.kubernetes.io/provisioned-by names one of our
 *    provisioners, when it records a gid (BERTH_ANN_PV_GID: gids are
 *    allocated over every PV of a class), or when its claimRef names a
 *    claim of ours (a PV made by someone else and then bound to one of
 *    our claims).
 *  - every StorageClass is kept (few, and a claim's class decides).
 *  - a VolumeAttachment is kept only when its attacher is ours, and then
 *    only its name, uid, resourceVersion and attacher. */
#ifndef BERTH_PROV_TRIM_H
#define BERTH_PROV_TRIM_H

#include <stdbool.h>

#include <jansson.h>

typedef struct prov_trim {
  /* true when provisioner name is one of ours (name may be NULL). */
  bool (*is_ours)(void *ctx, const char *name);
  /* true when the claim ns/name is cached as ours; may be NULL. */
  bool (*claim_cached)(void *ctx, const char *ns, const char *name);
  /* true when name is a provisioner whose PVs we adopt
   * (--adopt-provisioner); may be NULL. */
  bool (*is_adopted)(void *ctx, const char *name);
  void *ctx;
} prov_trim_t;

/* The transforms; trim is a prov_trim_t. Each returns obj itself (a new
 * reference), changed in place, or NULL when it is not ours. */
json_t *prov_trim_claim(void *trim, json_t *obj);
json_t *prov_trim_volume(void *trim, json_t *obj);
json_t *prov_trim_class(void *trim, json_t *obj);

/* The VolumeAttachment transform; attacher is our attacher's name (a
 * const char *). Returns a new, smaller object, or NULL when the
 * attachment is another attacher's. */
json_t *prov_trim_attachment(void *attacher, json_t *obj);

/* Remove from obj what no reconciler reads of any object:
 * metadata.managedFields, metadata.creationTimestamp and the
 * kubectl.kubernetes.io/last-applied-configuration annotation. */
void prov_trim_common(json_t *obj);

#endif /* BERTH_PROV_TRIM_H */
