/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: a backend as an operator's tool sees it (berthctl).
 *
 * The controller needs validate, provision, delete and usage
 * (backend.h). berthctl needs a few things more, which only an operator
 * asks: where a volume's storage is and what it looks like, which backend
 * objects no PV owns (orphans), how to remove such an object, whether a
 * class's backend can be reached, and (for disks) attach and detach by
 * hand. A backend offers them in a berth_inspect_ops_t, the inspect member
 * of its berth_backend_ops_t; each backend keeps that code in a file of its
 * own (nfs_inspect.c, ebs_inspect.c, efs_inspect.c). berthctl goes through
 * this table and the registry (berth_backends) only, so that it names no
 * backend.
 *
 * An inspector is a backend instance for these operations: opened from a
 * berth_inspect_env_t (what berthctl was told and what it listed), it holds
 * the provisioner's own backend instance (core) for provision, delete and
 * usage, and whatever it needs besides (connections, an AWS client).
 *
 * Ownership: every json_t passed in is borrowed for the call; strings a
 * call returns are new (free). Threads: an inspector is used from one
 * thread. */
#ifndef BERTH_PROVISIONER_BACKENDS_INSPECT_H
#define BERTH_PROVISIONER_BACKENDS_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backends/backend.h"
#include "berth/k8s.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the backend says about a volume's storage. */
typedef enum berth_volume_state {
  BERTH_VOLUME_UNKNOWN = 0, /* not asked */
  BERTH_VOLUME_PRESENT,     /* it exists */
  BERTH_VOLUME_MISSING,     /* it is gone */
  BERTH_VOLUME_ERROR        /* the backend could not be asked: message */
} berth_volume_state_t;

/* The words for a state in tables and JSON ("exists", "missing", "error",
 * "unknown"). Static. */
const char *berth_volume_state_name(berth_volume_state_t st);

/* Where a PV's storage is and what it looks like. */
typedef struct berth_volume_info {
  const berth_backend_ops_t *ops; /* NULL: not berth's */
  char *source;   /* where the backend keeps it: the NFS export URL, the
                     EBS zone, the EFS file system */
  char *location; /* the object: the directory (relative to the export),
                     the disk or access point id */
  berth_volume_state_t state;
  char *message; /* why ERROR (or UNKNOWN); NULL otherwise */
  bool has_usage;
  berth_usage_t usage;
  /* New reference or NULL: the backend object's details, in the order
   * they are printed, as {"Title": "value", ...} with string values. */
  json_t *details;
} berth_volume_info_t;

void berth_volume_info_init(berth_volume_info_t *info);
/* Free what info holds and zero it. Accepts NULL. */
void berth_volume_info_cleanup(berth_volume_info_t *info);

/* A backend object that no PV owns, or a PV whose object is gone. */
typedef struct berth_orphan {
  const berth_backend_ops_t *ops;
  char *kind;     /* "directory", "archived", "disk", "snapshot",
                     "access-point" or "volume" (a PV) */
  char *name;     /* the directory or object id, or the PV's name */
  char *source;   /* the export URL, zone, file system or disk */
  char *location; /* the backend object (directory), for volumes too */
  char *problem;  /* one line: what is wrong */
  char *pv_phase; /* volumes: the PV's phase */
  char *claim;    /* volumes: "ns/name" of a bound claim, or NULL */
  int64_t time_s; /* the object's modification (or PV creation) time */
  bool recent;    /* younger than min_age_s: left alone by a delete */
  bool has_usage;
  berth_usage_t usage;
} berth_orphan_t;

typedef struct berth_orphans {
  berth_orphan_t *items;
  size_t n;
  size_t cap;
} berth_orphans_t;

/* Append a zeroed orphan (its strings set by the caller); NULL when out of
 * memory. */
berth_orphan_t *berth_orphans_add(berth_orphans_t *list);
/* Free every orphan and the list's array, and zero it. Accepts NULL. */
void berth_orphans_cleanup(berth_orphans_t *list);

/* What berthctl gives the backends: the cluster, what it listed, and what
 * it was told. Borrowed by an inspector for its whole life. */
