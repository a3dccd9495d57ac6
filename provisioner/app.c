/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the run loop, see app.h.
 *
 * The main thread owns the life cycle. It waits for signals in slices of
 * 200 ms and moves the controller along: standby -> (lease acquired)
 * informers started -> (synced) workers running. Losing the lease stops
 * every side effect and exits 1 at once, from the election's thread, so
 * that the pod restarts as a standby; whatever a worker was doing is left
 * exactly as a crash would leave it, which the state machines repair. */
#include "app.h"

#include "attach.h"
#include "snapshot.h"
#include "backends/backend.h"

#include "controller.h"
#include "http.h"
#include "leader.h"
#include "metrics.h"
#include "provisioners.h"

#include "berth/k8s.h"
#include "berth/log.h"
#include "berth/version.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum phase { PHASE_STANDBY = 0, PHASE_SYNCING, PHASE_RUNNING } phase_t;

typedef struct app {
  const prov_options_t *opt;
  berth_k8s_client_t *client;
  berth_k8s_client_t *lease_client;
  prov_provisioners_t *provs;
  prov_metrics_t *metrics;
  prov_http_t *http;
  prov_controller_t *ctl;
  prov_leader_t *leader;
  berth_aws_t *aws;                /* only when a provisioner uses EBS */
  prov_attacher_t *attacher;       /* EBS VolumeAttachments, leader only */
  prov_snapshotter_t *snapshotter; /* EBS VolumeSnapshotContents, leader
                                      only */
  _Atomic(prov_controller_t *) live_ctl; /* for the HTTP thread */
  atomic_int phase;
  char identity[320];
  char lease_name[256]; /* the Lease (or, without election, our name) */
} app_t;

/* ---- clients ------------------------------------------------------------ */

static berth_status_t make_clients(app_t *a, berth_error_t *err)
{
  berth_k8s_config_options_t co;
  berth_k8s_client_options_t ko;
  berth_k8s_config_t cfg;
  berth_status_t st;

  memset(&co, 0, sizeof(co));
  co.kubeconfig = a->opt->kubeconfig;
  co.context = a->opt->context;
  berth_k8s_config_init(&cfg);
  st = berth_k8s_config_load(&co, &cfg, err);
  if (st != BERTH_OK)
    goto done;
  berth_k8s_client_options_init(&ko);
  ko.qps = a->opt->qps;
  ko.burst = a->opt->burst;
  ko.observe = prov_metrics_rest;
  ko.observe_ctx = a->metrics;
  st = berth_k8s_client_create(&cfg, &ko, &a->client, err);
  if (st != BERTH_OK || !a->opt->leader_elect)
    goto done;
  /* The Lease's own client: never waits for the rate limiter, and gives
   * up on a request in time for another attempt before the deadline. */
  berth_k8s_client_options_init(&ko);
  ko.qps = -1;
  ko.max_retries = -1;
  ko.observe = prov_metrics_rest;
  ko.observe_ctx = a->metrics;
  ko.timeout_ms = a->opt->renew_ms / 2 > 500 ? a->opt->renew_ms / 2 : 500;
  ko.connect_timeout_ms = ko.timeout_ms;
  st = berth_k8s_client_create(&cfg, &ko, &a->lease_client, err);

done:
  berth_k8s_config_cleanup(&cfg);
  return st;
}

/* ---- HTTP hooks ---------------------------------------------------------- */

static bool app_ready(void *ctx, berth_buf_t *why)
{
  app_t *a = ctx;
  phase_t p = (phase_t)atomic_load(&a->phase);

  if (p == PHASE_STANDBY) {
    berth_buf_append_str(why, "standby: waiting for the lease");
    return true;
  }
  if (p == PHASE_SYNCING) {
    berth_buf_append_str(why, "leader: informers not synced yet");
    return false;
  }
  return prov_controller_ready(atomic_load(&a->live_ctl));
}

static void app_collect(void *ctx, berth_buf_t *out)
{
  app_t *a = ctx;

  int leading = atomic_load(&a->phase) != PHASE_STANDBY ? 1 : 0;

  berth_buf_appendf(out,
                    "# HELP berth_provisioner_leader 1 when this replica "
                    "leads (or runs without leader election).\n"
                    "# TYPE berth_provisioner_leader gauge\n"
                    "berth_provisioner_leader %d\n",
                    leading);
  /* client-go's leader election gauge, named by the Lease. */
  berth_buf_appendf(out, "# HELP leader_election_master_status Gauge of if the "
                         "reporting system is master of the relevant lease, 0 "
                         "indicates backup, 1 indicates master. 'name' is the "
                         "string used to identify the lease.\n"
                         "# TYPE leader_election_master_status gauge\n"
                         "leader_election_master_status{name=\"");
  prov_metrics_escape(out, a->lease_name);
  berth_buf_appendf(out, "\"} %d\n", leading);
  prov_controller_collect(atomic_load(&a->live_ctl), out);
}

