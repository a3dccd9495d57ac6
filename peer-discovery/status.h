/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: what the HTTP endpoint reports, shared between the loop
 * (which writes it) and libmicrohttpd's thread (which reads it). */
#ifndef BERTH_PEERS_STATUS_H
#define BERTH_PEERS_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/buf.h"
#include "berth/status.h"

typedef struct peers_counters {
  size_t members; /* in the settled membership */
  bool ready;
  uint64_t changes; /* settled membership changes */
  uint64_t dns_queries;
  uint64_t dns_failures;
  uint64_t hook_runs;
  uint64_t hook_failures;
  int64_t last_change_ms; /* wall clock of the last change, 0: none */
} peers_counters_t;

typedef struct peers_status {
  pthread_mutex_t lock;
  char *peers_json; /* the /peers document, owned */
  peers_counters_t c;
} peers_status_t;

/* Initialise: not ready, no membership, zero counts. */
void peers_status_init(peers_status_t *s);

/* Free what s owns. Accepts NULL. */
void peers_status_cleanup(peers_status_t *s);

/* Replace the /peers document (copied). */
berth_status_t peers_status_set_json(peers_status_t *s, const char *json);

/* Replace the counters. */
void peers_status_set_counters(peers_status_t *s, const peers_counters_t *c);

/* Copy the counters out. */
void peers_status_counters(peers_status_t *s, peers_counters_t *out);

/* Append the /peers document (or "{}" before the first) to out. */
berth_status_t peers_status_json(peers_status_t *s, berth_buf_t *out);

/* Append the Prometheus text exposition (format 0.0.4) of the counters to
 * out. Pure. */
berth_status_t peers_metrics_format(const peers_counters_t *c,
                                    berth_buf_t *out);

#endif /* BERTH_PEERS_STATUS_H */
