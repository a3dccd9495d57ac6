/* SPDX-License-Identifier: Apache-2.0 */
/* The EFS backend: access points (efs-ap, as aws-efs-csi-driver) and
 * sub-directories through the NFS backend (efs-dir). See backends/efs.h.
 *
 * efs-ap provision: parameters -> an access point already made for this
 * PV (its ClientToken is the PV name) or a new one, under a lock so that
 * two claims never get the same gid -> wait (bounded) for "available" ->
 * a csi PV source fs-...::fsap-....
 *
 * efs-dir: the class's parameters are translated to the NFS backend's
 * (server <fs>.efs.<region>.amazonaws.com, NFSv4, or the given server or
 * url; pathPattern from basePath and subPathPattern) and the call goes to
 * an NFS backend this one owns. The PV is a plain nfs volume. */
#include "backends/efs.h"
#include "backends/efs_records.h"
#include "backends/nfs.h"

#include "berth/aws.h"
#include "berth/aws_efs.h"
#include "berth/buf.h"
#include "berth/clock.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EFSB_PATH_MAX 1024
#define EFSB_AP_TIMEOUT_MS 30000

typedef struct efsb_backend {
  berth_backend_t base; /* first: the vtable */
  berth_aws_t *aws;
  berth_backend_t *nfs;         /* efs-dir */
  pthread_mutex_t lock;         /* gid allocation + CreateAccessPoint */
  char *cluster_tag;            /* "kubernetes.io/cluster/<id>", or NULL */
  berth_efs_records_t *records; /* the sweep's (efs_records.c) */
} efsb_backend_t;

typedef struct efsb_opts {
  bool dir_mode;
  const char *fs_id;
  const char *perms;
  uint32_t gid_lo, gid_hi;
  bool has_uid, has_gid;
  uint32_t uid, gid;
  const char *base_path;
  const char *pattern;
  bool ensure_unique;
  const char *server;
  const char *url;
  bool reuse_ap;
} efsb_opts_t;

static const char *const efsb_known[] = {"provisioningMode",
                                         "fileSystemId",
                                         "directoryPerms",
                                         "gidRangeStart",
                                         "gidRangeEnd",
                                         "basePath",
                                         "subPathPattern",
                                         "ensureUniqueDirectory",
                                         "uid",
                                         "gid",
                                         "server",
                                         "url",
                                         "onDelete",
                                         "archiveOnDelete",
                                         "reuseAccessPoint",
                                         NULL};

/* ---- parameters -------------------------------------------------------- */

static berth_status_t efsb_id(const char *key, const char *v, uint32_t *out,
                              berth_error_t *err)
{
  long long n;

  if (berth_str_to_ll(v, 0, 4294967294LL, &n) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter %s: \"%.40s\" is not an id from 0 "
                           "to 4294967294",
                           key, v);
  *out = (uint32_t)n;
  return BERTH_OK;
}

/* Go's strconv.ParseBool, which the driver uses for its flags. */
static berth_status_t efsb_bool(const char *key, const char *v, bool *out,
                                berth_error_t *err)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  size_t i;

  for (i = 0; i < 6; i++) {
    if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
      *out = strcmp(v, yes[i]) == 0;
      return BERTH_OK;
    }
  }
  return berth_error_set(err, BERTH_EINVAL,
                         "efs: parameter %s: \"%.40s\" is not true or false",
                         key, v);
}

static bool efsb_octal_ok(const char *s)
{
  size_t n = strlen(s);

  return n >= 3 && n <= 4 && strspn(s, "01234567") == n;
}

