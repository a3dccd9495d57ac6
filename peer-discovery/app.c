/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the main loop, see app.h. */
#include "app.h"

#include "control.h"
#include "event.h"
#include "hooks.h"
#include "http.h"
#include "outputs.h"
#include "resolve.h"
#include "status.h"
#ifdef BERTH_PEERS_WATCH
#include "watch.h"
#endif

#include "berth/clock.h"
#include "berth/log.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* DNS: first try, tries, and a bound on each call well under a second, so
 * that SIGTERM is honoured in time even while a call runs. */
#define DNS_TIMEOUT_MS 200
#define DNS_TRIES 2
#define DNS_DEADLINE_MS 700
/* The grace between SIGTERM and SIGKILL for a hook past its timeout. */
#define HOOK_GRACE_MS 2000
/* Retries back off up to this many times the first delay. */
#define HOOK_BACKOFF_FACTOR 32

typedef struct app {
  const peers_options_t *opt;
  int stop_fd;
  bool stopping;
  peers_identity_t id;
  peers_resolver_t *res;
#ifdef BERTH_PEERS_WATCH
  peers_watch_t *watch; /* --source endpoints; NULL: DNS */
#endif
  bool changed; /* the watch said the slices changed */
  peers_control_t ctl;
  bool ctl_ready;
  peers_status_t status;
  peers_http_t *http;
  char **start_argv;  /* on-start, else on-change; NULL: none */
  char **change_argv; /* on-change; NULL: none */
  peers_counters_t counters;
  bool dns_down; /* in an outage (logged once) */
  int64_t down_since;
  bool absent;            /* the Service had no SRV records last time */
  berth_buf_t waiting;    /* the last "waiting" reason logged */
  berth_buf_t last_error; /* why --once would fail now */
} app_t;

static int64_t now_ms(void)
{
  return berth_clock_monotonic_ms(NULL);
}

/* --- look-ups ----------------------------------------------------------- */

static void note_dns_failure(app_t *a, const berth_error_t *err, int64_t now)
{
  berth_buf_reset(&a->last_error);
  berth_buf_appendf(&a->last_error, "DNS look-up of %s failed: %s",
                    peers_resolver_srv_name(a->res), err->message);
  if (a->dns_down)
    return;
  a->dns_down = true;
  a->down_since = now;
  berth_log(BERTH_LOG_WARN, "DNS look-up failing; keeping the last membership",
            "service", peers_resolver_srv_name(a->res), "error", err->message,
            NULL);
}

static void note_dns_answer(app_t *a, bool absent, int64_t now)
{
  char ms[32];

  if (a->dns_down) {
    snprintf(ms, sizeof(ms), "%lld", (long long)(now - a->down_since));
    berth_log(BERTH_LOG_INFO, "DNS look-up recovered", "service",
              peers_resolver_srv_name(a->res), "outage_ms", ms, NULL);
    a->dns_down = false;
  }
  if (absent && !a->absent)
    berth_log(BERTH_LOG_INFO, "service has no SRV records yet; waiting",
              "service", peers_resolver_srv_name(a->res), NULL);
  a->absent = absent;
  if (absent) {
    berth_buf_reset(&a->last_error);
    berth_buf_appendf(&a->last_error, "service %s has no SRV records",
                      peers_resolver_srv_name(a->res));
  }
}

/* Log why the first run waits, when the reason changes. */
static void note_waiting(app_t *a)
{
  berth_buf_t why;

  if (a->ctl.have_settled || !a->ctl.have_observed)
    return;
  berth_buf_init(&why);
  if (!peers_control_gate(&a->ctl, &a->ctl.observed, &why) &&
      strcmp(berth_buf_str(&why), berth_buf_str(&a->waiting)) != 0) {
    berth_log(BERTH_LOG_INFO, "waiting", "reason", berth_buf_str(&why), NULL);
    berth_buf_reset(&a->waiting);
    berth_buf_append_str(&a->waiting, berth_buf_str(&why));
  }
  if (why.len > 0 && !a->absent && !a->dns_down) {
    berth_buf_reset(&a->last_error);
    berth_buf_append_str(&a->last_error, berth_buf_str(&why));
  }
  berth_buf_cleanup(&why);
}

