/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl peers SERVICE: the membership berth-peers would compute for a
 * StatefulSet's headless Service, from the same code (peer-discovery's
 * identity, resolve, members and render, linked as berth_peers_core):
 * SRV records, then each member's A/AAAA; ordinals sorted numerically; the
 * primary is the lowest ordinal. Only DNS is asked: no API access. */
#include "ctl.h"

#include "identity.h"
#include "members.h"
#include "render.h"
#include "resolve.h"

#include "berth/k8s.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A person waits: a little longer than berth-peers' 700 ms per call. */
#define PEERS_CTL_TIMEOUT_MS 500
#define PEERS_CTL_TRIES 2
#define PEERS_CTL_DEADLINE_MS 3000

static int64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The namespace: -n, $POD_NAMESPACE (as berth-peers), the kubeconfig
 * context's, "default". New string. */
static char *pick_namespace(ctl_ctx_t *ctx)
{
  berth_k8s_config_options_t co;
  const char *env = getenv("POD_NAMESPACE");
  char *ns = NULL;

  if (ctx->opt->namespace_name != NULL)
    return strdup(ctx->opt->namespace_name);
  if (env != NULL && env[0] != '\0')
    return strdup(env);
  memset(&co, 0, sizeof(co));
  co.kubeconfig = ctx->opt->kubeconfig;
  co.context = ctx->opt->context;
  berth_k8s_config_init(&ctx->cfg);
  if (berth_k8s_config_load(&co, &ctx->cfg, NULL) == BERTH_OK) {
    ctx->cfg_loaded = true;
    if (ctx->cfg.namespace_name != NULL)
      ns = strdup(ctx->cfg.namespace_name);
  }
  return ns != NULL ? ns : strdup("default");
}

static json_t *member_json(const peers_member_t *m, bool primary)
{
  json_t *addrs = json_array();
  json_t *o;
  size_t i;

  for (i = 0; i < m->naddrs; i++)
    json_array_append_new(addrs, json_string(m->addrs[i]));
  o = json_pack("{s:s,s:s,s:o,s:i,s:o,s:b}", "name", m->name, "host", m->host,
                "ordinal",
                m->ordinal >= 0 ? json_integer(m->ordinal) : json_null(),
                "port", (int)m->port, "addresses", addrs, "primary", primary);
  return o;
}

static void print_table(ctl_ctx_t *ctx, const peers_identity_t *id,
                        const peers_set_t *set)
{
  const peers_member_t *primary = peers_set_primary(set);
  ctl_table_t *t = ctl_table_create();
  size_t i;
  size_t k;

  if (t == NULL)
    return;
  ctl_table_column(t, "ORDINAL", true);
  ctl_table_column(t, "NAME", true);
  ctl_table_column(t, "PORT", true);
  ctl_table_column(t, "ROLE", true);
  ctl_table_column(t, "ADDRESSES", true);
  for (i = 0; i < set->count; i++) {
    const peers_member_t *m = &set->items[i];
    berth_buf_t addrs;
    bool self = ctx->opt->as_host != NULL && strcmp(m->name, id->fqdn) == 0;

    berth_buf_init(&addrs);
    for (k = 0; k < m->naddrs; k++)
      berth_buf_appendf(&addrs, "%s%s", k ? "," : "", m->addrs[k]);
    ctl_table_row(t);
    if (m->ordinal >= 0)
      ctl_table_cellf(t, "%ld", m->ordinal);
    else
      ctl_table_cell(t, "-");
    ctl_table_cell(t, m->name);
    if (m->port > 0)
      ctl_table_cellf(t, "%u", m->port);
    else
      ctl_table_cell(t, "-");
    if (m == primary || self)
      ctl_table_cellf(t, "%s%s%s", m == primary ? "primary" : "",
                      m == primary && self ? "," : "", self ? "self" : "");
    else
      ctl_table_cell(t, "member");
    ctl_table_cell(t, addrs.len ? berth_buf_str(&addrs) : "-");
    berth_buf_cleanup(&addrs);
  }
  ctl_table_print(t, ctx->out, !ctx->opt->no_headers);
  ctl_table_destroy(t);
}

static int print_view(ctl_ctx_t *ctx, const peers_identity_t *id,
                      const char *srv, const peers_set_t *set)
{
  const ctl_options_t *opt = ctx->opt;
  const peers_member_t *primary = peers_set_primary(set);
  json_t *list;
  json_t *doc;
  size_t i;
  int rc;

  if (opt->output == CTL_OUT_NAME) {
    for (i = 0; i < set->count; i++)
      fprintf(ctx->out, "%s\n", set->items[i].name);
    return CTL_EXIT_OK;
  }
  if (!ctl_output_is_doc(ctx)) {
    print_table(ctx, id, set);
    return CTL_EXIT_OK;
  }
  list = json_array();
  for (i = 0; i < set->count; i++)
    json_array_append_new(
        list, member_json(&set->items[i], &set->items[i] == primary));
  doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s?,s:o}", "service", id->service,
                  "namespace", id->ns, "domain", id->domain, "srv", srv,
                  "count", (json_int_t)set->count, "primary",
                  primary ? primary->name : NULL, "peers", list);
  if (doc != NULL && opt->as_host != NULL) {
    long missing = -1;

    json_object_set_new(doc, "self", json_string(id->fqdn));
    json_object_set_new(doc, "ordinal",
                        id->ordinal >= 0 ? json_integer(id->ordinal)
                                         : json_null());
    json_object_set_new(doc, "selfSeen",
                        json_boolean(peers_set_find(set, id->fqdn) != NULL));
    json_object_set_new(
        doc, "lowerOrdinalsPresent",
        json_boolean(id->ordinal < 0 ||
                     peers_set_has_lower(set, id->base, id->ordinal,
                                         id->service_fqdn, &missing)));
  }
  rc = ctl_print_doc(ctx, doc);
  json_decref(doc);
  return rc;
}