static berth_status_t efsb_opts_parse(const json_t *params, efsb_opts_t *o,
                                      berth_error_t *err)
{
  const char *mode, *v;
  berth_status_t st;

  memset(o, 0, sizeof(*o));
  o->gid_lo = BERTH_EFS_GID_MIN_DEFAULT;
  o->gid_hi = BERTH_EFS_GID_MAX_DEFAULT;
  o->ensure_unique = true;
  st = berth_backend_check_parameters("efs", params, efsb_known, err);
  if (st != BERTH_OK)
    return st;
  mode = berth_backend_parameter(params, "provisioningMode");
  if (mode == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter provisioningMode is required "
                           "(efs-ap or efs-dir)");
  if (strcmp(mode, "efs-dir") == 0)
    o->dir_mode = true;
  else if (strcmp(mode, "efs-ap") != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter provisioningMode: \"%.40s\" is not "
                           "efs-ap or efs-dir",
                           mode);
  o->fs_id = berth_backend_parameter(params, "fileSystemId");
  o->perms = berth_backend_parameter(params, "directoryPerms");
  o->base_path = berth_backend_parameter(params, "basePath");
  o->pattern = berth_backend_parameter(params, "subPathPattern");
  o->server = berth_backend_parameter(params, "server");
  o->url = berth_backend_parameter(params, "url");
  if (o->fs_id != NULL &&
      (strncmp(o->fs_id, "fs-", 3) != 0 || strlen(o->fs_id) > 40 ||
       strspn(o->fs_id + 3, "0123456789abcdef") != strlen(o->fs_id + 3)))
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter fileSystemId: \"%.40s\" is not an "
                           "EFS file system id (fs-...)",
                           o->fs_id);
  if (o->perms != NULL && !efsb_octal_ok(o->perms))
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter directoryPerms: \"%.40s\" is not "
                           "octal permissions (700)",
                           o->perms);
  if ((v = berth_backend_parameter(params, "uid")) != NULL) {
    o->has_uid = true;
    if ((st = efsb_id("uid", v, &o->uid, err)) != BERTH_OK)
      return st;
  }
  if ((v = berth_backend_parameter(params, "gid")) != NULL) {
    o->has_gid = true;
    if ((st = efsb_id("gid", v, &o->gid, err)) != BERTH_OK)
      return st;
  }
  if ((v = berth_backend_parameter(params, "gidRangeStart")) != NULL &&
      (st = efsb_id("gidRangeStart", v, &o->gid_lo, err)) != BERTH_OK)
    return st;
  if ((v = berth_backend_parameter(params, "gidRangeEnd")) != NULL &&
      (st = efsb_id("gidRangeEnd", v, &o->gid_hi, err)) != BERTH_OK)
    return st;
  if (o->gid_lo > o->gid_hi)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter gidRangeStart is above "
                           "gidRangeEnd");
  if ((v = berth_backend_parameter(params, "ensureUniqueDirectory")) != NULL &&
      (st = efsb_bool("ensureUniqueDirectory", v, &o->ensure_unique, err)) !=
          BERTH_OK)
    return st;
  if ((v = berth_backend_parameter(params, "reuseAccessPoint")) != NULL &&
      (st = efsb_bool("reuseAccessPoint", v, &o->reuse_ap, err)) != BERTH_OK)
    return st;
  if (o->dir_mode && v != NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter reuseAccessPoint is for efs-ap "
                           "only");
  if (!o->dir_mode && o->fs_id == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter fileSystemId is required for "
                           "efs-ap");
  if (!o->dir_mode && o->perms == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameter directoryPerms is required for "
                           "efs-ap");
  if (o->dir_mode && o->fs_id == NULL && o->server == NULL && o->url == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: efs-dir needs fileSystemId, server or url");
  if (!o->dir_mode && (o->server != NULL || o->url != NULL))
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: parameters server and url are for efs-dir "
                           "only");
  if (o->base_path != NULL &&
      berth_efs_expand_path(o->base_path, "", "", "", (char[EFSB_PATH_MAX]){0},
                            EFSB_PATH_MAX, err) != BERTH_OK) {
    berth_error_prefix(err, "efs: parameter basePath");
    return BERTH_EINVAL;
  }
  if (o->pattern != NULL &&
      berth_efs_expand_path(o->pattern, "a", "b", "c", (char[EFSB_PATH_MAX]){0},
                            EFSB_PATH_MAX, err) != BERTH_OK) {
    berth_error_prefix(err, "efs: parameter subPathPattern");
    return BERTH_EINVAL;
  }
  return BERTH_OK;
}

