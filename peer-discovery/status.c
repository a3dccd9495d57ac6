/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: shared status and metrics, see status.h. */
#include "status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void peers_status_init(peers_status_t *s)
{
  pthread_mutex_init(&s->lock, NULL);
  s->peers_json = NULL;
  memset(&s->c, 0, sizeof(s->c));
}

void peers_status_cleanup(peers_status_t *s)
{
  if (s == NULL)
    return;
  free(s->peers_json);
  s->peers_json = NULL;
  pthread_mutex_destroy(&s->lock);
}

berth_status_t peers_status_set_json(peers_status_t *s, const char *json)
{
  char *copy = strdup(json);

  if (copy == NULL)
    return BERTH_ENOMEM;
  pthread_mutex_lock(&s->lock);
  free(s->peers_json);
  s->peers_json = copy;
  pthread_mutex_unlock(&s->lock);
  return BERTH_OK;
}

void peers_status_set_counters(peers_status_t *s, const peers_counters_t *c)
{
  pthread_mutex_lock(&s->lock);
  s->c = *c;
  pthread_mutex_unlock(&s->lock);
}

void peers_status_counters(peers_status_t *s, peers_counters_t *out)
{
  pthread_mutex_lock(&s->lock);
  *out = s->c;
  pthread_mutex_unlock(&s->lock);
}

berth_status_t peers_status_json(peers_status_t *s, berth_buf_t *out)
{
  berth_status_t st;

  pthread_mutex_lock(&s->lock);
  st = berth_buf_append_str(out, s->peers_json ? s->peers_json : "{}\n");
  pthread_mutex_unlock(&s->lock);
  return st;
}

/* One metric with its HELP and TYPE lines. */
static berth_status_t metric(berth_buf_t *out, const char *name,
                             const char *type, const char *help,
                             const char *value)
{
  return berth_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name,
                           help, name, type, name, value);
}

berth_status_t peers_metrics_format(const peers_counters_t *c, berth_buf_t *out)
{
  char v[8][32];
  berth_status_t st;

  snprintf(v[0], sizeof(v[0]), "%zu", c->members);
  snprintf(v[1], sizeof(v[1]), "%d", c->ready ? 1 : 0);
  snprintf(v[2], sizeof(v[2]), "%" PRIu64, c->changes);
  snprintf(v[3], sizeof(v[3]), "%" PRIu64, c->dns_queries);
  snprintf(v[4], sizeof(v[4]), "%" PRIu64, c->dns_failures);
  snprintf(v[5], sizeof(v[5]), "%" PRIu64, c->hook_runs);
  snprintf(v[6], sizeof(v[6]), "%" PRIu64, c->hook_failures);
  snprintf(v[7], sizeof(v[7]), "%" PRId64 ".%03d", c->last_change_ms / 1000,
           (int)(c->last_change_ms % 1000));
  st = metric(out, "berth_peers_members", "gauge",
              "Members in the settled membership.", v[0]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_ready", "gauge",
                "1 when this member is seen and --min-peers is met.", v[1]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_changes_total", "counter",
                "Settled membership changes.", v[2]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_dns_queries_total", "counter",
                "DNS queries asked.", v[3]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_dns_failures_total", "counter",
                "DNS queries that failed (not counting NXDOMAIN).", v[4]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_hook_runs_total", "counter", "Hook runs.",
                v[5]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_hook_failures_total", "counter",
                "Hook runs that failed, timed out or could not start.", v[6]);
  if (st == BERTH_OK)
    st = metric(out, "berth_peers_last_change_timestamp_seconds", "gauge",
                "Unix time of the last settled membership change.", v[7]);
  return st;
}
