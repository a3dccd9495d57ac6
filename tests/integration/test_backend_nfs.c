/* SPDX-License-Identifier: Apache-2.0 */
/* Integration test of the NFS backend (provisioner/backends/) against
 * nfs-ganesha in the test bed (tests/bed/bed_nfs.py), over NFSv3
 * (BERTH_NFS_URL) and NFSv4 (BERTH_NFS4_URL). What the backend does on the
 * server is checked on disk under BERTH_NFS_EXPORT_DIR, and hostile
 * set-ups (symbolic links planted in the export) are made there directly.
 * Names carry the version ("v3-...", "v4-...") since both runs share one
 * export. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/nfs.h"
#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/json.h"

#include "../unit/test_backend_data.c"
#include "test_backend_nfs_proxy.c"
#include "test_proc.h"

typedef struct nfs_case {
  const char *env; /* the variable holding the URL */
  const char *tag;
} nfs_case_t;

static const nfs_case_t case_v3 = {"BERTH_NFS_URL", "v3"};
static const nfs_case_t case_v4 = {"BERTH_NFS4_URL", "v4"};

/* ---- environment and disk --------------------------------------------- */

static const char *need_env(const char *name)
{
  const char *v = getenv(name);

  if (v == NULL || v[0] == '\0')
    fail_msg("%s is not set: run this test under tests/bed/bed.py run nfs",
             name);
  return v;
}

/* <export dir>/<rel>, in a static buffer (one at a time). */
static const char *disk(const char *rel)
{
  static char path[2048];

  snprintf(path, sizeof(path), "%s/%s", need_env("BERTH_NFS_EXPORT_DIR"), rel);
  return path;
}

/* A directory next to the export, outside it: what links point at. */
static char *outside_dir(const char *name)
{
  char *export_dir = strdup(need_env("BERTH_NFS_EXPORT_DIR"));
  char *slash;
  char *path;

  assert_non_null(export_dir);
  slash = strrchr(export_dir, '/');
  assert_non_null(slash);
  *slash = '\0';
  path = berth_strdup_printf("%s/%s", export_dir, name);
  free(export_dir);
  assert_non_null(path);
  assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
  return path;
}

static int disk_lstat(const char *rel, struct stat *sb)
{
  return lstat(disk(rel), sb) == 0 ? 0 : -errno;
}

static void disk_write(const char *path, size_t size)
{
  FILE *f = fopen(path, "w");
  size_t i;

  if (f == NULL)
    fail_msg("fopen %s: %s", path, strerror(errno));
  for (i = 0; i < size; i++)
    fputc('x', f);
  fclose(f);
}

static void disk_mkdir(const char *path)
{
  if (mkdir(path, 0755) != 0)
    fail_msg("mkdir %s: %s", path, strerror(errno));
}

static void disk_symlink(const char *target, const char *path)
{
  if (symlink(target, path) != 0)
    fail_msg("symlink %s: %s", path, strerror(errno));
}

/* A listing of a tree on disk (paths, types, modes, sizes), sorted, to
 * compare before and after. */
static char **snap_lines;
static size_t snap_n;

static int snap_cb(const char *path, const struct stat *sb, int type,
                   struct FTW *ftw)
{
  (void)type;
  (void)ftw;
  snap_lines = realloc(snap_lines, (snap_n + 1) * sizeof(*snap_lines));
  assert_non_null(snap_lines);
  snap_lines[snap_n] = berth_strdup_printf(
      "%s %o %u:%u %lld", path, (unsigned)sb->st_mode, (unsigned)sb->st_uid,
      (unsigned)sb->st_gid, (long long)sb->st_size);
  assert_non_null(snap_lines[snap_n]);
  snap_n++;
  return 0;
}

static int snap_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A new string describing the tree at root (not following links). */
static char *snapshot(const char *root)
{
  berth_buf_t buf;
  size_t i;

  berth_buf_init(&buf);
  snap_lines = NULL;
  snap_n = 0;
  assert_int_equal(nftw(root, snap_cb, 16, FTW_PHYS), 0);
  qsort(snap_lines, snap_n, sizeof(*snap_lines), snap_cmp);
  for (i = 0; i < snap_n; i++) {
    berth_buf_appendf(&buf, "%s\n", snap_lines[i]);
    free(snap_lines[i]);
  }
  free(snap_lines);
  snap_lines = NULL;
  return berth_buf_detach(&buf);
}

/* ---- the backend ------------------------------------------------------- */

static void assert_ok(berth_status_t st, const berth_error_t *err)
{
  if (st != BERTH_OK)
    fail_msg("%s: %s", berth_status_name(st), err->message);
}

static berth_backend_t *backend_cfg(berth_backend_nfs_config_t *cfg)
{
  berth_backend_t *be = NULL;
  berth_error_t err;

  berth_error_clear(&err);
  assert_ok(berth_backend_nfs_create(cfg, &be, &err), &err);
  return be;
}

static berth_backend_t *backend(void)
{
  berth_backend_nfs_config_t cfg;

  memset(&cfg, 0, sizeof(cfg));
  return backend_cfg(&cfg);
}

/* Class parameters: url, then key/value pairs up to NULL. */
static json_t *params(const char *url, ...)
{
  json_t *p = json_pack("{s:s}", "url", url);
  const char *k;
  va_list ap;

  va_start(ap, url);
  while ((k = va_arg(ap, const char *)) != NULL)
    json_object_set_new(p, k, json_string(va_arg(ap, const char *)));
  va_end(ap);
  return p;
}

typedef struct claim {
  char ns[64];
  char name[64];
  char pv[64];
  json_t *obj; /* the claim: annotations and labels */
  const uint32_t *used;
  size_t n_used;
} claim_t;

static void claim_init(claim_t *c, const char *ns, const char *name,
                       const char *pv)
{
  memset(c, 0, sizeof(*c));
  snprintf(c->ns, sizeof(c->ns), "%s", ns);
  snprintf(c->name, sizeof(c->name), "%s", name);
  snprintf(c->pv, sizeof(c->pv), "%s", pv);
  c->obj = json_pack("{s:{s:s, s:s, s:{}, s:{}}}", "metadata", "namespace", ns,
                     "name", name, "annotations", "labels");
  assert_non_null(c->obj);
}