berth_status_t berth_efs_expand_path(const char *pattern, const char *pvc_name,
                                     const char *pvc_namespace,
                                     const char *pv_name, char *out,
                                     size_t size, berth_error_t *err)
{
  static const char *const names[] = {".PVC.name", ".PVC.namespace",
                                      ".PV.name"};
  const char *vals[] = {pvc_name, pvc_namespace, pv_name};
  size_t o = 0, i, n;
  const char *s = pattern, *val, *c;

  while (*s != '\0') {
    if (s[0] == '$' && s[1] == '{') {
      const char *e = strchr(s, '}');
      if (e == NULL)
        return berth_error_set(err, BERTH_EINVAL,
                               "unterminated ${ in \"%.60s\"", pattern);
      val = NULL;
      for (i = 0; i < 3; i++)
        if ((size_t)(e - s - 2) == strlen(names[i]) &&
            memcmp(s + 2, names[i], strlen(names[i])) == 0)
          val = vals[i] != NULL ? vals[i] : "";
      if (val == NULL)
        return berth_error_set(err, BERTH_EINVAL,
                               "unknown variable %.*s (known: ${.PVC.name}, "
                               "${.PVC.namespace}, ${.PV.name})",
                               (int)(e - s + 1 > 40 ? 40 : e - s + 1), s);
      n = strlen(val);
      s = e + 1;
    } else {
      val = s;
      n = 1;
      s++;
    }
    if (o + n >= size)
      return berth_error_set(err, BERTH_EINVAL, "path too long");
    memcpy(out + o, val, n);
    o += n;
  }
  out[o] = '\0';
  /* No "." or ".." component and nothing but printable characters: the
   * path can never leave the file system's tree. */
  for (c = out; *c != '\0'; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return berth_error_set(err, BERTH_EINVAL,
                             "control character in path \"%.60s\"", pattern);
  for (c = out; *c != '\0'; c += n) {
    while (*c == '/')
      c++;
    n = strcspn(c, "/");
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return berth_error_set(err, BERTH_EINVAL,
                             "\".\" or \"..\" in path \"%.60s\"", pattern);
  }
  return BERTH_OK;
}

berth_status_t berth_efs_pick_gid(uint32_t lo, uint32_t hi,
                                  const uint32_t *used, size_t n, uint32_t *out,
                                  berth_error_t *err)
{
  uint64_t g;
  size_t i;

  for (g = lo; g <= hi; g++) {
    for (i = 0; i < n && used[i] != g; i++)
      ;
    if (i == n) {
      *out = (uint32_t)g;
      return BERTH_OK;
    }
  }
  return berth_error_set(err, BERTH_EPERM,
                         "efs: every gid from %u to %u is in use", lo, hi);
}

/* ---- efs-dir: the NFS backend's parameters ----------------------------- */

static berth_status_t efsb_nfs_params(efsb_backend_t *b, const json_t *params,
                                      json_t **out, berth_error_t *err)
{
  static const char *const pass[] = {
      "directoryPerms",  "uid",         "gid",
      "gidRangeStart",   "gidRangeEnd", "onDelete",
      "archiveOnDelete", NULL};
  efsb_opts_t o;
  json_t *np;
  char host[256], pat[EFSB_PATH_MAX];
  const char *v;
  size_t i;
  int rc = 0;
  berth_status_t st;

  st = efsb_opts_parse(params, &o, err);
  if (st != BERTH_OK)
    return st;
  if (!o.dir_mode)
    return berth_error_set(err, BERTH_EINVAL, "efs: not an efs-dir class");
  np = json_object();
  if (np == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (o.url != NULL) {
    rc |= json_object_set_new(np, "url", json_string(o.url));
  } else {
    if (o.server != NULL)
      snprintf(host, sizeof(host), "%s", o.server);
    else
      snprintf(host, sizeof(host), "%s.efs.%s.amazonaws.com", o.fs_id,
               berth_aws_region(b->aws));
    rc |= json_object_set_new(np, "server", json_string(host));
    rc |= json_object_set_new(np, "share", json_string("/"));
    rc |= json_object_set_new(np, "nfsvers", json_string("4"));
  }
  {
    /* aws-efs-csi-driver's efs-dir makes <basePath>/<PV name>; berth also
     * takes a subPathPattern there. */
    const char *bp = o.base_path != NULL ? o.base_path : "";
    while (*bp == '/')
      bp++;
    snprintf(pat, sizeof(pat), "%s%s%s", bp,
             bp[0] != '\0' && bp[strlen(bp) - 1] != '/' ? "/" : "",
             o.pattern != NULL ? o.pattern : "${.PV.name}");
    rc |= json_object_set_new(np, "pathPattern", json_string(pat));
  }
  for (i = 0; pass[i] != NULL; i++)
    if ((v = berth_backend_parameter(params, pass[i])) != NULL)
      rc |= json_object_set_new(np, pass[i], json_string(v));
  if (rc != 0) {
    json_decref(np);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  *out = np;
  return BERTH_OK;
}

/* ---- vtable ------------------------------------------------------------ */

static berth_status_t
efsb_validate(berth_backend_t *be, const json_t *parameters, berth_error_t *err)
{
  efsb_backend_t *b = (efsb_backend_t *)be;
  efsb_opts_t o;
  json_t *np = NULL;
  berth_status_t st;

  st = efsb_opts_parse(parameters, &o, err);
  if (st == BERTH_OK && o.dir_mode) {
    st = efsb_nfs_params(b, parameters, &np, err);
    if (st == BERTH_OK)
      st = berth_backend_validate(b->nfs, np, err);
    json_decref(np);
  }
  return st;
}

/* The access point made for token on the file system, if any (NULL when
 * none); every gid in use in *used (new array, free it). */
static berth_status_t efsb_scan(efsb_backend_t *b, const char *fs_id,
                                const char *token,
                                berth_efs_access_point_t *found, bool *has,
                                uint32_t **used, size_t *n_used,
                                berth_error_t *err)
{
  berth_efs_access_point_list_t l;
  char *next = NULL;
  uint32_t *u = NULL;
  size_t n = 0, cap = 0, i;
  berth_status_t st;

  *has = false;
  do {
    memset(&l, 0, sizeof(l));
    st = berth_efs_describe_access_points(b->aws, fs_id, NULL, 100, next, &l,
                                          err);
    free(next);
    next = NULL;
    if (st != BERTH_OK)
      break;
    for (i = 0; i < l.count; i++) {
      berth_efs_access_point_t *ap = &l.items[i];
      if (!*has && ap->client_token != NULL &&
          strcmp(ap->client_token, token) == 0 &&
          (ap->life_cycle_state == NULL ||
           strcmp(ap->life_cycle_state, "deleting") != 0)) {
        *found = *ap;
        memset(ap, 0, sizeof(*ap));
        *has = true;
        continue;
      }
      if (ap->has_posix_user) {
        if (n == cap) {
          uint32_t *nu = realloc(u, (cap = cap * 2 + 16) * sizeof(*u));
          if (nu == NULL) {
            st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
            break;
          }
          u = nu;
        }
        u[n++] = (uint32_t)ap->posix_gid;
      }
    }
    if (st == BERTH_OK && l.next_token != NULL &&
        (next = strdup(l.next_token)) == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    berth_efs_access_point_list_cleanup(&l);
  } while (st == BERTH_OK && next != NULL);
  free(next);
  if (st != BERTH_OK) {
    free(u);
    if (*has)
      berth_efs_access_point_cleanup(found);
    *has = false;
    return st;
  }
  *used = u;
  *n_used = n;
  return BERTH_OK;
}

/* hex(sha256(s)), 64 characters + NUL. */
static void efsb_sha256_hex(const char *s, char out[65])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;

  if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1)
    len = 0;
  for (i = 0; i < len && i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[2 * i] = '\0';
}

static berth_status_t efsb_make_ap(efsb_backend_t *b,
                                   const berth_provision_request_t *req,
                                   const efsb_opts_t *o,
                                   berth_efs_access_point_t *ap,
                                   berth_error_t *err)
{
  berth_efs_create_access_point_params_t cp;
  berth_aws_kv_t tags[7];
  char token[65], sub[EFSB_PATH_MAX], root[EFSB_PATH_MAX + 64];
  uint32_t *used = NULL, gid = 0;
  size_t n_used = 0, n_tags;
  bool has = false;
  const char *bp;
  berth_status_t st;

  /* reuseAccessPoint: the driver's ClientToken is a hash of the claim's
   * name, so that a claim of the same name (another cluster, a restored
   * one) finds the access point again. */
  if (o->reuse_ap)
    efsb_sha256_hex(req->claim_name, token);
  else
    snprintf(token, sizeof(token), "%s", req->pv_name);
  bp = o->base_path != NULL ? o->base_path : "";
  while (*bp == '/')
    bp++;
  if (o->pattern == NULL) {
    /* As the driver: <basePath>/<PV name>, nothing appended. */
    snprintf(root, sizeof(root), "/%s%s%s", bp,
             bp[0] != '\0' && bp[strlen(bp) - 1] != '/' ? "/" : "",
             req->pv_name);
  } else {
    st =
        berth_efs_expand_path(o->pattern, req->claim_name, req->claim_namespace,
                              req->pv_name, sub, sizeof(sub), err);
    if (st != BERTH_OK) {
      berth_error_prefix(err, "efs: subPathPattern");
      return BERTH_EINVAL;
    }
    /* ensureUniqueDirectory (default true) appends an id to the pattern's
     * directory: the driver a random UUID, berth the claim's uid, so a
     * repeat finds the same directory. */
    snprintf(root, sizeof(root), "/%s%s%s%s%s", bp,
             bp[0] != '\0' && bp[strlen(bp) - 1] != '/' ? "/" : "",
             sub[0] == '/' ? sub + 1 : sub, o->ensure_unique ? "-" : "",
             o->ensure_unique ? req->claim_uid : "");
  }
  pthread_mutex_lock(&b->lock);
  st = efsb_scan(b, o->fs_id, token, ap, &has, &used, &n_used, err);
  if (st == BERTH_OK && !has) {
    if (o->has_gid)
      gid = o->gid;
    else
      st = berth_efs_pick_gid(o->gid_lo, o->gid_hi, used, n_used, &gid, err);
  }
  if (st == BERTH_OK && !has) {
    tags[0] = (berth_aws_kv_t){"efs.csi.aws.com/cluster", "true"};
    tags[1] = (berth_aws_kv_t){"CSIVolumeName", req->pv_name};
    tags[2] =
        (berth_aws_kv_t){"kubernetes.io/created-for/pvc/name", req->claim_name};
    tags[3] = (berth_aws_kv_t){"kubernetes.io/created-for/pvc/namespace",
                               req->claim_namespace};
    tags[4] =
        (berth_aws_kv_t){"kubernetes.io/created-for/pv/name", req->pv_name};
    n_tags = 5;
    /* This cluster's, and the sweep's record until the PV is saved
     * (efs_records.h); none for an access point meant to outlive its
     * claim. */
    if (b->cluster_tag != NULL && !o->reuse_ap) {
      tags[n_tags++] = (berth_aws_kv_t){b->cluster_tag, "owned"};
      tags[n_tags++] =
          (berth_aws_kv_t){BERTH_EFS_TAG_PROVISIONING, req->claim_uid};
    }
    memset(&cp, 0, sizeof(cp));
    cp.client_token = token;
    cp.file_system_id = o->fs_id;
    cp.set_posix_user = true;
    cp.uid = o->has_uid ? o->uid : gid;
    cp.gid = gid;
    cp.root_path = root;
    cp.set_creation_info = true;
    cp.owner_uid = cp.uid;
    cp.owner_gid = gid;
    cp.permissions = o->perms;
    cp.tags = tags;
    cp.tag_count = n_tags;
    st = berth_efs_create_access_point(b->aws, &cp, ap, err);
  }
  pthread_mutex_unlock(&b->lock);
  free(used);
  return st;
}

/* Poll until the access point is available (bounded). */
static berth_status_t efsb_wait_ap(efsb_backend_t *b,
                                   berth_efs_access_point_t *ap,
                                   berth_error_t *err)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + EFSB_AP_TIMEOUT_MS;
  int64_t pause = 100;
  berth_status_t st = BERTH_OK;

  while (ap->life_cycle_state != NULL &&
         strcmp(ap->life_cycle_state, "available") != 0) {
    berth_efs_access_point_list_t l;
    if (strcmp(ap->life_cycle_state, "creating") != 0)
      return berth_error_set(err, BERTH_EIO, "efs: access point %s is %s",
                             ap->access_point_id, ap->life_cycle_state);
    if (berth_clock_monotonic_ms(NULL) >= deadline)
      return berth_error_set(err, BERTH_ETIMEOUT,
                             "efs: access point %s still creating",
                             ap->access_point_id);
    berth_clock_sleep_ms(NULL, pause);
    pause = pause * 2 > 1000 ? 1000 : pause * 2;
    memset(&l, 0, sizeof(l));
    st = berth_efs_describe_access_points(b->aws, NULL, ap->access_point_id, 0,
                                          NULL, &l, err);
    if (st == BERTH_ENOTFOUND)
      continue;
    if (st != BERTH_OK)
      return st;
    if (l.count > 0) {
      berth_efs_access_point_cleanup(ap);
      *ap = l.items[0];
      memset(&l.items[0], 0, sizeof(l.items[0]));
    }
    berth_efs_access_point_list_cleanup(&l);
  }
  return st;
}

static berth_status_t efsb_provision(berth_backend_t *be,
                                     const berth_provision_request_t *req,
                                     berth_provision_result_t *out,
                                     berth_error_t *err)
{
  efsb_backend_t *b = (efsb_backend_t *)be;
  berth_efs_access_point_t ap;
  berth_provision_result_t res;
  efsb_opts_t o;
  char handle[160];
  berth_status_t st;

  st = efsb_opts_parse(req->parameters, &o, err);
  if (st != BERTH_OK)
    return st;
  if (o.dir_mode) {
    berth_provision_request_t nreq = *req;
    json_t *np = NULL;
    st = efsb_nfs_params(b, req->parameters, &np, err);
    if (st == BERTH_OK) {
      nreq.parameters = np;
      st = berth_backend_provision(b->nfs, &nreq, out, err);
    }
    json_decref(np);
    return st;
  }
  memset(&ap, 0, sizeof(ap));
  berth_provision_result_init(&res);
  st = efsb_make_ap(b, req, &o, &ap, err);
  if (st == BERTH_OK)
    st = efsb_wait_ap(b, &ap, err);
  if (st != BERTH_OK)
    goto done;
  if (b->cluster_tag != NULL && !o.reuse_ap)
    berth__efs_records_made(b->records, req->pv_name, ap.access_point_id);
  snprintf(handle, sizeof(handle), "%s::%s", o.fs_id, ap.access_point_id);
  res.source = json_pack("{s:{s:s,s:s}}", "csi", "driver", BERTH_EFS_DRIVER,
                         "volumeHandle", handle);
  res.annotations =
      json_pack("{s:s}", BERTH_EFS_ANN_ACCESS_POINT, ap.access_point_id);
  res.capacity_bytes = req->requested_bytes;
  if (res.source == NULL || res.annotations == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  *out = res;
  berth_provision_result_init(&res);
done:
  berth_provision_result_cleanup(&res);
  berth_efs_access_point_cleanup(&ap);
  return st;
}

/* The access point id of an efs-ap PV, or NULL. */
static const char *efsb_pv_ap(const json_t *pv)
{
  json_t *csi = json_object_get(json_object_get(pv, "spec"), "csi");
  const char *drv = json_string_value(json_object_get(csi, "driver"));
  const char *h = json_string_value(json_object_get(csi, "volumeHandle"));
  const char *sep;

  if (drv == NULL || strcmp(drv, BERTH_EFS_DRIVER) != 0 || h == NULL)
    return NULL;
  sep = strstr(h, "::");
  return sep != NULL && strncmp(sep + 2, "fsap-", 5) == 0 ? sep + 2 : NULL;
}

static berth_status_t efsb_delete(berth_backend_t *be,
                                  const berth_delete_request_t *req,
                                  berth_delete_outcome_t *out,
                                  berth_error_t *err)
{
  efsb_backend_t *b = (efsb_backend_t *)be;
  const char *ap = efsb_pv_ap(req->pv);
  char id[128];
  berth_status_t st;

  if (ap == NULL) {
    /* efs-dir: a plain nfs PV, recorded by the NFS backend. */
    berth_delete_request_t nreq = *req;
    json_t *np = NULL;
    if (req->parameters != NULL &&
        efsb_nfs_params(b, req->parameters, &np, err) != BERTH_OK)
      np = NULL;
    nreq.parameters = np;
    st = berth_backend_delete(b->nfs, &nreq, out, err);
    json_decref(np);
    return st;
  }
  snprintf(id, sizeof(id), "%s", ap);
  st = berth_efs_delete_access_point(b->aws, id, err);
  if (st == BERTH_OK && out != NULL)
    *out = BERTH_DELETE_DELETED;
  if (st == BERTH_ENOTFOUND) {
    st = BERTH_OK;
    if (out != NULL)
      *out = BERTH_DELETE_ABSENT;
  }
  return st;
}

static berth_status_t efsb_usage(berth_backend_t *be, const json_t *pv,
                                 const json_t *parameters, berth_usage_t *out,
                                 berth_error_t *err)
{
  efsb_backend_t *b = (efsb_backend_t *)be;
  json_t *np = NULL;
  berth_status_t st;

  if (efsb_pv_ap(pv) != NULL)
    return berth_error_set(err, BERTH_EPERM,
                           "efs: usage of access points is not measured");
  if (parameters != NULL &&
      efsb_nfs_params(b, parameters, &np, err) != BERTH_OK)
    np = NULL;
  st = berth_backend_usage(b->nfs, pv, np, out, err);
  json_decref(np);
  return st;
}

static void efsb_destroy(berth_backend_t *be)
{
  efsb_backend_t *b = (efsb_backend_t *)be;

  berth_backend_destroy(b->nfs);
  berth_aws_destroy(b->aws);
  berth__efs_records_destroy(b->records);
  free(b->cluster_tag);
  pthread_mutex_destroy(&b->lock);
  free(b);
}

/* EFS is a file system: a Block claim is refused (the driver offers
 * only mount access; nfs-subdir refuses Block too). */
static berth_status_t efsb_check_claim(berth_backend_t *be,
                                       const berth_provision_request_t *req,
                                       berth_error_t *err)
{
  (void)be;
  if (req->block)
    return berth_error_set(err, BERTH_EINVAL,
                           "efs: spec.volumeMode Block is not supported (EFS "
                           "is a file system)");
  return BERTH_OK;
}

berth_status_t berth_backend_efs_create(berth_backend_t **out,
                                        berth_error_t *err)
{
  efsb_backend_t *b = calloc(1, sizeof(*b));
  berth_backend_nfs_config_t nc;
  berth_aws_options_t opts;
  berth_status_t st;

  if (b == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  b->base.ops = &berth_backend_efs_ops;
  pthread_mutex_init(&b->lock, NULL);
  memset(&nc, 0, sizeof(nc));
  st = berth_backend_nfs_create(&nc, &b->nfs, err);
  if (st == BERTH_OK && berth__efs_records_create(&b->records) != BERTH_OK)
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (st == BERTH_OK) {
    berth_aws_options_init(&opts);
    st = berth_aws_create(&opts, &b->aws, err);
  }
  if (st != BERTH_OK) {
    berth_error_prefix(err, "efs");
    efsb_destroy(&b->base);
    return st;
  }
  *out = &b->base;
  return BERTH_OK;
}

/* Access points (efs-ap) or directories (efs-dir); the AWS client from
 * the environment. */
static berth_status_t efsb_make(const berth_backend_settings_t *settings,
                                berth_backend_t **out, berth_error_t *err)
{
  const char *id = settings != NULL ? settings->cluster_id : NULL;
  efsb_backend_t *b;
  berth_status_t st;

  st = berth_backend_efs_create(out, err);
  if (st != BERTH_OK || id == NULL || id[0] == '\0')
    return st;
  /* The cluster id (BERTH_CLUSTER_ID) tags the access points as EBS tags
   * its disks, so that the sweep knows this cluster's. */
  b = (efsb_backend_t *)*out;
  b->cluster_tag = berth_strdup_printf("kubernetes.io/cluster/%s", id);
  if (b->cluster_tag == NULL) {
    efsb_destroy(*out);
    *out = NULL;
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  return BERTH_OK;
}

/* The sweep's records: efs-ap classes' access point tags
 * (efs_records.c), efs-dir classes' NFS journal. */
static berth_status_t efsb_records(berth_backend_t *be,
                                   berth_records_request_t *req,
                                   berth_error_t *err)
{
  efsb_backend_t *b = (efsb_backend_t *)be;
  berth_records_request_t nreq = *req;
  json_t *np = NULL;
  efsb_opts_t o;
  berth_status_t st;

  st = efsb_opts_parse(req->parameters, &o, err);
  if (st != BERTH_OK)
    return st;
  if (!o.dir_mode)
    return berth__efs_records(b->aws, b->cluster_tag, b->records, o.fs_id, req,
                              err);
  st = efsb_nfs_params(b, req->parameters, &np, err);
  if (st == BERTH_OK) {
    nreq.parameters = np;
    st = berth_backend_records(b->nfs, &nreq, err);
    req->records = nreq.records;
  }
  json_decref(np);
  return st;
}

/* No expand: EFS grows by itself. */
const berth_backend_ops_t berth_backend_efs_ops = {
    .name = "efs",
    .summary = "EFS access points or directories",
    .inspect = &berth_backend_efs_inspect,
    .create = efsb_make,
    .validate = efsb_validate,
    .provision = efsb_provision,
    .delete_volume = efsb_delete,
    .usage = efsb_usage,
    .destroy = efsb_destroy,
    .check_claim = efsb_check_claim,
    .records = efsb_records,
};
