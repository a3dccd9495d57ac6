/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: renderers, see render.h. */
#include "render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/json.h"

typedef struct kind_info {
  const char *name;
  long port;  /* default port, 0: none */
  long count; /* default count, 0: all */
} kind_info_t;

/* Indexed by peers_render_kind_t. */
static const kind_info_t kinds[] = {
    {"zookeeper", 2888, 0}, {"etcd", 2380, 0},          {"mongo", 27017, 0},
    {"cassandra", 0, 3},    {"elasticsearch", 9300, 3}, {"json", 0, 0},
    {"lines", 0, 0},
};

#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

/* MongoDB allows at most seven voting members in a replica set
 * (https://www.mongodb.com/docs/manual/reference/limits/). */
#define MONGO_MAX_VOTING 7

const char *peers_render_kind_name(peers_render_kind_t kind)
{
  return (size_t)kind < KIND_COUNT ? kinds[kind].name : "unknown";
}

void peers_render_spec_cleanup(peers_render_spec_t *spec)
{
  if (spec == NULL)
    return;
  free(spec->path);
  free(spec->name);
  memset(spec, 0, sizeof(*spec));
}

/* Apply one "key=value" option to spec. */
static berth_status_t parse_option(const char *opt, size_t len,
                                   peers_render_spec_t *spec,
                                   berth_error_t *err)
{
  char *copy = strndup(opt, len);
  char *eq = copy ? strchr(copy, '=') : NULL;
  long long n = 0;
  berth_status_t st = BERTH_OK;

  if (copy == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (eq == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "option '%s' is not KEY=VALUE",
                         copy);
    goto done;
  }
  *eq++ = '\0';
  if (strcmp(copy, "port") == 0 || strcmp(copy, "count") == 0) {
    st = berth_str_to_ll(eq, 1, copy[0] == 'p' ? 65535 : 1000, &n);
    if (st != BERTH_OK)
      st = berth_error_set(err, BERTH_EINVAL, "bad number in %s=%s", copy, eq);
    else if (copy[0] == 'p')
      spec->port = (long)n;
    else
      spec->count = (long)n;
  } else if (strcmp(copy, "name") == 0 && *eq != '\0') {
    const char *c;

    /* The name goes into rendered files: no control bytes (DEL too). */
    for (c = eq; *c != '\0'; c++) {
      if ((unsigned char)*c < 0x20 || *c == 0x7f) {
        st = berth_error_set(err, BERTH_EINVAL,
                             "name=: control characters are not allowed");
        goto done;
      }
    }
    free(spec->name);
    spec->name = strdup(eq);
    st = spec->name ? BERTH_OK : BERTH_ENOMEM;
  } else {
    st = berth_error_set(err, BERTH_EINVAL,
                         "unknown option '%s' (port, count, name)", copy);
  }
done:
  free(copy);
  return st;
}

berth_status_t peers_render_spec_parse(const char *arg,
                                       peers_render_spec_t *out,
                                       berth_error_t *err)
{
  peers_render_spec_t spec;
  const char *colon = strchr(arg, ':');
  const char *p;
  const char *end;
  size_t klen;
  size_t i;
  berth_status_t st = BERTH_OK;

  memset(&spec, 0, sizeof(spec));
  if (colon == NULL || colon[1] == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "--render wants KIND[,KEY=VALUE...]:PATH, not '%s'",
                           arg);
  klen = strcspn(arg, ",:");
  for (i = 0; i < KIND_COUNT; i++)
    if (strlen(kinds[i].name) == klen && strncmp(arg, kinds[i].name, klen) == 0)
      break;
  if (i == KIND_COUNT)
    return berth_error_set(err, BERTH_EINVAL,
                           "unknown render kind '%.*s' (zookeeper, etcd, "
                           "mongo, cassandra, elasticsearch, json, lines)",
                           (int)klen, arg);
  spec.kind = (peers_render_kind_t)i;
  for (p = arg + klen; st == BERTH_OK && p < colon; p = end) {
    p++;
    end = p + strcspn(p, ",:");
    st = parse_option(p, (size_t)(end - p), &spec, err);
  }
  /* The election port is the quorum port + 1000. */
  if (st == BERTH_OK && spec.kind == PEERS_RENDER_ZOOKEEPER &&
      spec.port > 64535)
    st = berth_error_set(err, BERTH_EINVAL,
                         "zookeeper port=%ld: the "
                         "election port would be over 65535",
                         spec.port);
  if (st == BERTH_OK)
    spec.path = strdup(colon + 1);
  if (st == BERTH_OK && spec.path == NULL)
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (st == BERTH_OK)
    *out = spec;
  else
    peers_render_spec_cleanup(&spec);
  return st;
}

