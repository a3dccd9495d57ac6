/* SPDX-License-Identifier: Apache-2.0 */
/* bench/scale: create many objects on the test API server, fast.
 *
 *   scale-populate foreign N THREADS
 *       N PersistentVolumes of another provisioner, each pre-bound
 *       (spec.claimRef) to one of N claims of its StorageClass "other",
 *       then the N claims (10 namespaces scale-f-0..9): the server's PV
 *       controller binds each pair, as in a cluster where another
 *       provisioner made them
 *   scale-populate own M THREADS
 *       M claims of berth's class "scale-nfs" in namespace scale-own
 *
 * Objects are POSTed straight to the API server by THREADS threads over
 * keep-alive HTTPS connections (libberth's client, unthrottled): kubectl
 * would spend a process per object. Every object carries the
 * kubectl.kubernetes.io/last-applied-configuration annotation that
 * `kubectl apply` writes (a copy of the object), as in real clusters.
 * Prints key=value lines. Run by bench/scale/run.sh. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/clock.h"
#include "berth/k8s.h"

#define NAMESPACES 10
#define OTHER "example.com/other"
#define LAST "kubectl.kubernetes.io/last-applied-configuration"

static berth_k8s_client_t *client(void)
{
  berth_k8s_config_t cfg;
  berth_k8s_client_options_t o;
  berth_k8s_client_t *c = NULL;
  berth_error_t err;

  berth_k8s_config_init(&cfg);
  berth_k8s_client_options_init(&o);
  o.qps = -1;
  o.timeout_ms = 120000;
  if (berth_k8s_config_load(NULL, &cfg, &err) != BERTH_OK ||
      berth_k8s_client_create(&cfg, &o, &c, &err) != BERTH_OK) {
    fprintf(stderr, "scale-populate: %s\n", err.message);
    exit(1);
  }
  berth_k8s_config_cleanup(&cfg);
  return c;
}

/* Give obj the annotation kubectl apply leaves: the object as applied. */
static json_t *applied(json_t *obj)
{
  char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
  json_t *meta = json_object_get(obj, "metadata");
  json_t *ann = json_object_get(meta, "annotations");

  if (ann == NULL) {
    ann = json_object();
    json_object_set_new(meta, "annotations", ann);
  }
  json_object_set_new(ann, LAST, json_string(text));
  free(text);
  return obj;
}

static json_t *foreign_claim(int i)
{
  char name[32];
  char ns[32];

  snprintf(name, sizeof(name), "fc-%06d", i);
  snprintf(ns, sizeof(ns), "scale-f-%d", i % NAMESPACES);
  return applied(json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, "
      "s:{s:[s], s:{s:{s:s}}, s:s, s:s}}",
      "apiVersion", "v1", "kind", "PersistentVolumeClaim", "metadata", "name",
      name, "namespace", ns, "labels", "app", "other", "tier", "db", "spec",
      "accessModes", "ReadWriteOnce", "resources", "requests", "storage",
      "10Gi", "storageClassName", "other", "volumeMode", "Filesystem"));
}

static json_t *foreign_volume(int i)
{
  char name[32];
  char claim[32];
  char ns[32];
  char handle[64];

  snprintf(name, sizeof(name), "fpv-%06d", i);
  snprintf(claim, sizeof(claim), "fc-%06d", i);
  snprintf(ns, sizeof(ns), "scale-f-%d", i % NAMESPACES);
  snprintf(handle, sizeof(handle), "vol-0a1b2c3d4e5f%06d", i);
  return applied(json_pack(
      "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:{s:s}, s:[s], s:s, s:s, "
      "s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}}}",
      "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", name,
      "annotations", "pv.kubernetes.io/provisioned-by", OTHER, "spec",
      "capacity", "storage", "10Gi", "accessModes", "ReadWriteOnce",
      "persistentVolumeReclaimPolicy", "Delete", "storageClassName", "other",
      "claimRef", "apiVersion", "v1", "kind", "PersistentVolumeClaim",
      "namespace", ns, "name", claim, "csi", "driver", "ebs.csi.aws.com",
      "volumeHandle", handle, "fsType", "ext4"));
}

