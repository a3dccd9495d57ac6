/* SPDX-License-Identifier: Apache-2.0 */
/* bench/scale: create many claims and volumes on the API server, fast.
 *
 *   scale-populate foreign N THREADS [FROM]
 *       pairs FROM..N-1 (FROM 0 when not given) of a claim of class
 *       "other" (10 namespaces scale-f-0..9) and its PersistentVolume, as
 *       another CSI provisioner ("example.com/other") and the PV binder
 *       leave them once bound: both Bound, the claim naming the volume
 *       (spec.volumeName, bind-completed), the volume the claim
 *       (spec.claimRef with its uid). With SCALE_POPULATE_UNTIL set (Unix
 *       time), no pair is begun after it: populate_foreign_reached is
 *       the N made
 *   scale-populate own M THREADS
 *       M claims of berth's class "scale-nfs" in namespace scale-own
 *   scale-populate check N
 *       count the claims and volumes of class "other" that are Bound,
 *       and the binder's ClaimLost Events
 *
 * Why the foreign pairs are written already bound (read kube-controller-
 * manager's pkg/controller/volume/persistentvolume/pv_controller.go):
 * a claim without spec.volumeName makes the binder search every volume
 * for a match (findBestMatchForClaim), so binding N pairs costs it N x N
 * volume checks, then four writes a pair from one worker; a claim of an
 * external provisioner with no volume gets an Event at every 15 s resync.
 * A claim created naming its volume takes the binder's direct path (a
 * cache lookup, no write while the volume is missing), and once the
 * volume points back at it by uid and both are Bound with the claim's
 * bind-completed annotation, the binder's sync finds "already correctly
 * bound" and writes nothing. So per pair: create the claim (for its uid),
 * create the volume, then the volume's status, the claim's status and
 * the claim's annotations, in that order (the claim is never marked
 * bind-completed before its volume exists: that would be ClaimLost; the
 * annotations come in a second pass). All five are ours, from THREADS threads
 * in parallel, instead of the binder's single worker's.
 *
 * Objects are POSTed straight to the API server named by $KUBECONFIG over
 * keep-alive HTTPS connections (libberth's client, unthrottled): kubectl
 * would spend a process per object. Every object carries the
 * kubectl.kubernetes.io/last-applied-configuration annotation that
 * `kubectl apply` writes (a copy of the object) and the server's
 * managedFields, as in real clusters. Prints key=value lines. Run by
 * bench/scale/run.sh and bench/informer/run.sh. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
  o.user_agent = "scale-populate";
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

static void pair_names(int i, char *claim, char *volume, char *ns)
{
  snprintf(claim, 32, "fc-%06d", i);
  snprintf(volume, 32, "fpv-%06d", i);
  snprintf(ns, 32, "scale-f-%d", i % NAMESPACES);
}

/* The claim as its user applied it (naming its volume, as a claim does
 * once bound), with what the binder adds on top: the provisioner it was
 * handed to. */
static json_t *foreign_claim(int i)
{
  char name[32];
  char volume[32];
  char ns[32];
  json_t *obj;
  json_t *ann;

  pair_names(i, name, volume, ns);
  obj = applied(json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, "
                          "s:{s:[s], s:{s:{s:s}}, s:s, s:s, s:s}}",
                          "apiVersion", "v1", "kind", "PersistentVolumeClaim",
                          "metadata", "name", name, "namespace", ns, "labels",
                          "app", "other", "tier", "db", "spec", "accessModes",
                          "ReadWriteOnce", "resources", "requests", "storage",
                          "10Gi", "storageClassName", "other", "volumeMode",
                          "Filesystem", "volumeName", volume));
  ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
  json_object_set_new(ann, "volume.kubernetes.io/storage-provisioner",
                      json_string(OTHER));
  json_object_set_new(ann, "volume.beta.kubernetes.io/storage-provisioner",
                      json_string(OTHER));
  return obj;
}

/* The volume as a CSI external-provisioner makes it, bound to uid. */
static json_t *foreign_volume(int i, const char *uid)
{
  char name[32];
  char claim[32];
  char ns[32];
  char handle[64];

  pair_names(i, claim, name, ns);
  snprintf(handle, sizeof(handle), "vol-0a1b2c3d4e5f%06d", i);
  return applied(json_pack(
      "{s:s, s:s, s:{s:s, s:{s:s}, s:[s]}, s:{s:{s:s}, s:[s], s:s, s:s, "
      "s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, "
      "s:{s:s}}}}",
      "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", name,
      "annotations", "pv.kubernetes.io/provisioned-by", OTHER, "finalizers",
      "external-provisioner.volume.kubernetes.io/finalizer", "spec", "capacity",
      "storage", "10Gi", "accessModes", "ReadWriteOnce",
      "persistentVolumeReclaimPolicy", "Delete", "storageClassName", "other",
      "volumeMode", "Filesystem", "claimRef", "apiVersion", "v1", "kind",
      "PersistentVolumeClaim", "namespace", ns, "name", claim, "uid", uid,
      "csi", "driver", "ebs.csi.aws.com", "volumeHandle", handle, "fsType",
      "ext4", "volumeAttributes",
      "storage.kubernetes.io/csiProvisionerIdentity",
      "1733000000000-8081-" OTHER));
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
  int from;
  int n;
  int threads;
  int id;
  int failed;
} pop_t;

