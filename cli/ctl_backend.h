/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the backends, as berthctl reaches them.
 *
 * Every backend is in the provisioner's registry (berth_backends) with
 * one vtable (berth_backend_ops_t): validate, provision, delete and usage
 * as the controller uses them, and, in its inspect member
 * (backends/inspect.h), what only an operator's tool asks: where a
 * volume's storage is and whether it is there, which backend objects no
 * PV owns (orphans), how to remove one, whether a class's backend can be
 * reached, attach and detach. Commands never name a backend: they go
 * through the registry and these helpers, so that adding a backend
 * touches nothing in cli/ (docs/ADDING-A-BACKEND.md). */
#ifndef BERTH_CTL_BACKEND_H
#define BERTH_CTL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "backends/backend.h"
#include "backends/inspect.h"
#include "berth/k8s_names.h"
#include "berth/status.h"
#include "claim.h"
#include "ctl.h"

/* The backend called name when berthctl can serve it (it has inspect
 * operations), or NULL. */
const berth_backend_ops_t *ctl_backend_find(const char *name);

/* Why ctl_backend_find(name) found nothing, into out: a name the registry
 * (berth_backends) does not know, with the known ones, or a backend that
 * has no operations for berthctl. */
void ctl_backend_unknown(const char *name, char *out, size_t outsize);

/* The inspector of ops for this run (ctl_registry_load first), opened on
 * first use. */
berth_status_t ctl_registry_backend(ctl_ctx_t *ctx,
                                    const berth_backend_ops_t *ops,
                                    berth_inspector_t **out,
                                    berth_error_t *err);

/* The PersistentVolume arg names ("NAME", "pv/NAME" or
 * "persistentvolume/NAME": *name, borrowed from arg) into *pv (new), after
 * ctl_registry_load. Prints what went wrong; the exit status. */
int ctl_get_pv(ctl_ctx_t *ctx, const char *arg, const char **name, json_t **pv);

/* What the backends' inspectors are given (ctl_registry_load first). */
const berth_inspect_env_t *ctl_registry_env(const ctl_registry_t *reg);

/* Inspect pv with its backend (pv must be berth's: ops not NULL); a
 * backend that cannot be opened leaves out in BERTH_VOLUME_ERROR. */
void ctl_inspect_pv(ctl_ctx_t *ctx, const berth_backend_ops_t *ops,
                    const json_t *pv, bool usage, berth_volume_info_t *out);

#endif /* BERTH_CTL_BACKEND_H */
