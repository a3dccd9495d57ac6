/* SPDX-License-Identifier: Apache-2.0 */
/* EC2 answers (Query API 2016-11-15, XML) into berth structs, and their
 * cleanup. See include/berth/aws_ec2.h.
 *
 * Element names are those of the EC2 API reference (and botocore's
 * ec2/2016-11-15/service-2.json locationName): volumeSet/item,
 * attachmentSet/item, tagSet/item/{key,value},
 * volumeModificationSet/item, reservationSet/item/instancesSet/item,
 * blockDeviceMapping/item/{deviceName,ebs}. Namespaces are ignored, so
 * older API versions' bodies parse too. */
#include "aws_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/aws_ec2.h"

/* Copy the text at path (NULL when absent or empty) into *out. */
static berth_status_t str_at(const berth__xml_node_t *n, const char *path,
                             char **out)
{
  const char *t = berth__xml_text(n, path);

  *out = NULL;
  if (t == NULL || *t == '\0')
    return BERTH_OK;
  *out = strdup(t);
  return *out != NULL ? BERTH_OK : BERTH_ENOMEM;
}

static berth_status_t int_at(const berth__xml_node_t *n, const char *path,
                             int64_t *out, berth_error_t *err)
{
  const char *t = berth__xml_text(n, path);
  long long v;

  *out = 0;
  if (t == NULL || *t == '\0')
    return BERTH_OK;
  if (berth_str_to_ll(t, INT64_MIN, INT64_MAX, &v) != BERTH_OK)
    return berth_error_set(err, BERTH_EPARSE,
                           "ec2: <%s> is not an integer: \"%.32s\"", path, t);
  *out = v;
  return BERTH_OK;
}

static berth_status_t bool_at(const berth__xml_node_t *n, const char *path,
                              bool *out, berth_error_t *err)
{
  const char *t = berth__xml_text(n, path);

  *out = false;
  if (t == NULL || *t == '\0')
    return BERTH_OK;
  if (strcmp(t, "true") == 0)
    *out = true;
  else if (strcmp(t, "false") != 0)
    return berth_error_set(err, BERTH_EPARSE,
                           "ec2: <%s> is not a boolean: \"%.32s\"", path, t);
  return BERTH_OK;
}

/* Times: 0 when absent or not a time (EC2's examples use placeholders). */
static int64_t time_at(const berth__xml_node_t *n, const char *path)
{
  int64_t ms = 0;

  if (berth__aws_parse_time(berth__xml_text(n, path), &ms) != BERTH_OK)
    return 0;
  return ms;
}

static size_t count_items(const berth__xml_node_t *set)
{
  const berth__xml_node_t *i;
  size_t n = 0;

  for (i = berth__xml_child(set, "item"); i != NULL; i = berth__xml_next(i))
    n++;
  return n;
}

