/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: what the external provisioner protocol reads from
 * claims, StorageClasses and nodes (pure functions over their JSON).
 *
 * The names are those of sig-storage-lib-external-provisioner and
 * kube-controller-manager; see CONTRIBUTING.md. */
#ifndef BERTH_PROV_CLAIM_H
#define BERTH_PROV_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/k8s_names.h"
#include "berth/status.h"

/* The well-known names, from libberth (berth/k8s_names.h), under the
 * controller's own prefix. */
#define PROV_ANN_STORAGE_PROVISIONER BERTH_ANN_STORAGE_PROVISIONER
#define PROV_ANN_STORAGE_PROVISIONER_BETA BERTH_ANN_STORAGE_PROVISIONER_BETA
#define PROV_ANN_STORAGE_CLASS_BETA BERTH_ANN_STORAGE_CLASS_BETA
#define PROV_ANN_SELECTED_NODE BERTH_ANN_SELECTED_NODE
#define PROV_ANN_PROVISIONED_BY BERTH_ANN_PROVISIONED_BY
#define PROV_ANN_MIGRATED_TO BERTH_ANN_MIGRATED_TO
#define PROV_PV_FINALIZER BERTH_PV_FINALIZER
#define PROV_CLAIM_FINALIZER BERTH_CLAIM_FINALIZER

/* The provisioner a claim asks for (GA annotation, else beta), or NULL.
 * Borrowed. */
const char *prov_claim_provisioner(const json_t *claim);

/* The claim's class: spec.storageClassName, else the beta annotation, or
 * NULL. Borrowed. */
const char *prov_claim_class(const json_t *claim);

/* volume.kubernetes.io/selected-node, or NULL. Borrowed. */
const char *prov_claim_selected_node(const json_t *claim);

/* spec.volumeName, or NULL when unbound. Borrowed. */
const char *prov_claim_volume_name(const json_t *claim);

/* true when metadata.deletionTimestamp is set. */
bool prov_obj_deleting(const json_t *obj);

/* true when metadata.finalizers holds name. */
bool prov_obj_has_finalizer(const json_t *obj, const char *name);

/* A deep copy of obj (new reference) with finalizer name added or removed;
 * NULL when out of memory. */
json_t *prov_obj_with_finalizer(const json_t *obj, const char *name,
                                bool present);

/* spec.accessModes as berth_access_mode_t bits; an unknown mode gives
 * BERTH_EINVAL naming it. */
berth_status_t prov_claim_access_modes(const json_t *claim, unsigned *out,
                                       berth_error_t *err);

/* spec.resources.requests.storage as bytes and as written (borrowed). A
 * missing or malformed request is BERTH_EINVAL. */
berth_status_t prov_claim_request(const json_t *claim, uint64_t *bytes,
                                  const char **text, berth_error_t *err);

/* The class's reclaimPolicy: "Delete" (the default), "Retain". Borrowed. */
const char *prov_class_reclaim_policy(const json_t *sclass);

/* true when volumeBindingMode is WaitForFirstConsumer. */
bool prov_class_wait_for_consumer(const json_t *sclass);

/* The class's provisioner, or NULL. Borrowed. */
const char *prov_class_provisioner(const json_t *sclass);

/* true when the node (its labels, and kubernetes.io/hostname = its name)
 * satisfies the class's allowedTopologies (any term; every expression of
 * the term). A class without allowedTopologies allows every node. */
bool prov_class_allows_node(const json_t *sclass, const json_t *node);

/* "pvc-<uid>" into out; false when it does not fit or uid is empty. */
bool prov_pv_name(const char *uid, char *out, size_t outsize);

#endif /* BERTH_PROV_CLAIM_H */