static berth_status_t start_http(app_t *a, berth_error_t *err)
{
  char port_s[16];
  int port = 0;
  berth_status_t st;

  if (a->opt->http_endpoint == NULL || a->opt->http_endpoint[0] == '\0')
    return BERTH_OK;
  st = prov_http_start(a->opt->http_endpoint, a->opt->mhd_load, a->metrics,
                       app_ready, a, &a->http, &port, err);
  if (st == BERTH_OK) {
    snprintf(port_s, sizeof(port_s), "%d", port);
    berth_log(BERTH_LOG_INFO, "http endpoint listening", "endpoint",
              a->opt->http_endpoint, "port", port_s, NULL);
  }
  return st;
}

/* ---- leader election ------------------------------------------------------
 */

static void on_lost(void *ctx, const char *why)
{
  app_t *a = ctx;

  /* Stop provisioning at once: the workers check this before each write;
   * then leave, so that the pod restarts as a standby. */
  prov_controller_deactivate(a->ctl);
  berth_log(BERTH_LOG_ERROR, "exiting: leadership lost", "reason", why, NULL);
  _exit(1);
}

static berth_status_t start_leader(app_t *a, berth_error_t *err)
{
  prov_leader_options_t lo;
  char name[256];
  char host[256] = "localhost";

  if (a->opt->le_identity != NULL) {
    berth_strlcpy(a->identity, a->opt->le_identity, sizeof(a->identity));
  } else {
    gethostname(host, sizeof(host) - 1);
    snprintf(a->identity, sizeof(a->identity), "%s_%ld", host, (long)getpid());
  }
  berth_strlcpy(name, a->lease_name, sizeof(name));
  memset(&lo, 0, sizeof(lo));
  lo.namespace_name = a->opt->le_namespace;
  lo.name = name;
  lo.identity = a->identity;
  lo.lease_ms = a->opt->lease_ms;
  lo.renew_ms = a->opt->renew_ms;
  lo.retry_ms = a->opt->retry_ms;
  lo.on_lost = on_lost;
  lo.ctx = a;
  return prov_leader_start(a->lease_client, &lo, &a->leader, err);
}

/* ---- the loop --------------------------------------------------------------
 */

/* true when one of our provisioners has a backend whose volumes attach to
 * nodes (BERTH_BACKEND_CAP_ATTACH): then the external attacher runs. */
static bool serves_attach(const app_t *a)
{
  size_t i;
  berth_backend_t *be;

  for (i = 0; i < prov_provisioners_count(a->provs); i++) {
    be = prov_provisioners_find(a->provs, prov_provisioners_name(a->provs, i));
    if ((berth_backend_caps(be) & BERTH_BACKEND_CAP_ATTACH) != 0)
      return true;
  }
  return false;
}

/* The external attacher's half of EBS (attach.h): started with the
 * workers, so that only the leader attaches and detaches disks. */
static berth_status_t start_attacher(app_t *a, berth_error_t *err)
{
  berth_aws_options_t ao;
  berth_status_t st;

  if (!serves_attach(a))
    return BERTH_OK;
  berth_aws_options_init(&ao);
  st = berth_aws_create(&ao, &a->aws, err);
  if (st == BERTH_OK)
    st = prov_attacher_create(a->client, a->aws, NULL, &a->attacher, err);
  if (st == BERTH_OK)
    st = prov_attacher_start(a->attacher, err);
  if (st == BERTH_OK)
    berth_log(BERTH_LOG_INFO, "attacher started", "attacher",
              PROV_ATTACHER_DEFAULT, NULL);
  /* The CSI snapshotter sidecar's half of EBS (snapshot.h), beside it. */
  if (st == BERTH_OK) {
    prov_snapshotter_options_t so = {
        .cluster_id = getenv("BERTH_CLUSTER_ID"),
        .extra_tags = a->opt->extra_tags,
        .api_qps = a->opt->qps > 0 ? a->opt->qps : BERTH_K8S_DEFAULT_QPS,
        .api_burst =
            a->opt->burst > 0 ? a->opt->burst : BERTH_K8S_DEFAULT_BURST};
    st = prov_snapshotter_create(a->client, a->aws, &so, &a->snapshotter, err);
  }
  if (st == BERTH_OK)
    st = prov_snapshotter_start(a->snapshotter, err);
  if (st == BERTH_OK)
    berth_log(BERTH_LOG_INFO, "snapshotter started", "driver", PROV_SNAP_DRIVER,
              NULL);
  return st;
}

/* Move the controller along; false on a fatal error. */
static bool advance(app_t *a)
{
  berth_error_t err;
  phase_t p = (phase_t)atomic_load(&a->phase);

  if (p == PHASE_STANDBY &&
      (a->leader == NULL || prov_leader_is_leading(a->leader))) {
    if (prov_controller_start_informers(a->ctl, &err) != BERTH_OK) {
      berth_log(BERTH_LOG_ERROR, "cannot start informers", "error", err.message,
                NULL);
      return false;
    }
    atomic_store(&a->phase, PHASE_SYNCING);
  } else if (p == PHASE_SYNCING && prov_controller_synced(a->ctl)) {
    if (prov_controller_start_workers(a->ctl, &err) != BERTH_OK) {
      berth_log(BERTH_LOG_ERROR, "cannot start workers", "error", err.message,
                NULL);
      return false;
    }
    if (start_attacher(a, &err) != BERTH_OK) {
      berth_log(BERTH_LOG_ERROR, "cannot start the attacher", "error",
                err.message, NULL);
      return false;
    }
    atomic_store(&a->live_ctl, a->ctl);
    atomic_store(&a->phase, PHASE_RUNNING);
  }
  if (a->leader != NULL)
    prov_leader_check(a->leader);
  if (p != PHASE_STANDBY)
    prov_controller_release_memory(a->ctl);
  return true;
}

