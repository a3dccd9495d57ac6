/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the Event sender, see events.h.
 *
 * The recorder sends one request at a time, so a few lanes run side by
 * side, each with its own recorder, queue and thread. An object's Events
 * always take the same lane (chosen by its uid), so that its repeats are
 * aggregated and its spam bucket is one.
 *
 * Before an event is queued, the correlator (correlator.h) judges it: a
 * repeat without a token of the source bucket is folded, the Normal
 * Provisioning Event is shed while the API is under pressure (a request
 * waited for the client's rate limiter within the last PRESSURE_MS, or
 * the lanes have a backlog), similar events are combined. The outcome
 * Events (ProvisioningSucceeded, ProvisioningFailed) are never shed. */
#include "events.h"

#include "correlator.h"

#include "berth/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LANES 4

/* How long the API counts as under pressure after a request waited for
 * the rate limiter, and how often the client's counters are read. */
#define PRESSURE_MS 2000
#define SAMPLE_MS 200
/* Events queued in one lane beyond which it counts as backlog. */
#define BACKLOG 16

typedef struct pending {
  struct pending *next;
  char api_version[64];
  char kind[64];
  char *ns;
  char *name;
  char *uid;
  char *rv;
  char type[16];
  char reason[64];
  char *message; /* exact size: a backlog of thousands must stay small */
} pending_t;

typedef struct lane {
  berth_k8s_recorder_t *rec;
  pthread_t thread;
  bool started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pending_t *head;
  pending_t *tail;
  size_t n;
  size_t cap;
  bool stop;
  int64_t deadline_ms; /* when stopping: drop what is left after it */
  uint64_t queued;
  uint64_t dropped;
  /* The recorder's counters as of its last send, under lock: the
   * recorder holds its own lock for a whole request (rate limiter wait
   * included), so /metrics must not ask it. */
  berth_k8s_recorder_stats_t rec_stats;
} lane_t;

struct prov_events {
  lane_t lanes[LANES];
  berth_k8s_client_t *client;
  prov_correlator_t *corr;
  pthread_mutex_t lock; /* the pressure sample below */
  int64_t sampled_ms;
  uint64_t limited_ms; /* the client's rate_limited_ms when sampled */
  int64_t pressure_until_ms;
};

static void pending_free(pending_t *p)
{
  if (p == NULL)
    return;
  free(p->ns);
  free(p->name);
  free(p->uid);
  free(p->rv);
  free(p->message);
  free(p);
}

static char *dup_or_null(const char *s)
{
  return s != NULL ? strdup(s) : NULL;
}

static void send_one(lane_t *l, pending_t *p)
{
  berth_k8s_object_ref_t ref;
  berth_error_t err;
  berth_status_t st;

  memset(&ref, 0, sizeof(ref));
  ref.api_version = p->api_version;
  ref.kind = p->kind;
  ref.namespace_name = p->ns;
  ref.name = p->name;
  ref.uid = p->uid;
  ref.resource_version = p->rv;
  st = berth_k8s_record(l->rec, &ref, p->type, p->reason, &err, "%s",
                        p->message);
  if (st != BERTH_OK && st != BERTH_ETHROTTLED)
    berth_log(BERTH_LOG_DEBUG, "event not recorded", "reason", p->reason,
              "object", p->name, "error", err.message, NULL);
}

static void *sender(void *arg)
{
  lane_t *l = arg;
  berth_k8s_recorder_stats_t rs;
  pending_t *p;

  pthread_mutex_lock(&l->lock);
  for (;;) {
    while (l->head == NULL && !l->stop)
      pthread_cond_wait(&l->cond, &l->lock);
    if (l->head == NULL ||
        (l->stop && berth_clock_monotonic_ms(NULL) > l->deadline_ms))
      break;
    p = l->head;
    l->head = p->next;
    if (l->head == NULL)
      l->tail = NULL;
    l->n--;
    pthread_mutex_unlock(&l->lock);
    send_one(l, p);
    pending_free(p);
    berth_k8s_recorder_get_stats(l->rec, &rs);
    pthread_mutex_lock(&l->lock);
    l->rec_stats = rs;
  }
  pthread_mutex_unlock(&l->lock);
  return NULL;
}

