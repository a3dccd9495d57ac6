/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the EFS backend's records for the sweep
 * (berth_backend_records in backends/backend.h), for efs-ap classes;
 * efs-dir classes keep the NFS backend's journal.
 *
 * An access point's record is a tag, BERTH_EFS_TAG_PROVISIONING = the
 * claim's uid, that CreateAccessPoint writes with its other tags and that
 * "forget" removes (UntagResource) once the PV is saved; only access
 * points still carrying it, and this cluster's tag
 * (kubernetes.io/cluster/<BERTH_CLUSTER_ID> = owned), are candidates.
 * Without a cluster id no record is written; nor for reuseAccessPoint
 * classes, whose access points are meant to outlive their claims.
 *
 * DescribeAccessPoints filters by file system only, not by tag, so a
 * listing reads one page (at most the request's max, and 100) of the
 * class's file system and keeps the candidates; the page's NextToken is
 * kept per file system and the next listing goes on from it. EFS says
 * nothing of an access point's age, so a record's "created" is when this
 * process first listed it: a lower bound of its age, which makes the
 * grace period start again after a restart (safe: later, never sooner).
 * Internal to the backends. */
#ifndef BERTH_PROVISIONER_BACKENDS_EFS_RECORDS_H
#define BERTH_PROVISIONER_BACKENDS_EFS_RECORDS_H

#include "backends/backend.h"

#include "berth/aws.h"
#include "berth/aws_efs.h"

/* The record: present from CreateAccessPoint until the PV is saved. */
#define BERTH_EFS_TAG_PROVISIONING "berth.io/provisioning"

/* DescribeAccessPoints' page, at most. */
#define BERTH_EFS_RECORDS_PAGE_MAX 100

typedef struct berth_efs_records berth_efs_records_t;

/* The cursors and what this process remembers of its access points. */
berth_status_t berth__efs_records_create(berth_efs_records_t **out);

/* Accepts NULL. */
void berth__efs_records_destroy(berth_efs_records_t *r);

/* Provision made (or found) access point ap_id for PV pv: forget needs
 * no listing then. */
void berth__efs_records_made(berth_efs_records_t *r, const char *pv,
                             const char *ap_id);

/* List (req->forget NULL) or forget, as berth_backend_records, the
 * records of file system fs_id's access points tagged cluster_tag = owned
 * (NULL: no cluster id, no records). */
berth_status_t berth__efs_records(berth_aws_t *aws, const char *cluster_tag,
                                  berth_efs_records_t *r, const char *fs_id,
                                  berth_records_request_t *req,
                                  berth_error_t *err);

/* The record of ap (a new object, as berth_records_request_t describes,
 * with "created" set to created), or NULL when ap is no candidate: not
 * tagged cluster_tag = owned, no record tag or PV name, a PV name that is
 * not pvc-<the record's uid>, or being deleted. */
json_t *berth__efs_record(const berth_efs_access_point_t *ap,
                          const char *cluster_tag, int64_t created);

#endif /* BERTH_PROVISIONER_BACKENDS_EFS_RECORDS_H */
