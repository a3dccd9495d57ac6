/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the Kubernetes side. The configuration is resolved exactly as
 * kubectl resolves it (lib/k8s: --kubeconfig, $KUBECONFIG, in-cluster,
 * ~/.kube/config; --context; -n), and every API error is printed with
 * what to do about it. */
#include "ctl.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"
#include "berth/version.h"

/* An operator waits at a terminal: fail fast when the server is down
 * instead of backing off for a minute as a controller would. */
#define CTL_K8S_RETRIES 1
#define CTL_K8S_CONNECT_TIMEOUT_MS 5000L

static const char *config_hint(berth_status_t st)
{
  switch (st) {
  case BERTH_ENOTFOUND:
    return "point berthctl at a cluster: set KUBECONFIG, pass --kubeconfig "
           "FILE, or create ~/.kube/config (kubectl config view shows "
           "what kubectl uses)";
  case BERTH_EINVAL:
  case BERTH_EPARSE:
    return "fix the kubeconfig field named above (kubectl config view "
           "shows the merged configuration), or pick another with "
           "--context";
  default:
    return "check the kubeconfig with 'kubectl config view --minify'";
  }
}

bool ctl_kube_connect(ctl_ctx_t *ctx)
{
  berth_k8s_config_options_t co;
  berth_k8s_client_options_t clo;
  berth_error_t err;
  berth_status_t st;

  if (ctx->k8s != NULL)
    return true;
  memset(&co, 0, sizeof(co));
  co.kubeconfig = ctx->opt->kubeconfig;
  co.context = ctx->opt->context;
  co.namespace_name = ctx->opt->namespace_name;
  berth_error_clear(&err);
  if (!ctx->cfg_loaded) {
    berth_k8s_config_init(&ctx->cfg);
    st = berth_k8s_config_load(&co, &ctx->cfg, &err);
    if (st != BERTH_OK) {
      fprintf(ctx->err,
              "error: cannot load the Kubernetes configuration: "
              "%s\n  fix: %s\n",
              err.message[0] ? err.message : berth_strerror(st),
              config_hint(st));
      return false;
    }
    ctx->cfg_loaded = true;
  }
  berth_k8s_client_options_init(&clo);
  clo.max_retries = CTL_K8S_RETRIES;
  clo.timeout_ms = ctx->opt->request_timeout_ms;
  clo.connect_timeout_ms =
      ctx->opt->request_timeout_ms > 0 &&
              ctx->opt->request_timeout_ms < CTL_K8S_CONNECT_TIMEOUT_MS
          ? ctx->opt->request_timeout_ms
          : CTL_K8S_CONNECT_TIMEOUT_MS;
  clo.user_agent = "berthctl/" BERTH_VERSION;
  st = berth_k8s_client_create(&ctx->cfg, &clo, &ctx->k8s, &err);
  if (st != BERTH_OK) {
    fprintf(ctx->err,
            "error: cannot use the Kubernetes configuration from "
            "%s: %s\n  fix: %s\n",
            ctx->cfg.source ? ctx->cfg.source : "(unknown)",
            err.message[0] ? err.message : berth_strerror(st),
            "the files the kubeconfig names (certificates, keys, token "
            "files) must exist and be readable");
    return false;
  }
  ctx->ns = ctx->cfg.namespace_name;
  return true;
}

const char *ctl_kube_hint(const ctl_ctx_t *ctx, berth_status_t st)
{
  static char hint[512];
  const char *server = ctx->cfg.server ? ctx->cfg.server : "(none)";
  const char *ctxname =
      ctx->cfg.context_name ? ctx->cfg.context_name : "(in-cluster)";

  switch (st) {
  case BERTH_ETRANSPORT:
  case BERTH_ETIMEOUT:
    snprintf(hint, sizeof(hint),
             "is the API server %s (context %s) up and reachable from "
             "here? 'kubectl config view --minify' shows where the "
             "kubeconfig points",
             server, ctxname);
    return hint;
  case BERTH_ETLS:
    snprintf(hint, sizeof(hint),
             "the server %s was not trusted: check certificate-authority"
             "(-data) of cluster %s in the kubeconfig",
             server, ctx->cfg.cluster_name ? ctx->cfg.cluster_name : "?");
    return hint;
  case BERTH_EUNAUTHORIZED:
    snprintf(hint, sizeof(hint),
             "the server refused the credentials of user %s: log in again "
             "or fix that user in the kubeconfig",
             ctx->cfg.user_name ? ctx->cfg.user_name : "(in-cluster)");
    return hint;
  case BERTH_EFORBIDDEN:
    return "your user lacks the RBAC permission named above: berthctl "
           "reads StorageClasses, PersistentVolumes, claims and Events, "
           "and its repairs delete and patch PersistentVolumes";
  case BERTH_ETHROTTLED:
  case BERTH_EUNAVAILABLE:
    return "the API server is overloaded or starting: try again shortly";
  default:
    return NULL;
  }
}

