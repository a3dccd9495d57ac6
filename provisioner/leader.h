/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: leader election on a coordination.k8s.io/v1 Lease,
 * as client-go's tools/leaderelection.
 *
 * A candidate reads the Lease every retry period (half of it while it
 * stands by, so that it sees a renewal soon after it happens). It takes the
 * Lease when nobody holds it, when it holds it already (a restarted
 * container with the same identity) or when the holder has not renewed it
 * for leaseDurationSeconds, measured on the candidate's own clock from the
 * moment it first saw the holder's last renewal (as client-go, so that
 * clocks need not agree). Writes are conditional on the resourceVersion
 * read, so two candidates never both win.
 *
 * The leader renews every retry period. When it has not renewed for the
 * renew deadline (which is shorter than the lease duration), or when it
 * sees another holder, it has lost: on_lost is called at once, from the
 * election's thread or from prov_leader_check. Stepping down on purpose
 * (SIGTERM) releases the Lease (empty holder) so that a standby takes over
 * at once.
 *
 * Lease requests use a client of their own (no rate limit, short time-out)
 * so that a burst of provisioning never delays a renewal. */
#ifndef BERTH_PROV_LEADER_H
#define BERTH_PROV_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "berth/k8s.h"

typedef struct prov_leader prov_leader_t;

typedef struct prov_leader_options {
  const char *namespace_name; /* the Lease's; NULL: the client's */
  const char *name;           /* the Lease */
  const char *identity;       /* this candidate */
  int64_t lease_ms;
  int64_t renew_ms;
  int64_t retry_ms;
  /* Called once when leadership is lost (not on release). */
  void (*on_lost)(void *ctx, const char *why);
  void *ctx;
} prov_leader_options_t;

typedef enum prov_leader_state {
  PROV_LEADER_STANDBY = 0,
  PROV_LEADER_LEADING,
  PROV_LEADER_LOST,
  PROV_LEADER_RELEASED
} prov_leader_state_t;

/* Start the election's thread. The client is borrowed (use one for the
 * Lease only). Strings are copied. */
berth_status_t prov_leader_start(berth_k8s_client_t *client,
                                 const prov_leader_options_t *opts,
                                 prov_leader_t **out, berth_error_t *err);

prov_leader_state_t prov_leader_state(prov_leader_t *l);

/* From another thread: declare the leadership lost when the renew
 * deadline has passed (the election's thread may be stuck in a request). */
void prov_leader_check(prov_leader_t *l);

/* Stop the thread; when leading, give the Lease up. Then free. Accepts
 * NULL. */
void prov_leader_stop(prov_leader_t *l);

/* Lease transitions seen and whether we lead, for metrics. */
bool prov_leader_is_leading(prov_leader_t *l);

#endif /* BERTH_PROV_LEADER_H */
