/* SPDX-License-Identifier: Apache-2.0 */
/* The NFS backend as berthctl sees it (see inspect.h).
 *
 * A volume is a directory on an export. Where it is comes from the
 * annotations provision writes on the PV (nfs.berth.io/url and
 * nfs.berth.io/directory), or, for a PV made by nfs-subdir, from its
 * spec.nfs under its class's export. Usage, delete and archive go through
 * the backend's own operations (nfs.c), with their path checks; this file
 * adds only reads: stat for "does it exist", and a listing of each export
 * for orphans. Nothing here follows a symbolic link: readdir reports
 * links as links (READDIRPLUS), and they are never descended. */
#include "backends/nfs_int.h"

#include "backends/nfs.h"
#include "berth/buf.h"
#include "berth/k8s_names.h"
#include "berth/json.h"
#include "berth/nfs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* An operator waits at a terminal: a dead server should not hold a
 * listing for the library's default 10 s per call. */
#define NFSI_TIMEOUT_MS 5000

/* ---- exports ----------------------------------------------------------- */

/* "/a/b/" -> "/a/b"; "" -> "/". New string. */
char *berth__nfsi_trim_path(const char *p, size_t n)
{
  while (n > 1 && p[n - 1] == '/')
    n--;
  if (n == 0)
    return strdup("/");
  return strndup(p, n);
}

berth_status_t berth__nfsi_export_of_url(const char *url,
                                         berth_backend_nfs_export_t *out,
                                         berth_error_t *err)
{
  json_t *params = json_pack("{s:s}", "url", url);
  berth_status_t st = params != NULL
                          ? berth_backend_nfs_export(NULL, params, out, err)
                          : berth_error_set(err, BERTH_ENOMEM, "out of memory");

  json_decref(params);
  return st;
}

