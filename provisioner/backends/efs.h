/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the EFS backend.
 *
 * Class parameters, as aws-efs-csi-driver's plus berth's own efs-dir mode:
 *
 *   provisioningMode   efs-ap (an access point per volume) or efs-dir (a
 *                      sub-directory on the file system through libnfs,
 *                      with a plain nfs PV: no CSI driver on the nodes)
 *   fileSystemId       fs-...; required for efs-ap, and for efs-dir
 *                      unless server or url is given
 *   directoryPerms     octal permissions of the volume's root directory
 *                      (required for efs-ap)
 *   gidRangeStart,     efs-ap: the POSIX uid/gid of each access point is
 *   gidRangeEnd        the lowest gid of the range (default 50000-7000000)
 *                      unused by the file system's other access points
 *   uid, gid           fixed POSIX user instead of the range
 *   basePath           the directory under which volumes are made
 *   subPathPattern     ${.PVC.name}, ${.PVC.namespace}, ${.PV.name}
 *                      (default ${.PV.name})
 *   ensureUniqueDirectory  efs-ap: append "-<claim uid>" (default true)
 *   server, url        efs-dir: the NFS server (default
 *                      <fs>.efs.<region>.amazonaws.com, NFSv4) or a libnfs
 *                      URL
 *   onDelete, archiveOnDelete  efs-dir: as the NFS backend's
 *
 * efs-ap PVs: csi driver efs.csi.aws.com, volumeHandle fs-...::fsap-....
 * Access points are created with ClientToken = the PV name, and found
 * again by it, so a crash never leaves a second one. With a cluster id
 * (BERTH_CLUSTER_ID) they carry kubernetes.io/cluster/<id> = owned and,
 * until the PV is saved, the sweep's record (efs_records.h). */
#ifndef BERTH_PROVISIONER_BACKENDS_EFS_H
#define BERTH_PROVISIONER_BACKENDS_EFS_H

#include "backends/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EFS_DRIVER "efs.csi.aws.com"
#define BERTH_EFS_ANN_ACCESS_POINT "efs.berth.io/access-point-id"
#define BERTH_EFS_GID_MIN_DEFAULT 50000
#define BERTH_EFS_GID_MAX_DEFAULT 7000000

/* Expand a subPathPattern (${.PVC.name}, ${.PVC.namespace}, ${.PV.name})
 * into out. BERTH_EINVAL for an unknown variable, a ".." or "." component,
 * or a result that does not fit. */
berth_status_t berth_efs_expand_path(const char *pattern, const char *pvc_name,
                                     const char *pvc_namespace,
                                     const char *pv_name, char *out,
                                     size_t size, berth_error_t *err);

/* The lowest gid in [lo, hi] not in used (n of them); BERTH_EPERM when the
 * range is full. */
berth_status_t berth_efs_pick_gid(uint32_t lo, uint32_t hi,
                                  const uint32_t *used, size_t n, uint32_t *out,
                                  berth_error_t *err);

/* Create an EFS backend (the AWS client from the environment). */
berth_status_t berth_backend_efs_create(berth_backend_t **out,
                                        berth_error_t *err);

/* The EFS backend's vtable, listed in berth_backends (registry.c), and
 * berthctl's operations (efs_inspect.c). */
extern const berth_backend_ops_t berth_backend_efs_ops;
extern const struct berth_inspect_ops berth_backend_efs_inspect;

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROVISIONER_BACKENDS_EFS_H */
