/* SPDX-License-Identifier: Apache-2.0 */
/* berth: DNS look-ups through c-ares, for Kubernetes service discovery.
 *
 * A berth_dns_t is one c-ares channel with its servers, per-try timeout,
 * number of tries and a deadline for each whole call. The calls are
 * synchronous: each one drives c-ares's event loop with poll() until the
 * answer arrives, c-ares gives up, or the deadline passes, so that no call
 * can hang. A handle is used by one thread at a time; use one handle per
 * thread for parallel look-ups.
 *
 * Kubernetes DNS (https://github.com/kubernetes/dns/blob/master/docs/
 * specification.md) gives a headless Service's members as A/AAAA records
 * of `<svc>.<ns>.svc.<zone>`, each member's own name as
 * `<host>.<svc>.<ns>.svc.<zone>`, and SRV records at
 * `_<port>._<proto>.<svc>.<ns>.svc.<zone>`. Names compare without case
 * (RFC 4343); use berth_dns_name_eq rather than strcmp.
 *
 * Failures: a name that does not exist (NXDOMAIN) or exists without
 * records of the asked type (NODATA) gives BERTH_ENOTFOUND with
 * err->reason "NXDOMAIN" or "NODATA"; no answer in time gives
 * BERTH_ETIMEOUT; a refused connection, SERVFAIL, REFUSED or a malformed
 * reply gives BERTH_EDNS; a malformed name gives BERTH_EINVAL. */
#ifndef BERTH_DNS_H
#define BERTH_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest name in presentation form without the trailing dot
 * (RFC 1035 section 2.3.4: 255 octets on the wire). */
#define BERTH_DNS_NAME_MAX 253

/* Room for any IPv4 or IPv6 address in text form, with its NUL
 * (INET6_ADDRSTRLEN). */
#define BERTH_DNS_ADDRSTRLEN 46

typedef struct berth_dns berth_dns_t;

/* Options of berth_dns_create: zero it, then set what differs from the
 * defaults, so that fields added later keep their defaults. */
typedef struct berth_dns_options {
  /* "HOST:PORT[,HOST:PORT...]" with numeric addresses ("127.0.0.1:53",
   * "[::1]:53"; the port may be left out for 53), or NULL to use the
   * name servers of /etc/resolv.conf. Copied; the caller keeps it. */
  const char *servers;
  /* Time to wait for an answer on the first try, in ms; c-ares doubles it
   * on each round through the servers. 0 means 1000. */
  int timeout_ms;
  /* Times to ask each server. 0 means 2. */
  int tries;
  /* Upper bound on a whole call (every try, server, family and search
   * domain), in ms; when it passes the call gives BERTH_ETIMEOUT.
   * 0 means 4 * timeout_ms * tries. */
  int deadline_ms;
  /* true: apply the search domains and ndots of /etc/resolv.conf to names
   * that are not absolute, as a pod's resolver does. false (the default):
   * every name is asked exactly as given. */
  bool use_search;
} berth_dns_options_t;

/* One address of a name. */
typedef struct berth_dns_addr {
  int family;                      /* AF_INET or AF_INET6 */
  char addr[BERTH_DNS_ADDRSTRLEN]; /* text form, from inet_ntop */
  uint32_t ttl;                    /* seconds, from the answer */
} berth_dns_addr_t;

/* The addresses of a name, in the order c-ares sorts them (RFC 6724
 * destination address selection). Free with berth_dns_addrs_free. */
typedef struct berth_dns_addrs {
  size_t count; /* at least 1 */
  berth_dns_addr_t items[];
} berth_dns_addrs_t;

/* One SRV record (RFC 2782). */
typedef struct berth_dns_srv {
  char target[BERTH_DNS_NAME_MAX + 1]; /* lower case, no trailing dot */
  uint16_t port;
  uint16_t priority;
  uint16_t weight;
  /* Seconds. Always 0 for now: c-ares 1.18's ares_parse_srv_reply does
   * not return TTLs. */
  uint32_t ttl;
} berth_dns_srv_t;

/* The SRV records of a name, in the order of the answer. Free with
 * berth_dns_srv_list_free. */
typedef struct berth_dns_srv_list {
  size_t count; /* at least 1 */
  berth_dns_srv_t items[];
} berth_dns_srv_list_t;

/* Create a resolver from opts (NULL: all defaults). Initialises c-ares
 * once per process. *out is set only on success and is owned by the
 * caller: free it with berth_dns_destroy. Gives BERTH_EINVAL for bad
 * options (an unparsable servers string, a negative timeout). */
berth_status_t berth_dns_create(const berth_dns_options_t *opts,
                                berth_dns_t **out, berth_error_t *err);

/* Free dns and its c-ares channel. No call is ever pending between calls,
 * so nothing is cancelled. Accepts NULL. */
void berth_dns_destroy(berth_dns_t *dns);

/* Look up the addresses of name: family AF_INET asks for A records,
 * AF_INET6 for AAAA, AF_UNSPEC for both (success when either has any).
 * Only DNS is asked, never /etc/hosts, so that TTLs are real; a numeric
 * address ("10.0.0.1") comes back as it is, with ttl 0. name is
 * borrowed for the call. On success *out is new (the caller frees it with
 * berth_dns_addrs_free) and holds at least one address. */
berth_status_t berth_dns_resolve_addrs(berth_dns_t *dns, const char *name,
                                       int family, berth_dns_addrs_t **out,
                                       berth_error_t *err);

/* Look up the SRV records of name (for example
 * "_http._tcp.web.default.svc.cluster.local"). name is borrowed for the
 * call. On success *out is new (the caller frees it with
 * berth_dns_srv_list_free) and holds at least one record. */
berth_status_t berth_dns_resolve_srv(berth_dns_t *dns, const char *name,
                                     berth_dns_srv_list_t **out,
                                     berth_error_t *err);

/* Free a result of berth_dns_resolve_addrs. Accepts NULL. */
void berth_dns_addrs_free(berth_dns_addrs_t *addrs);

/* Free a result of berth_dns_resolve_srv. Accepts NULL. */
void berth_dns_srv_list_free(berth_dns_srv_list_t *list);

/* true when a and b name the same node: ASCII case-insensitive
 * (RFC 4343), each ignoring one trailing dot ("Web-0.web." equals
 * "web-0.web"). NULLs are equal only to each other. Pure. */
bool berth_dns_name_eq(const char *a, const char *b);

/* Put name into the form berth compares and prints: ASCII lower case,
 * without one trailing dot. In place; returns name. NULL gives NULL. */
char *berth_dns_name_normalize(char *name);

/* true when name is a well-formed host or service name: 1 to 253
 * characters (not counting one trailing dot), labels of 1 to 63 letters,
 * digits, '-' or '_' separated by single dots (RFC 1035 section 2.3.4;
 * '_' for SRV labels as in RFC 2782). Pure. */
bool berth_dns_name_valid(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_DNS_H */
