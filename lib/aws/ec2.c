/* SPDX-License-Identifier: Apache-2.0 */
/* EC2 calls (Query API, version 2016-11-15), see include/berth/aws_ec2.h.
 *
 * A request is a form body "Action=...&Version=2016-11-15&..." POSTed to
 * the EC2 endpoint; lists are flattened as Name.1, Name.2 (EC2 API
 * reference, "Query requests for Amazon EC2"), e.g. VolumeId.1,
 * Filter.1.Name, Filter.1.Value.1, TagSpecification.1.Tag.1.Key. */
#include "aws_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/aws_ec2.h"

#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

static berth_status_t form_start(berth_buf_t *form, const char *action)
{
  berth_status_t st;

  berth_buf_init(form);
  st = berth__aws_form_add(form, "Action", action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(form, "Version", BERTH_EC2_API_VERSION);
  return st;
}

/* Send the form; the answer's body is left in resp. */
static berth_status_t call(berth_aws_t *aws, const char *action,
                           const berth_buf_t *form, berth_http_response_t *resp,
                           berth_error_t *err)
{
  berth_aws_request_t req;
  char name[64];

  snprintf(name, sizeof(name), "EC2 %s", action);
  memset(&req, 0, sizeof(req));
  req.service = BERTH_AWS_EC2;
  req.action = name;
  req.method = "POST";
  req.path = "/";
  req.content_type = FORM_TYPE;
  req.body = form->data;
  req.body_len = form->len;
  return berth_aws_send(aws, &req, resp, err);
}

static berth_status_t add_describe(berth_buf_t *form, const char *id_name,
                                   const berth_ec2_describe_params_t *p)
{
  berth_status_t st = BERTH_OK;
  size_t i, j;
  char name[64];

  if (p == NULL)
    return BERTH_OK;
  for (i = 0; i < p->id_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "%s.%zu", id_name, i + 1);
    st = berth__aws_form_add(form, name, p->ids[i]);
  }
  for (i = 0; i < p->filter_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "Filter.%zu.Name", i + 1);
    st = berth__aws_form_add(form, name, p->filters[i].name);
    for (j = 0; j < p->filters[i].value_count && st == BERTH_OK; j++) {
      snprintf(name, sizeof(name), "Filter.%zu.Value.%zu", i + 1, j + 1);
      st = berth__aws_form_add(form, name, p->filters[i].values[j]);
    }
  }
  if (st == BERTH_OK && p->max_results > 0)
    st = berth__aws_form_addf(form, "MaxResults", "%d", p->max_results);
  if (st == BERTH_OK && p->next_token != NULL)
    st = berth__aws_form_add(form, "NextToken", p->next_token);
  return st;
}

static berth_status_t oom(berth_error_t *err, const char *action)
{
  return berth_error_set(err, BERTH_ENOMEM, "EC2 %s: out of memory", action);
}

static bool empty(const char *s)
{
  return s == NULL || *s == '\0';
}

