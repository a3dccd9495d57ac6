/* SPDX-License-Identifier: Apache-2.0 */
/* The NFS backend's journal: a record, in the export, of each volume
 * directory provision is about to make, until its PV is saved or the
 * directory removed again (berth_backend_records in backend.h).
 *
 * lib/nfs makes directories but writes no files, so a record is a chain
 * of directories whose names are its fields:
 *
 *   .berth/inflight/<pv>/<claim namespace>/<claim name>/<n>/<directory>
 *
 * where <directory> is the volume's path relative to the export, one
 * level per component, and <n> the number of its components. A record is
 * complete only with all n: one cut short (a provisioner killed while it
 * wrote or removed it) is never read as a shorter path, which could name
 * a parent of other volumes; it is listed as incomplete, and since the
 * volume's directory is made only after its record is complete and the
 * record removed only once a PV owns the directory or it is gone, the
 * sweep only forgets it. Every name is one a claim's path could hold
 * already (checked as such), the records never lie inside a volume, and
 * no pathPattern can produce ".berth" (nfs_path.c refuses it as a first
 * component). The record's own directory's modification time says when
 * provisioning began. */
#include "backends/nfs_int.h"

#include "berth/buf.h"
#include "berth/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFSB_JOURNAL ".berth/inflight"
#define NFSB_JOURNAL_MODE 0700
/* Levels below a record's directory: namespace, name, then the volume's
 * path, whose components are bounded by the path checker's length. */
#define NFSB_JOURNAL_MAX_DEPTH 256
/* Walks of a record's path raced by the removal of an empty journal. */
#define NFSB_JOURNAL_TRIES 5

/* A component of ours: a PV, namespace or claim name. */
static berth_status_t nfsb_journal_name(const char *s, const char *what,
                                        berth_error_t *err)
{
  if (s == NULL || s[0] == '\0' || strchr(s, '/') != NULL)
    return berth_error_set(err, BERTH_EINVAL, "journal: bad %s", what);
  return berth__nfsb_path_check(s, what, err);
}

berth_status_t berth__nfsb_journal_add(berth_nfs_t *nfs, const char *pv,
                                       const char *ns, const char *name,
                                       const char *rel, berth_error_t *err)
{
  berth_status_t st;
  char *path = NULL;
  const char *c;
  size_t n;
  int tries;

  st = nfsb_journal_name(pv, "the PV name", err);
  if (st == BERTH_OK)
    st = nfsb_journal_name(ns, "the claim's namespace", err);
  if (st == BERTH_OK)
    st = nfsb_journal_name(name, "the claim's name", err);
  if (st != BERTH_OK)
    return st;
  for (n = 1, c = rel; *c != '\0'; c++)
    n += *c == '/';
  path = berth_strdup_printf("%s/%s/%s/%s/%zu/%s", NFSB_JOURNAL, pv, ns, name,
                             n, rel);
  if (path == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "journal: out of memory");
  /* A drop of the last other record may remove .berth/inflight (or
   * .berth) between two steps of the walk: walk again. */
  for (tries = 0; tries < NFSB_JOURNAL_TRIES; tries++) {
    st = berth__nfsb_tree_mkdirs(nfs, path, NFSB_JOURNAL_MODE, err);
    if (st != BERTH_ENOTFOUND)
      break;
  }
  free(path);
  return st;
}

berth_status_t berth__nfsb_journal_drop(berth_nfs_t *nfs, const char *pv,
                                        berth_error_t *err)
{
  berth_status_t st;
  char *path = NULL;

  st = nfsb_journal_name(pv, "the PV name", err);
  if (st != BERTH_OK)
    return st;
  path = berth_strdup_printf("%s/%s", NFSB_JOURNAL, pv);
  if (path == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "journal: out of memory");
  st = berth__nfsb_tree_find(nfs, path, NULL, err);
  if (st == BERTH_OK)
    st = berth__nfsb_tree_remove(nfs, path, NFSB_JOURNAL_MAX_DEPTH, err);
  if (st == BERTH_ENOTFOUND)
    st = BERTH_OK;
  /* Leave no .berth in the export while nothing is in flight: remove the
   * journal's directories when empty (a record added meanwhile makes the
   * rmdir fail, which is fine, or its walk starts again). */
  if (st == BERTH_OK && berth_nfs_rmdir(nfs, NFSB_JOURNAL, NULL) == BERTH_OK)
    (void)berth_nfs_rmdir(nfs, ".berth", NULL);
  free(path);
  return st;
}

