/* SPDX-License-Identifier: Apache-2.0 */
/* The NFS sub-directory backend: the vtable of backends/backend.h over
 * lib/nfs. See backends/nfs.h for the parameters and the guarantees, and
 * nfs_int.h for how the work is split between files.
 *
 * Provision: parameters -> path (nfs_path.c, refused before any I/O when
 * unsafe) -> walk and create it (nfs_tree.c) -> gid, chown, chmod -> the
 * PV's source and annotations. Each step is idempotent: a repeat finds the
 * directory, keeps its gid and sets the same owner and mode.
 *
 * Delete: what to remove comes from the annotations provision put on the
 * PV (or, for a PV made by nfs-subdir, from spec.nfs and the class), is
 * checked like a new path, and is then removed, archived or kept. */
#include "backends/nfs_int.h"

#include "berth/buf.h"
#include "berth/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults of the usage walk and the depth limit of a recursive delete
 * (each level is a stack frame and a longer path). */
#define NFSB_USAGE_MAX_ENTRIES 1000000
#define NFSB_USAGE_MAX_DEPTH 64
#define NFSB_DELETE_MAX_DEPTH 256

#define NFSB_QUOTED 96 /* room for a quoted value in a message */

typedef struct nfsb_backend {
  berth_backend_t base; /* first: the vtable */
  json_t *defaults;     /* owned copy, or NULL */
  berth__nfsb_pool_t *pool;
  berth__nfsb_gids_t gids;
  uint64_t usage_max_entries;
  unsigned usage_max_depth;
  int timeout_ms;        /* of every NFS call (0: the default) */
  unsigned copy_workers; /* clones: file contents copied at once */
} nfsb_backend_t;

/* ---- validate ---------------------------------------------------------- */

static berth_status_t
nfsb_validate(berth_backend_t *be, const json_t *parameters, berth_error_t *err)
{
  nfsb_backend_t *b = (nfsb_backend_t *)be;
  berth__nfsb_opts_t opts;
  berth_status_t st;

  st = berth__nfsb_opts_parse(b->defaults, parameters, &opts, err);
  berth__nfsb_opts_cleanup(&opts);
  return st;
}

/* ---- provision --------------------------------------------------------- */

/* What the provision operation needs on the server, and what it found. */
typedef struct nfsb_prov {
  nfsb_backend_t *b;
  const berth_provision_request_t *req;
  const berth__nfsb_opts_t *opts;
  const char *rel; /* the volume's directory, relative to the export */
  uint32_t gid;    /* the gid set, or BERTH__NFSB_NO_ID */
  /* Clones only: */
  const char *src;     /* the source's directory, relative */
  const char *staging; /* where the copy is made */
  bool finished;       /* the copy is in place already */
} nfsb_prov_t;

static berth_status_t nfsb_clone(nfsb_prov_t *p, berth_error_t *err);

/* With gidRangeStart/End: the gid for the volume, chosen before anything
 * is created (a full range writes nothing). A directory left by an
 * earlier attempt keeps the gid it already has. */
static berth_status_t nfsb_pick_gid(berth_nfs_t *nfs, nfsb_prov_t *p,
                                    berth_error_t *err)
{
  const berth__nfsb_opts_t *o = p->opts;
  int64_t current = -1;
  berth_nfs_stat_t leaf;
  berth_status_t st;

  st = berth__nfsb_tree_find(nfs, p->rel, &leaf, err);
  if (st == BERTH_OK)
    current = leaf.gid;
  else if (st != BERTH_ENOTFOUND)
    return st;
  return berth__nfsb_gid_pick(&p->b->gids, p->req->pv_name, o->gid_min,
                              o->gid_max, p->req->used_gids,
                              p->req->n_used_gids, current, &p->gid, err);
}

static berth_status_t nfsb_provision_op(berth_nfs_t *nfs, void *ctx,
                                        berth_error_t *err)
{
  nfsb_prov_t *p = ctx;
  const berth__nfsb_opts_t *o = p->opts;
  berth_status_t st = BERTH_OK;

  /* The record first: a provisioner killed from here on leaves a
   * journal entry that the sweep finds, not a nameless directory. */
  st = berth__nfsb_journal_add(nfs, p->req->pv_name, p->req->claim_namespace,
                               p->req->claim_name, p->rel, err);
  if (st != BERTH_OK)
    return st;
  p->gid = o->gid;
  if (o->gid_range)
    st = nfsb_pick_gid(nfs, p, err);
  if (st == BERTH_OK)
    st = berth__nfsb_tree_mkdirs(nfs, p->rel, o->perms, err);
  /* Owner first: a server may clear set-id bits on chown. Then the mode
   * exactly, also on a directory that a crashed attempt left behind. */
  if (st == BERTH_OK &&
      (o->uid != BERTH__NFSB_NO_ID || p->gid != BERTH__NFSB_NO_ID))
    st = berth_nfs_chown(nfs, p->rel, o->uid, p->gid, err);
  if (st == BERTH_OK)
    st = berth_nfs_chmod(nfs, p->rel, o->perms, err);
  /* Refused (a link on the path, a full gid range): no volume was made,
   * so no record may stay either (backend.h: BERTH_EINVAL writes
   * nothing). Other failures keep it for the retry or the cleanup. */
  if (st == BERTH_EINVAL)
    (void)berth__nfsb_journal_drop(nfs, p->req->pv_name, NULL);
  return st;
}

