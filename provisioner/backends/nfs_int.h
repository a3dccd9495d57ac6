/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the NFS backend shared between its files (berth__nfsb_):
 *
 *   nfs.c       the vtable: provision, delete, usage
 *   nfs_opts.c  StorageClass parameters -> berth__nfsb_opts_t
 *   nfs_path.c  pathPattern expansion and path safety (no I/O)
 *   nfs_tree.c  walking, creating, removing and measuring on the server
 *   nfs_conn.c  one reused connection per export
 *   nfs_gid.c   gid allocation from a range
 *   nfs_clone.c copying a volume's tree into a clone's
 *   nfs_journal.c  the journal of volumes in flight (.berth/inflight)
 *   nfs_inspect.c  berthctl's operations (backends/inspect.h): a volume's
 *               directory, the default export, health checks
 *   nfs_orphans.c  berthctl's orphan scan of the exports, and remove
 *
 * Unit tests include this header to test nfs_path.c, nfs_opts.c and
 * nfs_gid.c without a server. */
#ifndef BERTH_PROVISIONER_BACKENDS_NFS_INT_H
#define BERTH_PROVISIONER_BACKENDS_NFS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/nfs.h"
#include "berth/status.h"
#include "backends/backend.h"
#include "backends/inspect.h"
#include "backends/nfs.h"

/* "No id given" for uid and gid: also libnfs's "leave it unchanged". */
#define BERTH__NFSB_NO_ID UINT32_MAX

/* ---- nfs_path.c -------------------------------------------------------- */

/* What a pathPattern's variables expand to. Borrowed. */
typedef struct berth__nfsb_vars {
  const char *ns;            /* ${.PVC.namespace} */
  const char *name;          /* ${.PVC.name} */
  const char *pv_name;       /* only in the default directory name */
  const json_t *annotations; /* object or NULL: ${.PVC.annotations.K} */
  const json_t *labels;      /* object or NULL: ${.PVC.labels.K} */
} berth__nfsb_vars_t;

/* Expand pattern (NULL: none) with vars into a new relative path in *out,
 * checked with berth__nfsb_path_check. A pattern that is NULL or expands
 * to "" gives the default <ns>-<name>-<pv_name>. A value that holds '/' or
 * a NUL byte, an unknown variable or an unclosed "${" gives BERTH_EINVAL
 * with a message naming the claim field or the pattern. *out is set only
 * on success. */
berth_status_t berth__nfsb_expand(const char *pattern,
                                  const berth__nfsb_vars_t *vars, char **out,
                                  berth_error_t *err);

/* Check a pattern without a claim: its syntax, and that it expands to a
 * safe path when every variable is a plain name. */
berth_status_t berth__nfsb_pattern_check(const char *pattern,
                                         berth_error_t *err);

/* Check a path relative to the export, component by component (see
 * backends/nfs.h, "Safety"). what names the path in the message
 * ("pathPattern ... gives", "PV directory"). */
berth_status_t berth__nfsb_path_check(const char *path, const char *what,
                                      berth_error_t *err);

/* The last component of a checked path. Borrowed from path. */
const char *berth__nfsb_leaf(const char *path);

/* ---- nfs_opts.c -------------------------------------------------------- */

typedef enum berth__nfsb_on_delete {
  BERTH__NFSB_ON_DELETE_DELETE = 0,
  BERTH__NFSB_ON_DELETE_RETAIN,
  BERTH__NFSB_ON_DELETE_ARCHIVE
} berth__nfsb_on_delete_t;

/* A class's parameters, with the backend's defaults filled in. */
typedef struct berth__nfsb_opts {
  char *url;         /* owned: the export as a libnfs URL */
  char *server;      /* owned: spec.nfs.server of the PV */
  char *export_path; /* owned: the export's path on the server, "/x" */
  char *pattern;     /* owned: pathPattern, or NULL */
  berth__nfsb_on_delete_t on_delete;
  uint32_t perms; /* directoryPerms */
  uint32_t uid;   /* BERTH__NFSB_NO_ID when not given */
  uint32_t gid;   /* BERTH__NFSB_NO_ID when not given */
  bool gid_range; /* allocate gids from [gid_min, gid_max] */
  uint32_t gid_min;
  uint32_t gid_max;
} berth__nfsb_opts_t;

