/* SPDX-License-Identifier: Apache-2.0 */
/* The EBS backend as berthctl sees it (see inspect.h).
 *
 * A PV's disk is its spec.csi.volumeHandle (vol-...); volume asks EC2
 * (DescribeVolumes) for its state, zone, size, type and attachments.
 * scan lists the disks berth tagged (CSIVolumeName or
 * kubernetes.io/created-for/pv/name) that no PV uses; remove deletes
 * such a disk when it is not attached. scan also lists the snapshots
 * berth-provisioner made (tagged CSIVolumeSnapshotName and
 * ebs.csi.aws.com/cluster) that no VolumeSnapshotContent names (its
 * status.snapshotHandle or spec.source.snapshotHandle, or the
 * snapshot-<uid> name of its VolumeSnapshot); remove deletes those with
 * DeleteSnapshot. attach and detach go through the attacher's steps
 * (ebs_attach.c) on the same AWS client. */
#include "backends/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ebs.h"
#include "backends/ebs_attach.h"
#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "berth/buf.h"

typedef berth_inspector_aws_t ebsi_t;

static berth_status_t ebsi_volume(berth_inspector_t *be, const json_t *pv,
                                  const json_t *sclass, bool usage,
                                  berth_volume_info_t *out, berth_error_t *err)
{
  ebsi_t *b = (ebsi_t *)be;
  const char *id = berth_ebs_pv_volume_id(pv);
  berth_ec2_volume_t v;
  berth_error_t e;
  berth_status_t st;
  char buf[64];
  size_t i;

  (void)sclass;
  (void)usage;
  (void)err;
  out->source =
      strdup(berth_aws_region(b->aws) ? berth_aws_region(b->aws) : "ec2");
  if (id == NULL) {
    out->state = BERTH_VOLUME_ERROR;
    out->message = strdup("the PV names no EBS volume (spec.csi.volumeHandle)");
    return BERTH_OK;
  }
  out->location = strdup(id);
  memset(&v, 0, sizeof(v));
  berth_error_clear(&e);
  st = berth_ec2_describe_volume(b->aws, id, &v, &e);
  if (st == BERTH_ENOTFOUND) {
    out->state = BERTH_VOLUME_MISSING;
    return BERTH_OK;
  }
  if (st != BERTH_OK) {
    out->state = BERTH_VOLUME_ERROR;
    out->message = strdup(e.message[0] ? e.message : berth_strerror(st));
    return BERTH_OK;
  }
  out->state = BERTH_VOLUME_PRESENT;
  if (v.availability_zone != NULL) { /* the zone says more than the region */
    free(out->source);
    out->source = strdup(v.availability_zone);
  }
  out->details = json_object();
  berth_inspect_detail(out->details, "Volume ID", v.volume_id);
  berth_inspect_detail(out->details, "State", v.state);
  berth_inspect_detail(out->details, "Zone", v.availability_zone);
  snprintf(buf, sizeof(buf), "%lldGi", (long long)v.size_gib);
  berth_inspect_detail(out->details, "Size", buf);
  berth_inspect_detail(out->details, "Type", v.volume_type);
  if (v.iops > 0) {
    snprintf(buf, sizeof(buf), "%lld", (long long)v.iops);
    berth_inspect_detail(out->details, "IOPS", buf);
  }
  if (v.throughput > 0) {
    snprintf(buf, sizeof(buf), "%lld MiB/s", (long long)v.throughput);
    berth_inspect_detail(out->details, "Throughput", buf);
  }
  berth_inspect_detail(out->details, "Encrypted",
                       v.encrypted ? "true" : "false");
  if (v.attachment_count == 0)
    berth_inspect_detail(out->details, "Attachment", "none");
  for (i = 0; i < v.attachment_count; i++) {
    berth_ec2_attachment_t *a = &v.attachments[i];
    char *s = berth_strdup_printf(
        "%s at %s (%s)", berth_inspect_nz(a->instance_id),
        berth_inspect_nz(a->device), berth_inspect_nz(a->state));
    berth_inspect_detail(out->details, i == 0 ? "Attachment" : "Attachment+",
                         s);
    free(s);
  }
  berth_ec2_volume_cleanup(&v);
  return BERTH_OK;
}

static const char *volume_pv_name(const berth_ec2_volume_t *v)
{
  const char *n = berth_ec2_volume_tag(v, BERTH_EBS_TAG_VOLUME_NAME);

  return n != NULL ? n : berth_ec2_volume_tag(v, BERTH_EBS_TAG_PV_NAME);
}

static bool pv_uses(const berth_inspect_env_t *env, const berth_ec2_volume_t *v)
{
  const char *name = volume_pv_name(v);
  const json_t *pv;
  size_t i;

  if (name != NULL && berth_inspect_pv(env, name) != NULL)
    return true;
  json_array_foreach(env->pvs, i, pv)
  {
    const char *id = berth_ebs_pv_volume_id(pv);
    if (id != NULL && v->volume_id != NULL && strcmp(id, v->volume_id) == 0)
      return true;
  }
  return false;
}

