/* SPDX-License-Identifier: Apache-2.0 */
/* The NFS backend's orphan scan for berthctl (see inspect.h): the
 * directories on the exports of berth's nfs classes, of its volumes and of
 * the default export that no PersistentVolume uses, and their removal.
 *
 * Each export is listed from its root down to the depth at which volumes
 * lie (the deepest pathPattern or PV directory); a directory that a PV
 * uses is a volume, a level above one is descended, anything else (or a
 * directory named like a volume, pvc-<uid>) is an orphan. Links are never
 * followed (readdir reports them as links). Measuring, archiving and
 * deleting go through the backend's own usage and delete (nfs.c), with
 * their path checks, on a PV made up for the orphan. */
#include "backends/nfs_int.h"

#include "berth/buf.h"
#include "berth/json.h"
#include "berth/k8s_names.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bounds of an orphan scan: directory levels below an export, and entries
 * listed in all. */
#define SCAN_MAX_DEPTH 16
#define SCAN_MAX_ENTRIES 1000000

/* One export being scanned: what PVs use, how deep volumes lie. */
typedef struct scan_export {
  berth_backend_nfs_export_t exp;
  char **known; /* directories PVs use, relative to the export */
  size_t nknown;
  unsigned depth; /* the deepest volume directory (pattern or PV) */
} scan_export_t;

typedef struct scan {
  berth__nfsi_t *b;
  const berth_inspect_env_t *env;
  scan_export_t *exports;
  size_t n;
  uint64_t entries;
  berth_orphans_t *out;
} scan_t;

static bool same_export(const berth_backend_nfs_export_t *a,
                        const berth_backend_nfs_export_t *b)
{
  return strcasecmp(a->server, b->server) == 0 && strcmp(a->path, b->path) == 0;
}

static scan_export_t *scan_find(scan_t *s, const berth_backend_nfs_export_t *e)
{
  size_t i;

  for (i = 0; i < s->n; i++) {
    if (same_export(&s->exports[i].exp, e))
      return &s->exports[i];
  }
  return NULL;
}

/* Add the export e (taken over) or merge it; returns the entry. */
static scan_export_t *scan_add(scan_t *s, berth_backend_nfs_export_t *e,
                               unsigned depth)
{
  scan_export_t *x = scan_find(s, e);
  scan_export_t *grown;

  if (x != NULL) {
    berth_backend_nfs_export_cleanup(e);
  } else {
    grown = realloc(s->exports, (s->n + 1) * sizeof(*grown));
    if (grown == NULL) {
      berth_backend_nfs_export_cleanup(e);
      return NULL;
    }
    s->exports = grown;
    x = &s->exports[s->n++];
    memset(x, 0, sizeof(*x));
    x->exp = *e;
    memset(e, 0, sizeof(*e));
  }
  if (depth > x->depth)
    x->depth = depth;
  return x;
}

static void scan_known(scan_export_t *x, const char *dir)
{
  char **grown = realloc(x->known, (x->nknown + 1) * sizeof(*grown));
  char *copy = berth__nfsi_trim_path(dir, strlen(dir));

  if (grown == NULL || copy == NULL) {
    free(copy);
    if (grown != NULL)
      x->known = grown;
    return;
  }
  x->known = grown;
  x->known[x->nknown++] = copy;
}

/* Levels of a path or of a pathPattern ("a/b" is 2). */
unsigned berth__nfsi_levels(const char *p)
{
  unsigned n = 1;

  if (p == NULL || p[0] == '\0')
    return 1;
  for (; *p != '\0'; p++) {
    if (*p == '/' && p[1] != '\0')
      n++;
  }
  return n;
}

static void scan_cleanup(scan_t *s)
{
  size_t i;
  size_t k;

  for (i = 0; i < s->n; i++) {
    for (k = 0; k < s->exports[i].nknown; k++)
      free(s->exports[i].known[k]);
    free(s->exports[i].known);
    berth_backend_nfs_export_cleanup(&s->exports[i].exp);
  }
  free(s->exports);
}

