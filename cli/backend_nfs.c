/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: the NFS backend (see ctl_backend.h).
 *
 * A volume is a directory on an export. Where it is comes from the
 * annotations berth-provisioner writes on the PV (nfs.berth.io/url and
 * nfs.berth.io/directory), or, for a PV made by nfs-subdir, from its
 * spec.nfs under its class's export. Usage, delete and archive go through
 * the provisioner's own backend (berth_backends), with its path checks;
 * berthctl adds only reads: stat for "does it exist", and a listing of
 * each export for orphans. Nothing here follows a symbolic link: readdir
 * reports links as links (READDIRPLUS), and they are never descended. */
#include "ctl_backend.h"

#include "backends/nfs.h"
#include "berth/json.h"
#include "berth/nfs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* An operator waits at a terminal: a dead server should not hold a
 * listing for the library's default 10 s per call. */
#define NFS_CTL_TIMEOUT_MS 5000

/* Bounds of an orphan scan: directory levels below an export, and entries
 * listed in all. */
#define SCAN_MAX_DEPTH 16
#define SCAN_MAX_ENTRIES 1000000

typedef struct nfs_conn {
  char *url;
  berth_nfs_t *nfs; /* NULL when connecting failed */
  berth_status_t st;
  char message[2048];
} nfs_conn_t;

typedef struct ctl_nfs {
  ctl_backend_t base; /* first */
  json_t *defaults;   /* the default export, as parameters, or NULL */
  const char *defaults_from;
  char found_from[320]; /* where the default export was found */
  nfs_conn_t *conns;
  size_t nconns;
  int timeout_ms;
} ctl_nfs_t;

/* ---- exports
 * ------------------------------------------------------------------- */

/* An export (berth_backend_nfs_export_t), derived from parameters or a
 * URL exactly as the provisioner's backend derives it (nfs_opts.c). */
typedef berth_backend_nfs_export_t nfs_export_t;

static void export_cleanup(nfs_export_t *e)
{
  berth_backend_nfs_export_cleanup(e);
}

/* "/a/b/" -> "/a/b"; "" -> "/". New string. */
static char *trim_path(const char *p, size_t n)
{
  while (n > 1 && p[n - 1] == '/')
    n--;
  if (n == 0)
    return strdup("/");
  return strndup(p, n);
}

/* The export of a libnfs URL (a PV's nfs.berth.io/url). */
static berth_status_t export_from_url(const char *url, nfs_export_t *out,
                                      berth_error_t *err)
{
  json_t *params = json_pack("{s:s}", "url", url);
  berth_status_t st = params != NULL
                          ? berth_backend_nfs_export(NULL, params, out, err)
                          : berth_error_set(err, BERTH_ENOMEM, "out of memory");

  json_decref(params);
  return st;
}

/* The export of a set of parameters. ENOTFOUND: none. */
static berth_status_t export_from_params(const json_t *params,
                                         nfs_export_t *out, berth_error_t *err)
{
  return berth_backend_nfs_export(NULL, params, out, err);
}

static bool names_export(const json_t *params)
{
  return berth_backend_nfs_names_export(params);
}

/* The export of a class (NULL: the defaults). */
static berth_status_t class_export(ctl_nfs_t *b, const json_t *sclass,
                                   nfs_export_t *out, berth_error_t *err)
{
  const json_t *params = ctl_class_parameters(sclass);

  if (names_export(params) || b->defaults != NULL)
    return berth_backend_nfs_export(b->defaults, params, out, err);
  if (sclass != NULL)
    return berth_error_set(err, BERTH_ENOTFOUND,
                           "StorageClass %s names no export, so "
                           "berth-provisioner gives it its default export "
                           "(NFS_URL, or NFS_SERVER and NFS_PATH), which "
                           "berthctl was not told: pass --nfs-url URL or "
                           "set NFS_URL as the provisioner has it",
                           berth_k8s_obj_name(sclass));
  return berth_error_set(err, BERTH_ENOTFOUND,
                         "berthctl has no default NFS export: pass "
                         "--nfs-url URL or set NFS_URL");
}

static bool same_export(const nfs_export_t *a, const nfs_export_t *b)
{
  return strcasecmp(a->server, b->server) == 0 && strcmp(a->path, b->path) == 0;
}

/* ---- connections
 * --------------------------------------------------------------- */

/* The connection to url, made once per run; a failure is remembered so
 * that a dead server costs one timeout, not one per volume. */
