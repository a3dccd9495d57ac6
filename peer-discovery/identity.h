/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: who this member is.
 *
 * A StatefulSet pod's host name is "<set>-<ordinal>"; under the governing
 * headless Service its DNS name is "<host>.<svc>.<ns>.svc.<zone>"
 * (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/).
 * Each part comes from the first source that has it:
 *
 *   host       --hostname, $HOSTNAME, gethostname()
 *   namespace  -ns, $POD_NAMESPACE, the service-account namespace file
 *   zone       -domain, the resolv.conf "search" entry "[<ns>.]svc.<zone>",
 *              "cluster.local"
 *
 * Sources are passed in, so that tests need no environment. */
#ifndef BERTH_PEERS_IDENTITY_H
#define BERTH_PEERS_IDENTITY_H

#include <stdbool.h>

#include "berth/status.h"

#define PEERS_NS_FILE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#define PEERS_RESOLV_CONF "/etc/resolv.conf"
#define PEERS_DEFAULT_DOMAIN "cluster.local"

typedef struct peers_identity_opts {
  const char *hostname;      /* --hostname, or NULL */
  const char *service;       /* -service: required */
  const char *ns;            /* -ns, or NULL */
  const char *domain;        /* -domain, or NULL */
  const char *env_hostname;  /* $HOSTNAME, or NULL */
  const char *env_namespace; /* $POD_NAMESPACE, or NULL */
  const char *ns_file;       /* NULL: PEERS_NS_FILE */
  const char *resolv_conf;   /* NULL: PEERS_RESOLV_CONF */
  /* true: do not call gethostname() (tests). */
  bool no_gethostname;
} peers_identity_opts_t;

typedef struct peers_identity {
  char *host;         /* own host label, lower case ("web-3") */
  char *base;         /* host without its "-<ordinal>" ("web") */
  long ordinal;       /* -1 when host has none */
  char *service;      /* "web" */
  char *ns;           /* "default" */
  char *domain;       /* cluster zone, "cluster.local" */
  char *service_fqdn; /* "web.default.svc.cluster.local" */
  char *fqdn;         /* "web-3.web.default.svc.cluster.local" */
  /* Where host, namespace and zone came from ("flag", "env", "file",
   * "resolv.conf", "gethostname", "default"), for the start-up log. */
  const char *host_source;
  const char *ns_source;
  const char *domain_source;
} peers_identity_t;

/* Work out the identity from opts. Every part is checked with
 * peers_name_normalize (labels for host, service and namespace). A
 * missing service or namespace, or an invalid part, is BERTH_EINVAL with a
 * message naming it. *out is filled only on success; clean it up with
 * peers_identity_cleanup. */
berth_status_t peers_identity_resolve(const peers_identity_opts_t *opts,
                                      peers_identity_t *out,
                                      berth_error_t *err);

/* Free what an identity owns. Accepts NULL. */
void peers_identity_cleanup(peers_identity_t *id);

/* Find the cluster zone in resolv.conf text: the first "search" entry
 * of the form "svc.<zone>" or "<label>.svc.<zone>" (the last "search"
 * line wins, as in resolv.conf(5)). *out is a new string; BERTH_ENOTFOUND
 * when there is none. */
berth_status_t peers_zone_from_resolv_conf(const char *text, char **out);

#endif /* BERTH_PEERS_IDENTITY_H */
