/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the interface every storage backend sits behind.
 *
 * A backend (NFS sub-directories, EFS access points or directories, EBS
 * disks: berth_backends lists them) turns a claim into real storage and
 * back. The controller and berthctl know backends only through this
 * vtable, its capabilities (berth_backend_caps) and the registry
 * (berth_backends); no backend includes the controller, and this header
 * depends on nothing but libberth's status codes and jansson.
 * docs/ADDING-A-BACKEND.md lists what a new backend touches.
 *
 *   validate   check a StorageClass's parameters, no I/O
 *   provision  make (or find) the storage for a claim, say how to mount it
 *   delete     remove, archive or keep the storage of a released volume
 *   usage      measure what a volume holds (bytes, files); NULL when the
 *              backend cannot (a capability, not an error)
 *   records    list or forget what provision recorded on the storage, for
 *              the sweep of storage whose claim and PV are both gone
 *   inspect    berthctl's operations (backends/inspect.h): where a
 *              volume's storage is, orphan scans, remove, health checks
 *
 * Idempotent by design: the controller may repeat any call after a crash
 * at any point. A backend derives every name from the claim and the PV
 * name (pvc-<claim uid>), so a second provision of the same claim finds
 * and reuses what the first made instead of making another, and a delete
 * of storage that is already gone succeeds (BERTH_DELETE_ABSENT).
 *
 * Errors: BERTH_EINVAL means the request itself is wrong (an unknown or
 * invalid class parameter, a hostile claim) and retrying will not help:
 * the controller reports the message in a ProvisioningFailed Event. The
 * message names the parameter or the claim field at fault. Other statuses
 * (BERTH_ETRANSPORT, BERTH_ETIMEOUT, BERTH_EIO, ...) are worth a retry with
 * backoff.
 *
 * Ownership, in jansson's words: every json_t passed in is borrowed for
 * the duration of the call (the backend keeps no reference); every json_t
 * a backend returns in a result is a new reference that the caller owns
 * and releases with berth_provision_result_cleanup (or json_decref).
 *
 * Threads: the calls of one backend may run from several worker threads
 * at once; a backend serialises what it must itself. */
#ifndef BERTH_PROVISIONER_BACKEND_H
#define BERTH_PROVISIONER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The annotation kubelet reads to add a supplemental group to the pods
 * that mount a volume. */
#define BERTH_ANN_PV_GID "pv.beta.kubernetes.io/gid"

/* The annotations a clone's PV carries: the source claim, as
 * "<namespace>/<name>", and its uid. */
#define BERTH_ANN_CLONED_FROM "berth.io/cloned-from"
#define BERTH_ANN_CLONED_FROM_UID "berth.io/cloned-from-uid"

/* A claim's access modes (spec.accessModes), as a bit set. */
typedef enum berth_access_mode {
  BERTH_ACCESS_RWO = 1u << 0, /* ReadWriteOnce */
  BERTH_ACCESS_ROX = 1u << 1, /* ReadOnlyMany */
  BERTH_ACCESS_RWX = 1u << 2, /* ReadWriteMany */
  BERTH_ACCESS_RWOP = 1u << 3 /* ReadWriteOncePod */
} berth_access_mode_t;

/* A clone's source and the controller's hooks into a long copy. The
 * controller checked Kubernetes' rules (same namespace, source Bound,
 * same class, size) before; the backend checks that it can read the
 * source. Borrowed for the duration of the call. */
typedef struct berth_clone_source {
  const json_t *pv; /* the source claim's PersistentVolume */
  const char *ns;   /* the source claim's namespace, name, uid */
  const char *name;
  const char *uid;
  /* Called between entries of the copy (any thread but one at a time):
   * true stops it (the claim was deleted, the lease lost); the partial
   * copy is removed and provision gives BERTH_ECANCELED. */
  bool (*cancelled)(void *ctx);
  /* Called now and then from the copying thread, and once at the end
   * (done), with the totals so far. May be NULL. */
  void (*progress)(void *ctx, uint64_t files, uint64_t bytes, uint64_t skipped,
                   bool done);
  void *ctx;
} berth_clone_source_t;

/* What the controller asks a backend to provision. All pointers are
 * borrowed for the duration of the call. */
