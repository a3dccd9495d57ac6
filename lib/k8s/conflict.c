/* SPDX-License-Identifier: Apache-2.0 */
/* The conflict loop: retry on 409 Conflict with a bound, as client-go's
 * retry.RetryOnConflict, and the get-mutate-update helper built on it.
 * See include/berth/k8s.h. */
#include <string.h>

#include "berth/clock.h"
#include "k8s_int.h"

berth_status_t berth_k8s_retry_on_conflict(berth_k8s_client_t *c,
                                           unsigned max_attempts,
                                           berth_k8s_attempt_fn fn, void *ctx,
                                           berth_error_t *err)
{
  unsigned attempt;
  berth_status_t st = BERTH_ECONFLICT;

  if (max_attempts == 0)
    max_attempts = 5;
  /* client-go's retry.DefaultRetry: 5 steps of 10 ms, jitter 0.1. */
  for (attempt = 0; attempt < max_attempts; attempt++) {
    if (attempt > 0)
      berth_clock_sleep_ms(
          berth__k8s_client_clock(c),
          10 + (int64_t)berth_rand_below(berth__k8s_client_rand(c), 2));
    berth_error_clear(err);
    st = fn(ctx, err);
    if (st != BERTH_ECONFLICT)
      break;
  }
  return st;
}

typedef struct {
  berth_k8s_client_t *c;
  const berth_k8s_resource_t *res;
  const char *ns;
  const char *name;
  bool status;
  berth_k8s_mutate_fn mutate;
  void *ctx;
  json_t *result;
} gmu_t;

static berth_status_t get_mutate_update(void *ctx, berth_error_t *err)
{
  gmu_t *g = ctx;
  json_t *obj = NULL;
  json_t *copy = NULL;
  berth_status_t st;

  st = berth_k8s_get(g->c, g->res, g->ns, g->name, &obj, err);
  if (st != BERTH_OK)
    goto done;
  copy = json_deep_copy(obj);
  if (copy == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  st = g->mutate(g->ctx, copy, err);
  if (st == BERTH_ECANCELED) {
    /* Nothing to write: the object is already as wanted. */
    berth_error_clear(err);
    json_decref(g->result);
    g->result = obj;
    obj = NULL;
    st = BERTH_OK;
    goto done;
  }
  if (st != BERTH_OK)
    goto done;
  json_decref(g->result);
  g->result = NULL;
  st = g->status
           ? berth_k8s_update_status(g->c, g->res, g->ns, copy, &g->result, err)
           : berth_k8s_update(g->c, g->res, g->ns, copy, &g->result, err);

done:
  json_decref(copy);
  json_decref(obj);
  return st;
}

berth_status_t berth_k8s_update_with_retry(
    berth_k8s_client_t *c, const berth_k8s_resource_t *res, const char *ns,
    const char *name, bool status, berth_k8s_mutate_fn mutate, void *ctx,
    unsigned max_attempts, json_t **out, berth_error_t *err)
{
  gmu_t g;
  berth_status_t st;

  memset(&g, 0, sizeof(g));
  g.c = c;
  g.res = res;
  g.ns = ns;
  g.name = name;
  g.status = status;
  g.mutate = mutate;
  g.ctx = ctx;
  st = berth_k8s_retry_on_conflict(c, max_attempts, get_mutate_update, &g, err);
  if (st == BERTH_OK && out != NULL) {
    *out = g.result;
    g.result = NULL;
  }
  json_decref(g.result);
  return st;
}
