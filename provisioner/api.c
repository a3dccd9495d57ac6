/* berth-provisioner: the controller's API writes, each counted in the
 * metrics by verb and HTTP code. See controller_int.h. */
#include "controller_int.h"

#include "claim.h"

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

berth_status_t prov_api_set_finalizer(prov_controller_t *c,
                                      const berth_k8s_resource_t *res,
                                      const json_t *obj, const char *name,
                                      bool present, berth_error_t *err)
{
  json_t *patch;
  berth_status_t st;

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
  if (st == BERTH_ENOTFOUND && !present)
    st = BERTH_OK;
  return st;
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