typedef struct berth_provision_request {
  const char *claim_namespace; /* metadata.namespace of the claim */
  const char *claim_name;      /* metadata.name */
  const char *claim_uid;       /* metadata.uid */
  const char *pv_name;         /* the PV to create: "pvc-<claim uid>" */
  const json_t *claim;         /* the whole claim (annotations, labels); may
                                  be NULL */
  uint64_t requested_bytes;    /* spec.resources.requests.storage */
  unsigned access_modes;       /* berth_access_mode_t bits */
  const char *selected_node;   /* volume.kubernetes.io/selected-node, or
                                  NULL (Immediate binding) */
  const json_t *node;          /* the selected Node object (its topology
                                  labels, spec.providerID), or NULL when
                                  there is none or it could not be read */
  const json_t *parameters;    /* the StorageClass's parameters, an object
                                  of strings; NULL means none */
  const uint32_t *used_gids;   /* gids recorded (BERTH_ANN_PV_GID) on the
                                  existing PVs of the class, for backends
                                  that allocate gids; may be NULL */
  size_t n_used_gids;
  const json_t *mount_options; /* the StorageClass's mountOptions (an
                                  array of strings), or NULL */
  bool block;                  /* spec.volumeMode is Block */
  const char *const *zones;    /* without a selected node: the zones the
                                  volume may go to (the class's
                                  allowedTopologies, else the zones of the
                                  cluster's nodes), sorted; may be NULL */
  size_t n_zones;
  const char *snapshot_id; /* restore this snapshot (the claim's
                              VolumeSnapshot data source; EBS), or NULL */
  uint64_t snapshot_bytes; /* its restoreSize: the volume is at least as
                              large */
  const berth_clone_source_t *clone; /* a claim to copy, or NULL */
} berth_provision_request_t;

/* What a provision made. Initialise with berth_provision_result_init;
 * filled only on success; free with berth_provision_result_cleanup. */
typedef struct berth_provision_result {
  json_t *source;          /* new: the PV's volume source, merged into the
                              PV's spec, e.g. {"nfs":{"server":..,"path":..}} */
  json_t *annotations;     /* new: an object of string values to add to the
                              PV's metadata.annotations (maybe empty) */
  json_t *node_affinity;   /* new or NULL: spec.nodeAffinity for zonal
                              storage */
  uint64_t capacity_bytes; /* spec.capacity.storage */
} berth_provision_result_t;

/* What a delete did. */
typedef enum berth_delete_outcome {
  BERTH_DELETE_DELETED = 0, /* the storage and its data are gone */
  BERTH_DELETE_ARCHIVED,    /* kept under another name (archiveOnDelete) */
  BERTH_DELETE_RETAINED,    /* left as it is (onDelete: retain) */
  BERTH_DELETE_ABSENT       /* there was nothing to delete (any more) */
} berth_delete_outcome_t;

/* The word for an outcome in logs and messages: "deleted", "archived",
 * "retained", "absent". Static. */
const char *berth_delete_outcome_name(berth_delete_outcome_t o);

/* What the controller asks a backend to delete: a released PV whose
 * reclaim policy is Delete. The backend decides from what it recorded on
 * the PV and from the class parameters whether delete means remove,
 * archive or keep. Borrowed. */
typedef struct berth_delete_request {
  const json_t *pv;         /* the PersistentVolume */
  const json_t *parameters; /* its StorageClass's parameters, or NULL when
                               the class is gone */
  /* Optional (NULL: not wanted): a buffer of where_size bytes that a
   * backend which archives fills with where the storage went (NFS: the
   * archive directory's URL), so that the log line can say it. */
  char *where;
  size_t where_size;
} berth_delete_request_t;

/* What a volume holds, measured by a bounded walk. */
typedef struct berth_usage {
  uint64_t bytes; /* sum of the sizes of the regular files */
  uint64_t files; /* entries of any type below the volume's root */
  bool truncated; /* the walk stopped at its limit: at least this much */
} berth_usage_t;

/* What the sweep asks of a backend's records (berth_backend_records): the
 * storage the backend made, or was about to make, for a claim, recorded
 * on the storage itself before anything is made (NFS: a journal entry
 * in the export; EBS, EFS: the tags the objects carry), so that storage
 * left behind by a provisioner killed before the PV was saved can be
 * found again. Borrowed but for records. */
