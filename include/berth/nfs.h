/* SPDX-License-Identifier: Apache-2.0 */
/* berth: a small synchronous NFS client over libnfs (NFSv3 and NFSv4).
 *
 * A berth_nfs_t is one mounted export, reached through a libnfs URL:
 *
 *   nfs://server/export/path?nfsport=2049&mountport=20048   NFSv3
 *   nfs://server/export/path?version=4&nfsport=2049         NFSv4
 *
 * Everything runs in user space: no kernel mount, no privileges. Every
 * call blocks until the server answers or the handle's timeout runs out,
 * so a dead server cannot hang the caller.
 *
 * Paths name objects inside the export, relative to its root: "a/b" and
 * "/a/b" are the same, and "" or "/" is the root itself. A path with a ".."
 * component is refused with BERTH_EINVAL, so that a path built from user
 * input cannot climb out of the export. (Symbolic links met in the middle of
 * a path are still resolved by libnfs; callers that must not follow links
 * check each component with berth_nfs_stat, which never follows the last.)
 *
 * Threads: a berth_nfs_t is not thread-safe. Use one per thread (or guard
 * one with a mutex); distinct handles may be used from distinct threads at
 * the same time.
 *
 * Errors: libnfs's negative errno values are converted to berth_status_t,
 * with libnfs's own text in err->message after the operation and path
 * ("mkdir /a/b: ..."):
 *
 *   ENOENT                          BERTH_ENOTFOUND
 *   EEXIST, ENOTEMPTY               BERTH_EEXIST (rmdir of a non-empty
 *                                   directory: its entries exist)
 *   EACCES, EPERM, EROFS            BERTH_EPERM
 *   ENOTDIR, EISDIR, EINVAL,
 *   ENAMETOOLONG, ELOOP             BERTH_EINVAL (ELOOP: NFSv4 chmod or
 *                                   chown met a symbolic link mid-path)
 *   ETIMEDOUT, EINTR                BERTH_ETIMEOUT (libnfs says EINTR
 *                                   when an RPC runs out of time)
 *   ECONNREFUSED, ECONNRESET, ...,
 *   EFAULT                          BERTH_ETRANSPORT (EFAULT is libnfs's
 *                                   "RPC failed below NFS"; also any
 *                                   failure to reach the server while
 *                                   connecting)
 *   ENOMEM                          BERTH_ENOMEM
 *   anything else                   BERTH_EIO
 *
 * A handle does not reconnect on its own (unless the URL asks for it with
 * libnfs's autoreconnect=N): after BERTH_ETRANSPORT or BERTH_ETIMEOUT,
 * destroy it and connect again. */
#ifndef BERTH_NFS_H
#define BERTH_NFS_H

#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One mounted export; opaque, see berth_nfs_connect. */
typedef struct berth_nfs berth_nfs_t;

/* The timeout berth_nfs_connect gives to the mount and to every call. */
#define BERTH_NFS_DEFAULT_TIMEOUT_MS 10000

typedef enum berth_nfs_type {
  BERTH_NFS_TYPE_OTHER = 0, /* device, socket, FIFO, ... */
  BERTH_NFS_TYPE_FILE,
  BERTH_NFS_TYPE_DIR,
  BERTH_NFS_TYPE_SYMLINK
} berth_nfs_type_t;

/* What berth_nfs_stat and berth_nfs_readdir report about an object. */
typedef struct berth_nfs_stat {
  berth_nfs_type_t type;
  uint32_t mode; /* permission bits with set-id and sticky: & 07777 */
  uint32_t uid;
  uint32_t gid;
  uint64_t size;       /* bytes */
  int64_t mtime_sec;   /* last modification, seconds since the epoch */
  uint32_t mtime_nsec; /* and nanoseconds */
  int64_t atime_sec;   /* last access, seconds since the epoch */
  uint32_t atime_nsec; /* and nanoseconds */
  uint32_t nlink;      /* hard links to the object */
} berth_nfs_stat_t;

/* An open regular file; opaque, see berth_nfs_open. */
typedef struct berth_nfs_file berth_nfs_file_t;

/* How berth_nfs_open opens a file. */
typedef enum berth_nfs_open_mode {
  BERTH_NFS_OPEN_READ = 0,   /* an existing file, read only */
  BERTH_NFS_OPEN_CREATE_NEW, /* a new file, write only: an existing object
                                at the path gives BERTH_EEXIST (exclusive
                                create, so never through a link) */
  BERTH_NFS_OPEN_WRITE       /* an existing file, write only */
} berth_nfs_open_mode_t;

/* Called by berth_nfs_readdir once per entry other than "." and "..".
 * name and st are borrowed for the duration of the call. Return BERTH_OK to
 * go on; any other status stops the listing, and berth_nfs_readdir returns
 * it (BERTH_ECANCELED is the natural "stop, all is well" value). */
typedef berth_status_t (*berth_nfs_readdir_fn)(void *ctx, const char *name,
                                               const berth_nfs_stat_t *st);

/* Parse url (see the top of this file; libnfs's URL arguments apply), mount
 * the export and return a new handle in *out, which the caller frees with
 * berth_nfs_destroy. Every call on the handle, and the mount itself, gives
 * up after BERTH_NFS_DEFAULT_TIMEOUT_MS. A malformed URL gives BERTH_EPARSE,
 * an unknown export BERTH_ENOTFOUND, a server that cannot be reached
 * BERTH_ETRANSPORT or BERTH_ETIMEOUT. *out is set only on success. A URL
 * with version=3 or version=4 speaks that version; one without is
 * negotiated: NFSv3, and when the server refuses it (an NFSv4-only
 * export) NFSv4.0; berth_nfs_version tells which. */
