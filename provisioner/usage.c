/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: volume usage for /metrics.
 *
 * Every interval, each Bound PV of ours is measured with its backend's
 * bounded walk, one at a time and spread over the interval, so that the
 * walks never compete in a burst with provisioning for the export's
 * connection. The last figures are kept in the metrics until the PV goes. */
#include "controller_int.h"
#include "ticker.h"

#include "claim.h"
#include "berth/quantity.h"

#include "berth/log.h"
#include "berth/buf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct prov_usage {
  prov_controller_t *c;
  int64_t interval_ms;
  prov_ticker_t ticker;
  /* Backends (by name) already said to be unable to measure usage: said
   * once in the log, never counted as errors. Only the usage thread
   * touches it. */
  char told[8][16];
  size_t ntold;
};

/* Say once per backend kind that its volumes' usage is not measured. */
static void tell_not_measurable(prov_usage_t *u, const char *backend,
                                const char *why)
{
  size_t i;

  for (i = 0; i < u->ntold; i++) {
    if (strcmp(u->told[i], backend) == 0)
      return;
  }
  if (u->ntold < sizeof(u->told) / sizeof(u->told[0]))
    berth_strlcpy(u->told[u->ntold++], backend, sizeof(u->told[0]));
  berth_log(BERTH_LOG_INFO, "usage not measured for this backend's volumes",
            "backend", backend, "reason", why, NULL);
}

/* The PV's spec.capacity.storage in bytes, or 0. */
static uint64_t capacity(const json_t *pv)
{
  const char *q = json_string_value(json_object_get(
      json_object_get(json_object_get(pv, "spec"), "capacity"), "storage"));
  uint64_t bytes = 0;

  if (q == NULL || berth_quantity_parse(q, &bytes, NULL) != BERTH_OK)
    return 0;
  return bytes;
}

static void measure(prov_usage_t *u, const json_t *pv)
{
  prov_controller_t *c = u->c;
  berth_backend_t *be = prov_volume_backend(c, pv);
  const char *phase = json_string_value(
      json_object_get(json_object_get(pv, "status"), "phase"));
  const char *cls = json_string_value(
      json_object_get(json_object_get(pv, "spec"), "storageClassName"));
  json_t *sclass;
  berth_usage_t us;
  berth_error_t err;
  int64_t t0;
  berth_status_t st;

  if (be == NULL || phase == NULL || strcmp(phase, "Bound") != 0 ||
      !prov_active(c))
    return;
  if (!berth_backend_can_measure_usage(be)) {
    tell_not_measurable(u, berth_backend_name(be),
                        "the backend cannot measure usage");
    return;
  }
  berth_error_clear(&err);
  sclass = cls != NULL ? berth_k8s_informer_get(c->classes, NULL, cls) : NULL;
  t0 = berth_clock_monotonic_ms(NULL);
  st = berth_backend_usage(be, pv, json_object_get(sclass, "parameters"), &us,
                           &err);
  if (st == BERTH_EPERM) {
    /* This volume cannot be measured (an EFS access point): a property,
     * not a failure of the backend. */
    tell_not_measurable(u, berth_backend_name(be), err.message);
    goto done;
  }
  prov_metrics_backend(c->metrics, berth_backend_name(be), "usage",
                       st == BERTH_OK, prov_seconds_since(t0));
  if (st == BERTH_OK)
    prov_metrics_usage(c->metrics, berth_k8s_obj_name(pv), cls, us.bytes,
                       us.files, capacity(pv));
  else
    berth_log(BERTH_LOG_WARN, "cannot measure volume usage", "pv",
              berth_k8s_obj_name(pv), "backend", berth_backend_name(be),
              "error", err.message, NULL);

done:
  json_decref(sclass);
}

typedef struct walk {
  prov_usage_t *u;
  int64_t gap;
} walk_t;

static bool measure_one(void *ctx, json_t *pv)
{
  walk_t *w = ctx;

  measure(w->u, pv);
  return prov_ticker_pause(&w->u->ticker, w->gap);
}

/* Each walk spreads the PVs over the interval, decoding one at a time
 * (berth_k8s_informer_each): the walk takes the whole interval, and must
 * not hold thousands of PVs decoded meanwhile. */
static void *run(void *arg)
{
  prov_usage_t *u = arg;
  walk_t w = {u, 0};

  /* Let the first provisioning burst go first. */
  if (!prov_ticker_pause(&u->ticker, u->interval_ms / 10 + 1000))
    return NULL;
  for (;;) {
    w.gap =
        u->interval_ms / (int64_t)(berth_k8s_informer_count(u->c->volumes) + 1);
    (void)berth_k8s_informer_each(u->c->volumes, measure_one, &w);
    if (!prov_ticker_pause(&u->ticker, w.gap))
      return NULL;
  }
}

berth_status_t prov_usage_start(prov_controller_t *c, int64_t interval_ms,
                                prov_usage_t **out)
{
  prov_usage_t *u = calloc(1, sizeof(*u));

  if (u == NULL)
    return BERTH_ENOMEM;
  u->c = c;
  u->interval_ms = interval_ms;
  if (prov_ticker_start(&u->ticker, run, u) != BERTH_OK) {
    free(u);
    return BERTH_ENOMEM;
  }
  *out = u;
  return BERTH_OK;
}

void prov_usage_stop(prov_usage_t *u)
{
  if (u == NULL)
    return;
  prov_ticker_stop(&u->ticker);
  free(u);
}