static void claim_set(claim_t *c, const char *map, const char *key,
                      const char *value, size_t len)
{
  json_t *m = json_object_get(json_object_get(c->obj, "metadata"), map);

  json_object_set_new(m, key, json_stringn(value, len));
}

static berth_status_t provision(berth_backend_t *be, claim_t *c,
                                json_t *class_params,
                                berth_provision_result_t *res,
                                berth_error_t *err)
{
  berth_provision_request_t req;

  memset(&req, 0, sizeof(req));
  req.claim_namespace = c->ns;
  req.claim_name = c->name;
  req.claim_uid = c->pv + 4;
  req.pv_name = c->pv;
  req.claim = c->obj;
  req.requested_bytes = 5ull << 30;
  req.access_modes = BERTH_ACCESS_RWX;
  req.parameters = class_params;
  req.used_gids = c->used;
  req.n_used_gids = c->n_used;
  berth_provision_result_init(res);
  berth_error_clear(err);
  return berth_backend_provision(be, &req, res, err);
}

/* Provision and return the PV the controller would make of it. */
static json_t *provision_pv(berth_backend_t *be, claim_t *c,
                            json_t *class_params)
{
  berth_provision_result_t res;
  berth_error_t err;
  json_t *pv;

  assert_ok(provision(be, c, class_params, &res, &err), &err);
  pv = json_pack("{s:{s:s, s:O}, s:O}", "metadata", "name", c->pv,
                 "annotations", res.annotations, "spec", res.source);
  assert_non_null(pv);
  assert_int_equal(res.capacity_bytes, 5ull << 30);
  berth_provision_result_cleanup(&res);
  return pv;
}

static const char *pv_ann(const json_t *pv, const char *key)
{
  json_t *ann = json_object_get(json_object_get(pv, "metadata"), "annotations");

  return json_string_value(json_object_get(ann, key));
}

static const char *pv_dir(const json_t *pv)
{
  const char *d = pv_ann(pv, BERTH_NFS_ANN_DIR);

  assert_non_null(d);
  return d;
}

static berth_delete_outcome_t delete_pv(berth_backend_t *be, json_t *pv,
                                        json_t *class_params)
{
  berth_delete_request_t req;
  berth_delete_outcome_t out = BERTH_DELETE_ABSENT;
  berth_error_t err;

  memset(&req, 0, sizeof(req));
  req.pv = pv;
  req.parameters = class_params;
  berth_error_clear(&err);
  assert_ok(berth_backend_delete(be, &req, &out, &err), &err);
  return out;
}

static void expect_dir(const char *rel, unsigned mode, unsigned uid,
                       unsigned gid)
{
  struct stat sb;
  int rc = disk_lstat(rel, &sb);

  if (rc != 0)
    fail_msg("%s: %s", rel, strerror(-rc));
  assert_true(S_ISDIR(sb.st_mode));
  if ((sb.st_mode & 07777) != mode)
    fail_msg("%s: mode %o, expected %o", rel, sb.st_mode & 07777, mode);
  assert_int_equal(sb.st_uid, uid);
  assert_int_equal(sb.st_gid, gid);
}

static void expect_gone(const char *rel)
{
  struct stat sb;

  assert_int_equal(disk_lstat(rel, &sb), -ENOENT);
}

/* ---- tests ------------------------------------------------------------- */

/* The default directory, nfs-subdir's 0777, root's; the PV's source and
 * annotations. */
static void test_provision_default(void **state)
{
  const nfs_case_t *c = *state;
  const char *url = need_env(c->env);
  berth_backend_t *be = backend();
  json_t *p = params(url, NULL);
  berth_provision_result_t res;
  berth_error_t err;
  char ns[32];
  char dir[128];
  claim_t cl;

  snprintf(ns, sizeof(ns), "%s-default", c->tag);
  claim_init(&cl, ns, "data", "pvc-0001");
  assert_ok(provision(be, &cl, p, &res, &err), &err);
  snprintf(dir, sizeof(dir), "%s-data-pvc-0001", ns);
  expect_dir(dir, 0777, 0, 0);
  {
    json_t *want = json_pack("{s:{s:s, s:s+}}", "nfs", "server", "127.0.0.1",
                             "path", "/export/", dir);

    if (!json_equal(want, res.source)) {
      char *got = json_dumps(res.source, 0);

      fail_msg("source %s", got);
    }
    json_decref(want);
  }
  assert_string_equal(
      json_string_value(json_object_get(res.annotations, BERTH_NFS_ANN_DIR)),
      dir);
  assert_string_equal(
      json_string_value(json_object_get(res.annotations, BERTH_NFS_ANN_URL)),
      url);
  assert_string_equal(json_string_value(json_object_get(
                          res.annotations, BERTH_NFS_ANN_ON_DELETE)),
                      "archive");
  assert_null(json_object_get(res.annotations, BERTH_ANN_PV_GID));
  assert_int_equal(res.capacity_bytes, 5ull << 30);
  assert_null(res.node_affinity);
  berth_provision_result_cleanup(&res);
  json_decref(p);
  json_decref(cl.obj);
  berth_backend_destroy(be);
}

/* directoryPerms, uid, gid reach the disk; the gid is on the PV. */
static void test_provision_owner_perms(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_t *be = backend();
  json_t *p = params(need_env(c->env), "directoryPerms", "2750", "uid", "1000",
                     "gid", "2000", NULL);
  char ns[32];
  json_t *pv;
  claim_t cl;

  snprintf(ns, sizeof(ns), "%s-owner", c->tag);
  claim_init(&cl, ns, "data", "pvc-0002");
  pv = provision_pv(be, &cl, p);
  expect_dir(pv_dir(pv), 02750, 1000, 2000);
  assert_string_equal(pv_ann(pv, BERTH_ANN_PV_GID), "2000");
  json_decref(pv);
  json_decref(p);
  json_decref(cl.obj);
  berth_backend_destroy(be);
}