berth_status_t berth_nfs_connect(const char *url, berth_nfs_t **out,
                                 berth_error_t *err);

/* Like berth_nfs_connect with a timeout of timeout_ms milliseconds for the
 * mount and every later call (libnfs counts in whole seconds: it is rounded
 * up to one). timeout_ms <= 0 gives BERTH_EINVAL. */
berth_status_t berth_nfs_connect_timeout(const char *url, int timeout_ms,
                                         berth_nfs_t **out, berth_error_t *err);

/* Unmount (for NFSv3 this tells the server's MOUNT service, best effort,
 * which can wait up to the timeout for a dead server) and free the handle.
 * Accepts NULL. */
void berth_nfs_destroy(berth_nfs_t *nfs);

/* Return the NFS version in use, 3 or 4. nfs must not be NULL. */
int berth_nfs_version(const berth_nfs_t *nfs);

/* Create the directory path with permission bits mode (& 07777), exactly:
 * no umask is applied on the client (the server may still apply its own
 * policy). Its parent must exist. An existing object at path gives
 * BERTH_EEXIST. */
berth_status_t berth_nfs_mkdir(berth_nfs_t *nfs, const char *path,
                               uint32_t mode, berth_error_t *err);

/* Remove the empty directory path. A missing one gives BERTH_ENOTFOUND, a
 * non-empty one BERTH_EEXIST. */
berth_status_t berth_nfs_rmdir(berth_nfs_t *nfs, const char *path,
                               berth_error_t *err);

/* Remove the file or symbolic link path (not a directory). */
berth_status_t berth_nfs_unlink(berth_nfs_t *nfs, const char *path,
                                berth_error_t *err);

/* Rename the object from to the name to, both inside the export (NFS
 * RENAME, RFC 1813 section 3.3.14 and RFC 7530 section 16.24: atomic on the
 * server). A symbolic link at the end of from is renamed itself, not
 * followed. As with rename(2), an existing to is replaced when the server
 * allows it (a file by a file, an empty directory by a directory); a
 * non-empty directory at to gives BERTH_EEXIST. A missing from gives
 * BERTH_ENOTFOUND. */
berth_status_t berth_nfs_rename(berth_nfs_t *nfs, const char *from,
                                const char *to, berth_error_t *err);

/* Fill *out with the attributes of path, without following a symbolic link
 * at its end (lstat semantics). *out is set only on success. */
berth_status_t berth_nfs_stat(berth_nfs_t *nfs, const char *path,
                              berth_nfs_stat_t *out, berth_error_t *err);

/* Call fn(ctx, name, st) for every entry of the directory path except "."
 * and "..", in the server's order. The attributes come with the listing
 * (READDIRPLUS): symbolic links are reported as links, not followed. */
berth_status_t berth_nfs_readdir(berth_nfs_t *nfs, const char *path,
                                 berth_nfs_readdir_fn fn, void *ctx,
                                 berth_error_t *err);

/* Set the permission bits of path to mode (& 07777), without following a
 * symbolic link at its end. */
berth_status_t berth_nfs_chmod(berth_nfs_t *nfs, const char *path,
                               uint32_t mode, berth_error_t *err);

/* Set the owner and group of path, without following a symbolic link at
 * its end. (uint32_t)-1 leaves that id as it is. */
berth_status_t berth_nfs_chown(berth_nfs_t *nfs, const char *path, uint32_t uid,
                               uint32_t gid, berth_error_t *err);

/* Make the symbolic link path whose content is target (stored as it is,
 * never resolved by the client). An existing object at path gives
 * BERTH_EEXIST. */
berth_status_t berth_nfs_symlink(berth_nfs_t *nfs, const char *target,
                                 const char *path, berth_error_t *err);

/* Read the content of the symbolic link path into a new string in *out
 * (free it). *out is set only on success. */
berth_status_t berth_nfs_readlink(berth_nfs_t *nfs, const char *path,
                                  char **out, berth_error_t *err);

/* Set the access and modification times of path, without following a
 * symbolic link at its end. NFSv3 (through libnfs) keeps microseconds,
 * NFSv4 nanoseconds. */
berth_status_t berth_nfs_utimes(berth_nfs_t *nfs, const char *path,
                                int64_t atime_sec, uint32_t atime_nsec,
                                int64_t mtime_sec, uint32_t mtime_nsec,
                                berth_error_t *err);

/* Open the regular file path (see berth_nfs_open_mode_t; a new file gets
 * the permission bits mode & 07777, the server's policy aside) and return
 * a new handle in *out, closed with berth_nfs_close. A symbolic link at
 * the end of path is refused, never followed. The file handle belongs to
 * nfs and is used from the same thread. */
berth_status_t berth_nfs_open(berth_nfs_t *nfs, const char *path,
                              berth_nfs_open_mode_t how, uint32_t mode,
                              berth_nfs_file_t **out, berth_error_t *err);

/* Read up to len bytes at offset into buf; *got is the count read, 0 at
 * the end of the file. */
berth_status_t berth_nfs_pread(berth_nfs_file_t *f, uint64_t offset, void *buf,
                               size_t len, size_t *got, berth_error_t *err);

/* Write all len bytes of buf at offset (several WRITEs when the server
 * takes fewer at a time). Over NFSv4, libnfs 4.0 fails to encode WRITE
 * ("Failed to encode COMPOUND4args": BERTH_EIO): use NFSv3 to write
 * files. */
berth_status_t berth_nfs_pwrite(berth_nfs_file_t *f, uint64_t offset,
                                const void *buf, size_t len,
                                berth_error_t *err);

/* Close the file (for a written file, libnfs commits what it wrote) and
 * free the handle. Accepts NULL (BERTH_OK). */
berth_status_t berth_nfs_close(berth_nfs_file_t *f, berth_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_NFS_H */
