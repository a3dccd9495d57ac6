/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the HTTP endpoint (--http-endpoint), on libmicrohttpd's
 * own thread:
 *
 *   GET /peers    the membership as JSON (as the json renderer writes it,
 *                 plus "ready")
 *   GET /healthz  200 "ok" while berth-peers runs
 *   GET /readyz   200 when this member is ready (see peers_control_ready),
 *                 else 503
 *   GET /metrics  Prometheus text: members, ready, changes, DNS queries and
 *                 failures, hook runs and failures, last change time
 *
 * The server is the daemons' shared one (berth/prog_http.h), with
 * libmicrohttpd loaded (dlopen) only when the endpoint starts. */
#ifndef BERTH_PEERS_HTTP_H
#define BERTH_PEERS_HTTP_H

#include "berth/status.h"

#include "status.h"

typedef struct peers_http peers_http_t;

/* Listen on endpoint and serve status (borrowed: it must outlive the
 * endpoint). *port_out (may be NULL) gets the port bound, useful with port
 * 0. *out is set only on success; stop it with peers_http_stop. */
berth_status_t peers_http_start(const char *endpoint, peers_status_t *status,
                                peers_http_t **out, int *port_out,
                                berth_error_t *err);

/* Stop serving and free h. Accepts NULL. */
void peers_http_stop(peers_http_t *h);

#endif /* BERTH_PEERS_HTTP_H */
