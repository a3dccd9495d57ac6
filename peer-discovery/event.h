/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: what a hook is told about a membership change.
 *
 * Environment (on top of berth's own, which the hook inherits):
 *
 *   BERTH_EVENT       on-start or on-change
 *   BERTH_SELF        this member's FQDN
 *   BERTH_ORDINAL     this member's ordinal ("" when it has none)
 *   BERTH_PEERS       every peer's FQDN, comma-separated, in ordinal order
 *   BERTH_PEER_COUNT  how many peers
 *   BERTH_PRIMARY     the FQDN of the peer with the lowest ordinal
 *   BERTH_ADDED       peers new since the last successful run (on-start:
 *                     every peer), comma-separated
 *   BERTH_REMOVED     peers gone since the last successful run
 *   BERTH_READY_PEERS the peers that are ready, comma-separated, in
 *                     ordinal order: with --source endpoints those whose
 *                     endpoint is ready and not terminating; with DNS every
 *                     peer (DNS names only ready endpoints)
 *   BERTH_SERVICE, BERTH_NAMESPACE, BERTH_DOMAIN   the parts of the names
 *
 * and kmodules/peer-finder's, by -address-type:
 *
 *   HOST_ADDRESS       DNS: BERTH_SELF; IP: this member's first address
 *                      (IPv4 first); IPv4, IPv6: its first of that family
 *   HOST_ADDRESS_TYPE  DNS, IPv4 or IPv6
 *   POD_IP             DNS: $POD_IP (the downward API's), else this
 *                      member's first address; otherwise HOST_ADDRESS
 *   POD_IP_TYPE        IPv4 or IPv6 ("" when there is no address)
 *
 * Every value is made from names checked by peers_name_normalize, so none
 * holds anything but letters, digits, '-', '.' and ','. */
#ifndef BERTH_PEERS_EVENT_H
#define BERTH_PEERS_EVENT_H

#include "berth/status.h"

#include "identity.h"
#include "members.h"

typedef struct peers_event {
  const char *kind; /* "on-start" or "on-change" */
  const peers_identity_t *self;
  const peers_set_t *peers;  /* the membership now, sorted */
  const peers_set_t *before; /* at the last successful run */
  const char *address_type;  /* DNS, IP, IPv4, IPv6 (NULL: DNS) */
  const char *pod_ip;        /* berth-peers' own $POD_IP, or NULL */
} peers_event_t;

/* Build the hook's environment: base (may be NULL) without any variable
 * that the list above sets, then the list. *out is a new NULL-terminated
 * vector; free it with peers_argv_free. */
berth_status_t peers_event_env(const peers_event_t *ev, char *const *base,
                               char ***out);

#endif /* BERTH_PEERS_EVENT_H */
