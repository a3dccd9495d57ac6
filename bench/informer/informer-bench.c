/* SPDX-License-Identifier: Apache-2.0 */
/* informer-bench: how fast and how big libberth's informer is.
 *
 *   informer-bench sync [whole|trimmed|foreign]
 *       list+watch every claim and volume into two informers; print the
 *       time until both are synced, the objects cached, the resident and
 *       peak RSS. whole (the default): objects cached as they come;
 *       trimmed: a transform drops managedFields and kubectl's
 *       last-applied-configuration and the cache is compact (text);
 *       foreign: a transform keeps nothing, as for objects of another
 *       provisioner. With a transform, the watches cut managedFields
 *       before parsing (berth_k8s_watch_decoder_drop_managed_fields)
 *   informer-bench churn N [whole|trimmed|foreign]
 *       sync, then patch N of the first 1,000 claims bench/scale's
 *       scale-populate made (fc-000000... in scale-f-0..9) from another
 *       client and time how long the informer takes to see every change
 *       (end-to-end events/s)
 *   informer-bench decode N [OBJECT.json|- [drop]]
 *       feed N watch events of a claim (OBJECT.json: one as a real server
 *       sent it; otherwise a small one made here) through the incremental
 *       decoder (no network): events decoded per second; drop: with
 *       managedFields cut before parsing
 *
 * Run by bench/informer/run.sh (and bench/scale/bench_scale.py), which
 * build it without sanitizers and start the bed's real control plane; the
 * objects come from bench/scale/scale-populate. Figures go to standard
 * output as * "key=value" lines. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "berth/clock.h"
#include "berth/k8s.h"
#include "berth/k8s_informer.h"
#include "berth/k8s_watch.h"

#define NAMESPACES 10
/* churn patches the first claims that bench/scale/scale-populate made. */
#define CHURN_CLAIMS 1000

static berth_k8s_client_t *client(double qps)
{
  berth_k8s_config_t cfg;
  berth_k8s_client_options_t o;
  berth_k8s_client_t *c = NULL;
  berth_error_t err;

  berth_k8s_config_init(&cfg);
  berth_k8s_client_options_init(&o);
  o.qps = qps;
  o.burst = 1000;
  if (berth_k8s_config_load(NULL, &cfg, &err) != BERTH_OK ||
      berth_k8s_client_create(&cfg, &o, &c, &err) != BERTH_OK) {
    fprintf(stderr, "informer-bench: %s\n", err.message);
    exit(1);
  }
  berth_k8s_config_cleanup(&cfg);
  return c;
}

/* VmRSS, after handing free heap memory back (malloc_trim) when trim. */
static long rss_kib(bool trim)
{
  char line[256];
  long v = -1;
  FILE *f;

#ifdef __GLIBC__
  if (trim)
    malloc_trim(0);
#else
  (void)trim;
#endif
  f = fopen("/proc/self/status", "r");
  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "VmRSS:", 6) == 0)
      v = atol(line + 6);
  if (f != NULL)
    fclose(f);
  return v;
}

static json_t *trimmed(void *ctx, json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");

  (void)ctx;
  json_object_del(meta, "managedFields");
  json_object_del(json_object_get(meta, "annotations"),
                  "kubectl.kubernetes.io/last-applied-configuration");
  return json_incref(obj);
}

static json_t *foreign(void *ctx, json_t *obj)
{
  (void)ctx;
  (void)obj;
  return NULL;
}

/* VmHWM: the peak resident set of this process image (getrusage's
 * ru_maxrss would carry a larger parent's peak across exec). */
static long peak_rss_kib(void)
{
  char line[256];
  long v = -1;
  FILE *f = fopen("/proc/self/status", "r");

  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "VmHWM:", 6) == 0)
      v = atol(line + 6);
  if (f != NULL)
    fclose(f);
  return v;
}

static json_t *claim(int i)
{
  char name[32];
  char ns[32];

  snprintf(name, sizeof(name), "claim-%05d", i);
  snprintf(ns, sizeof(ns), "bench-%d", i % NAMESPACES);
  return json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:{s:s}}, "
      "s:{s:[s], s:{s:{s:s}}, s:s, s:s}}",
      "apiVersion", "v1", "kind", "PersistentVolumeClaim", "metadata", "name",
      name, "namespace", ns, "labels", "app", "bench", "tier", "db",
      "annotations", "volume.beta.kubernetes.io/storage-class", "bench", "spec",
      "accessModes", "ReadWriteOnce", "resources", "requests", "storage",
      "10Gi", "storageClassName", "bench", "volumeMode", "Filesystem");
}

typedef struct {
  pthread_mutex_t lock;
  long updates;
} counter_t;

static void count_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  counter_t *n = ctx;

  (void)old_obj;
  (void)new_obj;
  pthread_mutex_lock(&n->lock);
  n->updates++;
  pthread_mutex_unlock(&n->lock);
}

