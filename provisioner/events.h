/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: Events on claims and PVs, sent from a thread of
 * their own.
 *
 * Workers must never wait for an Event: the recorder (lib/k8s events.c)
 * sends one at a time, aggregates repeats (so that a retry loop never
 * floods the API) and filters spam. Here workers only copy the event into
 * a bounded queue, one of a few lanes that send side by side (an object's
 * Events always take the same lane, so aggregation still works); when it
 * is full the event is dropped and counted. Before that, the correlator
 * (correlator.h) folds repeats, combines similar events and sheds the
 * Provisioning Event under API pressure. Events are best effort, as in
 * client-go. */
#ifndef BERTH_PROV_EVENTS_H
#define BERTH_PROV_EVENTS_H

#include <stdint.h>

#include <jansson.h>

#include "berth/k8s.h"
#include "berth/k8s_events.h"

#include "correlator.h"

typedef struct prov_events prov_events_t;

typedef struct prov_events_stats {
  uint64_t queued;
  uint64_t dropped; /* queue full */
  uint64_t pending; /* queued now, not yet being sent */
  berth_k8s_recorder_stats_t recorder;
  prov_correlator_stats_t correlator; /* folded, shed, combined */
} prov_events_stats_t;

/* Create the sender and start its threads. The client is borrowed (its
 * counters tell when the API is under pressure). api_qps and api_burst
 * are the client's budget (--kube-api-qps, --kube-api-burst; qps <= 0:
 * unlimited): the correlator's source bucket gets a tenth of it. */
berth_status_t prov_events_create(berth_k8s_client_t *client,
                                  const char *component, size_t capacity,
                                  double api_qps, int api_burst,
                                  prov_events_t **out, berth_error_t *err);

/* Send what is queued for up to timeout_ms, stop the thread and free.
 * Accepts NULL. */
void prov_events_destroy(prov_events_t *ev, int64_t timeout_ms);

/* Queue an Event of type "Normal" or "Warning" on obj (a claim or PV; res
 * gives its kind). */
void prov_events_emit(prov_events_t *ev, const json_t *obj,
                      const berth_k8s_resource_t *res, const char *type,
                      const char *reason, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

void prov_events_get_stats(prov_events_t *ev, prov_events_stats_t *out);

#endif /* BERTH_PROV_EVENTS_H */
