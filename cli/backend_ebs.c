/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the EBS backend as berthctl sees it (see ctl_backend.h).
 *
 * A PV's disk is its spec.csi.volumeHandle (vol-...); inspect asks EC2
 * (DescribeVolumes) for its state, zone, size, type and attachments.
 * scan lists the disks berth tagged (CSIVolumeName or
 * kubernetes.io/created-for/pv/name) that no PV uses; remove deletes
 * such a disk when it is not attached. scan also lists the snapshots
 * berth-provisioner made (tagged CSIVolumeSnapshotName and
 * ebs.csi.aws.com/cluster) that no VolumeSnapshotContent names (its
 * status.snapshotHandle or spec.source.snapshotHandle, or the
 * snapshot-<uid> name of its VolumeSnapshot); remove deletes those with
 * DeleteSnapshot. attach.c uses the same AWS client (ctl_ebs_aws). */
#include "ctl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ebs.h"
#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "berth/buf.h"

typedef struct ctl_ebs {
  ctl_backend_t base;
  berth_aws_t *aws;
} ctl_ebs_t;

berth_aws_t *ctl_ebs_aws(ctl_backend_t *be)
{
  return be != NULL && be->ops == &ctl_backend_ebs ? ((ctl_ebs_t *)be)->aws
                                                   : NULL;
}

const char *ctl_ebs_volume_id(const json_t *pv)
{
  const json_t *spec = json_object_get(pv, "spec");
  const char *id = json_string_value(
      json_object_get(json_object_get(spec, "csi"), "volumeHandle"));

  if (id == NULL)
    id = json_string_value(json_object_get(
        json_object_get(json_object_get(pv, "metadata"), "annotations"),
        BERTH_EBS_ANN_VOLUME_ID));
  if (id == NULL)
    id = json_string_value(json_object_get(
        json_object_get(spec, "awsElasticBlockStore"), "volumeID"));
  return id;
}

static void add_detail(json_t *d, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_new(d, key, json_string(value));
}

