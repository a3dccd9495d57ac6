/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the EndpointSlice watch, see watch.h. */
#include "watch.h"

#include "endpoints.h"

#include "berth/buf.h"
#include "berth/k8s.h"
#include "berth/k8s_informer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVICE_LABEL "kubernetes.io/service-name"

/* discovery.k8s.io/v1, served since Kubernetes 1.21. */
static const berth_k8s_resource_t endpointslices = {
    "discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true};

struct peers_watch {
  const peers_identity_t *id;
  bool ready_only;
  char *domain; /* "<namespace>.svc.<zone>" */
  int pipe[2];
  berth_k8s_client_t *client;
  berth_k8s_informer_t *informer;
};

/* Any change: wake the loop. A full pipe already says "changed". */
static void wake(peers_watch_t *w)
{
  if (write(w->pipe[1], "c", 1) < 0) {
    /* EAGAIN: a wake-up is pending; nothing else can fail here. */
  }
}

static void on_add(void *ctx, json_t *obj)
{
  (void)obj;
  wake(ctx);
}

static void on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  (void)new_obj;
  wake(ctx);
}

static void on_delete(void *ctx, json_t *gone)
{
  (void)gone;
  wake(ctx);
}

static berth_status_t make_client(const peers_watch_opts_t *opts,
                                  berth_k8s_client_t **out, berth_error_t *err)
{
  berth_k8s_config_options_t co;
  berth_k8s_client_options_t ko;
  berth_k8s_config_t cfg;
  berth_status_t st;

  memset(&co, 0, sizeof(co));
  co.kubeconfig = opts->kubeconfig;
  berth_k8s_config_init(&cfg);
  st = berth_k8s_config_load(&co, &cfg, err);
  if (st == BERTH_OK) {
    berth_k8s_client_options_init(&ko);
    ko.user_agent = "berth-peers";
    st = berth_k8s_client_create(&cfg, &ko, out, err);
  }
  berth_k8s_config_cleanup(&cfg);
  return st;
}

/* One small list before the informer starts: a missing grant is then an
 * error at start, naming what to apply, rather than the informer's
 * endless retries. */
static berth_status_t check_access(peers_watch_t *w, const char *selector,
                                   berth_error_t *err)
{
  berth_k8s_list_options_t lo;
  berth_error_t lerr;
  berth_status_t st;
  json_t *list = NULL;

  memset(&lo, 0, sizeof(lo));
  lo.label_selector = selector;
  lo.limit = 1;
  berth_error_clear(&lerr);
  st = berth_k8s_list(w->client, &endpointslices, w->id->ns, &lo, &list, &lerr);
  json_decref(list);
  if (st == BERTH_EFORBIDDEN)
    return berth_error_set(
        err, st,
        "--source endpoints: the API server refused to list EndpointSlices "
        "in namespace %s (%s); the pod's service account needs get, list and "
        "watch on endpointslices.discovery.k8s.io there: apply the Role and "
        "RoleBinding " PEERS_WATCH_ROLE " of deploy/overlays/peers",
        w->id->ns, lerr.message);
  if (st != BERTH_OK)
    return berth_error_set(err, st,
                           "--source endpoints: listing EndpointSlices in "
                           "namespace %s: %s",
                           w->id->ns, lerr.message);
  return BERTH_OK;
}

static berth_status_t start_informer(peers_watch_t *w, const char *selector,
                                     berth_error_t *err)
{
  berth_k8s_informer_options_t io;
  berth_k8s_informer_handlers_t h = {on_add, on_update, on_delete, w};
  berth_status_t st;

  memset(&io, 0, sizeof(io));
  io.resource = &endpointslices;
  io.namespace_name = w->id->ns;
  io.label_selector = selector;
  st = berth_k8s_informer_create(w->client, &io, &h, &w->informer, err);
  if (st == BERTH_OK)
    st = berth_k8s_informer_start(w->informer, err);
  return st;
}

berth_status_t peers_watch_start(const peers_watch_opts_t *opts,
                                 const peers_identity_t *id,
                                 peers_watch_t **out, berth_error_t *err)
{
  peers_watch_t *w = calloc(1, sizeof(*w));
  char *selector = NULL;
  berth_status_t st = BERTH_ENOMEM;

  if (w == NULL)
    return berth_error_set(err, st, "out of memory");
  w->pipe[0] = w->pipe[1] = -1;
  w->id = id;
  w->ready_only = opts->ready_only;
  w->domain = berth_strdup_printf("%s.svc.%s", id->ns, id->domain);
  selector = berth_strdup_printf(SERVICE_LABEL "=%s", id->service);
  if (w->domain == NULL || selector == NULL) {
    berth_error_set(err, st, "out of memory");
    goto done;
  }
  if (pipe2(w->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    st = berth_error_set(err, BERTH_EIO, "pipe: %s", strerror(errno));
    goto done;
  }
  st = make_client(opts, &w->client, err);
  if (st == BERTH_OK)
    st = check_access(w, selector, err);
  if (st == BERTH_OK)
    st = start_informer(w, selector, err);
done:
  free(selector);
  if (st == BERTH_OK)
    *out = w;
  else
    peers_watch_destroy(w);
  return st;
}

void peers_watch_destroy(peers_watch_t *w)
{
  if (w == NULL)
    return;
  berth_k8s_informer_destroy(w->informer);
  berth_k8s_client_destroy(w->client);
  if (w->pipe[0] >= 0)
    close(w->pipe[0]);
  if (w->pipe[1] >= 0)
    close(w->pipe[1]);
  free(w->domain);
  free(w);
}

int peers_watch_fd(const peers_watch_t *w)
{
  return w->pipe[0];
}

bool peers_watch_synced(peers_watch_t *w)
{
  return berth_k8s_informer_has_synced(w->informer);
}

berth_status_t peers_watch_members(peers_watch_t *w, peers_set_t *out,
                                   berth_error_t *err)
{
  peers_endpoints_result_t r;
  char drain[64];
  berth_status_t st;
  json_t *slices;

  /* Empty the pipe first: a change after this read wakes the loop again. */
  while (read(w->pipe[0], drain, sizeof(drain)) > 0) {
  }
  peers_set_cleanup(out);
  if (!berth_k8s_informer_has_synced(w->informer))
    return BERTH_ENOTFOUND;
  slices = berth_k8s_informer_list(w->informer);
  if (slices == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  peers_endpoints_result_init(&r);
  st = peers_endpoints_members(slices, w->id->service, w->domain, w->ready_only,
                               &r, err);
  if (st == BERTH_OK)
    peers_set_move(out, &r.members);
  peers_endpoints_result_cleanup(&r);
  json_decref(slices);
  return st;
}

void peers_watch_counts(peers_watch_t *w, uint64_t *requests, uint64_t *watches)
{
  berth_k8s_client_stats_t cs;
  berth_k8s_informer_stats_t is;

  berth_k8s_client_get_stats(w->client, &cs);
  berth_k8s_informer_get_stats(w->informer, &is);
  *requests = cs.requests;
  *watches = is.watches;
}
