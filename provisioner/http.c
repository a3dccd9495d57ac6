/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the HTTP endpoint, see http.h. The server is the
 * daemons' shared one (berth/prog_http.h); this file is the routes. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

struct prov_http {
  berth_prog_http_t *server;
  prov_metrics_t *metrics;
  prov_ready_fn ready;
  void *ctx;
};

static unsigned route(void *cls, const char *url, berth_buf_t *out,
                      const char **type)
{
  prov_http_t *h = cls;

  if (strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0) {
    berth_buf_append_str(out, "ok\n");
    return 200;
  }
  if (strcmp(url, "/readyz") == 0) {
    bool ok = h->ready != NULL && h->ready(h->ctx, out);
    if (out->len == 0)
      berth_buf_append_str(out, ok ? "ready" : "not ready");
    berth_buf_append_byte(out, '\n');
    return ok ? 200 : 503;
  }
  if (strcmp(url, "/metrics") == 0) {
    *type = "text/plain; version=0.0.4; charset=utf-8";
    return prov_metrics_format(h->metrics, out) == BERTH_OK ? 200 : 500;
  }
  berth_buf_append_str(out, "not found\n");
  return 404;
}

berth_status_t prov_http_start(const char *endpoint,
                               berth_prog_mhd_load_fn load,
                               prov_metrics_t *metrics, prov_ready_fn ready,
                               void *ctx, prov_http_t **out, int *port,
                               berth_error_t *err)
{
  berth_prog_http_options_t o = {
      .endpoint = endpoint,
      .max_connections = 64,
      .load = load != NULL ? load : berth_prog_mhd_dlopen,
      .route = route,
  };
  prov_http_t *h;
  berth_status_t st;

  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  h->metrics = metrics;
  h->ready = ready;
  h->ctx = ctx;
  o.ctx = h;
  st = berth_prog_http_start(&o, &h->server, port, err);
  if (st != BERTH_OK) {
    free(h);
    return st;
  }
  *out = h;
  return BERTH_OK;
}

void prov_http_stop(prov_http_t *h)
{
  if (h == NULL)
    return;
  berth_prog_http_stop(h->server);
  free(h);
}
