/* SPDX-License-Identifier: Apache-2.0 */
/* berth: EFS access points, file systems and mount targets (REST-JSON API,
 * version 2015-02-01).
 *
 *   CreateAccessPoint     POST   /2015-02-01/access-points
 *   DescribeAccessPoints  GET    /2015-02-01/access-points
 *   DeleteAccessPoint     DELETE /2015-02-01/access-points/{AccessPointId}
 *   DescribeFileSystems   GET    /2015-02-01/file-systems
 *   DescribeMountTargets  GET    /2015-02-01/mount-targets
 *   UntagResource         DELETE /2015-02-01/resource-tags/{ResourceId}
 *
 * Requests go through berth_aws_send() (signing as "elasticfilesystem",
 * retries on ThrottlingException and 5xx); errors come as
 * {"ErrorCode": ..., "Message": ...} and land in berth_error_t.reason
 * ("AccessPointNotFound" gives BERTH_ENOTFOUND). Ownership as in
 * aws_ec2.h: embedded results, *_cleanup(), filled only on success. */
#ifndef BERTH_AWS_EFS_H
#define BERTH_AWS_EFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/aws.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BERTH_EFS_API_VERSION "2015-02-01"

typedef struct berth_efs_access_point {
  char *access_point_id; /* "fsap-..." */
  char *access_point_arn;
  char *file_system_id;
  char *client_token;
  char *name; /* the Name tag, or NULL */
  char *owner_id;
  char *life_cycle_state; /* creating, available, updating, deleting, ... */
  bool has_posix_user;
  int64_t posix_uid;
  int64_t posix_gid;
  int64_t *secondary_gids;
  size_t secondary_gid_count;
  char *root_path; /* "/" when the answer has none */
  bool has_creation_info;
  int64_t owner_uid;
  int64_t owner_gid;
  char *permissions; /* octal text, "0755" */
  berth_aws_tag_t *tags;
  size_t tag_count;
} berth_efs_access_point_t;

typedef struct berth_efs_access_point_list {
  berth_efs_access_point_t *items;
  size_t count;
  char *next_token; /* NULL on the last page */
} berth_efs_access_point_list_t;

typedef struct berth_efs_file_system {
  char *file_system_id;
  char *file_system_arn;
  char *name;
  char *creation_token;
  char *owner_id;
  char *life_cycle_state;
  char *performance_mode;
  char *throughput_mode;
  char *kms_key_id;
  char *availability_zone_name; /* One Zone file systems only */
  bool encrypted;
  int64_t number_of_mount_targets;
  int64_t size_bytes;
  int64_t creation_time_ms;
  berth_aws_tag_t *tags;
  size_t tag_count;
} berth_efs_file_system_t;

typedef struct berth_efs_file_system_list {
  berth_efs_file_system_t *items;
  size_t count;
  char *next_marker;
} berth_efs_file_system_list_t;

typedef struct berth_efs_mount_target {
  char *mount_target_id;
  char *file_system_id;
  char *subnet_id;
  char *life_cycle_state;
  char *ip_address;
  char *network_interface_id;
  char *availability_zone_id;
  char *availability_zone_name;
  char *vpc_id;
  char *owner_id;
} berth_efs_mount_target_t;

typedef struct berth_efs_mount_target_list {
  berth_efs_mount_target_t *items;
  size_t count;
  char *next_marker;
} berth_efs_mount_target_list_t;

/* CreateAccessPoint's parameters: zero it, set what you need. Strings
 * and arrays are borrowed. */
typedef struct berth_efs_create_access_point_params {
  /* Required: idempotency token (1..64 characters) and file system. The
   * same token with the same parameters gives the same access point. */
  const char *client_token;
  const char *file_system_id;
  /* PosixUser: every operation through the access point acts as this
   * user. */
  bool set_posix_user;
  uint32_t uid;
  uint32_t gid;
  const uint32_t *secondary_gids;
  size_t secondary_gid_count;
  /* RootDirectory.Path (NULL: "/"), created with CreationInfo when
   * set_creation_info. permissions is octal text ("0755"). */
  const char *root_path;
  bool set_creation_info;
  uint32_t owner_uid;
  uint32_t owner_gid;
  const char *permissions;
  const berth_aws_kv_t *tags;
  size_t tag_count;
} berth_efs_create_access_point_params_t;

/* --- calls ------------------------------------------------------------------
 */

berth_status_t berth_efs_create_access_point(
    berth_aws_t *aws, const berth_efs_create_access_point_params_t *p,
    berth_efs_access_point_t *out, berth_error_t *err);

/* DescribeAccessPoints: one page. file_system_id or access_point_id (not
 * both; neither lists every access point); max_results 0 for the
 * service's default; next_token NULL for the first page. */
berth_status_t berth_efs_describe_access_points(
    berth_aws_t *aws, const char *file_system_id, const char *access_point_id,
    int max_results, const char *next_token, berth_efs_access_point_list_t *out,
    berth_error_t *err);

berth_status_t berth_efs_delete_access_point(berth_aws_t *aws,
                                             const char *access_point_id,
                                             berth_error_t *err);

/* UntagResource: remove the tags with these keys (key_count > 0) from
 * resource_id (an access point or file system id). A key the resource
 * does not carry is no error. */
berth_status_t berth_efs_untag_resource(berth_aws_t *aws,
                                        const char *resource_id,
                                        const char *const *keys,
                                        size_t key_count, berth_error_t *err);

/* DescribeFileSystems: one page; file_system_id and creation_token may be
 * NULL, max_items 0 for the default, marker NULL for the first page. */
berth_status_t berth_efs_describe_file_systems(
    berth_aws_t *aws, const char *file_system_id, const char *creation_token,
    int max_items, const char *marker, berth_efs_file_system_list_t *out,
    berth_error_t *err);

/* DescribeMountTargets: exactly one of file_system_id, mount_target_id
 * and access_point_id. */
berth_status_t berth_efs_describe_mount_targets(
    berth_aws_t *aws, const char *file_system_id, const char *mount_target_id,
    const char *access_point_id, int max_items, const char *marker,
    berth_efs_mount_target_list_t *out, berth_error_t *err);

/* --- parsers (exposed for tests and tools)
 * ------------------------------------ */

/* One AccessPointDescription (CreateAccessPoint's answer). */
berth_status_t berth_efs_parse_access_point(const char *json, size_t len,
                                            berth_efs_access_point_t *out,
                                            berth_error_t *err);

berth_status_t berth_efs_parse_access_points(const char *json, size_t len,
                                             berth_efs_access_point_list_t *out,
                                             berth_error_t *err);

berth_status_t berth_efs_parse_file_systems(const char *json, size_t len,
                                            berth_efs_file_system_list_t *out,
                                            berth_error_t *err);

berth_status_t berth_efs_parse_mount_targets(const char *json, size_t len,
                                             berth_efs_mount_target_list_t *out,
                                             berth_error_t *err);

/* --- results
 * ------------------------------------------------------------------ */

void berth_efs_access_point_cleanup(berth_efs_access_point_t *ap);
void berth_efs_access_point_list_cleanup(berth_efs_access_point_list_t *l);
void berth_efs_file_system_cleanup(berth_efs_file_system_t *fs);
void berth_efs_file_system_list_cleanup(berth_efs_file_system_list_t *l);
void berth_efs_mount_target_cleanup(berth_efs_mount_target_t *mt);
void berth_efs_mount_target_list_cleanup(berth_efs_mount_target_list_t *l);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_AWS_EFS_H */
