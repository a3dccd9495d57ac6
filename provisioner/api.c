/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the controller's API writes, each counted in the
 * metrics by verb and HTTP code. See controller_int.h. */
#include "controller_int.h"

#include "claim.h"

#include "berth/log.h"

#include <string.h>

void prov_api_note(prov_controller_t *c, const char *verb, berth_status_t st,
                   const berth_error_t *err)
{
  long code = 200;

  if (st != BERTH_OK)
    code = err != NULL ? err->http_code : 0;
  else if (strcmp(verb, "create") == 0)
    code = 201;
  prov_metrics_api(c->metrics, verb, code);
}

static atomic_bool *patch_forbidden(prov_controller_t *c,
                                    const berth_k8s_resource_t *res)
{
  return res == &berth_k8s_res_persistentvolumes ? &c->pv_patch_forbidden
                                                 : &c->claim_patch_forbidden;
}

/* The finalizers of cur with name added (present) or removed: a new
 * array, or NULL when nothing changes. */
static json_t *finalizers_with(const json_t *cur, const char *name,
                               bool present)
{
  json_t *fs = json_object_get(json_object_get(cur, "metadata"), "finalizers");
  json_t *out = json_array();
  bool had = false;
  json_t *v;
  size_t i;

  json_array_foreach(fs, i, v)
  {
    if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) {
      had = true;
      if (!present)
        continue;
    }
    json_array_append(out, v);
  }
  if (had == present) {
    json_decref(out);
    return NULL;
  }
  if (present)
    json_array_append_new(out, json_string(name));
  return out;
}

/* The finalizer by GET and a conditional PUT, for RBAC that grants update
 * but not patch (nfs-subdir-external-provisioner's on claims). */
static berth_status_t set_finalizer_update(prov_controller_t *c,
                                           const berth_k8s_resource_t *res,
                                           const json_t *obj, const char *name,
                                           bool present, berth_error_t *err)
{
  json_t *cur = NULL;
  json_t *fs;
  berth_status_t st;

  st = berth_k8s_get(c->client, res, berth_k8s_obj_namespace(obj),
                     berth_k8s_obj_name(obj), &cur, err);
  prov_api_note(c, "get", st, err);
  if (st == BERTH_OK) {
    fs = finalizers_with(cur, name, present);
    if (fs != NULL) {
      json_object_set_new(json_object_get(cur, "metadata"), "finalizers", fs);
      st = berth_k8s_update(c->client, res, berth_k8s_obj_namespace(obj), cur,
                            NULL, err);
      prov_api_note(c, "update", st, err);
    }
  }
  json_decref(cur);
  return st;
}