/* Nested pathPattern: parents 0755, the volume with its perms; a second
 * claim shares the parents. */
static void test_nested_pattern(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_t *be = backend();
  json_t *p = params(need_env(c->env), "pathPattern",
                     "${.PVC.namespace}/${.PVC.labels.app}/"
                     "${.PVC.annotations.example.com/dir}",
                     "directoryPerms", "0770", NULL);
  char ns[32];
  char rel[128];
  json_t *pv;
  claim_t cl;

  snprintf(ns, sizeof(ns), "%s-nested", c->tag);
  claim_init(&cl, ns, "data", "pvc-0003");
  claim_set(&cl, "labels", "app", "wordpress", 9);
  claim_set(&cl, "annotations", "example.com/dir", "uploads", 7);
  pv = provision_pv(be, &cl, p);
  snprintf(rel, sizeof(rel), "%s/wordpress/uploads", ns);
  assert_string_equal(pv_dir(pv), rel);
  expect_dir(ns, 0755, 0, 0);
  snprintf(rel, sizeof(rel), "%s/wordpress", ns);
  expect_dir(rel, 0755, 0, 0);
  snprintf(rel, sizeof(rel), "%s/wordpress/uploads", ns);
  expect_dir(rel, 0770, 0, 0);
  json_decref(pv);
  json_decref(cl.obj);

  claim_init(&cl, ns, "db", "pvc-0004");
  claim_set(&cl, "labels", "app", "wordpress", 9);
  claim_set(&cl, "annotations", "example.com/dir", "mysql", 5);
  pv = provision_pv(be, &cl, p);
  snprintf(rel, sizeof(rel), "%s/wordpress/mysql", ns);
  expect_dir(rel, 0770, 0, 0);
  json_decref(pv);
  json_decref(cl.obj);
  json_decref(p);
  berth_backend_destroy(be);
}

/* The same claim twice: the same directory, its data kept, its mode
 * restored; the same result. */
static void test_provision_idempotent(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_t *be = backend();
  json_t *p = params(need_env(c->env), "uid", "7", NULL);
  char path[4096];
  char ns[32];
  json_t *pv1;
  json_t *pv2;
  claim_t cl;

  snprintf(ns, sizeof(ns), "%s-twice", c->tag);
  claim_init(&cl, ns, "data", "pvc-0005");
  pv1 = provision_pv(be, &cl, p);
  snprintf(path, sizeof(path), "%s/keep", disk(pv_dir(pv1)));
  disk_write(path, 5);
  assert_int_equal(chmod(disk(pv_dir(pv1)), 0700), 0);
  pv2 = provision_pv(be, &cl, p);
  assert_true(json_equal(pv1, pv2));
  expect_dir(pv_dir(pv2), 0777, 7, 0);
  assert_int_equal(access(path, F_OK), 0);
  /* A new backend (a restarted provisioner) finds it too. */
  berth_backend_destroy(be);
  be = backend();
  json_decref(pv2);
  pv2 = provision_pv(be, &cl, p);
  assert_true(json_equal(pv1, pv2));
  assert_int_equal(access(path, F_OK), 0);
  json_decref(pv1);
  json_decref(pv2);
  json_decref(p);
  json_decref(cl.obj);
  berth_backend_destroy(be);
}

/* A tree with every kind of entry, links pointing outside the export and
 * at another volume. */
static void fill_tree(const char *vol, const char *outside,
                      const char *other_vol)
{
  char a[4096];
  char b[4096];

  snprintf(a, sizeof(a), "%s/file", vol);
  disk_write(a, 100);
  snprintf(a, sizeof(a), "%s/sub", vol);
  disk_mkdir(a);
  snprintf(a, sizeof(a), "%s/sub/deeper", vol);
  disk_mkdir(a);
  snprintf(a, sizeof(a), "%s/sub/deeper/file", vol);
  disk_write(a, 10);
  snprintf(a, sizeof(a), "%s/sub/to-outside", vol);
  disk_symlink(outside, a);
  snprintf(a, sizeof(a), "%s/to-outside-file", vol);
  snprintf(b, sizeof(b), "%s/precious", outside);
  disk_symlink(b, a);
  snprintf(a, sizeof(a), "%s/to-other-volume", vol);
  disk_symlink(other_vol, a);
  snprintf(a, sizeof(a), "%s/dangling", vol);
  disk_symlink("/no/such/thing", a);
  snprintf(a, sizeof(a), "%s/fifo", vol);
  assert_int_equal(mkfifo(a, 0600), 0);
  snprintf(a, sizeof(a), "%s/sub/empty", vol);
  disk_mkdir(a);
}

/* onDelete=delete removes the tree, unlinking links without following
 * them: what they point at, outside the export or in another volume, is
 * untouched. A second delete finds nothing. */
static void test_delete_tree_with_links(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_t *be = backend();
  json_t *p = params(need_env(c->env), "onDelete", "delete", NULL);
  char *outside;
  char *before_outside;
  char *before_other;
  char *after;
  char ns[32];
  char path[8192];
  char other[4096];
  json_t *pv;
  json_t *pv_other;
  claim_t cl;
  claim_t cl2;

  snprintf(ns, sizeof(ns), "outside-%s", c->tag);
  outside = outside_dir(ns);
  snprintf(path, sizeof(path), "%s/precious", outside);
  disk_write(path, 42);
  snprintf(ns, sizeof(ns), "%s-delete", c->tag);
  claim_init(&cl, ns, "data", "pvc-0006");
  claim_init(&cl2, ns, "other", "pvc-0007");
  pv = provision_pv(be, &cl, p);
  pv_other = provision_pv(be, &cl2, p);
  snprintf(other, sizeof(other), "%s", disk(pv_dir(pv_other)));
  snprintf(path, sizeof(path), "%s/mine", other);
  disk_write(path, 3);
  fill_tree(disk(pv_dir(pv)), outside, other);
  before_outside = snapshot(outside);
  before_other = snapshot(other);

  assert_int_equal(delete_pv(be, pv, p), BERTH_DELETE_DELETED);
  expect_gone(pv_dir(pv));
  after = snapshot(outside);
  assert_string_equal(after, before_outside);
  free(after);
  after = snapshot(other);
  assert_string_equal(after, before_other);
  free(after);
  assert_int_equal(delete_pv(be, pv, p), BERTH_DELETE_ABSENT);
  /* The class is gone: the PV's annotations are enough. */
  assert_int_equal(delete_pv(be, pv_other, NULL), BERTH_DELETE_DELETED);
  expect_gone(pv_dir(pv_other));
  free(before_outside);
  free(before_other);
  free(outside);
  json_decref(pv);
  json_decref(pv_other);
  json_decref(cl.obj);
  json_decref(cl2.obj);
  json_decref(p);
  berth_backend_destroy(be);
}