berth_status_t
berth_ec2_create_volume(berth_aws_t *aws,
                        const berth_ec2_create_volume_params_t *p,
                        berth_ec2_volume_t *out, berth_error_t *err)
{
  static const char action[] = "CreateVolume";
  berth_http_response_t resp;
  berth_buf_t form;
  char token[37];
  char name[64];
  berth_status_t st;
  size_t i;

  berth_error_clear(err);
  if (aws == NULL || p == NULL || out == NULL || empty(p->availability_zone) ||
      (p->size_gib <= 0 && empty(p->snapshot_id)))
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 CreateVolume: an availability zone and a size "
                           "(or snapshot) are required");
  if (p->client_token != NULL && strlen(p->client_token) > 64)
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 CreateVolume: ClientToken longer than 64");
  berth_http_response_init(&resp);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "AvailabilityZone", p->availability_zone);
  if (st == BERTH_OK && p->size_gib > 0)
    st = berth__aws_form_addf(&form, "Size", "%lld", (long long)p->size_gib);
  if (st == BERTH_OK && !empty(p->volume_type))
    st = berth__aws_form_add(&form, "VolumeType", p->volume_type);
  if (st == BERTH_OK && p->iops > 0)
    st = berth__aws_form_addf(&form, "Iops", "%lld", (long long)p->iops);
  if (st == BERTH_OK && p->throughput > 0)
    st = berth__aws_form_addf(&form, "Throughput", "%lld",
                              (long long)p->throughput);
  if (st == BERTH_OK && p->encrypted)
    st = berth__aws_form_add(&form, "Encrypted", "true");
  if (st == BERTH_OK && !empty(p->kms_key_id))
    st = berth__aws_form_add(&form, "KmsKeyId", p->kms_key_id);
  if (st == BERTH_OK && !empty(p->snapshot_id))
    st = berth__aws_form_add(&form, "SnapshotId", p->snapshot_id);
  if (st == BERTH_OK && !empty(p->snapshot_id) &&
      p->volume_initialization_rate > 0)
    st = berth__aws_form_addf(&form, "VolumeInitializationRate", "%lld",
                              (long long)p->volume_initialization_rate);
  if (st == BERTH_OK && !empty(p->outpost_arn))
    st = berth__aws_form_add(&form, "OutpostArn", p->outpost_arn);
  if (st == BERTH_OK && p->multi_attach_enabled)
    st = berth__aws_form_add(&form, "MultiAttachEnabled", "true");
  if (st == BERTH_OK) {
    /* One token for the whole call, so that its retries are idempotent
     * even when the caller gave none. */
    if (empty(p->client_token))
      berth__aws_uuid(berth__aws_rand(aws), token);
    st = berth__aws_form_add(&form, "ClientToken",
                             empty(p->client_token) ? token : p->client_token);
  }
  if (st == BERTH_OK && p->tag_count > 0)
    st =
        berth__aws_form_add(&form, "TagSpecification.1.ResourceType", "volume");
  for (i = 0; i < p->tag_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "TagSpecification.1.Tag.%zu.Key", i + 1);
    st = berth__aws_form_add(&form, name, p->tags[i].key);
    snprintf(name, sizeof(name), "TagSpecification.1.Tag.%zu.Value", i + 1);
    if (st == BERTH_OK)
      st = berth__aws_form_add(
          &form, name, p->tags[i].value != NULL ? p->tags[i].value : "");
  }
  if (st != BERTH_OK) {
    st = oom(err, action);
    goto done;
  }
  st = call(aws, action, &form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_volume(resp.body.data, resp.body.len, out, err);

done:
  berth_buf_cleanup(&form);
  berth_http_response_cleanup(&resp);
  return st;
}

/* A Describe* call: its filters and ids (as id_key.N), owner "self" when
 * owner_self, then the answer parsed into out by parse. */
typedef berth_status_t (*describe_parse_fn)(const char *xml, size_t len,
                                            void *out, berth_error_t *err);

static berth_status_t describe(berth_aws_t *aws, const char *action,
                               const char *id_key, bool owner_self,
                               const berth_ec2_describe_params_t *p,
                               describe_parse_fn parse, void *out,
                               berth_error_t *err)
{
  berth_http_response_t resp;
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: missing argument",
                           action);
  berth_http_response_init(&resp);
  st = form_start(&form, action);
  if (st == BERTH_OK && owner_self)
    st = berth__aws_form_add(&form, "Owner.1", "self");
  if (st == BERTH_OK)
    st = add_describe(&form, id_key, p);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = call(aws, action, &form, &resp, err);
  if (st == BERTH_OK)
    st = parse(resp.body.data, resp.body.len, out, err);
  berth_buf_cleanup(&form);
  berth_http_response_cleanup(&resp);
  return st;
}

static berth_status_t parse_volumes(const char *xml, size_t len, void *out,
                                    berth_error_t *err)
{
  return berth_ec2_parse_volumes(xml, len, out, err);
}

berth_status_t berth_ec2_describe_volumes(berth_aws_t *aws,
                                          const berth_ec2_describe_params_t *p,
                                          berth_ec2_volume_list_t *out,
                                          berth_error_t *err)
{
  return describe(aws, "DescribeVolumes", "VolumeId", false, p, parse_volumes,
                  out, err);
}

