/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: a membership, the set of peers found in DNS.
 *
 * Members are kept by name (the FQDN of their DNS record, checked and
 * lower-cased by peers_name_normalize, so that names compare without case
 * as RFC 4343 says). After peers_set_sort they are in ordinal order,
 * numerically ("web-2" before "web-10"), and names without an ordinal come
 * after every numbered one, in name order. */
#ifndef BERTH_PEERS_MEMBERS_H
#define BERTH_PEERS_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/buf.h"
#include "berth/status.h"

typedef struct peers_member {
  char *name;    /* FQDN, lower case, no trailing dot; owned */
  char *host;    /* its first label; owned */
  long ordinal;  /* trailing -N of host, or -1 */
  unsigned port; /* port of its SRV record; 0 when unknown */
  char **addrs;  /* text addresses, IPv4 first, each family in order */
  size_t naddrs;
  unsigned conds; /* PEERS_COND_* (EndpointSlice source); 0: unknown (DNS) */
} peers_member_t;

/* An endpoint's conditions, as the EndpointSlice source gives them. DNS
 * knows none (conds 0): a DNS member is taken as ready, since the SRV
 * records hold only ready endpoints unless the Service publishes not-ready
 * addresses. Conditions are part of a member's identity for
 * peers_set_equal, so that a member going NotReady is a change. */
#define PEERS_COND_KNOWN 1u
#define PEERS_COND_READY 2u
#define PEERS_COND_SERVING 4u
#define PEERS_COND_TERMINATING 8u

/* true when m is ready: its conditions are unknown, or it is ready and
 * not terminating. */
bool peers_member_ready(const peers_member_t *m);

typedef struct peers_set {
  peers_member_t *items;
  size_t count;
  size_t cap;
} peers_set_t;

/* Initialise an empty set. */
void peers_set_init(peers_set_t *set);

/* Free every member and leave the set empty. Accepts NULL. */
void peers_set_cleanup(peers_set_t *set);

/* Add the member called name (checked and normalised; a hostile name is
 * BERTH_EINVAL and the set is unchanged). A name already present (in any
 * case, with or without a trailing dot) is not added twice. *out (may be
 * NULL) receives the member, borrowed from the set until it next changes. */
berth_status_t peers_set_add(peers_set_t *set, const char *name, unsigned port,
                             peers_member_t **out, berth_error_t *err);

/* Add a text address to a member, unless it is already there. Anything
 * inet_pton does not read as IPv4 or IPv6 is BERTH_EINVAL. The address is
 * stored in inet_ntop's canonical form, in order (IPv4 first). */
berth_status_t peers_member_add_addr(peers_member_t *m, const char *addr);

/* Sort by ordinal as described above. */
void peers_set_sort(peers_set_t *set);

/* The member called name (compared without case, trailing dot ignored),
 * or NULL. Borrowed. */
const peers_member_t *peers_set_find(const peers_set_t *set, const char *name);

/* true when a and b hold the same names with the same conditions (and,
 * if with_addrs, the same addresses), in any order. */
bool peers_set_equal(const peers_set_t *a, const peers_set_t *b,
                     bool with_addrs);

/* Replace dst's contents with a deep copy of src. On failure dst is
 * left empty. */
berth_status_t peers_set_copy(peers_set_t *dst, const peers_set_t *src);

/* Move src's members into dst (whose old members are freed); src is left
 * empty. */
void peers_set_move(peers_set_t *dst, peers_set_t *src);

/* Append to added the names in now but not in before, and to removed the
 * names in before but not in now, each as a comma-separated list in now's
 * (resp. before's) order. */
berth_status_t peers_set_diff(const peers_set_t *before, const peers_set_t *now,
                              berth_buf_t *added, berth_buf_t *removed);

/* Append the names of set to out, separated by sep. */
berth_status_t peers_set_join(const peers_set_t *set, const char *sep,
                              berth_buf_t *out);

/* The primary: the member with the lowest ordinal (the first after a
 * sort), or NULL for an empty set. Borrowed. */
const peers_member_t *peers_set_primary(const peers_set_t *set);

/* For an ordered start: true when every "<base>-<i>.<domain>" for i in
 * 0..ordinal-1 is in set. Otherwise false, and *missing (may be NULL) is
 * the lowest ordinal not found. */
bool peers_set_has_lower(const peers_set_t *set, const char *base, long ordinal,
                         const char *domain, long *missing);

#endif /* BERTH_PEERS_MEMBERS_H */