/* archiveOnDelete (the default), archiveOnDelete=false, onDelete=retain,
 * and nested archives at the export's root as nfs-subdir does. */
static void test_delete_policies(void **state)
{
  const nfs_case_t *c = *state;
  const char *url = need_env(c->env);
  berth_backend_t *be = backend();
  json_t *archive = params(url, NULL);
  json_t *no_archive = params(url, "archiveOnDelete", "false", NULL);
  json_t *retain =
      params(url, "onDelete", "retain", "archiveOnDelete", "false", NULL);
  json_t *nested =
      params(url, "pathPattern", "${.PVC.namespace}/${.PVC.name}", NULL);
  char ns[32];
  char leaf[16];
  char rel[256];
  char path[4096];
  struct stat sb;
  json_t *pv;
  claim_t cl;

  snprintf(ns, sizeof(ns), "%s-policy", c->tag);
  /* Archive: renamed with its data. */
  claim_init(&cl, ns, "a", "pvc-0010");
  pv = provision_pv(be, &cl, archive);
  snprintf(path, sizeof(path), "%s/data", disk(pv_dir(pv)));
  disk_write(path, 1);
  assert_int_equal(delete_pv(be, pv, archive), BERTH_DELETE_ARCHIVED);
  expect_gone(pv_dir(pv));
  snprintf(rel, sizeof(rel), "archived-%s/data", pv_dir(pv));
  assert_int_equal(disk_lstat(rel, &sb), 0);
  assert_int_equal(delete_pv(be, pv, archive), BERTH_DELETE_ABSENT);
  json_decref(pv);
  json_decref(cl.obj);
  /* archiveOnDelete=false: removed. */
  claim_init(&cl, ns, "b", "pvc-0011");
  pv = provision_pv(be, &cl, no_archive);
  assert_int_equal(delete_pv(be, pv, no_archive), BERTH_DELETE_DELETED);
  expect_gone(pv_dir(pv));
  snprintf(rel, sizeof(rel), "archived-%s", pv_dir(pv));
  expect_gone(rel);
  json_decref(pv);
  json_decref(cl.obj);
  /* retain: left alone. */
  claim_init(&cl, ns, "c", "pvc-0012");
  pv = provision_pv(be, &cl, retain);
  assert_int_equal(delete_pv(be, pv, retain), BERTH_DELETE_RETAINED);
  expect_dir(pv_dir(pv), 0777, 0, 0);
  json_decref(pv);
  json_decref(cl.obj);
  /* Nested: <ns>/<tag>d -> archived-<tag>d at the root; the parent
   * stays. A second volume with the same leaf gets a name with its PV's. */
  snprintf(leaf, sizeof(leaf), "%sd", c->tag);
  snprintf(ns, sizeof(ns), "%s-policy-n1", c->tag);
  claim_init(&cl, ns, leaf, "pvc-0013");
  pv = provision_pv(be, &cl, nested);
  assert_int_equal(delete_pv(be, pv, nested), BERTH_DELETE_ARCHIVED);
  expect_gone(pv_dir(pv));
  expect_dir(ns, 0755, 0, 0);
  snprintf(rel, sizeof(rel), "archived-%s", leaf);
  expect_dir(rel, 0777, 0, 0);
  json_decref(pv);
  json_decref(cl.obj);
  snprintf(ns, sizeof(ns), "%s-policy-n2", c->tag);
  claim_init(&cl, ns, leaf, "pvc-0014");
  pv = provision_pv(be, &cl, nested);
  assert_int_equal(delete_pv(be, pv, nested), BERTH_DELETE_ARCHIVED);
  json_decref(pv);
  json_decref(cl.obj);
  snprintf(rel, sizeof(rel), "archived-%s-pvc-0014", leaf);
  expect_dir(rel, 0777, 0, 0);
  /* A leaf too long for the prefix: the archive is named after the PV;
   * when that name is taken too, the volume stays where it is. */
  {
    json_t *by_ann = params(url, "pathPattern",
                            "${.PVC.namespace}/${.PVC.annotations.dir}", NULL);
    berth_delete_request_t dreq;
    berth_error_t err;
    char longleaf[251];
    char pvname[32];

    memset(longleaf, 'L', 250);
    memcpy(longleaf, c->tag, 2);
    longleaf[250] = '\0';
    snprintf(pvname, sizeof(pvname), "pvc-0015-%s", c->tag);
    claim_init(&cl, ns, "long", pvname);
    claim_set(&cl, "annotations", "dir", longleaf, 250);
    pv = provision_pv(be, &cl, by_ann);
    assert_int_equal(delete_pv(be, pv, by_ann), BERTH_DELETE_ARCHIVED);
    snprintf(rel, sizeof(rel), "archived-%s", pvname);
    expect_dir(rel, 0777, 0, 0);
    json_decref(pv);
    json_decref(cl.obj);

    snprintf(pvname, sizeof(pvname), "pvc-0016-%s", c->tag);
    snprintf(rel, sizeof(rel), "archived-%s", pvname);
    disk_mkdir(disk(rel));
    longleaf[2] = 'M';
    claim_init(&cl, ns, "long2", pvname);
    claim_set(&cl, "annotations", "dir", longleaf, 250);
    pv = provision_pv(be, &cl, by_ann);
    memset(&dreq, 0, sizeof(dreq));
    dreq.pv = pv;
    dreq.parameters = by_ann;
    assert_int_equal(berth_backend_delete(be, &dreq, NULL, &err), BERTH_EEXIST);
    print_message("archive names taken: %s\n", err.message);
    expect_dir(pv_dir(pv), 0777, 0, 0);
    json_decref(pv);
    json_decref(cl.obj);
    json_decref(by_ann);
  }
  json_decref(archive);
  json_decref(no_archive);
  json_decref(retain);
  json_decref(nested);
  berth_backend_destroy(be);
}