static long spec_port(const peers_render_spec_t *spec)
{
  return spec->port ? spec->port : kinds[spec->kind].port;
}

static size_t spec_count(const peers_render_spec_t *spec, size_t total)
{
  size_t n = (size_t)(spec->count ? spec->count : kinds[spec->kind].count);

  return n == 0 || n > total ? total : n;
}

static berth_status_t render_zookeeper(const peers_render_spec_t *spec,
                                       const peers_view_t *v, berth_buf_t *out,
                                       berth_buf_t *extra)
{
  const peers_set_t *s = v->peers;
  long port = spec_port(spec);
  berth_status_t st = BERTH_OK;
  size_t i;

  /* ZooKeeper server ids are 1..255 in practice; ordinal + 1 as in the
   * Kubernetes ZooKeeper tutorial. */
  for (i = 0; i < s->count && st == BERTH_OK; i++)
    if (s->items[i].ordinal >= 0)
      st = berth_buf_appendf(out, "server.%ld=%s:%ld:%ld\n",
                             s->items[i].ordinal + 1, s->items[i].name, port,
                             port + 1000);
  if (st == BERTH_OK && extra != NULL && v->self->ordinal >= 0)
    st = berth_buf_appendf(extra, "%ld\n", v->self->ordinal + 1);
  return st;
}

static berth_status_t render_etcd(const peers_render_spec_t *spec,
                                  const peers_view_t *v, berth_buf_t *out)
{
  const peers_set_t *s = v->peers;
  long port = spec_port(spec);
  berth_status_t st;
  size_t i;

  /* etcd configuration file keys (etcd.conf.yml): initial-cluster lists
   * name=peer-URL pairs; "new" bootstraps, "existing" joins. */
  st = berth_buf_appendf(out,
                         "name: %s\ninitial-advertise-peer-urls: "
                         "http://%s:%ld\ninitial-cluster: ",
                         v->self->host, v->self->fqdn, port);
  for (i = 0; i < s->count && st == BERTH_OK; i++)
    st = berth_buf_appendf(out, "%s%s=http://%s:%ld", i ? "," : "",
                           s->items[i].host, s->items[i].name, port);
  if (st == BERTH_OK)
    st = berth_buf_appendf(out, "\ninitial-cluster-state: %s\n",
                           v->first ? "new" : "existing");
  return st;
}

/* Dump a JSON document with two-space indentation and a final newline;
 * consumes doc's reference. */
static berth_status_t dump_pretty(json_t *doc, berth_buf_t *out)
{
  char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
  berth_status_t st = BERTH_ENOMEM;

  if (text != NULL) {
    st = berth_buf_append_str(out, text);
    if (st == BERTH_OK)
      st = berth_buf_append_byte(out, '\n');
  }
  free(text);
  json_decref(doc);
  return st;
}

