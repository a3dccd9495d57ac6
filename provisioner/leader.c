/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: leader election, see leader.h. */
#include "leader.h"

#include "berth/k8s_lease.h"
#include "berth/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum attempt {
  ATTEMPT_OK = 0, /* we hold the Lease */
  ATTEMPT_OTHER,  /* someone else holds it, validly */
  ATTEMPT_ERROR   /* could not tell */
} attempt_t;

struct prov_leader {
  berth_k8s_client_t *client;
  char *ns;
  char *name;
  char *identity;
  int64_t lease_ms;
  int64_t renew_ms;
  int64_t retry_ms;
  void (*on_lost)(void *ctx, const char *why);
  void *ctx;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stop;
  prov_leader_state_t state;
  berth_k8s_lease_t record; /* as last read or written */
  bool have_record;
  char observed_rv[64]; /* the holder's record we last saw change ... */
  int64_t observed_ms;  /* ... and when, on our monotonic clock */
  int64_t expiry_ms;    /* when the other holder's lease runs out */
  int64_t last_renew_ms;
  char last_holder[256]; /* for logging changes only */
  bool endpoints;        /* Leases forbidden: the Endpoints lock instead */
};

static int64_t mono(void)
{
  return berth_clock_monotonic_ms(NULL);
}

static void lease_log(prov_leader_t *l, berth_log_level_t lvl, const char *msg,
                      const char *k, const char *v)
{
  char lease[320];

  snprintf(lease, sizeof(lease), "%s/%s", l->ns, l->name);
  berth_log(lvl, msg, "lease", lease, "identity", l->identity, k, v, NULL);
}

/* RBAC forbids Leases (nfs-subdir-external-provisioner's leader-locking
 * Role grants Endpoints only): lock the Endpoints object of the same
 * name instead, as client-go's "endpoints" lock did, which also excludes
 * that tool's own replicas while both run. */
static bool fall_back(prov_leader_t *l, berth_status_t st,
                      const berth_error_t *err)
{
  if (st != BERTH_EFORBIDDEN || l->endpoints)
    return false;
  l->endpoints = true;
  l->have_record = false;
  l->observed_rv[0] = '\0';
  lease_log(l, BERTH_LOG_WARN,
            "Leases are forbidden: electing on the Endpoints lock of the same "
            "name instead (grant coordination.k8s.io leases get, create, "
            "update to use a Lease)",
            "error", err->message);
  return true;
}

static berth_status_t lock_get(prov_leader_t *l, berth_k8s_lease_t *out,
                               berth_error_t *err)
{
  berth_status_t st;

  if (l->endpoints)
    return berth_k8s_endpoints_lock_get(l->client, l->ns, l->name, out, err);
  st = berth_k8s_lease_get(l->client, l->ns, l->name, out, err);
  if (fall_back(l, st, err))
    st = berth_k8s_endpoints_lock_get(l->client, l->ns, l->name, out, err);
  return st;
}

/* Write rec (ours now) conditionally on its resourceVersion. */
static attempt_t write_record(prov_leader_t *l, berth_k8s_lease_t *rec,
                              bool create)
{
  berth_k8s_lease_t out;
  berth_error_t err;
  berth_status_t st;

  if (l->endpoints)
    st = berth_k8s_endpoints_lock_write(l->client, l->ns, l->name, rec, create,
                                        &out, &err);
  else
    st = create ? berth_k8s_lease_create(l->client, l->ns, l->name, rec, &out,
                                         &err)
                : berth_k8s_lease_update(l->client, l->ns, l->name, rec, &out,
                                         &err);
  if (st != BERTH_OK && fall_back(l, st, &err))
    return ATTEMPT_ERROR; /* the next attempt reads the Endpoints lock */
  if (st != BERTH_OK) {
    if (st != BERTH_ECONFLICT && st != BERTH_EEXIST)
      lease_log(l, BERTH_LOG_WARN, "lease write failed", "error", err.message);
    return ATTEMPT_ERROR;
  }
  l->record = out;
  l->have_record = true;
  return ATTEMPT_OK;
}