/* The claim's metadata.annotations or metadata.labels: an object or
 * NULL. */
static berth_status_t nfsb_claim_map(const json_t *claim, const char *what,
                                     const json_t **out, berth_error_t *err)
{
  json_t *meta = claim != NULL ? json_object_get(claim, "metadata") : NULL;
  json_t *map = meta != NULL ? json_object_get(meta, what) : NULL;

  *out = NULL;
  if (map == NULL || json_is_null(map))
    return BERTH_OK;
  if (!json_is_object(map))
    return berth_error_set(err, BERTH_EINVAL,
                           "claim: metadata.%s is not an object", what);
  *out = map;
  return BERTH_OK;
}

/* The volume's path relative to the export, from the class's pattern and
 * the claim. New string in *rel. */
static berth_status_t nfsb_claim_path(const berth_provision_request_t *req,
                                      const berth__nfsb_opts_t *opts,
                                      char **rel, berth_error_t *err)
{
  berth__nfsb_vars_t vars;
  berth_status_t st;

  memset(&vars, 0, sizeof(vars));
  vars.ns = req->claim_namespace;
  vars.name = req->claim_name;
  vars.pv_name = req->pv_name;
  st = nfsb_claim_map(req->claim, "annotations", &vars.annotations, err);
  if (st == BERTH_OK)
    st = nfsb_claim_map(req->claim, "labels", &vars.labels, err);
  if (st == BERTH_OK)
    st = berth__nfsb_expand(opts->pattern, &vars, rel, err);
  return st;
}

/* Set key to the string value in obj; false when out of memory. */
static bool nfsb_set_str(json_t *obj, const char *key, const char *value)
{
  json_t *v = json_string(value);

  return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* The PV's source and annotations. */
static berth_status_t nfsb_result(const nfsb_prov_t *p,
                                  berth_provision_result_t *out,
                                  berth_error_t *err)
{
  const berth__nfsb_opts_t *o = p->opts;
  berth_status_t st = BERTH_OK;
  json_t *nfs = json_object();
  json_t *source = json_object();
  json_t *ann = json_object();
  char *path;
  char gid[16];
  bool ok;

  path =
      berth_strdup_printf("%s%s%s", o->export_path,
                          strcmp(o->export_path, "/") == 0 ? "" : "/", p->rel);
  ok = nfs != NULL && source != NULL && ann != NULL && path != NULL &&
       nfsb_set_str(nfs, "server", o->server) &&
       nfsb_set_str(nfs, "path", path) &&
       json_object_set(source, "nfs", nfs) == 0 &&
       nfsb_set_str(ann, BERTH_NFS_ANN_URL, o->url) &&
       nfsb_set_str(ann, BERTH_NFS_ANN_DIR, p->rel) &&
       nfsb_set_str(ann, BERTH_NFS_ANN_ON_DELETE,
                    berth__nfsb_on_delete_name(o->on_delete));
  if (ok && p->gid != BERTH__NFSB_NO_ID) {
    snprintf(gid, sizeof(gid), "%u", p->gid);
    ok = nfsb_set_str(ann, BERTH_ANN_PV_GID, gid);
  }
  if (ok && p->req->clone != NULL) {
    char *from =
        berth_strdup_printf("%s/%s", p->req->clone->ns, p->req->clone->name);

    ok = from != NULL && nfsb_set_str(ann, BERTH_ANN_CLONED_FROM, from) &&
         nfsb_set_str(ann, BERTH_ANN_CLONED_FROM_UID, p->req->clone->uid);
    free(from);
  }
  if (!ok) {
    st = berth_error_set(err, BERTH_ENOMEM, "provision: out of memory");
    goto done;
  }
  out->source = source;
  out->annotations = ann;
  out->node_affinity = NULL;
  out->capacity_bytes = p->req->requested_bytes;
  source = NULL;
  ann = NULL;

done:
  json_decref(nfs);
  json_decref(source);
  json_decref(ann);
  free(path);
  return st;
}

static bool nfsb_empty(const char *s)
{
  return s == NULL || s[0] == '\0';
}

static berth_status_t nfsb_provision(berth_backend_t *be,
                                     const berth_provision_request_t *req,
                                     berth_provision_result_t *out,
                                     berth_error_t *err)
{
  nfsb_backend_t *b = (nfsb_backend_t *)be;
  berth__nfsb_opts_t opts;
  berth_status_t st;
  nfsb_prov_t p;
  char *rel = NULL;

  memset(&opts, 0, sizeof(opts));
  if (nfsb_empty(req->claim_namespace) || nfsb_empty(req->claim_name) ||
      nfsb_empty(req->pv_name)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "provision: the claim's namespace, name and PV "
                         "name are required");
    goto done;
  }
  st = berth__nfsb_opts_parse(b->defaults, req->parameters, &opts, err);
  if (st == BERTH_OK)
    st = berth__nfsb_url_mount_version(&opts.url, req->mount_options, err);
  if (st == BERTH_OK)
    st = nfsb_claim_path(req, &opts, &rel, err);
  if (st != BERTH_OK)
    goto done;
  memset(&p, 0, sizeof(p));
  p.b = b;
  p.req = req;
  p.opts = &opts;
  p.rel = rel;
  if (req->clone != NULL)
    st = nfsb_clone(&p, err);
  else
    st = berth__nfsb_pool_run(b->pool, opts.url, nfsb_provision_op, &p, err);
  if (st == BERTH_OK)
    st = nfsb_result(&p, out, err);

done:
  free(rel);
  berth__nfsb_opts_cleanup(&opts);
  return st;
}

