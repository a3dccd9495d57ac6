/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the PV state machine.
 *
 * A PV is ours when pv.kubernetes.io/provisioned-by or migrated-to names
 * one of our provisioners, or it is adopted (volume_owner.c). Each sync reads
 * it from the informer's cache and takes the first step that applies; each step
 * is idempotent, so a crash anywhere is repaired by the next sync:
 *
 *   RETAIN     reclaim policy other than Delete: the storage stays; our
 *              finalizer (F = external-provisioner.volume.kubernetes.io/
 *              finalizer) must not hold the PV, so it is dropped if there.
 *   GUARD      reclaim policy Delete, not Released, F missing (a PV from an
 *              older provisioner): add F, so that the PV cannot go before
 *              its storage (as the sig-storage library). Not when RBAC
 *              lets us neither patch nor update PVs (nfs-subdir's): F
 *              could never be removed; the storage goes first, then the
 *              PV, as the library without AddFinalizer.
 *   (wait)     not Released yet: nothing to do.
 *   RECLAIM    Released with reclaim policy Delete:
 *                1. backend delete: remove, archive or keep the storage as
 *                   the class said (recorded on the PV at provision time);
 *                   storage already gone is success;
 *                2. DELETE the PV (precondition: its uid), which F holds;
 *                3. drop F: the PV goes.
 *              A crash between the steps repeats them: the backend finds
 *              nothing to delete, the PV is deleting already, F goes.
 *              Failures: Warning VolumeFailedDelete on the PV, backoff. */
#include "controller_int.h"

#include "claim.h"

#include "berth/log.h"

#include <string.h>

typedef struct vol_ctx {
  prov_controller_t *c;
  json_t *pv;     /* cached (a reference we hold) */
  json_t *sclass; /* or NULL when the class is gone */
  berth_backend_t *be;
  const char *name;
  const char *cls;
} vol_ctx_t;

static const char *pv_phase(const json_t *pv)
{
  const char *p = json_string_value(
      json_object_get(json_object_get(pv, "status"), "phase"));

  return p != NULL ? p : "";
}

static const char *pv_policy(const json_t *pv)
{
  const char *p = json_string_value(json_object_get(
      json_object_get(pv, "spec"), "persistentVolumeReclaimPolicy"));

  return p != NULL ? p : "Delete";
}

static void log_vol(const vol_ctx_t *x, berth_log_level_t lvl, const char *msg,
                    const char *k, const char *v)
{
  berth_log(lvl, msg, "pv", x->name, "class", x->cls, k, v, NULL);
}

static prov_result_t set_guard(vol_ctx_t *x, bool present)
{
  berth_error_t err;

  if (!prov_active(x->c) ||
      prov_obj_has_finalizer(x->pv, PROV_PV_FINALIZER) == present ||
      (present && !x->c->pv_finalizer))
    return PROV_DONE; /* the cache is current enough: nothing of ours; or
                         RBAC would not let us remove it again */
  if (prov_api_set_finalizer(x->c, &berth_k8s_res_persistentvolumes, x->pv,
                             PROV_PV_FINALIZER, present, &err) == BERTH_OK)
    return PROV_DONE;
  log_vol(x, BERTH_LOG_WARN, "cannot update the PV finalizer", "error",
          err.message);
  return PROV_RETRY;
}

static prov_result_t reclaim_failed(vol_ctx_t *x, int64_t t0,
                                    const berth_error_t *err)
{
  prov_events_emit(x->c->events, x->pv, &berth_k8s_res_persistentvolumes,
                   "Warning", "VolumeFailedDelete", "%s", err->message);
  log_vol(x, BERTH_LOG_WARN, "deleting volume failed", "error", err->message);
  prov_metrics_delete(x->c->metrics, x->cls, false, prov_seconds_since(t0));
  return PROV_RETRY;
}

/* RECLAIM 1: the backend, unless this process did it already. */
static berth_status_t reclaim_storage(vol_ctx_t *x, berth_error_t *err)
{
  char where[1024] = "";
  berth_delete_request_t req = {x->pv, json_object_get(x->sclass, "parameters"),
                                where, sizeof(where)};
  berth_delete_outcome_t outcome = BERTH_DELETE_ABSENT;
  int64_t t0 = berth_clock_monotonic_ms(NULL);
  berth_status_t st;

  if (prov_done_has(x->c, 'v', berth_k8s_obj_uid(x->pv)))
    return BERTH_OK;
  st = berth_backend_delete(x->be, &req, &outcome, err);
  prov_metrics_backend(x->c->metrics, berth_backend_name(x->be), "delete",
                       st == BERTH_OK, prov_seconds_since(t0));
  if (st != BERTH_OK)
    return st;
  prov_done_add(x->c, 'v', berth_k8s_obj_uid(x->pv));
  if (outcome == BERTH_DELETE_ARCHIVED && where[0] != '\0')
    berth_log(BERTH_LOG_INFO, "volume storage reclaimed", "pv", x->name,
              "class", x->cls, "outcome", berth_delete_outcome_name(outcome),
              "archived_to", where, NULL);
  else
    log_vol(x, BERTH_LOG_INFO, "volume storage reclaimed", "outcome",
            berth_delete_outcome_name(outcome));
  return BERTH_OK;
}

/* RECLAIM: backend, DELETE, finalizer. */
static prov_result_t reclaim(vol_ctx_t *x)
{
  int64_t t0 = berth_clock_monotonic_ms(NULL);
  json_t *after = NULL;
  berth_error_t err;
  berth_status_t st;

  berth_error_clear(&err);
  if (!prov_active(x->c))
    return PROV_DONE;
  st = reclaim_storage(x, &err);
  if (st != BERTH_OK)
    return reclaim_failed(x, t0, &err);
  if (!prov_active(x->c))
    return PROV_DONE;
  if (!prov_obj_deleting(x->pv))
    st = prov_api_delete_pv(x->c, x->name, berth_k8s_obj_uid(x->pv), &after,
                            &err);
  if (st == BERTH_OK &&
      (x->c->pv_finalizer || prov_obj_has_finalizer(x->pv, PROV_PV_FINALIZER)))
    st = prov_api_set_finalizer(x->c, &berth_k8s_res_persistentvolumes, x->pv,
                                PROV_PV_FINALIZER, false, &err);
  json_decref(after);
  if (st != BERTH_OK)
    return reclaim_failed(x, t0, &err);
  prov_done_add(x->c, 'f', berth_k8s_obj_uid(x->pv));
  prov_metrics_delete(x->c->metrics, x->cls, true, prov_seconds_since(t0));
  prov_metrics_usage_forget(x->c->metrics, x->name);
  log_vol(x, BERTH_LOG_INFO, "deleted volume", NULL, NULL);
  return PROV_DONE;
}

static prov_result_t vol_step(vol_ctx_t *x)
{
  const char *phase = pv_phase(x->pv);
  bool deleting = prov_obj_deleting(x->pv);

  if (strcmp(pv_policy(x->pv), "Delete") != 0)
    return set_guard(x, false);
  if (strcmp(phase, "Released") != 0) {
    if (!deleting && strcmp(phase, "Failed") != 0)
      return set_guard(x, true);
    return PROV_DONE;
  }
  if ((deleting && !prov_obj_has_finalizer(x->pv, PROV_PV_FINALIZER)) ||
      prov_done_has(x->c, 'f', berth_k8s_obj_uid(x->pv)))
    return PROV_DONE; /* reclaimed; the PV is on its way out */
  return reclaim(x);
}

prov_result_t prov_sync_volume(prov_controller_t *c, const char *name)
{
  vol_ctx_t x;
  prov_result_t r = PROV_DONE;

  memset(&x, 0, sizeof(x));
  x.c = c;
  x.name = name;
  x.pv = berth_k8s_informer_get(c->volumes, NULL, name);
  if (x.pv == NULL)
    return PROV_DONE;
  x.be = prov_volume_backend(c, x.pv);
  x.cls = json_string_value(
      json_object_get(json_object_get(x.pv, "spec"), "storageClassName"));
  if (x.cls != NULL)
    x.sclass = berth_k8s_informer_get(c->classes, NULL, x.cls);
  if (x.be != NULL)
    r = vol_step(&x);
  json_decref(x.sclass);
  json_decref(x.pv);
  return r;
}
