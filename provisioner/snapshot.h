/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: EBS snapshots, where the CSI snapshotter sidecar
 * (kubernetes-csi/external-snapshotter's csi-snapshotter) would run beside
 * aws-ebs-csi-driver.
 *
 * The standard snapshot-controller binds VolumeSnapshots to
 * VolumeSnapshotContents (snapshot.storage.k8s.io/v1), makes contents for
 * dynamic snapshots, puts the content finalizer
 * (snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection)
 * on them and marks contents to delete with the annotation
 * snapshot.storage.kubernetes.io/volumesnapshot-being-deleted. For each
 * content whose spec.driver is ours (ebs.csi.aws.com), berth:
 *
 *   - dynamic (spec.source.volumeHandle, no status.snapshotHandle yet):
 *     checks the VolumeSnapshotClass's parameters, sets the annotation
 *     snapshot.storage.kubernetes.io/volumesnapshot-being-created: yes,
 *     looks for an EC2 snapshot tagged CSIVolumeSnapshotName=snapshot-<the
 *     VolumeSnapshot's uid> (a retry or a restart after CreateSnapshot
 *     finds it) or makes one with CreateSnapshot and the driver's tags,
 *     writes status (snapshotHandle, creationTime in ns, restoreSize in
 *     bytes, readyToUse) and removes the being-created annotation;
 *   - not ready yet (pending), or pre-provisioned (spec.source.
 *     snapshotHandle): DescribeSnapshots, status as above; readyToUse once
 *     the snapshot is "completed";
 *   - failures: status.error (time, message) and a Warning Event on the
 *     content, retried with backoff;
 *   - deleted (deletionTimestamp, and being-deleted or an unbound
 *     pre-provisioned content, as the sidecar's shouldDelete): with
 *     deletionPolicy Delete, DeleteSnapshot (gone already is done; a
 *     dynamic content without a handle yet is looked up by its name tag,
 *     so a crash between CreateSnapshot and the status leaks nothing),
 *     then status.snapshotHandle is cleared; then the finalizer goes.
 *     Retain keeps the EC2 snapshot.
 *
 * Started by app.c with the attacher (leader only) when a provisioner uses
 * the EBS backend. A missing CRD (no snapshot support in the cluster) only
 * makes the informer retry. */
#ifndef BERTH_PROV_SNAPSHOT_H
#define BERTH_PROV_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/aws.h"
#include "berth/k8s.h"
#include "berth/status.h"

#define PROV_SNAP_DRIVER "ebs.csi.aws.com"
#define PROV_SNAP_FINALIZER                                                    \
  "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
#define PROV_SNAP_ANN_BEING_CREATED                                            \
  "snapshot.storage.kubernetes.io/volumesnapshot-being-created"
#define PROV_SNAP_ANN_BEING_DELETED                                            \
  "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted"
/* The tag aws-ebs-csi-driver names its snapshots with. */
#define PROV_SNAP_TAG_NAME "CSIVolumeSnapshotName"

/* snapshot.storage.k8s.io/v1 resources. */
extern const berth_k8s_resource_t prov_res_volumesnapshots;
extern const berth_k8s_resource_t prov_res_volumesnapshotcontents;
extern const berth_k8s_resource_t prov_res_volumesnapshotclasses;

typedef struct prov_snapshotter prov_snapshotter_t;

typedef struct prov_snapshotter_options {
  const char *driver;     /* spec.driver we serve (NULL: ebs.csi.aws.com) */
  const char *cluster_id; /* kubernetes.io/cluster/<id> tag, or NULL */
  const char *extra_tags; /* --extra-tags "k=v,k2=v2", or NULL */
  double api_qps;         /* the API budget its Events share (events.h) */
  int api_burst;
} prov_snapshotter_options_t;

/* Create over a Kubernetes client and an AWS client (borrowed: they must
 * outlive it). */
berth_status_t prov_snapshotter_create(berth_k8s_client_t *k8s,
                                       berth_aws_t *aws,
                                       const prov_snapshotter_options_t *opts,
                                       prov_snapshotter_t **out,
                                       berth_error_t *err);

/* Reconcile the VolumeSnapshotContent name once. BERTH_OK when it is as it
 * should be (or not ours, or gone), with *pending set when the snapshot is
 * not completed yet (look again later). */
berth_status_t prov_snapshotter_sync(prov_snapshotter_t *s, const char *name,
                                     bool *pending, berth_error_t *err);

/* Start the informer and one worker thread. */
berth_status_t prov_snapshotter_start(prov_snapshotter_t *s,
                                      berth_error_t *err);

/* Stop (if started) and free. Accepts NULL. */
void prov_snapshotter_destroy(prov_snapshotter_t *s);

/* The snapshot name the sidecar passes to CreateSnapshot for a
 * VolumeSnapshot uid: "snapshot-<uid>". */
void prov_snapshot_name(const char *uid, char *out, size_t size);

/* The tags of a new snapshot, as aws-ebs-csi-driver's CreateSnapshot sets
 * them: CSIVolumeSnapshotName, ebs.csi.aws.com/cluster=true, with a cluster
 * id kubernetes.io/cluster/<id>=owned and Name=<id>-dynamic-<name>, the
 * --extra-tags, then the class's tagSpecification_N (templates expanded
 * from the VolumeSnapshot's name and namespace and the content's name).
 * A new object of strings into *out; BERTH_EINVAL for a bad template. */
berth_status_t
prov_snapshot_tags(const char *snapshot_name, const char *cluster_id,
                   const json_t *extra_tags, const json_t *parameters,
                   const char *vs_name, const char *vs_namespace,
                   const char *content_name, json_t **out, berth_error_t *err);

/* Check a VolumeSnapshotClass's parameters (NULL: none) as
 * aws-ebs-csi-driver's CreateSnapshot: tagSpecification_N ("key=value",
 * the value may use {{ .VolumeSnapshotName }}, {{ .VolumeSnapshotNamespace
 * }}, {{ .VolumeSnapshotContentName }}), outpostArn (an ARN), the
 * sidecar's csi.storage.k8s.io/volumesnapshot{,content}/ keys. Refused
 * with BERTH_EINVAL naming the key: fastSnapshotRestoreAvailabilityZones
 * and the lock* keys (berth does not call EnableFastSnapshotRestores nor
 * LockSnapshot, and never accepts a key it would ignore), anything else.
 * Keys compare case-insensitively, as the driver's. */
berth_status_t prov_snapshot_class_check(const json_t *parameters,
                                         berth_error_t *err);

/* The claim's data source when it is a VolumeSnapshot of ours: its
 * snapshot id (into id) and restore size. BERTH_ENOTFOUND when the claim
 * names no VolumeSnapshot; BERTH_EINVAL when it names one that cannot be
 * restored by berth (another driver, a content bound elsewhere, a claim
 * smaller than the snapshot); BERTH_EUNAVAILABLE while the snapshot is
 * not ready. err says which. (restore.c) */
berth_status_t prov_restore_source(berth_k8s_client_t *k8s, const json_t *claim,
                                   uint64_t requested, char *id, size_t id_size,
                                   uint64_t *restore_bytes, berth_error_t *err);

#endif /* BERTH_PROV_SNAPSHOT_H */
