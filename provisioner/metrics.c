/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: metrics, see metrics.h.
 *
 * Each metric family keeps its series in a small array searched linearly
 * by their formatted label set: classes, verbs and backends are few. The
 * per-volume usage series are as many as volumes, which is still small
 * next to the informers' caches. */
#include "metrics.h"

#include "berth/process.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prometheus' default buckets, stretched to 5 minutes for slow backends. */
static const double bucket_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                   2.5,   5,    10,    30,   60,  120,  300};
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

typedef struct hist {
  uint64_t counts[NBUCKETS]; /* per bucket, not cumulative */
  uint64_t count;
  double sum;
} hist_t;

typedef struct series {
  char *labels; /* formatted: class="x",verb="y" */
  uint64_t ok;
  uint64_t failed;
  uint64_t bytes; /* usage only */
  uint64_t files;
  uint64_t capacity; /* usage only: the PV's capacity */
  hist_t hist;
} series_t;

typedef struct family {
  series_t *s;
  size_t n;
  size_t cap;
} family_t;

struct prov_metrics {
  pthread_mutex_t lock;
  uint64_t clone_files; /* entries copied by clones */
  uint64_t clone_bytes; /* bytes of file contents copied by clones */
  family_t provision;
  family_t del;
  family_t api;
  family_t backend;
  family_t usage;
  family_t rest;     /* rest_client_requests_total{code,method} */
  family_t rest_lat; /* rest_client_request_duration_seconds{verb} */
  prov_metrics_collect_fn collect;
  void *collect_ctx;
  /* The sweep (sweep.c): passes, storage removed, failures. */
  uint64_t sweep_runs;
  uint64_t sweep_removed;
  uint64_t sweep_errors;
};

void prov_metrics_escape(berth_buf_t *out, const char *v)
{
  for (; v != NULL && *v != '\0'; v++) {
    if (*v == '\\')
      berth_buf_append_str(out, "\\\\");
    else if (*v == '"')
      berth_buf_append_str(out, "\\\"");
    else if (*v == '\n')
      berth_buf_append_str(out, "\\n");
    else
      berth_buf_append_byte(out, *v);
  }
}

/* k1="v1"[,k2="v2"] as a new string, or NULL. */
static char *labels2(const char *k1, const char *v1, const char *k2,
                     const char *v2)
{
  berth_buf_t b;

  berth_buf_init(&b);
  berth_buf_appendf(&b, "%s=\"", k1);
  prov_metrics_escape(&b, v1 != NULL ? v1 : "");
  berth_buf_append_byte(&b, '"');
  if (k2 != NULL) {
    berth_buf_appendf(&b, ",%s=\"", k2);
    prov_metrics_escape(&b, v2 != NULL ? v2 : "");
    berth_buf_append_byte(&b, '"');
  }
  return berth_buf_detach(&b);
}

/* The series of f with labels (taken over), made when missing; NULL when
 * out of memory. Locked. */
static series_t *series_get(family_t *f, char *labels)
{
  size_t i;

  if (labels == NULL)
    return NULL;
  for (i = 0; i < f->n; i++) {
    if (strcmp(f->s[i].labels, labels) == 0) {
      free(labels);
      return &f->s[i];
    }
  }
  if (f->n == f->cap) {
    size_t cap = f->cap == 0 ? 8 : f->cap * 2;
    series_t *s = realloc(f->s, cap * sizeof(*s));
    if (s == NULL) {
      free(labels);
      return NULL;
    }
    f->s = s;
    f->cap = cap;
  }
  memset(&f->s[f->n], 0, sizeof(f->s[f->n]));
  f->s[f->n].labels = labels;
  return &f->s[f->n++];
}

static void family_cleanup(family_t *f)
{
  size_t i;

  for (i = 0; i < f->n; i++)
    free(f->s[i].labels);
  free(f->s);
  memset(f, 0, sizeof(*f));
}

static void hist_observe(hist_t *h, double v)
{
  size_t i;

  for (i = 0; i < NBUCKETS && v > bucket_le[i]; i++)
    ;
  if (i < NBUCKETS)
    h->counts[i]++;
  h->count++;
  h->sum += v;
}