berth_status_t berth__nfsi_class_export(const json_t *defaults,
                                        const json_t *sclass,
                                        berth_backend_nfs_export_t *out,
                                        berth_error_t *err)
{
  const json_t *params = berth_inspect_class_parameters(sclass);

  if (berth_backend_nfs_names_export(params) || defaults != NULL)
    return berth_backend_nfs_export(defaults, params, out, err);
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

const char *berth__nfsi_below_export(const berth_backend_nfs_export_t *exp,
                                     const char *server, const char *path)
{
  size_t n = strcmp(exp->path, "/") == 0 ? 0 : strlen(exp->path);

  if (server == NULL || path == NULL ||
      !berth_str_case_eq(server, exp->server) ||
      strncmp(path, exp->path, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
    return NULL;
  return path + n + 1;
}

/* ---- connections ------------------------------------------------------- */

/* The connection to url, made once per run; a failure is remembered so
 * that a dead server costs one timeout, not one per volume. */
berth_nfs_t *berth__nfsi_conn(berth__nfsi_t *b, const char *url,
                              berth_error_t *err)
{
  berth__nfsi_conn_t *grown;
  berth__nfsi_conn_t *c;
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

berth_status_t berth__nfsi_pv_target(const json_t *defaults, const json_t *pv,
                                     const json_t *sclass, char **url,
                                     char **dir, berth_error_t *err)
{
  const char *aurl = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_URL);
  const char *adir = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_DIR);
  const char *server = NULL;
  const char *path = NULL;
  const char *rel;
  berth_backend_nfs_export_t exp;
  berth_status_t st;

  memset(&exp, 0, sizeof(exp));
  *url = NULL;
  *dir = NULL;
  if (aurl != NULL && adir != NULL) {
    *url = strdup(aurl);
    *dir = strdup(adir);
    goto done;
  }
  /* Made by nfs-subdir (or by hand): spec.nfs below the class's export. */
  if (berth_json_get_string(pv, "spec.nfs.server", &server, NULL) != BERTH_OK ||
      berth_json_get_string(pv, "spec.nfs.path", &path, NULL) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "the PV has neither %s nor spec.nfs",
                           BERTH_NFS_ANN_DIR);
  st = berth__nfsi_class_export(defaults, sclass, &exp, err);
  if (st != BERTH_OK)
    return st;
  rel = berth__nfsi_below_export(&exp, server, path);
  if (rel == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "spec.nfs %s:%s is not below the class's export %s",
                         server, path, exp.url);
    berth_backend_nfs_export_cleanup(&exp);
    return st;
  }
  *url = strdup(exp.url);
  *dir = berth__nfsi_trim_path(rel, strlen(rel));

done:
  berth_backend_nfs_export_cleanup(&exp);
  if (*url != NULL && *dir != NULL)
    return BERTH_OK;
  free(*url);
  free(*dir);
  *url = NULL;
  *dir = NULL;
  return berth_error_set(err, BERTH_ENOMEM, "out of memory");
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

static berth_status_t nfsi_volume(berth_inspector_t *be, const json_t *pv,
                                  const json_t *sclass, bool usage,
                                  berth_volume_info_t *out, berth_error_t *err)
{
  berth__nfsi_t *b = (berth__nfsi_t *)be;
  berth_nfs_stat_t sb;
  berth_nfs_t *nfs;
  berth_error_t e;
  berth_status_t st;
  const char *od;
  char text[64];

  st = berth__nfsi_pv_target(b->defaults, pv, sclass, &out->source,
                             &out->location, err);
  if (st != BERTH_OK)
    return st;
  out->details = json_object();
  berth_inspect_detail(out->details, "Export", out->source);
  berth_inspect_detail(out->details, "Directory", out->location);
  od = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_ON_DELETE);
  berth_error_clear(&e);
  nfs = berth__nfsi_conn(b, out->source, &e);
  if (nfs == NULL) {
    out->state = BERTH_VOLUME_ERROR;
    out->message = strdup(e.message);
    return BERTH_OK;
  }
  st = berth_nfs_stat(nfs, out->location, &sb, &e);
  if (st == BERTH_ENOTFOUND) {
    out->state = BERTH_VOLUME_MISSING;
    berth_inspect_detail(out->details, "Exists", "no");
  } else if (st != BERTH_OK) {
    out->state = BERTH_VOLUME_ERROR;
    out->message = strdup(e.message);
  } else if (sb.type != BERTH_NFS_TYPE_DIR) {
    out->state = BERTH_VOLUME_ERROR;
    out->message = berth_strdup_printf("%s is %s, not a directory: berth "
                                       "never follows or deletes it",
                                       out->location, type_name(sb.type));
  } else {
    out->state = BERTH_VOLUME_PRESENT;
    berth_inspect_detail(out->details, "Exists", "yes");
    snprintf(text, sizeof(text), "%04o", (unsigned)(sb.mode & 07777));
    berth_inspect_detail(out->details, "Mode", text);
    snprintf(text, sizeof(text), "%u:%u", (unsigned)sb.uid, (unsigned)sb.gid);
    berth_inspect_detail(out->details, "Owner", text);
    time_text(sb.mtime_sec, text, sizeof(text));
    berth_inspect_detail(out->details, "Modified", text);
  }
  berth_inspect_detail(out->details, "On Delete",
                       od != NULL ? od : "as the StorageClass says");
  if (usage && out->state == BERTH_VOLUME_PRESENT) {
    st = berth_backend_usage(b->base.core, pv,
                             berth_inspect_class_parameters(sclass),
                             &out->usage, &e);
    if (st == BERTH_OK) {
      out->has_usage = true;
    } else if (be->env->verbosity > 0) {
      berth_inspect_warn(be->env, "usage of %s: %s", out->location, e.message);
    }
  }
  return BERTH_OK;
}

/* ---- doctor
 * -------------------------------------------------------------------- */

static berth_status_t nfsi_check(berth_inspector_t *be, const json_t *sclass,
                                 char **detail, berth_error_t *err)
{
  berth__nfsi_t *b = (berth__nfsi_t *)be;
  berth_backend_nfs_export_t exp;
  berth_nfs_stat_t root;
  berth_nfs_t *nfs;
  berth_status_t st;

  memset(&exp, 0, sizeof(exp));
  /* The export first: a class without one is fine for the provisioner
   * (it has a default) but berthctl cannot check it (ENOTFOUND). */
  st = berth__nfsi_class_export(b->defaults, sclass, &exp, err);
  if (st != BERTH_OK)
    goto done;
  st = berth_inspect_validate_class(be, sclass, err);
  if (st != BERTH_OK)
    goto done;
  nfs = berth__nfsi_conn(b, exp.url, err);
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
  berth_backend_nfs_export_cleanup(&exp);
  return st;
}

/* ---- life cycle
 * ---------------------------------------------------------------- */

static void nfsi_close(berth_inspector_t *be)
{
  berth__nfsi_t *b = (berth__nfsi_t *)be;
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
static json_t *default_export(const berth_inspect_env_t *env)
{
  const char *url = env->nfs_url;
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

/* The environment berth-provisioner's container gets (env values and the
 * ConfigMaps of envFrom), as the kubelet makes it: a new object. */
static json_t *container_env(const berth_inspect_env_t *ie, const char *ns,
                             const json_t *c)
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

    if (cm != NULL && berth_k8s_get(ie->k8s, &berth_k8s_res_configmaps, ns, cm,
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
      json_object_set(
          env, berth_inspect_nz(json_string_value(json_object_get(e, "name"))),
          v);
  }
  return env;
}

/* What export_from_deployments looks for, and found. */
typedef struct dep_export {
  const berth_inspect_env_t *env;
  json_t *found; /* the default export, as parameters */
  char *from;
  size_t size;
} dep_export_t;

/* A berth-provisioner container's default export, if its environment
 * (env values and envFrom ConfigMaps) names one. */
static bool container_export(void *ud, const json_t *dep, const json_t *c)
{
  dep_export_t *x = ud;
  json_t *env = container_env(x->env, berth_k8s_obj_namespace(dep), c);
  const char *url = json_string_value(json_object_get(env, "NFS_URL"));
  const char *server = json_string_value(json_object_get(env, "NFS_SERVER"));
  const char *path = json_string_value(json_object_get(env, "NFS_PATH"));

  if (url != NULL && url[0] != '\0')
    x->found = json_pack("{s:s}", "url", url);
  else if (server != NULL && server[0] != '\0' && path != NULL)
    x->found = json_pack("{s:s,s:s}", "server", server, "share", path);
  if (x->found != NULL)
    snprintf(x->from, x->size, "Deployment %s/%s",
             berth_inspect_nz(berth_k8s_obj_namespace(dep)),
             berth_inspect_nz(berth_k8s_obj_name(dep)));
  json_decref(env);
  return x->found != NULL;
}

/* The default export from the environment of a berth-provisioner
 * Deployment that runs the nfs backend (deploy/'s ConfigMap, the chart's
 * env), as parameters; NULL when none says. *from: where. */
static json_t *export_from_deployments(const berth_inspect_env_t *env,
                                       char *from, size_t size)
{
  dep_export_t x = {env, NULL, from, size};

  berth_inspect_provisioner_containers(env->k8s, container_export, &x);
  return x.found;
}

/* The default export from a PV berth's nfs backend made for a class that
 * names no export: its recorded export is the default it got. */
static json_t *export_from_pvs(const berth_inspect_env_t *env, char *from,
                               size_t size)
{
  const json_t *pv;
  size_t i;

  json_array_foreach(env->pvs, i, pv)
  {
    const char *url = berth_k8s_obj_annotation(pv, BERTH_NFS_ANN_URL);
    const json_t *sc = berth_inspect_class(
        env, json_string_value(json_object_get(json_object_get(pv, "spec"),
                                               "storageClassName")));

    if (url != NULL && sc != NULL &&
        !berth_backend_nfs_names_export(berth_inspect_class_parameters(sc))) {
      snprintf(from, size, "PersistentVolume %s",
               berth_inspect_nz(berth_k8s_obj_name(pv)));
      return json_pack("{s:s}", "url", url);
    }
  }
  return NULL;
}

static berth_status_t nfsi_open(const berth_inspect_env_t *env,
                                berth_inspector_t **out, berth_error_t *err)
{
  berth_backend_nfs_config_t cfg;
  berth__nfsi_t *b = calloc(1, sizeof(*b));
  berth_status_t st;

  if (b == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  b->base.ops = &berth_backend_nfs_ops;
  b->base.env = env;
  b->defaults = default_export(env);
  /* Not told: the provisioner's own configuration, else what its volumes
   * recorded (as claims finds each volume's export on its PV). */
  if (b->defaults == NULL)
    b->defaults =
        export_from_deployments(env, b->found_from, sizeof(b->found_from));
  if (b->defaults == NULL)
    b->defaults = export_from_pvs(env, b->found_from, sizeof(b->found_from));
  if (b->found_from[0] != '\0')
    b->defaults_from = b->found_from;
  b->timeout_ms = env->timeout_ms > 0 ? (int)env->timeout_ms : NFSI_TIMEOUT_MS;
  memset(&cfg, 0, sizeof(cfg));
  cfg.defaults = b->defaults;
  cfg.timeout_ms = b->timeout_ms;
  st = berth_backend_nfs_create(&cfg, &b->base.core, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "the nfs backend's default export (--nfs-url, "
                            "NFS_URL, NFS_SERVER/NFS_PATH)");
    nfsi_close(&b->base);
    return st;
  }
  *out = &b->base;
  return BERTH_OK;
}

/* orphans and doctor look at the default export when the operator names
 * one, even when no class uses the backend yet. */
static bool nfsi_has_default(const berth_inspect_env_t *env)
{
  const char *url = getenv("NFS_URL");

  return (env->nfs_url != NULL && env->nfs_url[0] != '\0') ||
         (url != NULL && url[0] != '\0');
}

const berth_inspect_ops_t berth_backend_nfs_inspect = {
    .annotation_prefix = "nfs.berth.io/",
    .on_delete_annotation = BERTH_NFS_ANN_ON_DELETE,
    .object_noun = "directory",
    .default_noun = "default export",
    .default_hint = "check --nfs-url (or NFS_URL): nfs://server/export",
    .has_default = nfsi_has_default,
    .open = nfsi_open,
    .close = nfsi_close,
    .volume = nfsi_volume,
    .scan = berth__nfsi_scan,
    .remove = berth__nfsi_remove,
    .check = nfsi_check,
};