static atomic_int next_pair;
/* SCALE_POPULATE_UNTIL (Unix time): no pair is begun after it. */
static time_t until;

static bool ok(berth_status_t st, const berth_error_t *err, const char *what,
               int i)
{
  if (st == BERTH_OK)
    return true;
  fprintf(stderr, "%s %d: %s\n", what, i, err->message);
  return false;
}

static berth_status_t merge(berth_k8s_client_t *c,
                            const berth_k8s_resource_t *res, const char *ns,
                            const char *name, const char *sub, json_t *patch,
                            berth_error_t *err)
{
  berth_status_t st = berth_k8s_patch(c, res, ns, name, sub,
                                      BERTH_K8S_PATCH_MERGE, patch, NULL, err);

  json_decref(patch);
  return st;
}

/* One bound pair, in the order the top of the file explains. */
static bool foreign_pair(berth_k8s_client_t *c, int i)
{
  const berth_k8s_resource_t *pvcs = &berth_k8s_res_persistentvolumeclaims;
  const berth_k8s_resource_t *pvs = &berth_k8s_res_persistentvolumes;
  char claim[32];
  char volume[32];
  char ns[32];
  json_t *obj = foreign_claim(i);
  json_t *made = NULL;
  berth_error_t err;
  bool done = false;

  pair_names(i, claim, volume, ns);
  if (!ok(berth_k8s_create(c, pvcs, ns, obj, &made, &err), &err, "create claim",
          i))
    goto done;
  json_decref(obj);
  obj = foreign_volume(i, json_string_value(json_object_get(
                              json_object_get(made, "metadata"), "uid")));
  if (!ok(berth_k8s_create(c, pvs, NULL, obj, NULL, &err), &err,
          "create volume", i) ||
      !ok(merge(c, pvs, NULL, volume, "status",
                json_pack("{s:{s:s}}", "status", "phase", "Bound"), &err),
          &err, "volume status", i) ||
      !ok(merge(c, pvcs, ns, claim, "status",
                json_pack("{s:{s:s, s:[s], s:{s:s}}}", "status", "phase",
                          "Bound", "accessModes", "ReadWriteOnce", "capacity",
                          "storage", "10Gi"),
                &err),
          &err, "claim status", i))
    goto done;
  done = true;

done:
  json_decref(obj);
  json_decref(made);
  return done;
}

/* The last step of a pair, in a second pass once every volume exists: a
 * claim marked bind-completed whose volume the binder's cache has not
 * seen yet would be set Lost (syncBoundClaim). Often the binder has
 * already written these itself (its bind() of a claim whose volume
 * points back at it); then the patch changes nothing. */
static bool foreign_complete(berth_k8s_client_t *c, int i)
{
  char claim[32];
  char volume[32];
  char ns[32];
  berth_error_t err;

  pair_names(i, claim, volume, ns);
  return ok(merge(c, &berth_k8s_res_persistentvolumeclaims, ns, claim, NULL,
                  json_pack("{s:{s:{s:s, s:s}}}", "metadata", "annotations",
                            "pv.kubernetes.io/bind-completed", "yes",
                            "pv.kubernetes.io/bound-by-controller", "yes"),
                  &err),
            &err, "claim annotations", i);
}

static void *foreign_worker(void *arg)
{
  pop_t *p = arg;
  int i;

  while ((until == 0 || time(NULL) < until) &&
         (i = atomic_fetch_add(&next_pair, 1)) < p->n)
    if (!foreign_pair(p->c, i))
      p->failed++;
  return NULL;
}

static void *complete_worker(void *arg)
{
  pop_t *p = arg;
  int i;

  while ((i = atomic_fetch_add(&next_pair, 1)) < p->n)
    if (!foreign_complete(p->c, i))
      p->failed++;
  return NULL;
}

static void *own_worker(void *arg)
{
  pop_t *p = arg;
  berth_error_t err;
  json_t *obj;
  int i;

  while ((i = atomic_fetch_add(&next_pair, 1)) < p->n) {
    obj = own_claim(i);
    if (berth_k8s_create(p->c, &berth_k8s_res_persistentvolumeclaims, NULL, obj,
                         NULL, &err) != BERTH_OK &&
        err.status != BERTH_EEXIST) {
      fprintf(stderr, "create %d: %s\n", i, err.message);
      p->failed++;
    }
    json_decref(obj);
  }
  return NULL;
}