/* The parameters the backend knows (NULL-terminated). */
extern const char *const berth__nfsb_known_params[];

/* Parse params over defaults (either may be NULL) into *out. The export
 * comes from params when they name one (server, share or url), from
 * defaults otherwise; the other parameters from params, then defaults.
 * No export at all is BERTH_EINVAL. Clean *out up with
 * berth__nfsb_opts_cleanup, also after a failure. */
berth_status_t berth__nfsb_opts_parse(const json_t *defaults,
                                      const json_t *params,
                                      berth__nfsb_opts_t *out,
                                      berth_error_t *err);
void berth__nfsb_opts_cleanup(berth__nfsb_opts_t *opts);

/* Make *url (owned, replaced) speak the NFS version that mount_options (a
 * StorageClass's or PV's mountOptions: nfsvers=N or vers=N, as nfs(5);
 * may be NULL) name, so that berth's own connection uses the version the
 * pods mount with. A URL without version= gets one; one that names
 * another version is BERTH_EINVAL, as is a version berth cannot speak.
 * No version option: *url unchanged (then negotiated at connect). */
berth_status_t berth__nfsb_url_mount_version(char **url,
                                             const json_t *mount_options,
                                             berth_error_t *err);

/* "delete", "retain", "archive" and back. */
const char *berth__nfsb_on_delete_name(berth__nfsb_on_delete_t v);
berth_status_t berth__nfsb_on_delete_parse(const char *s,
                                           berth__nfsb_on_delete_t *out);

/* Check a server host, len bytes at host: a host name, an IPv4 address,
 * or an IPv6 address bare or in brackets. *v6 tells an IPv6 address.
 * BERTH_EINVAL otherwise ("[]", "[", "]", "[::1", "a..b", "h:2049"). */
berth_status_t berth__nfsb_host_check(const char *host, size_t len, bool *v6);

/* Split a libnfs URL into the PV's server (host, without port or
 * brackets) and the export path (without the query), both new strings. A
 * URL that is not nfs://host/path[?args] gives BERTH_EINVAL. */
berth_status_t berth__nfsb_url_split(const char *url, char **server,
                                     char **path, berth_error_t *err);

/* ---- nfs_gid.c --------------------------------------------------------- */

/* The gids this process handed out and that may not be on a PV yet, so
 * that two claims provisioned at the same time never get the same gid.
 * Embedded; thread-safe. */
typedef struct berth__nfsb_gids {
  pthread_mutex_t lock;
  struct berth__nfsb_gid_entry *entries; /* owned array */
  size_t n;
  size_t cap;
} berth__nfsb_gids_t;

void berth__nfsb_gids_init(berth__nfsb_gids_t *g);
void berth__nfsb_gids_cleanup(berth__nfsb_gids_t *g);

/* Pick the gid for volume pv_name from [min, max] and reserve it: the gid
 * already reserved for pv_name if any; else current (the directory's gid
 * when it exists, or -1) when it is in the range and neither in used nor
 * reserved for another volume; else the lowest gid of the range in
 * neither. A full range gives BERTH_ETOOBIG. */
berth_status_t berth__nfsb_gid_pick(berth__nfsb_gids_t *g, const char *pv_name,
                                    uint32_t min, uint32_t max,
                                    const uint32_t *used, size_t n_used,
                                    int64_t current, uint32_t *out,
                                    berth_error_t *err);

/* Forget pv_name's reservation (its volume is deleted). */
void berth__nfsb_gid_release(berth__nfsb_gids_t *g, const char *pv_name);

/* ---- nfs_tree.c -------------------------------------------------------- */

/* Mode of the intermediate directories of a nested pathPattern. */
#define BERTH__NFSB_PARENT_MODE 0755

/* Make sure the directory path (checked) exists, walking it from the
 * export's root one component at a time: an existing component must be a
 * directory and not a symbolic link (BERTH_EINVAL otherwise, and nothing
 * is created below it); a missing one is created, with mode for the last
 * and BERTH__NFSB_PARENT_MODE for the others. */