berth_status_t berth_ec2_describe_volume(berth_aws_t *aws,
                                         const char *volume_id,
                                         berth_ec2_volume_t *out,
                                         berth_error_t *err)
{
  berth_ec2_describe_params_t p;
  berth_ec2_volume_list_t l;
  berth_status_t st;

  if (empty(volume_id) || out == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 DescribeVolumes: no volume id");
  memset(&p, 0, sizeof(p));
  p.ids = &volume_id;
  p.id_count = 1;
  st = berth_ec2_describe_volumes(aws, &p, &l, err);
  if (st != BERTH_OK)
    return st;
  if (l.count != 1 || l.items[0].volume_id == NULL ||
      strcmp(l.items[0].volume_id, volume_id) != 0) {
    st = berth_error_set(err, BERTH_ENOTFOUND,
                         "EC2 DescribeVolumes: the volume '%s' does not "
                         "exist",
                         volume_id);
    berth_error_set_reason(err, "InvalidVolume.NotFound");
  } else {
    *out = l.items[0];
    memset(&l.items[0], 0, sizeof(l.items[0]));
  }
  berth_ec2_volume_list_cleanup(&l);
  return st;
}

/* A call whose answer is <return>true</return>. */
static berth_status_t return_call(berth_aws_t *aws, const char *action,
                                  berth_buf_t *form, berth_error_t *err)
{
  berth_http_response_t resp;
  berth_status_t st;

  berth_http_response_init(&resp);
  st = call(aws, action, form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_return(resp.body.data, resp.body.len, err);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_ec2_delete_volume(berth_aws_t *aws, const char *volume_id,
                                       berth_error_t *err)
{
  static const char action[] = "DeleteVolume";
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || empty(volume_id))
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: no volume id", action);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "VolumeId", volume_id);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = return_call(aws, action, &form, err);
  berth_buf_cleanup(&form);
  return st;
}

static berth_status_t attachment_call(berth_aws_t *aws, const char *action,
                                      berth_buf_t *form,
                                      berth_ec2_attachment_t *out,
                                      berth_error_t *err)
{
  berth_http_response_t resp;
  berth_ec2_attachment_t a;
  berth_status_t st;

  berth_http_response_init(&resp);
  st = call(aws, action, form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_attachment(resp.body.data, resp.body.len, &a, err);
  if (st == BERTH_OK) {
    if (out != NULL)
      *out = a;
    else
      berth_ec2_attachment_cleanup(&a);
  }
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_ec2_attach_volume(berth_aws_t *aws, const char *volume_id,
                                       const char *instance_id,
                                       const char *device,
                                       berth_ec2_attachment_t *out,
                                       berth_error_t *err)
{
  static const char action[] = "AttachVolume";
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || empty(volume_id) || empty(instance_id) || empty(device))
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 %s: volume, instance and device are required",
                           action);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "VolumeId", volume_id);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "InstanceId", instance_id);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "Device", device);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = attachment_call(aws, action, &form, out, err);
  berth_buf_cleanup(&form);
  return st;
}

berth_status_t berth_ec2_detach_volume(berth_aws_t *aws, const char *volume_id,
                                       const char *instance_id,
                                       const char *device, bool force,
                                       berth_ec2_attachment_t *out,
                                       berth_error_t *err)
{
  static const char action[] = "DetachVolume";
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || empty(volume_id))
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: no volume id", action);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "VolumeId", volume_id);
  if (st == BERTH_OK && !empty(instance_id))
    st = berth__aws_form_add(&form, "InstanceId", instance_id);
  if (st == BERTH_OK && !empty(device))
    st = berth__aws_form_add(&form, "Device", device);
  if (st == BERTH_OK && force)
    st = berth__aws_form_add(&form, "Force", "true");
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = attachment_call(aws, action, &form, out, err);
  berth_buf_cleanup(&form);
  return st;
}