/* Run fn over from..n-1, threads at a time; the failures. */
static int run_all(berth_k8s_client_t *c, void *(*fn)(void *), int from, int n,
                   int threads)
{
  pthread_t t[64];
  pop_t p[64];
  int failed = 0;
  int i;

  atomic_store(&next_pair, from);
  for (i = 0; i < threads; i++) {
    p[i] = (pop_t){c, from, n, threads, i, 0};
    pthread_create(&t[i], NULL, fn, &p[i]);
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

/* How many objects of res of class "other" are Bound, page by page. */
static long count_bound(berth_k8s_client_t *c, const berth_k8s_resource_t *res)
{
  berth_k8s_list_options_t o;
  berth_error_t err;
  json_t *page = NULL;
  json_t *item;
  char *cont = NULL;
  long bound = 0;
  size_t i;

  do {
    memset(&o, 0, sizeof(o));
    o.limit = 500;
    o.continue_token = cont;
    if (berth_k8s_list(c, res, NULL, &o, &page, &err) != BERTH_OK) {
      fprintf(stderr, "scale-populate: list: %s\n", err.message);
      bound = -1;
      break;
    }
    json_array_foreach(json_object_get(page, "items"), i, item)
    {
      const char *cls = json_string_value(
          json_object_get(json_object_get(item, "spec"), "storageClassName"));
      const char *phase = json_string_value(
          json_object_get(json_object_get(item, "status"), "phase"));

      if (cls != NULL && phase != NULL && strcmp(cls, "other") == 0 &&
          strcmp(phase, "Bound") == 0)
        bound++;
    }
    free(cont);
    cont = json_string_value(json_object_get(json_object_get(page, "metadata"),
                                             "continue")) != NULL
               ? strdup(json_string_value(json_object_get(
                     json_object_get(page, "metadata"), "continue")))
               : NULL;
    json_decref(page);
    page = NULL;
  } while (cont != NULL && cont[0] != '\0');
  free(cont);
  return bound;
}

/* Warning Events the PV binder left about claims it found broken. */
static long count_lost(berth_k8s_client_t *c)
{
  berth_k8s_list_options_t o;
  berth_error_t err;
  json_t *list = NULL;
  long n;

  memset(&o, 0, sizeof(o));
  o.field_selector = "reason=ClaimLost";
  if (berth_k8s_list(c, &berth_k8s_res_events, NULL, &o, &list, &err) !=
      BERTH_OK) {
    fprintf(stderr, "scale-populate: list events: %s\n", err.message);
    return -1;
  }
  n = (long)json_array_size(json_object_get(list, "items"));
  json_decref(list);
  return n;
}

int main(int argc, char **argv)
{
  berth_k8s_client_t *c;
  int64_t start;
  long ms;
  int n;
  int from = 0;
  int threads;
  int failed;
  char ns[32];
  int i;

  if (argc == 3 && strcmp(argv[1], "check") == 0) {
    c = client();
    printf("foreign_bound_claims=%ld\nforeign_bound_volumes=%ld\n"
           "claim_lost_events=%ld\n",
           count_bound(c, &berth_k8s_res_persistentvolumeclaims),
           count_bound(c, &berth_k8s_res_persistentvolumes), count_lost(c));
    berth_k8s_client_destroy(c);
    return 0;
  }
  if ((argc != 4 && argc != 5) ||
      (strcmp(argv[1], "foreign") != 0 && strcmp(argv[1], "own") != 0)) {
    fprintf(stderr, "usage: scale-populate foreign|own N THREADS [FROM] | "
                    "check N\n");
    return 2;
  }
  n = atoi(argv[2]);
  threads = atoi(argv[3]);
  if (argc == 5)
    from = atoi(argv[4]);
  if (threads < 1 || threads > 64)
    threads = 8;
  c = client();
  start = berth_clock_monotonic_ms(NULL);
  if (strcmp(argv[1], "foreign") == 0) {
    for (i = 0; i < NAMESPACES; i++) {
      snprintf(ns, sizeof(ns), "scale-f-%d", i);
      namespace(c, ns);
    }
    if (getenv("SCALE_POPULATE_UNTIL") != NULL)
      until = (time_t)atoll(getenv("SCALE_POPULATE_UNTIL"));
    failed = run_all(c, foreign_worker, from, n, threads);
    /* Every pair below next_pair was begun and finished. */
    if (atomic_load(&next_pair) < n)
      n = atomic_load(&next_pair);
    until = 0;
    printf("populate_foreign_pass1_ms=%ld\npopulate_foreign_reached=%d\n",
           (long)(berth_clock_monotonic_ms(NULL) - start), n);
    failed += run_all(c, complete_worker, from, n, threads);
  } else {
    namespace(c, "scale-own");
    failed = run_all(c, own_worker, 0, n, threads);
  }
  ms = (long)(berth_clock_monotonic_ms(NULL) - start);
  printf("populate_%s_objects=%d\npopulate_%s_ms=%ld\n"
         "populate_%s_objects_per_s=%.0f\npopulate_%s_failed=%d\n",
         argv[1], strcmp(argv[1], "foreign") == 0 ? 2 * (n - from) : n, argv[1],
         ms, argv[1],
         ms > 0 ? (strcmp(argv[1], "foreign") == 0 ? 2.0 * (n - from) : n) *
                      1000.0 / (double)ms
                : 0.0,
         argv[1], failed);
  berth_k8s_client_destroy(c);
  return failed == 0 ? 0 : 1;
}
