/* SPDX-License-Identifier: Apache-2.0 */
/* berth: coordination.k8s.io/v1 Lease objects, the building block of
 * leader election (the election itself lives in the provisioner).
 *
 * A Lease is read into, and written from, a plain struct. Updates are
 * conditional on the resourceVersion read: a stale one fails with
 * BERTH_ECONFLICT, which is how two candidates never both win. Times are
 * metav1.MicroTime, kept as ms since the epoch. */
#ifndef BERTH_K8S_LEASE_H
#define BERTH_K8S_LEASE_H

#include <stdint.h>

#include "berth/k8s.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_k8s_lease {
  char holder_identity[256];        /* "" when nobody holds it */
  long long lease_duration_seconds; /* 0 when unset */
  int64_t acquire_time_ms;          /* 0 when unset */
  int64_t renew_time_ms;            /* 0 when unset */
  long long lease_transitions;
  char resource_version[64]; /* as read; the update's precondition */
  char uid[64];
} berth_k8s_lease_t;

/* GET the Lease ns/name (ns NULL: the client's namespace) into *out. */
berth_status_t berth_k8s_lease_get(berth_k8s_client_t *c, const char *ns,
                                   const char *name, berth_k8s_lease_t *out,
                                   berth_error_t *err);

/* Create the Lease ns/name from *in (resource_version ignored); *out (may
 * be NULL, may be in) gets what the server stored. BERTH_EEXIST when it is
 * there already. */
berth_status_t berth_k8s_lease_create(berth_k8s_client_t *c, const char *ns,
                                      const char *name,
                                      const berth_k8s_lease_t *in,
                                      berth_k8s_lease_t *out,
                                      berth_error_t *err);

/* Replace the Lease's spec with *in, on condition that it is still at
 * in->resource_version (BERTH_ECONFLICT otherwise). *out as for create. */
berth_status_t berth_k8s_lease_update(berth_k8s_client_t *c, const char *ns,
                                      const char *name,
                                      const berth_k8s_lease_t *in,
                                      berth_k8s_lease_t *out,
                                      berth_error_t *err);

/* Read a Lease object's fields into *out (malformed times, or counts that
 * are not an int32 >= 0: BERTH_EPARSE). */
berth_status_t berth_k8s_lease_from_json(const json_t *obj,
                                         berth_k8s_lease_t *out,
                                         berth_error_t *err);

/* The Endpoints lock of client-go's leader election before Leases
 * (resourcelock "endpoints"): the same record, kept as JSON in the
 * control-plane.alpha.kubernetes.io/leader annotation of the Endpoints
 * object ns/name. For clients whose RBAC grants Endpoints but not Leases
 * (nfs-subdir-external-provisioner's leader-locking Role), and which must
 * exclude its replicas that lock the same object. Same semantics as the
 * Lease functions above; write creates (create true) or updates
 * conditionally on in->resource_version. */
berth_status_t berth_k8s_endpoints_lock_get(berth_k8s_client_t *c,
                                            const char *ns, const char *name,
                                            berth_k8s_lease_t *out,
                                            berth_error_t *err);
berth_status_t berth_k8s_endpoints_lock_write(berth_k8s_client_t *c,
                                              const char *ns, const char *name,
                                              const berth_k8s_lease_t *in,
                                              bool create,
                                              berth_k8s_lease_t *out,
                                              berth_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_K8S_LEASE_H */
