/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the HTTP endpoint, see http.h. The server is the daemons'
 * shared one (berth/prog_http.h); this file is the routes. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/process.h"
#ifndef BERTH_PEERS_STATIC
#include "berth/prog_http.h"
#endif

#ifdef BERTH_PEERS_STATIC
/* The static build has no libmicrohttpd (options.c refuses the flag; this
 * is the second line of defence). */
berth_status_t peers_http_start(const char *endpoint, peers_status_t *status,
                                peers_http_t **out, int *port_out,
                                berth_error_t *err)
{
  (void)endpoint;
  (void)status;
  (void)out;
  (void)port_out;
  return berth_error_set(err, BERTH_EINVAL,
                         "--http-endpoint is not available in the static "
                         "build");
}

void peers_http_stop(peers_http_t *h)
{
  (void)h;
}
#else
struct peers_http {
  berth_prog_http_t *server;
  peers_status_t *status;
};

/* Build the body for url into out; returns the HTTP status. */
static unsigned route(void *cls, const char *url, berth_buf_t *out,
                      const char **type)
{
  peers_http_t *h = cls;
  peers_counters_t c;

  if (strcmp(url, "/peers") == 0) {
    *type = "application/json";
    return peers_status_json(h->status, out) == BERTH_OK ? 200 : 500;
  }
  if (strcmp(url, "/healthz") == 0) {
    berth_buf_append_str(out, "ok\n");
    return 200;
  }
  peers_status_counters(h->status, &c);
  if (strcmp(url, "/readyz") == 0) {
    berth_buf_append_str(out, c.ready ? "ready\n" : "not ready\n");
    return c.ready ? 200 : 503;
  }
  if (strcmp(url, "/metrics") == 0) {
    *type = "text/plain; version=0.0.4; charset=utf-8";
    if (peers_metrics_format(&c, out) != BERTH_OK)
      return 500;
    /* What operators expect of any program: its build and its process
     * (nothing of the latter where /proc is not mounted). */
    berth_build_info_format(out, "berth_build_info", "berth-peers");
    berth_process_metrics_format(out);
    return 200;
  }
  berth_buf_append_str(out, "not found\n");
  return 404;
}

berth_status_t peers_http_start(const char *endpoint, peers_status_t *status,
                                peers_http_t **out, int *port_out,
                                berth_error_t *err)
{
  berth_prog_http_options_t o = {
      .endpoint = endpoint,
      .max_connections = 32,
      /* Loaded only when asked for: see berth/prog_http.h. */
      .load = berth_prog_mhd_dlopen,
      .route = route,
  };
  peers_http_t *h;
  berth_status_t st;

  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  h->status = status;
  o.ctx = h;
  st = berth_prog_http_start(&o, &h->server, port_out, err);
  if (st != BERTH_OK) {
    free(h);
    return st;
  }
  *out = h;
  return BERTH_OK;
}

void peers_http_stop(peers_http_t *h)
{
  if (h == NULL)
    return;
  berth_prog_http_stop(h->server);
  free(h);
}
#endif