/* ---- finding a PV's directory ------------------------------------------ */

/* Where a PV's directory is and what delete means for it. */
typedef struct nfsb_target {
  char *url; /* owned */
  char *rel; /* owned, checked */
  const char *pv_name;
  berth__nfsb_on_delete_t on_delete;
  nfsb_backend_t *b;
  berth_delete_outcome_t outcome; /* delete: what it did */
  char *where;                    /* delete: where an archive went */
  size_t where_size;
  berth_usage_t usage; /* usage: what it found */
  char *staging;       /* owned: a clone's unfinished copy */
} nfsb_target_t;

/* A malformed PV is a request that no retry will mend: BERTH_EINVAL,
 * keeping the message of the JSON helper that found it. */
static berth_status_t nfsb_invalid(berth_error_t *err)
{
  if (err != NULL)
    err->status = BERTH_EINVAL;
  return BERTH_EINVAL;
}

static void nfsb_target_cleanup(nfsb_target_t *t)
{
  free(t->url);
  free(t->rel);
  free(t->staging);
}

/* The staging name of a clone of rel for pv_name (see nfs_int.h): a
 * sibling of rel, so that the rename into place stays in one directory.
 * New string in *out. */
static berth_status_t nfsb_staging_name(const char *rel, const char *pv_name,
                                        char **out, berth_error_t *err)
{
  const char *leaf = berth__nfsb_leaf(rel);
  berth_status_t st;
  char *name;

  name = berth_strdup_printf("%.*s" BERTH__NFSB_CLONE_PREFIX "%s",
                             (int)(leaf - rel), rel, pv_name);
  if (name == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "clone: out of memory");
  st = berth__nfsb_path_check(name, "the clone's staging directory", err);
  if (st != BERTH_OK) {
    free(name);
    return st;
  }
  *out = name;
  return BERTH_OK;
}

/* A PV that provision annotated: everything is in its annotations. */
static berth_status_t nfsb_target_from_annotations(const json_t *ann,
                                                   const json_t *params,
                                                   nfsb_backend_t *b,
                                                   nfsb_target_t *t,
                                                   berth_error_t *err)
{
  const char *url = json_string_value(json_object_get(ann, BERTH_NFS_ANN_URL));
  const char *dir = json_string_value(json_object_get(ann, BERTH_NFS_ANN_DIR));
  const char *od =
      json_string_value(json_object_get(ann, BERTH_NFS_ANN_ON_DELETE));
  berth__nfsb_opts_t opts;
  berth_status_t st = BERTH_OK;

  memset(&opts, 0, sizeof(opts));
  if (url == NULL || dir == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "PV: %s and %s are not strings",
                         BERTH_NFS_ANN_URL, BERTH_NFS_ANN_DIR);
    goto done;
  }
  if (od != NULL) {
    if (berth__nfsb_on_delete_parse(od, &t->on_delete) != BERTH_OK)
      st = berth_error_set(err, BERTH_EINVAL,
                           "PV: %s must be delete, retain or archive",
                           BERTH_NFS_ANN_ON_DELETE);
  } else {
    /* Not recorded (an older berth): the class decides. */
    st = berth__nfsb_opts_parse(b->defaults, params, &opts, err);
    t->on_delete = opts.on_delete;
  }
  t->url = strdup(url);
  t->rel = strdup(dir);
  if (st == BERTH_OK && (t->url == NULL || t->rel == NULL))
    st = berth_error_set(err, BERTH_ENOMEM, "PV: out of memory");

