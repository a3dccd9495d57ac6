/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the claim state machine.
 *
 * A claim is ours when its volume.kubernetes.io/storage-provisioner (or
 * beta) annotation names one of our provisioners and its StorageClass
 * names the same one. Each sync reads the claim from the informer's cache
 * and takes the first step that applies; every step is idempotent, so a
 * crash (SIGKILL, lost lease) at any point is repaired by the next sync of
 * the same claim, in this process or the next leader:
 *
 *   RESIZE     bound already (spec.volumeName) and ours: if the request
 *              grew past the PV's capacity in a class that allows it, on
 *              a backend that can expand: grow the storage, then the PV's
 *              capacity, then FileSystemResizePending (see claim_resize).
 *   (skip)     not ours; class missing
 *              (retried, and queued again when the class appears);
 *              WaitForFirstConsumer without volume.kubernetes.io/
 *              selected-node yet (the scheduler's annotation queues it).
 *   DONE       PV pvc-<claim uid> exists (cache, or made by this process):
 *              forget the claim as in flight; drop the claim finalizer
 *              (F, provisioner.berth.io/provisioning, which earlier
 *              versions of berth put on claims) if one left it there.
 *   CHECK      class parameters (backend validate, no I/O), selector,
 *              access modes, request, allowedTopologies against the
 *              selected node. Failure: Warning ProvisioningFailed naming
 *              the parameter; backoff.
 *   GUARD      Event Provisioning; hold a copy of the claim as in flight
 *              (inflight.c) BEFORE the backend makes anything: no API
 *              request. A claim deleted from here on is still known to
 *              this process, which removes its storage (see Deletion).
 *   BACKEND    backend provision. Names derive from the claim and
 *              pvc-<uid>, so a repeat finds what an earlier attempt made
 *              (same directory, same gid) instead of making another.
 *              EINVAL (hostile name, bad parameter): nothing was written;
 *              forget it, ProvisioningFailed, backoff. Other errors:
 *              backoff.
 *   SAVE       create the PV (claimRef with the claim's uid). 201 or 409
 *              AlreadyExists both mean saved: pvc-<uid> can only be this
 *              claim's. 400/422 (will never work): delete what the backend
 *              made (the PV as it would have been), forget it. Other
 *              errors: backoff; the next attempt re-finds and re-uses the
 *              storage.
 *   BOUND      Event ProvisioningSucceeded; forget it. The PV controller
 *              binds. The success path costs three requests: two Events
 *              and the PV (the first Event may be shed, see events.c).
 *
 * Deletion: a claim held in flight that is being deleted (deletionTimestamp)
 * or gone from the cache (the held copy is used) lost its PV before it was
 * saved (or never got one). The claim's absence is confirmed with a GET
 * (the cache may be slow). If the PV exists after all (GET, not the
 * cache), forgetting it is enough: the PV's reclaim policy takes over.
 * Else the backend storage is found again (provision is idempotent) and
 * deleted as the PV would have been. A claim deleted while the backend
 * call runs gets its PV saved all the same; the PV names the deleted
 * claim's uid, so the PV controller releases it and its reclaim policy
 * applies, as for any claim deleted after binding. A claim that still
 * carries F from an older berth is handled as before: F is dropped once
 * the PV exists or the storage is gone.
 *
 * Not covered in memory: a process killed (SIGKILL, node loss) between
 * the backend call and the PV's save, whose claim is deleted before the
 * next leader syncs it. See the provisioner's README ("Claims deleted
 * during provisioning").
 *
 * Leader loss: prov_active() is checked before the backend call and before
 * the PV is saved, so a replica that lost its lease stops at once. */
#include "controller_int.h"

#include "claim.h"
#include "claim_decide.h"
#include "clone.h"
#include "pv.h"
#include "snapshot.h"
#include "berth/quantity.h"

#include "berth/clock.h"
#include "berth/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct claim_ctx {
  prov_controller_t *c;
  json_t *claim;  /* the cached claim (a reference we hold) */
  json_t *sclass; /* its class (a reference), or NULL */
  const char *prov;
  berth_backend_t *be;
  char key[512]; /* namespace/name, for logs */
  char pv_name[96];
  uint64_t req_bytes;
  const char *req_text;
  unsigned modes;
  char snapshot_id[64];   /* restored from this EBS snapshot, or "" */
  uint64_t restore_bytes; /* its restoreSize */
  int64_t start_ms;
  bool cleaning;      /* claim_cleanup: the data source is not read */
  prov_clone_t clone; /* a clone's source (clone.h), when resolved */
  bool is_clone;
  bool finalizer; /* the claim holds F (from an older berth), as far as we
                     know */
  bool held;      /* held in flight by this process (inflight.c) */
  bool gone;      /* the claim is no longer in the cache: x->claim is the
                     held copy */
} claim_ctx_t;

static const char *class_name(const claim_ctx_t *x)
{
  return x->sclass != NULL ? berth_k8s_obj_name(x->sclass)
                           : prov_claim_class(x->claim);
}

static void log_claim(const claim_ctx_t *x, berth_log_level_t lvl,
                      const char *msg, const char *k, const char *v)
{
  berth_log(lvl, msg, "claim", x->key, "pv", x->pv_name, "class", class_name(x),
            k, v, NULL);
}

static json_t *class_parameters(const claim_ctx_t *x)
{
  return json_object_get(x->sclass, "parameters");
}

/* The claim is guarded: this process holds it in flight, or it still
 * carries F from an older berth. */
static bool guarded(const claim_ctx_t *x)
{
  return x->held || x->finalizer;
}

/* Hold the claim in flight before the backend may make anything. */
static berth_status_t guard_on(claim_ctx_t *x, berth_error_t *err)
{
  if (x->held)
    return BERTH_OK;
  if (prov_inflight_put(x->c, x->claim) != BERTH_OK)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  x->held = true;
  return BERTH_OK;
}

/* Its PV is saved or its storage gone: forget the claim, and drop F when
 * an older berth left it on the claim. */
static berth_status_t guard_off(claim_ctx_t *x, berth_error_t *err)
{
  berth_status_t st;

  if (x->finalizer) {
    st = prov_api_set_finalizer(x->c, &berth_k8s_res_persistentvolumeclaims,
                                x->claim, PROV_CLAIM_FINALIZER, false, err);
    if (st != BERTH_OK)
      return st;
    x->finalizer = false;
  }
  if (x->held)
    prov_inflight_remove(x->c, x->claim);
  x->held = false;
  return BERTH_OK;
}

/* The failure may come from the node the scheduler chose (its zone has
 * no capacity or no support, or it is outside the class's topology):
 * remove volume.kubernetes.io/selected-node so that the scheduler chooses
 * again, as sig-storage-lib-external-provisioner does for
 * ProvisioningReschedule. An update conditional on the cached
 * resourceVersion, as the library's, so that a newer choice is never
 * undone; a conflict means the claim changed and is synced again. */
static void reschedule(claim_ctx_t *x)
{
  const char *node = prov_claim_selected_node(x->claim);
  json_t *copy, *ann;
  berth_error_t err;
  berth_status_t st;

  if (node == NULL || !prov_class_wait_for_consumer(x->sclass) ||
      !prov_active(x->c))
    return;
  copy = json_deep_copy(x->claim);
  ann = json_object_get(json_object_get(copy, "metadata"), "annotations");
  if (copy == NULL || json_object_del(ann, PROV_ANN_SELECTED_NODE) != 0) {
    json_decref(copy);
    return;
  }
  st = berth_k8s_update(x->c->client, &berth_k8s_res_persistentvolumeclaims,
                        berth_k8s_obj_namespace(x->claim), copy, NULL, &err);
  prov_api_note(x->c, "update", st, &err);
  json_decref(copy);
  if (st == BERTH_OK)
    log_claim(x, BERTH_LOG_INFO,
              "removed the selected node: the scheduler chooses again", "node",
              node);
  else
    log_claim(x, BERTH_LOG_WARN, "cannot remove the selected node", "error",
              err.message);
}

/* A failed attempt: Warning Event (aggregated by the recorder), log,
 * metrics. A request that will never work (BERTH_EINVAL) wrote nothing:
 * the claim's guard finalizer goes too. */
static prov_result_t claim_fail(claim_ctx_t *x, berth_status_t st,
                                const berth_error_t *err)
{
  berth_error_t ferr;
  const char *msg = err->message[0] != '\0' ? err->message : berth_strerror(st);

  /* The guard first: once the Event is visible, the claim is as it will
   * stay until the next attempt. */
  if (st == BERTH_EINVAL && guarded(x) && prov_active(x->c) &&
      guard_off(x, &ferr) != BERTH_OK)
    log_claim(x, BERTH_LOG_WARN, "cannot drop the claim finalizer", "error",
              ferr.message);
  prov_events_emit(x->c->events, x->claim,
                   &berth_k8s_res_persistentvolumeclaims, "Warning",
                   "ProvisioningFailed",
                   "failed to provision volume with StorageClass \"%s\": %s",
                   class_name(x), msg);
  log_claim(x, BERTH_LOG_WARN, "provisioning failed", "error", msg);
  prov_metrics_provision(x->c->metrics, class_name(x), false,
                         prov_seconds_since(x->start_ms));
  if (berth_backend_error_reschedules(err))
    reschedule(x);
  return PROV_RETRY;
}

/* The selected node satisfies the class's allowedTopologies. */
static berth_status_t check_topology(claim_ctx_t *x, berth_error_t *err)
{
  const char *node_name = prov_claim_selected_node(x->claim);
  json_t *node = NULL;
  berth_status_t st;

  if (node_name == NULL ||
      json_array_size(json_object_get(x->sclass, "allowedTopologies")) == 0)
    return BERTH_OK;
  st = prov_api_get(x->c, &berth_k8s_res_nodes, NULL, node_name, &node, err);
  if (st == BERTH_ENOTFOUND)
    st = berth_error_set(err, BERTH_EINVAL, "selected node \"%s\" not found",
                         node_name);
  else if (st == BERTH_OK && !prov_class_allows_node(x->sclass, node)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "selected node \"%s\" is not in the class's "
                         "allowedTopologies",
                         node_name);
    berth_error_set_reason(err, BERTH_REASON_NODE_CHOICE);
  }
  json_decref(node);
  return st;
}