static berth_status_t lane_start(lane_t *l, berth_k8s_client_t *client,
                                 const char *component, size_t cap,
                                 berth_error_t *err)
{
  berth_k8s_recorder_options_t ro;
  berth_status_t st;

  memset(&ro, 0, sizeof(ro));
  ro.component = component;
  st = berth_k8s_recorder_create(client, &ro, &l->rec, err);
  if (st != BERTH_OK)
    return st;
  l->cap = cap;
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->cond, NULL);
  if (pthread_create(&l->thread, NULL, sender, l) != 0)
    return berth_error_set(err, BERTH_ENOMEM, "events: cannot start thread");
  l->started = true;
  return BERTH_OK;
}

static void lane_stop(lane_t *l, int64_t deadline_ms)
{
  pending_t *p;

  if (l->rec == NULL)
    return;
  if (l->started) {
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    l->deadline_ms = deadline_ms;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
  }
  while ((p = l->head) != NULL) {
    l->head = p->next;
    pending_free(p);
  }
  berth_k8s_recorder_destroy(l->rec);
  pthread_cond_destroy(&l->cond);
  pthread_mutex_destroy(&l->lock);
}

/* The source bucket's share of the API budget: a tenth, so that at
 * client-go's 5 qps the optional Events take at most 0.5 requests/s. */
static void correlator_options(double api_qps, int api_burst,
                               prov_correlator_options_t *o)
{
  memset(o, 0, sizeof(*o));
  o->qps = api_qps > 0 ? api_qps / 10 : 5;
  o->burst = api_qps > 0 ? (api_burst >= 10 ? api_burst / 10 : 1) : 10;
}

berth_status_t prov_events_create(berth_k8s_client_t *client,
                                  const char *component, size_t capacity,
                                  double api_qps, int api_burst,
                                  prov_events_t **out, berth_error_t *err)
{
  prov_events_t *ev = calloc(1, sizeof(*ev));
  size_t cap = (capacity > 0 ? capacity : 4096) / LANES + 1;
  prov_correlator_options_t co;
  berth_status_t st = BERTH_OK;
  int i;

  if (ev == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "events: out of memory");
  ev->client = client;
  pthread_mutex_init(&ev->lock, NULL);
  correlator_options(api_qps, api_burst, &co);
  if (prov_correlator_create(&co, &ev->corr) != BERTH_OK)
    st = berth_error_set(err, BERTH_ENOMEM, "events: out of memory");
  for (i = 0; i < LANES && st == BERTH_OK; i++)
    st = lane_start(&ev->lanes[i], client, component, cap, err);
  if (st != BERTH_OK) {
    prov_events_destroy(ev, 0);
    return st;
  }
  *out = ev;
  return BERTH_OK;
}

void prov_events_destroy(prov_events_t *ev, int64_t timeout_ms)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + timeout_ms;
  int i;

  if (ev == NULL)
    return;
  /* Stop all lanes first so that they drain side by side. */
  for (i = 0; i < LANES; i++) {
    lane_t *l = &ev->lanes[i];
    if (!l->started)
      continue;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    l->deadline_ms = deadline;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
  }
  for (i = 0; i < LANES; i++)
    lane_stop(&ev->lanes[i], deadline);
  prov_correlator_destroy(ev->corr);
  pthread_mutex_destroy(&ev->lock);
  free(ev);
}

static pending_t *pending_new(const json_t *obj,
                              const berth_k8s_resource_t *res, const char *type,
                              const char *reason)
{
  pending_t *p = calloc(1, sizeof(*p));

  if (p == NULL)
    return NULL;
  berth_k8s_resource_api_version(res, p->api_version, sizeof(p->api_version));
  berth_strlcpy(p->kind, res->kind, sizeof(p->kind));
  berth_strlcpy(p->type, type, sizeof(p->type));
  berth_strlcpy(p->reason, reason, sizeof(p->reason));
  p->ns = dup_or_null(berth_k8s_obj_namespace(obj));
  p->name = dup_or_null(berth_k8s_obj_name(obj));
  p->uid = dup_or_null(berth_k8s_obj_uid(obj));
  p->rv = dup_or_null(berth_k8s_obj_resource_version(obj));
  return p;
}

