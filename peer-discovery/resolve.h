/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the membership as DNS gives it, through lib/dns.
 *
 * One look-up is: the SRV records of "<svc>.<ns>.svc.<zone>" (or of
 * "_<port>._tcp.<svc>..." with --port-name), then the A and AAAA records
 * of each target. Targets must be "<label>.<svc>.<ns>.svc.<zone>" with an
 * RFC 1123 label: anything else (shell or path characters, '_', over-long
 * names, names outside the Service) is left out and logged once per name.
 * Addresses are kept for their records' TTL and asked again after it, so
 * a steady membership costs one SRV query per interval. */
#ifndef BERTH_PEERS_RESOLVE_H
#define BERTH_PEERS_RESOLVE_H

#include <stdint.h>

#include "berth/dns.h"
#include "berth/status.h"

#include "identity.h"
#include "members.h"

typedef struct peers_resolver peers_resolver_t;

typedef struct peers_resolver_opts {
  const char *servers;   /* "HOST:PORT", or NULL for resolv.conf */
  const char *port_name; /* named port for _<port>._tcp, or NULL */
  int timeout_ms;        /* per try */
  int tries;
  int deadline_ms; /* per DNS call */
  int cancel_fd;   /* readable: stop between calls; -1: none */
} peers_resolver_opts_t;

/* Create a resolver for id's Service (id is borrowed and must outlive
 * it). *out is set only on success; free with peers_resolver_destroy. */
berth_status_t peers_resolver_create(const peers_resolver_opts_t *opts,
                                     const peers_identity_t *id,
                                     peers_resolver_t **out,
                                     berth_error_t *err);

/* Free r. Accepts NULL. */
void peers_resolver_destroy(peers_resolver_t *r);

/* The SRV name asked ("web.default.svc.cluster.local"). Borrowed. */
const char *peers_resolver_srv_name(const peers_resolver_t *r);

/* Look the membership up at time now (monotonic ms) into out (emptied
 * first). BERTH_OK: out holds the members; BERTH_ENOTFOUND: the Service
 * has no SRV records (NXDOMAIN or NODATA: not created yet, or no member
 * ready), out is empty; anything else: DNS failed (err says how) and out
 * is empty; BERTH_ECANCELED: cancel_fd became readable between two DNS
 * calls. */
berth_status_t peers_resolve(peers_resolver_t *r, int64_t now, peers_set_t *out,
                             berth_error_t *err);

/* DNS queries asked and failed (timeouts, SERVFAIL, refused; not
 * NXDOMAIN), since creation. */
void peers_resolver_counts(const peers_resolver_t *r, uint64_t *queries,
                           uint64_t *failures);

/* Receives an SRV target that is not a member, and why. */
typedef void (*peers_reject_fn)(void *ctx, const char *name, const char *why);

/* The members an SRV answer names, added to out: each target checked and
 * normalised (peers_name_normalize) and kept only when it is
 * "<one label>.<service_fqdn>"; the others go to reject_fn. What
 * peers_resolve does with every answer; no I/O. */
berth_status_t peers_srv_members(const char *service_fqdn,
                                 const berth_dns_srv_list_t *srv,
                                 peers_set_t *out, peers_reject_fn reject_fn,
                                 void *ctx);

#endif /* BERTH_PEERS_RESOLVE_H */