berth_status_t prov_api_set_finalizer(prov_controller_t *c,
                                      const berth_k8s_resource_t *res,
                                      const json_t *obj, const char *name,
                                      bool present, berth_error_t *err)
{
  atomic_bool *forbidden = patch_forbidden(c, res);
  json_t *patch;
  berth_status_t st;

  if (atomic_load(forbidden)) {
    st = set_finalizer_update(c, res, obj, name, present, err);
    goto done;
  }

  /* A strategic merge patch: finalizers merge as a set (patchStrategy
   * "merge" in ObjectMeta), so adding or removing ours needs no
   * resourceVersion and never conflicts with a concurrent writer (the PV
   * controller binding the claim, kubelet, users). */
  patch = present ? json_pack("{s:{s:[s]}}", "metadata", "finalizers", name)
                  : json_pack("{s:{s:[s]}}", "metadata",
                              "$deleteFromPrimitiveList/finalizers", name);
  if (patch == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_patch(c->client, res, berth_k8s_obj_namespace(obj),
                       berth_k8s_obj_name(obj), NULL, BERTH_K8S_PATCH_STRATEGIC,
                       patch, NULL, err);
  json_decref(patch);
  prov_api_note(c, "patch", st, err);
  if (st == BERTH_EFORBIDDEN && !atomic_exchange(forbidden, true)) {
    berth_log(BERTH_LOG_WARN,
              "patch is forbidden: finalizers are set by update instead",
              "resource", res->resource, "error", err->message, NULL);
    st = set_finalizer_update(c, res, obj, name, present, err);
  }

done:
  if (st == BERTH_ENOTFOUND && !present)
    st = BERTH_OK;
  return st;
}

/* 403 (forbidden) or not, for verb on res, without changing anything. */
static bool probe_forbidden(prov_controller_t *c,
                            const berth_k8s_resource_t *res, bool put)
{
  static const char probe_name[] = "berth-rbac-probe-0a3c9e1f";
  json_t *body = put ? json_pack("{s:{s:s, s:s}}", "metadata", "name",
                                 probe_name, "resourceVersion", "1")
                     : json_object();
  const char *ns =
      res->namespaced ? berth_k8s_client_namespace(c->client) : NULL;
  berth_error_t err;
  berth_status_t st;

  if (body == NULL)
    return false;
  if (put) {
    if (ns != NULL)
      json_object_set_new(json_object_get(body, "metadata"), "namespace",
                          json_string(ns));
    st = berth_k8s_update(c->client, res, ns, body, NULL, &err);
  } else {
    st = berth_k8s_patch(c->client, res, ns, probe_name, NULL,
                         BERTH_K8S_PATCH_MERGE, body, NULL, &err);
  }
  json_decref(body);
  return st == BERTH_EFORBIDDEN;
}

void prov_api_probe_access(prov_controller_t *c)
{
  bool pv_patch = !probe_forbidden(c, &berth_k8s_res_persistentvolumes, false);
  /* Update matters only where patch is refused: deploy/'s ClusterRole
   * grants patch and not update on PVs, and a refused probe is an RBAC
   * denial in the API server's audit log for nothing. */
  bool pv_update =
      !pv_patch && !probe_forbidden(c, &berth_k8s_res_persistentvolumes, true);
  bool claim_patch =
      !probe_forbidden(c, &berth_k8s_res_persistentvolumeclaims, false);

  atomic_store(&c->pv_patch_forbidden, !pv_patch);
  atomic_store(&c->claim_patch_forbidden, !claim_patch);
  c->pv_finalizer = pv_patch || pv_update;
  if (!claim_patch)
    berth_log(BERTH_LOG_INFO,
              "RBAC grants no patch on persistentvolumeclaims: the "
              "provisioning finalizer is set by update",
              NULL);
  if (!c->pv_finalizer)
    berth_log(BERTH_LOG_WARN,
              "RBAC grants neither patch nor update on persistentvolumes "
              "(as nfs-subdir-external-provisioner's ClusterRole): PVs are "
              "made without the finalizer " PROV_PV_FINALIZER
              " (it could never be removed); a released PV's storage is "
              "deleted, then the PV, as nfs-subdir does",
              NULL);
}

berth_status_t prov_api_get(prov_controller_t *c,
                            const berth_k8s_resource_t *res, const char *ns,
                            const char *name, json_t **out, berth_error_t *err)
{
  berth_status_t st = berth_k8s_get(c->client, res, ns, name, out, err);

  prov_api_note(c, "get", st, err);
  return st;
}

berth_status_t prov_api_create_pv(prov_controller_t *c, const json_t *pv,
                                  berth_error_t *err)
{
  berth_status_t st = berth_k8s_create(
      c->client, &berth_k8s_res_persistentvolumes, NULL, pv, NULL, err);

  prov_api_note(c, "create", st, err);
  return st;
}

berth_status_t prov_api_delete_pv(prov_controller_t *c, const char *name,
                                  const char *uid, json_t **out,
                                  berth_error_t *err)
{
  berth_k8s_delete_options_t o;
  berth_status_t st;

  memset(&o, 0, sizeof(o));
  o.precondition_uid = uid;
  st = berth_k8s_delete(c->client, &berth_k8s_res_persistentvolumes, NULL, name,
                        &o, out, err);
  prov_api_note(c, "delete", st, err);
  if (st == BERTH_ENOTFOUND)
    st = BERTH_OK;
  return st;
}