/* ---- listing ------------------------------------------------------------ */

/* The one sub-directory of a record's level. */
typedef struct nfsb_only {
  char name[BERTH_NFS_NAME_MAX + 1];
  size_t dirs;  /* sub-directories seen */
  size_t other; /* anything else */
} nfsb_only_t;

static berth_status_t nfsb_only_entry(void *ctx, const char *name,
                                      const berth_nfs_stat_t *sb)
{
  nfsb_only_t *o = ctx;

  if (sb->type != BERTH_NFS_TYPE_DIR) {
    o->other++;
    return BERTH_OK;
  }
  if (o->dirs++ == 0)
    berth_strlcpy(o->name, name, sizeof(o->name));
  return BERTH_OK;
}

/* Read the sub-directory of path into o; BERTH_EINVAL unless there is
 * exactly one (or, with leaf_ok, none) and nothing else. */
static berth_status_t nfsb_only(berth_nfs_t *nfs, const char *path,
                                bool leaf_ok, nfsb_only_t *o,
                                berth_error_t *err)
{
  berth_status_t st;

  memset(o, 0, sizeof(*o));
  st = berth_nfs_readdir(nfs, path, nfsb_only_entry, o, err);
  if (st != BERTH_OK)
    return st;
  if (o->other != 0 || o->dirs > 1 || (o->dirs == 0 && !leaf_ok))
    return berth_error_set(err, BERTH_EINVAL,
                           "journal: %s is not a record of one volume", path);
  return BERTH_OK;
}

/* Read the record of pv: claim namespace, name, the volume's path.
 * BERTH_ENOTFOUND when it is cut short (see the top) or gone, BERTH_EINVAL when
 * it is not one volume's. */
static berth_status_t nfsb_record_read(berth_nfs_t *nfs, const char *pv,
                                       json_t *rec, berth_buf_t *rel,
                                       berth_error_t *err)
{
  const char *field[] = {"namespace", "name", "components"};
  unsigned long want = 0;
  berth_buf_t path;
  berth_status_t st;
  nfsb_only_t o;
  unsigned long depth;
  size_t i;
  char *end;

  berth_buf_init(&path);
  st = berth_buf_appendf(&path, "%s/%s", NFSB_JOURNAL, pv);
  for (i = 0; i < 3 && st == BERTH_OK; i++) {
    st = nfsb_only(nfs, berth_buf_str(&path), true, &o, err);
    if (st == BERTH_OK && o.dirs == 0)
      st = BERTH_ENOTFOUND;
    if (st == BERTH_OK && i < 2 &&
        json_object_set_new(rec, field[i], json_string(o.name)) != 0)
      st = BERTH_ENOMEM;
    if (st == BERTH_OK)
      st = berth_buf_appendf(&path, "/%s", o.name);
  }
  if (st == BERTH_OK) {
    want = strtoul(o.name, &end, 10);
    if (*end != '\0' || want == 0 || want > NFSB_JOURNAL_MAX_DEPTH)
      st = berth_error_set(err, BERTH_EINVAL, "journal: %s: bad count", pv);
  }
  for (depth = 0; st == BERTH_OK && depth < want; depth++) {
    st = nfsb_only(nfs, berth_buf_str(&path), true, &o, err);
    if (st == BERTH_OK && o.dirs == 0)
      st = BERTH_ENOTFOUND;
    if (st == BERTH_OK)
      st = berth_buf_appendf(&path, "/%s", o.name);
    if (st == BERTH_OK)
      st = berth_buf_appendf(rel, "%s%s", depth > 0 ? "/" : "", o.name);
  }
  /* The volume's own level ends the record. */
  if (st == BERTH_OK)
    st = nfsb_only(nfs, berth_buf_str(&path), true, &o, err);
  if (st == BERTH_OK && o.dirs != 0)
    st = berth_error_set(err, BERTH_EINVAL, "journal: %s: too deep", pv);
  if (st == BERTH_OK)
    st = berth__nfsb_path_check(berth_buf_str(rel), "the journal", err);
  berth_buf_cleanup(&path);
  return st;
}