static void fill_request(claim_ctx_t *x, berth_provision_request_t *req);

/* A claim with a data source (a VolumeSnapshot, a PVC to clone, a
 * populator's object) wants a volume that holds that data. The EBS backend
 * restores VolumeSnapshots of ebs.csi.aws.com (restore.c) and the NFS
 * backend clones claims (clone.h); any other data source is refused, as
 * the external provisioner library refuses it for a provisioner without
 * the capability, instead of Binding an empty volume that looks restored.
 * A claim being cleaned up needs no source: its storage is found, not
 * filled. */
static berth_status_t check_data_source(claim_ctx_t *x, berth_error_t *err)
{
  static const char *const fields[] = {"dataSourceRef", "dataSource"};
  json_t *spec = json_object_get(x->claim, "spec");
  size_t i;

  x->snapshot_id[0] = '\0';
  if (berth_backend_caps(x->be) & BERTH_BACKEND_CAP_SNAPSHOT) {
    berth_status_t st = prov_restore_source(
        x->c->client, x->claim, x->req_bytes, x->snapshot_id,
        sizeof(x->snapshot_id), &x->restore_bytes, err);
    if (st != BERTH_ENOTFOUND)
      return st;
  }

  for (i = 0; i < 2; i++) {
    json_t *ds = json_object_get(spec, fields[i]);
    const char *kind = json_string_value(json_object_get(ds, "kind"));
    const char *name = json_string_value(json_object_get(ds, "name"));
    char qk[80], qn[80];

    if (ds == NULL || json_is_null(ds))
      continue;
    if (x->cleaning)
      return BERTH_OK;
    if (prov_clone_is_claim_source(ds) &&
        (berth_backend_caps(x->be) & BERTH_BACKEND_CAP_CLONE)) {
      prov_clone_cleanup(&x->clone);
      x->is_clone = true;
      return prov_clone_resolve(x->c, x->claim, x->prov, fields[i], ds,
                                &x->clone, err);
    }
    berth_backend_quote(kind != NULL ? kind : "",
                        kind != NULL ? strlen(kind) : 0, qk, sizeof(qk));
    berth_backend_quote(name != NULL ? name : "",
                        name != NULL ? strlen(name) : 0, qn, sizeof(qn));
    return berth_error_set(err, BERTH_EINVAL,
                           "claim spec.%s (kind %s, name %s): the %s backend "
                           "cannot fill a volume from a data source",
                           fields[i], qk, qn, berth_backend_name(x->be));
  }
  return BERTH_OK;
}

