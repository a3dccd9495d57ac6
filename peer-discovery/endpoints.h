/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: a membership from a Service's EndpointSlices
 * (discovery.k8s.io/v1), the building block of `--source endpoints`.
 *
 * The EndpointSlice controller gives each endpoint of a pod that has a
 * hostname and a subdomain equal to the Service (every StatefulSet pod of
 * its governing Service) that `hostname`; its DNS name is then
 * <hostname>.<service>.<namespace>.svc.<zone>, the name the DNS source
 * finds too, so that both sources give the same identities, order, hooks
 * and renders. Conditions as the API documents them
 * (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/):
 * `ready` and `serving` absent mean true ("unknown: interpret as ready"),
 * `terminating` absent means false. A member is ready when it is ready and
 * not terminating. Each member carries its endpoint's conditions
 * (PEERS_COND_*, members.h). The watch itself is watch.h. */
#ifndef BERTH_PEERS_ENDPOINTS_H
#define BERTH_PEERS_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "berth/status.h"

#include "members.h"

/* What peers_endpoints_members found. */
typedef struct peers_endpoints_result {
  peers_set_t members; /* every member, or only the ready ones (ready_only) */
  peers_set_t ready;   /* the ready ones (BERTH_READY_PEERS) */
  size_t skipped;      /* endpoints without a hostname, or with a bad one */
} peers_endpoints_result_t;

/* Initialise and free a result (cleanup accepts NULL). */
void peers_endpoints_result_init(peers_endpoints_result_t *r);
void peers_endpoints_result_cleanup(peers_endpoints_result_t *r);

/* Fill *r (initialised, empty) from slices, a JSON array of EndpointSlice
 * objects (the informer's list): only the slices labelled
 * kubernetes.io/service-name=service and of addressType IPv4 or IPv6
 * (FQDN slices name no pod). domain is "<namespace>.svc.<zone>". Members
 * seen in several slices (dual stack: one slice per family) are merged,
 * with the addresses of each. Both sets come sorted by ordinal. A field of
 * the wrong type is BERTH_EPARSE naming the slice and the field; *r is then
 * left empty. */
berth_status_t peers_endpoints_members(const json_t *slices,
                                       const char *service, const char *domain,
                                       bool ready_only,
                                       peers_endpoints_result_t *r,
                                       berth_error_t *err);

#endif /* BERTH_PEERS_ENDPOINTS_H */
