/* SPDX-License-Identifier: Apache-2.0 */
/* berth: EC2 volumes and instances (Query API, version 2016-11-15).
 *
 * The calls the EBS backend, the attacher and the resizer need:
 * CreateVolume, DescribeVolumes, DeleteVolume, AttachVolume, DetachVolume,
 * ModifyVolume, DescribeVolumesModifications, CreateTags, DeleteTags,
 * DescribeInstances, and for snapshots CreateSnapshot, DescribeSnapshots
 * and DeleteSnapshot. Requests go through berth_aws_send() (signing,
 * retries); answers are parsed from EC2's XML with expat. AWS error codes
 * arrive in berth_error_t.reason ("InvalidVolume.NotFound") with the
 * berth status berth_aws_error_status() gives (BERTH_ENOTFOUND, ...).
 *
 * Results are embedded structs the caller cleans up with the matching
 * *_cleanup() function; every string in them is owned by the result.
 * Out-parameters are filled only on success. A missing field is NULL (a
 * string) or 0 (a number); an unparsable time is 0, not an error (EC2's
 * own examples carry placeholders). */
#ifndef BERTH_AWS_EC2_H
#define BERTH_AWS_EC2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/aws.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EC2_API_VERSION "2016-11-15"

/* A filter: Name and Values (EC2's Filter.N.Name / Filter.N.Value.M);
 * values may use * and ? wildcards. All borrowed. */
typedef struct berth_ec2_filter {
  const char *name;
  const char *const *values;
  size_t value_count;
} berth_ec2_filter_t;

/* Which objects a Describe* call returns. All borrowed; zero it for
 * "everything". */
typedef struct berth_ec2_describe_params {
  const char *const *ids; /* VolumeId.N / InstanceId.N */
  size_t id_count;
  const berth_ec2_filter_t *filters;
  size_t filter_count;
  int max_results;        /* 0: no paging (not with ids) */
  const char *next_token; /* from the previous page, or NULL */
} berth_ec2_describe_params_t;

typedef struct berth_ec2_attachment {
  char *volume_id;
  char *instance_id;
  char *device; /* "/dev/xvdba" */
  char *state;  /* attaching, attached, detaching, detached, busy */
  int64_t attach_time_ms;
  bool delete_on_termination;
} berth_ec2_attachment_t;

typedef struct berth_ec2_volume {
  char *volume_id;
  char *availability_zone;
  char *state;       /* creating, available, in-use, deleting, ... */
  char *volume_type; /* gp2, gp3, io1, io2, st1, sc1, standard */
  char *snapshot_id;
  char *kms_key_id;
  char *outpost_arn;
  int64_t size_gib;
  int64_t iops;
  int64_t throughput; /* MiB/s, gp3 */
  bool encrypted;
  bool multi_attach_enabled;
  int64_t create_time_ms;
  berth_aws_tag_t *tags;
  size_t tag_count;
  berth_ec2_attachment_t *attachments;
  size_t attachment_count;
} berth_ec2_volume_t;

typedef struct berth_ec2_volume_list {
  berth_ec2_volume_t *items;
  size_t count;
  char *next_token; /* NULL on the last page */
} berth_ec2_volume_list_t;

typedef struct berth_ec2_modification {
  char *volume_id;
  char *state; /* modifying, optimizing, completed, failed */
  char *status_message;
  int64_t target_size_gib;
  int64_t target_iops;
  int64_t target_throughput;
  char *target_volume_type;
  int64_t original_size_gib;
  int64_t original_iops;
  int64_t original_throughput;
  char *original_volume_type;
  int64_t progress; /* percent */
  int64_t start_time_ms;
  int64_t end_time_ms;
} berth_ec2_modification_t;

typedef struct berth_ec2_modification_list {
  berth_ec2_modification_t *items;
  size_t count;
  char *next_token;
} berth_ec2_modification_list_t;

typedef struct berth_ec2_block_device {
  char *device_name;
  char *volume_id;
  char *status; /* attaching, attached, detaching, detached */
  int64_t attach_time_ms;
  bool delete_on_termination;
} berth_ec2_block_device_t;

typedef struct berth_ec2_instance {
  char *instance_id;
  char *instance_type;
  char *state; /* pending, running, stopping, stopped, ... */
  char *availability_zone;
  char *private_dns_name;
  char *private_ip_address;
  char *root_device_name;
  berth_ec2_block_device_t *block_devices;
  size_t block_device_count;
  berth_aws_tag_t *tags;
  size_t tag_count;
} berth_ec2_instance_t;

typedef struct berth_ec2_instance_list {
  berth_ec2_instance_t *items;
  size_t count;
  char *next_token;
} berth_ec2_instance_list_t;

/* CreateVolume's parameters. Zero it, then set what you need; strings and
 * arrays are borrowed. */