/* Wait up to 200 ms for SIGTERM or SIGINT; the signal, or 0. */
static int wait_signal(void)
{
  struct timespec ts = {0, 200 * 1000000L};
  sigset_t set;

  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return sigtimedwait(&set, NULL, &ts) > 0 ? 1 : 0;
}

/* Every backend's call counters at 0 from the start (rate() misses the
 * first increment of a series born at 1); usage only where it is
 * measured. */
static void init_backend_series(app_t *a)
{
  static const char *const ops[] = {"validate", "provision", "delete"};
  berth_backend_t *be;
  size_t i;
  size_t k;

  for (i = 0; i < prov_provisioners_count(a->provs); i++) {
    be = prov_provisioners_find(a->provs, prov_provisioners_name(a->provs, i));
    for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
      prov_metrics_backend_init(a->metrics, berth_backend_name(be), ops[k]);
    if (berth_backend_can_measure_usage(be))
      prov_metrics_backend_init(a->metrics, berth_backend_name(be), "usage");
  }
}

static berth_status_t app_start(app_t *a, berth_error_t *err)
{
  berth_status_t st;

  /* The metrics first: the clients count their requests into them. */
  st = prov_metrics_create(&a->metrics);
  if (st != BERTH_OK)
    return berth_error_set(err, st, "out of memory");
  st = make_clients(a, err);
  if (st == BERTH_OK)
    st = prov_provisioners_create(a->opt, &a->provs, err);
  if (st != BERTH_OK)
    return st;
  prov_metrics_set_collector(a->metrics, app_collect, a);
  init_backend_series(a);
  st = prov_controller_create(a->opt, a->client, a->provs, a->metrics, &a->ctl,
                              err);
  if (st == BERTH_OK)
    st = start_http(a, err);
  if (st == BERTH_OK && a->opt->leader_elect)
    st = start_leader(a, err);
  return st;
}

static void app_cleanup(app_t *a)
{
  /* Drain first (in-flight keys finish, Events go out), then give the
   * Lease up so that a standby takes over at once. */
  if (a->metrics != NULL)
    prov_metrics_set_collector(a->metrics, NULL, NULL);
  atomic_store(&a->live_ctl, NULL);
  prov_snapshotter_destroy(a->snapshotter);
  prov_attacher_destroy(a->attacher);
  prov_controller_stop(a->ctl, a->opt->drain_ms);
  prov_leader_stop(a->leader);
  prov_http_stop(a->http);
  prov_controller_destroy(a->ctl);
  prov_metrics_destroy(a->metrics);
  prov_provisioners_destroy(a->provs);
  berth_aws_destroy(a->aws);
  berth_k8s_client_destroy(a->lease_client);
  berth_k8s_client_destroy(a->client);
}

/* The startup line: every provisioner served, as NAME=BACKEND, so that
 * an operator sees at once which classes this replica answers for. */
static void log_started(const prov_options_t *opt)
{
  berth_buf_t served;
  size_t i;

  berth_buf_init(&served);
  for (i = 0; i < opt->nbindings; i++)
    berth_buf_appendf(&served, "%s%s=%s", i > 0 ? "," : "",
                      opt->bindings[i].name, opt->bindings[i].backend);
  berth_log(BERTH_LOG_INFO, "berth-provisioner started", "version",
            BERTH_VERSION, "commit", berth_build_commit(), "provisioners",
            served.len > 0 ? berth_buf_str(&served) : "", "leader_election",
            opt->leader_elect ? "on" : "off", NULL);
  berth_buf_cleanup(&served);
}

int prov_app_run(const prov_options_t *opt)
{
  app_t a;
  berth_error_t err;
  int rc = 1;

  memset(&a, 0, sizeof(a));
  a.opt = opt;
  if (opt->le_name != NULL)
    berth_strlcpy(a.lease_name, opt->le_name, sizeof(a.lease_name));
  else
    prov_lease_name(opt->bindings[0].name, a.lease_name, sizeof(a.lease_name));
  berth_error_clear(&err);
  if (app_start(&a, &err) != BERTH_OK) {
    berth_log(BERTH_LOG_ERROR, "cannot start", "error", err.message, NULL);
    goto done;
  }
  log_started(opt);
  while (wait_signal() == 0) {
    if (!advance(&a))
      goto done;
  }
  berth_log(BERTH_LOG_INFO, "stopping: draining work in flight", NULL);
  rc = 0;

done:
  app_cleanup(&a);
  if (rc == 0)
    berth_log(BERTH_LOG_INFO, "stopped", NULL);
  return rc;
}
