/* SPDX-License-Identifier: Apache-2.0 */
/* The EFS backend as berthctl sees it (see inspect.h).
 *
 * efs-ap PVs (csi efs.csi.aws.com, volumeHandle fs-...::fsap-...): volume
 * asks DescribeAccessPoints for the access point (state, file system,
 * root directory, POSIX user); scan lists access points whose ClientToken
 * (the PV name the provisioner gave) names no PV. efs-dir PVs are plain
 * NFS volumes on the file system: they are inspected as the NFS backend
 * inspects its own (nfs_inspect.c). */
#include "backends/inspect.h"

#include <stdlib.h>
#include <string.h>

#include "backends/efs.h"
#include "backends/nfs.h"
#include "berth/aws.h"
#include "berth/aws_efs.h"
#include "berth/buf.h"

typedef struct efsi {
  berth_inspector_aws_t aws; /* first */
  berth_inspector_t *nfs;    /* efs-dir volumes; opened on first use */
} efsi_t;

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

static berth_status_t efsi_volume(berth_inspector_t *be, const json_t *pv,
                                  const json_t *sclass, bool usage,
                                  berth_volume_info_t *out, berth_error_t *err)
{
  efsi_t *b = (efsi_t *)be;
  const char *ap = pv_access_point(pv);
  berth_efs_access_point_list_t l;
  berth_error_t e;
  berth_status_t st;
  char buf[64];
  size_t n;

  if (ap == NULL) {
    /* efs-dir: a directory on the file system, as NFS. */
    if (json_object_get(json_object_get(pv, "spec"), "nfs") == NULL) {
      out->state = BERTH_VOLUME_ERROR;
      out->message = strdup("the PV names no access point and no NFS path");
      return BERTH_OK;
    }
    if (b->nfs == NULL) {
      st = berth_inspector_open(&berth_backend_nfs_ops, be->env, &b->nfs, err);
      if (st != BERTH_OK)
        return st;
    }
    return berth_backend_nfs_inspect.volume(b->nfs, pv, sclass, usage, out,
                                            err);
  }
  n = strcspn(ap, ":/");
  out->location = strndup(ap, n);
  memset(&l, 0, sizeof(l));
  berth_error_clear(&e);
  st = berth_efs_describe_access_points(b->aws.aws, NULL, out->location, 0,
                                        NULL, &l, &e);
  if (st == BERTH_ENOTFOUND || (st == BERTH_OK && l.count == 0)) {
    berth_efs_access_point_list_cleanup(&l);
    out->state = BERTH_VOLUME_MISSING;
    return BERTH_OK;
  }
  if (st != BERTH_OK) {
    out->state = BERTH_VOLUME_ERROR;
    out->message = strdup(e.message[0] ? e.message : berth_strerror(st));
    return BERTH_OK;
  }
  out->state = BERTH_VOLUME_PRESENT;
  out->source = strdup(berth_inspect_nz(l.items[0].file_system_id));
  out->details = json_object();
  berth_inspect_detail(out->details, "Access Point",
                       l.items[0].access_point_id);
  berth_inspect_detail(out->details, "File System", l.items[0].file_system_id);
  berth_inspect_detail(out->details, "State", l.items[0].life_cycle_state);
  berth_inspect_detail(out->details, "Root Directory", l.items[0].root_path);
  if (l.items[0].has_posix_user) {
    snprintf(buf, sizeof(buf), "%lld:%lld", (long long)l.items[0].posix_uid,
             (long long)l.items[0].posix_gid);
    berth_inspect_detail(out->details, "POSIX User", buf);
  }
  berth_inspect_detail(out->details, "Permissions", l.items[0].permissions);
  berth_efs_access_point_list_cleanup(&l);
  return BERTH_OK;
}

static bool ap_used(const berth_inspect_env_t *env,
                    const berth_efs_access_point_t *a)
{
  const json_t *pv;
  size_t i;

  if (a->client_token != NULL && berth_inspect_pv(env, a->client_token) != NULL)
    return true;
  json_array_foreach(env->pvs, i, pv)
  {
    const char *id = pv_access_point(pv);
    if (id != NULL && a->access_point_id != NULL &&
        strncmp(id, a->access_point_id, strlen(a->access_point_id)) == 0)
      return true;
  }
  return false;
}