done:
  berth__nfsb_opts_cleanup(&opts);
  return st;
}

/* A PV without our annotations (made by nfs-subdir): its spec.nfs under
 * the class's export. The server must be the export's, and the path must
 * lie below the export's path. */
static berth_status_t nfsb_target_from_spec(const json_t *pv,
                                            const json_t *params,
                                            nfsb_backend_t *b, nfsb_target_t *t,
                                            berth_error_t *err)
{
  berth__nfsb_opts_t opts;
  const char *server = NULL;
  const char *path = NULL;
  berth_status_t st;
  size_t n;

  memset(&opts, 0, sizeof(opts));
  st = berth_json_get_string(pv, "spec.nfs.server", &server, err);
  if (st == BERTH_OK)
    st = berth_json_get_string(pv, "spec.nfs.path", &path, err);
  if (st != BERTH_OK) {
    st = nfsb_invalid(err);
    goto done;
  }
  st = berth__nfsb_opts_parse(b->defaults, params, &opts, err);
  if (st != BERTH_OK)
    goto done;
  n = strcmp(opts.export_path, "/") == 0 ? 0 : strlen(opts.export_path);
  if (!berth_str_case_eq(server, opts.server) ||
      strncmp(path, opts.export_path, n) != 0 || path[n] != '/') {
    char qserver[NFSB_QUOTED];
    char qpath[NFSB_QUOTED];

    berth_backend_quote(server, strlen(server), qserver, sizeof(qserver));
    berth_backend_quote(path, strlen(path), qpath, sizeof(qpath));
    st = berth_error_set(err, BERTH_EINVAL,
                         "PV: spec.nfs (server %s, path %s) is not below the "
                         "class's export %s:%s",
                         qserver, qpath, opts.server, opts.export_path);
    goto done;
  }
  t->on_delete = opts.on_delete;
  t->url = strdup(opts.url);
  t->rel = strdup(path + n + 1);
  if (t->url == NULL || t->rel == NULL)
    st = berth_error_set(err, BERTH_ENOMEM, "PV: out of memory");

done:
  berth__nfsb_opts_cleanup(&opts);
  return st;
}

static berth_status_t nfsb_target(nfsb_backend_t *b, const json_t *pv,
                                  const json_t *params, nfsb_target_t *t,
                                  berth_error_t *err)
{
  json_t *ann = NULL;
  berth_status_t st;

  memset(t, 0, sizeof(*t));
  t->b = b;
  st = berth_json_get_string(pv, "metadata.name", &t->pv_name, err);
  if (st == BERTH_OK)
    st = berth_json_opt_object(pv, "metadata.annotations", &ann, err);
  if (st != BERTH_OK) {
    st = nfsb_invalid(err);
    goto done;
  }
  if (ann != NULL && json_object_get(ann, BERTH_NFS_ANN_DIR) != NULL)
    st = nfsb_target_from_annotations(ann, params, b, t, err);
  else
    st = nfsb_target_from_spec(pv, params, b, t, err);
  /* The PV is ours, but check its directory as if a claim had chosen
   * it: a delete must never leave the export either. */
  if (st == BERTH_OK)
    st = berth__nfsb_path_check(t->rel, "the PV's directory", err);
  /* The parent of a clone's copy in progress (see nfs_clone.c). */
  if (st == BERTH_OK)
    st = nfsb_staging_name(t->rel, t->pv_name, &t->staging, err);
  /* Connect with the version the PV's pods mount with. */
  if (st == BERTH_OK)
    st = berth__nfsb_url_mount_version(
        &t->url, json_object_get(json_object_get(pv, "spec"), "mountOptions"),
        err);

done:
  return st;
}

/* ---- delete ------------------------------------------------------------ */

/* Remove a clone's staging directory if there is one. */
static berth_status_t nfsb_remove_staging(berth_nfs_t *nfs, const char *staging,
                                          berth_error_t *err)
{
  berth_status_t st = berth__nfsb_tree_find(nfs, staging, NULL, err);

  if (st == BERTH_ENOTFOUND)
    return BERTH_OK;
  if (st == BERTH_OK)
    st = berth__nfsb_tree_remove(nfs, staging, NFSB_DELETE_MAX_DEPTH, err);
  return st;
}

/* Where to archive t->rel: archived-<leaf> at the export's root, as
 * nfs-subdir does; when that name is taken (two nested volumes with the
 * same leaf) or too long, names that add the PV's. New string. */
