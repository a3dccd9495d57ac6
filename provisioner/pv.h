/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the PersistentVolume for a provisioned claim, built
 * exactly as the external provisioner protocol wants it (see
 * CONTRIBUTING.md and sig-storage-lib-external-provisioner's
 * provisionClaimOperation):
 *
 *   metadata.name        pvc-<claim uid>
 *   metadata.annotations pv.kubernetes.io/provisioned-by: <provisioner>,
 *                        plus the backend's own (where its storage is)
 *   metadata.finalizers  external-provisioner.volume.kubernetes.io/finalizer
 *                        when the reclaim policy is Delete
 *   spec.claimRef        kind, apiVersion, namespace, name, uid,
 *                        resourceVersion of the claim
 *   spec.capacity        storage: the backend's size (the claim's request
 *                        as written when they agree)
 *   spec.accessModes, spec.volumeMode     from the claim
 *   spec.persistentVolumeReclaimPolicy, spec.storageClassName,
 *   spec.mountOptions                     from the class
 *   spec.nodeAffinity    when the backend returned one
 *   spec.<source>        the backend's volume source (nfs: ...) */
#ifndef BERTH_PROV_PV_H
#define BERTH_PROV_PV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backends/backend.h"
#include "berth/status.h"

typedef struct prov_pv_input {
  const char *pv_name;     /* pvc-<uid> */
  const char *provisioner; /* our name for the class */
  const json_t *claim;
  const json_t *sclass;
  const berth_provision_result_t *result;
  uint64_t requested_bytes; /* the claim's request, parsed ... */
  const char *requested;    /* ... and as written */
} prov_pv_input_t;

/* Build the PV into *out (new reference, set only on success). */
berth_status_t prov_pv_build(const prov_pv_input_t *in, json_t **out,
                             berth_error_t *err);

/* The key "<class>/<gid>" of a PV whose class hands out gids (it carries
 * BERTH_ANN_PV_GID) into out; false when the PV has no class or no gid,
 * or the key does not fit. The controller indexes its PVs by it. */
bool prov_pv_class_gid_key(const json_t *pv, char *out, size_t outsize);

/* The gids in keys (an array of prov_pv_class_gid_key strings) that
 * belong to class cls, for berth_provision_request_t.used_gids: a new
 * array in *out (free it; NULL when out of memory), its length in *n. */
void prov_pv_used_gids(const json_t *keys, const char *cls, uint32_t **out,
                       size_t *n);

#endif /* BERTH_PROV_PV_H */