typedef struct berth_inspect_env {
  berth_k8s_client_t *k8s; /* the cluster, or NULL */
  const json_t *classes;   /* every StorageClass (an array) */
  const json_t *pvs;       /* every PersistentVolume (an array) */
  /* The backend that serves a StorageClass (berth's provisioners, as
   * berthctl found them), or NULL when the class is not berth's. */
  const berth_backend_ops_t *(*class_backend)(void *ud, const json_t *sclass);
  /* Warnings and the progress line (NULL clears it) on the operator's
   * terminal. */
  void (*warn)(void *ud, const char *message);
  void (*progress)(void *ud, const char *message);
  void *ud;
  const char *nfs_url; /* --nfs-url: the nfs backend's default export, or
                          NULL */
  long timeout_ms;     /* --request-timeout; 0: the backend's default */
  int verbosity;       /* -v N */
  int64_t now_s;       /* the wall clock at the start */
  int64_t min_age_s;   /* objects younger than this are "recent" */
  bool archived;       /* orphan scans list archived objects too */
  bool usage;          /* orphan scans measure what objects hold */
} berth_inspect_env_t;

/* true when an object of time t (seconds) is younger than env's
 * min_age_s at env's now_s. */
bool berth_inspect_recent(const berth_inspect_env_t *env, int64_t t);

