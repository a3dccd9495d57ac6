/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: which Events are worth an API request, as client-go's
 * EventCorrelator decides before its recorder writes anything.
 *
 * The library's recorder (berth/k8s_events.h) already folds an exact
 * repeat into the existing Event (a count) and limits each object with a
 * token bucket. What it cannot see is the whole provisioner: a storm of
 * failures on a thousand claims, or a thousand claims at once when the
 * API budget (--kube-api-qps) is the limit. The correlator sits in front
 * of it and keeps Events from eating the budget the PVs need:
 *
 *  - similar events: more than max_similar events with the same object,
 *    type and reason (any message) within window_ms are combined, as
 *    client-go's EventAggregator: the message becomes "(combined from
 *    similar events): <message>", so that the recorder updates one Event
 *    with a count instead of creating one per message;
 *  - a source bucket (qps, burst) shared by the provisioner's optional
 *    Events: a repeat of an event already shown on its object (same
 *    object, type and reason within window_ms) is sent only when a token
 *    is left, else folded (not sent; counted); an event marked optional
 *    (the Normal "Provisioning") is shed when the API is under pressure
 *    (the caller says so: requests waited for the client's rate limiter
 *    lately) and no token is left;
 *  - the first event of its kind on an object that is not optional (a
 *    Warning ProvisioningFailed, ProvisioningSucceeded) is always sent.
 *
 * Pure: no I/O, no clock (the caller passes the time). Threads: calls are
 * serialised by the correlator's own lock. */
#ifndef BERTH_PROV_CORRELATOR_H
#define BERTH_PROV_CORRELATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

typedef struct prov_correlator prov_correlator_t;

/* Zero-initialise; 0 means the default. */
typedef struct prov_correlator_options {
  double qps;        /* the source bucket's refill; default 1 */
  int burst;         /* its size; default 10 */
  int max_similar;   /* default 10, as client-go */
  int64_t window_ms; /* default 600000 (10 minutes), as client-go */
  size_t capacity;   /* objects and reasons remembered; default 4096 */
} prov_correlator_options_t;

typedef enum prov_verdict {
  PROV_EVENT_SEND = 0, /* send it (with the message given back) */
  PROV_EVENT_FOLD,     /* a repeat without a token: not sent */
  PROV_EVENT_SHED      /* an optional event under pressure: not sent */
} prov_verdict_t;

/* One event to judge. Strings borrowed. */
typedef struct prov_event_in {
  const char *object; /* the involved object's uid (or kind/ns/name) */
  const char *type;   /* "Normal", "Warning" */
  const char *reason;
  const char *message;
  bool optional;  /* may be shed under pressure (Provisioning) */
  bool pressure;  /* the API budget is the limit right now */
  int64_t now_ms; /* monotonic */
} prov_event_in_t;

typedef struct prov_correlator_stats {
  uint64_t sent;
  uint64_t folded;
  uint64_t shed;
  uint64_t combined; /* of sent, with the combined message */
} prov_correlator_stats_t;

berth_status_t prov_correlator_create(const prov_correlator_options_t *o,
                                      prov_correlator_t **out);

/* Accepts NULL. */
void prov_correlator_destroy(prov_correlator_t *c);

/* Judge ev. On PROV_EVENT_SEND, the message to send is written to msg
 * (msg_size bytes; cut short if it does not fit). */
prov_verdict_t prov_correlator_judge(prov_correlator_t *c,
                                     const prov_event_in_t *ev, char *msg,
                                     size_t msg_size);

void prov_correlator_get_stats(prov_correlator_t *c,
                               prov_correlator_stats_t *out);

#endif /* BERTH_PROV_CORRELATOR_H */