/* The class's parameters and the claim's own fields: what a repeat of the
 * backend call needs (no I/O but the backend's validate). */
static berth_status_t claim_check(claim_ctx_t *x, berth_error_t *err)
{
  json_t *spec = json_object_get(x->claim, "spec");
  berth_status_t st;
  int64_t t0 = berth_clock_monotonic_ms(NULL);

  st = berth_backend_validate(x->be, class_parameters(x), err);
  prov_metrics_backend(x->c->metrics, berth_backend_name(x->be), "validate",
                       st == BERTH_OK, prov_seconds_since(t0));
  if (st != BERTH_OK)
    return st;
  if (json_object_get(spec, "selector") != NULL &&
      !json_is_null(json_object_get(spec, "selector")))
    return berth_error_set(err, BERTH_EINVAL,
                           "claim Selector is not supported");
  st = prov_claim_access_modes(x->claim, &x->modes, err);
  if (st == BERTH_OK)
    st = prov_claim_request(x->claim, &x->req_bytes, &x->req_text, err);
  if (st == BERTH_OK)
    st = check_data_source(x, err);
  if (st == BERTH_OK) {
    berth_provision_request_t req;
    fill_request(x, &req);
    st = berth_backend_check_claim(x->be, &req, err);
  }
  return st;
}

/* The gids recorded on the class's PVs, for backends that allocate them,
 * from the PV informer's class-gid index. New array in *out (free it). */
static void used_gids(claim_ctx_t *x, uint32_t **out, size_t *n)
{
  json_t *vals =
      berth_k8s_informer_index_values(x->c->volumes, PROV_INDEX_CLASS_GID);

  prov_pv_used_gids(vals, class_name(x), out, n);
  json_decref(vals);
}