static int sync_and_churn(int churn, const char *mode)
{
  berth_k8s_client_t *c = client(0);
  berth_k8s_informer_options_t o;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_t *claims = NULL;
  berth_k8s_informer_t *volumes = NULL;
  berth_k8s_informer_stats_t stats;
  counter_t n;
  berth_error_t err;
  long rss_before = peak_rss_kib();
  int64_t start;
  int64_t synced;
  int i;

  pthread_mutex_init(&n.lock, NULL);
  n.updates = 0;
  memset(&h, 0, sizeof(h));
  h.on_update = count_update;
  h.ctx = &n;
  memset(&o, 0, sizeof(o));
  o.index_labels = true;
  if (strcmp(mode, "trimmed") == 0) {
    o.transform = trimmed;
    o.compact = true;
  } else if (strcmp(mode, "foreign") == 0) {
    o.transform = foreign;
  } else if (strcmp(mode, "whole") != 0) {
    fprintf(stderr, "informer-bench: unknown mode %s\n", mode);
    return 2;
  }
  printf("mode=%s\n", mode);
  start = berth_clock_monotonic_ms(NULL);
  o.resource = &berth_k8s_res_persistentvolumeclaims;
  if (berth_k8s_informer_create(c, &o, &h, &claims, &err) != BERTH_OK ||
      berth_k8s_informer_start(claims, &err) != BERTH_OK)
    goto fail;
  o.resource = &berth_k8s_res_persistentvolumes;
  if (berth_k8s_informer_create(c, &o, NULL, &volumes, &err) != BERTH_OK ||
      berth_k8s_informer_start(volumes, &err) != BERTH_OK)
    goto fail;
  if (!berth_k8s_informer_wait_for_sync(claims, 600000) ||
      !berth_k8s_informer_wait_for_sync(volumes, 600000)) {
    fprintf(stderr, "informer-bench: not synced\n");
    return 1;
  }
  synced = berth_clock_monotonic_ms(NULL) - start;
  printf("sync_ms=%lld\ncached_claims=%zu\ncached_volumes=%zu\n"
         "peak_rss_kib_before=%ld\npeak_rss_kib_synced=%ld\n"
         "rss_kib_synced=%ld\nrss_kib_synced_trimmed=%ld\n",
         (long long)synced, berth_k8s_informer_count(claims),
         berth_k8s_informer_count(volumes), rss_before, peak_rss_kib(),
         rss_kib(false), rss_kib(true));
  if (churn > 0) {
    berth_k8s_client_t *w = client(-1);
    json_t *patch;
    char name[32];
    char ns[32];
    char round[32];
    int64_t t0 = berth_clock_monotonic_ms(NULL);
    int64_t wrote;
    long seen;

    for (i = 0; i < churn; i++) {
      snprintf(name, sizeof(name), "fc-%06d", i % CHURN_CLAIMS);
      snprintf(ns, sizeof(ns), "scale-f-%d", (i % CHURN_CLAIMS) % NAMESPACES);
      snprintf(round, sizeof(round), "r%d", i);
      patch = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "round", round);
      if (berth_k8s_patch(w, &berth_k8s_res_persistentvolumeclaims, ns, name,
                          NULL, BERTH_K8S_PATCH_MERGE, patch, NULL,
                          &err) != BERTH_OK)
        fprintf(stderr, "patch: %s\n", err.message);
      json_decref(patch);
    }
    wrote = berth_clock_monotonic_ms(NULL) - t0;
    for (;;) {
      pthread_mutex_lock(&n.lock);
      seen = n.updates;
      pthread_mutex_unlock(&n.lock);
      if (seen >= churn || berth_clock_monotonic_ms(NULL) - t0 > 600000)
        break;
      berth_clock_sleep_ms(NULL, 5);
    }
    t0 = berth_clock_monotonic_ms(NULL) - t0;
    printf("churn_updates=%d\nchurn_write_ms=%lld\nchurn_seen=%ld\n"
           "churn_seen_ms=%lld\nchurn_events_per_s=%.0f\n",
           churn, (long long)wrote, seen, (long long)t0,
           t0 > 0 ? seen * 1000.0 / (double)t0 : 0.0);
    berth_k8s_client_destroy(w);
  }
  berth_k8s_informer_get_stats(claims, &stats);
  printf("claims_lists=%llu\nclaims_watch_events=%llu\n"
         "peak_rss_kib_end=%ld\n",
         (unsigned long long)stats.lists, (unsigned long long)stats.events,
         peak_rss_kib());
  berth_k8s_informer_destroy(claims);
  berth_k8s_informer_destroy(volumes);
  berth_k8s_client_destroy(c);
  return 0;

