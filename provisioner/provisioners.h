/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: which provisioner names we serve and with which
 * backend (--provisioner NAME=BACKEND). Several names may share a backend
 * kind; each name gets its own backend instance. Read-only once made, so
 * any thread may look names up without a lock. */
#ifndef BERTH_PROV_PROVISIONERS_H
#define BERTH_PROV_PROVISIONERS_H

#include <stddef.h>

#include "backends/backend.h"
#include "options.h"

typedef struct prov_provisioners prov_provisioners_t;

/* Make a backend for each binding in opt. An unknown or unbuilt backend
 * is BERTH_EINVAL naming it. */
berth_status_t prov_provisioners_create(const prov_options_t *opt,
                                        prov_provisioners_t **out,
                                        berth_error_t *err);

/* Check, without making anything (no connection, no AWS lookup), that
 * every binding in opt names a backend this build has. BERTH_EINVAL
 * naming the first that does not. */
berth_status_t prov_provisioners_check(const prov_options_t *opt,
                                       berth_error_t *err);

/* Free every backend. Accepts NULL. */
void prov_provisioners_destroy(prov_provisioners_t *p);

/* The backend serving provisioner name, or NULL when name is not ours.
 * Borrowed. */
berth_backend_t *prov_provisioners_find(const prov_provisioners_t *p,
                                        const char *name);

size_t prov_provisioners_count(const prov_provisioners_t *p);

/* The i-th provisioner name. Borrowed. */
const char *prov_provisioners_name(const prov_provisioners_t *p, size_t i);

#endif /* BERTH_PROV_PROVISIONERS_H */