berth_status_t berth__nfsb_tree_mkdirs(berth_nfs_t *nfs, const char *path,
                                       uint32_t mode, berth_error_t *err);

/* Walk the existing path as above without creating anything, and fill
 * *leaf (optional) with the attributes of its last component. A missing
 * component gives BERTH_ENOTFOUND; a symbolic link or a non-directory
 * BERTH_EINVAL. */
berth_status_t berth__nfsb_tree_find(berth_nfs_t *nfs, const char *path,
                                     berth_nfs_stat_t *leaf,
                                     berth_error_t *err);

/* Remove the directory path (found with berth__nfsb_tree_find) and
 * everything below it. Symbolic links are unlinked, never followed. A
 * tree of more than max_depth levels of directories (path itself is the
 * first) is left alone, partly removed, with BERTH_ETOOBIG. */
berth_status_t berth__nfsb_tree_remove(berth_nfs_t *nfs, const char *path,
                                       unsigned max_depth, berth_error_t *err);

/* Add up what is below the directory path, visiting at most max_entries
 * entries and listing at most max_depth levels of directories (path
 * itself is the first); stopping there sets out->truncated. */
berth_status_t berth__nfsb_tree_usage(berth_nfs_t *nfs, const char *path,
                                      uint64_t max_entries, unsigned max_depth,
                                      berth_usage_t *out, berth_error_t *err);

/* ---- nfs_clone.c ------------------------------------------------------- */

/* A clone is copied into <parent of its directory>/.berth-clone-<PV name>
 * and renamed into place when complete: a directory at the clone's path
 * is a finished copy, the staging name an unfinished one (removed and
 * started again by the next attempt, or by a delete). */
#define BERTH__NFSB_CLONE_PREFIX ".berth-clone-"
#define BERTH__NFSB_COPY_MAX_WORKERS 16
#define BERTH__NFSB_COPY_WORKERS 4     /* file contents copied at once */
#define BERTH__NFSB_COPY_MAX_DEPTH 256 /* levels of directories */

typedef struct berth__nfsb_copy {
  const char *url; /* the export (source and copy are on it) */
  const char *src; /* the source directory, relative, checked */
  const char *dst; /* the copy's root: an existing, empty directory */
  int timeout_ms;  /* of each connection's calls */
  unsigned workers;
  unsigned max_depth;
  const berth_clone_source_t *hooks; /* cancelled, progress; may be NULL */
  uint64_t files;                    /* out: entries copied */
  uint64_t bytes;                    /* out: bytes of file contents copied */
  uint64_t skipped; /* out: FIFOs, sockets, devices not copied */
} berth__nfsb_copy_t;

/* Copy the tree below cp->src into cp->dst (see nfs_clone.c for what is
 * copied and how), on connections of its own. A cancel gives
 * BERTH_ECANCELED. The caller removes cp->dst after a failure. */
berth_status_t berth__nfsb_copy_tree(berth__nfsb_copy_t *cp,
                                     berth_error_t *err);
/* ---- nfs_journal.c ----------------------------------------------------- */

/* Record, before it is made, that the directory rel (checked) is made for
 * the claim ns/name as the PV pv; idempotent. */
berth_status_t berth__nfsb_journal_add(berth_nfs_t *nfs, const char *pv,
                                       const char *ns, const char *name,
                                       const char *rel, berth_error_t *err);

/* Forget pv's record; one that is not there is BERTH_OK. */
berth_status_t berth__nfsb_journal_drop(berth_nfs_t *nfs, const char *pv,
                                        berth_error_t *err);

/* Append to out at most max records of the export url (the objects of
 * berth_records_request_t). A record that cannot be read as one volume's
 * is left out (and logged), never guessed at. */
berth_status_t berth__nfsb_journal_list(berth_nfs_t *nfs, const char *url,
                                        size_t max, json_t *out,
                                        berth_error_t *err);

/* ---- nfs_conn.c -------------------------------------------------------- */

typedef struct berth__nfsb_pool berth__nfsb_pool_t;

