/* SPDX-License-Identifier: Apache-2.0 */
/* watch-claims: print every PersistentVolumeClaim change until interrupted,
 * with libberth's Kubernetes client and informer.
 *
 *   watch-claims [--kubeconfig FILE] [--context NAME] [-n NAMESPACE]
 *                [--kube-api-qps N] [--kube-api-burst N]
 *                [--log-format logfmt|json] [--log-level LEVEL]
 *
 * One line per change on standard output, for example:
 *
 *   ADDED    default/data-mongo-0 phase=Pending class=nfs
 * provisioner=berth.io/nfs UPDATED  default/data-mongo-0 phase=Bound class=nfs
 * provisioner=berth.io/nfs DELETED  default/data-mongo-0 phase=Bound class=nfs
 * provisioner=berth.io/nfs
 *
 * The configuration is found as kubectl finds it (--kubeconfig,
 * $KUBECONFIG, in-cluster, ~/.kube/config). The informer lists the claims,
 * then watches them; when the watch drops it resumes from the last version
 * it saw, and when the server says that version is too old (410) it lists
 * again and prints only what changed meanwhile, so no change is lost or
 * printed twice. Ctrl-C stops it (a second Ctrl-C quits at once).
 *
 * Exit status: 0 after an interrupt, 1 on a configuration or startup
 * error, 2 for a usage error. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/k8s.h"
#include "berth/k8s_informer.h"
#include "berth/log.h"
#include "berth/version.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(FILE *out)
{
  fprintf(out,
          "Usage: watch-claims [OPTION]...\n"
          "Print every PersistentVolumeClaim add, update and delete until\n"
          "interrupted: namespace/name, phase, storage class and provisioner.\n"
          "\n"
          "Options:\n"
          "  --kubeconfig FILE      use this kubeconfig file only\n"
          "  --context NAME         use this kubeconfig context\n"
          "  -n, --namespace NS     watch one namespace (default: all)\n"
          "  --kube-api-qps N       client rate limit (default %.0f)\n"
          "  --kube-api-burst N     client burst (default %d)\n"
          "  --log-format FORMAT    logfmt (default) or json\n"
          "  --log-level LEVEL      error, warn, info (default), debug\n"
          "  -h, --help             show this help and exit\n"
          "  -V, --version          show the version and exit\n",
          BERTH_K8S_DEFAULT_QPS, BERTH_K8S_DEFAULT_BURST);
}

static const char *or_dash(const char *s)
{
  return s != NULL && s[0] != '\0' ? s : "-";
}

static void print_claim(const char *what, json_t *pvc)
{
  const char *phase = json_string_value(
      json_object_get(json_object_get(pvc, "status"), "phase"));
  const char *sc = json_string_value(
      json_object_get(json_object_get(pvc, "spec"), "storageClassName"));
  /* The provisioner the PV controller chose, GA name first. */
  const char *prov =
      berth_k8s_obj_annotation(pvc, "volume.kubernetes.io/storage-provisioner");

  if (prov == NULL)
    prov = berth_k8s_obj_annotation(
        pvc, "volume.beta.kubernetes.io/storage-provisioner");
  pthread_mutex_lock(&out_lock);
  printf("%-8s %s/%s phase=%s class=%s provisioner=%s\n", what,
         or_dash(berth_k8s_obj_namespace(pvc)),
         or_dash(berth_k8s_obj_name(pvc)), or_dash(phase), or_dash(sc),
         or_dash(prov));
  fflush(stdout);
  pthread_mutex_unlock(&out_lock);
}

static void on_add(void *ctx, json_t *obj)
{
  (void)ctx;
  print_claim("ADDED", obj);
}

static void on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)ctx;
  (void)old_obj;
  print_claim("UPDATED", new_obj);
}

static void on_delete(void *ctx, json_t *obj)
{
  (void)ctx;
  print_claim("DELETED", obj);
}

static bool parse_number(const char *s, double min, double max, double *out)
{
  char *end;
  double v = strtod(s, &end);

  if (end == s || *end != '\0' || v < min || v > max)
    return false;
  *out = v;
  return true;
}

