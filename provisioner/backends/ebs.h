/* berth-provisioner: the EBS backend (block disks through the EC2 API).
 *
 * Class parameters, as aws-ebs-csi-driver's (so moving a class is a
 * one-line change of provisioner:):
 *
 *   type                       gp2 gp3 io1 io2 st1 sc1 standard (gp3)
 *   iops                       provisioned IOPS (io1, io2, gp3)
 *   iopsPerGB                  IOPS per GiB of the claim (io1, io2, gp3)
 *   allowAutoIOPSPerGBIncrease raise iopsPerGB's result to the type's
 *                              minimum (true/false)
 *   throughput                 MiB/s (gp3)
 *   encrypted, kmsKeyId        encryption at rest
 *   blockExpress               io2 Block Express limits (256,000 IOPS)
 *   tagSpecification_N         "key=value" extra tags; the value may use
 *                              {{ .PVCName }}, {{ .PVCNamespace }} and
 *                              {{ .PVName }}
 *   csi.storage.k8s.io/fstype  the PV's fsType (ext4)
 *
 * The PV is a csi volume (driver ebs.csi.aws.com, volumeHandle vol-...)
 * with a nodeAffinity for the disk's zone, which comes from the selected
 * node's topology labels under WaitForFirstConsumer.
 *
 * Idempotence: before creating, the backend looks for a disk tagged
 * CSIVolumeName=<pv name>; CreateVolume carries a ClientToken derived from
 * the PV name, so that a crash between CreateVolume and the PV never makes
 * a second disk. */
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

/* Parsed class parameters. Strings borrow from the parameters object. */
typedef struct berth_ebs_params {
  const char *type;
  int64_t iops;        /* 0: none */
  int64_t iops_per_gb; /* 0: none */
  bool allow_iops_increase;
  int64_t throughput; /* 0: none */
  bool encrypted;
  const char *kms_key_id; /* NULL: none */
  bool block_express;
  const char *fstype;
  const char *tag_specs[BERTH_EBS_MAX_EXTRA_TAGS]; /* "key=value" */
  size_t n_tag_specs;
} berth_ebs_params_t;

/* Parse and check class parameters (NULL: none) without I/O. Unknown keys
 * and bad values are BERTH_EINVAL naming the parameter. */
berth_status_t berth_ebs_params_parse(const json_t *parameters,
                                      berth_ebs_params_t *out,
                                      berth_error_t *err);

/* The disk's size in GiB for a claim of bytes (rounded up, raised to the
 * type's minimum). */
int64_t berth_ebs_size_gib(const berth_ebs_params_t *p, uint64_t bytes);

/* The IOPS to ask for (0: let EC2 choose), from iops or iopsPerGB and the
 * type's limits. */
int64_t berth_ebs_iops(const berth_ebs_params_t *p, int64_t size_gib);

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

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROVISIONER_BACKENDS_EBS_H */