/* The exports of berth's NFS classes and volumes, and the default. */
static void scan_collect(scan_t *s)
{
  const berth_inspect_env_t *env = s->env;
  const json_t *o;
  berth_backend_nfs_export_t e;
  berth_error_t err;
  size_t i;
  size_t k;

  json_array_foreach(env->classes, i, o)
  {
    const char *pattern;

    if (env->class_backend(env->ud, o) != &berth_backend_nfs_ops)
      continue;
    berth_error_clear(&err);
    if (berth__nfsi_class_export(s->b->defaults, o, &e, &err) != BERTH_OK) {
      berth_inspect_warn(env, "not scanning for StorageClass %s: %s",
                         berth_k8s_obj_name(o), err.message);
      continue;
    }
    pattern = berth_backend_parameter(berth_inspect_class_parameters(o),
                                      "pathPattern");
    scan_add(s, &e, berth__nfsi_levels(pattern));
  }
  if (s->b->defaults != NULL &&
      berth_backend_nfs_export(NULL, s->b->defaults, &e, NULL) == BERTH_OK)
    scan_add(s, &e, 1);
  json_array_foreach(env->pvs, i, o)
  {
    const char *url = berth_k8s_obj_annotation(o, BERTH_NFS_ANN_URL);
    const char *dir = berth_k8s_obj_annotation(o, BERTH_NFS_ANN_DIR);
    scan_export_t *x;

    if (url == NULL || dir == NULL ||
        berth__nfsi_export_of_url(url, &e, NULL) != BERTH_OK)
      continue;
    x = scan_add(s, &e, berth__nfsi_levels(dir));
    if (x != NULL)
      scan_known(x, dir);
  }
  /* Any PV's spec.nfs below an export (nfs-subdir's, static ones) uses
   * that directory too, whoever made it. */
  json_array_foreach(env->pvs, i, o)
  {
    const char *server = NULL;
    const char *path = NULL;

    if (berth_json_get_string(o, "spec.nfs.server", &server, NULL) !=
            BERTH_OK ||
        berth_json_get_string(o, "spec.nfs.path", &path, NULL) != BERTH_OK)
      continue;
    for (k = 0; k < s->n; k++) {
      scan_export_t *x = &s->exports[k];
      const char *rel = berth__nfsi_below_export(&x->exp, server, path);

      if (rel != NULL) {
        scan_known(x, rel);
        if (berth__nfsi_levels(rel) > x->depth)
          x->depth = berth__nfsi_levels(rel);
      }
    }
  }
}

typedef struct dirent_rec {
  char *name;
  berth_nfs_stat_t st;
} dirent_rec_t;

typedef struct dirlist {
  dirent_rec_t *items;
  size_t n;
  size_t cap;
  scan_t *s;
} dirlist_t;

static berth_status_t collect_entry(void *ctx, const char *name,
                                    const berth_nfs_stat_t *st)
{
  dirlist_t *l = ctx;
  dirent_rec_t *grown;

  if (++l->s->entries > SCAN_MAX_ENTRIES)
    return BERTH_ETOOBIG;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;

    grown = realloc(l->items, cap * sizeof(*grown));
    if (grown == NULL)
      return BERTH_ENOMEM;
    l->items = grown;
    l->cap = cap;
  }
  l->items[l->n].name = strdup(name);
  if (l->items[l->n].name == NULL)
    return BERTH_ENOMEM;
  l->items[l->n].st = *st;
  l->n++;
  return BERTH_OK;
}

static void dirlist_cleanup(dirlist_t *l)
{
  size_t i;

  for (i = 0; i < l->n; i++)
    free(l->items[i].name);
  free(l->items);
}

static int dirent_cmp(const void *a, const void *b)
{
  return strcmp(((const dirent_rec_t *)a)->name,
                ((const dirent_rec_t *)b)->name);
}

static bool is_known(const scan_export_t *x, const char *rel)
{
  size_t i;

  for (i = 0; i < x->nknown; i++) {
    if (strcmp(x->known[i], rel) == 0)
      return true;
  }
  return false;
}

static bool is_ancestor(const scan_export_t *x, const char *rel)
{
  size_t n = strlen(rel);
  size_t i;

  for (i = 0; i < x->nknown; i++) {
    if (strncmp(x->known[i], rel, n) == 0 && x->known[i][n] == '/')
      return true;
  }
  return false;
}

/* The default directory name of berth and nfs-subdir ends with the PV's
 * name, "pvc-<uid>": such a directory is a volume wherever it lies. */