/* ---- snapshots --------------------------------------------------------- */

static const berth_k8s_resource_t res_contents = {
    "snapshot.storage.k8s.io", "v1", "volumesnapshotcontents",
    "VolumeSnapshotContent", false};

static const char *js(const json_t *o, const char *a, const char *b)
{
  json_t *v = json_object_get(o, a);
  return json_string_value(b != NULL ? json_object_get(v, b) : v);
}

/* A content names the snapshot: by handle, or by the snapshot-<uid> name a
 * dynamic content's snapshot is tagged with before its handle is saved. */
static bool content_names(const json_t *contents, const char *id,
                          const char *name)
{
  const json_t *c;
  size_t i;
  char want[128];

  json_array_foreach(json_object_get(contents, "items"), i, c)
  {
    const char *h = js(json_object_get(c, "status"), "snapshotHandle", NULL);
    const char *sh = js(json_object_get(c, "spec"), "source", "snapshotHandle");
    const char *uid =
        js(json_object_get(c, "spec"), "volumeSnapshotRef", "uid");
    if ((h != NULL && strcmp(h, id) == 0) ||
        (sh != NULL && strcmp(sh, id) == 0))
      return true;
    snprintf(want, sizeof(want), "snapshot-%s", uid != NULL ? uid : "");
    if (uid != NULL && name != NULL && strcmp(want, name) == 0)
      return true;
  }
  return false;
}

static berth_status_t ebsi_scan_snapshots(ebsi_t *b, berth_orphans_t *out,
                                          berth_error_t *err)
{
  const berth_inspect_env_t *env = b->base.env;
  static const char *const keys[] = {"CSIVolumeSnapshotName"};
  berth_ec2_filter_t f = {"tag-key", keys, 1};
  berth_ec2_describe_params_t p;
  berth_ec2_snapshot_list_t l;
  json_t *contents = NULL;
  berth_status_t st;
  size_t i;

  /* No snapshot CRDs: no content names any snapshot. */
  st = berth_k8s_list_all(env->k8s, &res_contents, NULL, NULL, &contents, err);
  if (st == BERTH_ENOTFOUND)
    st = BERTH_OK;
  if (st != BERTH_OK)
    return st;
  memset(&p, 0, sizeof(p));
  memset(&l, 0, sizeof(l));
  p.filters = &f;
  p.filter_count = 1;
  st = berth_ec2_describe_snapshots(b->aws, &p, &l, err);
  for (i = 0; st == BERTH_OK && i < l.count; i++) {
    berth_ec2_snapshot_t *s = &l.items[i];
    const char *name = berth_ec2_snapshot_tag(s, "CSIVolumeSnapshotName");

    if (berth_ec2_snapshot_tag(s, BERTH_EBS_TAG_CLUSTER) == NULL ||
        content_names(contents, s->snapshot_id, name))
      continue;
    if (berth_orphans_push(
            out, env, &berth_backend_ebs_ops, "snapshot",
            berth_inspect_nz(s->snapshot_id), berth_inspect_nz(s->volume_id),
            berth_inspect_nz(s->snapshot_id),
            berth_strdup_printf(
                "no VolumeSnapshotContent names it (snapshot %s of %s, %s)",
                berth_inspect_nz(name), berth_inspect_nz(s->volume_id),
                berth_inspect_nz(s->state)),
            s->start_time_ms / 1000) == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      break;
    }
  }
  berth_ec2_snapshot_list_cleanup(&l);
  json_decref(contents);
  return st;
}

static berth_status_t ebsi_scan(berth_inspector_t *be, berth_orphans_t *out,
                                berth_error_t *err)
{
  ebsi_t *b = (ebsi_t *)be;
  const berth_inspect_env_t *env = be->env;
  static const char *const keys[] = {BERTH_EBS_TAG_VOLUME_NAME,
                                     BERTH_EBS_TAG_PV_NAME};
  berth_ec2_filter_t f = {"tag-key", keys, 2};
  berth_ec2_describe_params_t p;
  berth_ec2_volume_list_t l;
  berth_status_t st;
  size_t i;

  memset(&p, 0, sizeof(p));
  memset(&l, 0, sizeof(l));
  p.filters = &f;
  p.filter_count = 1;
  st = berth_ec2_describe_volumes(b->aws, &p, &l, err);
  if (st != BERTH_OK)
    return st;
  for (i = 0; i < l.count; i++) {
    berth_ec2_volume_t *v = &l.items[i];

    if (volume_pv_name(v) == NULL || pv_uses(env, v))
      continue;
    if (berth_orphans_push(
            out, env, &berth_backend_ebs_ops, "disk",
            berth_inspect_nz(v->volume_id),
            berth_inspect_nz(v->availability_zone),
            berth_inspect_nz(v->volume_id),
            berth_strdup_printf("no PV uses it (tagged for PV %s, %s)",
                                volume_pv_name(v), berth_inspect_nz(v->state)),
            v->create_time_ms / 1000) == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      break;
    }
  }
  berth_ec2_volume_list_cleanup(&l);
  if (st == BERTH_OK)
    st = ebsi_scan_snapshots(b, out, err);
  return st;
}