static berth_nfs_t *conn_get(ctl_nfs_t *b, const char *url, berth_error_t *err)
{
  nfs_conn_t *grown;
  nfs_conn_t *c;
  size_t i;

  for (i = 0; i < b->nconns; i++) {
    c = &b->conns[i];
    if (strcmp(c->url, url) == 0)
      goto found;
  }
  grown = realloc(b->conns, (b->nconns + 1) * sizeof(*grown));
  if (grown == NULL) {
    berth_error_set(err, BERTH_ENOMEM, "out of memory");
    return NULL;
  }
  b->conns = grown;
  c = &b->conns[b->nconns++];
  memset(c, 0, sizeof(*c));
  c->url = strdup(url);
  {
    berth_error_t e;

    berth_error_clear(&e);
    c->st = c->url != NULL
                ? berth_nfs_connect_timeout(url, b->timeout_ms, &c->nfs, &e)
                : BERTH_ENOMEM;
    if (c->st != BERTH_OK)
      snprintf(c->message, sizeof(c->message),
               "cannot reach the export %s: %s (is the NFS server up and "
               "exporting it? try: nfs-ls '%s')",
               url, e.message[0] ? e.message : berth_strerror(c->st), url);
  }

found:
  if (c->nfs == NULL)
    berth_error_set(err, c->st != BERTH_OK ? c->st : BERTH_ETRANSPORT, "%s",
                    c->message);
  return c->nfs;
}

/* ---- a PV's directory
 * ----------------------------------------------------------- */

/* Where pv's directory is: *url and *dir, new strings. */
static berth_status_t pv_target(ctl_nfs_t *b, const json_t *pv,
                                const json_t *sclass, char **url, char **dir,
                                berth_error_t *err)
{
  const char *aurl = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_URL);
  const char *adir = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_DIR);
  const char *server = NULL;
  const char *path = NULL;
  nfs_export_t exp;
  berth_status_t st;
  size_t n;

  memset(&exp, 0, sizeof(exp));
  if (aurl != NULL && adir != NULL) {
    *url = strdup(aurl);
    *dir = strdup(adir);
    st = *url && *dir ? BERTH_OK
                      : berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  /* Made by nfs-subdir (or by hand): spec.nfs below the class's export. */
  if (berth_json_get_string(pv, "spec.nfs.server", &server, NULL) != BERTH_OK ||
      berth_json_get_string(pv, "spec.nfs.path", &path, NULL) != BERTH_OK) {
    st =
        berth_error_set(err, BERTH_EINVAL, "the PV has neither %s nor spec.nfs",
                        BERTH_NFS_ANN_DIR);
    goto done;
  }
  st = class_export(b, sclass, &exp, err);
  if (st != BERTH_OK)
    goto done;
  n = strcmp(exp.path, "/") == 0 ? 0 : strlen(exp.path);
  if (!berth_str_case_eq(server, exp.server) ||
      strncmp(path, exp.path, n) != 0 || path[n] != '/' ||
      path[n + 1] == '\0') {
    st = berth_error_set(err, BERTH_EINVAL,
                         "spec.nfs %s:%s is not below the class's export %s",
                         server, path, exp.url);
    goto done;
  }
  *url = strdup(exp.url);
  *dir = trim_path(path + n + 1, strlen(path + n + 1));
  st = *url && *dir ? BERTH_OK
                    : berth_error_set(err, BERTH_ENOMEM, "out of memory");

done:
  export_cleanup(&exp);
  return st;
}

static void add_detail(json_t *d, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_new(d, key, json_string(value));
}

static const char *type_name(berth_nfs_type_t t)
{
  switch (t) {
  case BERTH_NFS_TYPE_FILE:
    return "a file";
  case BERTH_NFS_TYPE_DIR:
    return "a directory";
  case BERTH_NFS_TYPE_SYMLINK:
    return "a symbolic link";
  default:
    return "a special file";
  }
}

