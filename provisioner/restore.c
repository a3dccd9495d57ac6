/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: a claim restored from a VolumeSnapshot (its
 * dataSource or dataSourceRef: apiGroup snapshot.storage.k8s.io, kind
 * VolumeSnapshot), checked as external-provisioner's getSnapshotSource
 * does: the snapshot exists in the claim's namespace, is readyToUse and
 * bound to a VolumeSnapshotContent that points back at it (uid), of our
 * driver, with a snapshotHandle; the claim asks for at least its
 * restoreSize. See snapshot.h. */
#include "snapshot.h"

#include "berth/quantity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RESTORE_GROUP "snapshot.storage.k8s.io"

static const char *s_at(const json_t *o, const char *a, const char *b)
{
  json_t *v = json_object_get(o, a);
  return json_string_value(b != NULL ? json_object_get(v, b) : v);
}

/* The VolumeSnapshot the claim names (its name), or NULL; *field is the
 * claim's field that names it. */
static const char *snapshot_source(const json_t *claim, const char **field)
{
  static const char *const fields[] = {"dataSourceRef", "dataSource"};
  json_t *spec = json_object_get(claim, "spec");
  size_t i;

  for (i = 0; i < 2; i++) {
    json_t *ds = json_object_get(spec, fields[i]);
    const char *group = s_at(ds, "apiGroup", NULL);
    const char *kind = s_at(ds, "kind", NULL);
    if (ds == NULL || json_is_null(ds))
      continue;
    if (group != NULL && strcmp(group, RESTORE_GROUP) == 0 && kind != NULL &&
        strcmp(kind, "VolumeSnapshot") == 0) {
      *field = fields[i];
      return s_at(ds, "name", NULL);
    }
    return NULL;
  }
  return NULL;
}

/* A size that is a number of bytes or a quantity ("1Gi"). */
static bool size_of(json_t *v, uint64_t *out)
{
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    *out = (uint64_t)json_integer_value(v);
    return true;
  }
  return json_is_string(v) &&
         berth_quantity_parse(json_string_value(v), out, NULL) == BERTH_OK;
}

static berth_status_t check_content(const json_t *content, const json_t *vs,
                                    const char *ns, const char *name,
                                    berth_error_t *err)
{
  json_t *spec = json_object_get(content, "spec");
  const char *driver = s_at(spec, "driver", NULL);
  const char *ref_uid = s_at(spec, "volumeSnapshotRef", "uid");
  const char *ref_ns = s_at(spec, "volumeSnapshotRef", "namespace");
  const char *ref_name = s_at(spec, "volumeSnapshotRef", "name");

  if (driver == NULL || strcmp(driver, PROV_SNAP_DRIVER) != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshot %s/%s: its content is of driver "
                           "\"%s\", not %s",
                           ns, name, driver ? driver : "", PROV_SNAP_DRIVER);
  if (ref_uid == NULL || strcmp(ref_uid, berth_k8s_obj_uid(vs)) != 0 ||
      ref_ns == NULL || strcmp(ref_ns, ns) != 0 || ref_name == NULL ||
      strcmp(ref_name, name) != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshot %s/%s: its content %s is bound to "
                           "another snapshot",
                           ns, name, berth_k8s_obj_name(content));
  return BERTH_OK;
}

berth_status_t prov_restore_source(berth_k8s_client_t *k8s, const json_t *claim,
                                   uint64_t requested, char *id, size_t id_size,
                                   uint64_t *restore_bytes, berth_error_t *err)
{
  const char *ns = berth_k8s_obj_namespace(claim);
  const char *field = "dataSource";
  const char *name = snapshot_source(claim, &field);
  json_t *vs = NULL, *content = NULL, *status;
  const char *bound, *handle;
  uint64_t size = 0;
  berth_status_t st;

  if (name == NULL)
    return BERTH_ENOTFOUND;
  st = berth_k8s_get(k8s, &prov_res_volumesnapshots, ns, name, &vs, err);
  if (st == BERTH_ENOTFOUND)
    st = berth_error_set(err, BERTH_EUNAVAILABLE,
                         "VolumeSnapshot %s/%s does not exist (yet)", ns, name);
  if (st != BERTH_OK)
    goto done;
  status = json_object_get(vs, "status");
  bound = s_at(status, "boundVolumeSnapshotContentName", NULL);
  if (!json_is_true(json_object_get(status, "readyToUse")) || bound == NULL) {
    st = berth_error_set(err, BERTH_EUNAVAILABLE,
                         "VolumeSnapshot %s/%s is not ready to use yet", ns,
                         name);
    goto done;
  }
  st = berth_k8s_get(k8s, &prov_res_volumesnapshotcontents, NULL, bound,
                     &content, err);
  if (st == BERTH_OK)
    st = check_content(content, vs, ns, name, err);
  if (st != BERTH_OK)
    goto done;
  handle = s_at(json_object_get(content, "status"), "snapshotHandle", NULL);
  if (handle == NULL || strlen(handle) >= id_size) {
    st = berth_error_set(err, BERTH_EUNAVAILABLE,
                         "VolumeSnapshotContent %s has no snapshotHandle yet",
                         bound);
    goto done;
  }
  if (!size_of(
          json_object_get(json_object_get(content, "status"), "restoreSize"),
          &size))
    size_of(json_object_get(status, "restoreSize"), &size);
  /* external-provisioner: "requested volume size %d is less than the size
   * %d for the source snapshot %s". */
  if (requested < size) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "requested volume size %" PRIu64
                         " is less than the size %" PRIu64
                         " for the source snapshot %s",
                         requested, size, name);
    goto done;
  }
  snprintf(id, id_size, "%s", handle);
  *restore_bytes = size;
done:
  /* Every refusal names the claim's field, as for other data sources. */
  if (st != BERTH_OK) {
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "claim spec.%s", field);
    berth_error_prefix(err, prefix);
  }
  json_decref(content);
  json_decref(vs);
  return st;
}