int main(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, 'k'},
      {"context", required_argument, NULL, 'c'},
      {"namespace", required_argument, NULL, 'n'},
      {"kube-api-qps", required_argument, NULL, 'q'},
      {"kube-api-burst", required_argument, NULL, 'b'},
      {"log-format", required_argument, NULL, 'f'},
      {"log-level", required_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  berth_k8s_config_options_t copts;
  berth_k8s_config_t cfg;
  berth_k8s_client_options_t kopts;
  berth_k8s_client_t *client = NULL;
  berth_k8s_informer_options_t iopts;
  berth_k8s_informer_handlers_t h;
  berth_k8s_informer_t *inf = NULL;
  berth_log_format_t fmt;
  berth_log_level_t level;
  berth_error_t err;
  const char *ns = NULL;
  sigset_t sigs;
  double num;
  int sig = 0;
  int opt;
  int rc = 1;

  memset(&copts, 0, sizeof(copts));
  berth_k8s_client_options_init(&kopts);
  berth_k8s_config_init(&cfg);
  while ((opt = getopt_long(argc, argv, "n:hV", longopts, NULL)) != -1) {
    switch (opt) {
    case 'k':
      copts.kubeconfig = optarg;
      break;
    case 'c':
      copts.context = optarg;
      break;
    case 'n':
      ns = optarg;
      break;
    case 'q':
      if (!parse_number(optarg, 0.01, 1e6, &num)) {
        fprintf(stderr, "watch-claims: --kube-api-qps: not a number > 0\n");
        return 2;
      }
      kopts.qps = num;
      break;
    case 'b':
      if (!parse_number(optarg, 1, 1e6, &num)) {
        fprintf(stderr, "watch-claims: --kube-api-burst: not a number >= 1\n");
        return 2;
      }
      kopts.burst = (int)num;
      break;
    case 'f':
      if (berth_log_format_parse(optarg, &fmt) != BERTH_OK) {
        fprintf(stderr, "watch-claims: --log-format: logfmt or json\n");
        return 2;
      }
      berth_log_set_format(fmt);
      break;
    case 'l':
      if (berth_log_level_parse(optarg, &level) != BERTH_OK) {
        fprintf(stderr, "watch-claims: --log-level: error, warn, info, "
                        "debug or trace\n");
        return 2;
      }
      berth_log_set_level(level);
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("watch-claims (berth) %s (commit %s)\n", BERTH_VERSION,
             berth_build_commit());
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }

  /* Signals are taken by sigwait below, in this thread only: block them
   * before the informer's threads start (they inherit the mask). */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if (berth_k8s_config_load(&copts, &cfg, &err) != BERTH_OK) {
    berth_log(BERTH_LOG_ERROR, "cannot load the Kubernetes configuration",
              "error", err.message, NULL);
    goto done;
  }
  berth_log(BERTH_LOG_INFO, "connecting", "server", cfg.server, "source",
            cfg.source, "context", cfg.context_name, NULL);
  if (berth_k8s_client_create(&cfg, &kopts, &client, &err) != BERTH_OK) {
    berth_log(BERTH_LOG_ERROR, "cannot create the client", "error", err.message,
              NULL);
    goto done;
  }
  memset(&iopts, 0, sizeof(iopts));
  iopts.resource = &berth_k8s_res_persistentvolumeclaims;
  iopts.namespace_name = ns;
  memset(&h, 0, sizeof(h));
  h.on_add = on_add;
  h.on_update = on_update;
  h.on_delete = on_delete;
  if (berth_k8s_informer_create(client, &iopts, &h, &inf, &err) != BERTH_OK ||
      berth_k8s_informer_start(inf, &err) != BERTH_OK) {
    berth_log(BERTH_LOG_ERROR, "cannot start the informer", "error",
              err.message, NULL);
    goto done;
  }
  if (!berth_k8s_informer_wait_for_sync(inf, 60000))
    berth_log(BERTH_LOG_WARN, "claims not listed yet; still trying", NULL);

  sigwait(&sigs, &sig);
  berth_log(BERTH_LOG_INFO, "stopping", "signal",
            sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
  /* The informer's watch notices the stop within its cancel poll
   * interval; a second signal quits now. */
  pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  rc = 0;

done:
  berth_k8s_informer_destroy(inf);
  berth_k8s_client_destroy(client);
  berth_k8s_config_cleanup(&cfg);
  return rc;
}
