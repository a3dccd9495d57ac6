/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the sweep of storage whose claim and PV are both
 * gone.
 *
 * The one case the in-flight hold (inflight.c) cannot cover: a
 * provisioner killed after the backend made storage and before the PV
 * was saved, and the claim deleted before the next leader synced it. No
 * PV and no claim remember that storage; the backend's own record does
 * (berth_backend_records: an NFS journal entry, EBS and EFS tags). Every
 * --sweep-interval the leader lists, for each class of ours, at most
 * SWEEP_MAX records, and removes the storage of those that no cached PV
 * or claim owns, that this process is not provisioning, that are older
 * than --sweep-grace, and for which a GET of the PV and of the claim both
 * confirm it (sweep_decide.c); a record whose PV exists is forgotten.
 * The storage goes through the backend's delete, as a Delete reclaim
 * would take it (the class's onDelete/archiveOnDelete apply). */
#include "controller_int.h"
#include "ticker.h"

#include "provisioners.h"
#include "sweep_decide.h"

#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Records looked at per pass, all classes together. */
#define SWEEP_MAX 100

struct prov_sweep {
  prov_controller_t *c;
  int64_t interval_ms;
  int64_t grace_ms;
  prov_ticker_t ticker;
};

/* What one pass did. */
typedef struct sweep_pass {
  json_t *seen; /* PV names handled in this pass (exports shared by
                   classes are listed once per class) */
  size_t looked;
  unsigned removed;
  unsigned errors;
} sweep_pass_t;

/* true when the cache holds the claim ns/name with this uid. */
static bool claim_cached(prov_controller_t *c, const char *ns, const char *name,
                         const char *uid)
{
  json_t *claim = berth_k8s_informer_get(c->claims, ns, name);
  const char *have = berth_k8s_obj_uid(claim);
  bool same = have != NULL && strcmp(have, uid) == 0;

  json_decref(claim);
  return same;
}

/* true when this process holds the claim ns/name of this uid in flight. */
static bool held(prov_controller_t *c, const char *ns, const char *name,
                 const char *uid)
{
  json_t *claim = prov_inflight_get(c, ns, name);
  const char *have = berth_k8s_obj_uid(claim);
  bool same = have != NULL && strcmp(have, uid) == 0;

  json_decref(claim);
  return same;
}

/* The facts the caches give about rec. */
static void record_facts(prov_sweep_t *s, const json_t *rec,
                         prov_sweep_facts_t *f)
{
  prov_controller_t *c = s->c;
  const json_t *pv = json_object_get(rec, "pv");
  const char *ns = json_string_value(json_object_get(rec, "namespace"));
  const char *name = json_string_value(json_object_get(rec, "name"));
  const char *uid = json_string_value(json_object_get(rec, "uid"));
  json_int_t created = json_integer_value(json_object_get(rec, "created"));
  json_t *cached =
      berth_k8s_informer_get(c->volumes, NULL, berth_k8s_obj_name(pv));

  memset(f, 0, sizeof(*f));
  f->pv_cached = cached != NULL;
  json_decref(cached);
  f->claim_cached = claim_cached(c, ns, name, uid);
  f->held = held(c, ns, name, uid);
  f->grace_ms = s->grace_ms;
  f->age_ms = created > 0 ? berth_clock_realtime_ms(NULL) - created * 1000 : -1;
}

/* GET the PV and the claim: REMOVE or KEEP. */
static prov_sweep_next_t confirm(prov_controller_t *c, const json_t *rec)
{
  const char *ns = json_string_value(json_object_get(rec, "namespace"));
  const char *name = json_string_value(json_object_get(rec, "name"));
  const char *uid = json_string_value(json_object_get(rec, "uid"));
  const json_t *pv = json_object_get(rec, "pv");
  json_t *got = NULL;
  berth_error_t err;
  berth_status_t pv_st;
  berth_status_t claim_st = BERTH_EUNAVAILABLE;
  bool same = false;

  pv_st = prov_api_get(c, &berth_k8s_res_persistentvolumes, NULL,
                       berth_k8s_obj_name(pv), &got, &err);
  json_decref(got);
  got = NULL;
  if (pv_st == BERTH_ENOTFOUND) {
    claim_st = prov_api_get(c, &berth_k8s_res_persistentvolumeclaims, ns, name,
                            &got, &err);
    same = berth_k8s_obj_uid(got) != NULL &&
           strcmp(berth_k8s_obj_uid(got), uid) == 0;
    json_decref(got);
  }
  return prov_sweep_confirm(pv_st, claim_st, same);
}

/* Remove rec's storage as a Delete reclaim would, then its record. */
static berth_status_t remove_storage(prov_controller_t *c, berth_backend_t *be,
                                     const json_t *params, const json_t *rec,
                                     berth_error_t *err)
{
  const json_t *pv = json_object_get(rec, "pv");
  berth_delete_request_t req = {pv, params, NULL, 0};
  berth_records_request_t forget = {params, berth_k8s_obj_name(pv), 0, NULL};
  berth_delete_outcome_t out = BERTH_DELETE_ABSENT;
  int64_t t0 = berth_clock_monotonic_ms(NULL);
  berth_status_t st;

  st = berth_backend_delete(be, &req, &out, err);
  prov_metrics_backend(c->metrics, berth_backend_name(be), "delete",
                       st == BERTH_OK, prov_seconds_since(t0));
  if (st == BERTH_OK)
    st = berth_backend_records(be, &forget, err);
  return st;
}

/* A record cut short names no storage that exists (backend.h): once it
 * is past the grace period, it is only forgotten. */
static void forget_incomplete(prov_sweep_t *s, sweep_pass_t *p,
                              berth_backend_t *be, const json_t *params,
                              const json_t *rec)
{
  const char *pv = berth_k8s_obj_name(json_object_get(rec, "pv"));
  json_int_t created = json_integer_value(json_object_get(rec, "created"));
  berth_records_request_t forget = {params, pv, 0, NULL};
  berth_error_t err;

  if (created <= 0 ||
      berth_clock_realtime_ms(NULL) - created * 1000 < s->grace_ms)
    return;
  berth_error_clear(&err);
  if (berth_backend_records(be, &forget, &err) != BERTH_OK) {
    p->errors++;
    return;
  }
  berth_log(BERTH_LOG_INFO, "sweep: forgot a record cut short", "pv", pv, NULL);
}

static void sweep_record(prov_sweep_t *s, sweep_pass_t *p, berth_backend_t *be,
                         const json_t *params, const json_t *rec)
{
  prov_controller_t *c = s->c;
  const char *pv = berth_k8s_obj_name(json_object_get(rec, "pv"));
  const char *ns = json_string_value(json_object_get(rec, "namespace"));
  const char *name = json_string_value(json_object_get(rec, "name"));
  berth_records_request_t forget = {params, pv, 0, NULL};
  prov_sweep_facts_t f;
  berth_error_t err;

  if (pv == NULL || json_object_get(p->seen, pv) != NULL)
    return;
  json_object_set_new(p->seen, pv, json_true());
  p->looked++;
  if (json_is_true(json_object_get(rec, "incomplete"))) {
    forget_incomplete(s, p, be, params, rec);
    return;
  }
  if (ns == NULL || name == NULL)
    return;
  record_facts(s, rec, &f);
  berth_error_clear(&err);
  if (f.pv_cached) {
    /* Saved: the PV and its reclaim policy own the storage now. */
    if (berth_backend_records(be, &forget, &err) != BERTH_OK)
      p->errors++;
    return;
  }
  if (prov_sweep_decide(&f) != PROV_SWEEP_CONFIRM || !prov_active(c) ||
      confirm(c, rec) != PROV_SWEEP_REMOVE || !prov_active(c))
    return;
  if (remove_storage(c, be, params, rec, &err) != BERTH_OK) {
    p->errors++;
    berth_log(BERTH_LOG_WARN, "sweep: cannot remove leftover storage", "pv", pv,
              "namespace", ns, "claim", name, "error", err.message, NULL);
    return;
  }
  p->removed++;
  berth_log(BERTH_LOG_INFO,
            "sweep: removed storage whose claim and PV are both gone", "pv", pv,
            "namespace", ns, "claim", name, "backend", berth_backend_name(be),
            NULL);
}

/* The records of one class of ours. */
static void sweep_class(prov_sweep_t *s, sweep_pass_t *p, const json_t *sc)
{
  prov_controller_t *c = s->c;
  const char *prov = json_string_value(json_object_get(sc, "provisioner"));
  const json_t *params = json_object_get(sc, "parameters");
  berth_backend_t *be = prov_provisioners_find(c->provs, prov);
  berth_records_request_t req = {params, NULL, 0, NULL};
  berth_error_t err;
  json_t *rec;
  size_t i;

  if (be == NULL || !berth_backend_can_record(be) || p->looked >= SWEEP_MAX)
    return;
  req.max = SWEEP_MAX - p->looked;
  berth_error_clear(&err);
  if (berth_backend_records(be, &req, &err) != BERTH_OK) {
    p->errors++;
    berth_log(BERTH_LOG_WARN, "sweep: cannot list the backend's records",
              "class", berth_k8s_obj_name(sc), "error", err.message, NULL);
    return;
  }
  json_array_foreach(req.records, i, rec)
  {
    if (!prov_active(c) || p->looked >= SWEEP_MAX)
      break;
    sweep_record(s, p, be, params, rec);
  }
  json_decref(req.records);
}

static void sweep_once(prov_sweep_t *s)
{
  sweep_pass_t p;
  json_t *classes = berth_k8s_informer_list(s->c->classes);
  json_t *sc;
  size_t i;
  char n[3][24];

  memset(&p, 0, sizeof(p));
  p.seen = json_object();
  json_array_foreach(classes, i, sc)
  {
    if (!prov_active(s->c) || p.seen == NULL)
      break;
    sweep_class(s, &p, sc);
  }
  json_decref(classes);
  json_decref(p.seen);
  prov_metrics_sweep(s->c->metrics, 1, p.removed, p.errors);
  snprintf(n[0], sizeof(n[0]), "%zu", p.looked);
  snprintf(n[1], sizeof(n[1]), "%u", p.removed);
  snprintf(n[2], sizeof(n[2]), "%u", p.errors);
  berth_log(p.removed > 0 || p.errors > 0 ? BERTH_LOG_INFO : BERTH_LOG_DEBUG,
            "sweep done", "records", n[0], "removed", n[1], "errors", n[2],
            NULL);
}

static void *run(void *arg)
{
  prov_sweep_t *s = arg;

  /* The first pass after one interval: the informers have synced and
   * the workers have taken the claims that are still there. */
  while (prov_ticker_pause(&s->ticker, s->interval_ms)) {
    /* Complete caches first: fewer records go on to the GETs. */
    if (prov_active(s->c) && prov_controller_synced(s->c))
      sweep_once(s);
  }
  return NULL;
}

berth_status_t prov_sweep_start(prov_controller_t *c, int64_t interval_ms,
                                int64_t grace_ms, prov_sweep_t **out)
{
  prov_sweep_t *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return BERTH_ENOMEM;
  s->c = c;
  s->interval_ms = interval_ms;
  s->grace_ms = grace_ms;
  if (prov_ticker_start(&s->ticker, run, s) != BERTH_OK) {
    free(s);
    return BERTH_ENOMEM;
  }
  *out = s;
  return BERTH_OK;
}

void prov_sweep_stop(prov_sweep_t *s)
{
  if (s == NULL)
    return;
  prov_ticker_stop(&s->ticker);
  free(s);
}

void prov_sweep_forget(prov_controller_t *c, berth_backend_t *be,
                       const json_t *params, const char *pv_name)
{
  berth_records_request_t req = {params, pv_name, 0, NULL};
  berth_error_t err;

  (void)c;
  if (be == NULL || !berth_backend_can_record(be))
    return;
  berth_error_clear(&err);
  /* Best effort: a record left behind is forgotten by the next sweep,
   * which finds the PV. */
  if (berth_backend_records(be, &req, &err) != BERTH_OK)
    berth_log(BERTH_LOG_WARN, "cannot forget the record of a saved volume",
              "pv", pv_name, "error", err.message, NULL);
}