berth_status_t prov_metrics_create(prov_metrics_t **out)
{
  prov_metrics_t *m = calloc(1, sizeof(*m));

  if (m == NULL)
    return BERTH_ENOMEM;
  pthread_mutex_init(&m->lock, NULL);
  *out = m;
  return BERTH_OK;
}

void prov_metrics_destroy(prov_metrics_t *m)
{
  if (m == NULL)
    return;
  family_cleanup(&m->provision);
  family_cleanup(&m->del);
  family_cleanup(&m->api);
  family_cleanup(&m->backend);
  family_cleanup(&m->usage);
  family_cleanup(&m->rest);
  family_cleanup(&m->rest_lat);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

void prov_metrics_set_collector(prov_metrics_t *m, prov_metrics_collect_fn fn,
                                void *ctx)
{
  pthread_mutex_lock(&m->lock);
  m->collect = fn;
  m->collect_ctx = ctx;
  pthread_mutex_unlock(&m->lock);
}

/* Count an outcome in family f, and its duration when it succeeded (as
 * the sig-storage library: failed attempts are not timed). */
static void outcome(prov_metrics_t *m, family_t *f, char *labels, bool ok,
                    double seconds, bool time_failures)
{
  series_t *s;

  pthread_mutex_lock(&m->lock);
  s = series_get(f, labels);
  if (s != NULL) {
    if (ok)
      s->ok++;
    else
      s->failed++;
    if (ok || time_failures)
      hist_observe(&s->hist, seconds);
  }
  pthread_mutex_unlock(&m->lock);
}

void prov_metrics_class_init(prov_metrics_t *m, const char *cls)
{
  pthread_mutex_lock(&m->lock);
  series_get(&m->provision, labels2("class", cls, NULL, NULL));
  series_get(&m->del, labels2("class", cls, NULL, NULL));
  pthread_mutex_unlock(&m->lock);
}

void prov_metrics_backend_init(prov_metrics_t *m, const char *backend,
                               const char *op)
{
  pthread_mutex_lock(&m->lock);
  series_get(&m->backend, labels2("backend", backend, "operation", op));
  pthread_mutex_unlock(&m->lock);
}

void prov_metrics_provision(prov_metrics_t *m, const char *cls, bool ok,
                            double seconds)
{
  outcome(m, &m->provision, labels2("class", cls, NULL, NULL), ok, seconds,
          false);
}

void prov_metrics_delete(prov_metrics_t *m, const char *cls, bool ok,
                         double seconds)
{
  outcome(m, &m->del, labels2("class", cls, NULL, NULL), ok, seconds, false);
}

void prov_metrics_api(prov_metrics_t *m, const char *verb, long code)
{
  char c[16];

  snprintf(c, sizeof(c), "%ld", code);
  outcome(m, &m->api, labels2("verb", verb, "code", c), true, 0, false);
}

void prov_metrics_backend(prov_metrics_t *m, const char *backend,
                          const char *op, bool ok, double seconds)
{
  outcome(m, &m->backend, labels2("backend", backend, "operation", op), ok,
          seconds, true);
}

void prov_metrics_rest(void *ctx, const char *method, long code, double seconds)
{
  prov_metrics_t *m = ctx;
  char c[24];

  if (code > 0)
    snprintf(c, sizeof(c), "%ld", code);
  else
    berth_strlcpy(c, "<error>", sizeof(c)); /* client-go's word */
  outcome(m, &m->rest, labels2("code", c, "method", method), true, 0, false);
  outcome(m, &m->rest_lat, labels2("verb", method, NULL, NULL), true, seconds,
          false);
}

void prov_metrics_usage(prov_metrics_t *m, const char *pv, const char *cls,
                        uint64_t bytes, uint64_t files, uint64_t capacity)
{
  series_t *s;

  pthread_mutex_lock(&m->lock);
  s = series_get(&m->usage, labels2("persistentvolume", pv, "class", cls));
  if (s != NULL) {
    s->bytes = bytes;
    s->files = files;
    s->capacity = capacity;
  }
  pthread_mutex_unlock(&m->lock);
}

void prov_metrics_usage_forget(prov_metrics_t *m, const char *pv)
{
  char *prefix = labels2("persistentvolume", pv, NULL, NULL);
  size_t n = prefix != NULL ? strlen(prefix) : 0;
  family_t *f = &m->usage;
  size_t i;

  pthread_mutex_lock(&m->lock);
  for (i = 0; prefix != NULL && i < f->n; i++) {
    if (strncmp(f->s[i].labels, prefix, n) == 0 && f->s[i].labels[n] == ',') {
      free(f->s[i].labels);
      f->s[i] = f->s[--f->n];
      break;
    }
  }
  pthread_mutex_unlock(&m->lock);
  free(prefix);
}

uint64_t prov_metrics_provisioned(prov_metrics_t *m)
{
  uint64_t n = 0;
  size_t i;

  pthread_mutex_lock(&m->lock);
  for (i = 0; i < m->provision.n; i++)
    n += m->provision.s[i].ok;
  pthread_mutex_unlock(&m->lock);
  return n;
}

/* ---- exposition ---------------------------------------------------------- */

static void header(berth_buf_t *out, const char *name, const char *type,
                   const char *help)
{
  berth_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                    type);
}