typedef struct berth_ec2_create_volume_params {
  const char *availability_zone; /* required */
  int64_t size_gib;              /* required unless snapshot_id */
  const char *volume_type;       /* NULL: EC2's default (gp2) */
  int64_t iops;                  /* 0: not sent */
  int64_t throughput;            /* 0: not sent */
  bool encrypted;
  const char *kms_key_id;
  const char *snapshot_id;
  int64_t volume_initialization_rate; /* MiB/s, with snapshot_id; 0: not
                                         sent */
  const char *outpost_arn;
  bool multi_attach_enabled;
  /* The idempotency token (at most 64 ASCII characters): the same token
   * with the same parameters gives the same volume, so a retry or a
   * restart never makes a second disk. NULL: a random one for this call
   * (still the same across its retries). */
  const char *client_token;
  const berth_aws_kv_t *tags; /* TagSpecification ResourceType=volume */
  size_t tag_count;
} berth_ec2_create_volume_params_t;

/* ModifyVolume's parameters; 0 / NULL fields are not sent. */
typedef struct berth_ec2_modify_volume_params {
  const char *volume_id; /* required */
  int64_t size_gib;
  const char *volume_type;
  int64_t iops;
  int64_t throughput;
} berth_ec2_modify_volume_params_t;

/* An EBS snapshot (DescribeSnapshots' snapshotSet/item). */
typedef struct berth_ec2_snapshot {
  char *snapshot_id;
  char *volume_id;
  char *state; /* pending, completed, error, recoverable, recovering */
  char *state_message;
  char *progress; /* "100%" */
  char *description;
  char *kms_key_id;
  char *owner_id;
  char *outpost_arn;
  int64_t volume_size_gib;
  bool encrypted;
  int64_t start_time_ms;
  berth_aws_tag_t *tags;
  size_t tag_count;
} berth_ec2_snapshot_t;

typedef struct berth_ec2_snapshot_list {
  berth_ec2_snapshot_t *items;
  size_t count;
  char *next_token; /* NULL on the last page */
} berth_ec2_snapshot_list_t;

/* CreateSnapshot's parameters; NULL / 0 fields are not sent. EC2 takes no
 * ClientToken here: a caller that must not make two snapshots tags each
 * with a name of its own and looks for it before creating. */
typedef struct berth_ec2_create_snapshot_params {
  const char *volume_id; /* required */
  const char *description;
  const char *outpost_arn;
  const berth_aws_kv_t *tags; /* TagSpecification ResourceType=snapshot */
  size_t tag_count;
} berth_ec2_create_snapshot_params_t;

/* --- calls ------------------------------------------------------------------
 */

/* CreateVolume. *out is the new volume (state "creating"). */
berth_status_t
berth_ec2_create_volume(berth_aws_t *aws,
                        const berth_ec2_create_volume_params_t *p,
                        berth_ec2_volume_t *out, berth_error_t *err);

/* DescribeVolumes: one page. p may be NULL for all volumes. */
berth_status_t berth_ec2_describe_volumes(berth_aws_t *aws,
                                          const berth_ec2_describe_params_t *p,
                                          berth_ec2_volume_list_t *out,
                                          berth_error_t *err);

/* DescribeVolumes for one volume id. BERTH_ENOTFOUND with reason
 * InvalidVolume.NotFound when it does not exist. */
berth_status_t berth_ec2_describe_volume(berth_aws_t *aws,
                                         const char *volume_id,
                                         berth_ec2_volume_t *out,
                                         berth_error_t *err);

/* DeleteVolume. */
berth_status_t berth_ec2_delete_volume(berth_aws_t *aws, const char *volume_id,
                                       berth_error_t *err);

/* AttachVolume. *out (may be NULL) is the attachment ("attaching"). */
berth_status_t berth_ec2_attach_volume(berth_aws_t *aws, const char *volume_id,
                                       const char *instance_id,
                                       const char *device,
                                       berth_ec2_attachment_t *out,
                                       berth_error_t *err);

/* DetachVolume; instance_id and device may be NULL. *out may be NULL. */
berth_status_t berth_ec2_detach_volume(berth_aws_t *aws, const char *volume_id,
                                       const char *instance_id,
                                       const char *device, bool force,
                                       berth_ec2_attachment_t *out,
                                       berth_error_t *err);

/* ModifyVolume. *out (may be NULL) is the modification ("modifying"). */
berth_status_t
berth_ec2_modify_volume(berth_aws_t *aws,
                        const berth_ec2_modify_volume_params_t *p,
                        berth_ec2_modification_t *out, berth_error_t *err);

/* DescribeVolumesModifications: one page (ids are volume ids). */
berth_status_t berth_ec2_describe_volumes_modifications(
    berth_aws_t *aws, const berth_ec2_describe_params_t *p,
    berth_ec2_modification_list_t *out, berth_error_t *err);

/* CreateTags on resources (volumes, instances). */
berth_status_t berth_ec2_create_tags(berth_aws_t *aws,
                                     const char *const *resource_ids,
                                     size_t resource_count,
                                     const berth_aws_kv_t *tags,
                                     size_t tag_count, berth_error_t *err);

/* DeleteTags: remove the tags with these keys (whatever their values)
 * from resources. A key a resource does not carry is no error. At least
 * one key: EC2 reads none as "every tag". */
