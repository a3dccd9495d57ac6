/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the NFS sub-directory backend.
 *
 * Each volume is a directory on an NFS export, reached in user space with
 * libnfs (lib/nfs), NFSv3 or NFSv4: no kernel mount, no privileges. The
 * PV mounts that directory: {"nfs": {"server": S, "path": EXPORT/DIR}}.
 *
 * StorageClass parameters (all strings), compatible with
 * nfs-subdir-external-provisioner where the names are the same:
 *
 *   pathPattern      the directory, relative to the export, built from
 *                    ${.PVC.namespace}, ${.PVC.name},
 *                    ${.PVC.annotations.KEY} and ${.PVC.labels.KEY};
 *                    '/' in the pattern makes nested directories, created
 *                    as needed. Default (and when the pattern expands to
 *                    nothing): <namespace>-<claim name>-<PV name>. A missing
 *                    annotation or label expands to "" as in nfs-subdir.
 *   onDelete         "delete" or "retain"; wins over archiveOnDelete
 *   archiveOnDelete  a boolean ("true", "false", "1", "0", ...); default
 *                    true, as nfs-subdir: on delete the directory is
 *                    renamed to archived-<last component> at the export's
 *                    root (for nested patterns too, as nfs-subdir does)
 *   server, share    the export (NFS server and exported path), or
 *   url              the export as a libnfs URL
 *                    (nfs://server/path?version=4&nfsport=N...)
 *   nfsvers          "3" (default, as libnfs) or "4", with server/share
 *   directoryPerms   octal permission bits of the volume's directory,
 *                    default "0777" as nfs-subdir
 *   uid, gid         owner and group of the volume's directory
 *   gidRangeStart,   a gid per volume: the lowest gid of the range not
 *   gidRangeEnd      used by another volume, set as the directory's group
 *                    and recorded on the PV as pv.beta.kubernetes.io/gid
 *
 * A class that sets none of server, share and url uses the backend's
 * default export (the nfs-subdir environment NFS_SERVER and NFS_PATH,
 * passed in by the controller as berth_backend_nfs_config_t.defaults).
 *
 * Safety: the expanded path never leaves the export. It is checked before
 * any I/O, component by component: no "..", no ".", no empty component
 * (so no absolute path and no "//"), no NUL or control character, at most
 * BERTH_NFS_NAME_MAX bytes per component and BERTH_NFS_PATH_MAX in all,
 * and no '/' brought in by a claim's name, annotation or label. On the
 * server, the path is then walked one component at a time and a component
 * that is a symbolic link is refused. A refused claim gives BERTH_EINVAL
 * and nothing is written. Recursive delete never follows a symbolic link:
 * it unlinks the link itself.
 *
 * What a provision records on the PV, so that delete and usage need
 * nothing else (StorageClass parameters are immutable, so this is the
 * class's own choice, kept even if the class is deleted):
 * BERTH_NFS_ANN_URL, BERTH_NFS_ANN_DIR, BERTH_NFS_ANN_ON_DELETE and, with
 * a gid, BERTH_ANN_PV_GID. A PV without them (made by nfs-subdir) is
 * handled through its spec.nfs and the class parameters.
 *
 * Connections: one per export (libnfs URL), made on first use, reused,
 * and made again (once per call) when the server drops it. Calls on one
 * export are serialised; distinct exports work in parallel. */
#ifndef BERTH_PROVISIONER_BACKENDS_NFS_H
#define BERTH_PROVISIONER_BACKENDS_NFS_H

#include "backends/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PV annotations written by provision and read by delete and usage. */
#define BERTH_NFS_ANN_URL "nfs.berth.io/url"       /* the export */
#define BERTH_NFS_ANN_DIR "nfs.berth.io/directory" /* relative */
#define BERTH_NFS_ANN_ON_DELETE                                                \
  "nfs.berth.io/on-delete" /* delete, retain,                                  \
                              archive */

/* Limits of a volume's path relative to the export. */
#define BERTH_NFS_NAME_MAX 255  /* bytes in one component */
#define BERTH_NFS_PATH_MAX 1024 /* bytes in the whole path */

/* The archive prefix, as nfs-subdir. */
#define BERTH_NFS_ARCHIVE_PREFIX "archived-"

typedef struct berth_backend_nfs_config {
  /* Parameters for classes that do not set them (borrowed during
   * berth_backend_nfs_create, which copies what it needs): typically
   * {"server": NFS_SERVER, "share": NFS_PATH}. Any parameter is allowed.
   * NULL: none, every class must name its export. */
  const json_t *defaults;
  /* Timeout of the mount and of every NFS call, in milliseconds; 0 gives
   * BERTH_NFS_DEFAULT_TIMEOUT_MS. */
  int timeout_ms;
  /* Bounds of the usage walk; 0 gives the defaults (1,000,000 entries,
   * depth 64). */
  uint64_t usage_max_entries;
  unsigned usage_max_depth;
  /* Clones: how many files' contents are copied at once, each on a
   * connection of its own; 0 gives 4, at most 16. */
  unsigned copy_workers;
} berth_backend_nfs_config_t;

/* Create an NFS backend in *out (free it with berth_backend_destroy). No
 * connection is made yet. Invalid defaults give BERTH_EINVAL naming the
 * parameter. cfg may be NULL (no defaults). *out is set only on
 * success. */
berth_status_t berth_backend_nfs_create(const berth_backend_nfs_config_t *cfg,
                                        berth_backend_t **out,
                                        berth_error_t *err);

/* An export, as provision derives it from a class's parameters. */
typedef struct berth_backend_nfs_export {
  char *url;    /* the libnfs URL */
  char *server; /* the PV's spec.nfs.server: no port, no brackets */
  char *path;   /* the exported path, "/x" ("/" for the root) */
} berth_backend_nfs_export_t;

/* The export that params (a class's parameters, or {"url": U} for a PV's
 * BERTH_NFS_ANN_URL) name over defaults (the backend's defaults), exactly
 * as provision finds it: from params when they name one (server, share or
 * url), else from defaults. Either may be NULL. BERTH_ENOTFOUND when
 * neither names an export, BERTH_EINVAL (naming the parameter) when it is
 * invalid. *out is set only on success; free it with
 * berth_backend_nfs_export_cleanup. */
berth_status_t berth_backend_nfs_export(const json_t *defaults,
                                        const json_t *params,
                                        berth_backend_nfs_export_t *out,
                                        berth_error_t *err);

/* true when params name an export (server, share or url). */
bool berth_backend_nfs_names_export(const json_t *params);

/* Free the strings of e and zero it. Accepts NULL. */
void berth_backend_nfs_export_cleanup(berth_backend_nfs_export_t *e);

/* The NFS backend's vtable, listed in berth_backends (registry.c), and
 * berthctl's operations (nfs_inspect.c). */
extern const berth_backend_ops_t berth_backend_nfs_ops;
extern const struct berth_inspect_ops berth_backend_nfs_inspect;

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROVISIONER_BACKENDS_NFS_H */
