/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: what the controller's files share (controller.c,
 * api.c, reconcile_claim.c, reconcile_volume.c, usage.c). Not for main. */
#ifndef BERTH_PROV_CONTROLLER_INT_H
#define BERTH_PROV_CONTROLLER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "berth/k8s.h"
#include "berth/k8s_informer.h"

#include "controller.h"
#include "events.h"
#include "map.h"
#include "memory.h"
#include "queue.h"
#include "trim.h"

/* The custom index of the PV informer: "<spec.storageClassName>/<gid>"
 * for PVs that record a gid (BERTH_ANN_PV_GID), so that the gids used in
 * a class are read from the index's values without decoding any PV. */
#define PROV_INDEX_CLASS_GID "class-gid"

/* The PV informer's index by spec.storageClassName: when a class of ours
 * appears, the PVs another tool made for it are adopted
 * (--adopt-provisioner). */
#define PROV_INDEX_CLASS "class"

typedef struct prov_usage prov_usage_t;
typedef struct prov_sweep prov_sweep_t;

struct prov_controller {
  const prov_options_t *opt;
  berth_k8s_client_t *client;
  prov_provisioners_t *provs;
  prov_metrics_t *metrics;
  prov_events_t *events;
  prov_queue_t *queue;
  berth_k8s_informer_t *claims;
  berth_k8s_informer_t *volumes;
  berth_k8s_informer_t *classes;
  prov_trim_t trim;              /* the informers' transforms' context */
  atomic_bool volumes_started;   /* the PV informer, once the claims synced */
  prov_memory_trim_t trim_state; /* prov_controller_release_memory's */
  pthread_t *workers;
  int nworkers;
  int busy_workers;    /* under lock, for the drain */
  pthread_cond_t idle; /* signalled when a worker finishes a key */
  atomic_bool active;  /* false once the lease is lost or on stop */
  atomic_bool running; /* workers started */
  bool stopped;
  pthread_mutex_t lock; /* done, busy_workers */
  prov_map_t done;      /* see prov_done_has */
  prov_map_t inflight;  /* see prov_inflight_put */
  prov_usage_t *usage;
  prov_sweep_t *sweep;
  /* What RBAC grants, learned at start (prov_api_probe_access) and from
   * 403s: nfs-subdir-external-provisioner's ClusterRole grants claims
   * update but not patch, and PVs neither. */
  atomic_bool claim_patch_forbidden; /* claims: update instead of patch */
  atomic_bool pv_patch_forbidden;    /* PVs: update instead of patch */
  bool pv_finalizer; /* false: PVs cannot be patched nor updated, so they
                        are made without the PV finalizer (it could never
                        be removed) */
};

/* What a sync asks of the queue. */
typedef enum prov_result {
  PROV_DONE = 0, /* forget the key's failures */
  PROV_RETRY     /* back off and try again */
} prov_result_t;

/* The state machines (reconcile_claim.c, reconcile_volume.c). */
prov_result_t prov_sync_claim(prov_controller_t *c, const char *ns,
                              const char *name);
prov_result_t prov_sync_volume(prov_controller_t *c, const char *name);

/* The backend that owns pv (provisioned-by or migrated-to names one of
 * our provisioners, or an --adopt-provisioner name made it and its class
 * names ours), or NULL (volume_owner.c). Borrowed. */
berth_backend_t *prov_volume_backend(prov_controller_t *c, const json_t *pv);

/* true when --adopt-provisioner names another tool: PVs may become ours
 * when their class appears. */
bool prov_volume_adoption(const prov_controller_t *c);

/* true when name (may be NULL) is an --adopt-provisioner name. */
bool prov_volume_adopted_name(const prov_controller_t *c, const char *name);

/* true while side effects are allowed (we lead and are not stopping). */
bool prov_active(prov_controller_t *c);

/* What this process has done already, so that a repeat (an informer event
 * that arrives before the cache shows the result) does not do it again:
 * kind 'c' for a claim uid whose PV was created, 'g' for a claim uid whose
 * guard finalizer we dropped after that, 'v' for a PV uid whose
 * storage was reclaimed, 'f' for a PV uid whose reclaim finished (DELETE
 * sent, finalizer dropped). Forgotten when the object goes. */