typedef struct berth_records_request {
  const json_t *parameters; /* a StorageClass's parameters: where to look
                               (the export, the file system); may be NULL */
  const char *forget;       /* NULL: list; else the PV name whose record is
                               no longer needed (its PV is saved, or its
                               storage removed); absent is fine */
  size_t max;               /* list at most this many records */
  /* Out, when listing: a new array (the caller owns it) of objects
   * {"pv": a PV as berth_backend_delete takes it (name, annotations,
   * spec), "namespace", "name", "uid": the claim's, "created": seconds
   * since the epoch when the record was made, or -1 if unknown}; or, for a
   * record cut short (a provisioner killed while it wrote or removed it,
   * so that no storage was made from it or a PV owns it), {"pv": {name},
   * "incomplete": true, "created"}: to be forgotten, never acted on. */
  json_t *records;
} berth_records_request_t;

typedef struct berth_backend berth_backend_t;

/* berthctl's operations (backends/inspect.h). */
struct berth_inspect_ops;

/* What a backend can do beyond validate, provision and delete, so that the
 * controller and berthctl ask instead of comparing backend names. EXPAND
 * and USAGE follow from the ops' expand and usage members; the others are
 * declared in the ops' caps. */
typedef enum berth_backend_cap {
  BERTH_BACKEND_CAP_ATTACH = 1u << 0,  /* volumes are disks that attach
                                          to nodes: the controller runs
                                          the external attacher */
  BERTH_BACKEND_CAP_EXPAND = 1u << 1,  /* volumes can grow (expand) */
  BERTH_BACKEND_CAP_USAGE = 1u << 2,   /* usage can be measured */
  BERTH_BACKEND_CAP_BLOCK = 1u << 3,   /* serves volumeMode: Block */
  BERTH_BACKEND_CAP_CLONE = 1u << 4,   /* fills a volume from another
                                          claim (a PVC dataSource) */
  BERTH_BACKEND_CAP_ZONAL = 1u << 5,   /* volumes live in one zone: the
                                          request carries the selected
                                          Node, else the allowed zones */
  BERTH_BACKEND_CAP_GIDS = 1u << 6,    /* hands out gids: the request
                                          carries the gids in use */
  BERTH_BACKEND_CAP_SNAPSHOT = 1u << 7 /* takes snapshots and fills a
                                          volume from a VolumeSnapshot
                                          dataSource */
} berth_backend_cap_t;

/* What the program was configured with, for the backends that read it
 * (berth_backend_ops_t.create). Borrowed during create. */
typedef struct berth_backend_settings {
  const json_t *nfs_defaults; /* nfs: parameters for classes that do not
                                 set them (NFS_SERVER, NFS_PATH), or NULL */
  const char *cluster_id;     /* ebs, efs: BERTH_CLUSTER_ID, or NULL */
  const char *extra_tags;     /* ebs: --extra-tags, or NULL */
} berth_backend_settings_t;

/* The vtable. name, summary, create, validate, provision, delete_volume
 * and destroy are required; the rest may be NULL. Tables use designated
 * initialisers. */
typedef struct berth_backend_ops {
  const char *name;    /* "nfs", "efs", "ebs" */
  const char *summary; /* one line for help texts: "NFS sub-directories" */
  unsigned caps;       /* berth_backend_cap_t bits (not EXPAND, USAGE) */
  /* Optional (NULL: berthctl cannot serve the backend): what an operator's
   * tool asks beyond the controller, see backends/inspect.h. */
  const struct berth_inspect_ops *inspect;
  /* Make an instance from the program's settings. */
  berth_status_t (*create)(const berth_backend_settings_t *settings,
                           berth_backend_t **out, berth_error_t *err);
  /* Optional: check the settings as create would, without connecting to
   * anything (berth-provisioner --check-config). */
  berth_status_t (*check_settings)(const berth_backend_settings_t *settings,
                                   berth_error_t *err);
  berth_status_t (*validate)(berth_backend_t *be, const json_t *parameters,
                             berth_error_t *err);
  berth_status_t (*provision)(berth_backend_t *be,
                              const berth_provision_request_t *req,
                              berth_provision_result_t *out,
                              berth_error_t *err);
  berth_status_t (*delete_volume)(berth_backend_t *be,
                                  const berth_delete_request_t *req,
                                  berth_delete_outcome_t *out,
                                  berth_error_t *err);
  berth_status_t (*usage)(berth_backend_t *be, const json_t *pv,
                          const json_t *parameters, berth_usage_t *out,
                          berth_error_t *err);
  void (*destroy)(berth_backend_t *be);
  /* Optional (NULL when the storage cannot grow): grow pv's storage to at
   * least new_bytes and put its new size in *out_bytes; idempotent. */
  berth_status_t (*expand)(berth_backend_t *be, const json_t *pv,
                           uint64_t new_bytes, uint64_t *out_bytes,
                           berth_error_t *err);
  /* Optional (NULL: every claim shape is fine): refuse, without I/O, a
   * claim the backend cannot serve (volume mode, access modes) with
   * BERTH_EINVAL and a message naming the claim field. */
  berth_status_t (*check_claim)(berth_backend_t *be,
                                const berth_provision_request_t *req,
                                berth_error_t *err);
  /* Optional (NULL: the backend keeps no records): list or forget the
   * records of berth_records_request_t; bounded by req->max. */
  berth_status_t (*records)(berth_backend_t *be, berth_records_request_t *req,
                            berth_error_t *err);
} berth_backend_ops_t;