static json_t *own_claim(int i)
{
  char name[32];

  snprintf(name, sizeof(name), "own-%05d", i);
  return applied(json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:[s], s:{s:{s:s}}, s:s}}",
      "apiVersion", "v1", "kind", "PersistentVolumeClaim", "metadata", "name",
      name, "namespace", "scale-own", "labels", "app", "scale", "spec",
      "accessModes", "ReadWriteMany", "resources", "requests", "storage", "1Gi",
      "storageClassName", "scale-nfs"));
}

typedef struct {
  berth_k8s_client_t *c;
  const berth_k8s_resource_t *res;
  json_t *(*make)(int);
  int n;
  int threads;
  int id;
  int failed;
} pop_t;

static void *worker(void *arg)
{
  pop_t *p = arg;
  berth_error_t err;
  json_t *obj;
  int i;

  for (i = p->id; i < p->n; i += p->threads) {
    obj = p->make(i);
    if (berth_k8s_create(p->c, p->res, NULL, obj, NULL, &err) != BERTH_OK &&
        err.status != BERTH_EEXIST) {
      fprintf(stderr, "create %d: %s\n", i, err.message);
      p->failed++;
    }
    json_decref(obj);
  }
  return NULL;
}

/* Create n objects made by make, threads at a time; the failures. */
static int create_all(berth_k8s_client_t *c, const berth_k8s_resource_t *res,
                      json_t *(*make)(int), int n, int threads)
{
  pthread_t t[64];
  pop_t p[64];
  int failed = 0;
  int i;

  for (i = 0; i < threads; i++) {
    p[i] = (pop_t){c, res, make, n, threads, i, 0};
    pthread_create(&t[i], NULL, worker, &p[i]);
  }
  for (i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    failed += p[i].failed;
  }
  return failed;
}

static void namespace(berth_k8s_client_t *c, const char *name)
{
  json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
                          "Namespace", "metadata", "name", name);
  berth_error_t err;

  berth_k8s_create(c, &berth_k8s_res_namespaces, NULL, obj, NULL, &err);
  json_decref(obj);
}

int main(int argc, char **argv)
{
  berth_k8s_client_t *c;
  int64_t start;
  int n;
  int threads;
  int failed;
  char ns[32];
  int i;

  if (argc != 4 ||
      (strcmp(argv[1], "foreign") != 0 && strcmp(argv[1], "own") != 0)) {
    fprintf(stderr, "usage: scale-populate foreign|own N THREADS\n");
    return 2;
  }
  n = atoi(argv[2]);
  threads = atoi(argv[3]);
  if (threads < 1 || threads > 64)
    threads = 8;
  c = client();
  start = berth_clock_monotonic_ms(NULL);
  if (strcmp(argv[1], "foreign") == 0) {
    for (i = 0; i < NAMESPACES; i++) {
      snprintf(ns, sizeof(ns), "scale-f-%d", i);
      namespace(c, ns);
    }
    failed = create_all(c, &berth_k8s_res_persistentvolumes, foreign_volume, n,
                        threads);
    failed += create_all(c, &berth_k8s_res_persistentvolumeclaims,
                         foreign_claim, n, threads);
    n *= 2;
  } else {
    namespace(c, "scale-own");
    failed = create_all(c, &berth_k8s_res_persistentvolumeclaims, own_claim, n,
                        threads);
  }
  printf("populate_%s_objects=%d\npopulate_%s_ms=%lld\n", argv[1], n, argv[1],
         (long long)(berth_clock_monotonic_ms(NULL) - start));
  berth_k8s_client_destroy(c);
  return failed == 0 ? 0 : 1;
}