bool prov_done_has(prov_controller_t *c, char kind, const char *uid);
void prov_done_add(prov_controller_t *c, char kind, const char *uid);
void prov_done_remove(prov_controller_t *c, char kind, const char *uid);

/* The claims whose storage the backend may have made while no PV is saved
 * yet (inflight.c): held from just before the backend call until the PV
 * is saved or the storage removed again, so that a claim deleted
 * meanwhile (gone from the cache) is found and its storage removed. The
 * claim is copied (as it was); entries are keyed by namespace/name. */
berth_status_t prov_inflight_put(prov_controller_t *c, const json_t *claim);
/* The held claim of ns/name (new reference), or NULL. */
json_t *prov_inflight_get(prov_controller_t *c, const char *ns,
                          const char *name);
/* true when this very claim (same uid) is held. */
bool prov_inflight_has(prov_controller_t *c, const json_t *claim);
/* Forget claim (only when the held one has its uid). */
void prov_inflight_remove(prov_controller_t *c, const json_t *claim);
size_t prov_inflight_count(prov_controller_t *c);
void prov_inflight_cleanup(prov_controller_t *c);

/* Queue keys. */
void prov_enqueue_claim(prov_controller_t *c, const char *ns, const char *name);
void prov_enqueue_volume(prov_controller_t *c, const char *name);

/* ---- api.c: API calls with metrics ---------------------------------- */

/* Count a request's outcome in the metrics. */
void prov_api_note(prov_controller_t *c, const char *verb, berth_status_t st,
                   const berth_error_t *err);

/* Add (present) or remove finalizer name on obj (a claim or PV; only its
 * namespace and name are read: the cache may be behind our own writes, so
 * the caller decides whether the patch is needed) with one strategic
 * merge patch, or, where RBAC forbids patch, a GET and a PUT conditional
 * on the version read (BERTH_ECONFLICT: retry). A missing object is
 * BERTH_OK when removing. */
berth_status_t prov_api_set_finalizer(prov_controller_t *c,
                                      const berth_k8s_resource_t *res,
                                      const json_t *obj, const char *name,
                                      bool present, berth_error_t *err);

/* Learn what RBAC lets us write before the workers start: a PATCH and a
 * PUT of PVs and claims under a name that does not exist are 404 when
 * allowed and 403 when forbidden (authorization comes before the
 * lookup), so nothing changes. Sets the fields above and logs what berth
 * does instead. */
void prov_api_probe_access(prov_controller_t *c);

/* GET with metrics. */
berth_status_t prov_api_get(prov_controller_t *c,
                            const berth_k8s_resource_t *res, const char *ns,
                            const char *name, json_t **out, berth_error_t *err);

/* Create the PV; one that exists already is BERTH_EEXIST. */
berth_status_t prov_api_create_pv(prov_controller_t *c, const json_t *pv,
                                  berth_error_t *err);

/* Delete the PV of this uid; *out (may be NULL) gets what the server
 * answered (the PV, held by finalizers). Gone already is BERTH_OK. */
berth_status_t prov_api_delete_pv(prov_controller_t *c, const char *name,
                                  const char *uid, json_t **out,
                                  berth_error_t *err);

/* ---- backend calls with metrics and timing -------------------------- */

double prov_seconds_since(int64_t start_ms);

/* ---- usage.c ---------------------------------------------------------- */

berth_status_t prov_usage_start(prov_controller_t *c, int64_t interval_ms,
                                prov_usage_t **out);
void prov_usage_stop(prov_usage_t *u);

/* ---- sweep.c ---------------------------------------------------------- */

/* Every interval_ms, remove storage whose claim and PV are both gone and
 * whose record is older than grace_ms (see sweep.c). */
berth_status_t prov_sweep_start(prov_controller_t *c, int64_t interval_ms,
                                int64_t grace_ms, prov_sweep_t **out);
void prov_sweep_stop(prov_sweep_t *s);

/* The PV of pv_name is saved: drop the backend's record of it (best
 * effort; the sweep forgets what is left). */
void prov_sweep_forget(prov_controller_t *c, berth_backend_t *be,
                       const json_t *params, const char *pv_name);

#endif /* BERTH_PROV_CONTROLLER_INT_H */