/* A PV made by nfs-subdir (no berth annotations): found through spec.nfs
 * under the class's export. */
static void test_delete_nfs_subdir_pv(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_t *be = backend();
  json_t *p = params(need_env(c->env), "archiveOnDelete", "false", NULL);
  char dir[64];
  json_t *pv;

  snprintf(dir, sizeof(dir), "%s-legacy-data-pvc-0020", c->tag);
  disk_mkdir(disk(dir));
  pv = json_pack("{s:{s:s}, s:{s:{s:s, s:s+}}}", "metadata", "name", "pvc-0020",
                 "spec", "nfs", "server", "127.0.0.1", "path", "/export/", dir);
  assert_int_equal(delete_pv(be, pv, p), BERTH_DELETE_DELETED);
  expect_gone(dir);
  json_decref(pv);
  json_decref(p);
  berth_backend_destroy(be);
}

/* Symbolic links planted in the export, as a component of the path, as
 * the volume itself, and under a PV's recorded directory: refused,
 * nothing written, the targets untouched. */
static void test_planted_symlinks(void **state)
{
  const nfs_case_t *c = *state;
  const char *url = need_env(c->env);
  berth_backend_t *be = backend();
  json_t *nested = params(url, "pathPattern", "${.PVC.namespace}/${.PVC.name}",
                          "onDelete", "delete", NULL);
  json_t *flat = params(url, NULL);
  berth_provision_result_t res;
  berth_delete_request_t dreq;
  berth_error_t err;
  char *outside;
  char *before_out;
  char *before_exp;
  char *after;
  char ns[64];
  char rel[256];
  json_t *pv;
  claim_t cl;

  snprintf(ns, sizeof(ns), "planted-target-%s", c->tag);
  outside = outside_dir(ns);
  snprintf(ns, sizeof(ns), "%s-planted", c->tag);
  disk_symlink(outside, disk(ns));
  snprintf(rel, sizeof(rel), "%s-planted-rel", c->tag);
  disk_symlink("../", disk(rel));
  snprintf(rel, sizeof(rel), "%s-leaf-data-pvc-0030", c->tag);
  disk_symlink(outside, disk(rel));
  snprintf(rel, sizeof(rel), "%s-file-data-pvc-0031", c->tag);
  disk_write(disk(rel), 1);
  before_out = snapshot(outside);
  before_exp = snapshot(need_env("BERTH_NFS_EXPORT_DIR"));

  /* A link as a parent component, absolute and relative. */
  claim_init(&cl, ns, "data", "pvc-0032");
  assert_int_equal(provision(be, &cl, nested, &res, &err), BERTH_EINVAL);
  print_message("planted parent: %s\n", err.message);
  assert_non_null(strstr(err.message, "symbolic link"));
  json_decref(cl.obj);
  snprintf(ns, sizeof(ns), "%s-planted-rel", c->tag);
  claim_init(&cl, ns, "data", "pvc-0033");
  assert_int_equal(provision(be, &cl, nested, &res, &err), BERTH_EINVAL);
  json_decref(cl.obj);
  /* A link, or a file, where the volume goes. */
  snprintf(ns, sizeof(ns), "%s-leaf", c->tag);
  claim_init(&cl, ns, "data", "pvc-0030");
  assert_int_equal(provision(be, &cl, flat, &res, &err), BERTH_EINVAL);
  json_decref(cl.obj);
  snprintf(ns, sizeof(ns), "%s-file", c->tag);
  claim_init(&cl, ns, "data", "pvc-0031");
  assert_int_equal(provision(be, &cl, flat, &res, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "not a directory"));
  json_decref(cl.obj);
  /* A PV whose directory goes through the link: delete and usage refuse. */
  snprintf(rel, sizeof(rel), "%s-planted/x", c->tag);
  pv = json_pack("{s:{s:s, s:{s:s, s:s, s:s}}}", "metadata", "name", "pvc-0034",
                 "annotations", BERTH_NFS_ANN_URL, url, BERTH_NFS_ANN_DIR, rel,
                 BERTH_NFS_ANN_ON_DELETE, "delete");
  snprintf(rel, sizeof(rel), "%s/x", outside);
  disk_mkdir(rel);
  free(before_out);
  before_out = snapshot(outside);
  memset(&dreq, 0, sizeof(dreq));
  dreq.pv = pv;
  assert_int_equal(berth_backend_delete(be, &dreq, NULL, &err), BERTH_EINVAL);
  {
    berth_usage_t u;

    assert_int_equal(berth_backend_usage(be, pv, NULL, &u, &err), BERTH_EINVAL);
  }
  json_decref(pv);

  after = snapshot(outside);
  assert_string_equal(after, before_out);
  free(after);
  after = snapshot(need_env("BERTH_NFS_EXPORT_DIR"));
  assert_string_equal(after, before_exp);
  free(after);
  free(before_out);
  free(before_exp);
  free(outside);
  json_decref(nested);
  json_decref(flat);
  berth_backend_destroy(be);
}

/* Every hostile value of tests/data/backends/hostile-values.txt, as an
 * annotation, a label, a namespace and a name: refused, the export
 * unchanged. */