bool berth__nfsi_looks_like_volume(const char *name)
{
  size_t n = strlen(name);
  const char *u;
  size_t i;

  if (n < 40)
    return false;
  u = name + n - 36;
  if (strncmp(u - 4, "pvc-", 4) != 0)
    return false;
  for (i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;

    if (dash ? u[i] != '-'
             : !((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
      return false;
  }
  return true;
}

/* A synthetic PV that points the provisioner's backend at one directory,
 * so that orphans are measured, archived and deleted by the very code
 * (and path checks) that handles volumes. New reference. */
static json_t *orphan_pv(const char *url, const char *dir,
                         const char *on_delete)
{
  return json_pack("{s:{s:s,s:{s:s,s:s,s:s}}}", "metadata", "name",
                   "berthctl-orphan", "annotations", BERTH_NFS_ANN_URL, url,
                   BERTH_NFS_ANN_DIR, dir, BERTH_NFS_ANN_ON_DELETE, on_delete);
}

static void add_orphan(scan_t *s, scan_export_t *x, const char *rel,
                       const berth_nfs_stat_t *st, bool archived)
{
  berth_orphan_t *o = berth_orphans_push(
      s->out, s->env, &berth_backend_nfs_ops,
      archived ? "archived" : "directory", rel, x->exp.url, rel,
      strdup(archived ? "archived by a delete: kept on purpose"
                      : "no PersistentVolume uses it"),
      st->mtime_sec);
  json_t *pv;

  if (o == NULL || !s->env->usage)
    return;
  pv = orphan_pv(x->exp.url, rel, "retain");
  if (pv != NULL && berth_backend_usage(s->b->base.core, pv, NULL, &o->usage,
                                        NULL) == BERTH_OK)
    o->has_usage = true;
  json_decref(pv);
}

/* List rel (depth: its level, 0 for the root) and report what no PV
 * uses. Returns the number of sub-directories seen, -1 when rel could not
 * be listed (err says why). */
static long scan_dir(scan_t *s, berth_nfs_t *nfs, scan_export_t *x,
                     const char *rel, unsigned depth, berth_error_t *err)
{
  dirlist_t l;
  long dirs = 0;
  size_t i;

  memset(&l, 0, sizeof(l));
  l.s = s;
  berth_inspect_progress(s->env, "scanning %s: %llu entries", x->exp.url,
                         (unsigned long long)s->entries);
  if (berth_nfs_readdir(nfs, rel, collect_entry, &l, err) != BERTH_OK) {
    dirlist_cleanup(&l);
    return -1;
  }
  qsort(l.items, l.n, sizeof(*l.items), dirent_cmp);
  for (i = 0; i < l.n; i++) {
    const dirent_rec_t *d = &l.items[i];
    char *child;

    /* Files and links are never volumes (and links are never
     * followed). */
    if (d->st.type != BERTH_NFS_TYPE_DIR)
      continue;
    /* berth-provisioner's journal of volumes in flight, never a volume:
     * its sweep looks after it. */
    if (depth == 0 && strcmp(d->name, ".berth") == 0)
      continue;
    dirs++;
    child =
        rel[0] ? berth_strdup_printf("%s/%s", rel, d->name) : strdup(d->name);
    if (child == NULL)
      break;
    if (depth == 0 && berth_str_has_prefix(d->name, BERTH_NFS_ARCHIVE_PREFIX)) {
      if (s->env->archived)
        add_orphan(s, x, child, &d->st, true);
    } else if (is_known(x, child)) {
      /* a volume in use */
    } else if (is_ancestor(x, child)) {
      /* a level above volumes in use: what else is below it counts */
      if (depth + 1 < SCAN_MAX_DEPTH)
        scan_dir(s, nfs, x, child, depth + 1, err);
    } else if (depth + 1 < x->depth && depth + 1 < SCAN_MAX_DEPTH &&
               !berth__nfsi_looks_like_volume(d->name)) {
      /* A level of a nested pathPattern: what is below it counts; an
       * empty one is left over from volumes that are gone. */
      if (scan_dir(s, nfs, x, child, depth + 1, err) == 0)
        add_orphan(s, x, child, &d->st, false);
    } else {
      add_orphan(s, x, child, &d->st, false);
    }
    free(child);
  }
  dirlist_cleanup(&l);
  return dirs;
}

berth_status_t berth__nfsi_scan(berth_inspector_t *be, berth_orphans_t *out,
                                berth_error_t *err)
{
  scan_t s;
  berth_status_t st = BERTH_OK;
  size_t i;

  memset(&s, 0, sizeof(s));
  s.b = (berth__nfsi_t *)be;
  s.env = be->env;
  s.out = out;
  scan_collect(&s);
  for (i = 0; i < s.n; i++) {
    berth_error_t e;
    berth_nfs_t *nfs;

    berth_error_clear(&e);
    nfs = berth__nfsi_conn(s.b, s.exports[i].exp.url, &e);
    if (nfs == NULL) {
      st = berth_error_set(err, e.status ? e.status : BERTH_ETRANSPORT, "%s",
                           e.message);
      continue;
    }
    scan_dir(&s, nfs, &s.exports[i], "", 0, &e);
    if (e.status != BERTH_OK) {
      st = berth_error_set(err, e.status, "scanning %s: %s",
                           s.exports[i].exp.url, e.message);
    }
  }
  berth_inspect_progress(be->env, NULL);
  scan_cleanup(&s);
  return st;
}

berth_status_t berth__nfsi_remove(berth_inspector_t *be,
                                  const berth_orphan_t *o, bool archive,
                                  char **done, berth_error_t *err)
{
  berth__nfsi_t *b = (berth__nfsi_t *)be;
  berth_delete_request_t req;
  berth_delete_outcome_t outcome = BERTH_DELETE_ABSENT;
  json_t *pv =
      orphan_pv(o->source, o->location, archive ? "archive" : "delete");
  berth_status_t st;

  if (pv == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  memset(&req, 0, sizeof(req));
  req.pv = pv;
  st = berth_backend_delete(b->base.core, &req, &outcome, err);
  json_decref(pv);
  if (st == BERTH_OK)
    *done = strdup(outcome == BERTH_DELETE_ARCHIVED ? "archived"
                   : outcome == BERTH_DELETE_ABSENT ? "already gone"
                                                    : "deleted");
  return st;
}
