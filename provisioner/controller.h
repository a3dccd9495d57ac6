/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the controller, as main sees it.
 *
 * Three informers (claims, PVs, StorageClasses) feed one work queue keyed
 * by object ("c/<namespace>/<name>", "v/<name>"); a bounded pool of
 * workers takes keys from it and runs the claim or volume state machine
 * (reconcile_claim.c, reconcile_volume.c). Started only on the leader. */
#ifndef BERTH_PROV_CONTROLLER_H
#define BERTH_PROV_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/buf.h"
#include "berth/k8s.h"

#include "metrics.h"
#include "options.h"
#include "provisioners.h"

typedef struct prov_controller prov_controller_t;

/* Make the controller (nothing runs yet). Everything passed is borrowed
 * and must outlive it. */
berth_status_t
prov_controller_create(const prov_options_t *opt, berth_k8s_client_t *client,
                       prov_provisioners_t *provs, prov_metrics_t *metrics,
                       prov_controller_t **out, berth_error_t *err);

/* Start the informers (first lists, then watches): classes and claims
 * now, PVs once the claims are cached (see prov_controller_synced). */
berth_status_t prov_controller_start_informers(prov_controller_t *c,
                                               berth_error_t *err);

/* Hand the heap's free memory back to the system once the controller has
 * been quiet for a second after work (lists, events, keys); see memory.h.
 * Call it periodically from one thread (the main loop). */
void prov_controller_release_memory(prov_controller_t *c);

/* true once every informer has its first list. Starts the PV informer
 * once the claims have theirs (its transform keeps the PVs bound to our
 * claims); any thread may call it. */
bool prov_controller_synced(prov_controller_t *c);

/* Start the workers (after the informers synced). */
berth_status_t prov_controller_start_workers(prov_controller_t *c,
                                             berth_error_t *err);

/* Stop every side effect now (the lease is lost): workers check this
 * before each write to a backend or the API. Async-signal-safe. */
void prov_controller_deactivate(prov_controller_t *c);

/* Graceful stop: no new keys; workers finish the key they hold (at most
 * drain_ms); queued Events are sent (at most a few seconds); informers
 * stop. Idempotent. */
void prov_controller_stop(prov_controller_t *c, int64_t drain_ms);

/* Stop (if needed) and free. Accepts NULL. */
void prov_controller_destroy(prov_controller_t *c);

/* The scrape-time gauges (a prov_metrics_collect_fn; ctx is the
 * controller, or NULL before it exists). */
void prov_controller_collect(void *ctx, berth_buf_t *out);

/* For /readyz: informers synced and workers running. */
bool prov_controller_ready(prov_controller_t *c);

#endif /* BERTH_PROV_CONTROLLER_H */