static void fill_request(claim_ctx_t *x, berth_provision_request_t *req)
{
  const char *mode = json_string_value(
      json_object_get(json_object_get(x->claim, "spec"), "volumeMode"));

  memset(req, 0, sizeof(*req));
  req->claim_namespace = berth_k8s_obj_namespace(x->claim);
  req->claim_name = berth_k8s_obj_name(x->claim);
  req->claim_uid = berth_k8s_obj_uid(x->claim);
  req->pv_name = x->pv_name;
  req->claim = x->claim;
  req->requested_bytes = x->req_bytes;
  req->access_modes = x->modes;
  req->selected_node = prov_claim_selected_node(x->claim);
  req->parameters = class_parameters(x);
  req->mount_options = json_object_get(x->sclass, "mountOptions");
  req->block = mode != NULL && strcmp(mode, "Block") == 0;
  req->snapshot_id = x->snapshot_id[0] != '\0' ? x->snapshot_id : NULL;
  req->snapshot_bytes = x->restore_bytes;
  req->clone = x->is_clone && !x->cleaning ? &x->clone.hooks : NULL;
}

/* The zones a volume may go to when no node was selected (Immediate
 * binding), sorted: the zone values of the class's allowedTopologies,
 * else the zones of the cluster's nodes, as the external provisioner's
 * requisite topology. */
#define ZONES_MAX 32
typedef struct zone_list {
  char buf[ZONES_MAX][64];
  const char *names[ZONES_MAX];
  size_t n;
} zone_list_t;

static bool is_zone_key(const char *k)
{
  return k != NULL &&
         (strcmp(k, "topology.ebs.csi.aws.com/zone") == 0 ||
          strcmp(k, "topology.kubernetes.io/zone") == 0 ||
          strcmp(k, "failure-domain.beta.kubernetes.io/zone") == 0);
}

static void zone_add(zone_list_t *zl, const char *z)
{
  size_t i, j;

  if (z == NULL || z[0] == '\0' || strlen(z) >= sizeof(zl->buf[0]) ||
      zl->n >= ZONES_MAX)
    return;
  for (i = 0; i < zl->n && strcmp(zl->names[i], z) < 0; i++)
    ;
  if (i < zl->n && strcmp(zl->names[i], z) == 0)
    return;
  snprintf(zl->buf[zl->n], sizeof(zl->buf[0]), "%s", z);
  for (j = zl->n; j > i; j--)
    zl->names[j] = zl->names[j - 1];
  zl->names[i] = zl->buf[zl->n];
  zl->n++;
}

static void claim_zones(claim_ctx_t *x, zone_list_t *zl)
{
  json_t *term, *expr, *v, *nodes = NULL, *n;
  size_t i, j, k;
  berth_error_t err;
  berth_status_t st;

  json_array_foreach(json_object_get(x->sclass, "allowedTopologies"), i, term)
  {
    json_array_foreach(json_object_get(term, "matchLabelExpressions"), j, expr)
    {
      if (!is_zone_key(json_string_value(json_object_get(expr, "key"))))
        continue;
      json_array_foreach(json_object_get(expr, "values"), k, v)
          zone_add(zl, json_string_value(v));
    }
  }
  if (zl->n > 0)
    return;
  st = berth_k8s_list_all(x->c->client, &berth_k8s_res_nodes, NULL, NULL,
                          &nodes, &err);
  prov_api_note(x->c, "list", st, &err);
  if (st != BERTH_OK) {
    /* Without the nodes the backend falls back to the region's first
     * zone; say why. */
    log_claim(x, BERTH_LOG_WARN, "cannot list the nodes' zones", "error",
              err.message);
    return;
  }
  json_array_foreach(json_object_get(nodes, "items"), i, n)
  {
    const char *z = berth_k8s_obj_label(n, "topology.ebs.csi.aws.com/zone");
    if (z == NULL)
      z = berth_k8s_obj_label(n, "topology.kubernetes.io/zone");
    zone_add(zl, z);
  }
  json_decref(nodes);
}