#ifdef BERTH_PEERS_WATCH
/* --source endpoints: the membership the informer's cache gives now. */
static void observe_watch(app_t *a, int64_t now)
{
  char count[24];
  peers_set_t set;
  berth_error_t err;
  berth_status_t st;

  peers_set_init(&set);
  berth_error_clear(&err);
  st = peers_watch_members(a->watch, &set, &err);
  if (st == BERTH_OK) {
    snprintf(count, sizeof(count), "%zu", set.count);
    berth_log(BERTH_LOG_DEBUG, "EndpointSlices read", "members", count, NULL);
    peers_control_observe(&a->ctl, now, &set);
    note_waiting(a);
  } else if (st == BERTH_ENOTFOUND) {
    berth_buf_reset(&a->last_error);
    berth_buf_append_str(&a->last_error,
                         "the EndpointSlices are not listed yet");
  } else {
    berth_buf_reset(&a->last_error);
    berth_buf_append_str(&a->last_error, err.message);
    berth_log(BERTH_LOG_WARN,
              "EndpointSlices unreadable; keeping the last "
              "membership",
              "error", err.message, NULL);
  }
  peers_set_cleanup(&set);
}
#endif

static void observe(app_t *a, int64_t now)
{
  peers_set_t set;
  berth_error_t err;
  berth_status_t st;

  peers_set_init(&set);
  berth_error_clear(&err);
  st = peers_resolve(a->res, now, &set, &err);
  peers_resolver_counts(a->res, &a->counters.dns_queries,
                        &a->counters.dns_failures);
  if (st == BERTH_ECANCELED) {
    a->stopping = true;
  } else if (st == BERTH_OK || st == BERTH_ENOTFOUND) {
    note_dns_answer(a, st == BERTH_ENOTFOUND, now);
    peers_control_observe(&a->ctl, now, &set);
    note_waiting(a);
  } else {
    note_dns_failure(a, &err, now);
  }
  peers_set_cleanup(&set);
}

/* --- settled changes ---------------------------------------------------- */

static peers_view_t view_of(const app_t *a)
{
  peers_view_t v;

  v.self = &a->id;
  v.peers = &a->ctl.settled;
  v.first = a->ctl.settle_count <= 1;
  v.addresses = a->opt->addresses;
  v.family = strcmp(a->opt->address_type, "IPv4") == 0 ||
                     strcmp(a->opt->address_type, "IPv6") == 0
                 ? a->opt->address_type
                 : NULL;
  return v;
}

/* Publish the membership for /peers. */
static void publish(app_t *a)
{
  peers_view_t v = view_of(a);
  berth_buf_t json;

  a->ctl_ready = peers_control_ready(&a->ctl);
  if (a->http == NULL)
    return;
  berth_buf_init(&json);
  if (peers_render_json(&v, a->ctl_ready, &json) == BERTH_OK)
    peers_status_set_json(&a->status, berth_buf_str(&json));
  berth_buf_cleanup(&json);
}

static void on_settled(app_t *a)
{
  peers_view_t v;
  char count[24];
  berth_buf_t names;

  berth_buf_init(&names);
  peers_set_join(&a->ctl.settled, ",", &names);
  snprintf(count, sizeof(count), "%zu", a->ctl.settled.count);
  berth_log(BERTH_LOG_INFO, "membership changed", "count", count, "peers",
            berth_buf_str(&names), NULL);
  berth_buf_cleanup(&names);
  a->counters.changes++;
  a->counters.members = a->ctl.settled.count;
  a->counters.last_change_ms = berth_clock_realtime_ms(NULL);
  v = view_of(a);
  peers_outputs_write(a->opt->renders, a->opt->nrenders, &v);
  publish(a);
}

/* --- hooks -------------------------------------------------------------- */

static void log_hook_start(app_t *a, const char *label)
{
  berth_buf_t added;
  berth_buf_t removed;
  char count[24];

  berth_buf_init(&added);
  berth_buf_init(&removed);
  peers_set_diff(&a->ctl.hooked, &a->ctl.settled, &added, &removed);
  snprintf(count, sizeof(count), "%zu", a->ctl.settled.count);
  berth_log(BERTH_LOG_INFO, "running hook", "hook", label, "peers", count,
            "added", berth_buf_str(&added), "removed", berth_buf_str(&removed),
            NULL);
  berth_buf_cleanup(&added);
  berth_buf_cleanup(&removed);
}

