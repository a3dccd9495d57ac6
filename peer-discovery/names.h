/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the names of StatefulSet members.
 *
 * Kubernetes gives every StatefulSet pod the host name "<set>-<ordinal>"
 * and, under a headless Service, the DNS name
 * "<host>.<svc>.<ns>.svc.<zone>". Names that reach berth-peers come from a
 * DNS server, so they are checked here before they can reach a file, an
 * environment variable or a hook's standard input: every label must be an
 * RFC 1123 host label (letters, digits and '-', not at either end, 1 to 63
 * characters) and the whole name at most 253 characters (RFC 1035 section
 * 2.3.4). That rejects shell and path characters, white space, control
 * characters, '_' and escaped bytes alike. */
#ifndef BERTH_PEERS_NAMES_H
#define BERTH_PEERS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/status.h"

/* The longest name without its trailing dot. */
#define PEERS_NAME_MAX 253
/* The longest label. */
#define PEERS_LABEL_MAX 63
/* The largest ordinal accepted (Kubernetes replicas are an int32). */
#define PEERS_ORDINAL_MAX 2147483647L

/* true when the len bytes at label form an RFC 1123 host label. */
bool peers_label_valid(const char *label, size_t len);

/* Check a host name from DNS or the command line and return a new copy in
 * *out (free() it): ASCII lower case, without one trailing dot. A name
 * that is empty, too long, or has a label that is not an RFC 1123 host
 * label gives BERTH_EINVAL with the reason in err. */
berth_status_t peers_name_normalize(const char *name, char **out,
                                    berth_error_t *err);

/* The length of the first label of name (up to the first '.'). */
size_t peers_name_host_len(const char *name);

/* The ordinal of a StatefulSet member: the number after the last '-' of
 * the first label of name ("web-12.web.default..." gives 12). -1 when the
 * label has no such suffix, a leading zero ("web-01"; Kubernetes never
 * makes one), nothing before the '-', or a number over PEERS_ORDINAL_MAX. */
long peers_name_ordinal(const char *name);

#endif /* BERTH_PEERS_NAMES_H */