static berth_status_t efsi_scan(berth_inspector_t *be, berth_orphans_t *out,
                                berth_error_t *err)
{
  efsi_t *b = (efsi_t *)be;
  berth_efs_access_point_list_t l;
  char *token = NULL;
  berth_status_t st;
  size_t i;

  do {
    memset(&l, 0, sizeof(l));
    st = berth_efs_describe_access_points(b->aws.aws, NULL, NULL, 0, token, &l,
                                          err);
    free(token);
    token = NULL;
    if (st != BERTH_OK)
      break;
    for (i = 0; i < l.count; i++) {
      berth_efs_access_point_t *a = &l.items[i];

      /* berth's access points carry the PV name as ClientToken. */
      if (a->client_token == NULL || strncmp(a->client_token, "pvc-", 4) != 0 ||
          ap_used(be->env, a))
        continue;
      /* EFS says no creation time: never "recent". */
      if (berth_orphans_push(
              out, be->env, &berth_backend_efs_ops, "access-point",
              berth_inspect_nz(a->access_point_id),
              berth_inspect_nz(a->file_system_id),
              berth_inspect_nz(a->root_path),
              berth_strdup_printf("no PV uses it (made for PV %s)",
                                  a->client_token),
              0) == NULL) {
        st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
        break;
      }
    }
    if (st == BERTH_OK && l.next_token != NULL)
      token = strdup(l.next_token);
    berth_efs_access_point_list_cleanup(&l);
  } while (st == BERTH_OK && token != NULL);
  free(token);
  return st;
}

static berth_status_t efsi_remove(berth_inspector_t *be,
                                  const berth_orphan_t *o, bool archive,
                                  char **done, berth_error_t *err)
{
  efsi_t *b = (efsi_t *)be;
  berth_status_t st;

  if (archive)
    return berth_error_set(err, BERTH_EINVAL,
                           "access points cannot be archived; delete them "
                           "(their directory stays on the file system)");
  st = berth_efs_delete_access_point(b->aws.aws, o->name, err);
  if (st == BERTH_OK)
    *done = strdup("deleted (its directory stays on the file system)");
  return st;
}

static berth_status_t efsi_check(berth_inspector_t *be, const json_t *sclass,
                                 char **detail, berth_error_t *err)
{
  efsi_t *b = (efsi_t *)be;
  berth_efs_access_point_list_t l;
  const char *fs = NULL;
  berth_status_t st;

  st = berth_inspect_validate_class(be, sclass, err);
  if (st != BERTH_OK)
    return st;
  if (sclass != NULL) {
    fs = json_string_value(json_object_get(
        berth_inspect_class_parameters(sclass), "fileSystemId"));
  }
  memset(&l, 0, sizeof(l));
  st = berth_efs_describe_access_points(b->aws.aws, fs, NULL, 1, NULL, &l, err);
  if (st != BERTH_OK)
    return st;
  berth_efs_access_point_list_cleanup(&l);
  *detail = berth_strdup_printf("EFS DescribeAccessPoints%s%s in %s",
                                fs ? " on " : "", fs ? fs : "",
                                berth_inspect_nz(berth_aws_region(b->aws.aws)));
  return BERTH_OK;
}

static void efsi_close(berth_inspector_t *be)
{
  efsi_t *b = (efsi_t *)be;

  if (b != NULL)
    berth_inspector_close(b->nfs);
  berth_inspector_aws_close(be);
}

static berth_status_t efsi_open(const berth_inspect_env_t *env,
                                berth_inspector_t **out, berth_error_t *err)
{
  return berth_inspector_aws_open(&berth_backend_efs_ops, env, NULL,
                                  sizeof(efsi_t), out, err);
}

const berth_inspect_ops_t berth_backend_efs_inspect = {
    .annotation_prefix = "efs.berth.io/",
    .open = efsi_open,
    .close = efsi_close,
    .volume = efsi_volume,
    .scan = efsi_scan,
    .remove = efsi_remove,
    .check = efsi_check,
};
