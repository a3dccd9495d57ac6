/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the HTTP endpoint (--http-endpoint, libmicrohttpd):
 *
 *   /healthz  200 "ok" while the process runs
 *   /readyz   200 when ready (the leader: informers synced and workers
 *             running; a standby: waiting for the lease), else 503
 *   /metrics  the Prometheus text exposition (metrics.h)
 *
 * libmicrohttpd answers from its own thread. */
#ifndef BERTH_PROV_HTTP_H
#define BERTH_PROV_HTTP_H

#include <stdbool.h>

#include "berth/buf.h"
#include "berth/prog_http.h"
#include "berth/status.h"

#include "metrics.h"

typedef struct prov_http prov_http_t;

/* true when ready; may write a one-line reason to why. */
typedef bool (*prov_ready_fn)(void *ctx, berth_buf_t *why);

/* Listen on endpoint ("[HOST]:PORT"; an empty host means every address,
 * port 0 any free port) and serve, with libmicrohttpd from load (NULL:
 * berth_prog_mhd_dlopen). The bound port goes to *port. */
berth_status_t prov_http_start(const char *endpoint,
                               berth_prog_mhd_load_fn load,
                               prov_metrics_t *metrics, prov_ready_fn ready,
                               void *ctx, prov_http_t **out, int *port,
                               berth_error_t *err);

/* Stop serving and free. Accepts NULL. */
void prov_http_stop(prov_http_t *h);

#endif /* BERTH_PROV_HTTP_H */
