/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: metrics, written in the Prometheus text format
 * (version 0.0.4) for /metrics.
 *
 * The sig-storage provisioner library's names, labelled by class:
 *   controller_persistentvolumeclaim_provision_total        successes
 *   controller_persistentvolumeclaim_provision_failed_total failed attempts
 *   controller_persistentvolumeclaim_provision_duration_seconds  histogram
 *   controller_persistentvolume_delete_total / _failed_total /
 *   controller_persistentvolume_delete_duration_seconds
 * and berth's own:
 *   berth_provisioner_api_requests_total{verb,code}
 *   berth_provisioner_backend_duration_seconds{backend,operation} histogram
 *   berth_provisioner_backend_errors_total{backend,operation}
 *   berth_provisioner_volume_usage_bytes{persistentvolume,class}
 *   berth_provisioner_volume_usage_files{persistentvolume,class}
 *   berth_provisioner_volume_capacity_bytes{persistentvolume,class}
 * and what operators of any Kubernetes controller expect:
 *   berth_build_info{program,version,revision}, process_* (process.h),
 *   rest_client_requests_total{code,method},
 *   rest_client_request_duration_seconds{verb} histogram,
 *   workqueue_* and leader_election_master_status (the collectors)
 * plus whatever the collector adds at each scrape (queue depth, leader,
 * informers: see controller.c).
 *
 * Thread-safe: any thread records, the HTTP thread formats. */
#ifndef BERTH_PROV_METRICS_H
#define BERTH_PROV_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/buf.h"
#include "berth/status.h"

typedef struct prov_metrics prov_metrics_t;

/* Appends gauges computed at scrape time to out. */
typedef void (*prov_metrics_collect_fn)(void *ctx, berth_buf_t *out);

berth_status_t prov_metrics_create(prov_metrics_t **out);
void prov_metrics_destroy(prov_metrics_t *m);

/* Set the scrape-time collector (NULL: none). */
void prov_metrics_set_collector(prov_metrics_t *m, prov_metrics_collect_fn fn,
                                void *ctx);

/* A provision attempt for a claim of class cls finished. */
void prov_metrics_provision(prov_metrics_t *m, const char *cls, bool ok,
                            double seconds);

/* A delete attempt of a PV of class cls finished. */
void prov_metrics_delete(prov_metrics_t *m, const char *cls, bool ok,
                         double seconds);

/* Make the provision and delete series of class cls, at 0, if missing:
 * counters that exist before their first increment, as Prometheus's
 * rate() and increase() need. */
void prov_metrics_class_init(prov_metrics_t *m, const char *cls);

/* The same for backend's calls of op ("provision"). */
void prov_metrics_backend_init(prov_metrics_t *m, const char *backend,
                               const char *op);

/* An API request by the controller: verb ("get", "create", "update",
 * "patch", "delete") and HTTP code (0: no answer). */
void prov_metrics_api(prov_metrics_t *m, const char *verb, long code);

/* A Kubernetes API request (any client of the program): method ("GET"),
 * HTTP code (0: no answer) and its latency; ctx is the prov_metrics_t.
 * The signature of berth_k8s_client_options_t's observe. */
void prov_metrics_rest(void *ctx, const char *method, long code,
                       double seconds);

/* A backend call (op: "validate", "provision", "delete", "usage"). */
void prov_metrics_backend(prov_metrics_t *m, const char *backend,
                          const char *op, bool ok, double seconds);

/* The measured usage of a PV; prov_metrics_usage_forget drops it. */
void prov_metrics_usage(prov_metrics_t *m, const char *pv, const char *cls,
                        uint64_t bytes, uint64_t files, uint64_t capacity);
void prov_metrics_usage_forget(prov_metrics_t *m, const char *pv);

/* Add to the entries and bytes that clones copied. */
void prov_metrics_clone(prov_metrics_t *m, uint64_t files, uint64_t bytes);

/* Count sweep passes, storage removed and failed steps (sweep.c). */
void prov_metrics_sweep(prov_metrics_t *m, unsigned runs, unsigned removed,
                        unsigned errors);

/* Successful provisions so far (all classes), for logs and tests. */
uint64_t prov_metrics_provisioned(prov_metrics_t *m);

/* Append the whole exposition to out. */
berth_status_t prov_metrics_format(prov_metrics_t *m, berth_buf_t *out);

/* Append label value v to out, escaped as the text format wants. */
void prov_metrics_escape(berth_buf_t *out, const char *v);

#endif /* BERTH_PROV_METRICS_H */
