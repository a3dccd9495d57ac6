/* SPDX-License-Identifier: Apache-2.0 */
/* The informer's dispatcher thread: a queue of notifications, the
 * handlers, and the periodic resync. See lib/k8s/informer_int.h. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "berth/clock.h"
#include "berth/log.h"
#include "informer_int.h"

json_t *berth__k8s_text_of(json_t *obj)
{
  char *text = json_dumps(obj, JSON_COMPACT);
  bool was;
  json_t *s = NULL;

  /* The text is dumped where the object lives (an arena's scratch, if
   * any) and kept in malloc's heap: it outlives the object's scope. */
  if (text != NULL) {
    was = berth__k8s_arena_suspend();
    s = json_string_nocheck(text);
    berth__k8s_arena_resume(was);
  }
  berth__k8s_json_free(text);
  json_decref(obj);
  return s;
}

json_t *berth__k8s_object_of(json_t *text)
{
  json_t *obj;

  if (text == NULL)
    return NULL;
  /* Strings may hold NUL (\u0000), as the server's JSON may. */
  obj = json_loadb(json_string_value(text), json_string_length(text),
                   JSON_ALLOW_NUL, NULL);
  json_decref(text);
  return obj;
}

/* What a notification keeps of obj: obj, or in a compact informer its
 * text (decoded when the handlers run, so that a burst queued behind a
 * slow handler, or behind a relist's commit, costs text, not trees). */
static json_t *note_object(berth_k8s_informer_t *inf, json_t *obj)
{
  if (obj == NULL)
    return NULL;
  if (!inf->compact)
    return json_incref(obj);
  return berth__k8s_text_of(json_incref(obj));
}

static json_t *note_decode(berth_k8s_informer_t *inf, json_t *obj)
{
  if (obj == NULL || !inf->compact)
    return obj;
  return berth__k8s_object_of(obj);
}

static void note_free(berth__k8s_note_t *n)
{
  json_decref(n->old_obj);
  json_decref(n->new_obj);
  free(n);
}

void berth__k8s_informer_enqueue(berth_k8s_informer_t *inf,
                                 berth__k8s_note_type_t type, json_t *old_obj,
                                 json_t *new_obj)
{
  berth__k8s_note_t *n = calloc(1, sizeof(*n));

  if (n == NULL) {
    berth_log(BERTH_LOG_ERROR,
              "k8s informer: out of memory, notification "
              "lost",
              "resource", inf->res.resource, NULL);
    return;
  }
  n->type = type;
  n->old_obj = note_object(inf, old_obj);
  n->new_obj = note_object(inf, new_obj);
  if ((old_obj != NULL && n->old_obj == NULL) ||
      (new_obj != NULL && n->new_obj == NULL)) {
    berth_log(BERTH_LOG_ERROR,
              "k8s informer: out of memory, notification "
              "lost",
              "resource", inf->res.resource, NULL);
    note_free(n);
    return;
  }
  if (inf->tail != NULL)
    inf->tail->next = n;
  else
    inf->head = n;
  inf->tail = n;
  if (type == NOTE_ADD)
    inf->stats.adds++;
  else if (type == NOTE_UPDATE)
    inf->stats.updates++;
  else
    inf->stats.deletes++;
  pthread_cond_broadcast(&inf->cond);
}

static void notify(berth_k8s_informer_t *inf, berth__k8s_note_t *n)
{
  const berth_k8s_informer_handlers_t *h = &inf->h;

  if (n->type == NOTE_ADD && h->on_add != NULL)
    h->on_add(h->ctx, n->new_obj);
  else if (n->type == NOTE_UPDATE && h->on_update != NULL)
    h->on_update(h->ctx, n->old_obj, n->new_obj);
  else if (n->type == NOTE_DELETE && h->on_delete != NULL)
    h->on_delete(h->ctx, n->new_obj);
}

static void resync(berth_k8s_informer_t *inf)
{
  json_t *all;
  json_t *obj;
  size_t i;

  pthread_mutex_lock(&inf->lock);
  all = berth__k8s_cache_list(inf->cache);
  inf->stats.resyncs++;
  pthread_mutex_unlock(&inf->lock);
  all = berth__k8s_cache_decode(inf->compact, all);
  json_array_foreach(all, i, obj)
  {
    if (inf->stopping)
      break;
    if (inf->h.on_update != NULL)
      inf->h.on_update(inf->h.ctx, obj, obj);
  }
  json_decref(all);
}

void *berth__k8s_informer_dispatch(void *arg)
{
  berth_k8s_informer_t *inf = arg;
  int64_t next_resync = berth_clock_monotonic_ms(NULL) + inf->resync_ms;
  struct timespec ts;
  berth__k8s_note_t *n;
  bool had_old;
  int64_t now;

  pthread_mutex_lock(&inf->lock);
  while (!inf->stopping) {
    n = inf->head;
    if (n != NULL) {
      inf->head = n->next;
      if (inf->head == NULL)
        inf->tail = NULL;
      pthread_mutex_unlock(&inf->lock);
      had_old = n->old_obj != NULL;
      n->old_obj = note_decode(inf, n->old_obj);
      n->new_obj = note_decode(inf, n->new_obj);
      if (n->new_obj != NULL && (n->old_obj != NULL || !had_old))
        notify(inf, n);
      else
        berth_log(BERTH_LOG_ERROR,
                  "k8s informer: out of memory, "
                  "notification lost",
                  "resource", inf->res.resource, NULL);
      note_free(n);
      pthread_mutex_lock(&inf->lock);
      continue;
    }
    now = berth_clock_monotonic_ms(NULL);
    if (inf->resync_ms > 0 && inf->synced && now >= next_resync) {
      pthread_mutex_unlock(&inf->lock);
      resync(inf);
      next_resync = berth_clock_monotonic_ms(NULL) + inf->resync_ms;
      pthread_mutex_lock(&inf->lock);
      continue;
    }
    if (inf->resync_ms > 0) {
      clock_gettime(CLOCK_MONOTONIC, &ts);
      now = next_resync - now;
      ts.tv_sec += now / 1000;
      ts.tv_nsec += (long)(now % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&inf->cond, &inf->lock, &ts);
    } else {
      pthread_cond_wait(&inf->cond, &inf->lock);
    }
  }
  pthread_mutex_unlock(&inf->lock);
  return NULL;
}

void berth__k8s_informer_drop_queue(berth_k8s_informer_t *inf)
{
  berth__k8s_note_t *n;

  pthread_mutex_lock(&inf->lock);
  while ((n = inf->head) != NULL) {
    inf->head = n->next;
    note_free(n);
  }
  inf->tail = NULL;
  pthread_mutex_unlock(&inf->lock);
}