static void time_text(int64_t t, char *out, size_t size)
{
  time_t tt = (time_t)t;
  struct tm tm;

  if (gmtime_r(&tt, &tm) == NULL)
    snprintf(out, size, "?");
  else
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static berth_status_t nfs_inspect(ctl_backend_t *be, ctl_ctx_t *ctx,
                                  const json_t *pv, const json_t *sclass,
                                  bool usage, ctl_volume_info_t *out,
                                  berth_error_t *err)
{
  ctl_nfs_t *b = (ctl_nfs_t *)be;
  berth_nfs_stat_t sb;
  berth_nfs_t *nfs;
  berth_error_t e;
  berth_status_t st;
  const char *od;
  char text[64];

  st = pv_target(b, pv, sclass, &out->source, &out->location, err);
  if (st != BERTH_OK)
    return st;
  out->details = json_object();
  add_detail(out->details, "Export", out->source);
  add_detail(out->details, "Directory", out->location);
  od = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_ON_DELETE);
  berth_error_clear(&e);
  nfs = conn_get(b, out->source, &e);
  if (nfs == NULL) {
    out->state = CTL_STATE_ERROR;
    out->message = strdup(e.message);
    return BERTH_OK;
  }
  st = berth_nfs_stat(nfs, out->location, &sb, &e);
  if (st == BERTH_ENOTFOUND) {
    out->state = CTL_STATE_MISSING;
    add_detail(out->details, "Exists", "no");
  } else if (st != BERTH_OK) {
    out->state = CTL_STATE_ERROR;
    out->message = strdup(e.message);
  } else if (sb.type != BERTH_NFS_TYPE_DIR) {
    out->state = CTL_STATE_ERROR;
    out->message = berth_strdup_printf("%s is %s, not a directory: berth "
                                       "never follows or deletes it",
                                       out->location, type_name(sb.type));
  } else {
    out->state = CTL_STATE_PRESENT;
    add_detail(out->details, "Exists", "yes");
    snprintf(text, sizeof(text), "%04o", (unsigned)(sb.mode & 07777));
    add_detail(out->details, "Mode", text);
    snprintf(text, sizeof(text), "%u:%u", (unsigned)sb.uid, (unsigned)sb.gid);
    add_detail(out->details, "Owner", text);
    time_text(sb.mtime_sec, text, sizeof(text));
    add_detail(out->details, "Modified", text);
  }
  add_detail(out->details, "On Delete",
             od != NULL ? od : "as the StorageClass says");
  if (usage && out->state == CTL_STATE_PRESENT) {
    st = berth_backend_usage(b->base.core, pv, ctl_class_parameters(sclass),
                             &out->usage, &e);
    if (st == BERTH_OK) {
      out->has_usage = true;
    } else if (ctx->opt->verbosity > 0) {
      fprintf(ctx->err, "warning: usage of %s: %s\n", out->location, e.message);
    }
  }
  return BERTH_OK;
}

/* ---- orphans
 * ------------------------------------------------------------------- */

/* One export being scanned: what PVs use, how deep volumes lie. */
typedef struct scan_export {
  nfs_export_t exp;
  char **known; /* directories PVs use, relative to the export */
  size_t nknown;
  unsigned depth; /* the deepest volume directory (pattern or PV) */
} scan_export_t;

typedef struct scan {
  ctl_nfs_t *b;
  ctl_ctx_t *ctx;
  scan_export_t *exports;
  size_t n;
  uint64_t entries;
  ctl_orphans_t *out;
} scan_t;

static scan_export_t *scan_find(scan_t *s, const nfs_export_t *e)
{
  size_t i;

  for (i = 0; i < s->n; i++) {
    if (same_export(&s->exports[i].exp, e))
      return &s->exports[i];
  }
  return NULL;
}