static berth_status_t ebs_inspect(ctl_backend_t *be, ctl_ctx_t *ctx,
                                  const json_t *pv, const json_t *sclass,
                                  bool usage, ctl_volume_info_t *out,
                                  berth_error_t *err)
{
  ctl_ebs_t *b = (ctl_ebs_t *)be;
  const char *id = ctl_ebs_volume_id(pv);
  berth_ec2_volume_t v;
  berth_error_t e;
  berth_status_t st;
  char buf[64];
  size_t i;

  (void)ctx;
  (void)sclass;
  (void)usage;
  (void)err;
  out->source =
      strdup(berth_aws_region(b->aws) ? berth_aws_region(b->aws) : "ec2");
  if (id == NULL) {
    out->state = CTL_STATE_ERROR;
    out->message = strdup("the PV names no EBS volume (spec.csi.volumeHandle)");
    return BERTH_OK;
  }
  out->location = strdup(id);
  memset(&v, 0, sizeof(v));
  berth_error_clear(&e);
  st = berth_ec2_describe_volume(b->aws, id, &v, &e);
  if (st == BERTH_ENOTFOUND) {
    out->state = CTL_STATE_MISSING;
    return BERTH_OK;
  }
  if (st != BERTH_OK) {
    out->state = CTL_STATE_ERROR;
    out->message = strdup(e.message[0] ? e.message : berth_strerror(st));
    return BERTH_OK;
  }
  out->state = CTL_STATE_PRESENT;
  if (v.availability_zone != NULL) { /* the zone says more than the region */
    free(out->source);
    out->source = strdup(v.availability_zone);
  }
  out->details = json_object();
  add_detail(out->details, "Volume ID", v.volume_id);
  add_detail(out->details, "State", v.state);
  add_detail(out->details, "Zone", v.availability_zone);
  snprintf(buf, sizeof(buf), "%lldGi", (long long)v.size_gib);
  add_detail(out->details, "Size", buf);
  add_detail(out->details, "Type", v.volume_type);
  if (v.iops > 0) {
    snprintf(buf, sizeof(buf), "%lld", (long long)v.iops);
    add_detail(out->details, "IOPS", buf);
  }
  if (v.throughput > 0) {
    snprintf(buf, sizeof(buf), "%lld MiB/s", (long long)v.throughput);
    add_detail(out->details, "Throughput", buf);
  }
  add_detail(out->details, "Encrypted", v.encrypted ? "true" : "false");
  if (v.attachment_count == 0)
    add_detail(out->details, "Attachment", "none");
  for (i = 0; i < v.attachment_count; i++) {
    berth_ec2_attachment_t *a = &v.attachments[i];
    char *s = berth_strdup_printf("%s at %s (%s)", ctl_nz(a->instance_id),
                                  ctl_nz(a->device), ctl_nz(a->state));
    add_detail(out->details, i == 0 ? "Attachment" : "Attachment+", s);
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

static bool pv_uses(ctl_ctx_t *ctx, const berth_ec2_volume_t *v)
{
  const char *name = volume_pv_name(v);
  const json_t *pv;
  size_t i;

  if (name != NULL && ctl_registry_pv(ctx->reg, name) != NULL)
    return true;
  json_array_foreach(ctl_registry_pvs(ctx->reg), i, pv)
  {
    const char *id = ctl_ebs_volume_id(pv);
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

static berth_status_t ebs_scan_snapshots(ctl_ebs_t *b, ctl_ctx_t *ctx,
                                         ctl_orphans_t *out, berth_error_t *err)
{
  static const char *const keys[] = {"CSIVolumeSnapshotName"};
  berth_ec2_filter_t f = {"tag-key", keys, 1};
  berth_ec2_describe_params_t p;
  berth_ec2_snapshot_list_t l;
  json_t *contents = NULL;
  berth_status_t st;
  size_t i;

  /* No snapshot CRDs: no content names any snapshot. */
  st = berth_k8s_list_all(ctx->k8s, &res_contents, NULL, NULL, &contents, err);
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
    ctl_orphan_t *o;

    if (berth_ec2_snapshot_tag(s, BERTH_EBS_TAG_CLUSTER) == NULL ||
        content_names(contents, s->snapshot_id, name))
      continue;
    o = ctl_orphans_add(out);
    if (o == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      break;
    }
    o->ops = &ctl_backend_ebs;
    o->kind = strdup("snapshot");
    o->name = strdup(ctl_nz(s->snapshot_id));
    o->source = strdup(ctl_nz(s->volume_id));
    o->location = strdup(ctl_nz(s->snapshot_id));
    o->problem = berth_strdup_printf(
        "no VolumeSnapshotContent names it (snapshot %s of %s, %s)",
        ctl_nz(name), ctl_nz(s->volume_id), ctl_nz(s->state));
    o->time_s = s->start_time_ms / 1000;
    o->recent = ctx->now_s - o->time_s < (int64_t)(ctx->opt->min_age_ms / 1000);
  }
  berth_ec2_snapshot_list_cleanup(&l);
  json_decref(contents);
  return st;
}

static berth_status_t ebs_scan(ctl_backend_t *be, ctl_ctx_t *ctx,
                               ctl_orphans_t *out, berth_error_t *err)
{
  ctl_ebs_t *b = (ctl_ebs_t *)be;
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
    ctl_orphan_t *o;

    if (volume_pv_name(v) == NULL || pv_uses(ctx, v))
      continue;
    o = ctl_orphans_add(out);
    if (o == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      break;
    }
    o->ops = &ctl_backend_ebs;
    o->kind = strdup("disk");
    o->name = strdup(ctl_nz(v->volume_id));
    o->source = strdup(ctl_nz(v->availability_zone));
    o->location = strdup(ctl_nz(v->volume_id));
    o->problem = berth_strdup_printf("no PV uses it (tagged for PV %s, %s)",
                                     volume_pv_name(v), ctl_nz(v->state));
    o->time_s = v->create_time_ms / 1000;
    o->recent = ctx->now_s - o->time_s < (int64_t)(ctx->opt->min_age_ms / 1000);
  }
  berth_ec2_volume_list_cleanup(&l);
  if (st == BERTH_OK)
    st = ebs_scan_snapshots(b, ctx, out, err);
  return st;
}

static berth_status_t ebs_remove(ctl_backend_t *be, ctl_ctx_t *ctx,
                                 const ctl_orphan_t *o, bool archive,
                                 char **done, berth_error_t *err)
{
  ctl_ebs_t *b = (ctl_ebs_t *)be;
  berth_ec2_volume_t v;
  berth_status_t st;

  (void)ctx;
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
                         o->name, ctl_nz(v.attachments[0].instance_id));
    berth_ec2_volume_cleanup(&v);
    return st;
  }
  berth_ec2_volume_cleanup(&v);
  st = berth_ec2_delete_volume(b->aws, o->name, err);
  if (st == BERTH_OK)
    *done = strdup("deleted");
  return st;
}

