/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: when to act on what DNS shows.
 *
 * A pure state machine (time is passed in, nothing is run here), so that
 * debouncing, gating and retries are tested without DNS or processes:
 *
 *  - observed: the last membership DNS gave (a failed look-up changes
 *    nothing: berth-peers keeps what it knew);
 *  - settled: observed once it has stayed the same for the debounce time
 *    and passes the gate. Before the first settle the gate is: this member
 *    seen (unless wait_self is off), at least min_peers members, and with
 *    wait_lower every lower ordinal present; afterwards only self seen, as
 *    peer-finder does. Renderers follow settled;
 *  - hooked: settled at the last successful hook. A hook is due when
 *    nothing has run yet (on-start), or settled differs from hooked
 *    (on-change); a failure is retried after a jittered, growing delay
 *    ("equal jitter": half fixed, half random, doubling up to a cap). */
#ifndef BERTH_PEERS_CONTROL_H
#define BERTH_PEERS_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/buf.h"
#include "berth/clock.h"

#include "identity.h"
#include "members.h"

typedef struct peers_control_cfg {
  int64_t debounce_ms;
  long min_peers;
  bool wait_self;
  bool wait_lower;
  bool with_addrs;          /* address changes count as changes */
  bool start_hook;          /* something to run first (on-start or on-change) */
  bool change_hook;         /* something to run on changes */
  int64_t backoff_ms;       /* first retry delay */
  int64_t backoff_max_ms;   /* the cap */
  const berth_rand_t *rand; /* NULL: the system source */
} peers_control_cfg_t;

typedef enum peers_hook_kind {
  PEERS_HOOK_NONE = 0,
  PEERS_HOOK_START,
  PEERS_HOOK_CHANGE
} peers_hook_kind_t;

typedef struct peers_control {
  peers_control_cfg_t cfg;
  const peers_identity_t *self; /* borrowed */
  peers_set_t observed;
  bool have_observed;
  int64_t observed_at; /* when observed last changed */
  peers_set_t settled;
  bool have_settled;
  unsigned settle_count; /* how many times settled changed */
  peers_set_t hooked;    /* empty before the first successful hook */
  bool started;          /* the first hook succeeded (or there is none) */
  unsigned attempt;      /* failures in a row */
  int64_t retry_at;      /* no hook before this time */
} peers_control_t;

/* Initialise with cfg (copied) and self (borrowed; must outlive ctl). */
void peers_control_init(peers_control_t *ctl, const peers_control_cfg_t *cfg,
                        const peers_identity_t *self);

/* Free what ctl owns. Accepts NULL. */
void peers_control_cleanup(peers_control_t *ctl);

/* Record a successful look-up at time now; set (sorted here) is moved
 * into ctl and left empty. An absent Service is an empty set. */
void peers_control_observe(peers_control_t *ctl, int64_t now, peers_set_t *set);

/* true when set passes the gate (see above); otherwise false and, when
 * why is not NULL, the first unmet condition appended to it. */
bool peers_control_gate(const peers_control_t *ctl, const peers_set_t *set,
                        berth_buf_t *why);

/* Settle observed if it is due; true when settled changed now. */
bool peers_control_settle(peers_control_t *ctl, int64_t now);

/* The hook due at now, or PEERS_HOOK_NONE. Silently marks as done what
 * has no hook to run. */
peers_hook_kind_t peers_control_hook_due(peers_control_t *ctl, int64_t now);

/* Record the outcome of the hook that hook_due asked for; returns the
 * delay before a retry (0 after a success). */
int64_t peers_control_hook_done(peers_control_t *ctl, int64_t now, bool ok);

/* true when this member is ready: the first hook has succeeded (or there
 * is none) and settled has this member and at least min_peers members. */
bool peers_control_ready(const peers_control_t *ctl);

/* The earliest time after now at which settle or hook_due may act
 * without a new observation; INT64_MAX when none. */
int64_t peers_control_next(const peers_control_t *ctl, int64_t now);

#endif /* BERTH_PEERS_CONTROL_H */