/* Log a hook's outcome and note it for --once's failure message. */
static void log_hook_end(app_t *a, const char *label, berth_status_t st,
                         const peers_hook_result_t *res,
                         const berth_error_t *err, int64_t retry_ms)
{
  char code[24];
  char ms[24];
  char retry[24];

  snprintf(code, sizeof(code), "%d", res->exit_code);
  snprintf(ms, sizeof(ms), "%lld", (long long)res->duration_ms);
  snprintf(retry, sizeof(retry), "%lld", (long long)retry_ms);
  if (st == BERTH_OK && res->exit_code == 0) {
    berth_log(BERTH_LOG_INFO, "hook succeeded", "hook", label, "duration_ms",
              ms, NULL);
    return;
  }
  berth_buf_reset(&a->last_error);
  if (st != BERTH_OK)
    berth_buf_appendf(&a->last_error, "%s: %s", label, err->message);
  else if (res->signal != 0)
    berth_buf_appendf(&a->last_error, "%s was killed by signal %d", label,
                      res->signal);
  else
    berth_buf_appendf(&a->last_error, "%s exited with status %d", label,
                      res->exit_code);
  berth_log(BERTH_LOG_WARN, "hook failed; will retry", "hook", label, "error",
            berth_buf_str(&a->last_error), "exit_code", code, "duration_ms", ms,
            "retry_in_ms", retry, NULL);
}

static void run_hook(app_t *a, peers_hook_kind_t kind)
{
  const char *label = kind == PEERS_HOOK_START ? "on-start" : "on-change";
  peers_event_t ev = {label,
                      &a->id,
                      &a->ctl.settled,
                      &a->ctl.hooked,
                      a->opt->address_type,
                      getenv("POD_IP")};
  peers_view_t v = view_of(a);
  peers_hook_req_t req;
  peers_hook_result_t res = {-1, 0, 0};
  berth_error_t err;
  berth_buf_t input;
  char **envp = NULL;
  berth_status_t st;
  bool ok;
  int64_t retry;

  berth_error_clear(&err);
  berth_buf_init(&input);
  memset(&req, 0, sizeof(req));
  st = peers_event_env(&ev, environ, &envp);
  if (st == BERTH_OK)
    st = peers_render_lines(&v, &input);
  if (st != BERTH_OK) {
    berth_error_set(&err, st, "cannot prepare the hook: %s",
                    berth_strerror(st));
  } else {
    req = (peers_hook_req_t){
        label,
        kind == PEERS_HOOK_START ? a->start_argv : a->change_argv,
        envp,
        berth_buf_str(&input),
        input.len,
        a->opt->hook_timeout_ms,
        HOOK_GRACE_MS,
        a->stop_fd};
    log_hook_start(a, label);
    st = peers_hook_run(&req, &res, &err);
  }
  if (st == BERTH_ECANCELED) {
    a->stopping = true;
  } else {
    ok = st == BERTH_OK && res.exit_code == 0;
    a->counters.hook_runs++;
    a->counters.hook_failures += ok ? 0 : 1;
    retry = peers_control_hook_done(&a->ctl, now_ms(), ok);
    log_hook_end(a, label, st, &res, &err, retry);
    publish(a);
  }
  peers_argv_free(envp);
  berth_buf_cleanup(&input);
}

/* --- set-up and the loop ------------------------------------------------ */

static berth_status_t setup_hooks(app_t *a, berth_error_t *err)
{
  const char *start = a->opt->on_start ? a->opt->on_start : a->opt->on_change;
  berth_status_t st = BERTH_OK;

  /* As in peer-finder: without -on-start, -on-change runs first. */
  if (start != NULL)
    st = peers_argv_split(start, &a->start_argv, err);
  if (st == BERTH_OK && a->opt->on_change != NULL)
    st = peers_argv_split(a->opt->on_change, &a->change_argv, err);
  return st;
}

