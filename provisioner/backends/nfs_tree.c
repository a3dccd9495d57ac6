/* SPDX-License-Identifier: Apache-2.0 */
/* Walking, creating, removing and measuring directory trees on the
 * server, never following a symbolic link.
 *
 * libnfs resolves paths itself and follows a symbolic link met in the
 * middle of one. So a path is only handed to libnfs after each of its
 * components was seen, with lstat semantics, to be a real directory: a
 * walk goes from the export's root one component at a time, and the
 * recursive walks below descend only into entries that the listing
 * (READDIRPLUS attributes, which describe a link as a link) and a fresh
 * lstat both call directories. Links themselves are unlinked, never
 * followed.
 *
 * What remains is the window between that lstat and the next call, in
 * which another client of the export could swap a directory for a link.
 * Closing it needs operations on file handles (LOOKUP, REMOVE relative to
 * a directory's handle) rather than paths, which lib/nfs does not offer;
 * a link always resolves inside the export, and only someone who can
 * already write below the volume's parent can try. */
#include "backends/nfs_int.h"

#include "berth/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFSB_QUOTED 96

/* ---- walking a path from the root ------------------------------------ */

/* Look at one existing component (prefix is the path up to and including
 * it) and refuse anything but a real directory. */
static berth_status_t nfsb_check_dir(const berth_nfs_stat_t *sb,
                                     const char *prefix, const char *path,
                                     berth_error_t *err)
{
  char qprefix[NFSB_QUOTED];
  char qpath[NFSB_QUOTED];

  if (sb->type == BERTH_NFS_TYPE_DIR)
    return BERTH_OK;
  berth_backend_quote(prefix, strlen(prefix), qprefix, sizeof(qprefix));
  berth_backend_quote(path, strlen(path), qpath, sizeof(qpath));
  if (sb->type == BERTH_NFS_TYPE_SYMLINK)
    return berth_error_set(err, BERTH_EINVAL,
                           "%s is a symbolic link on the server: refused, "
                           "the path %s must not go through links",
                           qprefix, qpath);
  return berth_error_set(err, BERTH_EINVAL,
                         "%s exists on the server and is not a directory: "
                         "cannot use the path %s",
                         qprefix, qpath);
}

/* One step of a walk: lstat prefix; when missing and create is set, make
 * it with mode. */
static berth_status_t nfsb_step(berth_nfs_t *nfs, const char *prefix,
                                const char *path, bool create, uint32_t mode,
                                berth_nfs_stat_t *sb, berth_error_t *err)
{
  berth_status_t st;

  st = berth_nfs_stat(nfs, prefix, sb, err);
  if (st == BERTH_ENOTFOUND && create) {
    st = berth_nfs_mkdir(nfs, prefix, mode, err);
    /* EEXIST: someone (another replica, a retried RPC) was faster. */
    if (st == BERTH_OK || st == BERTH_EEXIST)
      st = berth_nfs_stat(nfs, prefix, sb, err);
  }
  if (st == BERTH_OK)
    st = nfsb_check_dir(sb, prefix, path, err);
  return st;
}

static berth_status_t nfsb_walk(berth_nfs_t *nfs, const char *path, bool create,
                                uint32_t mode, berth_nfs_stat_t *leaf,
                                berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  berth_nfs_stat_t sb;
  char *prefix;
  size_t pos = 0;
  size_t len;

  prefix = strdup(path);
  if (prefix == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "walk: out of memory");
    goto done;
  }
  for (;;) {
    bool last;

    len = strcspn(path + pos, "/");
    last = path[pos + len] == '\0';
    prefix[pos + len] = '\0';
    st = nfsb_step(nfs, prefix, path, create,
                   last ? mode : BERTH__NFSB_PARENT_MODE, &sb, err);
    if (st != BERTH_OK || last)
      break;
    prefix[pos + len] = '/';
    pos += len + 1;
  }
  if (st == BERTH_OK && leaf != NULL)
    *leaf = sb;

done:
  free(prefix);
  return st;
}

berth_status_t berth__nfsb_tree_mkdirs(berth_nfs_t *nfs, const char *path,
                                       uint32_t mode, berth_error_t *err)
{
  return nfsb_walk(nfs, path, true, mode, NULL, err);
}

berth_status_t berth__nfsb_tree_find(berth_nfs_t *nfs, const char *path,
                                     berth_nfs_stat_t *leaf, berth_error_t *err)
{
  return nfsb_walk(nfs, path, false, 0, leaf, err);
}

/* ---- recursive walks ------------------------------------------------- */

/* What the readdir callbacks share. berth_nfs_readdir replaces the error
 * of a callback that stops it with its own words, so the callbacks keep
 * theirs here and the walk puts it back. */
typedef struct nfsb_tree {
  berth_nfs_t *nfs;
  const char *dir;      /* the directory being listed */
  unsigned depth;       /* of dir below the walk's root, from 0 */
  unsigned max_depth;   /* levels listed, the root's being the first */
  uint64_t max_entries; /* usage only */
  berth_usage_t usage;  /* usage only */
  bool failed;          /* err holds the reason */
  berth_error_t err;
} nfsb_tree_t;

/* A listed name must be a plain name: a server that lists "a/b" or ".."
 * is not one to follow. */
static berth_status_t nfsb_check_name(nfsb_tree_t *t, const char *name)
{
  char quoted[NFSB_QUOTED];
  char qdir[NFSB_QUOTED];

  if (name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
      strcmp(name, "..") != 0)
    return BERTH_OK;
  berth_backend_quote(name, strlen(name), quoted, sizeof(quoted));
  berth_backend_quote(t->dir, strlen(t->dir), qdir, sizeof(qdir));
  return berth_error_set(&t->err, BERTH_EIO,
                         "the server listed the name %s in %s", quoted, qdir);
}