/* Add the export e (taken over) or merge it; returns the entry. */
static scan_export_t *scan_add(scan_t *s, nfs_export_t *e, unsigned depth)
{
  scan_export_t *x = scan_find(s, e);
  scan_export_t *grown;

  if (x != NULL) {
    export_cleanup(e);
  } else {
    grown = realloc(s->exports, (s->n + 1) * sizeof(*grown));
    if (grown == NULL) {
      export_cleanup(e);
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
  char *copy = trim_path(dir, strlen(dir));

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
static unsigned levels(const char *p)
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
    export_cleanup(&s->exports[i].exp);
  }
  free(s->exports);
}

/* The exports of berth's NFS classes and volumes, and the default. */
static void scan_collect(scan_t *s)
{
  ctl_registry_t *reg = s->ctx->reg;
  const json_t *o;
  nfs_export_t e;
  berth_error_t err;
  size_t i;
  size_t k;

  json_array_foreach(ctl_registry_classes(reg), i, o)
  {
    const char *pattern;

    if (ctl_registry_class_backend(reg, o) != &ctl_backend_nfs)
      continue;
    berth_error_clear(&err);
    if (class_export(s->b, o, &e, &err) != BERTH_OK) {
      fprintf(s->ctx->err,
              "warning: not scanning for StorageClass %s: "
              "%s\n",
              berth_k8s_obj_name(o), err.message);
      continue;
    }
    pattern = berth_backend_parameter(ctl_class_parameters(o), "pathPattern");
    scan_add(s, &e, levels(pattern));
  }
  if (s->b->defaults != NULL &&
      export_from_params(s->b->defaults, &e, NULL) == BERTH_OK)
    scan_add(s, &e, 1);
  json_array_foreach(ctl_registry_pvs(reg), i, o)
  {
    const char *url = berth_k8s_obj_annotation(o, BERTH_NFS_ANN_URL);
    const char *dir = berth_k8s_obj_annotation(o, BERTH_NFS_ANN_DIR);
    scan_export_t *x;

    if (url == NULL || dir == NULL ||
        export_from_url(url, &e, NULL) != BERTH_OK)
      continue;
    x = scan_add(s, &e, levels(dir));
    if (x != NULL)
      scan_known(x, dir);
  }
  /* Any PV's spec.nfs below an export (nfs-subdir's, static ones) uses
   * that directory too, whoever made it. */
  json_array_foreach(ctl_registry_pvs(reg), i, o)
  {
    const char *server = NULL;
    const char *path = NULL;

    if (berth_json_get_string(o, "spec.nfs.server", &server, NULL) !=
            BERTH_OK ||
        berth_json_get_string(o, "spec.nfs.path", &path, NULL) != BERTH_OK)
      continue;
    for (k = 0; k < s->n; k++) {
      scan_export_t *x = &s->exports[k];
      size_t n = strcmp(x->exp.path, "/") == 0 ? 0 : strlen(x->exp.path);

      if (berth_str_case_eq(server, x->exp.server) &&
          strncmp(path, x->exp.path, n) == 0 && path[n] == '/' &&
          path[n + 1] != '\0') {
        scan_known(x, path + n + 1);
        if (levels(path + n + 1) > x->depth)
          x->depth = levels(path + n + 1);
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
static bool looks_like_volume(const char *name)
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
  ctl_orphan_t *o = ctl_orphans_add(s->out);
  json_t *pv;

  if (o == NULL)
    return;
  o->ops = &ctl_backend_nfs;
  o->kind = strdup(archived ? "archived" : "directory");
  o->name = strdup(rel);
  o->location = strdup(rel);
  o->source = strdup(x->exp.url);
  o->problem = strdup(archived ? "archived by a delete: kept on purpose"
                               : "no PersistentVolume uses it");
  o->time_s = st->mtime_sec;
  o->recent =
      s->ctx->now_s - st->mtime_sec < (int64_t)(s->ctx->opt->min_age_ms / 1000);
  if (s->ctx->opt->no_usage)
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
  ctl_progress(s->ctx, "scanning %s: %llu entries", x->exp.url,
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
      if (s->ctx->opt->archived)
        add_orphan(s, x, child, &d->st, true);
    } else if (is_known(x, child)) {
      /* a volume in use */
    } else if (is_ancestor(x, child)) {
      /* a level above volumes in use: what else is below it counts */
      if (depth + 1 < SCAN_MAX_DEPTH)
        scan_dir(s, nfs, x, child, depth + 1, err);
    } else if (depth + 1 < x->depth && depth + 1 < SCAN_MAX_DEPTH &&
               !looks_like_volume(d->name)) {
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

static berth_status_t nfs_scan(ctl_backend_t *be, ctl_ctx_t *ctx,
                               ctl_orphans_t *out, berth_error_t *err)
{
  scan_t s;
  berth_status_t st = BERTH_OK;
  size_t i;

  memset(&s, 0, sizeof(s));
  s.b = (ctl_nfs_t *)be;
  s.ctx = ctx;
  s.out = out;
  scan_collect(&s);
  for (i = 0; i < s.n; i++) {
    berth_error_t e;
    berth_nfs_t *nfs;

    berth_error_clear(&e);
    nfs = conn_get(s.b, s.exports[i].exp.url, &e);
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
  ctl_progress(ctx, NULL);
  scan_cleanup(&s);
  return st;
}

static berth_status_t nfs_remove(ctl_backend_t *be, ctl_ctx_t *ctx,
                                 const ctl_orphan_t *o, bool archive,
                                 char **done, berth_error_t *err)
{
  ctl_nfs_t *b = (ctl_nfs_t *)be;
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

/* ---- doctor
 * -------------------------------------------------------------------- */

static berth_status_t nfs_check(ctl_backend_t *be, ctl_ctx_t *ctx,
                                const json_t *sclass, char **detail,
                                berth_error_t *err)
{
  ctl_nfs_t *b = (ctl_nfs_t *)be;
  nfs_export_t exp;
  berth_nfs_stat_t root;
  berth_nfs_t *nfs;
  berth_status_t st;

  memset(&exp, 0, sizeof(exp));
  /* The export first: a class without one is fine for the provisioner
   * (it has a default) but berthctl cannot check it (ENOTFOUND). */
  st = class_export(b, sclass, &exp, err);
  if (st != BERTH_OK)
    goto done;
  if (sclass != NULL) {
    st =
        berth_backend_validate(b->base.core, ctl_class_parameters(sclass), err);
    if (st != BERTH_OK) {
      berth_error_prefix(err, "invalid parameters (berth-provisioner "
                              "refuses its claims; make a new class: "
                              "parameters cannot be changed)");
      goto done;
    }
  }
  nfs = conn_get(b, exp.url, err);
  if (nfs == NULL) {
    st =
        err != NULL && err->status != BERTH_OK ? err->status : BERTH_ETRANSPORT;
    goto done;
  }
  st = berth_nfs_stat(nfs, "", &root, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, exp.url);
    goto done;
  }
  *detail = berth_strdup_printf("export %s reachable (NFSv%d, root mode "
                                "%04o, owner %u:%u)",
                                exp.url, berth_nfs_version(nfs),
                                (unsigned)(root.mode & 07777),
                                (unsigned)root.uid, (unsigned)root.gid);

done:
  export_cleanup(&exp);
  return st;
}

/* ---- life cycle
 * ---------------------------------------------------------------- */

static void nfs_destroy(ctl_backend_t *be)
{
  ctl_nfs_t *b = (ctl_nfs_t *)be;
  size_t i;

  for (i = 0; i < b->nconns; i++) {
    berth_nfs_destroy(b->conns[i].nfs);
    free(b->conns[i].url);
  }
  free(b->conns);
  berth_backend_destroy(b->base.core);
  json_decref(b->defaults);
  free(b);
}

/* The default export, as berth-provisioner takes it: --nfs-url, else
 * NFS_URL, else NFS_SERVER and NFS_PATH (nfs-subdir's environment). */
static json_t *default_export(const ctl_ctx_t *ctx)
{
  const char *url = ctx->opt->nfs_url;
  const char *server = getenv("NFS_SERVER");
  const char *path = getenv("NFS_PATH");

  if (url == NULL || url[0] == '\0')
    url = getenv("NFS_URL");
  if (url != NULL && url[0] != '\0')
    return json_pack("{s:s}", "url", url);
  if (server != NULL && server[0] != '\0' && path != NULL && path[0] != '\0')
    return json_pack("{s:s,s:s}", "server", server, "share", path);
  return NULL;
}

static const berth_k8s_resource_t nfs_res_deployments = {
    "apps", "v1", "deployments", "Deployment", true,
};

/* The environment berth-provisioner's container gets (env values and the
 * ConfigMaps of envFrom), as the kubelet makes it: a new object. */
static json_t *container_env(ctl_ctx_t *ctx, const char *ns, const json_t *c)
{
  json_t *env = json_object();
  const json_t *e;
  const char *k;
  json_t *v;
  size_t i;

  json_array_foreach(json_object_get(c, "envFrom"), i, e)
  {
    const char *cm = json_string_value(
        json_object_get(json_object_get(e, "configMapRef"), "name"));
    json_t *obj = NULL;

    if (cm != NULL && berth_k8s_get(ctx->k8s, &berth_k8s_res_configmaps, ns, cm,
                                    &obj, NULL) == BERTH_OK) {
      json_object_foreach(json_object_get(obj, "data"), k, v)
          json_object_set(env, k, v);
    }
    json_decref(obj);
  }
  json_array_foreach(json_object_get(c, "env"), i, e)
  {
    v = json_object_get(e, "value");
    if (json_is_string(v))
      json_object_set(env,
                      ctl_nz(json_string_value(json_object_get(e, "name"))), v);
  }
  return env;
}

/* The default export from the environment of a berth-provisioner
 * Deployment that runs the nfs backend (deploy/'s ConfigMap, the chart's
 * env), as parameters; NULL when none says. *from: where. */
static json_t *export_from_deployments(ctl_ctx_t *ctx, char *from, size_t size)
{
  json_t *list = NULL;
  json_t *found = NULL;
  const json_t *dep;
  const json_t *c;
  size_t i;
  size_t j;

  if (ctx->k8s == NULL ||
      berth_k8s_list_all(ctx->k8s, &nfs_res_deployments, NULL, NULL, &list,
                         NULL) != BERTH_OK)
    return NULL;
  json_array_foreach(json_object_get(list, "items"), i, dep)
  {
    json_array_foreach(
        json_object_get(
            json_object_get(
                json_object_get(json_object_get(dep, "spec"), "template"),
                "spec"),
            "containers"),
        j, c)
    {
      const char *cmd =
          json_string_value(json_array_get(json_object_get(c, "command"), 0));
      json_t *env;
      const char *url;
      const char *server;
      const char *path;

      if (found != NULL || cmd == NULL ||
          strstr(cmd, "berth-provisioner") == NULL)
        continue;
      env = container_env(ctx, berth_k8s_obj_namespace(dep), c);
      url = json_string_value(json_object_get(env, "NFS_URL"));
      server = json_string_value(json_object_get(env, "NFS_SERVER"));
      path = json_string_value(json_object_get(env, "NFS_PATH"));
      if (url != NULL && url[0] != '\0')
        found = json_pack("{s:s}", "url", url);
      else if (server != NULL && server[0] != '\0' && path != NULL)
        found = json_pack("{s:s,s:s}", "server", server, "share", path);
      if (found != NULL)
        snprintf(from, size, "Deployment %s/%s",
                 ctl_nz(berth_k8s_obj_namespace(dep)),
                 ctl_nz(berth_k8s_obj_name(dep)));
      json_decref(env);
    }
  }
  json_decref(list);
  return found;
}

/* The default export from a PV berth's nfs backend made for a class that
 * names no export: its recorded export is the default it got. */
static json_t *export_from_pvs(ctl_ctx_t *ctx, char *from, size_t size)
{
  const json_t *pv;
  size_t i;

  if (ctx->reg == NULL)
    return NULL;
  json_array_foreach(ctl_registry_pvs(ctx->reg), i, pv)
  {
    const char *url = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_URL);
    const json_t *sc = ctl_registry_class(
        ctx->reg, json_string_value(json_object_get(json_object_get(pv, "spec"),
                                                    "storageClassName")));

    if (url != NULL && sc != NULL && !names_export(ctl_class_parameters(sc))) {
      snprintf(from, size, "PersistentVolume %s",
               ctl_nz(berth_k8s_obj_name(pv)));
      return json_pack("{s:s}", "url", url);
    }
  }
  return NULL;
}

static berth_status_t nfs_create(ctl_ctx_t *ctx, ctl_backend_t **out,
                                 berth_error_t *err)
{
  berth_backend_nfs_config_t cfg;
  ctl_nfs_t *b = calloc(1, sizeof(*b));
  berth_status_t st;

  if (b == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  b->base.ops = &ctl_backend_nfs;
  b->defaults = default_export(ctx);
  /* Not told: the provisioner's own configuration, else what its volumes
   * recorded (as claims finds each volume's export on its PV). */
  if (b->defaults == NULL)
    b->defaults =
        export_from_deployments(ctx, b->found_from, sizeof(b->found_from));
  if (b->defaults == NULL)
    b->defaults = export_from_pvs(ctx, b->found_from, sizeof(b->found_from));
  if (b->found_from[0] != '\0')
    b->defaults_from = b->found_from;
  b->timeout_ms = ctx->opt->request_timeout_ms > 0
                      ? (int)ctx->opt->request_timeout_ms
                      : NFS_CTL_TIMEOUT_MS;
  memset(&cfg, 0, sizeof(cfg));
  cfg.defaults = b->defaults;
  cfg.timeout_ms = b->timeout_ms;
  st = berth_backend_nfs_create(&cfg, &b->base.core, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "the nfs backend's default export (--nfs-url, "
                            "NFS_URL, NFS_SERVER/NFS_PATH)");
    nfs_destroy(&b->base);
    return st;
  }
  *out = &b->base;
  return BERTH_OK;
}

const ctl_backend_ops_t ctl_backend_nfs = {
    .name = "nfs",
    .annotation_prefix = "nfs.berth.io/",
    .on_delete_annotation = BERTH_NFS_ANN_ON_DELETE,
    .create = nfs_create,
    .destroy = nfs_destroy,
    .inspect = nfs_inspect,
    .scan = nfs_scan,
    .remove = nfs_remove,
    .check = nfs_check,
};
