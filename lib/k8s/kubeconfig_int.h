/* SPDX-License-Identifier: Apache-2.0 */
/* kubeconfig internals shared by kubeconfig.c (load, merge, select) and
 * kubeconfig_fields.c (cluster and user fields). */
#ifndef BERTH_K8S_KUBECONFIG_INT_H
#define BERTH_K8S_KUBECONFIG_INT_H

#include <jansson.h>

#include "berth/k8s.h"

/* One named cluster, user or context, from the file that defined it. */
typedef struct {
  const char *name;
  json_t *body;     /* the cluster/user/context object, borrowed; may be
                     * NULL */
  const char *file; /* the file that defined it (borrowed from kc_t) */
  char where[80];   /* "users[2].user" */
} kc_entry_t;

/* BERTH_EINVAL with "kubeconfig FILE: WHERE.FIELD (PROBLEM)". */
berth_status_t berth__k8s_kc_field_error(berth_error_t *err, const char *file,
                                         const char *where, const char *field,
                                         const char *problem);

/* An optional string field of e: missing, null or "" give NULL. */
berth_status_t berth__k8s_kc_get_str(const kc_entry_t *e, const char *field,
                                     const char **out, berth_error_t *err);

/* Fill cfg's server, TLS and CA fields from a cluster entry. */
berth_status_t berth__k8s_kc_build_cluster(const kc_entry_t *e,
                                           berth_k8s_config_t *cfg,
                                           berth_error_t *err);

/* Fill cfg's credentials (token, tokenFile, client certificate, exec) from
 * a user entry. */
berth_status_t berth__k8s_kc_build_user(const kc_entry_t *e,
                                        berth_k8s_config_t *cfg,
                                        berth_error_t *err);

#endif /* BERTH_K8S_KUBECONFIG_INT_H */