/* Print a warning through env (printf format). */
void berth_inspect_warn(const berth_inspect_env_t *env, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Update the progress line through env (printf format; NULL clears). */
void berth_inspect_progress(const berth_inspect_env_t *env, const char *fmt,
                            ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The object called name (metadata.name) in arr, or NULL. Borrowed. */
const json_t *berth_inspect_named(const json_t *arr, const char *name);

/* The StorageClass called name in env (NULL when there is none). */
const json_t *berth_inspect_class(const berth_inspect_env_t *env,
                                  const char *name);

/* The PV called name in env (NULL when there is none). */
const json_t *berth_inspect_pv(const berth_inspect_env_t *env,
                               const char *name);

/* A class's parameters (borrowed; NULL when none or sclass is NULL). */
const json_t *berth_inspect_class_parameters(const json_t *sclass);

/* Call fn(ud, deployment, container) for each container of the cluster's
 * Deployments that runs berth-provisioner (its command does, or, without
 * a command, its image is berth's) until fn returns true; true then.
 * false as well when the Deployments cannot be listed (k8s NULL, or no
 * right to). */
bool berth_inspect_provisioner_containers(berth_k8s_client_t *k8s,
                                          bool (*fn)(void *ud,
                                                     const json_t *deployment,
                                                     const json_t *container),
                                          void *ud);

/* Append an orphan of ops to list with kind, name, source and location
 * copied (NULL stays NULL) and problem taken over (freed on failure);
 * time_s and recent from env. NULL when out of memory. */
berth_orphan_t *berth_orphans_push(berth_orphans_t *list,
                                   const berth_inspect_env_t *env,
                                   const berth_backend_ops_t *ops,
                                   const char *kind, const char *name,
                                   const char *source, const char *location,
                                   char *problem, int64_t time_s);

/* Add key: value to a volume's details (nothing when value is NULL). */
void berth_inspect_detail(json_t *details, const char *key, const char *value);

/* s, or "" for NULL. */
static inline const char *berth_inspect_nz(const char *s)
{
  return s != NULL ? s : "";
}

/* A backend instance for the operations below. Each backend's embeds it
 * first. */
typedef struct berth_inspector {
  const berth_backend_ops_t *ops;
  const berth_inspect_env_t *env;
  berth_backend_t *core; /* the provisioner's backend: provision, delete,
                            usage, validate */
} berth_inspector_t;

/* Check sclass's parameters (NULL: nothing to check) with in's backend,
 * as berth-provisioner checks them, for the check operation. */
berth_status_t berth_inspect_validate_class(berth_inspector_t *in,
                                            const json_t *sclass,
                                            berth_error_t *err);

/* The inspector of a backend that talks to AWS (ebs, efs): the AWS
 * client from the environment (region, credentials, AWS_ENDPOINT_URL)
 * besides the core. A backend's own struct may embed it first. */
struct berth_aws;
typedef struct berth_inspector_aws {
  berth_inspector_t base; /* first */
  struct berth_aws *aws;
} berth_inspector_aws_t;

/* Make one of size bytes (at least sizeof(berth_inspector_aws_t)), zeroed,
 * for ops, with its core made by ops->create from settings. Errors name
 * the backend. *out is set only on success. */
berth_status_t berth_inspector_aws_open(const berth_backend_ops_t *ops,
                                        const berth_inspect_env_t *env,
                                        const berth_backend_settings_t *set,
                                        size_t size, berth_inspector_t **out,
                                        berth_error_t *err);

/* Free what berth_inspector_aws_open made (the client, the core and in).
 * Accepts NULL. */
void berth_inspector_aws_close(berth_inspector_t *in);

/* The operations; every function member is required unless it says
 * otherwise. */
typedef struct berth_inspect_ops {
  /* The prefix of the annotations the backend writes on its PVs
   * ("nfs.berth.io/"): a PV with one is the backend's. */
  const char *annotation_prefix;
  /* Optional: the PV annotation that says what delete does (delete,
   * archive, retain), which a purge sets to "delete". */
  const char *on_delete_annotation;
  /* What a volume's storage is called in messages ("directory"); NULL:
   * "backend object". */
  const char *object_noun;
  /* Optional: the backend's default storage that exists without a class
   * ("default export"), how to fix it, and whether env names one: orphan
   * scans and health checks then look at it even when no class uses
   * the backend. */
  const char *default_noun;
  const char *default_hint;
  bool (*has_default)(const berth_inspect_env_t *env);

  /* Open an inspector (configured from env; borrowed until close). */
  berth_status_t (*open)(const berth_inspect_env_t *env,
                         berth_inspector_t **out, berth_error_t *err);
  void (*close)(berth_inspector_t *in);
  /* Where pv's storage is, whether it exists, and (usage) what it holds.
   * Fills *out, already initialised; a backend that cannot be reached is
   * BERTH_OK with state BERTH_VOLUME_ERROR, so that a listing goes on.
   * sclass may be NULL (the class is gone). */
  berth_status_t (*volume)(berth_inspector_t *in, const json_t *pv,
                           const json_t *sclass, bool usage,
                           berth_volume_info_t *out, berth_error_t *err);
  /* Append the backend objects that no PV owns to *out. */
  berth_status_t (*scan)(berth_inspector_t *in, berth_orphans_t *out,
                         berth_error_t *err);
  /* Remove (or, with archive, set aside) an orphan that scan found; *done
   * (new string) says what happened. */
  berth_status_t (*remove)(berth_inspector_t *in, const berth_orphan_t *o,
                           bool archive, char **done, berth_error_t *err);
  /* Can the backend of sclass (NULL: the backend's default) be reached,
   * and are the class's parameters valid? *detail (new string) says what
   * was checked. BERTH_ENOTFOUND: nothing to check with (no export). */
  berth_status_t (*check)(berth_inspector_t *in, const json_t *sclass,
                          char **detail, berth_error_t *err);

  /* Optional, for backends with BERTH_BACKEND_CAP_ATTACH: what an attach
   * is called ("EBS disk"); the disk of pv (borrowed from pv) or NULL; the
   * machine of a Node into out (false when it has none: node_hint says
   * what was expected); and attach (detach false) or detach, waiting
   * until done: the device goes to device (device_size bytes), and
   * *was_attached says whether a detached disk was attached. */
  const char *attach_noun;
  const char *node_hint;
  const char *(*attach_volume)(const json_t *pv);
  bool (*attach_node)(const json_t *node, char *out, size_t size);
  berth_status_t (*attach)(berth_inspector_t *in, const char *volume,
                           const char *node_id, bool detach, bool force,
                           char *device, size_t device_size, bool *was_attached,
                           berth_error_t *err);
} berth_inspect_ops_t;

/* true when the backend has inspect operations (berthctl can serve it). */
bool berth_backend_can_inspect(const berth_backend_ops_t *ops);

/* Open an inspector of ops from env. A backend without inspect
 * operations gives BERTH_EPERM. */
berth_status_t berth_inspector_open(const berth_backend_ops_t *ops,
                                    const berth_inspect_env_t *env,
                                    berth_inspector_t **out,
                                    berth_error_t *err);

/* Close it. Accepts NULL. */
void berth_inspector_close(berth_inspector_t *in);

/* The backend whose own annotations pv carries (annotation_prefix), or
 * NULL. */
const berth_backend_ops_t *berth_inspect_annotated_backend(const json_t *pv);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROVISIONER_BACKENDS_INSPECT_H */