/* rec taken over by us at wall time now. */
static void claim_record(prov_leader_t *l, berth_k8s_lease_t *rec, int64_t now)
{
  if (strcmp(rec->holder_identity, l->identity) != 0) {
    rec->acquire_time_ms = now;
    rec->lease_transitions++;
  }
  berth_strlcpy(rec->holder_identity, l->identity,
                sizeof(rec->holder_identity));
  rec->lease_duration_seconds = (l->lease_ms + 999) / 1000;
  rec->renew_time_ms = now;
}

/* Read the Lease and decide. Unlocked: only the election thread writes
 * the record fields. */
static attempt_t read_and_try(prov_leader_t *l)
{
  berth_k8s_lease_t cur;
  berth_error_t err;
  berth_status_t st;
  int64_t ld;

  st = lock_get(l, &cur, &err);
  if (st == BERTH_ENOTFOUND) {
    memset(&cur, 0, sizeof(cur));
    claim_record(l, &cur, berth_clock_realtime_ms(NULL));
    cur.lease_transitions = 0;
    return write_record(l, &cur, true);
  }
  if (st != BERTH_OK) {
    lease_log(l, BERTH_LOG_WARN, "lease read failed", "error", err.message);
    return ATTEMPT_ERROR;
  }
  if (strcmp(cur.resource_version, l->observed_rv) != 0) {
    berth_strlcpy(l->observed_rv, cur.resource_version, sizeof(l->observed_rv));
    l->observed_ms = mono();
  }
  if (cur.holder_identity[0] != '\0' &&
      strcmp(cur.holder_identity, l->identity) != 0) {
    ld = cur.lease_duration_seconds > 0 ? cur.lease_duration_seconds * 1000
                                        : l->lease_ms;
    l->expiry_ms = l->observed_ms + ld;
    if (l->expiry_ms > mono()) {
      if (strcmp(l->last_holder, cur.holder_identity) != 0) {
        berth_strlcpy(l->last_holder, cur.holder_identity,
                      sizeof(l->last_holder));
        lease_log(l, BERTH_LOG_INFO, "standing by", "holder",
                  cur.holder_identity);
      }
      return ATTEMPT_OTHER;
    }
  }
  claim_record(l, &cur, berth_clock_realtime_ms(NULL));
  return write_record(l, &cur, false);
}

static attempt_t attempt(prov_leader_t *l, bool leading)
{
  berth_k8s_lease_t rec;

  /* The leader renews from the record it wrote: one request. */
  if (leading && l->have_record) {
    rec = l->record;
    rec.renew_time_ms = berth_clock_realtime_ms(NULL);
    if (write_record(l, &rec, false) == ATTEMPT_OK)
      return ATTEMPT_OK;
  }
  return read_and_try(l);
}

/* Locked. Returns true when it has just lost. */
static bool lose_locked(prov_leader_t *l)
{
  if (l->state != PROV_LEADER_LEADING)
    return false;
  l->state = PROV_LEADER_LOST;
  return true;
}

static void report_lost(prov_leader_t *l, const char *why)
{
  lease_log(l, BERTH_LOG_ERROR, "leadership lost", "reason", why);
  if (l->on_lost != NULL)
    l->on_lost(l->ctx, why);
}

static void timed_wait(prov_leader_t *l, int64_t ms)
{
  struct timespec ts;

  if (ms < 10)
    ms = 10;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&l->cond, &l->lock, &ts);
}

/* After an attempt: the new state and how long to wait. Locked. */
static int64_t step(prov_leader_t *l, attempt_t r, const char **lost)
{
  int64_t now = mono();
  int64_t wait = l->retry_ms;

  if (l->state == PROV_LEADER_LEADING) {
    if (r == ATTEMPT_OK)
      l->last_renew_ms = now;
    else if (r == ATTEMPT_OTHER && lose_locked(l))
      *lost = "another replica holds the lease";
    else if (now - l->last_renew_ms >= l->renew_ms && lose_locked(l))
      *lost = "not renewed within the renew deadline";
  } else if (r == ATTEMPT_OK) {
    l->state = PROV_LEADER_LEADING;
    l->last_renew_ms = now;
    l->last_holder[0] = '\0';
  } else {
    wait = l->retry_ms / 2;
    if (r == ATTEMPT_OTHER && l->expiry_ms - now < wait)
      wait = l->expiry_ms - now + 1;
  }
  return wait;
}