static berth_status_t ebs_check(ctl_backend_t *be, ctl_ctx_t *ctx,
                                const json_t *sclass, char **detail,
                                berth_error_t *err)
{
  ctl_ebs_t *b = (ctl_ebs_t *)be;
  berth_ec2_describe_params_t p;
  berth_ec2_volume_list_t l;
  berth_status_t st;

  (void)ctx;
  if (sclass != NULL) {
    st =
        berth_backend_validate(b->base.core, ctl_class_parameters(sclass), err);
    if (st != BERTH_OK) {
      berth_error_prefix(err, "invalid parameters (berth-provisioner "
                              "refuses its claims; make a new class: "
                              "parameters cannot be changed)");
      return st;
    }
  }
  memset(&p, 0, sizeof(p));
  memset(&l, 0, sizeof(l));
  p.max_results = 5;
  st = berth_ec2_describe_volumes(b->aws, &p, &l, err);
  if (st != BERTH_OK)
    return st;
  berth_ec2_volume_list_cleanup(&l);
  *detail = berth_strdup_printf("EC2 DescribeVolumes in %s",
                                ctl_nz(berth_aws_region(b->aws)));
  return BERTH_OK;
}

static void ebs_destroy(ctl_backend_t *be)
{
  ctl_ebs_t *b = (ctl_ebs_t *)be;

  if (b == NULL)
    return;
  berth_backend_destroy(b->base.core);
  berth_aws_destroy(b->aws);
  free(b);
}

static berth_status_t ebs_create(ctl_ctx_t *ctx, ctl_backend_t **out,
                                 berth_error_t *err)
{
  berth_backend_ebs_config_t cfg;
  berth_aws_options_t opts;
  ctl_ebs_t *b;
  berth_status_t st;

  (void)ctx;
  b = calloc(1, sizeof(*b));
  if (b == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  b->base.ops = &ctl_backend_ebs;
  berth_aws_options_init(&opts);
  st = berth_aws_create(&opts, &b->aws, err);
  if (st == BERTH_OK) {
    memset(&cfg, 0, sizeof(cfg));
    cfg.cluster_id = getenv("BERTH_CLUSTER_ID");
    st = berth_backend_ebs_create(&cfg, &b->base.core, err);
  }
  if (st != BERTH_OK) {
    berth_error_prefix(err, "ebs");
    ebs_destroy(&b->base);
    return st;
  }
  *out = &b->base;
  return BERTH_OK;
}

const ctl_backend_ops_t ctl_backend_ebs = {
    .name = "ebs",
    .annotation_prefix = "ebs.berth.io/",
    .create = ebs_create,
    .destroy = ebs_destroy,
    .inspect = ebs_inspect,
    .scan = ebs_scan,
    .remove = ebs_remove,
    .check = ebs_check,
};
