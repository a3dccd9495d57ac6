/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: building the PV, see pv.h. */
#include "pv.h"

#include "claim.h"
#include "berth/quantity.h"

#include "berth/buf.h"
#include "berth/k8s.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* obj[key] = a deep copy of value, when value is set. */
static int copy_field(json_t *obj, const char *key, const json_t *value)
{
  if (value == NULL || json_is_null(value))
    return 0;
  return json_object_set_new(obj, key, json_deep_copy(value));
}

static json_t *pv_metadata(const prov_pv_input_t *in, const char *policy)
{
  json_t *ann = json_object();
  json_t *meta = NULL;

  if (ann == NULL)
    return NULL;
  if (in->result->annotations != NULL &&
      json_object_update(ann, in->result->annotations) != 0)
    goto fail;
  if (json_object_set_new(ann, PROV_ANN_PROVISIONED_BY,
                          json_string(in->provisioner)) != 0)
    goto fail;
  meta = json_pack("{s:s, s:O}", "name", in->pv_name, "annotations", ann);
  if (meta != NULL && strcmp(policy, "Delete") == 0 &&
      json_object_set_new(meta, "finalizers",
                          json_pack("[s]", PROV_PV_FINALIZER)) != 0)
    goto fail;
  json_decref(ann);
  return meta;

fail:
  json_decref(ann);
  json_decref(meta);
  return NULL;
}

static json_t *pv_claim_ref(const json_t *claim)
{
  const char *rv = berth_k8s_obj_resource_version(claim);
  json_t *ref = json_pack(
      "{s:s, s:s, s:s?, s:s?, s:s?}", "kind", "PersistentVolumeClaim",
      "apiVersion", "v1", "namespace", berth_k8s_obj_namespace(claim), "name",
      berth_k8s_obj_name(claim), "uid", berth_k8s_obj_uid(claim));

  if (ref != NULL && rv != NULL &&
      json_object_set_new(ref, "resourceVersion", json_string(rv)) != 0) {
    json_decref(ref);
    return NULL;
  }
  return ref;
}

static json_t *pv_spec(const prov_pv_input_t *in, const char *policy)
{
  const json_t *cspec = json_object_get(in->claim, "spec");
  const char *mode = json_string_value(json_object_get(cspec, "volumeMode"));
  const char *sc = berth_k8s_obj_name(in->sclass);
  char cap[32];
  json_t *spec;
  int rc = 0;

  if (in->result->capacity_bytes == in->requested_bytes &&
      in->requested != NULL)
    berth_strlcpy(cap, in->requested, sizeof(cap));
  else
    berth_quantity_format(in->result->capacity_bytes, cap, sizeof(cap));
  spec = json_pack("{s:{s:s}, s:s, s:s, s:s?, s:o}", "capacity", "storage", cap,
                   "persistentVolumeReclaimPolicy", policy, "volumeMode",
                   mode != NULL ? mode : "Filesystem", "storageClassName", sc,
                   "claimRef", pv_claim_ref(in->claim));
  if (spec == NULL)
    return NULL;
  rc |= copy_field(spec, "accessModes", json_object_get(cspec, "accessModes"));
  rc |= copy_field(spec, "mountOptions",
                   json_object_get(in->sclass, "mountOptions"));
  rc |= copy_field(spec, "nodeAffinity", in->result->node_affinity);
  if (in->result->source != NULL)
    rc |= json_object_update_missing(spec, in->result->source);
  if (rc != 0) {
    json_decref(spec);
    return NULL;
  }
  return spec;
}

berth_status_t prov_pv_build(const prov_pv_input_t *in, json_t **out,
                             berth_error_t *err)
{
  const char *policy = prov_class_reclaim_policy(in->sclass);
  json_t *meta = pv_metadata(in, policy);
  json_t *spec = pv_spec(in, policy);
  json_t *pv = NULL;

  if (meta != NULL && spec != NULL)
    pv = json_pack("{s:s, s:s, s:O, s:O}", "apiVersion", "v1", "kind",
                   "PersistentVolume", "metadata", meta, "spec", spec);
  json_decref(meta);
  json_decref(spec);
  if (pv == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "PV %s: out of memory",
                           in->pv_name);
  *out = pv;
  return BERTH_OK;
}

bool prov_pv_class_gid_key(const json_t *pv, char *out, size_t outsize)
{
  const char *cls = json_string_value(
      json_object_get(json_object_get(pv, "spec"), "storageClassName"));
  const char *gid = berth_k8s_obj_annotation(pv, BERTH_ANN_PV_GID);
  int n;

  /* A class name never holds '/' (it is a DNS subdomain). */
  if (cls == NULL || gid == NULL)
    return false;
  n = snprintf(out, outsize, "%s/%s", cls, gid);
  return n >= 0 && (size_t)n < outsize;
}

void prov_pv_used_gids(const json_t *keys, const char *cls, uint32_t **out,
                       size_t *n)
{
  size_t len = cls != NULL ? strlen(cls) : 0;
  uint32_t *g = calloc(json_array_size(keys) + 1, sizeof(*g));
  json_t *v;
  size_t i;
  long long gid;

  *n = 0;
  json_array_foreach(keys, i, v)
  {
    const char *s = json_string_value(v);

    if (g != NULL && cls != NULL && s != NULL && strncmp(s, cls, len) == 0 &&
        s[len] == '/' &&
        berth_str_to_ll(s + len + 1, 0, UINT32_MAX, &gid) == BERTH_OK)
      g[(*n)++] = (uint32_t)gid;
  }
  *out = g;
}