static void *run(void *arg)
{
  prov_leader_t *l = arg;
  const char *lost = NULL;
  bool leading;
  attempt_t r;
  int64_t wait;

  pthread_mutex_lock(&l->lock);
  while (!l->stop && l->state != PROV_LEADER_LOST) {
    leading = l->state == PROV_LEADER_LEADING;
    pthread_mutex_unlock(&l->lock);
    r = attempt(l, leading);
    pthread_mutex_lock(&l->lock);
    if (l->state == PROV_LEADER_LOST)
      break; /* prov_leader_check was faster */
    wait = step(l, r, &lost);
    if (!leading && l->state == PROV_LEADER_LEADING)
      lease_log(l, BERTH_LOG_INFO, "became leader", NULL, NULL);
    if (lost != NULL) {
      pthread_mutex_unlock(&l->lock);
      report_lost(l, lost);
      pthread_mutex_lock(&l->lock);
      break;
    }
    if (!l->stop)
      timed_wait(l, wait);
  }
  pthread_mutex_unlock(&l->lock);
  return NULL;
}

berth_status_t prov_leader_start(berth_k8s_client_t *client,
                                 const prov_leader_options_t *o,
                                 prov_leader_t **out, berth_error_t *err)
{
  prov_leader_t *l = calloc(1, sizeof(*l));
  pthread_condattr_t ca;
  const char *ns = o->namespace_name != NULL
                       ? o->namespace_name
                       : berth_k8s_client_namespace(client);

  if (l == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "leader: out of memory");
  l->client = client;
  l->ns = strdup(ns);
  l->name = strdup(o->name);
  l->identity = strdup(o->identity);
  l->lease_ms = o->lease_ms;
  l->renew_ms = o->renew_ms;
  l->retry_ms = o->retry_ms;
  l->on_lost = o->on_lost;
  l->ctx = o->ctx;
  pthread_mutex_init(&l->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&l->cond, &ca);
  pthread_condattr_destroy(&ca);
  if (l->ns == NULL || l->name == NULL || l->identity == NULL ||
      pthread_create(&l->thread, NULL, run, l) != 0) {
    free(l->ns);
    free(l->name);
    free(l->identity);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->lock);
    free(l);
    return berth_error_set(err, BERTH_ENOMEM, "leader: cannot start");
  }
  *out = l;
  return BERTH_OK;
}

prov_leader_state_t prov_leader_state(prov_leader_t *l)
{
  prov_leader_state_t s;

  pthread_mutex_lock(&l->lock);
  s = l->state;
  pthread_mutex_unlock(&l->lock);
  return s;
}

bool prov_leader_is_leading(prov_leader_t *l)
{
  return l != NULL && prov_leader_state(l) == PROV_LEADER_LEADING;
}

void prov_leader_check(prov_leader_t *l)
{
  bool lost;

  pthread_mutex_lock(&l->lock);
  lost = l->state == PROV_LEADER_LEADING &&
         mono() - l->last_renew_ms >= l->renew_ms && lose_locked(l);
  pthread_mutex_unlock(&l->lock);
  if (lost)
    report_lost(l, "not renewed within the renew deadline");
}

/* Give the Lease up: an empty holder that expires in a second, as
 * client-go's ReleaseOnCancel. */
static void release(prov_leader_t *l)
{
  berth_k8s_lease_t rec = l->record;
  int64_t now = berth_clock_realtime_ms(NULL);

  rec.holder_identity[0] = '\0';
  rec.lease_duration_seconds = 1;
  rec.acquire_time_ms = now;
  rec.renew_time_ms = now;
  if (write_record(l, &rec, false) == ATTEMPT_OK)
    lease_log(l, BERTH_LOG_INFO, "lease released", NULL, NULL);
}

void prov_leader_stop(prov_leader_t *l)
{
  if (l == NULL)
    return;
  pthread_mutex_lock(&l->lock);
  l->stop = true;
  pthread_cond_broadcast(&l->cond);
  pthread_mutex_unlock(&l->lock);
  pthread_join(l->thread, NULL);
  if (l->state == PROV_LEADER_LEADING && l->have_record) {
    release(l);
    l->state = PROV_LEADER_RELEASED;
  }
  free(l->ns);
  free(l->name);
  free(l->identity);
  pthread_cond_destroy(&l->cond);
  pthread_mutex_destroy(&l->lock);
  free(l);
}
