/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the rules a clone's source must follow (no I/O), see
 * clone.h. */
#include "clone.h"

#include "claim.h"

#include "berth/k8s.h"
#include "berth/quantity.h"

#include <stdio.h>
#include <string.h>

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
  return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static bool empty(const char *s)
{
  return s == NULL || s[0] == '\0';
}

bool prov_clone_is_claim_source(const json_t *ds)
{
  const char *kind = json_string_value(json_object_get(ds, "kind"));
  const char *group = json_string_value(json_object_get(ds, "apiGroup"));

  /* A claim is in the core group: apiGroup absent or "". */
  return kind != NULL && strcmp(kind, "PersistentVolumeClaim") == 0 &&
         empty(group);
}

/* The claim's spec.resources.requests.storage in bytes (0 if none). */
static uint64_t request_of(const json_t *claim)
{
  const char *q = json_string_value(json_object_get(
      json_object_get(
          json_object_get(json_object_get(claim, "spec"), "resources"),
          "requests"),
      "storage"));
  uint64_t v = 0;

  if (q == NULL || berth_quantity_parse(q, &v, NULL) != BERTH_OK)
    v = 0;
  return v;
}

static bool is_block(const json_t *obj)
{
  const char *m = str_at(obj, "spec", "volumeMode");

  return m != NULL && strcmp(m, "Block") == 0;
}

berth_status_t prov_clone_check_ref(const json_t *claim, const char *field,
                                    const json_t *ds, berth_error_t *err)
{
  const char *name = json_string_value(json_object_get(ds, "name"));
  const char *ref_ns = json_string_value(json_object_get(ds, "namespace"));
  const char *ns = berth_k8s_obj_namespace(claim);

  if (!empty(ref_ns) && (ns == NULL || strcmp(ref_ns, ns) != 0))
    return berth_error_set(err, BERTH_EINVAL,
                           "claim spec.%s names a claim in namespace %s: a "
                           "cross-namespace data source needs the "
                           "CrossNamespaceVolumeDataSource feature gate and a "
                           "ReferenceGrant, and berth clones only within a "
                           "namespace",
                           field, ref_ns);
  if (empty(name) || strlen(name) > 253)
    return berth_error_set(err, BERTH_EINVAL,
                           "the PVC source not found for PVC %s (spec.%s has "
                           "no valid name)",
                           berth_k8s_obj_name(claim), field);
  return BERTH_OK;
}

berth_status_t prov_clone_check_source(const json_t *claim, const char *name,
                                       const json_t *src, berth_error_t *err)
{
  const char *phase = str_at(src, "status", "phase");
  const char *src_class = prov_claim_class(src);
  const char *cls = prov_claim_class(claim);
  uint64_t want = request_of(claim);
  uint64_t have = request_of(src);
  char qwant[32], qhave[32];

  if (phase == NULL || strcmp(phase, "Bound") != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "the PVC DataSource %s must have a status of "
                           "Bound (it is %s)",
                           name, phase != NULL ? phase : "without a phase");
  if (prov_obj_deleting(src))
    return berth_error_set(err, BERTH_EINVAL,
                           "the PVC DataSource %s is currently being deleted",
                           name);
  if (empty(src_class))
    return berth_error_set(err, BERTH_EINVAL,
                           "the source PVC (%s) storageclass cannot be empty",
                           name);
  if (empty(cls) || strcmp(src_class, cls) != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "the source PVC and destination PVCs must be in "
                           "the same storage class for cloning. Source is in "
                           "%s, but new PVC is in %s",
                           src_class, cls != NULL ? cls : "(none)");
  if (want < have) {
    berth_quantity_format(want, qwant, sizeof(qwant));
    berth_quantity_format(have, qhave, sizeof(qhave));
    return berth_error_set(err, BERTH_EINVAL,
                           "error, new PVC request must be greater than or "
                           "equal in size to the specified PVC data source, "
                           "requested %s but source is %s",
                           qwant, qhave);
  }
  if (empty(str_at(src, "spec", "volumeName")))
    return berth_error_set(err, BERTH_EINVAL,
                           "volume name is empty in source PVC %s", name);
  return BERTH_OK;
}

berth_status_t prov_clone_check_pv(const json_t *claim, const char *name,
                                   const json_t *src, const json_t *pv,
                                   const char *prov, berth_error_t *err)
{
  const json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
  const char *by = berth_k8s_obj_annotation(pv, PROV_ANN_PROVISIONED_BY);
  const char *why = NULL;

  if (pv == NULL)
    why = "its PV is not found";
  else if (by == NULL || strcmp(by, prov) != 0)
    why = "its PV was not provisioned by this provisioner";
  else if (json_string_value(json_object_get(ref, "uid")) == NULL ||
           strcmp(json_string_value(json_object_get(ref, "uid")),
                  berth_k8s_obj_uid(src)) != 0)
    why = "its PV is bound to another claim";
  else if (str_at(pv, "status", "phase") == NULL ||
           strcmp(str_at(pv, "status", "phase"), "Bound") != 0)
    why = "its PV is not Bound";
  if (why != NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "claim in dataSource not bound or invalid: %s %s",
                           name, why);
  if (is_block(claim) != is_block(pv))
    return berth_error_set(err, BERTH_EINVAL,
                           "the source PVC and destination PVCs must have the "
                           "same volume mode for cloning. Source is %s, but "
                           "new PVC requested %s",
                           is_block(pv) ? "Block" : "Filesystem",
                           is_block(claim) ? "Block" : "Filesystem");
  return BERTH_OK;
}