/* Every backend this build has, in the order help texts list them;
 * NULL-terminated. Adding a backend adds a line here (registry.c). */
extern const berth_backend_ops_t *const berth_backends[];

/* The backend called name, or NULL. */
const berth_backend_ops_t *berth_backend_find(const char *name);

/* The names of berth_backends as "nfs, ebs, efs" into out (for messages
 * such as "this build has: ..."); truncated to fit. */
void berth_backend_names(char *out, size_t outsize);

/* Make an instance of the backend called name from settings. An unknown
 * name is BERTH_EINVAL naming it and the known ones. */
berth_status_t berth_backend_create(const char *name,
                                    const berth_backend_settings_t *settings,
                                    berth_backend_t **out, berth_error_t *err);

/* Check settings for the backend called name as create would, without
 * I/O. An unknown name is BERTH_EINVAL as for berth_backend_create. */
berth_status_t
berth_backend_check_settings(const char *name,
                             const berth_backend_settings_t *settings,
                             berth_error_t *err);

/* A backend instance. Each backend's own state embeds this as its first
 * member; callers never touch it and go through the functions below. */
struct berth_backend {
  const berth_backend_ops_t *ops;
};

/* The backend's name ("nfs"). Borrowed, static. */
const char *berth_backend_name(const berth_backend_t *be);

/* Check a StorageClass's parameters (NULL: none) without any I/O. An
 * unknown parameter, a value that is not a string, or an invalid value
 * gives BERTH_EINVAL with a message that names the parameter. */
berth_status_t berth_backend_validate(berth_backend_t *be,
                                      const json_t *parameters,
                                      berth_error_t *err);

/* Provision the storage for req (see the top of this file for
 * idempotence) and fill *out, which must have been initialised with
 * berth_provision_result_init; it is set only on success. */
berth_status_t berth_backend_provision(berth_backend_t *be,
                                       const berth_provision_request_t *req,
                                       berth_provision_result_t *out,
                                       berth_error_t *err);

/* Delete (or archive, or keep) the storage of req->pv and say which in
 * *out (optional). Storage that is already gone is BERTH_OK with
 * BERTH_DELETE_ABSENT. */
berth_status_t berth_backend_delete(berth_backend_t *be,
                                    const berth_delete_request_t *req,
                                    berth_delete_outcome_t *out,
                                    berth_error_t *err);

/* Check the claim's shape (req->block, req->access_modes) against what
 * the backend can serve, with the class parameters in req->parameters; no
 * I/O. BERTH_EINVAL with a message naming the field when it cannot. */
berth_status_t berth_backend_check_claim(berth_backend_t *be,
                                         const berth_provision_request_t *req,
                                         berth_error_t *err);

/* The backend's berth_backend_cap_t bits, EXPAND and USAGE included. */
unsigned berth_backend_caps(const berth_backend_t *be);

/* The same for a backend kind, without an instance. */
unsigned berth_backend_ops_caps(const berth_backend_ops_t *ops);

/* true when the backend can grow its volumes (berth_backend_expand). */
bool berth_backend_can_expand(const berth_backend_t *be);