/* One counter per series: value ok (or failed). */
static void counters(berth_buf_t *out, const family_t *f, const char *name,
                     const char *help, bool failed)
{
  size_t i;

  header(out, name, "counter", help);
  for (i = 0; i < f->n; i++)
    berth_buf_appendf(
        out, "%s{%s} %llu\n", name, f->s[i].labels,
        (unsigned long long)(failed ? f->s[i].failed : f->s[i].ok));
}

static void histograms(berth_buf_t *out, const family_t *f, const char *name,
                       const char *help)
{
  size_t i;
  size_t b;

  header(out, name, "histogram", help);
  for (i = 0; i < f->n; i++) {
    const series_t *s = &f->s[i];
    uint64_t cum = 0;
    for (b = 0; b < NBUCKETS; b++) {
      cum += s->hist.counts[b];
      berth_buf_appendf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, s->labels,
                        bucket_le[b], (unsigned long long)cum);
    }
    berth_buf_appendf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, s->labels,
                      (unsigned long long)s->hist.count);
    berth_buf_appendf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name,
                      s->labels, s->hist.sum, name, s->labels,
                      (unsigned long long)s->hist.count);
  }
}

static void usage_gauges(berth_buf_t *out, const family_t *f)
{
  size_t i;

  header(out, "berth_provisioner_volume_usage_bytes", "gauge",
         "Bytes in the regular files of a volume, from its last bounded "
         "walk.");
  for (i = 0; i < f->n; i++)
    berth_buf_appendf(out, "berth_provisioner_volume_usage_bytes{%s} %llu\n",
                      f->s[i].labels, (unsigned long long)f->s[i].bytes);
  header(out, "berth_provisioner_volume_usage_files", "gauge",
         "Entries below a volume's root, from its last bounded walk.");
  for (i = 0; i < f->n; i++)
    berth_buf_appendf(out, "berth_provisioner_volume_usage_files{%s} %llu\n",
                      f->s[i].labels, (unsigned long long)f->s[i].files);
  header(out, "berth_provisioner_volume_capacity_bytes", "gauge",
         "The capacity of a measured volume (its PV's), to compare usage "
         "with: NFS directories are not held to it.");
  for (i = 0; i < f->n; i++)
    berth_buf_appendf(out, "berth_provisioner_volume_capacity_bytes{%s} %llu\n",
                      f->s[i].labels, (unsigned long long)f->s[i].capacity);
}

void prov_metrics_clone(prov_metrics_t *m, uint64_t files, uint64_t bytes)
{
  pthread_mutex_lock(&m->lock);
  m->clone_files += files;
  m->clone_bytes += bytes;
  pthread_mutex_unlock(&m->lock);
}

