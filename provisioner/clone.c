/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: claims cloned from another claim, see clone.h. */
#include "clone.h"

#include "claim.h"
#include "events.h"
#include "metrics.h"

#include "berth/clock.h"
#include "berth/log.h"

#include <stdio.h>
#include <string.h>

/* The source claim: from the cache (claims of our classes), else from the
 * API server (a claim of another class, to say so). New reference. */
static berth_status_t get_source_claim(prov_controller_t *c, const char *ns,
                                       const char *name, json_t **out,
                                       berth_error_t *err)
{
  berth_status_t st;

  *out = berth_k8s_informer_get(c->claims, ns, name);
  if (*out != NULL)
    return BERTH_OK;
  st = prov_api_get(c, &berth_k8s_res_persistentvolumeclaims, ns, name, out,
                    err);
  if (st == BERTH_ENOTFOUND)
    st = berth_error_set(err, BERTH_EINVAL,
                         "error getting PVC %s (namespace \"%s\"): not found",
                         name, ns);
  return st;
}

/* ---- hooks -------------------------------------------------------------- */

/* Stop when the lease is lost or the claim is gone, being deleted or
 * replaced (another uid); looks at the cache every PROV_CLONE_CHECK_MS. */
static bool clone_cancelled(void *ctx)
{
  prov_clone_t *cl = ctx;
  int64_t now = berth_clock_monotonic_ms(NULL);
  json_t *cur;
  const char *uid;

  if (cl->cancelled)
    return true;
  if (now - cl->last_check_ms < PROV_CLONE_CHECK_MS)
    return false;
  cl->last_check_ms = now;
  if (!prov_active(cl->c)) {
    cl->cancelled = true;
    return true;
  }
  cur =
      berth_k8s_informer_get(cl->c->claims, berth_k8s_obj_namespace(cl->claim),
                             berth_k8s_obj_name(cl->claim));
  uid = berth_k8s_obj_uid(cur);
  cl->cancelled = cur == NULL || prov_obj_deleting(cur) || uid == NULL ||
                  strcmp(uid, berth_k8s_obj_uid(cl->claim)) != 0;
  json_decref(cur);
  return cl->cancelled;
}

static void clone_progress(void *ctx, uint64_t files, uint64_t bytes,
                           uint64_t skipped, bool done)
{
  prov_clone_t *cl = ctx;
  int64_t now = berth_clock_monotonic_ms(NULL);

  prov_metrics_clone(cl->c->metrics, files - cl->files, bytes - cl->bytes);
  cl->files = files;
  cl->bytes = bytes;
  if (done) {
    prov_events_emit(cl->c->events, cl->claim,
                     &berth_k8s_res_persistentvolumeclaims, "Normal",
                     "CloneProgress",
                     "copied %llu entries (%llu bytes) from claim %s/%s; "
                     "%llu special files (FIFOs, sockets, devices) not "
                     "copied",
                     (unsigned long long)files, (unsigned long long)bytes,
                     cl->hooks.ns, cl->hooks.name, (unsigned long long)skipped);
    return;
  }
  if (cl->events >= PROV_CLONE_EVENTS_MAX ||
      (cl->events > 0 && now - cl->last_event_ms < PROV_CLONE_EVENT_MS))
    return;
  cl->events++;
  cl->last_event_ms = now;
  prov_events_emit(cl->c->events, cl->claim,
                   &berth_k8s_res_persistentvolumeclaims, "Normal",
                   "CloneProgress",
                   "copying from claim %s/%s: %llu entries (%llu bytes) so "
                   "far",
                   cl->hooks.ns, cl->hooks.name, (unsigned long long)files,
                   (unsigned long long)bytes);
}

/* ---- resolve ------------------------------------------------------------ */

berth_status_t prov_clone_resolve(prov_controller_t *c, const json_t *claim,
                                  const char *prov, const char *field,
                                  const json_t *ds, prov_clone_t *out,
                                  berth_error_t *err)
{
  const char *ns = berth_k8s_obj_namespace(claim);
  const char *name = json_string_value(json_object_get(ds, "name"));
  const char *vol;
  berth_status_t st;

  memset(out, 0, sizeof(*out));
  out->c = c;
  out->claim = claim;
  st = prov_clone_check_ref(claim, field, ds, err);
  if (st == BERTH_OK)
    st = get_source_claim(c, ns, name, &out->source_claim, err);
  if (st == BERTH_OK)
    st = prov_clone_check_source(claim, name, out->source_claim, err);
  if (st != BERTH_OK)
    return st;
  vol = json_string_value(json_object_get(
      json_object_get(out->source_claim, "spec"), "volumeName"));
  out->source_pv = berth_k8s_informer_get(c->volumes, NULL, vol);
  st = prov_clone_check_pv(claim, name, out->source_claim, out->source_pv, prov,
                           err);
  if (st != BERTH_OK)
    return st;
  out->hooks.pv = out->source_pv;
  out->hooks.ns = ns;
  out->hooks.name = berth_k8s_obj_name(out->source_claim);
  out->hooks.uid = berth_k8s_obj_uid(out->source_claim);
  out->hooks.cancelled = clone_cancelled;
  out->hooks.progress = clone_progress;
  out->hooks.ctx = out;
  return BERTH_OK;
}

void prov_clone_cleanup(prov_clone_t *cl)
{
  if (cl == NULL)
    return;
  json_decref(cl->source_claim);
  json_decref(cl->source_pv);
  memset(cl, 0, sizeof(*cl));
}