/* Backend provision, timed. */
static berth_status_t backend_provision(claim_ctx_t *x,
                                        berth_provision_result_t *res,
                                        berth_error_t *err)
{
  berth_provision_request_t req;
  uint32_t *gids = NULL;
  int64_t t0 = berth_clock_monotonic_ms(NULL);
  berth_status_t st;

  json_t *node = NULL;
  berth_error_t nerr;
  zone_list_t zl;

  memset(&zl, 0, sizeof(zl));
  fill_request(x, &req);
  if ((berth_backend_caps(x->be) & BERTH_BACKEND_CAP_GIDS) != 0)
    used_gids(x, &gids, &req.n_used_gids);
  req.used_gids = gids;
  /* Zonal backends read the selected node's topology labels. A node that
   * cannot be read is left out (NULL); a backend that needs it says so. */
  if (req.selected_node != NULL &&
      (berth_backend_caps(x->be) & BERTH_BACKEND_CAP_ZONAL) != 0 &&
      prov_api_get(x->c, &berth_k8s_res_nodes, NULL, req.selected_node, &node,
                   &nerr) != BERTH_OK)
    node = NULL;
  req.node = node;
  if (req.selected_node == NULL &&
      (berth_backend_caps(x->be) & BERTH_BACKEND_CAP_ZONAL) != 0) {
    claim_zones(x, &zl);
    req.zones = zl.names;
    req.n_zones = zl.n;
  }
  st = berth_backend_provision(x->be, &req, res, err);
  json_decref(node);
  free(gids);
  prov_metrics_backend(x->c->metrics, berth_backend_name(x->be), "provision",
                       st == BERTH_OK, prov_seconds_since(t0));
  return st;
}

static berth_status_t build_pv(claim_ctx_t *x,
                               const berth_provision_result_t *res, json_t **pv,
                               berth_error_t *err)
{
  prov_pv_input_t in;
  berth_status_t st;

  memset(&in, 0, sizeof(in));
  in.pv_name = x->pv_name;
  in.provisioner = x->prov;
  in.claim = x->claim;
  in.sclass = x->sclass;
  in.result = res;
  in.requested_bytes = x->req_bytes;
  in.requested = x->req_text;
  st = prov_pv_build(&in, pv, err);
  /* RBAC that lets us neither patch nor update PVs (nfs-subdir's) could
   * never remove the finalizer: make the PV without it. */
  if (st == BERTH_OK && !x->c->pv_finalizer)
    json_object_del(json_object_get(*pv, "metadata"), "finalizers");
  return st;
}

/* Delete the storage of pv (never saved) with the backend. */
static berth_status_t backend_delete(claim_ctx_t *x, const json_t *pv,
                                     berth_error_t *err)
{
  berth_delete_request_t req = {pv, class_parameters(x), NULL, 0};
  int64_t t0 = berth_clock_monotonic_ms(NULL);
  berth_status_t st = berth_backend_delete(x->be, &req, NULL, err);

  prov_metrics_backend(x->c->metrics, berth_backend_name(x->be), "delete",
                       st == BERTH_OK, prov_seconds_since(t0));
  return st;
}

/* SAVE failed for good (the API refused the PV): clean the storage up. */
static prov_result_t save_refused(claim_ctx_t *x, const json_t *pv,
                                  berth_status_t st, berth_error_t *err)
{
  berth_error_t derr;

  if (backend_delete(x, pv, &derr) != BERTH_OK) {
    log_claim(x, BERTH_LOG_WARN, "cannot clean up unsaved storage", "error",
              derr.message);
    st = BERTH_EUNAVAILABLE; /* keep the guard: retry the cleanup */
  }
  return claim_fail(x, st, err);
}

static prov_result_t provisioned(claim_ctx_t *x)
{
  berth_error_t err;

  prov_done_add(x->c, 'c', berth_k8s_obj_uid(x->claim));
  prov_metrics_provision(x->c->metrics, class_name(x), true,
                         prov_seconds_since(x->start_ms));
  prov_events_emit(x->c->events, x->claim,
                   &berth_k8s_res_persistentvolumeclaims, "Normal",
                   "ProvisioningSucceeded",
                   "Successfully provisioned volume %s", x->pv_name);
  log_claim(x, BERTH_LOG_INFO, "provisioned volume", NULL, NULL);
  prov_sweep_forget(x->c, x->be, class_parameters(x), x->pv_name);
  if (guard_off(x, &err) != BERTH_OK) {
    log_claim(x, BERTH_LOG_WARN, "cannot drop the claim finalizer", "error",
              err.message);
    return PROV_RETRY;
  }
  prov_done_add(x->c, 'g', berth_k8s_obj_uid(x->claim));
  return PROV_DONE;
}

/* BACKEND and SAVE. */
static prov_result_t provision_and_save(claim_ctx_t *x)
{
  berth_provision_result_t res;
  berth_error_t err;
  json_t *pv = NULL;
  berth_status_t st;
  prov_result_t r = PROV_RETRY;

  berth_provision_result_init(&res);
  berth_error_clear(&err);
  if (!prov_active(x->c))
    goto done;
  st = backend_provision(x, &res, &err);
  if (st == BERTH_OK)
    st = build_pv(x, &res, &pv, &err);
  if (prov_claim_after_backend(st) != PROV_NEXT_SAVE) {
    r = claim_fail(x, st, &err); /* REFUSE unguards, BACKOFF keeps it */
    goto done;
  }
  if (!prov_active(x->c))
    goto done;
  st = prov_api_create_pv(x->c, pv, &err);
  switch (prov_claim_after_save(st)) {
  case PROV_NEXT_SUCCEEDED:
    r = provisioned(x);
    break;
  case PROV_NEXT_UNDO:
    r = save_refused(x, pv, st, &err);
    break;
  default:
    r = claim_fail(x, st, &err);
    break;
  }

done:
  json_decref(pv);
  berth_provision_result_cleanup(&res);
  return r;
}