static void clone_counters(berth_buf_t *out, const prov_metrics_t *m)
{
  header(out, "berth_provisioner_clone_files_total", "counter",
         "Entries (files, directories, links) copied into clones.");
  berth_buf_appendf(out, "berth_provisioner_clone_files_total %llu\n",
                    (unsigned long long)m->clone_files);
  header(out, "berth_provisioner_clone_bytes_total", "counter",
         "Bytes of file contents copied into clones.");
  berth_buf_appendf(out, "berth_provisioner_clone_bytes_total %llu\n",
                    (unsigned long long)m->clone_bytes);
}

static void sweep_counter(berth_buf_t *out, const char *name, const char *help,
                          uint64_t v)
{
  header(out, name, "counter", help);
  berth_buf_appendf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void sweep_counters(berth_buf_t *out, const prov_metrics_t *m)
{
  sweep_counter(out, "berth_provisioner_sweep_runs_total",
                "Passes of the sweep of storage whose claim and PV are gone.",
                m->sweep_runs);
  sweep_counter(out, "berth_provisioner_sweep_removed_total",
                "Storage the sweep removed: its claim and PV were both gone.",
                m->sweep_removed);
  sweep_counter(out, "berth_provisioner_sweep_errors_total",
                "Sweep steps that failed (a listing, a GET, a delete).",
                m->sweep_errors);
}

void prov_metrics_sweep(prov_metrics_t *m, unsigned runs, unsigned removed,
                        unsigned errors)
{
  pthread_mutex_lock(&m->lock);
  m->sweep_runs += runs;
  m->sweep_removed += removed;
  m->sweep_errors += errors;
  pthread_mutex_unlock(&m->lock);
}

berth_status_t prov_metrics_format(prov_metrics_t *m, berth_buf_t *out)
{
  prov_metrics_collect_fn collect;
  void *ctx;

  berth_build_info_format(out, "berth_build_info", "berth-provisioner");
  berth_process_metrics_format(out);
  pthread_mutex_lock(&m->lock);
  counters(out, &m->rest, "rest_client_requests_total",
           "Number of HTTP requests to the Kubernetes API, partitioned by "
           "status code and method.",
           false);
  histograms(out, &m->rest_lat, "rest_client_request_duration_seconds",
             "Request latency in seconds to the Kubernetes API, by verb.");
  counters(
      out, &m->provision, "controller_persistentvolumeclaim_provision_total",
      "Total number of persistent volumes provisioned successfully.", false);
  counters(out, &m->provision,
           "controller_persistentvolumeclaim_provision_failed_total",
           "Total number of persistent volume provision failed attempts.",
           true);
  histograms(out, &m->provision,
             "controller_persistentvolumeclaim_provision_duration_seconds",
             "Latency in seconds to provision persistent volumes. Failed "
             "provisioning attempts are ignored.");
  counters(out, &m->del, "controller_persistentvolume_delete_total",
           "Total number of persistent volumes deleted successfully.", false);
  counters(out, &m->del, "controller_persistentvolume_delete_failed_total",
           "Total number of persistent volume delete failed attempts.", true);
  histograms(out, &m->del,
             "controller_persistentvolume_delete_duration_seconds",
             "Latency in seconds to delete persistent volumes. Failed "
             "deletion attempts are ignored.");
  counters(out, &m->api, "berth_provisioner_api_requests_total",
           "Kubernetes API requests made by the controller, by verb and "
           "HTTP code (0: no answer).",
           false);
  histograms(out, &m->backend, "berth_provisioner_backend_duration_seconds",
             "Latency of backend calls, failures included.");
  counters(out, &m->backend, "berth_provisioner_backend_errors_total",
           "Backend calls that failed.", true);
  usage_gauges(out, &m->usage);
  clone_counters(out, m);
  sweep_counters(out, m);
  collect = m->collect;
  ctx = m->collect_ctx;
  pthread_mutex_unlock(&m->lock);
  if (collect != NULL)
    collect(ctx, out);
  return out->data != NULL ? BERTH_OK : BERTH_ENOMEM;
}
