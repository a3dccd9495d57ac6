/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: configuration files rendered from the membership.
 *
 * --render KIND[,KEY=VALUE...]:PATH writes PATH whenever the rendered text
 * changes (see files.h). Members without an ordinal are left out of the
 * kinds that number members (zookeeper, mongo). KINDs and what they write,
 * for members web-0..web-2 of web.default.svc.cluster.local:
 *
 *   zookeeper      server.1=web-0.web.default.svc.cluster.local:2888:3888
 *                  ... (id = ordinal + 1; port=P sets the quorum port, the
 *                  election port is P + 1000), and this member's id into
 *                  the file "myid" in PATH's directory
 *   etcd           YAML keys name, initial-advertise-peer-urls,
 *                  initial-cluster (web-0=http://<fqdn>:2380,...) and
 *                  initial-cluster-state: "new" on the first render of
 *                  this process, "existing" after a membership change
 *                  (port=P sets the peer port)
 *   mongo          the replica-set document for rs.initiate/rs.reconfig:
 *                  {"_id": <name>, "members": [{"_id": <ordinal>,
 *                  "host": "<fqdn>:27017"}, ...]}; members after the first
 *                  seven get priority 0 and votes 0, since a replica set
 *                  has at most seven voting members (name=S sets the set
 *                  name, default the service; port=P)
 *   cassandra      a seed_provider block with the first count=N (3) members
 *                  as seeds (port=P appends ":P")
 *   elasticsearch  discovery.seed_hosts (every member, port 9300) and
 *                  cluster.initial_master_nodes (the first count=N (3)
 *                  host names)
 *   json           the whole membership, as /peers serves it
 *   lines          one name per line (addresses with -addresses), as the
 *                  hooks get it on standard input */
#ifndef BERTH_PEERS_RENDER_H
#define BERTH_PEERS_RENDER_H

#include <stdbool.h>

#include "berth/buf.h"
#include "berth/status.h"

#include "identity.h"
#include "members.h"

typedef enum peers_render_kind {
  PEERS_RENDER_ZOOKEEPER,
  PEERS_RENDER_ETCD,
  PEERS_RENDER_MONGO,
  PEERS_RENDER_CASSANDRA,
  PEERS_RENDER_ELASTICSEARCH,
  PEERS_RENDER_JSON,
  PEERS_RENDER_LINES
} peers_render_kind_t;

typedef struct peers_render_spec {
  peers_render_kind_t kind;
  char *path; /* owned */
  long port;  /* 0: the kind's default */
  long count; /* 0: the kind's default */
  char *name; /* owned; NULL: the kind's default */
} peers_render_spec_t;

/* What renderers see. */
typedef struct peers_view {
  const peers_identity_t *self;
  const peers_set_t *peers; /* sorted */
  bool first;               /* the first membership this process settled */
  bool addresses;           /* -addresses: peers as addresses */
  const char *family;       /* -address-type IPv4 or IPv6: addresses of
                               that family only; NULL: any (IPv4 first) */
} peers_view_t;

/* Parse a --render argument into *out (clean it up with
 * peers_render_spec_cleanup). Unknown kinds or keys, a bad number or an
 * empty path give BERTH_EINVAL with a message. */
berth_status_t peers_render_spec_parse(const char *arg,
                                       peers_render_spec_t *out,
                                       berth_error_t *err);

/* Free what a spec owns. Accepts NULL. */
void peers_render_spec_cleanup(peers_render_spec_t *spec);

/* The kind's name ("zookeeper"). */
const char *peers_render_kind_name(peers_render_kind_t kind);

/* Render spec's main file into out and, for zookeeper, the myid file into
 * extra (left empty otherwise, or when this member has no ordinal). */
berth_status_t peers_render(const peers_render_spec_t *spec,
                            const peers_view_t *view, berth_buf_t *out,
                            berth_buf_t *extra, berth_error_t *err);

/* The peers as the hooks get them: one per line, each line ended by
 * '\n'; with view->addresses, each member's first address (IPv4 first;
 * of view->family only, when set) instead of its name, leaving out
 * members without one. */
berth_status_t peers_render_lines(const peers_view_t *view, berth_buf_t *out);

/* The membership as a JSON document (pretty-printed, keys in a fixed
 * order); with ready >= 0, a "ready" member too (for /peers). */
berth_status_t peers_render_json(const peers_view_t *view, int ready,
                                 berth_buf_t *out);

#endif /* BERTH_PEERS_RENDER_H */