static berth_status_t nfsb_archive_name(berth_nfs_t *nfs,
                                        const nfsb_target_t *t, char **out,
                                        berth_error_t *err)
{
  const char *leaf = berth__nfsb_leaf(t->rel);
  berth_status_t st = BERTH_EEXIST;
  berth_nfs_stat_t sb;
  char *name = NULL;
  int i;

  for (i = 0; i < 3 && st == BERTH_EEXIST; i++) {
    free(name);
    if (i == 0)
      name = berth_strdup_printf(BERTH_NFS_ARCHIVE_PREFIX "%s", leaf);
    else if (i == 1)
      name = berth_strdup_printf(BERTH_NFS_ARCHIVE_PREFIX "%s-%s", leaf,
                                 t->pv_name);
    else
      name = berth_strdup_printf(BERTH_NFS_ARCHIVE_PREFIX "%s", t->pv_name);
    if (name == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "archive: out of memory");
      goto done;
    }
    if (berth__nfsb_path_check(name, "archive", NULL) != BERTH_OK)
      continue; /* too long (or a strange PV name): st stays EEXIST */
    st = berth_nfs_stat(nfs, name, &sb, err);
    if (st == BERTH_OK)
      st = BERTH_EEXIST;
  }
  if (st == BERTH_ENOTFOUND) {
    *out = name;
    name = NULL;
    st = BERTH_OK;
  } else if (st == BERTH_EEXIST) {
    char quoted[NFSB_QUOTED];

    berth_backend_quote(t->rel, strlen(t->rel), quoted, sizeof(quoted));
    st = berth_error_set(err, BERTH_EEXIST,
                         "archive: every archive name for %s is taken", quoted);
  }

done:
  free(name);
  return st;
}

/* The archive's URL: the export's URL without its query (ports, version)
 * and the archive's name, for the log line that says where a deleted
 * claim's data went. */
static void nfsb_where(nfsb_target_t *t, const char *archive)
{
  size_t n = strcspn(t->url, "?");

  snprintf(t->where, t->where_size, "%.*s%s%s", (int)n, t->url,
           n > 0 && t->url[n - 1] == '/' ? "" : "/", archive);
}

static berth_status_t nfsb_delete_op(berth_nfs_t *nfs, void *ctx,
                                     berth_error_t *err)
{
  nfsb_target_t *t = ctx;
  berth_status_t st;
  char *archive = NULL;

  /* A clone's unfinished copy is never anyone's data: removed whatever
   * onDelete says. */
  st = nfsb_remove_staging(nfs, t->staging, err);
  if (st != BERTH_OK)
    goto done;
  st = berth__nfsb_tree_find(nfs, t->rel, NULL, err);
  if (st == BERTH_ENOTFOUND) {
    t->outcome = BERTH_DELETE_ABSENT;
    st = BERTH_OK;
    goto done;
  }
  if (st != BERTH_OK)
    goto done;
  if (t->on_delete == BERTH__NFSB_ON_DELETE_DELETE) {
    st = berth__nfsb_tree_remove(nfs, t->rel, NFSB_DELETE_MAX_DEPTH, err);
    t->outcome = BERTH_DELETE_DELETED;
  } else {
    st = nfsb_archive_name(nfs, t, &archive, err);
    if (st == BERTH_OK)
      st = berth_nfs_rename(nfs, t->rel, archive, err);
    t->outcome = BERTH_DELETE_ARCHIVED;
    if (st == BERTH_OK && t->where != NULL && t->where_size > 0)
      nfsb_where(t, archive);
  }

done:
  /* The directory is gone (or archived): its record, if a sweep or a
   * failed save left one, is no longer needed. */
  if (st == BERTH_OK)
    st = berth__nfsb_journal_drop(nfs, t->pv_name, err);
  free(archive);
  return st;
}

static berth_status_t nfsb_delete(berth_backend_t *be,
                                  const berth_delete_request_t *req,
                                  berth_delete_outcome_t *out,
                                  berth_error_t *err)
{
  nfsb_backend_t *b = (nfsb_backend_t *)be;
  berth_status_t st;
  nfsb_target_t t;

  st = nfsb_target(b, req->pv, req->parameters, &t, err);
  if (st != BERTH_OK)
    goto done;
  t.where = req->where;
  t.where_size = req->where_size;
  if (t.on_delete == BERTH__NFSB_ON_DELETE_RETAIN) {
    t.outcome = BERTH_DELETE_RETAINED;
  } else {
    st = berth__nfsb_pool_run(b->pool, t.url, nfsb_delete_op, &t, err);
    if (st != BERTH_OK)
      goto done;
  }
  berth__nfsb_gid_release(&b->gids, t.pv_name);
  *out = t.outcome;

done:
  nfsb_target_cleanup(&t);
  return st;
}

/* ---- usage ------------------------------------------------------------- */