static void test_hostile_claims(void **state)
{
  const nfs_case_t *c = *state;
  const char *url = need_env(c->env);
  berth_backend_t *be = backend();
  json_t *by_ann = params(url, "pathPattern",
                          "${.PVC.namespace}/${.PVC.annotations.dir}", NULL);
  json_t *by_label = params(url, "pathPattern", "x/${.PVC.labels.dir}", NULL);
  json_t *by_ns = params(url, "pathPattern", "${.PVC.namespace}/x", NULL);
  json_t *by_name = params(url, "pathPattern", "x/${.PVC.name}", NULL);
  berth_provision_result_t res;
  berth_error_t err;
  char *before;
  char *after;
  char ns[32];
  char *longv;
  tbd_file_t f;
  claim_t cl;
  size_t i;

  snprintf(ns, sizeof(ns), "%s-hostile", c->tag);
  before = snapshot(need_env("BERTH_NFS_EXPORT_DIR"));
  tbd_load("hostile-values.txt", &f);
  longv = malloc(300);
  assert_non_null(longv);
  memset(longv, 'l', 299);
  longv[299] = '\0';
  for (i = 0; i <= f.n; i++) {
    const char *v = i < f.n ? f.lines[i].s : longv;
    size_t len = i < f.n ? f.lines[i].len : strlen(longv);

    claim_init(&cl, ns, "data", "pvc-0040");
    claim_set(&cl, "annotations", "dir", v, len);
    claim_set(&cl, "labels", "dir", v, len);
    assert_int_equal(provision(be, &cl, by_ann, &res, &err), BERTH_EINVAL);
    assert_true(tbd_printable(err.message));
    assert_int_equal(provision(be, &cl, by_label, &res, &err), BERTH_EINVAL);
    if (strlen(v) == len) {
      snprintf(cl.ns, sizeof(cl.ns), "%.63s", v);
      if (strlen(v) < sizeof(cl.ns))
        assert_int_equal(provision(be, &cl, by_ns, &res, &err), BERTH_EINVAL);
      snprintf(cl.ns, sizeof(cl.ns), "%s", ns);
      snprintf(cl.name, sizeof(cl.name), "%.63s", v);
      if (strlen(v) < sizeof(cl.name))
        assert_int_equal(provision(be, &cl, by_name, &res, &err), BERTH_EINVAL);
    }
    json_decref(cl.obj);
  }
  after = snapshot(need_env("BERTH_NFS_EXPORT_DIR"));
  assert_string_equal(after, before);
  free(after);
  free(before);
  free(longv);
  tbd_free(&f);
  json_decref(by_ann);
  json_decref(by_label);
  json_decref(by_ns);
  json_decref(by_name);
  berth_backend_destroy(be);
}

/* gidRangeStart/End: the lowest free gid, never the same for two claims
 * in flight, the same for a repeat, reused from the directory after a
 * restart, freed by delete; a full range writes nothing. */
static void test_gid_range(void **state)
{
  const nfs_case_t *c = *state;
  uint32_t base = strcmp(c->tag, "v3") == 0 ? 6000 : 7000;
  char start[16];
  char end[16];
  berth_backend_t *be = backend();
  berth_provision_result_t res;
  berth_error_t err;
  char ns[32];
  char rel[128];
  uint32_t used[3];
  json_t *p;
  json_t *pa;
  json_t *pb;
  json_t *pc;
  claim_t a;
  claim_t b;
  claim_t cc;
  claim_t d;

  snprintf(start, sizeof(start), "%u", base);
  snprintf(end, sizeof(end), "%u", base + 2);
  p = params(need_env(c->env), "gidRangeStart", start, "gidRangeEnd", end,
             "directoryPerms", "2770", "archiveOnDelete", "false", NULL);
  snprintf(ns, sizeof(ns), "%s-gid", c->tag);
  claim_init(&a, ns, "a", "pvc-0050");
  claim_init(&b, ns, "b", "pvc-0051");
  claim_init(&cc, ns, "c", "pvc-0052");
  claim_init(&d, ns, "d", "pvc-0053");
  pa = provision_pv(be, &a, p);
  /* b before a's PV exists: a's gid is reserved all the same. */
  pb = provision_pv(be, &b, p);
  assert_int_equal(atoi(pv_ann(pa, BERTH_ANN_PV_GID)), base);
  assert_int_equal(atoi(pv_ann(pb, BERTH_ANN_PV_GID)), base + 1);
  expect_dir(pv_dir(pa), 02770, 0, base);
  expect_dir(pv_dir(pb), 02770, 0, base + 1);
  /* Now both PVs exist. c gets the last; d finds the range full and
   * creates nothing. */
  used[0] = base;
  used[1] = base + 1;
  cc.used = used;
  cc.n_used = 2;
  pc = provision_pv(be, &cc, p);
  assert_int_equal(atoi(pv_ann(pc, BERTH_ANN_PV_GID)), base + 2);
  used[2] = base + 2;
  d.used = used;
  d.n_used = 3;
  assert_int_equal(provision(be, &d, p, &res, &err), BERTH_ETOOBIG);
  print_message("full range: %s\n", err.message);
  snprintf(rel, sizeof(rel), "%s-d-pvc-0053", ns);
  expect_gone(rel);
  /* A restarted provisioner (no reservations) repeating c, whose PV was
   * never saved: the directory's gid is reused. */
  berth_backend_destroy(be);
  be = backend();
  cc.n_used = 2;
  json_decref(pc);
  pc = provision_pv(be, &cc, p);
  assert_int_equal(atoi(pv_ann(pc, BERTH_ANN_PV_GID)), base + 2);
  /* Delete a: its gid is free for d. */
  assert_int_equal(delete_pv(be, pa, p), BERTH_DELETE_DELETED);
  used[0] = base + 2;
  d.n_used = 2; /* b and c */
  json_decref(pa);
  pa = provision_pv(be, &d, p);
  assert_int_equal(atoi(pv_ann(pa, BERTH_ANN_PV_GID)), base);
  expect_dir(pv_dir(pa), 02770, 0, base);
  json_decref(pa);
  json_decref(pb);
  json_decref(pc);
  json_decref(a.obj);
  json_decref(b.obj);
  json_decref(cc.obj);
  json_decref(d.obj);
  json_decref(p);
  berth_backend_destroy(be);
}

/* Usage: bytes of regular files, entries of every kind, links not
 * followed; bounded by entries and by depth. */
