/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: `--source endpoints`, the membership from a watch of the
 * Service's EndpointSlices (discovery.k8s.io/v1) through libberth's
 * informer (berth/k8s_informer.h).
 *
 * The informer lists the slices labelled kubernetes.io/service-name=<svc>
 * in the pod's namespace, then watches them (410 Gone and dropped watches
 * are its business: it relists or resumes). Each change it delivers makes
 * a pipe readable, which the program's loop polls beside its stop pipe:
 * a change reaches the hooks without any polling, and at rest nothing is
 * asked of the API server but the watch's periodic renewal.
 *
 * Credentials: a kubeconfig (-kubeconfig, else $KUBECONFIG), else the
 * in-cluster service account, as client-go resolves them. The sidecar's
 * service account needs get, list and watch on
 * endpointslices.discovery.k8s.io in its namespace: a Forbidden answer at
 * start is an error naming that Role (PEERS_WATCH_ROLE,
 * deploy/overlays/peers).
 *
 * Built only into berth-peers-endpoints (BERTH_PEERS_WATCH), which
 * berth-peers execs for --source endpoints (main.c). */
#ifndef BERTH_PEERS_WATCH_H
#define BERTH_PEERS_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/status.h"

#include "identity.h"
#include "members.h"

/* The Role (and RoleBinding) deploy/overlays/peers ships. */
#define PEERS_WATCH_ROLE "berth-peers-endpointslices"

typedef struct peers_watch peers_watch_t;

typedef struct peers_watch_opts {
  const char *kubeconfig; /* NULL: $KUBECONFIG, then in-cluster */
  bool ready_only;        /* members are only the ready endpoints */
} peers_watch_opts_t;

/* Load the credentials, check that the slices can be listed (a 403 is
 * BERTH_EFORBIDDEN with a message naming the Role) and start the informer
 * for id's Service (id is borrowed and must outlive the watch). *out is
 * set only on success; free with peers_watch_destroy. */
berth_status_t peers_watch_start(const peers_watch_opts_t *opts,
                                 const peers_identity_t *id,
                                 peers_watch_t **out, berth_error_t *err);

/* Stop and free w. Accepts NULL. */
void peers_watch_destroy(peers_watch_t *w);

/* A descriptor that becomes readable when the slices changed (and after
 * the first list). peers_watch_members empties it. */
int peers_watch_fd(const peers_watch_t *w);

/* true once the first list is in. */
bool peers_watch_synced(peers_watch_t *w);

/* The membership the cached slices give now, into out (emptied first);
 * sorted, each member with its endpoint's conditions. BERTH_ENOTFOUND:
 * the first list is not in yet (out empty); BERTH_EPARSE: a slice the
 * informer holds is malformed (err names it). */
berth_status_t peers_watch_members(peers_watch_t *w, peers_set_t *out,
                                   berth_error_t *err);

/* The HTTP requests sent (lists, watches, retries) and the watches
 * opened, since start. */
void peers_watch_counts(peers_watch_t *w, uint64_t *requests,
                        uint64_t *watches);

#endif /* BERTH_PEERS_WATCH_H */