/* An operation on one export, run with its connection held. */
typedef berth_status_t (*berth__nfsb_op_fn)(berth_nfs_t *nfs, void *ctx,
                                            berth_error_t *err);

berth_status_t berth__nfsb_pool_create(int timeout_ms, berth__nfsb_pool_t **out,
                                       berth_error_t *err);
void berth__nfsb_pool_destroy(berth__nfsb_pool_t *pool);

/* Run fn on url's connection, connecting first if there is none. When fn
 * fails with BERTH_ETRANSPORT (the server dropped the connection, or
 * restarted), connect again and run fn once more: so fn must be safe to
 * repeat, which every backend operation is. After BERTH_ETIMEOUT the
 * connection is dropped and the next call makes a new one. */
berth_status_t berth__nfsb_pool_run(berth__nfsb_pool_t *pool, const char *url,
                                    berth__nfsb_op_fn fn, void *ctx,
                                    berth_error_t *err);

/* ---- nfs_inspect.c, nfs_orphans.c: berthctl's operations ------------ */

/* berthctl's connection to one export, made once per run; a failure is
 * remembered so that a dead server costs one timeout, not one per
 * volume. */
typedef struct berth__nfsi_conn {
  char *url;
  berth_nfs_t *nfs; /* NULL when connecting failed */
  berth_status_t st;
  char message[2048];
} berth__nfsi_conn_t;

/* The nfs backend's inspector. */
typedef struct berth__nfsi {
  berth_inspector_t base; /* first */
  json_t *defaults;       /* the default export, as parameters, or NULL */
  const char *defaults_from;
  char found_from[320]; /* where the default export was found */
  berth__nfsi_conn_t *conns;
  size_t nconns;
  int timeout_ms;
} berth__nfsi_t;

/* "/a/b/" -> "/a/b"; "" -> "/". New string (NULL: out of memory). */
char *berth__nfsi_trim_path(const char *p, size_t n);

/* The export of a libnfs URL (a PV's nfs.berth.io/url). */
berth_status_t berth__nfsi_export_of_url(const char *url,
                                         berth_backend_nfs_export_t *out,
                                         berth_error_t *err);

/* The export of a class over the default export (defaults: parameters, or
 * NULL); sclass NULL: the default export. BERTH_ENOTFOUND, saying how to
 * tell berthctl, when neither names one. */
berth_status_t berth__nfsi_class_export(const json_t *defaults,
                                        const json_t *sclass,
                                        berth_backend_nfs_export_t *out,
                                        berth_error_t *err);

/* The part of server:path (a PV's spec.nfs) below exp, relative, or NULL
 * when it is not strictly below it. Borrowed from path. */
const char *berth__nfsi_below_export(const berth_backend_nfs_export_t *exp,
                                     const char *server, const char *path);

/* Where pv's directory is, *url (the export) and *dir (relative): from
 * the annotations provision wrote, else from spec.nfs below the export of
 * sclass (NULL: the class is gone) over defaults. New strings, set only on
 * success. */
berth_status_t berth__nfsi_pv_target(const json_t *defaults, const json_t *pv,
                                     const json_t *sclass, char **url,
                                     char **dir, berth_error_t *err);

/* The connection to url (see berth__nfsi_conn_t); NULL with err set when
 * it cannot be made. */
berth_nfs_t *berth__nfsi_conn(berth__nfsi_t *b, const char *url,
                              berth_error_t *err);

/* Levels of a path or of a pathPattern ("a/b" is 2, "" and NULL 1). */
unsigned berth__nfsi_levels(const char *p);

/* true when a directory's name ends with a PV name, "pvc-<uid>" (the
 * default directory name of berth and nfs-subdir): a volume wherever it
 * lies. */
bool berth__nfsi_looks_like_volume(const char *name);

/* The inspect operations scan and remove (nfs_orphans.c). */
berth_status_t berth__nfsi_scan(berth_inspector_t *be, berth_orphans_t *out,
                                berth_error_t *err);
berth_status_t berth__nfsi_remove(berth_inspector_t *be,
                                  const berth_orphan_t *o, bool archive,
                                  char **done, berth_error_t *err);

#endif /* BERTH_PROVISIONER_BACKENDS_NFS_INT_H */