static int render(ctl_ctx_t *ctx, const peers_identity_t *id,
                  const peers_set_t *set)
{
  peers_render_spec_t spec;
  peers_view_t view;
  berth_buf_t out;
  berth_buf_t extra;
  berth_error_t err;
  berth_status_t st;
  char *arg;
  int rc = CTL_EXIT_OK;

  /* berth-peers' --render KIND[,KEY=VALUE...]:PATH, printed instead of
   * written. */
  arg = berth_strdup_printf("%s:-", ctx->opt->render);
  if (arg == NULL)
    return ctl_fail(ctx, "out of memory");
  memset(&spec, 0, sizeof(spec));
  berth_error_clear(&err);
  st = peers_render_spec_parse(arg, &spec, &err);
  free(arg);
  if (st != BERTH_OK)
    return ctl_usage_error(ctx, "--render: %s", err.message);
  memset(&view, 0, sizeof(view));
  view.self = id;
  view.peers = set;
  view.first = true;
  berth_buf_init(&out);
  berth_buf_init(&extra);
  st = peers_render(&spec, &view, &out, &extra, &err);
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx, "%s", err.message);
  } else {
    fputs(berth_buf_str(&out), ctx->out);
    if (extra.len > 0)
      fprintf(ctx->err, "(and myid, beside it: %s)\n",
              berth_str_trim((char *)berth_buf_str(&extra)));
  }
  berth_buf_cleanup(&out);
  berth_buf_cleanup(&extra);
  peers_render_spec_cleanup(&spec);
  return rc;
}

int ctl_run_peers(ctl_ctx_t *ctx)
{
  const ctl_options_t *opt = ctx->opt;
  peers_identity_opts_t io;
  peers_identity_t id;
  peers_resolver_opts_t ro;
  peers_resolver_t *r = NULL;
  peers_set_t set;
  berth_error_t err;
  berth_status_t st;
  const char *dns = opt->dns_server;
  char *ns = NULL;
  int rc = CTL_EXIT_ERROR;

  memset(&id, 0, sizeof(id));
  peers_set_init(&set);
  berth_error_clear(&err);
  if (opt->nargs != 1)
    return ctl_usage_error(ctx, "peers needs one SERVICE: the StatefulSet's "
                                "governing headless Service");
  if (dns == NULL || dns[0] == '\0')
    dns = getenv("BERTH_DNS_SERVER");
  if (dns != NULL && dns[0] == '\0')
    dns = NULL;
  ns = pick_namespace(ctx);
  memset(&io, 0, sizeof(io));
  /* Without --member there is no "self": a host name without an ordinal
   * stands in for it. */
  io.hostname = opt->as_host != NULL ? opt->as_host : opt->args[0];
  io.service = opt->args[0];
  io.ns = ns;
  io.domain = opt->domain;
  io.no_gethostname = true;
  st = peers_identity_resolve(&io, &id, &err);
  if (st != BERTH_OK) {
    rc = ctl_usage_error(ctx, "%s", err.message);
    goto done;
  }
  memset(&ro, 0, sizeof(ro));
  ro.servers = dns;
  ro.port_name = opt->port_name;
  ro.timeout_ms = PEERS_CTL_TIMEOUT_MS;
  ro.tries = PEERS_CTL_TRIES;
  ro.deadline_ms = opt->request_timeout_ms > 0 ? (int)opt->request_timeout_ms
                                               : PEERS_CTL_DEADLINE_MS;
  ro.cancel_fd = -1;
  st = peers_resolver_create(&ro, &id, &r, &err);
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx,
                  "%s (--dns-server wants HOST:PORT with a numeric "
                  "address)",
                  err.message);
    goto done;
  }
  st = peers_resolve(r, mono_ms(), &set, &err);
  if (st == BERTH_ENOTFOUND) {
    rc = ctl_fail(ctx,
                  "%s has no SRV records: is %s the StatefulSet's "
                  "headless Service (clusterIP: None) in namespace %s, "
                  "with ready pods? (kubectl get endpoints -n %s %s; "
                  "-n and --domain pick another namespace or zone)",
                  peers_resolver_srv_name(r), id.service, id.ns, id.ns,
                  id.service);
    goto done;
  }
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx,
                  "DNS look-up of %s failed: %s (is the DNS server %s "
                  "up? --dns-server HOST:PORT asks another)",
                  peers_resolver_srv_name(r),
                  err.message[0] ? err.message : berth_strerror(st),
                  dns ? dns : "of /etc/resolv.conf");
    goto done;
  }
  peers_set_sort(&set);
  if (opt->render != NULL)
    rc = render(ctx, &id, &set);
  else
    rc = print_view(ctx, &id, peers_resolver_srv_name(r), &set);

done:
  peers_set_cleanup(&set);
  peers_resolver_destroy(r);
  peers_identity_cleanup(&id);
  free(ns);
  return rc;
}
