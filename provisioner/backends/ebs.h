/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the EBS backend (block disks through the EC2 API).
 *
 * Class parameters, as aws-ebs-csi-driver's (so moving a class is a
 * one-line change of provisioner:). Keys are matched case-insensitively,
 * as the driver lower-cases them (kmsKeyId, KMSKEYID and kmskeyid are one
 * key); csi.storage.k8s.io/fstype and the tagSpecification prefix are
 * exact, as upstream. Every accepted key has an effect (README):
 *
 *   type                       gp2 gp3 io1 io2 st1 sc1 standard (gp3)
 *   iops                       provisioned IOPS (io1, io2, gp3)
 *   iopsPerGB                  IOPS per GiB of the claim (io1, io2, gp3)
 *   allowAutoIOPSPerGBIncrease raise a too low IOPS to the type's minimum
 *   allowAutoIOPSIncreaseOnModify  keep iopsPerGB's ratio when the disk
 *                              grows (tags the disk as upstream does)
 *   throughput                 MiB/s (gp3)
 *   encrypted, kmsKeyId        encryption at rest; kmsKeyId implies it
 *   blockExpress               deprecated upstream: accepted, no effect
 *   tagSpecification_N         "key=value" extra tags; the value may use
 *                              {{ .PVCName }}, {{ .PVCNamespace }} and
 *                              {{ .PVName }}
 *   csi.storage.k8s.io/fstype, fsType (deprecated)  the PV's fsType (ext4)
 *   blockSize, inodeSize, bytesPerInode, numberOfInodes, ext4BigAlloc,
 *   ext4ClusterSize, ext4EncryptionSupport  mkfs options for the node
 *                              plugin, in the PV's volumeAttributes under
 *                              the driver's (lower-case) keys
 *   volumeInitializationRate, blockAttachUntilInitialized  for disks
 *                              restored from snapshots: checked; no data
 *                              source is supported yet, so no disk needs
 *                              them
 *   outpostArn                 create the disk on an AWS Outpost
 *
 * The PV is a csi volume (driver ebs.csi.aws.com, volumeHandle vol-...)
 * with a nodeAffinity for the disk's zone, which comes from the selected
 * node's topology labels under WaitForFirstConsumer.
 *
 * Idempotence: before creating, the backend looks for a disk tagged
 * CSIVolumeName=<pv name>; CreateVolume carries a ClientToken derived from
 * the PV name, so that a crash between CreateVolume and the PV never makes
 * a second disk. With a cluster id, the disk also carries the sweep's
 * record (berth.io/provisioning, ebs_records.h) until its PV is saved. */
#ifndef BERTH_PROVISIONER_BACKENDS_EBS_H
#define BERTH_PROVISIONER_BACKENDS_EBS_H

#include "backends/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EBS_DRIVER "ebs.csi.aws.com"
#define BERTH_EBS_TOPOLOGY_KEY "topology.ebs.csi.aws.com/zone"
#define BERTH_EBS_ANN_VOLUME_ID "ebs.berth.io/volume-id"
#define BERTH_EBS_ANN_ZONE "ebs.berth.io/zone"

/* Tags every disk carries (aws-ebs-csi-driver's names). */
#define BERTH_EBS_TAG_VOLUME_NAME "CSIVolumeName"
#define BERTH_EBS_TAG_PVC_NAME "kubernetes.io/created-for/pvc/name"
#define BERTH_EBS_TAG_PVC_NAMESPACE "kubernetes.io/created-for/pvc/namespace"
#define BERTH_EBS_TAG_PV_NAME "kubernetes.io/created-for/pv/name"
#define BERTH_EBS_TAG_CLUSTER "ebs.csi.aws.com/cluster"

/* At most this many tagSpecification_N tags. */
#define BERTH_EBS_MAX_EXTRA_TAGS 40

/* The volumeAttributes keys of the mkfs options, as the driver's node
 * plugin reads them (its controller lower-cases the class's keys). */
#define BERTH_EBS_ATTR_BLOCK_SIZE "blocksize"
#define BERTH_EBS_ATTR_INODE_SIZE "inodesize"
#define BERTH_EBS_ATTR_BYTES_PER_INODE "bytesperinode"
#define BERTH_EBS_ATTR_NUMBER_OF_INODES "numberofinodes"
#define BERTH_EBS_ATTR_EXT4_BIGALLOC "ext4bigalloc"
#define BERTH_EBS_ATTR_EXT4_CLUSTER_SIZE "ext4clustersize"
#define BERTH_EBS_ATTR_EXT4_ENCRYPTION "ext4encryptionsupport"

/* Tags that let the resizer keep iopsPerGB's ratio
 * (allowAutoIOPSIncreaseOnModify), upstream's names. */
#define BERTH_EBS_TAG_AUTO_IOPS "ebs.csi.aws.com/AllowAutoIOPSIncreaseOnModify"
#define BERTH_EBS_TAG_IOPS_PER_GB "ebs.csi.aws.com/IOPSPerGb"

/* Parsed class parameters. Strings borrow from the parameters object. */
typedef struct berth_ebs_params {
  const char *type;
  int64_t iops;        /* 0: none */
  int64_t iops_per_gb; /* 0: none */
  bool allow_iops_increase;
  bool allow_iops_increase_on_modify;
  int64_t throughput; /* 0: none */
  bool encrypted;
  const char *kms_key_id; /* NULL: none */
  const char *fstype;
  /* mkfs options (NULL / false: not set), see BERTH_EBS_ATTR_*. */
  const char *block_size;
  const char *inode_size;
  const char *bytes_per_inode;
  const char *number_of_inodes;
  bool ext4_bigalloc;
  const char *ext4_cluster_size;
  bool ext4_encryption;
  int64_t volume_initialization_rate; /* MiB/s, 0: none */
  bool block_attach_until_initialized;
  const char *outpost_arn;                         /* NULL: none */
  const char *tag_specs[BERTH_EBS_MAX_EXTRA_TAGS]; /* "key=value" */
  size_t n_tag_specs;
} berth_ebs_params_t;

