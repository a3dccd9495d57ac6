/* SPDX-License-Identifier: Apache-2.0 */
/* berth: recording core/v1 Events on Kubernetes objects.
 *
 * As client-go's record.EventRecorder, so that a retry loop never floods
 * the API:
 *  - aggregation: an event with the same involved object, type, reason,
 *    message and source as a recent one is not created again; the existing
 *    Event's count and lastTimestamp are PATCHed instead (and when that
 *    Event has gone meanwhile, it is created again with the count);
 *  - a spam filter: a token bucket per involved object (burst 25, one token
 *    per 5 minutes by default, as EventSourceObjectSpamFilter) drops
 *    events beyond it with BERTH_ETHROTTLED.
 * Events are best effort: callers usually ignore the result.
 *
 * Threads: a recorder may be used from any number of threads; calls are
 * serialised (one API request at a time). */
#ifndef BERTH_K8S_EVENTS_H
#define BERTH_K8S_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/k8s.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A reference to an object (core/v1 ObjectReference). Strings borrowed. */
typedef struct berth_k8s_object_ref {
  const char *api_version;    /* "v1", "storage.k8s.io/v1" */
  const char *kind;           /* "PersistentVolumeClaim" */
  const char *namespace_name; /* NULL for cluster-scoped objects */
  const char *name;
  const char *uid;
  const char *resource_version;
  char buf[128]; /* storage for api_version made by berth_k8s_object_ref_from */
} berth_k8s_object_ref_t;

/* Fill ref from obj's metadata (strings borrowed from obj, or kept in
 * ref->buf). apiVersion and kind come from res when given (list items lack
 * them), else from obj. */
void berth_k8s_object_ref_from(const json_t *obj,
                               const berth_k8s_resource_t *res,
                               berth_k8s_object_ref_t *ref);

typedef struct berth_k8s_recorder berth_k8s_recorder_t;

/* Zero-initialise; 0 or NULL means the default. */
typedef struct berth_k8s_recorder_options {
  const char *component; /* required: source.component, reportingComponent */
  const char *host;      /* source.host (the node); NULL: none */
  const char *instance;  /* reportingInstance; NULL: host, else component */
  int burst;             /* spam filter per object; 0: 25 */
  double qps;            /* its refill; 0: 1/300 */
  size_t cache_size;     /* events remembered for aggregation; 0: 4096 */
  const berth_clock_t *clock; /* NULL: the system clock */
} berth_k8s_recorder_options_t;

/* Create a recorder (the client is borrowed and must outlive it) into *out
 * (set only on success). */
berth_status_t berth_k8s_recorder_create(berth_k8s_client_t *client,
                                         const berth_k8s_recorder_options_t *o,
                                         berth_k8s_recorder_t **out,
                                         berth_error_t *err);

/* Free a recorder. Accepts NULL. */
void berth_k8s_recorder_destroy(berth_k8s_recorder_t *rec);

/* Record an event of type "Normal" or "Warning" with a CamelCase reason
 * and a printf-style message (at most 1024 bytes) on the object ref.
 * Returns BERTH_OK when an Event was created or an existing one updated,
 * BERTH_ETHROTTLED when the spam filter dropped it, or the API error. */
berth_status_t berth_k8s_record(berth_k8s_recorder_t *rec,
                                const berth_k8s_object_ref_t *ref,
                                const char *type, const char *reason,
                                berth_error_t *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

typedef struct berth_k8s_recorder_stats {
  uint64_t created;    /* Events created */
  uint64_t aggregated; /* repeats folded into an existing Event */
  uint64_t dropped;    /* by the spam filter */
  uint64_t failed;     /* API errors */
} berth_k8s_recorder_stats_t;

/* Copy the recorder's counters into *out. Thread-safe. */
void berth_k8s_recorder_get_stats(berth_k8s_recorder_t *rec,
                                  berth_k8s_recorder_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_K8S_EVENTS_H */