static berth_status_t nfsb_usage_op(berth_nfs_t *nfs, void *ctx,
                                    berth_error_t *err)
{
  nfsb_target_t *t = ctx;
  berth_status_t st;

  st = berth__nfsb_tree_find(nfs, t->rel, NULL, err);
  if (st == BERTH_OK)
    st = berth__nfsb_tree_usage(nfs, t->rel, t->b->usage_max_entries,
                                t->b->usage_max_depth, &t->usage, err);
  return st;
}

static berth_status_t nfsb_usage(berth_backend_t *be, const json_t *pv,
                                 const json_t *parameters, berth_usage_t *out,
                                 berth_error_t *err)
{
  nfsb_backend_t *b = (nfsb_backend_t *)be;
  berth_status_t st;
  nfsb_target_t t;

  st = nfsb_target(b, pv, parameters, &t, err);
  if (st == BERTH_OK)
    st = berth__nfsb_pool_run(b->pool, t.url, nfsb_usage_op, &t, err);
  if (st == BERTH_OK)
    *out = t.usage;
  nfsb_target_cleanup(&t);
  return st;
}

/* ---- records ----------------------------------------------------------- */

typedef struct nfsb_rec {
  berth_records_request_t *req;
  const char *url;
} nfsb_rec_t;

static berth_status_t nfsb_records_op(berth_nfs_t *nfs, void *ctx,
                                      berth_error_t *err)
{
  nfsb_rec_t *r = ctx;

  if (r->req->forget != NULL)
    return berth__nfsb_journal_drop(nfs, r->req->forget, err);
  /* A repeat after a reconnect starts the list again. */
  json_array_clear(r->req->records);
  return berth__nfsb_journal_list(nfs, r->url, r->req->max, r->req->records,
                                  err);
}

/* The journal of the class's export (nfs_journal.c). */
static berth_status_t nfsb_records(berth_backend_t *be,
                                   berth_records_request_t *req,
                                   berth_error_t *err)
{
  nfsb_backend_t *b = (nfsb_backend_t *)be;
  berth__nfsb_opts_t opts;
  json_t *list = NULL;
  berth_status_t st;
  nfsb_rec_t r;

  st = berth__nfsb_opts_parse(b->defaults, req->parameters, &opts, err);
  if (st != BERTH_OK)
    goto done;
  if (req->forget == NULL && (list = json_array()) == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "records: out of memory");
    goto done;
  }
  req->records = list;
  r.req = req;
  r.url = opts.url;
  st = berth__nfsb_pool_run(b->pool, opts.url, nfsb_records_op, &r, err);
  req->records = NULL;
  if (st == BERTH_OK && list != NULL) {
    req->records = list;
    list = NULL;
  }

done:
  json_decref(list);
  berth__nfsb_opts_cleanup(&opts);
  return st;
}

/* ---- lifecycle --------------------------------------------------------- */

static void nfsb_destroy(berth_backend_t *be)
{
  nfsb_backend_t *b = (nfsb_backend_t *)be;

  berth__nfsb_pool_destroy(b->pool);
  berth__nfsb_gids_cleanup(&b->gids);
  json_decref(b->defaults);
  free(b);
}

/* A directory is a file system, never a block device: a Block claim is
 * refused, as nfs-subdir-external-provisioner refuses it. */
static berth_status_t nfsb_check_claim(berth_backend_t *be,
                                       const berth_provision_request_t *req,
                                       berth_error_t *err)
{
  (void)be;
  if (req->block)
    return berth_error_set(err, BERTH_EINVAL,
                           "nfs: spec.volumeMode Block is not supported (an "
                           "NFS directory is a file system)");
  return BERTH_OK;
}

/* ---- clone ------------------------------------------------------------- */

/* Before the copy: the directory's gid and parents as for any volume;
 * then either the finished clone (the directory exists: a rename put it
 * there) or a fresh, empty staging directory with the volume's owner and
 * mode (an unfinished copy of an earlier attempt is removed: the copy
 * starts again). */