static void test_usage(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_nfs_config_t cfg;
  berth_backend_t *be = backend();
  json_t *p = params(need_env(c->env), NULL);
  berth_usage_t u;
  berth_error_t err;
  char *outside;
  char a[4096];
  char ns[32];
  const char *vol;
  json_t *pv;
  claim_t cl;

  snprintf(ns, sizeof(ns), "usage-outside-%s", c->tag);
  outside = outside_dir(ns);
  snprintf(a, sizeof(a), "%s/big", outside);
  disk_write(a, 100000);
  snprintf(ns, sizeof(ns), "%s-usage", c->tag);
  claim_init(&cl, ns, "data", "pvc-0060");
  pv = provision_pv(be, &cl, p);
  vol = pv_dir(pv);
  snprintf(a, sizeof(a), "%s/f1", disk(vol));
  disk_write(a, 10);
  snprintf(a, sizeof(a), "%s/f2", disk(vol));
  disk_write(a, 200);
  snprintf(a, sizeof(a), "%s/sub", disk(vol));
  disk_mkdir(a);
  snprintf(a, sizeof(a), "%s/sub/f3", disk(vol));
  disk_write(a, 3000);
  snprintf(a, sizeof(a), "%s/sub/link", disk(vol));
  disk_symlink(outside, a);
  snprintf(a, sizeof(a), "%s/empty", disk(vol));
  disk_mkdir(a);

  berth_error_clear(&err);
  assert_ok(berth_backend_usage(be, pv, p, &u, &err), &err);
  assert_int_equal(u.bytes, 3210);
  assert_int_equal(u.files, 6); /* f1 f2 sub sub/f3 sub/link empty */
  assert_false(u.truncated);
  berth_backend_destroy(be);

  memset(&cfg, 0, sizeof(cfg));
  cfg.usage_max_entries = 2;
  be = backend_cfg(&cfg);
  assert_ok(berth_backend_usage(be, pv, p, &u, &err), &err);
  assert_int_equal(u.files, 2);
  assert_true(u.truncated);
  berth_backend_destroy(be);

  cfg.usage_max_entries = 0;
  cfg.usage_max_depth = 1;
  be = backend_cfg(&cfg);
  assert_ok(berth_backend_usage(be, pv, p, &u, &err), &err);
  assert_int_equal(u.files, 4); /* f1 f2 sub empty */
  assert_int_equal(u.bytes, 210);
  assert_true(u.truncated);

  /* A deleted volume has no usage. */
  assert_int_equal(delete_pv(be, pv, p), BERTH_DELETE_ARCHIVED);
  assert_int_equal(berth_backend_usage(be, pv, p, &u, &err), BERTH_ENOTFOUND);
  free(outside);
  json_decref(pv);
  json_decref(p);
  json_decref(cl.obj);
  berth_backend_destroy(be);
}

/* Worker threads share one backend, as the controller's do: claims in
 * flight at the same time never get the same gid, and a claim worked on
 * by two threads at once gets one directory. Assertions run on the main
 * thread (cmocka's are not thread-safe). */
#define CONC_THREADS 4
#define CONC_CLAIMS 8

typedef struct conc {
  berth_backend_t *be;
  json_t *params;
  const char *tag;
  int thread;
  berth_status_t st[CONC_CLAIMS];
  uint32_t gid[CONC_CLAIMS];
  char msg[512];
} conc_t;

static void *conc_worker(void *arg)
{
  conc_t *w = arg;
  int i;

  for (i = 0; i < CONC_CLAIMS; i++) {
    berth_provision_result_t res;
    berth_error_t err;
    char ns[32];
    char name[32];
    char pv[32];
    claim_t cl;
    /* Thread 1 repeats thread 0's claims: the same claim twice at once. */
    int owner = w->thread == 1 ? 0 : w->thread;

    snprintf(ns, sizeof(ns), "%s-conc", w->tag);
    snprintf(name, sizeof(name), "t%d-c%d", owner, i);
    snprintf(pv, sizeof(pv), "pvc-09%d%d", owner, i);
    claim_init(&cl, ns, name, pv);
    w->st[i] = provision(w->be, &cl, w->params, &res, &err);
    if (w->st[i] == BERTH_OK)
      w->gid[i] = (uint32_t)atoi(json_string_value(
          json_object_get(res.annotations, BERTH_ANN_PV_GID)));
    else
      snprintf(w->msg, sizeof(w->msg), "%s", err.message);
    berth_provision_result_cleanup(&res);
    json_decref(cl.obj);
  }
  return NULL;
}

static void test_concurrent(void **state)
{
  const nfs_case_t *c = *state;
  uint32_t base = strcmp(c->tag, "v3") == 0 ? 8000 : 9000;
  char start[16];
  char end[16];
  conc_t w[CONC_THREADS];
  pthread_t th[CONC_THREADS];
  berth_backend_t *be = backend();
  int seen[CONC_THREADS * CONC_CLAIMS];
  json_t *p;
  int t;
  int i;

  snprintf(start, sizeof(start), "%u", base);
  snprintf(end, sizeof(end), "%u", base + 99);
  p = params(need_env(c->env), "gidRangeStart", start, "gidRangeEnd", end,
             NULL);
  memset(w, 0, sizeof(w));
  memset(seen, 0, sizeof(seen));
  for (t = 0; t < CONC_THREADS; t++) {
    w[t].be = be;
    w[t].params = p;
    w[t].tag = c->tag;
    w[t].thread = t;
    assert_int_equal(pthread_create(&th[t], NULL, conc_worker, &w[t]), 0);
  }
  for (t = 0; t < CONC_THREADS; t++)
    pthread_join(th[t], NULL);
  for (t = 0; t < CONC_THREADS; t++) {
    for (i = 0; i < CONC_CLAIMS; i++) {
      if (w[t].st[i] != BERTH_OK)
        fail_msg("thread %d claim %d: %s: %s", t, i,
                 berth_status_name(w[t].st[i]), w[t].msg);
      assert_true(w[t].gid[i] >= base && w[t].gid[i] < base + 100);
      if (t != 1)
        seen[w[t].gid[i] - base]++;
    }
  }
  /* Threads 0 and 1 agree on every shared claim; no gid twice. */
  for (i = 0; i < CONC_CLAIMS; i++)
    assert_int_equal(w[0].gid[i], w[1].gid[i]);
  for (i = 0; i < CONC_THREADS * CONC_CLAIMS; i++)
    assert_true(seen[i] <= 1);
  json_decref(p);
  berth_backend_destroy(be);
}