/* The object's lane: FNV-1a of its uid (or name). */
static lane_t *lane_of(prov_events_t *ev, const pending_t *p)
{
  const char *s = p->uid != NULL ? p->uid : p->name != NULL ? p->name : "";
  uint32_t h = 2166136261u;

  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return &ev->lanes[h % LANES];
}

/* Under pressure: a request waited for the client's rate limiter lately,
 * or a lane has a backlog. */
static bool under_pressure(prov_events_t *ev, int64_t now)
{
  berth_k8s_client_stats_t cs;
  bool backlog = false;
  bool pressure;
  int i;

  for (i = 0; i < LANES; i++) {
    lane_t *l = &ev->lanes[i];
    pthread_mutex_lock(&l->lock);
    backlog = backlog || l->n > BACKLOG;
    pthread_mutex_unlock(&l->lock);
  }
  pthread_mutex_lock(&ev->lock);
  if (ev->client != NULL && now - ev->sampled_ms >= SAMPLE_MS) {
    berth_k8s_client_get_stats(ev->client, &cs);
    if (cs.rate_limited_ms > ev->limited_ms && ev->sampled_ms != 0)
      ev->pressure_until_ms = now + PRESSURE_MS;
    ev->limited_ms = cs.rate_limited_ms;
    ev->sampled_ms = now;
  }
  if (backlog)
    ev->pressure_until_ms = now + PRESSURE_MS;
  pressure = now < ev->pressure_until_ms;
  pthread_mutex_unlock(&ev->lock);
  return pressure;
}

/* The correlator's verdict; p->message may be replaced by the combined
 * one. */
static prov_verdict_t judge(prov_events_t *ev, pending_t *p)
{
  prov_event_in_t in;
  char msg[1100];
  prov_verdict_t v;
  char *m;

  memset(&in, 0, sizeof(in));
  in.object = p->uid != NULL ? p->uid : p->name;
  in.type = p->type;
  in.reason = p->reason;
  in.message = p->message;
  in.optional =
      strcmp(p->type, "Normal") == 0 && strcmp(p->reason, "Provisioning") == 0;
  in.now_ms = berth_clock_monotonic_ms(NULL);
  in.pressure = in.optional && under_pressure(ev, in.now_ms);
  v = prov_correlator_judge(ev->corr, &in, msg, sizeof(msg));
  if (v == PROV_EVENT_SEND && strcmp(msg, p->message) != 0 &&
      (m = strdup(msg)) != NULL) {
    free(p->message);
    p->message = m;
  }
  return v;
}

void prov_events_emit(prov_events_t *ev, const json_t *obj,
                      const berth_k8s_resource_t *res, const char *type,
                      const char *reason, const char *fmt, ...)
{
  pending_t *p;
  lane_t *l;
  va_list ap;

  if (ev == NULL || (p = pending_new(obj, res, type, reason)) == NULL)
    return;
  va_start(ap, fmt);
  if (vasprintf(&p->message, fmt, ap) < 0)
    p->message = NULL;
  va_end(ap);
  if (p->message == NULL || judge(ev, p) != PROV_EVENT_SEND) {
    pending_free(p);
    return;
  }
  l = lane_of(ev, p);
  pthread_mutex_lock(&l->lock);
  if (l->n >= l->cap || l->stop) {
    l->dropped++;
    pthread_mutex_unlock(&l->lock);
    pending_free(p);
    return;
  }
  if (l->tail != NULL)
    l->tail->next = p;
  else
    l->head = p;
  l->tail = p;
  l->n++;
  l->queued++;
  pthread_cond_signal(&l->cond);
  pthread_mutex_unlock(&l->lock);
}

void prov_events_get_stats(prov_events_t *ev, prov_events_stats_t *out)
{
  berth_k8s_recorder_stats_t r;
  int i;

  memset(out, 0, sizeof(*out));
  if (ev == NULL)
    return;
  prov_correlator_get_stats(ev->corr, &out->correlator);
  for (i = 0; i < LANES; i++) {
    lane_t *l = &ev->lanes[i];
    pthread_mutex_lock(&l->lock);
    out->queued += l->queued;
    out->dropped += l->dropped;
    out->pending += l->n;
    r = l->rec_stats;
    pthread_mutex_unlock(&l->lock);
    out->recorder.created += r.created;
    out->recorder.aggregated += r.aggregated;
    out->recorder.dropped += r.dropped;
    out->recorder.failed += r.failed;
  }
}
