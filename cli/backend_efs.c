/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the EFS backend as berthctl sees it (see ctl_backend.h).
 *
 * efs-ap PVs (csi efs.csi.aws.com, volumeHandle fs-...::fsap-...): inspect
 * asks DescribeAccessPoints for the access point (state, file system,
 * root directory, POSIX user); scan lists access points whose ClientToken
 * (the PV name the provisioner gave) names no PV. efs-dir PVs are plain
 * NFS volumes on the file system: they are inspected as the NFS backend
 * inspects its own. */
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>

#include "backends/efs.h"
#include "berth/aws.h"
#include "berth/aws_efs.h"
#include "berth/buf.h"

typedef struct ctl_efs {
  ctl_backend_t base;
  berth_aws_t *aws;
} ctl_efs_t;

static void add_detail(json_t *d, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_new(d, key, json_string(value));
}

/* The access point id of an efs-ap PV, or NULL. */
static const char *pv_access_point(const json_t *pv)
{
  const char *h = json_string_value(json_object_get(
      json_object_get(json_object_get(pv, "spec"), "csi"), "volumeHandle"));
  const char *ap;

  if (h != NULL && (ap = strstr(h, "fsap-")) != NULL)
    return ap;
  return json_string_value(json_object_get(
      json_object_get(json_object_get(pv, "metadata"), "annotations"),
      BERTH_EFS_ANN_ACCESS_POINT));
}

static berth_status_t efs_inspect(ctl_backend_t *be, ctl_ctx_t *ctx,
                                  const json_t *pv, const json_t *sclass,
                                  bool usage, ctl_volume_info_t *out,
                                  berth_error_t *err)
{
  ctl_efs_t *b = (ctl_efs_t *)be;
  const char *ap = pv_access_point(pv);
  berth_efs_access_point_list_t l;
  berth_error_t e;
  berth_status_t st;
  char buf[64];
  size_t n;

  if (ap == NULL) {
    /* efs-dir: a directory on the file system, as NFS. */
    ctl_backend_t *nb = NULL;

    if (json_object_get(json_object_get(pv, "spec"), "nfs") == NULL) {
      out->state = CTL_STATE_ERROR;
      out->message = strdup("the PV names no access point and no NFS path");
      return BERTH_OK;
    }
    st = ctl_registry_backend(ctx, &ctl_backend_nfs, &nb, err);
    if (st != BERTH_OK)
      return st;
    return ctl_backend_nfs.inspect(nb, ctx, pv, sclass, usage, out, err);
  }
  n = strcspn(ap, ":/");
  out->location = strndup(ap, n);
  memset(&l, 0, sizeof(l));
  berth_error_clear(&e);
  st = berth_efs_describe_access_points(b->aws, NULL, out->location, 0, NULL,
                                        &l, &e);
  if (st == BERTH_ENOTFOUND || (st == BERTH_OK && l.count == 0)) {
    berth_efs_access_point_list_cleanup(&l);
    out->state = CTL_STATE_MISSING;
    return BERTH_OK;
  }
  if (st != BERTH_OK) {
    out->state = CTL_STATE_ERROR;
    out->message = strdup(e.message[0] ? e.message : berth_strerror(st));
    return BERTH_OK;
  }
  out->state = CTL_STATE_PRESENT;
  out->source = strdup(ctl_nz(l.items[0].file_system_id));
  out->details = json_object();
  add_detail(out->details, "Access Point", l.items[0].access_point_id);
  add_detail(out->details, "File System", l.items[0].file_system_id);
  add_detail(out->details, "State", l.items[0].life_cycle_state);
  add_detail(out->details, "Root Directory", l.items[0].root_path);
  if (l.items[0].has_posix_user) {
    snprintf(buf, sizeof(buf), "%lld:%lld", (long long)l.items[0].posix_uid,
             (long long)l.items[0].posix_gid);
    add_detail(out->details, "POSIX User", buf);
  }
  add_detail(out->details, "Permissions", l.items[0].permissions);
  berth_efs_access_point_list_cleanup(&l);
  return BERTH_OK;
}

static bool ap_used(ctl_ctx_t *ctx, const berth_efs_access_point_t *a)
{
  const json_t *pv;
  size_t i;

  if (a->client_token != NULL && ctl_registry_pv(ctx->reg, a->client_token))
    return true;
  json_array_foreach(ctl_registry_pvs(ctx->reg), i, pv)
  {
    const char *id = pv_access_point(pv);
    if (id != NULL && a->access_point_id != NULL &&
        strncmp(id, a->access_point_id, strlen(a->access_point_id)) == 0)
      return true;
  }
  return false;
}