static berth_status_t nfsb_clone_prepare_op(berth_nfs_t *nfs, void *ctx,
                                            berth_error_t *err)
{
  nfsb_prov_t *p = ctx;
  const berth__nfsb_opts_t *o = p->opts;
  const char *leaf = berth__nfsb_leaf(p->rel);
  berth_status_t st = BERTH_OK;
  char *parent = NULL;

  /* libnfs 4.0 cannot WRITE over NFSv4 (include/berth/nfs.h): refused
   * before anything is made, rather than failing at the first file. */
  if (berth_nfs_version(nfs) == 4)
    return berth_error_set(err, BERTH_EINVAL,
                           "clone: the class's export is reached over "
                           "NFSv4, and berth copies files over NFSv3 only "
                           "(libnfs 4.0 cannot write files over NFSv4): use "
                           "an NFSv3 class to clone");
  p->gid = o->gid;
  if (o->gid_range)
    st = nfsb_pick_gid(nfs, p, err);
  if (st == BERTH_OK)
    st = berth__nfsb_tree_find(nfs, p->src, NULL, err);
  if (st == BERTH_OK && leaf != p->rel) {
    parent = berth_strdup_printf("%.*s", (int)(leaf - p->rel - 1), p->rel);
    st = parent == NULL ? berth_error_set(err, BERTH_ENOMEM, "out of memory")
                        : berth__nfsb_tree_mkdirs(nfs, parent,
                                                  BERTH__NFSB_PARENT_MODE, err);
  }
  if (st == BERTH_OK) {
    st = berth__nfsb_tree_find(nfs, p->rel, NULL, err);
    p->finished = st == BERTH_OK;
    if (st == BERTH_ENOTFOUND)
      st = nfsb_remove_staging(nfs, p->staging, err);
  }
  if (st == BERTH_OK && !p->finished)
    st = berth__nfsb_tree_mkdirs(nfs, p->staging, 0700, err);
  if (st == BERTH_OK && !p->finished &&
      (o->uid != BERTH__NFSB_NO_ID || p->gid != BERTH__NFSB_NO_ID))
    st = berth_nfs_chown(nfs, p->staging, o->uid, p->gid, err);
  if (st == BERTH_OK && !p->finished)
    st = berth_nfs_chmod(nfs, p->staging, o->perms, err);
  free(parent);
  return st;
}

/* After the copy: rename it into place (atomic on the server), then the
 * owner and mode as any provision sets them. */
static berth_status_t nfsb_clone_finish_op(berth_nfs_t *nfs, void *ctx,
                                           berth_error_t *err)
{
  nfsb_prov_t *p = ctx;
  berth_status_t st = BERTH_OK;

  if (!p->finished)
    st = berth_nfs_rename(nfs, p->staging, p->rel, err);
  if (st == BERTH_OK)
    p->finished = true;
  return st == BERTH_OK ? nfsb_provision_op(nfs, p, err) : st;
}

static berth_status_t nfsb_clone_abort_op(berth_nfs_t *nfs, void *ctx,
                                          berth_error_t *err)
{
  nfsb_prov_t *p = ctx;

  return nfsb_remove_staging(nfs, p->staging, err);
}

/* The source's directory, on the clone's export, and not overlapping the
 * clone's (a copy into itself would never end). */
static berth_status_t nfsb_clone_source(nfsb_prov_t *p, nfsb_target_t *src,
                                        berth_error_t *err)
{
  const berth_clone_source_t *c = p->req->clone;
  size_t ns, nr;
  berth_status_t st;

  st = nfsb_target(p->b, c->pv, p->req->parameters, src, err);
  if (st != BERTH_OK)
    return st;
  if (strcmp(src->url, p->opts->url) != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "clone: the source volume is on the export %s, "
                           "the class's is %s: a clone is made on its "
                           "source's export",
                           src->url, p->opts->url);
  ns = strlen(src->rel);
  nr = strlen(p->rel);
  if ((ns <= nr && strncmp(src->rel, p->rel, ns) == 0 &&
       (p->rel[ns] == '/' || p->rel[ns] == '\0')) ||
      (nr < ns && strncmp(src->rel, p->rel, nr) == 0 && src->rel[nr] == '/'))
    return berth_error_set(err, BERTH_EINVAL,
                           "clone: the source's directory and the clone's "
                           "overlap (pathPattern)");
  return BERTH_OK;
}

/* Provision a clone: prepare, copy (outside the export's shared
 * connection, on connections of its own), rename into place. A failed or
 * cancelled copy is removed. */
static berth_status_t nfsb_clone(nfsb_prov_t *p, berth_error_t *err)
{
  berth__nfsb_copy_t cp;
  nfsb_target_t src;
  char *staging = NULL;
  berth_error_t aerr;
  berth_status_t st;

  memset(&src, 0, sizeof(src));
  st = nfsb_clone_source(p, &src, err);
  if (st == BERTH_OK)
    st = nfsb_staging_name(p->rel, p->req->pv_name, &staging, err);
  if (st != BERTH_OK)
    goto done;
  p->src = src.rel;
  p->staging = staging;
  st = berth__nfsb_pool_run(p->b->pool, p->opts->url, nfsb_clone_prepare_op, p,
                            err);
  if (st != BERTH_OK || p->finished)
    goto finish;
  memset(&cp, 0, sizeof(cp));
  cp.url = p->opts->url;
  cp.src = src.rel;
  cp.dst = staging;
  cp.timeout_ms = p->b->timeout_ms;
  cp.workers = p->b->copy_workers;
  cp.max_depth = BERTH__NFSB_COPY_MAX_DEPTH;
  cp.hooks = p->req->clone;
  st = berth__nfsb_copy_tree(&cp, err);
  if (st != BERTH_OK) {
    if (berth__nfsb_pool_run(p->b->pool, p->opts->url, nfsb_clone_abort_op, p,
                             &aerr) != BERTH_OK &&
        err != NULL) {
      berth_error_t first = *err;

      berth_error_set(err, st, "%s; and the partial copy was not removed: %s",
                      first.message, aerr.message);
    }
    goto done;
  }

finish:
  if (st == BERTH_OK)
    st = berth__nfsb_pool_run(p->b->pool, p->opts->url, nfsb_clone_finish_op, p,
                              err);

done:
  free(staging);
  nfsb_target_cleanup(&src);
  return st;
}