static berth_status_t render_mongo(const peers_render_spec_t *spec,
                                   const peers_view_t *v, berth_buf_t *out)
{
  const peers_set_t *s = v->peers;
  json_t *members = json_array();
  json_t *m;
  char host[512];
  size_t voting = 0;
  size_t i;

  /* Member _id is the ordinal, so that it stays the same across
   * rs.reconfig as MongoDB requires. */
  for (i = 0; i < s->count && members != NULL; i++) {
    if (s->items[i].ordinal < 0)
      continue;
    snprintf(host, sizeof(host), "%s:%ld", s->items[i].name, spec_port(spec));
    m = json_pack("{s:I,s:s}", "_id", (json_int_t)s->items[i].ordinal, "host",
                  host);
    if (m != NULL && ++voting > MONGO_MAX_VOTING) {
      json_object_set_new(m, "priority", json_integer(0));
      json_object_set_new(m, "votes", json_integer(0));
    }
    if (m == NULL || json_array_append_new(members, m) != 0) {
      json_decref(members);
      members = NULL;
    }
  }
  if (members == NULL)
    return BERTH_ENOMEM;
  return dump_pretty(json_pack("{s:s,s:o}", "_id",
                               spec->name ? spec->name : v->self->service,
                               "members", members),
                     out);
}

static berth_status_t render_cassandra(const peers_render_spec_t *spec,
                                       const peers_view_t *v, berth_buf_t *out)
{
  size_t n = spec_count(spec, v->peers->count);
  berth_status_t st;
  size_t i;

  /* cassandra.yaml: seeds are a comma list given to SimpleSeedProvider;
   * a few per data centre, never every node. */
  st = berth_buf_append_str(out,
                            "seed_provider:\n"
                            "  - class_name: "
                            "org.apache.cassandra.locator.SimpleSeedProvider\n"
                            "    parameters:\n"
                            "      - seeds: \"");
  for (i = 0; i < n && st == BERTH_OK; i++) {
    st = berth_buf_appendf(out, "%s%s", i ? "," : "", v->peers->items[i].name);
    if (st == BERTH_OK && spec->port)
      st = berth_buf_appendf(out, ":%ld", spec->port);
  }
  return st == BERTH_OK ? berth_buf_append_str(out, "\"\n") : st;
}

static berth_status_t render_elasticsearch(const peers_render_spec_t *spec,
                                           const peers_view_t *v,
                                           berth_buf_t *out)
{
  const peers_set_t *s = v->peers;
  size_t n = spec_count(spec, s->count);
  berth_status_t st;
  size_t i;

  /* elasticsearch.yml: seed hosts are transport addresses; the initial
   * master nodes are node names (node.name defaults to the host name) and
   * must be the same on every node, hence the lowest ordinals. */
  st = berth_buf_append_str(out, "discovery.seed_hosts:\n");
  for (i = 0; i < s->count && st == BERTH_OK; i++)
    st = berth_buf_appendf(out, "  - %s:%ld\n", s->items[i].name,
                           spec_port(spec));
  if (st == BERTH_OK)
    st = berth_buf_append_str(out, "cluster.initial_master_nodes:\n");
  for (i = 0; i < n && st == BERTH_OK; i++)
    st = berth_buf_appendf(out, "  - %s\n", s->items[i].host);
  return st;
}

/* m's first address of family ("IPv4", "IPv6" or NULL for any), or NULL.
 * Addresses are canonical text: IPv6 ones, and only they, hold ':'. */
static const char *first_addr(const peers_member_t *m, const char *family)
{
  size_t i;

  for (i = 0; i < m->naddrs; i++) {
    bool v6 = strchr(m->addrs[i], ':') != NULL;
    if (family == NULL || v6 == (strcmp(family, "IPv6") == 0))
      return m->addrs[i];
  }
  return NULL;
}

berth_status_t peers_render_lines(const peers_view_t *view, berth_buf_t *out)
{
  const peers_member_t *m;
  const char *a;
  berth_status_t st = BERTH_OK;
  size_t i;

  for (i = 0; i < view->peers->count && st == BERTH_OK; i++) {
    m = &view->peers->items[i];
    if (!view->addresses)
      st = berth_buf_appendf(out, "%s\n", m->name);
    else if ((a = first_addr(m, view->family)) != NULL)
      st = berth_buf_appendf(out, "%s\n", a);
  }
  return st;
}

