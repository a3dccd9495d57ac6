/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the Event sender, see events.h.
 *
 * The recorder sends one request at a time, so a few lanes run side by
 * side, each with its own recorder, queue and thread. An object's Events
 * always take the same lane (chosen by its uid), so that its repeats are
 * aggregated and its spam bucket is one. */
#include "events.h"

#include "berth/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LANES 4

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
} lane_t;

struct prov_events {
  lane_t lanes[LANES];
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
    pthread_mutex_lock(&l->lock);
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

berth_status_t prov_events_create(berth_k8s_client_t *client,
                                  const char *component, size_t capacity,
                                  prov_events_t **out, berth_error_t *err)
{
  prov_events_t *ev = calloc(1, sizeof(*ev));
  size_t cap = (capacity > 0 ? capacity : 4096) / LANES + 1;
  berth_status_t st = BERTH_OK;
  int i;

  if (ev == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "events: out of memory");
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
  if (p->message == NULL) {
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
  for (i = 0; i < LANES; i++) {
    lane_t *l = &ev->lanes[i];
    pthread_mutex_lock(&l->lock);
    out->queued += l->queued;
    out->dropped += l->dropped;
    pthread_mutex_unlock(&l->lock);
    berth_k8s_recorder_get_stats(l->rec, &r);
    out->recorder.created += r.created;
    out->recorder.aggregated += r.aggregated;
    out->recorder.dropped += r.dropped;
    out->recorder.failed += r.failed;
  }
}