fail:
  fprintf(stderr, "informer-bench: %s\n", err.message);
  return 1;
}

static berth_status_t count_event(void *ctx, berth_k8s_event_type_t type,
                                  json_t *obj)
{
  (void)type;
  (void)obj;
  (*(long *)ctx)++;
  return BERTH_OK;
}

/* A claim as a server sends it: read from path (a GET of a real one), or
 * a small one made here (with status and the metadata the server adds,
 * but no managedFields). New reference; NULL when path cannot be read. */
static json_t *sample(const char *path)
{
  json_error_t jerr;
  json_t *obj;

  if (path != NULL) {
    obj = json_load_file(path, 0, &jerr);
    if (obj == NULL)
      fprintf(stderr, "informer-bench: %s: %s\n", path, jerr.text);
    return obj;
  }
  obj = claim(1);
  json_object_set_new(json_object_get(obj, "metadata"), "uid",
                      json_string("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
  json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                      json_string("123456"));
  json_object_set_new(json_object_get(obj, "metadata"), "creationTimestamp",
                      json_string("2026-11-25T15:18:33Z"));
  json_object_set_new(json_object_get(obj, "metadata"), "finalizers",
                      json_pack("[s]", "kubernetes.io/pvc-protection"));
  json_object_set_new(obj, "status",
                      json_pack("{s:s, s:[s], s:{s:s}}", "phase", "Bound",
                                "accessModes", "ReadWriteOnce", "capacity",
                                "storage", "10Gi"));
  return obj;
}

/* This process's CPU time, user and system. */
static double cpu_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int decode(int n, const char *path, bool drop)
{
  json_t *obj = sample(path);
  json_t *ev;
  char *line;
  size_t len;
  char *stream;
  size_t off = 0;
  size_t chunk = 16384;
  berth_k8s_watch_decoder_t *dec = NULL;
  long events = 0;
  int64_t start;
  int64_t took;
  double cpu0;
  double cpu;
  int i;

  if (obj == NULL)
    return 1;
  ev = json_pack("{s:s, s:o}", "type", "MODIFIED", "object", obj);
  line = json_dumps(ev, JSON_COMPACT);
  len = strlen(line);
  stream = malloc((len + 1) * 1000);
  for (i = 0; i < 1000; i++) {
    memcpy(stream + off, line, len);
    off += len;
    stream[off++] = '\n';
  }
  berth_k8s_watch_decoder_create(0, count_event, &events, &dec);
  berth_k8s_watch_decoder_drop_managed_fields(dec, drop);
  cpu0 = cpu_ms();
  start = berth_clock_monotonic_ms(NULL);
  for (i = 0; i < n / 1000; i++) {
    /* In network-sized chunks, so that lines straddle them. */
    for (off = 0; off < (len + 1) * 1000; off += chunk)
      berth_k8s_watch_decoder_feed(
          dec, stream + off,
          off + chunk <= (len + 1) * 1000 ? chunk : (len + 1) * 1000 - off);
  }
  took = berth_clock_monotonic_ms(NULL) - start;
  cpu = cpu_ms() - cpu0;
  /* On a shared machine the CPU time is the steadier figure. */
  printf("decode_cpu_ms=%.0f\ndecode_events_per_cpu_s=%.0f\n", cpu,
         cpu > 0 ? events * 1000.0 / cpu : 0.0);
  printf("decode_drop_managed_fields=%d\ndecode_events=%ld\ndecode_event_bytes="
         "%zu\ndecode_ms=%lld\n"
         "decode_events_per_s=%.0f\ndecode_mib_per_s=%.1f\n",
         drop, events, len + 1, (long long)took,
         took > 0 ? events * 1000.0 / (double)took : 0.0,
         took > 0 ? (double)events * (double)(len + 1) / 1048576.0 * 1000.0 /
                        (double)took
                  : 0.0);
  berth_k8s_watch_decoder_destroy(dec);
  free(stream);
  free(line);
  json_decref(ev);
  return 0;
}

int main(int argc, char **argv)
{
  if ((argc == 2 || argc == 3) && strcmp(argv[1], "sync") == 0)
    return sync_and_churn(0, argc == 3 ? argv[2] : "whole");
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "churn") == 0)
    return sync_and_churn(atoi(argv[2]), argc == 4 ? argv[3] : "whole");
  if (argc >= 3 && argc <= 5 && strcmp(argv[1], "decode") == 0)
    return decode(atoi(argv[2]),
                  argc >= 4 && strcmp(argv[3], "-") != 0 ? argv[3] : NULL,
                  argc == 5 && strcmp(argv[4], "drop") == 0);
  fprintf(stderr, "usage: informer-bench sync [whole|trimmed|foreign] | "
                  "churn N [MODE] | decode N [OBJECT.json|- [drop]]\n");
  return 2;
}