berth_status_t berth_ec2_delete_tags(berth_aws_t *aws,
                                     const char *const *resource_ids,
                                     size_t resource_count,
                                     const char *const *keys, size_t key_count,
                                     berth_error_t *err);

/* CreateSnapshot. *out is the new snapshot (state "pending"). */
berth_status_t
berth_ec2_create_snapshot(berth_aws_t *aws,
                          const berth_ec2_create_snapshot_params_t *p,
                          berth_ec2_snapshot_t *out, berth_error_t *err);

/* DescribeSnapshots: one page of the account's own snapshots (OwnerId.1 is
 * "self", so public snapshots never come back); ids are SnapshotId.N. */
berth_status_t berth_ec2_describe_snapshots(
    berth_aws_t *aws, const berth_ec2_describe_params_t *p,
    berth_ec2_snapshot_list_t *out, berth_error_t *err);

/* DescribeSnapshots for one snapshot id. BERTH_ENOTFOUND with reason
 * InvalidSnapshot.NotFound when it does not exist. */
berth_status_t berth_ec2_describe_snapshot(berth_aws_t *aws,
                                           const char *snapshot_id,
                                           berth_ec2_snapshot_t *out,
                                           berth_error_t *err);

/* DeleteSnapshot. A missing snapshot is BERTH_ENOTFOUND with reason
 * InvalidSnapshot.NotFound (the caller decides whether that is done). */
berth_status_t berth_ec2_delete_snapshot(berth_aws_t *aws,
                                         const char *snapshot_id,
                                         berth_error_t *err);

/* DescribeInstances: one page, every reservation's instances in one
 * list. */
berth_status_t berth_ec2_describe_instances(
    berth_aws_t *aws, const berth_ec2_describe_params_t *p,
    berth_ec2_instance_list_t *out, berth_error_t *err);

/* --- parsers (the calls use them; exposed for tests and tools) ---------------
 */

/* CreateVolumeResponse (the volume's fields at the top level). */
berth_status_t berth_ec2_parse_volume(const char *xml, size_t len,
                                      berth_ec2_volume_t *out,
                                      berth_error_t *err);

/* DescribeVolumesResponse. */
berth_status_t berth_ec2_parse_volumes(const char *xml, size_t len,
                                       berth_ec2_volume_list_t *out,
                                       berth_error_t *err);

/* AttachVolumeResponse or DetachVolumeResponse. */
berth_status_t berth_ec2_parse_attachment(const char *xml, size_t len,
                                          berth_ec2_attachment_t *out,
                                          berth_error_t *err);

/* ModifyVolumeResponse. */
berth_status_t berth_ec2_parse_modification(const char *xml, size_t len,
                                            berth_ec2_modification_t *out,
                                            berth_error_t *err);

/* DescribeVolumesModificationsResponse. */
berth_status_t berth_ec2_parse_modifications(const char *xml, size_t len,
                                             berth_ec2_modification_list_t *out,
                                             berth_error_t *err);

/* DescribeInstancesResponse. */
berth_status_t berth_ec2_parse_instances(const char *xml, size_t len,
                                         berth_ec2_instance_list_t *out,
                                         berth_error_t *err);

/* CreateSnapshotResponse (the snapshot's fields at the top level). */
berth_status_t berth_ec2_parse_snapshot(const char *xml, size_t len,
                                        berth_ec2_snapshot_t *out,
                                        berth_error_t *err);

/* DescribeSnapshotsResponse. */
berth_status_t berth_ec2_parse_snapshots(const char *xml, size_t len,
                                         berth_ec2_snapshot_list_t *out,
                                         berth_error_t *err);

/* A "<return>true</return>" answer (DeleteVolume, CreateTags): BERTH_OK
 * for true, BERTH_EHTTP for false, BERTH_EPARSE otherwise. */
berth_status_t berth_ec2_parse_return(const char *xml, size_t len,
                                      berth_error_t *err);

/* --- results
 * ------------------------------------------------------------------ */

/* The value of tag key on a volume (borrowed), or NULL. */
const char *berth_ec2_volume_tag(const berth_ec2_volume_t *v, const char *key);

/* The value of tag key on a snapshot (borrowed), or NULL. */
const char *berth_ec2_snapshot_tag(const berth_ec2_snapshot_t *s,
                                   const char *key);

/* Free what each result owns and zero it. All accept NULL. */
void berth_ec2_attachment_cleanup(berth_ec2_attachment_t *a);
void berth_ec2_volume_cleanup(berth_ec2_volume_t *v);
void berth_ec2_volume_list_cleanup(berth_ec2_volume_list_t *l);
void berth_ec2_modification_cleanup(berth_ec2_modification_t *m);
void berth_ec2_modification_list_cleanup(berth_ec2_modification_list_t *l);
void berth_ec2_instance_cleanup(berth_ec2_instance_t *i);
void berth_ec2_instance_list_cleanup(berth_ec2_instance_list_t *l);
void berth_ec2_snapshot_cleanup(berth_ec2_snapshot_t *s);
void berth_ec2_snapshot_list_cleanup(berth_ec2_snapshot_list_t *l);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_AWS_EC2_H */