berth_status_t
berth_ec2_modify_volume(berth_aws_t *aws,
                        const berth_ec2_modify_volume_params_t *p,
                        berth_ec2_modification_t *out, berth_error_t *err)
{
  static const char action[] = "ModifyVolume";
  berth_http_response_t resp;
  berth_ec2_modification_t m;
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || p == NULL || empty(p->volume_id))
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: no volume id", action);
  berth_http_response_init(&resp);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "VolumeId", p->volume_id);
  if (st == BERTH_OK && p->size_gib > 0)
    st = berth__aws_form_addf(&form, "Size", "%lld", (long long)p->size_gib);
  if (st == BERTH_OK && !empty(p->volume_type))
    st = berth__aws_form_add(&form, "VolumeType", p->volume_type);
  if (st == BERTH_OK && p->iops > 0)
    st = berth__aws_form_addf(&form, "Iops", "%lld", (long long)p->iops);
  if (st == BERTH_OK && p->throughput > 0)
    st = berth__aws_form_addf(&form, "Throughput", "%lld",
                              (long long)p->throughput);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = call(aws, action, &form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_modification(resp.body.data, resp.body.len, &m, err);
  if (st == BERTH_OK) {
    if (out != NULL)
      *out = m;
    else
      berth_ec2_modification_cleanup(&m);
  }
  berth_buf_cleanup(&form);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_ec2_describe_volumes_modifications(
    berth_aws_t *aws, const berth_ec2_describe_params_t *p,
    berth_ec2_modification_list_t *out, berth_error_t *err)
{
  static const char action[] = "DescribeVolumesModifications";
  berth_http_response_t resp;
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: missing argument",
                           action);
  berth_http_response_init(&resp);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = add_describe(&form, "VolumeId", p);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = call(aws, action, &form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_modifications(resp.body.data, resp.body.len, out, err);
  berth_buf_cleanup(&form);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth_ec2_create_tags(berth_aws_t *aws,
                                     const char *const *resource_ids,
                                     size_t resource_count,
                                     const berth_aws_kv_t *tags,
                                     size_t tag_count, berth_error_t *err)
{
  static const char action[] = "CreateTags";
  berth_buf_t form;
  char name[64];
  berth_status_t st;
  size_t i;

  berth_error_clear(err);
  if (aws == NULL || resource_count == 0 || tag_count == 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 %s: resources and tags are required", action);
  st = form_start(&form, action);
  for (i = 0; i < resource_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "ResourceId.%zu", i + 1);
    st = berth__aws_form_add(&form, name, resource_ids[i]);
  }
  for (i = 0; i < tag_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "Tag.%zu.Key", i + 1);
    st = berth__aws_form_add(&form, name, tags[i].key);
    snprintf(name, sizeof(name), "Tag.%zu.Value", i + 1);
    if (st == BERTH_OK)
      st = berth__aws_form_add(&form, name,
                               tags[i].value != NULL ? tags[i].value : "");
  }
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = return_call(aws, action, &form, err);
  berth_buf_cleanup(&form);
  return st;
}

berth_status_t berth_ec2_delete_tags(berth_aws_t *aws,
                                     const char *const *resource_ids,
                                     size_t resource_count,
                                     const char *const *keys, size_t key_count,
                                     berth_error_t *err)
{
  static const char action[] = "DeleteTags";
  berth_buf_t form;
  char name[64];
  berth_status_t st;
  size_t i;

  berth_error_clear(err);
  /* Without Tag.N, EC2 would delete every tag of the resources. */
  if (aws == NULL || resource_count == 0 || key_count == 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 %s: resources and keys are required", action);
  st = form_start(&form, action);
  for (i = 0; i < resource_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "ResourceId.%zu", i + 1);
    st = berth__aws_form_add(&form, name, resource_ids[i]);
  }
  for (i = 0; i < key_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "Tag.%zu.Key", i + 1);
    st = berth__aws_form_add(&form, name, keys[i]);
  }
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = return_call(aws, action, &form, err);
  berth_buf_cleanup(&form);
  return st;
}

berth_status_t
berth_ec2_describe_instances(berth_aws_t *aws,
                             const berth_ec2_describe_params_t *p,
                             berth_ec2_instance_list_t *out, berth_error_t *err)
{
  static const char action[] = "DescribeInstances";
  berth_http_response_t resp;
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: missing argument",
                           action);
  berth_http_response_init(&resp);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = add_describe(&form, "InstanceId", p);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = call(aws, action, &form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_instances(resp.body.data, resp.body.len, out, err);
  berth_buf_cleanup(&form);
  berth_http_response_cleanup(&resp);
  return st;
}

/* --- snapshots --------------------------------------------------------------
 * EC2 API reference: CreateSnapshot, DescribeSnapshots, DeleteSnapshot. */

