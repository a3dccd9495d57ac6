/* SPDX-License-Identifier: Apache-2.0 */
/* EFS calls (REST-JSON, version 2015-02-01), see include/berth/aws_efs.h.
 *
 * Shapes from botocore's efs/2015-02-01/service-2.json:
 * AccessPointDescription {ClientToken, Name, Tags[{Key,Value}],
 * AccessPointId, AccessPointArn, FileSystemId, PosixUser {Uid, Gid,
 * SecondaryGids}, RootDirectory {Path, CreationInfo {OwnerUid, OwnerGid,
 * Permissions}}, OwnerId, LifeCycleState}; list answers carry NextToken
 * (access points) or NextMarker (file systems, mount targets). Query
 * parameters are encoded as SigV4 canonicalises them, so that the URL
 * sent is the canonical one. */
#include "aws_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "berth/aws_efs.h"
#include "berth/json.h"
#include "berth/sigv4.h"

#define JSON_TYPE "application/json"
#define BASE "/" BERTH_EFS_API_VERSION

/* --- parsing -----------------------------------------------------------------
 */

static berth_status_t dup_str(const json_t *obj, const char *key, char **out,
                              berth_error_t *err)
{
  const char *s = NULL;
  berth_status_t st = berth_json_opt_string(obj, key, NULL, &s, err);

  *out = NULL;
  if (st != BERTH_OK || s == NULL)
    return st;
  *out = strdup(s);
  return *out != NULL ? BERTH_OK
                      : berth_error_set(err, BERTH_ENOMEM, "out of memory");
}