/* List t->dir with fn. On failure, t->err says why. */
static berth_status_t nfsb_list(nfsb_tree_t *t, const char *dir,
                                berth_nfs_readdir_fn fn)
{
  const char *saved = t->dir;
  berth_error_t scratch;
  berth_status_t st;

  t->dir = dir;
  berth_error_clear(&scratch);
  st = berth_nfs_readdir(t->nfs, dir, fn, t, &scratch);
  if (st != BERTH_OK && !t->failed) {
    t->err = scratch;
    t->failed = st != BERTH_ECANCELED;
  }
  t->dir = saved;
  return st;
}

static berth_status_t nfsb_remove_cb(void *ctx, const char *name,
                                     const berth_nfs_stat_t *sb);

/* Remove what is in dir, which must be a real directory right now. */
static berth_status_t nfsb_remove_below(nfsb_tree_t *t, const char *dir)
{
  berth_nfs_stat_t sb;
  berth_status_t st;

  /* Fresh lstat just before listing: a directory swapped for a link since
   * its parent was listed is not followed. */
  st = berth_nfs_stat(t->nfs, dir, &sb, &t->err);
  if (st == BERTH_OK)
    st = nfsb_check_dir(&sb, dir, dir, &t->err);
  if (st != BERTH_OK) {
    t->failed = true;
    return st;
  }
  return nfsb_list(t, dir, nfsb_remove_cb);
}

static berth_status_t nfsb_remove_cb(void *ctx, const char *name,
                                     const berth_nfs_stat_t *sb)
{
  nfsb_tree_t *t = ctx;
  berth_status_t st;
  char *child;

  st = nfsb_check_name(t, name);
  if (st != BERTH_OK) {
    t->failed = true;
    return st;
  }
  child = berth_strdup_printf("%s/%s", t->dir, name);
  if (child == NULL) {
    t->failed = true;
    return berth_error_set(&t->err, BERTH_ENOMEM, "delete: out of memory");
  }
  if (sb->type != BERTH_NFS_TYPE_DIR) {
    /* Files, links (the link itself), sockets, ...; gone already is
     * fine. */
    st = berth_nfs_unlink(t->nfs, child, &t->err);
    if (st == BERTH_ENOTFOUND)
      st = BERTH_OK;
  } else if (t->depth + 1 >= t->max_depth) {
    char quoted[NFSB_QUOTED];

    berth_backend_quote(child, strlen(child), quoted, sizeof(quoted));
    st = berth_error_set(&t->err, BERTH_ETOOBIG,
                         "delete: %s is more than %u levels deep: remove it "
                         "by hand",
                         quoted, t->max_depth);
  } else {
    t->depth++;
    st = nfsb_remove_below(t, child);
    t->depth--;
    if (st == BERTH_OK)
      st = berth_nfs_rmdir(t->nfs, child, &t->err);
  }
  if (st != BERTH_OK)
    t->failed = true;
  free(child);
  return st;
}

berth_status_t berth__nfsb_tree_remove(berth_nfs_t *nfs, const char *path,
                                       unsigned max_depth, berth_error_t *err)
{
  nfsb_tree_t t;
  berth_status_t st;

  memset(&t, 0, sizeof(t));
  t.nfs = nfs;
  t.max_depth = max_depth;
  st = nfsb_remove_below(&t, path);
  if (st == BERTH_OK)
    st = berth_nfs_rmdir(nfs, path, &t.err);
  if (st != BERTH_OK && err != NULL)
    *err = t.err;
  return st;
}

static berth_status_t nfsb_usage_cb(void *ctx, const char *name,
                                    const berth_nfs_stat_t *sb)
{
  nfsb_tree_t *t = ctx;
  berth_status_t st = BERTH_OK;
  char *child;

  if (t->usage.files >= t->max_entries) {
    t->usage.truncated = true;
    return BERTH_ECANCELED; /* stops every level */
  }
  st = nfsb_check_name(t, name);
  if (st != BERTH_OK) {
    t->failed = true;
    return st;
  }
  t->usage.files++;
  if (sb->type == BERTH_NFS_TYPE_FILE)
    t->usage.bytes += sb->size;
  if (sb->type != BERTH_NFS_TYPE_DIR)
    return BERTH_OK;
  if (t->depth + 1 >= t->max_depth) {
    t->usage.truncated = true;
    return BERTH_OK;
  }
  child = berth_strdup_printf("%s/%s", t->dir, name);
  if (child == NULL) {
    t->failed = true;
    return berth_error_set(&t->err, BERTH_ENOMEM, "usage: out of memory");
  }
  t->depth++;
  st = nfsb_list(t, child, nfsb_usage_cb);
  t->depth--;
  free(child);
  return st;
}

berth_status_t berth__nfsb_tree_usage(berth_nfs_t *nfs, const char *path,
                                      uint64_t max_entries, unsigned max_depth,
                                      berth_usage_t *out, berth_error_t *err)
{
  nfsb_tree_t t;
  berth_status_t st;

  memset(&t, 0, sizeof(t));
  t.nfs = nfs;
  t.max_depth = max_depth;
  t.max_entries = max_entries;
  st = nfsb_list(&t, path, nfsb_usage_cb);
  if (st == BERTH_ECANCELED && !t.failed)
    st = BERTH_OK; /* stopped at max_entries: truncated */
  if (st != BERTH_OK) {
    if (err != NULL)
      *err = t.err;
  } else {
    *out = t.usage;
  }
  return st;
}