berth_status_t
berth_ec2_create_snapshot(berth_aws_t *aws,
                          const berth_ec2_create_snapshot_params_t *p,
                          berth_ec2_snapshot_t *out, berth_error_t *err)
{
  static const char action[] = "CreateSnapshot";
  berth_http_response_t resp;
  berth_buf_t form;
  char name[64];
  berth_status_t st;
  size_t i;

  berth_error_clear(err);
  if (aws == NULL || p == NULL || out == NULL || empty(p->volume_id))
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: a volume is required",
                           action);
  berth_http_response_init(&resp);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "VolumeId", p->volume_id);
  if (st == BERTH_OK && !empty(p->description))
    st = berth__aws_form_add(&form, "Description", p->description);
  if (st == BERTH_OK && !empty(p->outpost_arn))
    st = berth__aws_form_add(&form, "OutpostArn", p->outpost_arn);
  if (st == BERTH_OK && p->tag_count > 0)
    st = berth__aws_form_add(&form, "TagSpecification.1.ResourceType",
                             "snapshot");
  for (i = 0; i < p->tag_count && st == BERTH_OK; i++) {
    snprintf(name, sizeof(name), "TagSpecification.1.Tag.%zu.Key", i + 1);
    st = berth__aws_form_add(&form, name, p->tags[i].key);
    snprintf(name, sizeof(name), "TagSpecification.1.Tag.%zu.Value", i + 1);
    if (st == BERTH_OK)
      st = berth__aws_form_add(
          &form, name, p->tags[i].value != NULL ? p->tags[i].value : "");
  }
  if (st != BERTH_OK) {
    st = oom(err, action);
    goto done;
  }
  st = call(aws, action, &form, &resp, err);
  if (st == BERTH_OK)
    st = berth_ec2_parse_snapshot(resp.body.data, resp.body.len, out, err);

done:
  berth_buf_cleanup(&form);
  berth_http_response_cleanup(&resp);
  return st;
}

static berth_status_t parse_snapshots(const char *xml, size_t len, void *out,
                                      berth_error_t *err)
{
  return berth_ec2_parse_snapshots(xml, len, out, err);
}

/* Without an owner, DescribeSnapshots also lists every public snapshot of
 * the region (EC2 API reference, DescribeSnapshots): Owner.1=self. */
berth_status_t
berth_ec2_describe_snapshots(berth_aws_t *aws,
                             const berth_ec2_describe_params_t *p,
                             berth_ec2_snapshot_list_t *out, berth_error_t *err)
{
  return describe(aws, "DescribeSnapshots", "SnapshotId", true, p,
                  parse_snapshots, out, err);
}

berth_status_t berth_ec2_describe_snapshot(berth_aws_t *aws,
                                           const char *snapshot_id,
                                           berth_ec2_snapshot_t *out,
                                           berth_error_t *err)
{
  berth_ec2_describe_params_t p;
  berth_ec2_snapshot_list_t l;
  berth_status_t st;

  if (empty(snapshot_id) || out == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "EC2 DescribeSnapshots: no snapshot id");
  memset(&p, 0, sizeof(p));
  p.ids = &snapshot_id;
  p.id_count = 1;
  st = berth_ec2_describe_snapshots(aws, &p, &l, err);
  if (st != BERTH_OK)
    return st;
  if (l.count != 1 || l.items[0].snapshot_id == NULL ||
      strcmp(l.items[0].snapshot_id, snapshot_id) != 0) {
    st = berth_error_set(err, BERTH_ENOTFOUND,
                         "EC2 DescribeSnapshots: the snapshot '%s' does not "
                         "exist",
                         snapshot_id);
    berth_error_set_reason(err, "InvalidSnapshot.NotFound");
  } else {
    *out = l.items[0];
    memset(&l.items[0], 0, sizeof(l.items[0]));
  }
  berth_ec2_snapshot_list_cleanup(&l);
  return st;
}

berth_status_t berth_ec2_delete_snapshot(berth_aws_t *aws,
                                         const char *snapshot_id,
                                         berth_error_t *err)
{
  static const char action[] = "DeleteSnapshot";
  berth_buf_t form;
  berth_status_t st;

  berth_error_clear(err);
  if (aws == NULL || empty(snapshot_id))
    return berth_error_set(err, BERTH_EINVAL, "EC2 %s: no snapshot id", action);
  st = form_start(&form, action);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "SnapshotId", snapshot_id);
  if (st != BERTH_OK)
    st = oom(err, action);
  else
    st = return_call(aws, action, &form, err);
  berth_buf_cleanup(&form);
  return st;
}