static berth_status_t ebsi_remove(berth_inspector_t *be,
                                  const berth_orphan_t *o, bool archive,
                                  char **done, berth_error_t *err)
{
  ebsi_t *b = (ebsi_t *)be;
  berth_ec2_volume_t v;
  berth_status_t st;

  if (archive)
    return berth_error_set(err, BERTH_EINVAL,
                           "EBS disks and snapshots cannot be archived; "
                           "delete them or leave them");
  if (strcmp(o->kind, "snapshot") == 0) {
    st = berth_ec2_delete_snapshot(b->aws, o->name, err);
    if (st == BERTH_OK)
      *done = strdup("deleted");
    return st;
  }
  memset(&v, 0, sizeof(v));
  st = berth_ec2_describe_volume(b->aws, o->name, &v, err);
  if (st != BERTH_OK)
    return st;
  if (v.attachment_count > 0) {
    st = berth_error_set(err, BERTH_ECONFLICT,
                         "disk %s is attached to %s; detach it first "
                         "(berthctl detach)",
                         o->name,
                         berth_inspect_nz(v.attachments[0].instance_id));
    berth_ec2_volume_cleanup(&v);
    return st;
  }
  berth_ec2_volume_cleanup(&v);
  st = berth_ec2_delete_volume(b->aws, o->name, err);
  if (st == BERTH_OK)
    *done = strdup("deleted");
  return st;
}

static berth_status_t ebsi_check(berth_inspector_t *be, const json_t *sclass,
                                 char **detail, berth_error_t *err)
{
  ebsi_t *b = (ebsi_t *)be;
  berth_ec2_describe_params_t p;
  berth_ec2_volume_list_t l;
  berth_status_t st;

  st = berth_inspect_validate_class(be, sclass, err);
  if (st != BERTH_OK)
    return st;
  memset(&p, 0, sizeof(p));
  memset(&l, 0, sizeof(l));
  p.max_results = 5;
  st = berth_ec2_describe_volumes(b->aws, &p, &l, err);
  if (st != BERTH_OK)
    return st;
  berth_ec2_volume_list_cleanup(&l);
  *detail = berth_strdup_printf("EC2 DescribeVolumes in %s",
                                berth_inspect_nz(berth_aws_region(b->aws)));
  return BERTH_OK;
}

/* The core gets BERTH_CLUSTER_ID as berth-provisioner does, for the
 * disks' names and tags. */
static berth_status_t ebsi_open(const berth_inspect_env_t *env,
                                berth_inspector_t **out, berth_error_t *err)
{
  berth_backend_settings_t set;

  memset(&set, 0, sizeof(set));
  set.cluster_id = getenv("BERTH_CLUSTER_ID");
  return berth_inspector_aws_open(&berth_backend_ebs_ops, env, &set,
                                  sizeof(ebsi_t), out, err);
}

/* ---- attach, detach ---------------------------------------------------- */

static bool ebsi_attach_node(const json_t *node, char *out, size_t size)
{
  return berth_ebs_instance_id(
      json_string_value(
          json_object_get(json_object_get(node, "spec"), "providerID")),
      out, size);
}

static berth_status_t ebsi_attach(berth_inspector_t *be, const char *volume,
                                  const char *node_id, bool detach, bool force,
                                  char *device, size_t device_size,
                                  bool *was_attached, berth_error_t *err)
{
  ebsi_t *b = (ebsi_t *)be;
  char dev[BERTH_EBS_DEVICE_MAX] = "";
  berth_status_t st;

  if (detach)
    return berth_ebs_detach(b->aws, volume, node_id, force, 0, was_attached,
                            err);
  st = berth_ebs_attach(b->aws, volume, node_id, NULL, dev, err);
  if (st == BERTH_OK)
    snprintf(device, device_size, "%s", dev);
  return st;
}

const berth_inspect_ops_t berth_backend_ebs_inspect = {
    .annotation_prefix = "ebs.berth.io/",
    .open = ebsi_open,
    .close = berth_inspector_aws_close,
    .volume = ebsi_volume,
    .scan = ebsi_scan,
    .remove = ebsi_remove,
    .check = ebsi_check,
    .attach_noun = "EBS disk",
    .node_hint = "an EC2 instance in spec.providerID (aws:///ZONE/i-...): is "
                 "it an AWS node?",
    .attach_volume = berth_ebs_pv_volume_id,
    .attach_node = ebsi_attach_node,
    .attach = ebsi_attach,
};