static berth_status_t parse_tags(const berth__xml_node_t *parent,
                                 berth_aws_tag_t **tags, size_t *count)
{
  const berth__xml_node_t *set = berth__xml_child(parent, "tagSet");
  const berth__xml_node_t *i;
  size_t n = count_items(set);
  berth_status_t st = BERTH_OK;

  *tags = NULL;
  *count = 0;
  if (n == 0)
    return BERTH_OK;
  *tags = calloc(n, sizeof(**tags));
  if (*tags == NULL)
    return BERTH_ENOMEM;
  for (i = berth__xml_child(set, "item"); i != NULL && st == BERTH_OK;
       i = berth__xml_next(i)) {
    berth_aws_tag_t *t = &(*tags)[(*count)++];
    st = str_at(i, "key", &t->key);
    if (st == BERTH_OK)
      st = str_at(i, "value", &t->value);
    if (st == BERTH_OK && t->key == NULL) {
      /* An item without a key is no tag: drop it. */
      free(t->value);
      t->value = NULL;
      (*count)--;
      continue;
    }
    if (st == BERTH_OK && t->value == NULL &&
        (t->value = calloc(1, 1)) == NULL) /* empty, never NULL */
      st = BERTH_ENOMEM;
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

static berth_status_t fill_attachment(const berth__xml_node_t *n,
                                      berth_ec2_attachment_t *a,
                                      berth_error_t *err)
{
  berth_status_t st;

  memset(a, 0, sizeof(*a));
  st = str_at(n, "volumeId", &a->volume_id);
  if (st == BERTH_OK)
    st = str_at(n, "instanceId", &a->instance_id);
  if (st == BERTH_OK)
    st = str_at(n, "device", &a->device);
  if (st == BERTH_OK)
    st = str_at(n, "status", &a->state);
  if (st == BERTH_OK)
    st = bool_at(n, "deleteOnTermination", &a->delete_on_termination, err);
  a->attach_time_ms = time_at(n, "attachTime");
  return st;
}

static berth_status_t fill_volume(const berth__xml_node_t *n,
                                  berth_ec2_volume_t *v, berth_error_t *err)
{
  const berth__xml_node_t *set;
  const berth__xml_node_t *i;
  berth_status_t st;

  memset(v, 0, sizeof(*v));
  st = str_at(n, "volumeId", &v->volume_id);
  if (st == BERTH_OK)
    st = str_at(n, "availabilityZone", &v->availability_zone);
  if (st == BERTH_OK)
    st = str_at(n, "status", &v->state);
  if (st == BERTH_OK)
    st = str_at(n, "volumeType", &v->volume_type);
  if (st == BERTH_OK)
    st = str_at(n, "snapshotId", &v->snapshot_id);
  if (st == BERTH_OK)
    st = str_at(n, "kmsKeyId", &v->kms_key_id);
  if (st == BERTH_OK)
    st = str_at(n, "outpostArn", &v->outpost_arn);
  if (st == BERTH_OK)
    st = int_at(n, "size", &v->size_gib, err);
  if (st == BERTH_OK)
    st = int_at(n, "iops", &v->iops, err);
  if (st == BERTH_OK)
    st = int_at(n, "throughput", &v->throughput, err);
  if (st == BERTH_OK)
    st = bool_at(n, "encrypted", &v->encrypted, err);
  if (st == BERTH_OK)
    st = bool_at(n, "multiAttachEnabled", &v->multi_attach_enabled, err);
  v->create_time_ms = time_at(n, "createTime");
  if (st == BERTH_OK)
    st = parse_tags(n, &v->tags, &v->tag_count);
  set = berth__xml_child(n, "attachmentSet");
  if (st == BERTH_OK && count_items(set) > 0) {
    v->attachments = calloc(count_items(set), sizeof(*v->attachments));
    if (v->attachments == NULL)
      st = BERTH_ENOMEM;
    for (i = berth__xml_child(set, "item"); i != NULL && st == BERTH_OK;
         i = berth__xml_next(i))
      st = fill_attachment(i, &v->attachments[v->attachment_count++], err);
  }
  if (st == BERTH_OK && v->volume_id == NULL)
    st = berth_error_set(err, BERTH_EPARSE, "ec2: a volume without volumeId");
  return st;
}

static berth_status_t fill_modification(const berth__xml_node_t *n,
                                        berth_ec2_modification_t *m,
                                        berth_error_t *err)
{
  berth_status_t st;

  memset(m, 0, sizeof(*m));
  st = str_at(n, "volumeId", &m->volume_id);
  if (st == BERTH_OK)
    st = str_at(n, "modificationState", &m->state);
  if (st == BERTH_OK)
    st = str_at(n, "statusMessage", &m->status_message);
  if (st == BERTH_OK)
    st = str_at(n, "targetVolumeType", &m->target_volume_type);
  if (st == BERTH_OK)
    st = str_at(n, "originalVolumeType", &m->original_volume_type);
  if (st == BERTH_OK)
    st = int_at(n, "targetSize", &m->target_size_gib, err);
  if (st == BERTH_OK)
    st = int_at(n, "targetIops", &m->target_iops, err);
  if (st == BERTH_OK)
    st = int_at(n, "targetThroughput", &m->target_throughput, err);
  if (st == BERTH_OK)
    st = int_at(n, "originalSize", &m->original_size_gib, err);
  if (st == BERTH_OK)
    st = int_at(n, "originalIops", &m->original_iops, err);
  if (st == BERTH_OK)
    st = int_at(n, "originalThroughput", &m->original_throughput, err);
  if (st == BERTH_OK)
    st = int_at(n, "progress", &m->progress, err);
  m->start_time_ms = time_at(n, "startTime");
  m->end_time_ms = time_at(n, "endTime");
  if (st == BERTH_OK && (m->volume_id == NULL || m->state == NULL))
    st = berth_error_set(err, BERTH_EPARSE,
                         "ec2: a volume modification without volumeId or "
                         "modificationState");
  return st;
}

static berth_status_t fill_instance(const berth__xml_node_t *n,
                                    berth_ec2_instance_t *in,
                                    berth_error_t *err)
{
  const berth__xml_node_t *set = berth__xml_child(n, "blockDeviceMapping");
  const berth__xml_node_t *i;
  berth_status_t st;

  memset(in, 0, sizeof(*in));
  st = str_at(n, "instanceId", &in->instance_id);
  if (st == BERTH_OK)
    st = str_at(n, "instanceType", &in->instance_type);
  if (st == BERTH_OK)
    st = str_at(n, "instanceState/name", &in->state);
  if (st == BERTH_OK)
    st = str_at(n, "placement/availabilityZone", &in->availability_zone);
  if (st == BERTH_OK)
    st = str_at(n, "privateDnsName", &in->private_dns_name);
  if (st == BERTH_OK)
    st = str_at(n, "privateIpAddress", &in->private_ip_address);
  if (st == BERTH_OK)
    st = str_at(n, "rootDeviceName", &in->root_device_name);
  if (st == BERTH_OK)
    st = parse_tags(n, &in->tags, &in->tag_count);
  if (st == BERTH_OK && count_items(set) > 0) {
    in->block_devices = calloc(count_items(set), sizeof(*in->block_devices));
    if (in->block_devices == NULL)
      st = BERTH_ENOMEM;
    for (i = berth__xml_child(set, "item"); i != NULL && st == BERTH_OK;
         i = berth__xml_next(i)) {
      berth_ec2_block_device_t *b =
          &in->block_devices[in->block_device_count++];
      st = str_at(i, "deviceName", &b->device_name);
      if (st == BERTH_OK)
        st = str_at(i, "ebs/volumeId", &b->volume_id);
      if (st == BERTH_OK)
        st = str_at(i, "ebs/status", &b->status);
      if (st == BERTH_OK)
        st = bool_at(i, "ebs/deleteOnTermination", &b->delete_on_termination,
                     err);
      b->attach_time_ms = time_at(i, "ebs/attachTime");
    }
  }
  if (st == BERTH_OK && in->instance_id == NULL)
    st = berth_error_set(err, BERTH_EPARSE,
                         "ec2: an instance without instanceId");
  return st;
}

/* Parse xml and check the root element's name. */
static berth_status_t parse_root(const char *xml, size_t len,
                                 const char *root_name,
                                 berth__xml_node_t **root, berth_error_t *err)
{
  berth_status_t st = berth__xml_parse(xml, len, root, err);

  if (st != BERTH_OK) {
    berth_error_prefix(err, "ec2");
    return st;
  }
  if (strcmp((*root)->name, root_name) != 0) {
    st = berth_error_set(err, BERTH_EPARSE, "ec2: expected <%s>, got <%.64s>",
                         root_name, (*root)->name);
    berth__xml_free(*root);
    *root = NULL;
  }
  return st;
}

static berth_status_t nomem(berth_status_t st, berth_error_t *err)
{
  if (st == BERTH_ENOMEM && (err == NULL || err->status != BERTH_ENOMEM))
    berth_error_set(err, st, "ec2: out of memory");
  return st;
}

berth_status_t berth_ec2_parse_volume(const char *xml, size_t len,
                                      berth_ec2_volume_t *out,
                                      berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  berth_ec2_volume_t v;
  berth_status_t st;

  memset(&v, 0, sizeof(v));
  st = parse_root(xml, len, "CreateVolumeResponse", &root, err);
  if (st == BERTH_OK)
    st = nomem(fill_volume(root, &v, err), err);
  if (st == BERTH_OK)
    *out = v;
  else
    berth_ec2_volume_cleanup(&v);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_volumes(const char *xml, size_t len,
                                       berth_ec2_volume_list_t *out,
                                       berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *set, *i;
  berth_ec2_volume_list_t l;
  berth_status_t st;

  memset(&l, 0, sizeof(l));
  st = parse_root(xml, len, "DescribeVolumesResponse", &root, err);
  if (st != BERTH_OK)
    return st;
  set = berth__xml_child(root, "volumeSet");
  if (count_items(set) > 0 &&
      (l.items = calloc(count_items(set), sizeof(*l.items))) == NULL)
    st = BERTH_ENOMEM;
  for (i = berth__xml_child(set, "item"); i != NULL && st == BERTH_OK;
       i = berth__xml_next(i))
    st = fill_volume(i, &l.items[l.count++], err);
  if (st == BERTH_OK)
    st = str_at(root, "nextToken", &l.next_token);
  st = nomem(st, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_ec2_volume_list_cleanup(&l);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_attachment(const char *xml, size_t len,
                                          berth_ec2_attachment_t *out,
                                          berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  berth_ec2_attachment_t a;
  berth_status_t st;

  memset(&a, 0, sizeof(a));
  st = berth__xml_parse(xml, len, &root, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "ec2");
    return st;
  }
  if (strcmp(root->name, "AttachVolumeResponse") != 0 &&
      strcmp(root->name, "DetachVolumeResponse") != 0) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "ec2: expected <AttachVolumeResponse> or "
                         "<DetachVolumeResponse>, got <%.64s>",
                         root->name);
  } else {
    st = nomem(fill_attachment(root, &a, err), err);
    if (st == BERTH_OK && (a.volume_id == NULL || a.state == NULL))
      st = berth_error_set(err, BERTH_EPARSE,
                           "ec2: attachment without volumeId or status");
  }
  if (st == BERTH_OK)
    *out = a;
  else
    berth_ec2_attachment_cleanup(&a);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_modification(const char *xml, size_t len,
                                            berth_ec2_modification_t *out,
                                            berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *m;
  berth_ec2_modification_t mod;
  berth_status_t st;

  memset(&mod, 0, sizeof(mod));
  st = parse_root(xml, len, "ModifyVolumeResponse", &root, err);
  if (st != BERTH_OK)
    return st;
  m = berth__xml_child(root, "volumeModification");
  if (m == NULL)
    st = berth_error_set(err, BERTH_EPARSE, "ec2: no <volumeModification>");
  else
    st = nomem(fill_modification(m, &mod, err), err);
  if (st == BERTH_OK)
    *out = mod;
  else
    berth_ec2_modification_cleanup(&mod);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_modifications(const char *xml, size_t len,
                                             berth_ec2_modification_list_t *out,
                                             berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *set, *i;
  berth_ec2_modification_list_t l;
  berth_status_t st;

  memset(&l, 0, sizeof(l));
  st = parse_root(xml, len, "DescribeVolumesModificationsResponse", &root, err);
  if (st != BERTH_OK)
    return st;
  set = berth__xml_child(root, "volumeModificationSet");
  if (count_items(set) > 0 &&
      (l.items = calloc(count_items(set), sizeof(*l.items))) == NULL)
    st = BERTH_ENOMEM;
  for (i = berth__xml_child(set, "item"); i != NULL && st == BERTH_OK;
       i = berth__xml_next(i))
    st = fill_modification(i, &l.items[l.count++], err);
  if (st == BERTH_OK)
    st = str_at(root, "nextToken", &l.next_token);
  st = nomem(st, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_ec2_modification_list_cleanup(&l);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_instances(const char *xml, size_t len,
                                         berth_ec2_instance_list_t *out,
                                         berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *set, *r, *i;
  berth_ec2_instance_list_t l;
  berth_status_t st;
  size_t n = 0;

  memset(&l, 0, sizeof(l));
  st = parse_root(xml, len, "DescribeInstancesResponse", &root, err);
  if (st != BERTH_OK)
    return st;
  set = berth__xml_child(root, "reservationSet");
  for (r = berth__xml_child(set, "item"); r != NULL; r = berth__xml_next(r))
    n += count_items(berth__xml_child(r, "instancesSet"));
  if (n > 0 && (l.items = calloc(n, sizeof(*l.items))) == NULL)
    st = BERTH_ENOMEM;
  for (r = berth__xml_child(set, "item"); r != NULL && st == BERTH_OK;
       r = berth__xml_next(r))
    for (i = berth__xml_child(berth__xml_child(r, "instancesSet"), "item");
         i != NULL && st == BERTH_OK; i = berth__xml_next(i))
      st = fill_instance(i, &l.items[l.count++], err);
  if (st == BERTH_OK)
    st = str_at(root, "nextToken", &l.next_token);
  st = nomem(st, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_ec2_instance_list_cleanup(&l);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_return(const char *xml, size_t len,
                                      berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const char *r;
  berth_status_t st;

  st = berth__xml_parse(xml, len, &root, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "ec2");
    return st;
  }
  r = berth__xml_text(root, "return");
  if (r == NULL)
    st = berth_error_set(err, BERTH_EPARSE, "ec2: <%.64s> without <return>",
                         root->name);
  else if (strcmp(r, "true") != 0)
    st = berth_error_set(err, BERTH_EHTTP, "ec2: <%.64s> returned %.16s",
                         root->name, r);
  berth__xml_free(root);
  return st;
}

const char *berth_ec2_volume_tag(const berth_ec2_volume_t *v, const char *key)
{
  size_t i;

  for (i = 0; v != NULL && i < v->tag_count; i++)
    if (v->tags[i].key != NULL && strcmp(v->tags[i].key, key) == 0)
      return v->tags[i].value;
  return NULL;
}

void berth_ec2_attachment_cleanup(berth_ec2_attachment_t *a)
{
  if (a == NULL)
    return;
  free(a->volume_id);
  free(a->instance_id);
  free(a->device);
  free(a->state);
  memset(a, 0, sizeof(*a));
}

void berth_ec2_volume_cleanup(berth_ec2_volume_t *v)
{
  size_t i;

  if (v == NULL)
    return;
  free(v->volume_id);
  free(v->availability_zone);
  free(v->state);
  free(v->volume_type);
  free(v->snapshot_id);
  free(v->kms_key_id);
  free(v->outpost_arn);
  free_tags(v->tags, v->tag_count);
  for (i = 0; i < v->attachment_count; i++)
    berth_ec2_attachment_cleanup(&v->attachments[i]);
  free(v->attachments);
  memset(v, 0, sizeof(*v));
}

void berth_ec2_volume_list_cleanup(berth_ec2_volume_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_ec2_volume_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_token);
  memset(l, 0, sizeof(*l));
}

void berth_ec2_modification_cleanup(berth_ec2_modification_t *m)
{
  if (m == NULL)
    return;
  free(m->volume_id);
  free(m->state);
  free(m->status_message);
  free(m->target_volume_type);
  free(m->original_volume_type);
  memset(m, 0, sizeof(*m));
}

void berth_ec2_modification_list_cleanup(berth_ec2_modification_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_ec2_modification_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_token);
  memset(l, 0, sizeof(*l));
}

void berth_ec2_instance_cleanup(berth_ec2_instance_t *in)
{
  size_t i;

  if (in == NULL)
    return;
  free(in->instance_id);
  free(in->instance_type);
  free(in->state);
  free(in->availability_zone);
  free(in->private_dns_name);
  free(in->private_ip_address);
  free(in->root_device_name);
  for (i = 0; i < in->block_device_count; i++) {
    free(in->block_devices[i].device_name);
    free(in->block_devices[i].volume_id);
    free(in->block_devices[i].status);
  }
  free(in->block_devices);
  free_tags(in->tags, in->tag_count);
  memset(in, 0, sizeof(*in));
}

void berth_ec2_instance_list_cleanup(berth_ec2_instance_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_ec2_instance_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_token);
  memset(l, 0, sizeof(*l));
}

/* --- snapshots ------------------------------------------------------------
 * snapshotSet/item (DescribeSnapshots) or the top level (CreateSnapshot):
 * snapshotId, volumeId, status, statusMessage, startTime, progress,
 * ownerId, volumeSize, description, encrypted, kmsKeyId, outpostArn,
 * tagSet. */

static berth_status_t fill_snapshot(const berth__xml_node_t *n,
                                    berth_ec2_snapshot_t *s, berth_error_t *err)
{
  berth_status_t st;

  memset(s, 0, sizeof(*s));
  st = str_at(n, "snapshotId", &s->snapshot_id);
  if (st == BERTH_OK)
    st = str_at(n, "volumeId", &s->volume_id);
  if (st == BERTH_OK)
    st = str_at(n, "status", &s->state);
  if (st == BERTH_OK)
    st = str_at(n, "statusMessage", &s->state_message);
  if (st == BERTH_OK)
    st = str_at(n, "progress", &s->progress);
  if (st == BERTH_OK)
    st = str_at(n, "description", &s->description);
  if (st == BERTH_OK)
    st = str_at(n, "kmsKeyId", &s->kms_key_id);
  if (st == BERTH_OK)
    st = str_at(n, "ownerId", &s->owner_id);
  if (st == BERTH_OK)
    st = str_at(n, "outpostArn", &s->outpost_arn);
  if (st == BERTH_OK)
    st = int_at(n, "volumeSize", &s->volume_size_gib, err);
  if (st == BERTH_OK)
    st = bool_at(n, "encrypted", &s->encrypted, err);
  s->start_time_ms = time_at(n, "startTime");
  if (st == BERTH_OK)
    st = parse_tags(n, &s->tags, &s->tag_count);
  if (st == BERTH_OK && s->snapshot_id == NULL)
    st = berth_error_set(err, BERTH_EPARSE,
                         "ec2: a snapshot without snapshotId");
  return st;
}

berth_status_t berth_ec2_parse_snapshot(const char *xml, size_t len,
                                        berth_ec2_snapshot_t *out,
                                        berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  berth_ec2_snapshot_t s;
  berth_status_t st;

  memset(&s, 0, sizeof(s));
  st = parse_root(xml, len, "CreateSnapshotResponse", &root, err);
  if (st == BERTH_OK)
    st = nomem(fill_snapshot(root, &s, err), err);
  if (st == BERTH_OK)
    *out = s;
  else
    berth_ec2_snapshot_cleanup(&s);
  berth__xml_free(root);
  return st;
}

berth_status_t berth_ec2_parse_snapshots(const char *xml, size_t len,
                                         berth_ec2_snapshot_list_t *out,
                                         berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *set, *i;
  berth_ec2_snapshot_list_t l;
  berth_status_t st;

  memset(&l, 0, sizeof(l));
  st = parse_root(xml, len, "DescribeSnapshotsResponse", &root, err);
  if (st != BERTH_OK)
    return st;
  set = berth__xml_child(root, "snapshotSet");
  if (count_items(set) > 0 &&
      (l.items = calloc(count_items(set), sizeof(*l.items))) == NULL)
    st = BERTH_ENOMEM;
  for (i = berth__xml_child(set, "item"); i != NULL && st == BERTH_OK;
       i = berth__xml_next(i))
    st = fill_snapshot(i, &l.items[l.count++], err);
  if (st == BERTH_OK)
    st = str_at(root, "nextToken", &l.next_token);
  st = nomem(st, err);
  if (st == BERTH_OK)
    *out = l;
  else
    berth_ec2_snapshot_list_cleanup(&l);
  berth__xml_free(root);
  return st;
}

const char *berth_ec2_snapshot_tag(const berth_ec2_snapshot_t *s,
                                   const char *key)
{
  size_t i;

  for (i = 0; s != NULL && i < s->tag_count; i++)
    if (s->tags[i].key != NULL && strcmp(s->tags[i].key, key) == 0)
      return s->tags[i].value;
  return NULL;
}

void berth_ec2_snapshot_cleanup(berth_ec2_snapshot_t *s)
{
  if (s == NULL)
    return;
  free(s->snapshot_id);
  free(s->volume_id);
  free(s->state);
  free(s->state_message);
  free(s->progress);
  free(s->description);
  free(s->kms_key_id);
  free(s->owner_id);
  free(s->outpost_arn);
  free_tags(s->tags, s->tag_count);
  memset(s, 0, sizeof(*s));
}

void berth_ec2_snapshot_list_cleanup(berth_ec2_snapshot_list_t *l)
{
  size_t i;

  if (l == NULL)
    return;
  for (i = 0; i < l->count; i++)
    berth_ec2_snapshot_cleanup(&l->items[i]);
  free(l->items);
  free(l->next_token);
  memset(l, 0, sizeof(*l));
}