/* The port of arg (e.g. "nfsport") in url, or 0. */
static int url_port(const char *url, const char *arg)
{
  char key[32];
  const char *p;

  snprintf(key, sizeof(key), "%s=", arg);
  p = strstr(url, key);
  return p != NULL ? atoi(p + strlen(key)) : 0;
}

/* One connection per export, reused; when the server drops it (the
 * proxy resets every connection, as a restarting server does), the next
 * call connects again and succeeds. */
static void test_reconnect(void **state)
{
  const nfs_case_t *c = *state;
  const char *url = need_env(c->env);
  berth_backend_t *be = backend();
  proxy_t nfsp;
  proxy_t mntp;
  int v3 = url_port(url, "mountport") != 0;
  char proxied[256];
  char ns[32];
  json_t *p;
  json_t *pv;
  claim_t cl;

  assert_int_equal(proxy_start(&nfsp, url_port(url, "nfsport")), 0);
  if (v3) {
    assert_int_equal(proxy_start(&mntp, url_port(url, "mountport")), 0);
    snprintf(proxied, sizeof(proxied),
             "nfs://127.0.0.1/export?nfsport=%d&mountport=%d", nfsp.port,
             mntp.port);
  } else {
    snprintf(proxied, sizeof(proxied),
             "nfs://127.0.0.1/export?version=4&nfsport=%d", nfsp.port);
  }
  p = params(proxied, NULL);
  snprintf(ns, sizeof(ns), "%s-reconnect", c->tag);

  claim_init(&cl, ns, "a", "pvc-0070");
  pv = provision_pv(be, &cl, p);
  json_decref(pv);
  json_decref(cl.obj);
  assert_int_equal(proxy_accepts(&nfsp), 1);
  claim_init(&cl, ns, "b", "pvc-0071");
  pv = provision_pv(be, &cl, p);
  json_decref(pv);
  json_decref(cl.obj);
  assert_int_equal(proxy_accepts(&nfsp), 1); /* reused */

  proxy_cut(&nfsp);
  claim_init(&cl, ns, "c", "pvc-0072");
  pv = provision_pv(be, &cl, p); /* must succeed: reconnected */
  expect_dir(pv_dir(pv), 0777, 0, 0);
  json_decref(pv);
  json_decref(cl.obj);
  assert_int_equal(proxy_accepts(&nfsp), 2);
  print_message("%s: reconnected after a reset\n", c->tag);

  berth_backend_destroy(be);
  json_decref(p);
  proxy_stop(&nfsp);
  if (v3)
    proxy_stop(&mntp);
}

/* ganesha stops answering (SIGSTOP): a call ends with BERTH_ETIMEOUT at
 * the timeout; once it answers again (SIGCONT), the next call connects
 * anew and succeeds. */
static pid_t stopped_server;

static int resume_server(void **state)
{
  (void)state;
  if (stopped_server > 0)
    kill(stopped_server, SIGCONT);
  stopped_server = 0;
  return 0;
}

static void test_server_pause(void **state)
{
  const nfs_case_t *c = *state;
  berth_backend_nfs_config_t cfg;
  berth_backend_t *be;
  json_t *p = params(need_env(c->env), NULL);
  berth_provision_result_t res;
  berth_error_t err;
  long long pid = 0;
  char ns[32];
  json_t *pv;
  claim_t cl;

  assert_int_equal(
      berth_str_to_ll(need_env("BERTH_NFS_PID"), 1, INT32_MAX, &pid), BERTH_OK);
  memset(&cfg, 0, sizeof(cfg));
  cfg.timeout_ms = 1000;
  be = backend_cfg(&cfg);
  snprintf(ns, sizeof(ns), "%s-pause", c->tag);
  claim_init(&cl, ns, "a", "pvc-0080");
  pv = provision_pv(be, &cl, p);
  json_decref(pv);
  json_decref(cl.obj);

  stopped_server = (pid_t)pid;
  assert_int_equal(kill(stopped_server, SIGSTOP), 0);
  wait_stopped(stopped_server);
  claim_init(&cl, ns, "b", "pvc-0081");
  assert_int_equal(provision(be, &cl, p, &res, &err), BERTH_ETIMEOUT);
  print_message("%s: paused server: %s\n", c->tag, err.message);
  resume_server(NULL);
  pv = provision_pv(be, &cl, p);
  expect_dir(pv_dir(pv), 0777, 0, 0);
  json_decref(pv);
  json_decref(cl.obj);
  json_decref(p);
  berth_backend_destroy(be);
}

#define BOTH(fn)                                                               \
  {#fn "/v3", fn, NULL, NULL, (void *)&case_v3},                               \
  {                                                                            \
#fn "/v4", fn, NULL, NULL, (void *)&case_v4                                \
  }

int main(void)
{
  const struct CMUnitTest tests[] = {
      BOTH(test_provision_default),
      BOTH(test_provision_owner_perms),
      BOTH(test_nested_pattern),
      BOTH(test_provision_idempotent),
      BOTH(test_delete_tree_with_links),
      BOTH(test_delete_policies),
      BOTH(test_delete_nfs_subdir_pv),
      BOTH(test_planted_symlinks),
      BOTH(test_hostile_claims),
      BOTH(test_gid_range),
      BOTH(test_usage),
      BOTH(test_concurrent),
      BOTH(test_reconnect),
      {"test_server_pause/v3", test_server_pause, NULL, resume_server,
       (void *)&case_v3},
      {"test_server_pause/v4", test_server_pause, NULL, resume_server,
       (void *)&case_v4},
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