static void setup_control(app_t *a)
{
  peers_control_cfg_t cfg;

  memset(&cfg, 0, sizeof(cfg));
  cfg.debounce_ms = a->opt->debounce_ms;
  cfg.min_peers = a->opt->min_peers;
  cfg.wait_self = a->opt->wait_self;
  cfg.wait_lower = a->opt->wait_lower;
  cfg.with_addrs = a->opt->addresses;
  cfg.start_hook = a->start_argv != NULL;
  cfg.change_hook = a->change_argv != NULL;
  cfg.backoff_ms = a->opt->hook_backoff_ms;
  cfg.backoff_max_ms = a->opt->hook_backoff_ms * HOOK_BACKOFF_FACTOR;
  peers_control_init(&a->ctl, &cfg, &a->id);
}

static berth_status_t setup_http(app_t *a, berth_error_t *err)
{
  char port[16];
  berth_status_t st;
  int bound = 0;

  if (a->opt->http_endpoint == NULL)
    return BERTH_OK;
  st = peers_http_start(a->opt->http_endpoint, &a->status, &a->http, &bound,
                        err);
  if (st == BERTH_OK) {
    snprintf(port, sizeof(port), "%d", bound);
    berth_log(BERTH_LOG_INFO, "http endpoint listening", "endpoint",
              a->opt->http_endpoint, "port", port, NULL);
    publish(a); /* /peers shows who we are before any member is seen */
  }
  return st;
}

/* --source endpoints: start the watch (the DNS resolver is then made
 * only for its names). */
static berth_status_t setup_watch(app_t *a, berth_error_t *err)
{
#ifdef BERTH_PEERS_WATCH
  peers_watch_opts_t wo = {a->opt->kubeconfig, a->opt->ready_only};

  if (a->opt->source_endpoints)
    return peers_watch_start(&wo, &a->id, &a->watch, err);
  return BERTH_OK;
#else
  /* main.c execs berth-peers-endpoints for --source endpoints. */
  if (a->opt->source_endpoints)
    return berth_error_set(err, BERTH_EINVAL,
                           "--source endpoints needs berth-peers-endpoints");
  return BERTH_OK;
#endif
}

/* The mode: --once; "on-start" when -on-start is all there is to do (no
 * -on-change, --render or --http-endpoint), in which case, as peer-finder,
 * the program exits once on-start has succeeded, which is what lets the
 * init container `berth-peers -on-start=... -service=...` finish; else the
 * sidecar, which loops until SIGTERM. */
static const char *app_mode(const peers_options_t *opt)
{
  if (opt->once)
    return "once";
  if (opt->on_start != NULL && opt->on_change == NULL && opt->nrenders == 0 &&
      opt->http_endpoint == NULL)
    return "on-start";
  return "sidecar";
}

static berth_status_t setup(app_t *a, berth_error_t *err)
{
  peers_resolver_opts_t ropts = {a->opt->dns_server, a->opt->port_name,
                                 DNS_TIMEOUT_MS,     DNS_TRIES,
                                 DNS_DEADLINE_MS,    a->stop_fd};
  char ordinal[24];
  berth_status_t st;

  st = peers_identity_resolve(&a->opt->id, &a->id, err);
  if (st == BERTH_OK)
    st = setup_hooks(a, err);
  if (st == BERTH_OK)
    st = peers_resolver_create(&ropts, &a->id, &a->res, err);
  if (st == BERTH_OK)
    st = setup_watch(a, err);
  if (st != BERTH_OK)
    return st;
  setup_control(a);
  snprintf(ordinal, sizeof(ordinal), "%ld", a->id.ordinal);
  berth_log(BERTH_LOG_INFO, "starting", "self", a->id.fqdn, "ordinal", ordinal,
            "service", peers_resolver_srv_name(a->res), "source",
            a->opt->source_endpoints ? "endpoints" : "dns", "namespace_from",
            a->id.ns_source, "domain_from", a->id.domain_source, "dns_server",
            a->opt->dns_server ? a->opt->dns_server : "resolv.conf", "mode",
            app_mode(a->opt), NULL);
  return setup_http(a, err);
}

/* Sleep until at most `until` (monotonic ms) or a stop request. The stop
 * pipe is looked at even when no time is left, so that DNS calls slower
 * than the interval cannot starve it. */