/* Grow pv's storage to at least new_bytes, as external-resizer's
 * ControllerExpandVolume; the new size goes to *out_bytes. A backend that
 * cannot grow volumes gives BERTH_EPERM. */
berth_status_t berth_backend_expand(berth_backend_t *be, const json_t *pv,
                                    uint64_t new_bytes, uint64_t *out_bytes,
                                    berth_error_t *err);

/* true when the backend can measure its volumes' usage at all (the ops'
 * usage is not NULL). EBS cannot: a disk's contents are only visible to
 * the node that mounts it. */
bool berth_backend_can_measure_usage(const berth_backend_t *be);

/* Measure what the volume of pv (provisioned by this backend) holds. *out
 * is set only on success; a walk cut short by its limit is still a
 * success, with out->truncated set. BERTH_EPERM means this volume cannot
 * be measured (a backend without usage, an EFS access point): a fact
 * about the volume, not a failure. */
berth_status_t berth_backend_usage(berth_backend_t *be, const json_t *pv,
                                   const json_t *parameters, berth_usage_t *out,
                                   berth_error_t *err);

/* true when the backend records what it makes (berth_backend_records). */
bool berth_backend_can_record(const berth_backend_t *be);

/* List (req->forget NULL: req->records is set on success) or forget the
 * backend's records, see berth_records_request_t. A backend without
 * records gives BERTH_EPERM. */
berth_status_t berth_backend_records(berth_backend_t *be,
                                     berth_records_request_t *req,
                                     berth_error_t *err);

/* Free the backend and everything it holds (connections). Accepts NULL. */
void berth_backend_destroy(berth_backend_t *be);

/* Initialise an empty result. */
void berth_provision_result_init(berth_provision_result_t *res);

/* Release the result's json_t references and leave it empty. Accepts
 * NULL. */
void berth_provision_result_cleanup(berth_provision_result_t *res);

/* The bit of an access mode's Kubernetes name ("ReadWriteMany"), or 0 for
 * an unknown name. */
unsigned berth_access_mode_parse(const char *name);

/* Helpers for backends' validate: parameters must be NULL or an object
 * whose values are all strings, and every key must be in known (a
 * NULL-terminated list; compared exactly, nfs-subdir's way). The message
 * names the first offending key and, for an unknown one, which tool it
 * belongs to (berth_backend_foreign_key) and the known ones. */
berth_status_t berth_backend_check_parameters(const char *backend,
                                              const json_t *parameters,
                                              const char *const *known,
                                              berth_error_t *err);

/* When key (any case) is a StorageClass parameter of another tool that
 * backend does not take, a static phrase naming that tool ("a parameter of
 * nfs-subdir-external-provisioner"), so that an Event can say why the key
 * is refused; else NULL. backend is "nfs", "efs" or "ebs". */
const char *berth_backend_foreign_key(const char *backend, const char *key);

/* The reason (berth_error_t.reason) a backend or the controller sets when
 * provisioning failed because of the node the scheduler chose (its zone
 * has no capacity, is not supported, or has no topology label): the claim
 * should go back to the scheduler. */
#define BERTH_REASON_NODE_CHOICE "NodeChoice"

/* true when err says the failure may be caused by the node choice, so
 * that the controller removes volume.kubernetes.io/selected-node and lets
 * the scheduler choose again (sig-storage-lib-external-provisioner's
 * ProvisioningReschedule): BERTH_REASON_NODE_CHOICE, or the EC2 codes for
 * a zone without capacity or support (InsufficientVolumeCapacity,
 * Unsupported, InvalidAvailabilityZone, InvalidZone.NotFound). */
bool berth_backend_error_reschedules(const berth_error_t *err);

/* The string value of parameter key, or NULL when absent (or parameters
 * is NULL). Borrowed. Call berth_backend_check_parameters first. */
const char *berth_backend_parameter(const json_t *parameters, const char *key);

/* Write the len bytes of s to out (outsize bytes, at least 8) as a quoted,
 * printable string for a message or an Event: "ab\x0a..." with control
 * bytes, '"' and '\\' escaped, and "..." before the closing quote when it
 * had to be cut short. Values from claims go through this before they
 * appear in a message. */
void berth_backend_quote(const char *s, size_t len, char *out, size_t outsize);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROVISIONER_BACKEND_H */