/* Defaults that name an export must name a valid one; the rest is
 * checked with each class. */
static berth_status_t nfsb_check_defaults(const json_t *defaults,
                                          berth_error_t *err)
{
  berth__nfsb_opts_t opts;
  berth_status_t st;

  st = berth_backend_check_parameters("nfs (provisioner defaults)", defaults,
                                      berth__nfsb_known_params, err);
  if (st == BERTH_OK && defaults != NULL &&
      (json_object_get(defaults, "url") != NULL ||
       json_object_get(defaults, "server") != NULL ||
       json_object_get(defaults, "share") != NULL)) {
    st = berth__nfsb_opts_parse(defaults, NULL, &opts, err);
    berth__nfsb_opts_cleanup(&opts);
  }
  return st;
}

berth_status_t berth_backend_nfs_create(const berth_backend_nfs_config_t *cfg,
                                        berth_backend_t **out,
                                        berth_error_t *err)
{
  const json_t *defaults = cfg != NULL ? cfg->defaults : NULL;
  nfsb_backend_t *b = NULL;
  berth_status_t st;

  st = nfsb_check_defaults(defaults, err);
  if (st != BERTH_OK)
    goto done;
  b = calloc(1, sizeof(*b));
  if (b == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "nfs backend: out of memory");
    goto done;
  }
  b->base.ops = &berth_backend_nfs_ops;
  berth__nfsb_gids_init(&b->gids);
  b->timeout_ms = cfg != NULL && cfg->timeout_ms > 0
                      ? cfg->timeout_ms
                      : BERTH_NFS_DEFAULT_TIMEOUT_MS;
  b->copy_workers = cfg != NULL && cfg->copy_workers > 0
                        ? cfg->copy_workers
                        : BERTH__NFSB_COPY_WORKERS;
  b->usage_max_entries = cfg != NULL && cfg->usage_max_entries > 0
                             ? cfg->usage_max_entries
                             : NFSB_USAGE_MAX_ENTRIES;
  b->usage_max_depth = cfg != NULL && cfg->usage_max_depth > 0
                           ? cfg->usage_max_depth
                           : NFSB_USAGE_MAX_DEPTH;
  if (defaults != NULL) {
    b->defaults = json_deep_copy(defaults);
    if (b->defaults == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "nfs backend: out of memory");
      goto done;
    }
  }
  st =
      berth__nfsb_pool_create(cfg != NULL ? cfg->timeout_ms : 0, &b->pool, err);
  if (st != BERTH_OK)
    goto done;
  *out = &b->base;
  b = NULL;

done:
  if (b != NULL)
    nfsb_destroy(&b->base);
  return st;
}

static berth_status_t nfsb_make(const berth_backend_settings_t *settings,
                                berth_backend_t **out, berth_error_t *err)
{
  berth_backend_nfs_config_t cfg;

  memset(&cfg, 0, sizeof(cfg));
  cfg.defaults = settings != NULL ? settings->nfs_defaults : NULL;
  return berth_backend_nfs_create(&cfg, out, err);
}

static berth_status_t
nfsb_check_settings(const berth_backend_settings_t *settings,
                    berth_error_t *err)
{
  return nfsb_check_defaults(settings != NULL ? settings->nfs_defaults : NULL,
                             err);
}

/* No expand: NFS directories have no size to grow. */
const berth_backend_ops_t berth_backend_nfs_ops = {
    .name = "nfs",
    .summary = "NFS sub-directories of an export",
    .caps = BERTH_BACKEND_CAP_GIDS | BERTH_BACKEND_CAP_CLONE,
    .inspect = &berth_backend_nfs_inspect,
    .create = nfsb_make,
    .check_settings = nfsb_check_settings,
    .validate = nfsb_validate,
    .provision = nfsb_provision,
    .delete_volume = nfsb_delete,
    .usage = nfsb_usage,
    .destroy = nfsb_destroy,
    .check_claim = nfsb_check_claim,
    .records = nfsb_records,
};