static void wait_until(app_t *a, int64_t until)
{
  struct pollfd pfd[2] = {{.fd = a->stop_fd, .events = POLLIN},
                          {.fd = -1, .events = POLLIN}};
  int64_t left = until - now_ms();

#ifdef BERTH_PEERS_WATCH
  /* The watch's changes wake the loop at once. */
  if (a->watch != NULL)
    pfd[1].fd = peers_watch_fd(a->watch);
#endif
  if (left < 0)
    left = 0;
  if (left > 60000)
    left = 60000;
  if (poll(pfd, 2, (int)left) > 0) {
    if (pfd[0].revents & POLLIN)
      a->stopping = true;
    if (pfd[1].revents & POLLIN)
      a->changed = true;
  }
}

/* Look at the membership: with the watch, only when it announced a change
 * (no polling); with DNS, every --interval. */
static void look(app_t *a, int64_t now, int64_t *next_query)
{
#ifdef BERTH_PEERS_WATCH
  if (a->watch != NULL) {
    if (a->changed)
      observe_watch(a, now);
    a->changed = false;
    *next_query = INT64_MAX;
    return;
  }
#endif
  if (now >= *next_query) {
    observe(a, now);
    *next_query = now + a->opt->interval_ms;
  }
}

/* One round: look up if due, settle, run a due hook. */
static void step(app_t *a, int64_t *next_query)
{
  peers_hook_kind_t kind;
  int64_t now = now_ms();

  look(a, now, next_query);
  if (peers_control_settle(&a->ctl, now))
    on_settled(a);
  kind = peers_control_hook_due(&a->ctl, now);
  if (kind != PEERS_HOOK_NONE)
    run_hook(a, kind);
  if (peers_control_ready(&a->ctl) != a->ctl_ready)
    publish(a);
  a->counters.ready = a->ctl_ready;
  peers_status_set_counters(&a->status, &a->counters);
}

static int loop(app_t *a)
{
  int64_t start = now_ms();
  int64_t deadline = INT64_MAX;
  int64_t next_query = start;
  int64_t next;

  if (a->opt->once && a->opt->timeout_ms > 0)
    deadline = start + a->opt->timeout_ms;
  while (!a->stopping) {
    step(a, &next_query);
    if (strcmp(app_mode(a->opt), "sidecar") != 0 && a->ctl.started) {
      berth_log(BERTH_LOG_INFO, "done", "mode", app_mode(a->opt), NULL);
      return 0;
    }
    if (now_ms() >= deadline) {
      berth_log(BERTH_LOG_ERROR, "gave up: --timeout passed", "reason",
                a->last_error.len ? berth_buf_str(&a->last_error)
                                  : "no answer from DNS yet",
                NULL);
      return 1;
    }
    next = peers_control_next(&a->ctl, now_ms());
    next = next < next_query ? next : next_query;
    wait_until(a, next < deadline ? next : deadline);
  }
  berth_log(BERTH_LOG_INFO, "stopping", NULL);
  return 0;
}

int peers_app_run(const peers_options_t *opt, int stop_fd)
{
  app_t a;
  berth_error_t err;
  int rc = 1;

  memset(&a, 0, sizeof(a));
  a.opt = opt;
  a.stop_fd = stop_fd;
  berth_buf_init(&a.waiting);
  berth_buf_init(&a.last_error);
  peers_status_init(&a.status);
  berth_error_clear(&err);
  if (setup(&a, &err) == BERTH_OK)
    rc = loop(&a);
  else
    berth_log(BERTH_LOG_ERROR, "cannot start", "error", err.message, NULL);
  peers_http_stop(a.http);
  peers_control_cleanup(&a.ctl);
#ifdef BERTH_PEERS_WATCH
  peers_watch_destroy(a.watch);
#endif
  peers_resolver_destroy(a.res);
  peers_argv_free(a.start_argv);
  peers_argv_free(a.change_argv);
  peers_identity_cleanup(&a.id);
  peers_status_cleanup(&a.status);
  berth_buf_cleanup(&a.waiting);
  berth_buf_cleanup(&a.last_error);
  return rc;
}