static json_t *member_json(const peers_member_t *m)
{
  json_t *addrs = json_array();
  json_t *obj;
  size_t i;

  for (i = 0; i < m->naddrs && addrs != NULL; i++)
    if (json_array_append_new(addrs, json_string(m->addrs[i])) != 0) {
      json_decref(addrs);
      addrs = NULL;
    }
  if (addrs == NULL)
    return NULL;
  obj = json_pack("{s:s,s:s,s:o,s:I,s:o}", "name", m->name, "host", m->host,
                  "ordinal",
                  m->ordinal >= 0 ? json_integer(m->ordinal) : json_null(),
                  "port", (json_int_t)m->port, "addresses", addrs);
  /* The endpoint's conditions, when the source knows them (DNS does not:
   * its documents stay as they were). */
  if (obj != NULL && (m->conds & PEERS_COND_KNOWN) != 0) {
    json_object_set_new(obj, "ready", json_boolean(peers_member_ready(m)));
    json_object_set_new(
        obj, "conditions",
        json_pack("{s:b,s:b,s:b}", "ready", (m->conds & PEERS_COND_READY) != 0,
                  "serving", (m->conds & PEERS_COND_SERVING) != 0,
                  "terminating", (m->conds & PEERS_COND_TERMINATING) != 0));
  }
  return obj;
}

berth_status_t peers_render_json(const peers_view_t *view, int ready,
                                 berth_buf_t *out)
{
  const peers_identity_t *id = view->self;
  const peers_member_t *primary = peers_set_primary(view->peers);
  json_t *list = json_array();
  json_t *doc;
  size_t i;

  for (i = 0; i < view->peers->count && list != NULL; i++)
    if (json_array_append_new(list, member_json(&view->peers->items[i])) != 0) {
      json_decref(list);
      list = NULL;
    }
  if (list == NULL)
    return BERTH_ENOMEM;
  doc = json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:o,s:I,s:o}", "service",
                  id->service, "namespace", id->ns, "domain", id->domain,
                  "self", id->fqdn, "ordinal",
                  id->ordinal >= 0 ? json_integer(id->ordinal) : json_null(),
                  "self_seen", peers_set_find(view->peers, id->fqdn) != NULL,
                  "primary", primary ? json_string(primary->name) : json_null(),
                  "count", (json_int_t)view->peers->count, "peers", list);
  if (doc != NULL && ready >= 0)
    json_object_set_new(doc, "ready", json_boolean(ready));
  return dump_pretty(doc, out);
}

berth_status_t peers_render(const peers_render_spec_t *spec,
                            const peers_view_t *view, berth_buf_t *out,
                            berth_buf_t *extra, berth_error_t *err)
{
  berth_status_t st = BERTH_EINVAL;

  switch (spec->kind) {
  case PEERS_RENDER_ZOOKEEPER:
    st = render_zookeeper(spec, view, out, extra);
    break;
  case PEERS_RENDER_ETCD:
    st = render_etcd(spec, view, out);
    break;
  case PEERS_RENDER_MONGO:
    st = render_mongo(spec, view, out);
    break;
  case PEERS_RENDER_CASSANDRA:
    st = render_cassandra(spec, view, out);
    break;
  case PEERS_RENDER_ELASTICSEARCH:
    st = render_elasticsearch(spec, view, out);
    break;
  case PEERS_RENDER_JSON:
    st = peers_render_json(view, -1, out);
    break;
  case PEERS_RENDER_LINES:
    st = peers_render_lines(view, out);
    break;
  }
  if (st != BERTH_OK)
    berth_error_set(err, st, "render %s: %s",
                    peers_render_kind_name(spec->kind), berth_strerror(st));
  return st;
}