/* The PV that berth_backend_delete takes for the directory rel under
 * url: what provision would have put on it, but the onDelete, which the
 * class decides. */
static json_t *nfsb_record_pv(const char *pv, const char *url, const char *rel)
{
  return json_pack("{s:{s:s,s:{s:s,s:s}}}", "metadata", "name", pv,
                   "annotations", BERTH_NFS_ANN_URL, url, BERTH_NFS_ANN_DIR,
                   rel);
}

typedef struct nfsb_list {
  berth_nfs_t *nfs;
  const char *url;
  size_t max;
  json_t *out;
  size_t skipped; /* records that could not be read */
} nfsb_list_t;

static berth_status_t nfsb_list_entry(void *ctx, const char *name,
                                      const berth_nfs_stat_t *sb)
{
  nfsb_list_t *l = ctx;
  json_t *rec = NULL;
  berth_error_t err;
  berth_buf_t rel;
  berth_status_t st;
  const char *uid;

  if (json_array_size(l->out) >= l->max)
    return BERTH_OK;
  berth_buf_init(&rel);
  berth_error_clear(&err);
  rec = json_object();
  if (rec == NULL) {
    st = BERTH_ENOMEM;
    goto done;
  }
  /* pvc-<uid>: the claim's uid is in the PV's name. */
  uid = strncmp(name, "pvc-", 4) == 0 ? name + 4 : "";
  st = sb->type == BERTH_NFS_TYPE_DIR ? BERTH_OK : BERTH_EINVAL;
  if (st == BERTH_OK)
    st = nfsb_record_read(l->nfs, name, rec, &rel, &err);
  if (st == BERTH_ENOTFOUND) {
    /* Cut short: listed for the sweep to forget, with nothing to
     * remove. */
    if (json_object_set_new(rec, "uid", json_string(uid)) != 0 ||
        json_object_set_new(rec, "created", json_integer(sb->mtime_sec)) != 0 ||
        json_object_set_new(rec, "incomplete", json_true()) != 0 ||
        json_object_set_new(
            rec, "pv", json_pack("{s:{s:s}}", "metadata", "name", name)) != 0 ||
        json_array_append(l->out, rec) != 0)
      st = BERTH_ENOMEM;
    else
      st = BERTH_OK;
    goto done;
  }
  if (st != BERTH_OK) {
    if (st == BERTH_ENOMEM)
      goto done;
    /* Kept as it is, never removed: a record we cannot read is no
     * reason to touch a volume. */
    l->skipped++;
    st = BERTH_OK;
    goto done;
  }
  if (json_object_set_new(rec, "uid", json_string(uid)) != 0 ||
      json_object_set_new(rec, "created", json_integer(sb->mtime_sec)) != 0 ||
      json_object_set_new(
          rec, "pv", nfsb_record_pv(name, l->url, berth_buf_str(&rel))) != 0 ||
      json_array_append(l->out, rec) != 0)
    st = BERTH_ENOMEM;

done:
  json_decref(rec);
  berth_buf_cleanup(&rel);
  return st;
}

berth_status_t berth__nfsb_journal_list(berth_nfs_t *nfs, const char *url,
                                        size_t max, json_t *out,
                                        berth_error_t *err)
{
  nfsb_list_t l = {nfs, url, max, out, 0};
  berth_status_t st;

  st = berth__nfsb_tree_find(nfs, NFSB_JOURNAL, NULL, err);
  if (st == BERTH_ENOTFOUND)
    return BERTH_OK;
  if (st == BERTH_OK)
    st = berth_nfs_readdir(nfs, NFSB_JOURNAL, nfsb_list_entry, &l, err);
  if (st == BERTH_OK && l.skipped > 0)
    berth_log(BERTH_LOG_WARN, "nfs journal: records left as they are", "reason",
              "cannot be read as one volume's record", NULL);
  return st;
}