static berth_status_t parse_tags(const json_t *obj, berth_aws_tag_t **tags,
                                 size_t *count, berth_error_t *err)
{
  json_t *arr = NULL;
  size_t i;
  berth_status_t st;

  *tags = NULL;
  *count = 0;
  st = berth_json_opt_array(obj, "Tags", &arr, err);
  if (st != BERTH_OK || arr == NULL || json_array_size(arr) == 0)
    return st;
  *tags = calloc(json_array_size(arr), sizeof(**tags));
  if (*tags == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  for (i = 0; i < json_array_size(arr) && st == BERTH_OK; i++) {
    berth_aws_tag_t *t = &(*tags)[*count];
    json_t *item = json_array_get(arr, i);
    const char *k = NULL, *v = NULL;

    st = berth_json_get_string(item, "Key", &k, err);
    if (st == BERTH_OK)
      st = berth_json_opt_string(item, "Value", "", &v, err);
    if (st != BERTH_OK)
      break;
    t->key = strdup(k);
    t->value = strdup(v);
    (*count)++;
    if (t->key == NULL || t->value == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  return st;
}

static void free_tags(berth_aws_tag_t *tags, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    free(tags[i].key);
    free(tags[i].value);
  }
  free(tags);
}

static berth_status_t fill_access_point(const json_t *o,
                                        berth_efs_access_point_t *ap,
                                        berth_error_t *err)
{
  json_t *posix = NULL, *root = NULL, *ci = NULL, *gids = NULL;
  long long v;
  berth_status_t st;
  size_t i;

  memset(ap, 0, sizeof(*ap));
  if (!json_is_object(o))
    return berth_error_set(err, BERTH_EPARSE,
                           "efs: an access point is not an object");
  st = dup_str(o, "AccessPointId", &ap->access_point_id, err);
  if (st == BERTH_OK && ap->access_point_id == NULL)
    st = berth_error_set(err, BERTH_EPARSE, "AccessPointId: missing");
  if (st == BERTH_OK)
    st = dup_str(o, "AccessPointArn", &ap->access_point_arn, err);
  if (st == BERTH_OK)
    st = dup_str(o, "FileSystemId", &ap->file_system_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "ClientToken", &ap->client_token, err);
  if (st == BERTH_OK)
    st = dup_str(o, "Name", &ap->name, err);
  if (st == BERTH_OK)
    st = dup_str(o, "OwnerId", &ap->owner_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "LifeCycleState", &ap->life_cycle_state, err);
  if (st == BERTH_OK)
    st = berth_json_opt_object(o, "PosixUser", &posix, err);
  if (st == BERTH_OK && posix != NULL) {
    ap->has_posix_user = true;
    st = berth_json_get_int(posix, "Uid", &v, err);
    ap->posix_uid = v;
    if (st == BERTH_OK)
      st = berth_json_get_int(posix, "Gid", &v, err);
    ap->posix_gid = v;
    if (st == BERTH_OK)
      st = berth_json_opt_array(posix, "SecondaryGids", &gids, err);
    if (st == BERTH_OK && gids != NULL && json_array_size(gids) > 0) {
      ap->secondary_gids = calloc(json_array_size(gids), sizeof(int64_t));
      if (ap->secondary_gids == NULL)
        st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      for (i = 0; st == BERTH_OK && i < json_array_size(gids); i++) {
        json_t *g = json_array_get(gids, i);
        if (!json_is_integer(g)) {
          st = berth_error_set(err, BERTH_EPARSE,
                               "efs: PosixUser.SecondaryGids[%zu]: expected "
                               "integer",
                               i);
          break;
        }
        ap->secondary_gids[ap->secondary_gid_count++] = json_integer_value(g);
      }
    }
  }
  if (st == BERTH_OK)
    st = berth_json_opt_object(o, "RootDirectory", &root, err);
  if (st == BERTH_OK) {
    const char *path = "/";
    if (root != NULL)
      st = berth_json_opt_string(root, "Path", "/", &path, err);
    if (st == BERTH_OK && (ap->root_path = strdup(path)) == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  if (st == BERTH_OK && root != NULL)
    st = berth_json_opt_object(root, "CreationInfo", &ci, err);
  if (st == BERTH_OK && ci != NULL) {
    ap->has_creation_info = true;
    st = berth_json_get_int(ci, "OwnerUid", &v, err);
    ap->owner_uid = v;
    if (st == BERTH_OK)
      st = berth_json_get_int(ci, "OwnerGid", &v, err);
    ap->owner_gid = v;
    if (st == BERTH_OK)
      st = dup_str(ci, "Permissions", &ap->permissions, err);
  }
  if (st == BERTH_OK)
    st = parse_tags(o, &ap->tags, &ap->tag_count, err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "efs: access point");
  return st;
}

static berth_status_t parse_doc(const char *json, size_t len, json_t **doc,
                                berth_error_t *err)
{
  berth_status_t st = berth_json_parse(json, len, doc, err);

  if (st != BERTH_OK) {
    berth_error_prefix(err, "efs");
    return st;
  }
  if (!json_is_object(*doc)) {
    json_decref(*doc);
    *doc = NULL;
    return berth_error_set(err, BERTH_EPARSE, "efs: answer is not an object");
  }
  return BERTH_OK;
}

berth_status_t berth_efs_parse_access_point(const char *json, size_t len,
                                            berth_efs_access_point_t *out,
                                            berth_error_t *err)
{
  json_t *doc = NULL;
  berth_efs_access_point_t ap;
  berth_status_t st;

  memset(&ap, 0, sizeof(ap));
  st = parse_doc(json, len, &doc, err);
  if (st == BERTH_OK)
    st = fill_access_point(doc, &ap, err);
  if (st == BERTH_OK)
    *out = ap;
  else
    berth_efs_access_point_cleanup(&ap);
  json_decref(doc);
  return st;
}

/* Parse doc[key] (an array) with fill into a new array of n-byte items. */
typedef berth_status_t (*fill_fn)(const json_t *o, void *item,
                                  berth_error_t *err);

static berth_status_t parse_array(const json_t *doc, const char *key,
                                  size_t item_size, fill_fn fill, void **items,
                                  size_t *count, berth_error_t *err)
{
  json_t *arr = NULL;
  berth_status_t st;
  size_t i;

  *items = NULL;
  *count = 0;
  st = berth_json_get_array(doc, key, &arr, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "efs");
    return st;
  }
  if (json_array_size(arr) == 0)
    return BERTH_OK;
  *items = calloc(json_array_size(arr), item_size);
  if (*items == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  for (i = 0; i < json_array_size(arr) && st == BERTH_OK; i++) {
    st = fill(json_array_get(arr, i), (char *)*items + i * item_size, err);
    (*count)++;
  }
  return st;
}

static berth_status_t fill_ap_item(const json_t *o, void *item,
                                   berth_error_t *err)
{
  return fill_access_point(o, item, err);
}

berth_status_t berth_efs_parse_access_points(const char *json, size_t len,
                                             berth_efs_access_point_list_t *out,
                                             berth_error_t *err)
{
  json_t *doc = NULL;
  berth_efs_access_point_list_t l;
  berth_status_t st;
  void *items = NULL;

  memset(&l, 0, sizeof(l));
  st = parse_doc(json, len, &doc, err);
  if (st == BERTH_OK) {
    st = parse_array(doc, "AccessPoints", sizeof(berth_efs_access_point_t),
                     fill_ap_item, &items, &l.count, err);
    l.items = items;
  }
  if (st == BERTH_OK)
    st = dup_str(doc, "NextToken", &l.next_token, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_efs_access_point_list_cleanup(&l);
  json_decref(doc);
  return st;
}

/* The largest |CreationTime| in seconds whose milliseconds fit int64_t
 * with room to spare (about 291,000 years). */
#define CREATION_TIME_MAX_S 9.2e15

static berth_status_t fill_fs(const json_t *o, void *item, berth_error_t *err)
{
  berth_efs_file_system_t *fs = item;
  json_t *t = NULL;
  long long v = 0;
  bool b = false;
  berth_status_t st;

  memset(fs, 0, sizeof(*fs));
  if (!json_is_object(o))
    return berth_error_set(err, BERTH_EPARSE,
                           "efs: a file system is not an object");
  st = dup_str(o, "FileSystemId", &fs->file_system_id, err);
  if (st == BERTH_OK && fs->file_system_id == NULL)
    st = berth_error_set(err, BERTH_EPARSE, "FileSystemId: missing");
  if (st == BERTH_OK)
    st = dup_str(o, "FileSystemArn", &fs->file_system_arn, err);
  if (st == BERTH_OK)
    st = dup_str(o, "Name", &fs->name, err);
  if (st == BERTH_OK)
    st = dup_str(o, "CreationToken", &fs->creation_token, err);
  if (st == BERTH_OK)
    st = dup_str(o, "OwnerId", &fs->owner_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "LifeCycleState", &fs->life_cycle_state, err);
  if (st == BERTH_OK)
    st = dup_str(o, "PerformanceMode", &fs->performance_mode, err);
  if (st == BERTH_OK)
    st = dup_str(o, "ThroughputMode", &fs->throughput_mode, err);
  if (st == BERTH_OK)
    st = dup_str(o, "KmsKeyId", &fs->kms_key_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "AvailabilityZoneName", &fs->availability_zone_name, err);
  if (st == BERTH_OK)
    st = berth_json_opt_bool(o, "Encrypted", false, &b, err);
  fs->encrypted = b;
  if (st == BERTH_OK)
    st = berth_json_opt_int(o, "NumberOfMountTargets", 0, &v, err);
  fs->number_of_mount_targets = v;
  if (st == BERTH_OK)
    st = berth_json_opt_int(o, "SizeInBytes.Value", 0, &v, err);
  fs->size_bytes = v;
  /* CreationTime: epoch seconds, integer or real (botocore's
   * "timestamp" in JSON protocols). */
  t = json_object_get(o, "CreationTime");
  if (st == BERTH_OK && t != NULL) {
    /* A double converts to int64_t only within range (C11 6.3.1.4); a
     * broken or hostile endpoint's 1e300 is refused, not converted. */
    double secs = json_is_number(t) ? json_number_value(t) : 0.0;

    if (json_is_number(t) && secs >= -CREATION_TIME_MAX_S &&
        secs <= CREATION_TIME_MAX_S)
      fs->creation_time_ms = (int64_t)(secs * 1000.0);
    else if (json_is_number(t))
      st = berth_error_set(err, BERTH_EPARSE,
                           "CreationTime: %g is out of range", secs);
    else if (!json_is_null(t))
      st = berth_error_set(err, BERTH_EPARSE,
                           "CreationTime: expected number, got %s",
                           berth_json_type_name(t));
  }
  if (st == BERTH_OK)
    st = parse_tags(o, &fs->tags, &fs->tag_count, err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "efs: file system");
  return st;
}

berth_status_t berth_efs_parse_file_systems(const char *json, size_t len,
                                            berth_efs_file_system_list_t *out,
                                            berth_error_t *err)
{
  json_t *doc = NULL;
  berth_efs_file_system_list_t l;
  berth_status_t st;
  void *items = NULL;

  memset(&l, 0, sizeof(l));
  st = parse_doc(json, len, &doc, err);
  if (st == BERTH_OK) {
    st = parse_array(doc, "FileSystems", sizeof(berth_efs_file_system_t),
                     fill_fs, &items, &l.count, err);
    l.items = items;
  }
  if (st == BERTH_OK)
    st = dup_str(doc, "NextMarker", &l.next_marker, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_efs_file_system_list_cleanup(&l);
  json_decref(doc);
  return st;
}

static berth_status_t fill_mt(const json_t *o, void *item, berth_error_t *err)
{
  berth_efs_mount_target_t *mt = item;
  berth_status_t st;

  memset(mt, 0, sizeof(*mt));
  if (!json_is_object(o))
    return berth_error_set(err, BERTH_EPARSE,
                           "efs: a mount target is not an object");
  st = dup_str(o, "MountTargetId", &mt->mount_target_id, err);
  if (st == BERTH_OK && mt->mount_target_id == NULL)
    st = berth_error_set(err, BERTH_EPARSE, "MountTargetId: missing");
  if (st == BERTH_OK)
    st = dup_str(o, "FileSystemId", &mt->file_system_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "SubnetId", &mt->subnet_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "LifeCycleState", &mt->life_cycle_state, err);
  if (st == BERTH_OK)
    st = dup_str(o, "IpAddress", &mt->ip_address, err);
  if (st == BERTH_OK)
    st = dup_str(o, "NetworkInterfaceId", &mt->network_interface_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "AvailabilityZoneId", &mt->availability_zone_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "AvailabilityZoneName", &mt->availability_zone_name, err);
  if (st == BERTH_OK)
    st = dup_str(o, "VpcId", &mt->vpc_id, err);
  if (st == BERTH_OK)
    st = dup_str(o, "OwnerId", &mt->owner_id, err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "efs: mount target");
  return st;
}

berth_status_t berth_efs_parse_mount_targets(const char *json, size_t len,
                                             berth_efs_mount_target_list_t *out,
                                             berth_error_t *err)
{
  json_t *doc = NULL;
  berth_efs_mount_target_list_t l;
  berth_status_t st;
  void *items = NULL;

  memset(&l, 0, sizeof(l));
  st = parse_doc(json, len, &doc, err);
  if (st == BERTH_OK) {
    st = parse_array(doc, "MountTargets", sizeof(berth_efs_mount_target_t),
                     fill_mt, &items, &l.count, err);
    l.items = items;
  }
  if (st == BERTH_OK)
    st = dup_str(doc, "NextMarker", &l.next_marker, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_efs_mount_target_list_cleanup(&l);
  json_decref(doc);
  return st;
}

/* --- calls -------------------------------------------------------------------
 */

static berth_status_t call(berth_aws_t *aws, const char *action,
                           const char *method, const char *path,
                           const berth_buf_t *query, const berth_buf_t *body,
                           berth_http_response_t *resp, berth_error_t *err)
{
  berth_aws_request_t req;
  char name[64];

  snprintf(name, sizeof(name), "EFS %s", action);
  memset(&req, 0, sizeof(req));
  req.service = BERTH_AWS_EFS;
  req.action = name;
  req.method = method;
  req.path = path;
  req.query = query != NULL && query->len > 0 ? query->data : NULL;
  if (body != NULL) {
    req.content_type = JSON_TYPE;
    req.body = body->data;
    req.body_len = body->len;
  }
  return berth_aws_send(aws, &req, resp, err);
}

static bool empty(const char *s)
{
  return s == NULL || *s == '\0';
}

berth_status_t
berth_efs_create_access_point(berth_aws_t *aws,
                              const berth_efs_create_access_point_params_t *p,
                              berth_efs_access_point_t *out, berth_error_t *err)
{
  json_t *doc = NULL, *o;
  berth_http_response_t resp;
  berth_buf_t body;
  berth_status_t st = BERTH_OK;
  size_t i;

  berth_error_clear(err);
  if (aws == NULL || p == NULL || out == NULL || empty(p->client_token) ||
      empty(p->file_system_id) || strlen(p->client_token) > 64)
    return berth_error_set(err, BERTH_EINVAL,
                           "EFS CreateAccessPoint: a client token (1..64 "
                           "characters) and a file system id are required");
  berth_http_response_init(&resp);
  berth_buf_init(&body);
  doc = json_object();
  if (doc == NULL ||
      json_object_set_new(doc, "ClientToken", json_string(p->client_token)) ||
      json_object_set_new(doc, "FileSystemId", json_string(p->file_system_id)))
    goto oom;
  if (p->set_posix_user) {
    json_t *gids;
    o = json_object();
    if (o == NULL || json_object_set_new(doc, "PosixUser", o) ||
        json_object_set_new(o, "Uid", json_integer(p->uid)) ||
        json_object_set_new(o, "Gid", json_integer(p->gid)))
      goto oom;
    if (p->secondary_gid_count > 0) {
      gids = json_array();
      if (gids == NULL || json_object_set_new(o, "SecondaryGids", gids))
        goto oom;
      for (i = 0; i < p->secondary_gid_count; i++)
        if (json_array_append_new(gids, json_integer(p->secondary_gids[i])))
          goto oom;
    }
  }
  if (!empty(p->root_path) || p->set_creation_info) {
    o = json_object();
    if (o == NULL || json_object_set_new(doc, "RootDirectory", o) ||
        json_object_set_new(
            o, "Path", json_string(empty(p->root_path) ? "/" : p->root_path)))
      goto oom;
    if (p->set_creation_info) {
      json_t *ci = json_object();
      if (ci == NULL || json_object_set_new(o, "CreationInfo", ci) ||
          json_object_set_new(ci, "OwnerUid", json_integer(p->owner_uid)) ||
          json_object_set_new(ci, "OwnerGid", json_integer(p->owner_gid)) ||
          json_object_set_new(
              ci, "Permissions",
              json_string(empty(p->permissions) ? "0755" : p->permissions)))
        goto oom;
    }
  }
  if (p->tag_count > 0) {
    json_t *tags = json_array();
    if (tags == NULL || json_object_set_new(doc, "Tags", tags))
      goto oom;
    for (i = 0; i < p->tag_count; i++) {
      json_t *t = json_pack("{s:s, s:s}", "Key", p->tags[i].key, "Value",
                            p->tags[i].value != NULL ? p->tags[i].value : "");
      if (t == NULL || json_array_append_new(tags, t))
        goto oom;
    }
  }
  if (berth_json_dump(doc, &body) != BERTH_OK)
    goto oom;
  st = call(aws, "CreateAccessPoint", "POST", BASE "/access-points", NULL,
            &body, &resp, err);
  if (st == BERTH_OK)
    st = berth_efs_parse_access_point(resp.body.data, resp.body.len, out, err);
  goto done;

oom:
  st = berth_error_set(err, BERTH_ENOMEM,
                       "EFS CreateAccessPoint: out of memory (or a string "
                       "that is not UTF-8)");

done:
  json_decref(doc);
  berth_buf_cleanup(&body);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_efs_describe_access_points(
    berth_aws_t *aws, const char *file_system_id, const char *access_point_id,
    int max_results, const char *next_token, berth_efs_access_point_list_t *out,
    berth_error_t *err)
{
  berth_http_response_t resp;
  berth_buf_t q;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (aws == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "EFS DescribeAccessPoints: missing argument");
  berth_http_response_init(&resp);
  berth_buf_init(&q);
  /* Parameters in canonical (sorted) order. */
  if (!empty(access_point_id))
    st = berth__aws_form_add(&q, "AccessPointId", access_point_id);
  if (st == BERTH_OK && !empty(file_system_id))
    st = berth__aws_form_add(&q, "FileSystemId", file_system_id);
  if (st == BERTH_OK && max_results > 0)
    st = berth__aws_form_addf(&q, "MaxResults", "%d", max_results);
  if (st == BERTH_OK && !empty(next_token))
    st = berth__aws_form_add(&q, "NextToken", next_token);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "EFS DescribeAccessPoints: out of memory");
  else
    st = call(aws, "DescribeAccessPoints", "GET", BASE "/access-points", &q,
              NULL, &resp, err);
  if (st == BERTH_OK)
    st = berth_efs_parse_access_points(resp.body.data, resp.body.len, out, err);
  berth_buf_cleanup(&q);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_efs_delete_access_point(berth_aws_t *aws,
                                             const char *access_point_id,
                                             berth_error_t *err)
{
  berth_http_response_t resp;
  berth_buf_t path;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || empty(access_point_id))
    return berth_error_set(err, BERTH_EINVAL,
                           "EFS DeleteAccessPoint: no access point id");
  berth_http_response_init(&resp);
  berth_buf_init(&path);
  st = berth_buf_append_str(&path, BASE "/access-points/");
  if (st == BERTH_OK)
    st = berth_sigv4_uri_encode(&path, access_point_id, strlen(access_point_id),
                                false);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "EFS DeleteAccessPoint: out of memory");
  else
    st = call(aws, "DeleteAccessPoint", "DELETE", path.data, NULL, NULL, &resp,
              err);
  berth_buf_cleanup(&path);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_efs_untag_resource(berth_aws_t *aws,
                                        const char *resource_id,
                                        const char *const *keys,
                                        size_t key_count, berth_error_t *err)
{
  berth_http_response_t resp;
  berth_buf_t path, q;
  berth_status_t st = BERTH_OK;
  size_t i;

  berth_error_clear(err);
  if (aws == NULL || empty(resource_id) || key_count == 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "EFS UntagResource: a resource and keys are "
                           "required");
  berth_http_response_init(&resp);
  berth_buf_init(&path);
  berth_buf_init(&q);
  st = berth_buf_append_str(&path, BASE "/resource-tags/");
  if (st == BERTH_OK)
    st = berth_sigv4_uri_encode(&path, resource_id, strlen(resource_id), false);
  /* tagKeys repeated, once per key (the REST-JSON list in a query). */
  for (i = 0; i < key_count && st == BERTH_OK; i++)
    st = berth__aws_form_add(&q, "tagKeys", keys[i]);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "EFS UntagResource: out of memory");
  else
    st = call(aws, "UntagResource", "DELETE", path.data, &q, NULL, &resp, err);
  berth_buf_cleanup(&q);
  berth_buf_cleanup(&path);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_efs_describe_file_systems(
    berth_aws_t *aws, const char *file_system_id, const char *creation_token,
    int max_items, const char *marker, berth_efs_file_system_list_t *out,
    berth_error_t *err)
{
  berth_http_response_t resp;
  berth_buf_t q;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (aws == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "EFS DescribeFileSystems: missing argument");
  berth_http_response_init(&resp);
  berth_buf_init(&q);
  if (!empty(creation_token))
    st = berth__aws_form_add(&q, "CreationToken", creation_token);
  if (st == BERTH_OK && !empty(file_system_id))
    st = berth__aws_form_add(&q, "FileSystemId", file_system_id);
  if (st == BERTH_OK && !empty(marker))
    st = berth__aws_form_add(&q, "Marker", marker);
  if (st == BERTH_OK && max_items > 0)
    st = berth__aws_form_addf(&q, "MaxItems", "%d", max_items);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "EFS DescribeFileSystems: out of memory");
  else
    st = call(aws, "DescribeFileSystems", "GET", BASE "/file-systems", &q, NULL,
              &resp, err);
  if (st == BERTH_OK)
    st = berth_efs_parse_file_systems(resp.body.data, resp.body.len, out, err);
  berth_buf_cleanup(&q);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_efs_describe_mount_targets(
    berth_aws_t *aws, const char *file_system_id, const char *mount_target_id,
    const char *access_point_id, int max_items, const char *marker,
    berth_efs_mount_target_list_t *out, berth_error_t *err)
{
  berth_http_response_t resp;
  berth_buf_t q;
  berth_status_t st = BERTH_OK;
  int given = !empty(file_system_id) + !empty(mount_target_id) +
              !empty(access_point_id);

  berth_error_clear(err);
  if (aws == NULL || out == NULL || given != 1)
    return berth_error_set(err, BERTH_EINVAL,
                           "EFS DescribeMountTargets: exactly one of file "
                           "system, mount target and access point is needed");
  berth_http_response_init(&resp);
  berth_buf_init(&q);
  if (!empty(access_point_id))
    st = berth__aws_form_add(&q, "AccessPointId", access_point_id);
  if (st == BERTH_OK && !empty(file_system_id))
    st = berth__aws_form_add(&q, "FileSystemId", file_system_id);
  if (st == BERTH_OK && !empty(marker))
    st = berth__aws_form_add(&q, "Marker", marker);
  if (st == BERTH_OK && max_items > 0)
    st = berth__aws_form_addf(&q, "MaxItems", "%d", max_items);
  if (st == BERTH_OK && !empty(mount_target_id))
    st = berth__aws_form_add(&q, "MountTargetId", mount_target_id);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "EFS DescribeMountTargets: out of memory");
  else
    st = call(aws, "DescribeMountTargets", "GET", BASE "/mount-targets", &q,
              NULL, &resp, err);
  if (st == BERTH_OK)
    st = berth_efs_parse_mount_targets(resp.body.data, resp.body.len, out, err);
  berth_buf_cleanup(&q);
  berth_http_response_cleanup(&resp);
  return st;
}

/* --- cleanup ---------------------------------------------------------------
 */

void berth_efs_access_point_cleanup(berth_efs_access_point_t *ap)
{
  if (ap == NULL)
    return;
  free(ap->access_point_id);
  free(ap->access_point_arn);
  free(ap->file_system_id);
  free(ap->client_token);
  free(ap->name);
  free(ap->owner_id);
  free(ap->life_cycle_state);
  free(ap->secondary_gids);
  free(ap->root_path);
  free(ap->permissions);
  free_tags(ap->tags, ap->tag_count);
  memset(ap, 0, sizeof(*ap));
}

void berth_efs_access_point_list_cleanup(berth_efs_access_point_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_efs_access_point_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_token);
  memset(l, 0, sizeof(*l));
}

void berth_efs_file_system_cleanup(berth_efs_file_system_t *fs)
{
  if (fs == NULL)
    return;
  free(fs->file_system_id);
  free(fs->file_system_arn);
  free(fs->name);
  free(fs->creation_token);
  free(fs->owner_id);
  free(fs->life_cycle_state);
  free(fs->performance_mode);
  free(fs->throughput_mode);
  free(fs->kms_key_id);
  free(fs->availability_zone_name);
  free_tags(fs->tags, fs->tag_count);
  memset(fs, 0, sizeof(*fs));
}

void berth_efs_file_system_list_cleanup(berth_efs_file_system_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_efs_file_system_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_marker);
  memset(l, 0, sizeof(*l));
}

void berth_efs_mount_target_cleanup(berth_efs_mount_target_t *mt)
{
  if (mt == NULL)
    return;
  free(mt->mount_target_id);
  free(mt->file_system_id);
  free(mt->subnet_id);
  free(mt->life_cycle_state);
  free(mt->ip_address);
  free(mt->network_interface_id);
  free(mt->availability_zone_id);
  free(mt->availability_zone_name);
  free(mt->vpc_id);
  free(mt->owner_id);
  memset(mt, 0, sizeof(*mt));
}

void berth_efs_mount_target_list_cleanup(berth_efs_mount_target_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_efs_mount_target_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_marker);
  memset(l, 0, sizeof(*l));
}
