/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the EBS backend's records for the sweep
 * (berth_backend_records in backends/backend.h).
 *
 * A disk's record is a tag, BERTH_EBS_TAG_PROVISIONING = the claim's uid,
 * that CreateVolume writes with the disk's other tags (so that it exists
 * from the disk's first moment) and that "forget" removes (DeleteTags)
 * once the PV is saved. Only disks still carrying it are candidates for
 * the sweep: a disk whose PV was saved, and later deleted under a Retain
 * policy, never is. The record is written only when the cluster has an
 * id (BERTH_CLUSTER_ID): the kubernetes.io/cluster/<id> tag is what tells
 * this cluster's disks from another's in the same account and region, so
 * without it there are no records and no EBS sweep.
 *
 * A listing is one DescribeVolumes page (MaxResults from the request's
 * max, EC2's 5..500), filtered by EC2 on the record's tag, the cluster's
 * tag and the states a leftover can be in; its NextToken is kept and the
 * next listing (the next class, or the next sweep pass) goes on from it,
 * so that no pass lists the whole account. Internal to the backends. */
#ifndef BERTH_PROVISIONER_BACKENDS_EBS_RECORDS_H
#define BERTH_PROVISIONER_BACKENDS_EBS_RECORDS_H

#include "backends/backend.h"

#include "berth/aws.h"
#include "berth/aws_ec2.h"

/* The record: present from CreateVolume until the PV is saved. */
#define BERTH_EBS_TAG_PROVISIONING "berth.io/provisioning"

/* EC2's bounds on DescribeVolumes' MaxResults. */
#define BERTH_EBS_RECORDS_PAGE_MIN 5
#define BERTH_EBS_RECORDS_PAGE_MAX 500

typedef struct berth_ebs_records berth_ebs_records_t;

/* The listing's cursor, in *out. */
berth_status_t berth__ebs_records_create(berth_ebs_records_t **out);

/* Accepts NULL. */
void berth__ebs_records_destroy(berth_ebs_records_t *r);

/* List (req->forget NULL) or forget, as berth_backend_records, for the
 * disks tagged cluster_tag = owned (NULL: no cluster id, no records). A
 * max below BERTH_EBS_RECORDS_PAGE_MIN lists nothing this time. */
berth_status_t berth__ebs_records(berth_aws_t *aws, const char *cluster_tag,
                                  berth_ebs_records_t *r,
                                  berth_records_request_t *req,
                                  berth_error_t *err);

/* The record of disk v (a new object, as berth_records_request_t
 * describes), or NULL when v is no candidate: not tagged cluster_tag =
 * owned, no record tag or PV name, a PV name that is not pvc-<the
 * record's uid>, attached, or being deleted. */
json_t *berth__ebs_record(const berth_ec2_volume_t *v, const char *cluster_tag);

#endif /* BERTH_PROVISIONER_BACKENDS_EBS_RECORDS_H */