/* CHECK, GUARD, BACKEND, SAVE, BOUND. */
static prov_result_t claim_provision(claim_ctx_t *x)
{
  berth_error_t err;
  berth_status_t st;

  berth_error_clear(&err);
  x->start_ms = berth_clock_monotonic_ms(NULL);
  st = claim_check(x, &err);
  if (st == BERTH_OK)
    st = check_topology(x, &err);
  if (st != BERTH_OK)
    return claim_fail(x, st, &err);
  if (!prov_active(x->c))
    return PROV_RETRY;
  log_claim(x, BERTH_LOG_INFO, "provisioning volume", NULL, NULL);
  prov_events_emit(x->c->events, x->claim,
                   &berth_k8s_res_persistentvolumeclaims, "Normal",
                   "Provisioning",
                   "External provisioner is provisioning volume for claim "
                   "\"%s\"",
                   x->key);
  st = guard_on(x, &err);
  if (st != BERTH_OK)
    return claim_fail(x, st, &err);
  return provision_and_save(x);
}

/* ---- deletion ---------------------------------------------------------- */

/* The claim is going and still holds our guard: its PV was never saved. */
static prov_result_t claim_cleanup(claim_ctx_t *x)
{
  berth_provision_result_t res;
  berth_error_t err;
  json_t *pv = NULL;
  berth_status_t st;

  berth_provision_result_init(&res);
  x->cleaning = true;
  st = prov_api_get(x->c, &berth_k8s_res_persistentvolumes, NULL, x->pv_name,
                    &pv, &err);
  if (st != BERTH_ENOTFOUND)
    goto done; /* saved after all (the PV takes over), or ask again */
  if (x->be == NULL || x->sclass == NULL) {
    log_claim(x, BERTH_LOG_WARN,
              "claim deleted; its class or provisioner "
              "is gone, storage left as it is",
              NULL, NULL);
    st = BERTH_OK;
    goto done;
  }
  x->start_ms = berth_clock_monotonic_ms(NULL);
  st = claim_check(x, &err);
  if (st == BERTH_OK && prov_active(x->c))
    st = backend_provision(x, &res, &err);
  if (st == BERTH_OK)
    st = build_pv(x, &res, &pv, &err);
  if (st == BERTH_OK && prov_active(x->c))
    st = backend_delete(x, pv, &err);
  if (st == BERTH_OK)
    log_claim(x, BERTH_LOG_INFO,
              "claim deleted before its PV was saved; "
              "storage cleaned up",
              NULL, NULL);
  else if (st == BERTH_EINVAL)
    st = BERTH_OK; /* nothing could have been made */

done:
  if (st == BERTH_OK && prov_active(x->c))
    st = guard_off(x, &err);
  json_decref(pv);
  berth_provision_result_cleanup(&res);
  if (st != BERTH_OK)
    log_claim(x, BERTH_LOG_WARN, "claim cleanup failed", "error", err.message);
  return st == BERTH_OK ? PROV_DONE : PROV_RETRY;
}

/* ---- dispatch ---------------------------------------------------------- */

/* Fill the class and backend of a claim that asks for one of ours; false
 * when it is not ours (or not ready for us). */
static bool claim_is_ours(claim_ctx_t *x, prov_result_t *r)
{
  const char *cls = prov_claim_class(x->claim);

  x->prov = prov_claim_provisioner(x->claim);
  x->be = prov_provisioners_find(x->c->provs, x->prov);
  *r = PROV_DONE;
  if (x->be == NULL || cls == NULL)
    return false;
  x->sclass = berth_k8s_informer_get(x->c->classes, NULL, cls);
  if (x->sclass == NULL) {
    log_claim(x, BERTH_LOG_DEBUG, "waiting for the storage class", NULL, NULL);
    *r = PROV_RETRY;
    return false;
  }
  return prov_class_provisioner(x->sclass) != NULL &&
         strcmp(prov_class_provisioner(x->sclass), x->prov) == 0;
}

/* The claim's PV exists: this process made it, or the cache has it. */
static bool pv_exists(claim_ctx_t *x)
{
  json_t *pv;

  if (prov_done_has(x->c, 'c', berth_k8s_obj_uid(x->claim)))
    return true;
  pv = berth_k8s_informer_get(x->c->volumes, NULL, x->pv_name);
  json_decref(pv);
  return pv != NULL;
}