/* Parse and check class parameters (NULL: none) without I/O. Unknown keys
 * and bad values are BERTH_EINVAL naming the parameter (and, for a key of
 * another tool, which). */
berth_status_t berth_ebs_params_parse(const json_t *parameters,
                                      berth_ebs_params_t *out,
                                      berth_error_t *err);

/* The claim's shape against the parameters, as the driver's
 * CreateVolume: ReadWriteOnce and ReadWriteOncePod always; ReadWriteMany
 * only with volumeMode Block on io1/io2 (Multi-Attach); ReadOnlyMany
 * never; no mkfs option on a Block volume. BERTH_EINVAL naming it. */
berth_status_t berth_ebs_check_claim(const berth_ebs_params_t *p,
                                     unsigned access_modes, bool block,
                                     berth_error_t *err);

/* The PV's spec.csi.volumeAttributes for p (new object, maybe empty). */
json_t *berth_ebs_volume_attributes(const berth_ebs_params_t *p);

/* Parse the controller's --extra-tags value, "key=value,key2=value2"
 * (upstream's format), into a new object of strings in *out. An empty or
 * NULL text gives an empty object. */
berth_status_t berth_ebs_parse_extra_tags(const char *text, json_t **out,
                                          berth_error_t *err);

/* Pick the zone for a disk without a selected node from zones (n > 0,
 * sorted), spread by claim name as the external provisioner does: a
 * StatefulSet's claims (<name>-<ordinal>) go round the zones by ordinal
 * from a start that hashes the rest of the name. Borrowed from zones. */
const char *berth_ebs_pick_zone(const char *const *zones, size_t n,
                                const char *claim_name);

/* The disk's size in GiB for a claim of bytes (rounded up, raised to the
 * type's minimum). */
int64_t berth_ebs_size_gib(const berth_ebs_params_t *p, uint64_t bytes);

/* The IOPS to ask for (0: let EC2 choose), from iops or iopsPerGB and the
 * type's limits, as the driver caps them: above the type's maximum or
 * its per-GiB ratio: lowered; below its minimum: raised when
 * allowAutoIOPSPerGBIncrease, else BERTH_EINVAL. */
berth_status_t berth_ebs_iops(const berth_ebs_params_t *p, int64_t size_gib,
                              int64_t *out, berth_error_t *err);

/* Expand the templates of a tag value ("{{ .PVCName }}" ...) into out.
 * BERTH_EINVAL for an unknown or unterminated template (vars may be NULL
 * to check only). */
berth_status_t berth_ebs_expand(const char *tmpl, const char *pvc_name,
                                const char *pvc_namespace, const char *pv_name,
                                char *out, size_t size, berth_error_t *err);

/* The zone of a Node object from its topology labels, or NULL. Borrowed. */
const char *berth_ebs_node_zone(const json_t *node);

/* The ClientToken for a PV name: hex SHA-256, 64 characters + NUL. */
void berth_ebs_client_token(const char *pv_name, char out[65]);

typedef struct berth_backend_ebs_config {
  /* kubernetes.io/cluster/<id> = owned is added when set (borrowed). */
  const char *cluster_id;
  /* How long provision waits for "available" and delete for "detached"
   * (0: 60 s and 30 s). */
  int create_timeout_ms;
  int delete_timeout_ms;
  /* --extra-tags: "key=value,key2=value2" on every disk (borrowed). */
  const char *extra_tags;
} berth_backend_ebs_config_t;

/* Create an EBS backend (the AWS client from the environment) in *out. */
berth_status_t berth_backend_ebs_create(const berth_backend_ebs_config_t *cfg,
                                        berth_backend_t **out,
                                        berth_error_t *err);

/* Grow the disk of pv (an EBS backend's PV) to at least new_bytes with
 * ModifyVolume, as external-resizer's ControllerExpandVolume: a disk that
 * is already as large is left alone; a modification in progress is
 * waited for; then wait (bounded) until the modification is "optimizing"
 * or "completed", when the new size is usable. The disk's new size goes
 * to *out_bytes. It is the EBS backend's expand operation in the vtable
 * (berth_backend_expand), which the controller's resize step calls. */
berth_status_t berth_backend_ebs_expand(berth_backend_t *be, const json_t *pv,
                                        uint64_t new_bytes, uint64_t *out_bytes,
                                        berth_error_t *err);

/* The disk of an EBS PV: spec.csi.volumeHandle (driver ebs.csi.aws.com),
 * the volumeID of an in-tree awsElasticBlockStore PV handed over to berth
 * ("vol-..." or "aws://<zone>/vol-..."), or BERTH_EBS_ANN_VOLUME_ID; NULL
 * when none. Borrowed from pv. */
const char *berth_ebs_pv_volume_id(const json_t *pv);

/* The EBS backend's vtable, listed in berth_backends (registry.c), and
 * berthctl's operations (ebs_inspect.c). */
extern const berth_backend_ops_t berth_backend_ebs_ops;
extern const struct berth_inspect_ops berth_backend_ebs_inspect;

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROVISIONER_BACKENDS_EBS_H */
