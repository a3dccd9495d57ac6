/* SPDX-License-Identifier: Apache-2.0 */
/* Well-known Kubernetes annotation and finalizer names that berth's
 * programs read and write, in one place so that the provisioner and
 * berthctl can never spell them differently.
 *
 * The names are those of kube-controller-manager's PV controller, the
 * scheduler and sig-storage-lib-external-provisioner (the external
 * provisioner protocol); the ones under berth.io are berth's own. Header
 * only: no functions. */
#ifndef BERTH_K8S_NAMES_H
#define BERTH_K8S_NAMES_H

/* Set by the PV controller on claims it wants an external provisioner to
 * handle (GA and beta names). */
#define BERTH_ANN_STORAGE_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define BERTH_ANN_STORAGE_PROVISIONER_BETA                                     \
  "volume.beta.kubernetes.io/storage-provisioner"

/* The class of a claim made before spec.storageClassName existed. */
#define BERTH_ANN_STORAGE_CLASS_BETA "volume.beta.kubernetes.io/storage-class"

/* Set by the scheduler on claims of WaitForFirstConsumer classes. */
#define BERTH_ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"

/* Set on every PV a provisioner makes: whose it is. */
#define BERTH_ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"

/* A PV handed over to another provisioner (CSI migration writes it). */
#define BERTH_ANN_MIGRATED_TO "pv.kubernetes.io/migrated-to"

/* Set by berthctl provision on the PVs a person made: not the
 * provisioner's doing (berth's own). */
#define BERTH_ANN_MADE_BY "berth.io/provisioned-by"

/* On PVs with reclaim policy Delete: the storage goes before the PV. */
#define BERTH_PV_FINALIZER "external-provisioner.volume.kubernetes.io/finalizer"

/* On claims while their storage exists without a saved PV, so that a
 * claim deleted meanwhile is cleaned up and nothing leaks (berth's own). */
#define BERTH_CLAIM_FINALIZER "provisioner.berth.io/provisioning"

#endif /* BERTH_K8S_NAMES_H */