int ctl_kube_error(ctl_ctx_t *ctx, const char *what, berth_status_t st,
                   const berth_error_t *err)
{
  const char *hint = ctl_kube_hint(ctx, st);
  const char *msg =
      err != NULL && err->message[0] ? err->message : berth_strerror(st);

  /* kubectl's words for an answer from the server. */
  if (err != NULL && err->http_code > 0 && err->reason[0] != '\0')
    fprintf(ctx->err, "Error from server (%s): %s: %s\n", err->reason, what,
            msg);
  else
    fprintf(ctx->err, "error: %s: %s\n", what, msg);
  if (hint != NULL)
    fprintf(ctx->err, "  fix: %s\n", hint);
  return CTL_EXIT_ERROR;
}

/* The time an Event last happened, for sorting. */
static int64_t event_time(const json_t *ev)
{
  static const char *const fields[] = {"lastTimestamp", "eventTime",
                                       "firstTimestamp"};
  size_t i;

  for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    int64_t t =
        ctl_time_parse(json_string_value(json_object_get(ev, fields[i])));

    if (t >= 0)
      return t;
  }
  return ctl_time_parse(json_string_value(
      json_object_get(json_object_get(ev, "metadata"), "creationTimestamp")));
}

static bool event_before(const json_t *a, const json_t *b)
{
  int64_t ta = event_time(a);
  int64_t tb = event_time(b);
  long long ra;
  long long rb;
  const char *va = berth_k8s_obj_resource_version(a);
  const char *vb = berth_k8s_obj_resource_version(b);

  if (ta != tb)
    return ta < tb;
  if (va == NULL || vb == NULL ||
      berth_str_to_ll(va, 0, LLONG_MAX, &ra) != BERTH_OK ||
      berth_str_to_ll(vb, 0, LLONG_MAX, &rb) != BERTH_OK)
    return false;
  return ra < rb;
}

berth_status_t ctl_kube_events(ctl_ctx_t *ctx, const char *kind, const char *ns,
                               const char *name, const char *uid, json_t **out,
                               berth_error_t *err)
{
  berth_k8s_list_options_t lo;
  json_t *list = NULL;
  json_t *items;
  json_t *result = NULL;
  json_t **sorted = NULL;
  berth_status_t st;
  char *fs;
  size_t n = 0;
  size_t i;
  json_t *ev;

  fs = berth_strdup_printf("involvedObject.kind=%s,involvedObject.name=%s",
                           kind, name);
  if (fs == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  memset(&lo, 0, sizeof(lo));
  lo.field_selector = fs;
  /* Events about a cluster-scoped object (a PV) are kept in whichever
   * namespace the recorder chose ("default" usually): look in all. */
  st = berth_k8s_list_all(ctx->k8s, &berth_k8s_res_events, ns, &lo, &list, err);
  if (st != BERTH_OK)
    goto done;
  items = json_object_get(list, "items");
  sorted = calloc(json_array_size(items) + 1, sizeof(*sorted));
  result = json_array();
  if (sorted == NULL || result == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  json_array_foreach(items, i, ev)
  {
    const char *evuid = json_string_value(
        json_object_get(json_object_get(ev, "involvedObject"), "uid"));

    /* An older object of the same name had its own Events. */
    if (uid != NULL && evuid != NULL && evuid[0] != '\0' &&
        strcmp(uid, evuid) != 0)
      continue;
    sorted[n++] = ev;
  }
  /* By time (whole seconds), then by resourceVersion where it is a
   * number (the order the server stored them in, for Events of the same
   * second); insertion sort, there are few. */
  for (i = 1; i < n; i++) {
    json_t *x = sorted[i];
    size_t j = i;

    while (j > 0 && event_before(x, sorted[j - 1])) {
      sorted[j] = sorted[j - 1];
      j--;
    }
    sorted[j] = x;
  }
  for (i = 0; i < n; i++)
    json_array_append(result, sorted[i]);
  *out = result;
  result = NULL;

done:
  free(fs);
  free(sorted);
  json_decref(result);
  json_decref(list);
  return st;
}