static berth_status_t efs_scan(ctl_backend_t *be, ctl_ctx_t *ctx,
                               ctl_orphans_t *out, berth_error_t *err)
{
  ctl_efs_t *b = (ctl_efs_t *)be;
  berth_efs_access_point_list_t l;
  char *token = NULL;
  berth_status_t st;
  size_t i;

  do {
    memset(&l, 0, sizeof(l));
    st =
        berth_efs_describe_access_points(b->aws, NULL, NULL, 0, token, &l, err);
    free(token);
    token = NULL;
    if (st != BERTH_OK)
      break;
    for (i = 0; i < l.count; i++) {
      berth_efs_access_point_t *a = &l.items[i];
      ctl_orphan_t *o;

      /* berth's access points carry the PV name as ClientToken. */
      if (a->client_token == NULL || strncmp(a->client_token, "pvc-", 4) != 0 ||
          ap_used(ctx, a))
        continue;
      o = ctl_orphans_add(out);
      if (o == NULL) {
        st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
        break;
      }
      o->ops = &ctl_backend_efs;
      o->kind = strdup("access-point");
      o->name = strdup(ctl_nz(a->access_point_id));
      o->source = strdup(ctl_nz(a->file_system_id));
      o->location = strdup(ctl_nz(a->root_path));
      o->problem = berth_strdup_printf("no PV uses it (made for PV %s)",
                                       a->client_token);
    }
    if (st == BERTH_OK && l.next_token != NULL)
      token = strdup(l.next_token);
    berth_efs_access_point_list_cleanup(&l);
  } while (st == BERTH_OK && token != NULL);
  free(token);
  return st;
}

static berth_status_t efs_remove(ctl_backend_t *be, ctl_ctx_t *ctx,
                                 const ctl_orphan_t *o, bool archive,
                                 char **done, berth_error_t *err)
{
  ctl_efs_t *b = (ctl_efs_t *)be;
  berth_status_t st;

  (void)ctx;
  if (archive)
    return berth_error_set(err, BERTH_EINVAL,
                           "access points cannot be archived; delete them "
                           "(their directory stays on the file system)");
  st = berth_efs_delete_access_point(b->aws, o->name, err);
  if (st == BERTH_OK)
    *done = strdup("deleted (its directory stays on the file system)");
  return st;
}

static berth_status_t efs_check(ctl_backend_t *be, ctl_ctx_t *ctx,
                                const json_t *sclass, char **detail,
                                berth_error_t *err)
{
  ctl_efs_t *b = (ctl_efs_t *)be;
  berth_efs_access_point_list_t l;
  const char *fs = NULL;
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
    fs = json_string_value(
        json_object_get(ctl_class_parameters(sclass), "fileSystemId"));
  }
  memset(&l, 0, sizeof(l));
  st = berth_efs_describe_access_points(b->aws, fs, NULL, 1, NULL, &l, err);
  if (st != BERTH_OK)
    return st;
  berth_efs_access_point_list_cleanup(&l);
  *detail = berth_strdup_printf("EFS DescribeAccessPoints%s%s in %s",
                                fs ? " on " : "", fs ? fs : "",
                                ctl_nz(berth_aws_region(b->aws)));
  return BERTH_OK;
}

static void efs_destroy(ctl_backend_t *be)
{
  ctl_efs_t *b = (ctl_efs_t *)be;

  if (b == NULL)
    return;
  berth_backend_destroy(b->base.core);
  berth_aws_destroy(b->aws);
  free(b);
}

static berth_status_t efs_create(ctl_ctx_t *ctx, ctl_backend_t **out,
                                 berth_error_t *err)
{
  berth_aws_options_t opts;
  ctl_efs_t *b;
  berth_status_t st;

  (void)ctx;
  b = calloc(1, sizeof(*b));
  if (b == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  b->base.ops = &ctl_backend_efs;
  berth_aws_options_init(&opts);
  st = berth_aws_create(&opts, &b->aws, err);
  if (st == BERTH_OK)
    st = berth_backend_efs_create(&b->base.core, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "efs");
    efs_destroy(&b->base);
    return st;
  }
  *out = &b->base;
  return BERTH_OK;
}

const ctl_backend_ops_t ctl_backend_efs = {
    .name = "efs",
    .annotation_prefix = "efs.berth.io/",
    .create = efs_create,
    .destroy = efs_destroy,
    .inspect = efs_inspect,
    .scan = efs_scan,
    .remove = efs_remove,
    .check = efs_check,
};
