/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the backends, as berthctl sees them.
 *
 * The provisioner's vtable (provisioner/backends/backend.h) already does
 * what berthctl shares with the provisioner: validate a class, provision,
 * delete (remove, archive or keep) and measure usage. berthctl needs a few
 * things more, which only an operator's tool asks: where a volume's
 * storage is and whether it is there, which backend objects have no PV
 * (orphans), and whether a class's backend can be reached. Those live
 * here, one file per backend (backend_nfs.c, backend_ebs.c and
 * backend_efs.c), each one a
 * ctl_backend_ops_t. Commands never name a backend: they go through this
 * table, so that adding one is a new file and a line in backend.c. */
#ifndef BERTH_CTL_BACKEND_H
#define BERTH_CTL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "backends/backend.h"
#include "berth/k8s_names.h"
#include "claim.h"
#include "berth/status.h"
#include "ctl.h"

/* What the backend says about a volume's storage. */
typedef enum ctl_state {
  CTL_STATE_UNKNOWN = 0, /* not asked (backend not built) */
  CTL_STATE_PRESENT,     /* it exists */
  CTL_STATE_MISSING,     /* it is gone */
  CTL_STATE_ERROR        /* the backend could not be asked: message */
} ctl_state_t;

/* The words for a state in tables and JSON ("exists", "missing", ...). */
const char *ctl_state_name(ctl_state_t st);

typedef struct ctl_volume_info {
  const ctl_backend_ops_t *ops; /* NULL: not berth's */
  char *source;   /* where the backend keeps it: the NFS export URL */
  char *location; /* the object: the directory, relative to the export */
  ctl_state_t state;
  char *message; /* why ERROR (or UNKNOWN); NULL otherwise */
  bool has_usage;
  berth_usage_t usage;
  /* New reference or NULL: the backend object's details, in the order
   * describe prints them, as {"Title": "value", ...} with string values;
   * -o json/yaml get them too. */
  json_t *details;
} ctl_volume_info_t;

void ctl_volume_info_init(ctl_volume_info_t *info);
void ctl_volume_info_cleanup(ctl_volume_info_t *info);

/* Backend objects that no PV owns, or PVs whose object is gone. */
typedef struct ctl_orphan {
  const ctl_backend_ops_t *ops;
  char *kind;     /* "directory", "archived" or "volume" */
  char *name;     /* the directory, or the PV's name */
  char *source;   /* the export URL */
  char *location; /* the backend object (directory), for volumes too */
  char *problem;  /* one line: what is wrong */
  char *pv_phase; /* volumes: the PV's phase */
  char *claim;    /* volumes: "ns/name" of a bound claim, or NULL */
  int64_t time_s; /* the object's modification (or PV creation) time */
  bool recent;    /* younger than --min-age: left alone by --delete */
  bool has_usage;
  berth_usage_t usage;
} ctl_orphan_t;

typedef struct ctl_orphans {
  ctl_orphan_t *items;
  size_t n;
  size_t cap;
} ctl_orphans_t;

/* Append a zeroed orphan (its strings set by the caller); NULL when out of
 * memory. */
ctl_orphan_t *ctl_orphans_add(ctl_orphans_t *list);
void ctl_orphans_cleanup(ctl_orphans_t *list);

/* A backend instance: each backend embeds it first. */
typedef struct ctl_backend {
  const ctl_backend_ops_t *ops;
  berth_backend_t *core; /* the provisioner's vtable, for provision,
                            delete, usage and validate */
} ctl_backend_t;

struct ctl_backend_ops {
  const char *name; /* "nfs" */
  /* NULL when built in; otherwise why not, for messages. */
  const char *not_built;
  /* The prefix of the annotations the backend writes on its PVs
   * ("nfs.berth.io/"): a PV with one is the backend's. */
  const char *annotation_prefix;
  /* The PV annotation that says what delete does (remove, archive,
   * retain), which `berthctl delete --purge` sets to "delete"; NULL when
   * the backend has none. */
  const char *on_delete_annotation;
  /* Create an instance (configured from ctx->opt and the environment). */
  berth_status_t (*create)(ctl_ctx_t *ctx, ctl_backend_t **out,
                           berth_error_t *err);
  void (*destroy)(ctl_backend_t *be);
  /* Where pv's storage is, whether it exists, and (usage) what it
   * holds. Fills *out, already initialised; a backend that cannot be
   * reached is BERTH_OK with state CTL_STATE_ERROR, so that a listing goes
   * on. sclass may be NULL (the class is gone). */
  berth_status_t (*inspect)(ctl_backend_t *be, ctl_ctx_t *ctx, const json_t *pv,
                            const json_t *sclass, bool usage,
                            ctl_volume_info_t *out, berth_error_t *err);
  /* Find backend objects that no PV owns (directories on the exports of
   * berth's classes and volumes), appending to *out. */
  berth_status_t (*scan)(ctl_backend_t *be, ctl_ctx_t *ctx, ctl_orphans_t *out,
                         berth_error_t *err);
  /* Remove (or, with archive, set aside) an orphan that scan found; *done
   * (new string) says what happened. */
  berth_status_t (*remove)(ctl_backend_t *be, ctl_ctx_t *ctx,
                           const ctl_orphan_t *o, bool archive, char **done,
                           berth_error_t *err);
  /* doctor: can the backend of sclass (NULL: the backend's defaults) be
   * reached? *detail (new string) says what was checked. */
  berth_status_t (*check)(ctl_backend_t *be, ctl_ctx_t *ctx,
                          const json_t *sclass, char **detail,
                          berth_error_t *err);
};

/* Every backend berthctl knows, built or not, NULL-terminated. */
extern const ctl_backend_ops_t *const ctl_backends[];
/* The backend called name, or NULL. */
const ctl_backend_ops_t *ctl_backend_find(const char *name);

/* Why ctl_backend_find(name) found nothing, into out: a name the registry
 * (berth_backends) does not know, with the known ones, or a backend that
 * is built in but has no berthctl operations. */
void ctl_backend_unknown(const char *name, char *out, size_t outsize);

/* The instance of ops for this run, made on first use. A backend that is
 * not built gives BERTH_EINVAL with its not_built message. */
berth_status_t ctl_registry_backend(ctl_ctx_t *ctx,
                                    const ctl_backend_ops_t *ops,
                                    ctl_backend_t **out, berth_error_t *err);

/* Inspect pv with its backend (pv must be berth's: ops not NULL). */
void ctl_inspect_pv(ctl_ctx_t *ctx, const ctl_backend_ops_t *ops,
                    const json_t *pv, bool usage, ctl_volume_info_t *out);

/* The class's parameters (borrowed; NULL when none). */
const json_t *ctl_class_parameters(const json_t *sclass);

/* The NFS backend (backend_nfs.c). */
extern const ctl_backend_ops_t ctl_backend_nfs;

/* The EBS backend (backend_ebs.c) and the EFS backend (backend_efs.c). */
extern const ctl_backend_ops_t ctl_backend_ebs;
extern const ctl_backend_ops_t ctl_backend_efs;

/* The AWS client of an EBS backend instance (NULL for another backend),
 * for attach and detach. Borrowed. */
struct berth_aws;
struct berth_aws *ctl_ebs_aws(ctl_backend_t *be);
/* The EBS volume id of a PV (spec.csi.volumeHandle, the volume-id
 * annotation or awsElasticBlockStore.volumeID), or NULL. Borrowed. */
const char *ctl_ebs_volume_id(const json_t *pv);

#endif /* BERTH_CTL_BACKEND_H */
