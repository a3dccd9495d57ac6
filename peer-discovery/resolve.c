/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: membership look-ups, see resolve.h. */
#include "resolve.h"

#include "names.h"

#include "berth/buf.h"
#include "berth/log.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Remember at most this many rejected names, to log each once. */
#define REJECTED_MAX 64
/* Never keep addresses longer than this, whatever the TTL says. */
#define TTL_CAP_MS ((int64_t)300 * 1000)

typedef struct addr_cache {
  char *name;
  berth_dns_addrs_t *addrs; /* NULL: the name has no addresses */
  int64_t expires;
} addr_cache_t;

struct peers_resolver {
  berth_dns_t *dns;
  const peers_identity_t *id;
  char *srv_name;
  addr_cache_t *cache;
  size_t ncache;
  char *rejected[REJECTED_MAX];
  size_t nrejected;
  uint64_t queries;
  uint64_t failures;
  int cancel_fd;
};

berth_status_t peers_resolver_create(const peers_resolver_opts_t *opts,
                                     const peers_identity_t *id,
                                     peers_resolver_t **out, berth_error_t *err)
{
  berth_dns_options_t dopts;
  peers_resolver_t *r = calloc(1, sizeof(*r));
  berth_status_t st;

  if (r == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  memset(&dopts, 0, sizeof(dopts));
  dopts.servers = opts->servers;
  dopts.timeout_ms = opts->timeout_ms;
  dopts.tries = opts->tries;
  dopts.deadline_ms = opts->deadline_ms;
  r->id = id;
  r->cancel_fd = opts->cancel_fd;
  if (opts->port_name != NULL)
    r->srv_name =
        berth_strdup_printf("_%s._tcp.%s", opts->port_name, id->service_fqdn);
  else
    r->srv_name = strdup(id->service_fqdn);
  st = r->srv_name ? berth_dns_create(&dopts, &r->dns, err) : BERTH_ENOMEM;
  if (st == BERTH_OK)
    *out = r;
  else
    peers_resolver_destroy(r);
  return st;
}

static void cache_clear(peers_resolver_t *r)
{
  size_t i;

  for (i = 0; i < r->ncache; i++) {
    free(r->cache[i].name);
    berth_dns_addrs_free(r->cache[i].addrs);
  }
  free(r->cache);
  r->cache = NULL;
  r->ncache = 0;
}

void peers_resolver_destroy(peers_resolver_t *r)
{
  size_t i;

  if (r == NULL)
    return;
  cache_clear(r);
  for (i = 0; i < r->nrejected; i++)
    free(r->rejected[i]);
  berth_dns_destroy(r->dns);
  free(r->srv_name);
  free(r);
}

const char *peers_resolver_srv_name(const peers_resolver_t *r)
{
  return r->srv_name;
}

void peers_resolver_counts(const peers_resolver_t *r, uint64_t *queries,
                           uint64_t *failures)
{
  *queries = r->queries;
  *failures = r->failures;
}

/* Log a rejected SRV target, once per name. */
static void reject(peers_resolver_t *r, const char *name, const char *why)
{
  size_t i;

  for (i = 0; i < r->nrejected; i++)
    if (strcmp(r->rejected[i], name) == 0)
      return;
  berth_log(BERTH_LOG_WARN, "ignoring a DNS answer that is not a member",
            "service", r->srv_name, "target", name, "reason", why, NULL);
  if (r->nrejected < REJECTED_MAX && (r->rejected[r->nrejected] = strdup(name)))
    r->nrejected++;
}

/* true when name is "<one label>.<service fqdn>". */
static bool in_service(const char *service_fqdn, const char *name)
{
  size_t host = peers_name_host_len(name);

  return name[host] == '.' && strcmp(name + host + 1, service_fqdn) == 0;
}

static addr_cache_t *cache_find(peers_resolver_t *r, const char *name)
{
  size_t i;

  for (i = 0; i < r->ncache; i++)
    if (strcmp(r->cache[i].name, name) == 0)
      return &r->cache[i];
  return NULL;
}

static int64_t addrs_ttl_ms(const berth_dns_addrs_t *a)
{
  int64_t ttl = TTL_CAP_MS;
  size_t i;

  for (i = 0; a != NULL && i < a->count; i++)
    if ((int64_t)a->items[i].ttl * 1000 < ttl)
      ttl = (int64_t)a->items[i].ttl * 1000;
  return a != NULL ? ttl : 0;
}

/* Remember addrs (taken over, may be NULL) for name until its TTL. */
static berth_status_t cache_put(peers_resolver_t *r, const char *name,
                                berth_dns_addrs_t *addrs, int64_t now)
{
  addr_cache_t *c = cache_find(r, name);
  addr_cache_t *grown;

  if (c == NULL) {
    grown = realloc(r->cache, (r->ncache + 1) * sizeof(*grown));
    if (grown == NULL) {
      berth_dns_addrs_free(addrs);
      return BERTH_ENOMEM;
    }
    r->cache = grown;
    c = &r->cache[r->ncache];
    memset(c, 0, sizeof(*c));
    c->name = strdup(name);
    if (c->name == NULL) {
      berth_dns_addrs_free(addrs);
      return BERTH_ENOMEM;
    }
    r->ncache++;
  }
  berth_dns_addrs_free(c->addrs);
  c->addrs = addrs;
  c->expires = now + addrs_ttl_ms(addrs);
  return BERTH_OK;
}

/* Drop cached names that are not in set any more. */
static void cache_prune(peers_resolver_t *r, const peers_set_t *set)
{
  size_t i = 0;

  while (i < r->ncache) {
    if (peers_set_find(set, r->cache[i].name) != NULL) {
      i++;
      continue;
    }
    free(r->cache[i].name);
    berth_dns_addrs_free(r->cache[i].addrs);
    r->cache[i] = r->cache[--r->ncache];
  }
}

/* Fill m's addresses from the cache or from DNS. */
static berth_status_t member_addrs(peers_resolver_t *r, peers_member_t *m,
                                   int64_t now, berth_error_t *err)
{
  addr_cache_t *c = cache_find(r, m->name);
  berth_dns_addrs_t *addrs = NULL;
  berth_status_t st = BERTH_OK;
  size_t i;

  if (c == NULL || now >= c->expires) {
    r->queries++;
    st = berth_dns_resolve_addrs(r->dns, m->name, AF_UNSPEC, &addrs, err);
    /* A target without addresses is still a member, by name. */
    if (st == BERTH_ENOTFOUND)
      st = BERTH_OK;
    if (st != BERTH_OK) {
      r->failures++;
      return st;
    }
    st = cache_put(r, m->name, addrs, now);
    c = cache_find(r, m->name);
  }
  for (i = 0; st == BERTH_OK && c->addrs != NULL && i < c->addrs->count; i++)
    st = peers_member_add_addr(m, c->addrs->items[i].addr);
  return st == BERTH_EINVAL ? BERTH_OK : st;
}

/* true when a stop was asked for (the fd is readable). */
static bool cancelled(const peers_resolver_t *r)
{
  struct pollfd pfd = {.fd = r->cancel_fd, .events = POLLIN};

  return r->cancel_fd >= 0 && poll(&pfd, 1, 0) > 0 &&
         (pfd.revents & POLLIN) != 0;
}

/* The rejection callback of peers_srv_members for a resolver. */
static void reject_cb(void *ctx, const char *name, const char *why)
{
  reject(ctx, name, why);
}

berth_status_t peers_srv_members(const char *service_fqdn,
                                 const berth_dns_srv_list_t *srv,
                                 peers_set_t *out, peers_reject_fn reject_fn,
                                 void *ctx)
{
  berth_error_t why;
  berth_status_t st = BERTH_OK;
  char *name = NULL;
  size_t i;

  for (i = 0; i < srv->count && st == BERTH_OK; i++) {
    berth_error_clear(&why);
    st = peers_name_normalize(srv->items[i].target, &name, &why);
    if (st == BERTH_EINVAL) {
      reject_fn(ctx, srv->items[i].target, why.message);
      st = BERTH_OK;
    } else if (st == BERTH_OK && !in_service(service_fqdn, name)) {
      reject_fn(ctx, name, "not a member name of the service");
    } else if (st == BERTH_OK) {
      st = peers_set_add(out, name, srv->items[i].port, NULL, NULL);
    }
    free(name);
    name = NULL;
  }
  return st;
}

berth_status_t peers_resolve(peers_resolver_t *r, int64_t now, peers_set_t *out,
                             berth_error_t *err)
{
  berth_dns_srv_list_t *srv = NULL;
  berth_status_t st;
  size_t i;

  peers_set_cleanup(out);
  r->queries++;
  st = berth_dns_resolve_srv(r->dns, r->srv_name, &srv, err);
  if (st != BERTH_OK) {
    if (st != BERTH_ENOTFOUND)
      r->failures++;
    goto done;
  }
  st = peers_srv_members(r->id->service_fqdn, srv, out, reject_cb, r);
  for (i = 0; i < out->count && st == BERTH_OK; i++)
    st = cancelled(r) ? BERTH_ECANCELED
                      : member_addrs(r, &out->items[i], now, err);
  if (st == BERTH_OK)
    cache_prune(r, out);
done:
  berth_dns_srv_list_free(srv);
  if (st != BERTH_OK)
    peers_set_cleanup(out);
  return st;
}
