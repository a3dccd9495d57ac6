/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the claim state machine's decisions, apart from its
 * effects (reconcile_claim.c reads the facts, asks here, and acts).
 *
 * Pure functions: what a sync knows about a claim (its facts) and what
 * the backend or the API answered go in, the next step comes out. The
 * steps are described at the top of reconcile_claim.c. */
#ifndef BERTH_PROV_CLAIM_DECIDE_H
#define BERTH_PROV_CLAIM_DECIDE_H

#include <stdbool.h>

#include "berth/status.h"

/* What one sync knows about a claim. */
typedef struct prov_claim_facts {
  bool going;         /* deletionTimestamp set, or gone from the cache */
  bool guarded;       /* held in flight, or an older berth's finalizer */
  bool pv_exists;     /* pvc-<uid> cached, or made by this process */
  bool bound;         /* spec.volumeName is set */
  bool ours;          /* annotation and class name one of ours */
  bool class_missing; /* its annotation names ours; the class is not
                         cached (yet) */
  bool wait_for_node; /* WaitForFirstConsumer, no selected-node yet */
} prov_claim_facts_t;

typedef enum prov_claim_next {
  PROV_NEXT_NOTHING = 0, /* done: not ours, not guarded, or waiting for
                            the scheduler (its annotation queues it) */
  PROV_NEXT_WAIT_CLASS,  /* back off: the class may appear */
  PROV_NEXT_UNGUARD,     /* the PV exists: forget the claim in flight,
                            drop the old finalizer if present */
  PROV_NEXT_RESIZE,      /* bound and ours: grow if asked, then unguard */
  PROV_NEXT_CLEANUP,     /* going, guarded, no PV: remove its storage */
  PROV_NEXT_PROVISION,   /* CHECK, GUARD, BACKEND, SAVE, BOUND */
  /* After the backend call (prov_claim_after_backend): */
  PROV_NEXT_SAVE,    /* create the PV */
  PROV_NEXT_REFUSE,  /* nothing was written: ProvisioningFailed,
                        unguard, back off */
  PROV_NEXT_BACKOFF, /* ProvisioningFailed, keep the guard, back off:
                        the next attempt finds what was made */
  /* After the PV create (prov_claim_after_save): */
  PROV_NEXT_SUCCEEDED, /* saved (201, or 409: pvc-<uid> is this
                          claim's): ProvisioningSucceeded, unguard */
  PROV_NEXT_UNDO       /* refused for good (400, 422): delete the
                          storage, unguard, ProvisioningFailed */
} prov_claim_next_t;

/* The first step for a claim with these facts. */
prov_claim_next_t prov_claim_decide(const prov_claim_facts_t *f);

/* After the backend's provision answered st: SAVE, REFUSE or BACKOFF. */
prov_claim_next_t prov_claim_after_backend(berth_status_t st);

/* After the PV create answered st: SUCCEEDED, UNDO or BACKOFF. */
prov_claim_next_t prov_claim_after_save(berth_status_t st);

/* The step's name ("PROVISION"), for logs and tests. Static. */
const char *prov_claim_next_name(prov_claim_next_t n);

#endif /* BERTH_PROV_CLAIM_DECIDE_H */
