/* berth-provisioner: the Event sender, see events.h. */
#include "events.h"

#include "berth/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

struct prov_events {
  berth_k8s_recorder_t *rec;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  pending_t *head;
  pending_t *tail;
  size_t n;
  size_t cap;
  bool stop;
  bool busy;
  int64_t deadline_ms; /* when stopping: drop what is left after it */
  uint64_t queued;
  uint64_t dropped;
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

static void send_one(prov_events_t *ev, pending_t *p)
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
  st = berth_k8s_record(ev->rec, &ref, p->type, p->reason, &err, "%s",
                        p->message);
  if (st != BERTH_OK && st != BERTH_ETHROTTLED)
    berth_log(BERTH_LOG_DEBUG, "event not recorded", "reason", p->reason,
              "object", p->name, "error", err.message, NULL);
}

static void *sender(void *arg)
{
  prov_events_t *ev = arg;
  pending_t *p;

  pthread_mutex_lock(&ev->lock);
  for (;;) {
    while (ev->head == NULL && !ev->stop)
      pthread_cond_wait(&ev->cond, &ev->lock);
    if (ev->head == NULL ||
        (ev->stop && berth_clock_monotonic_ms(NULL) > ev->deadline_ms))
      break;
    p = ev->head;
    ev->head = p->next;
    if (ev->head == NULL)
      ev->tail = NULL;
    ev->n--;
    ev->busy = true;
    pthread_mutex_unlock(&ev->lock);
    send_one(ev, p);
    pending_free(p);
    pthread_mutex_lock(&ev->lock);
    ev->busy = false;
  }
  pthread_mutex_unlock(&ev->lock);
  return NULL;
}

berth_status_t prov_events_create(berth_k8s_client_t *client,
                                  const char *component, size_t capacity,
                                  prov_events_t **out, berth_error_t *err)
{
  berth_k8s_recorder_options_t ro;
  prov_events_t *ev = calloc(1, sizeof(*ev));
  berth_status_t st;

  if (ev == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "events: out of memory");
  memset(&ro, 0, sizeof(ro));
  ro.component = component;
  st = berth_k8s_recorder_create(client, &ro, &ev->rec, err);
  if (st != BERTH_OK) {
    free(ev);
    return st;
  }
  ev->cap = capacity > 0 ? capacity : 4096;
  pthread_mutex_init(&ev->lock, NULL);
  pthread_cond_init(&ev->cond, NULL);
  if (pthread_create(&ev->thread, NULL, sender, ev) != 0) {
    berth_k8s_recorder_destroy(ev->rec);
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
    return berth_error_set(err, BERTH_ENOMEM, "events: cannot start thread");
  }
  *out = ev;
  return BERTH_OK;
}

void prov_events_destroy(prov_events_t *ev, int64_t timeout_ms)
{
  pending_t *p;

  if (ev == NULL)
    return;
  pthread_mutex_lock(&ev->lock);
  ev->stop = true;
  ev->deadline_ms = berth_clock_monotonic_ms(NULL) + timeout_ms;
  pthread_cond_broadcast(&ev->cond);
  pthread_mutex_unlock(&ev->lock);
  pthread_join(ev->thread, NULL);
  while ((p = ev->head) != NULL) {
    ev->head = p->next;
    pending_free(p);
  }
  berth_k8s_recorder_destroy(ev->rec);
  pthread_cond_destroy(&ev->cond);
  pthread_mutex_destroy(&ev->lock);
  free(ev);
}

static pending_t *pending_new(const json_t *obj,
                              const berth_k8s_resource_t *res,
                              const char *type, const char *reason)
{
  pending_t *p = calloc(1, sizeof(*p));

  if (p == NULL)
    return NULL;
  berth_k8s_resource_api_version(res, p->api_version,
                                 sizeof(p->api_version));
  berth_strlcpy(p->kind, res->kind, sizeof(p->kind));
  berth_strlcpy(p->type, type, sizeof(p->type));
  berth_strlcpy(p->reason, reason, sizeof(p->reason));
  p->ns = dup_or_null(berth_k8s_obj_namespace(obj));
  p->name = dup_or_null(berth_k8s_obj_name(obj));
  p->uid = dup_or_null(berth_k8s_obj_uid(obj));
  p->rv = dup_or_null(berth_k8s_obj_resource_version(obj));
  return p;
}

void prov_events_emit(prov_events_t *ev, const json_t *obj,
                      const berth_k8s_resource_t *res, const char *type,
                      const char *reason, const char *fmt, ...)
{
  pending_t *p;
  va_list ap;

  if (ev == NULL)
    return;
  p = pending_new(obj, res, type, reason);
  if (p == NULL)
    return;
  va_start(ap, fmt);
  if (vasprintf(&p->message, fmt, ap) < 0)
    p->message = NULL;
  va_end(ap);
  if (p->message == NULL) {
    pending_free(p);
    return;
  }
  pthread_mutex_lock(&ev->lock);
  if (ev->n >= ev->cap || ev->stop) {
    ev->dropped++;
    pthread_mutex_unlock(&ev->lock);
    pending_free(p);
    return;
  }
  if (ev->tail != NULL)
    ev->tail->next = p;
  else
    ev->head = p;
  ev->tail = p;
  ev->n++;
  ev->queued++;
  pthread_cond_signal(&ev->cond);
  pthread_mutex_unlock(&ev->lock);
}

void prov_events_get_stats(prov_events_t *ev, prov_events_stats_t *out)
{
  memset(out, 0, sizeof(*out));
  if (ev == NULL)
    return;
  pthread_mutex_lock(&ev->lock);
  out->queued = ev->queued;
  out->dropped = ev->dropped;
  pthread_mutex_unlock(&ev->lock);
  berth_k8s_recorder_get_stats(ev->rec, &out->recorder);
}