static prov_result_t drop_guard(claim_ctx_t *x)
{
  berth_error_t err;

  /* Dropped by us already: the cache has not caught up yet. */
  if (x->finalizer && prov_done_has(x->c, 'g', berth_k8s_obj_uid(x->claim)))
    x->finalizer = false;
  if (!guarded(x) || !prov_active(x->c))
    return PROV_DONE;
  if (guard_off(x, &err) == BERTH_OK)
    return PROV_DONE;
  log_claim(x, BERTH_LOG_WARN, "cannot drop the claim finalizer", "error",
            err.message);
  return PROV_RETRY;
}

/* RESIZE, as external-resizer: a bound claim whose request is above its
 * PV's capacity, in a class with allowVolumeExpansion, on a backend that
 * can grow its volumes (EBS so far): grow the storage, set the PV's
 * capacity, and mark the claim FileSystemResizePending (kubelet grows the
 * file system and updates status.capacity). Every step is idempotent, so
 * a crash between them is repaired by the next pass. */

/* The PV (new reference) when x's claim asks for more than it has, with
 * the requested bytes in *want; NULL when there is nothing to do. */
static json_t *resize_wanted(claim_ctx_t *x, uint64_t *want)
{
  const char *vol = prov_claim_volume_name(x->claim);
  const char *text;
  const char *cap;
  const char *by;
  json_t *pv;
  uint64_t have;
  berth_error_t err;

  if (vol == NULL || !berth_backend_can_expand(x->be) ||
      !json_is_true(json_object_get(x->sclass, "allowVolumeExpansion")) ||
      !prov_active(x->c) ||
      prov_claim_request(x->claim, want, &text, &err) != BERTH_OK)
    return NULL;
  pv = berth_k8s_informer_get(x->c->volumes, NULL, vol);
  cap = json_string_value(json_object_get(
      json_object_get(json_object_get(pv, "spec"), "capacity"), "storage"));
  by = berth_k8s_obj_annotation(pv, PROV_ANN_PROVISIONED_BY);
  if (cap == NULL || berth_quantity_parse(cap, &have, NULL) != BERTH_OK ||
      *want <= have || by == NULL || strcmp(by, x->prov) != 0) {
    json_decref(pv);
    return NULL;
  }
  return pv;
}

/* Merge-patch obj (PV or claim, subresource sub) with patch; consumes it. */
static berth_status_t resize_patch(claim_ctx_t *x,
                                   const berth_k8s_resource_t *res,
                                   const char *ns, const char *name,
                                   const char *sub, json_t *patch,
                                   berth_error_t *err)
{
  berth_status_t st;

  if (patch == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_patch(x->c->client, res, ns, name, sub, BERTH_K8S_PATCH_MERGE,
                       patch, NULL, err);
  json_decref(patch);
  return st;
}

/* Record the new size on the PV and the pending file-system resize on the
 * claim's status. */
static berth_status_t resize_record(claim_ctx_t *x, const char *vol,
                                    const char *size, berth_error_t *err)
{
  char now[32];
  berth_status_t st;

  st = resize_patch(
      x, &berth_k8s_res_persistentvolumes, NULL, vol, NULL,
      json_pack("{s:{s:{s:s}}}", "spec", "capacity", "storage", size), err);
  if (st != BERTH_OK)
    return st;
  berth_time_format_rfc3339(berth_clock_realtime_ms(NULL), now, sizeof(now));
  /* As external-resizer with RecoverVolumeExpansionFailure (GA in
   * Kubernetes 1.34): the size the controller expanded to goes to
   * status.allocatedResources and the node's part is announced as
   * allocatedResourceStatuses NodeResizePending, which is what kubelet
   * reads before it grows the file system; the condition alone is not. */
  return resize_patch(
      x, &berth_k8s_res_persistentvolumeclaims,
      berth_k8s_obj_namespace(x->claim), berth_k8s_obj_name(x->claim), "status",
      json_pack("{s:{s:[{s:s,s:s,s:s,s:s}],s:{s:s},s:{s:s}}}", "status",
                "conditions", "type", "FileSystemResizePending", "status",
                "True", "lastTransitionTime", now, "message",
                "Waiting for user to (re-)start a pod to finish file system "
                "resize of volume on node.",
                "allocatedResources", "storage", size,
                "allocatedResourceStatuses", "storage", "NodeResizePending"),
      err);
}

static prov_result_t claim_resize(claim_ctx_t *x)
{
  const char *vol = prov_claim_volume_name(x->claim);
  json_t *pv;
  uint64_t want = 0;
  uint64_t got = 0;
  char size[32];
  berth_error_t err;
  berth_status_t st;
  prov_result_t r = PROV_DONE;

  pv = resize_wanted(x, &want);
  if (pv == NULL)
    return PROV_DONE;
  st = berth_backend_expand(x->be, pv, want, &got, &err);
  if (st == BERTH_OK) {
    berth_quantity_format(got, size, sizeof(size));
    st = resize_record(x, vol, size, &err);
  }
  if (st == BERTH_OK) {
    prov_events_emit(x->c->events, x->claim,
                     &berth_k8s_res_persistentvolumeclaims, "Normal",
                     "FileSystemResizeRequired",
                     "Require file system resize of volume on node: %s is "
                     "now %s",
                     vol, size);
    log_claim(x, BERTH_LOG_INFO, "volume expanded", "capacity", size);
  } else {
    prov_events_emit(x->c->events, x->claim,
                     &berth_k8s_res_persistentvolumeclaims, "Warning",
                     "VolumeResizeFailed", "resize volume \"%s\" failed: %s",
                     vol, err.message);
    log_claim(x, BERTH_LOG_WARN, "volume expansion failed", "error",
              err.message);
    r = PROV_RETRY;
  }
  json_decref(pv);
  return r;
}

/* What this sync knows about the claim (reads only: the cache and this
 * process's memory). */
static void claim_facts(claim_ctx_t *x, prov_claim_facts_t *f)
{
  prov_result_t r;

  memset(f, 0, sizeof(*f));
  f->ours = claim_is_ours(x, &r);
  f->class_missing = !f->ours && r == PROV_RETRY;
  f->going = x->gone || prov_obj_deleting(x->claim);
  f->guarded = guarded(x);
  f->pv_exists = pv_exists(x);
  f->bound = prov_claim_volume_name(x->claim) != NULL;
  f->wait_for_node = f->ours && prov_class_wait_for_consumer(x->sclass) &&
                     prov_claim_selected_node(x->claim) == NULL;
}

static prov_result_t claim_step(claim_ctx_t *x)
{
  prov_claim_facts_t f;

  claim_facts(x, &f);
  switch (prov_claim_decide(&f)) {
  case PROV_NEXT_WAIT_CLASS:
    return PROV_RETRY;
  case PROV_NEXT_UNGUARD:
    return drop_guard(x);
  case PROV_NEXT_RESIZE:
    if (claim_resize(x) != PROV_DONE)
      return PROV_RETRY;
    return drop_guard(x);
  case PROV_NEXT_CLEANUP:
    return claim_cleanup(x);
  case PROV_NEXT_PROVISION:
    return claim_provision(x);
  default:
    return PROV_DONE;
  }
}

/* One claim (a new reference, consumed): the cached one, or the held
 * copy of one that is gone (gone). */
static prov_result_t sync_one(prov_controller_t *c, const char *ns,
                              const char *name, json_t *claim, bool gone)
{
  claim_ctx_t x;
  prov_result_t r = PROV_DONE;

  memset(&x, 0, sizeof(x));
  x.c = c;
  x.claim = claim;
  x.gone = gone;
  snprintf(x.key, sizeof(x.key), "%s/%s", ns, name);
  if (prov_pv_name(berth_k8s_obj_uid(x.claim), x.pv_name, sizeof(x.pv_name))) {
    x.finalizer =
        !gone && prov_obj_has_finalizer(x.claim, PROV_CLAIM_FINALIZER);
    x.held = prov_inflight_has(c, x.claim);
    r = claim_step(&x);
  }
  prov_clone_cleanup(&x.clone);
  json_decref(x.sclass);
  json_decref(x.claim);
  return r;
}

/* The held claim is not the cached one: it is gone unless the cache is
 * merely behind. A GET decides (the cache may be slow): the same uid
 * still there means wait for the cache. */
static bool held_is_gone(prov_controller_t *c, const json_t *held)
{
  json_t *now = NULL;
  berth_error_t err;
  berth_status_t st;
  bool gone;

  st = prov_api_get(c, &berth_k8s_res_persistentvolumeclaims,
                    berth_k8s_obj_namespace(held), berth_k8s_obj_name(held),
                    &now, &err);
  gone = st == BERTH_ENOTFOUND ||
         (st == BERTH_OK &&
          strcmp(berth_k8s_obj_uid(now) != NULL ? berth_k8s_obj_uid(now) : "",
                 berth_k8s_obj_uid(held)) != 0);
  json_decref(now);
  return gone;
}

prov_result_t prov_sync_claim(prov_controller_t *c, const char *ns,
                              const char *name)
{
  json_t *claim = berth_k8s_informer_get(c->claims, ns, name);
  json_t *held = prov_inflight_get(c, ns, name);
  const char *a = berth_k8s_obj_uid(claim);
  const char *b = berth_k8s_obj_uid(held);
  prov_result_t r = PROV_DONE;

  /* A claim deleted (or deleted and made again under its name) while its
   * storage may exist without a PV. */
  if (held != NULL && (a == NULL || b == NULL || strcmp(a, b) != 0)) {
    if (!held_is_gone(c, held)) {
      json_decref(held);
      json_decref(claim);
      return PROV_RETRY;
    }
    r = sync_one(c, ns, name, held, true);
    held = NULL;
  }
  json_decref(held);
  if (claim == NULL)
    return r;
  if (sync_one(c, ns, name, claim, false) != PROV_DONE)
    r = PROV_RETRY;
  return r;
}
