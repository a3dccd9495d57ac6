/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: berth's provisioners and backends, and what every command
 * reads first (the StorageClasses and PersistentVolumes).
 *
 * Which provisioners are berth's? A StorageClass says only a provisioner
 * name, and berth runs under any name (users who move from
 * nfs-subdir-external-provisioner keep theirs). So, in this order:
 *
 *   1. --provisioner NAME=BACKEND (repeatable), else
 *   2. $BERTHCTL_PROVISIONERS ("NAME=BACKEND,NAME=BACKEND"), else
 *   3. found: every StorageClass provisioner whose name holds "berth"
 *      and ends in a backend's name ("berth.io/nfs",
 *      "example.com/berth-nfs"), and every provisioned-by name of a PV
 *      that carries a backend's own annotations (nfs.berth.io/...): so a
 *      provisioner kept under nfs-subdir's name is found by its
 *      volumes.
 *
 * `berthctl doctor` shows what was found and from where. */
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const berth_backend_ops_t *ctl_backend_find(const char *name)
{
  const berth_backend_ops_t *ops = berth_backend_find(name);

  return berth_backend_can_inspect(ops) ? ops : NULL;
}

void ctl_backend_unknown(const char *name, char *out, size_t outsize)
{
  char known[256];

  if (berth_backend_find(name) != NULL) {
    snprintf(out, outsize,
             "backend '%s' is built in, but has no operations for berthctl "
             "(its berth_backend_ops_t has no inspect)",
             name);
    return;
  }
  berth_backend_names(known, sizeof(known));
  snprintf(out, outsize, "unknown backend '%s' (known: %s)", name, known);
}

/* ---- the registry
 * ------------------------------------------------------------ */

typedef struct ctl_prov {
  char *name;
  const berth_backend_ops_t *ops;
  char *source;
} ctl_prov_t;

struct ctl_registry {
  json_t *class_list; /* the List objects, owned */
  json_t *pv_list;
  ctl_prov_t *provs;
  size_t nprovs;
  berth_inspect_env_t env;       /* what the backends' inspectors read */
  berth_inspector_t **instances; /* one per berth_backends[i], made on use */
  size_t ninstances;
};

static const json_t *items(const json_t *list)
{
  const json_t *a = json_object_get(list, "items");

  return json_is_array(a) ? a : NULL;
}

const json_t *ctl_registry_classes(const ctl_registry_t *reg)
{
  return items(reg->class_list);
}

const json_t *ctl_registry_pvs(const ctl_registry_t *reg)
{
  return items(reg->pv_list);
}

const json_t *ctl_registry_class(const ctl_registry_t *reg, const char *name)
{
  return berth_inspect_named(ctl_registry_classes(reg), name);
}

const json_t *ctl_registry_pv(const ctl_registry_t *reg, const char *name)
{
  return berth_inspect_named(ctl_registry_pvs(reg), name);
}

const berth_backend_ops_t *ctl_registry_provisioner(const ctl_registry_t *reg,
                                                    const char *provisioner)
{
  size_t i;

  for (i = 0; provisioner != NULL && i < reg->nprovs; i++) {
    if (strcmp(reg->provs[i].name, provisioner) == 0)
      return reg->provs[i].ops;
  }
  return NULL;
}

const berth_backend_ops_t *ctl_registry_class_backend(const ctl_registry_t *reg,
                                                      const json_t *sclass)
{
  return sclass == NULL
             ? NULL
             : ctl_registry_provisioner(reg, json_string_value(json_object_get(
                                                 sclass, "provisioner")));
}

const berth_backend_ops_t *ctl_registry_pv_backend(const ctl_registry_t *reg,
                                                   const json_t *pv)
{
  const berth_backend_ops_t *ops;
  const char *cls;

  ops = ctl_registry_provisioner(
      reg, berth_k8s_obj_annotation(pv, BERTH_ANN_PROVISIONED_BY));
  if (ops != NULL)
    return ops;
  cls = json_string_value(
      json_object_get(json_object_get(pv, "spec"), "storageClassName"));
  ops = ctl_registry_class_backend(reg, ctl_registry_class(reg, cls));
  if (ops != NULL)
    return ops;
  /* Made by berth, though under a name we were not told about. */
  return berth_inspect_annotated_backend(pv);
}

size_t ctl_registry_nprovisioners(const ctl_registry_t *reg)
{
  return reg->nprovs;
}

void ctl_registry_provisioner_at(const ctl_registry_t *reg, size_t i,
                                 const char **name, const char **backend,
                                 const char **source)
{
  *name = reg->provs[i].name;
  *backend = reg->provs[i].ops->name;
  *source = reg->provs[i].source;
}

static bool add_prov(ctl_registry_t *reg, const char *name, size_t len,
                     const berth_backend_ops_t *ops, const char *source)
{
  ctl_prov_t *grown;
  size_t i;

  for (i = 0; i < reg->nprovs; i++) {
    if (strlen(reg->provs[i].name) == len &&
        strncmp(reg->provs[i].name, name, len) == 0)
      return true; /* the first source wins */
  }
  grown = realloc(reg->provs, (reg->nprovs + 1) * sizeof(*grown));
  if (grown == NULL)
    return false;
  reg->provs = grown;
  reg->provs[reg->nprovs].name = strndup(name, len);
  reg->provs[reg->nprovs].ops = ops;
  reg->provs[reg->nprovs].source = strdup(source);
  reg->nprovs++;
  return true;
}

/* "NAME=BACKEND" from the command line or the environment. */
static bool add_binding(ctl_ctx_t *ctx, ctl_registry_t *reg, const char *s,
                        size_t len, const char *source)
{
  const char *eq = memchr(s, '=', len);
  const berth_backend_ops_t *ops;
  char backend[32];
  size_t blen;

  if (eq == NULL || eq == s || eq + 1 == s + len) {
    fprintf(ctx->err,
            "error: %s: '%.*s' is not NAME=BACKEND (e.g. "
            "berth.io/nfs=nfs)\n",
            source, (int)len, s);
    return false;
  }
  blen = (size_t)(s + len - eq - 1);
  snprintf(backend, sizeof(backend), "%.*s", (int)blen, eq + 1);
  ops = ctl_backend_find(backend);
  if (ops == NULL) {
    char why[512];

    ctl_backend_unknown(backend, why, sizeof(why));
    fprintf(ctx->err, "error: %s: %s\n", source, why);
    return false;
  }
  return add_prov(reg, s, (size_t)(eq - s), ops, source);
}

/* The backend a provisioner's name suggests: it holds "berth" and its
 * last '/'-separated part ends with a backend's name. */
static const berth_backend_ops_t *guess_backend(const char *provisioner)
{
  const char *last;
  size_t i;

  if (provisioner == NULL || strcasestr(provisioner, "berth") == NULL)
    return NULL;
  last = strrchr(provisioner, '/');
  last = last != NULL ? last + 1 : provisioner;
  for (i = 0; berth_backends[i] != NULL; i++) {
    if (berth_backend_can_inspect(berth_backends[i]) &&
        berth_str_has_suffix(last, berth_backends[i]->name))
      return berth_backends[i];
  }
  return NULL;
}

static bool find_provisioners(ctl_ctx_t *ctx, ctl_registry_t *reg)
{
  const char *env = getenv("BERTHCTL_PROVISIONERS");
  const json_t *o;
  char source[300];
  size_t i;

  if (ctx->opt->nprovisioners > 0) {
    for (i = 0; i < ctx->opt->nprovisioners; i++) {
      const char *s = ctx->opt->provisioners[i];

      if (!add_binding(ctx, reg, s, strlen(s), "--provisioner"))
        return false;
    }
    return true;
  }
  if (env != NULL && env[0] != '\0') {
    const char *p = env;

    while (*p != '\0') {
      size_t n = strcspn(p, ",");

      if (n > 0 && !add_binding(ctx, reg, p, n, "$BERTHCTL_PROVISIONERS"))
        return false;
      p += n + (p[n] == ',');
    }
    return true;
  }
  json_array_foreach(ctl_registry_classes(reg), i, o)
  {
    const char *p = json_string_value(json_object_get(o, "provisioner"));
    const berth_backend_ops_t *ops = guess_backend(p);

    if (ops == NULL)
      continue;
    snprintf(source, sizeof(source), "StorageClass %s", berth_k8s_obj_name(o));
    if (!add_prov(reg, p, strlen(p), ops, source))
      return false;
  }
  json_array_foreach(ctl_registry_pvs(reg), i, o)
  {
    const berth_backend_ops_t *ops = berth_inspect_annotated_backend(o);
    const char *by = berth_k8s_obj_annotation(o, BERTH_ANN_PROVISIONED_BY);

    if (ops == NULL || by == NULL)
      continue;
    snprintf(source, sizeof(source), "PersistentVolume %s",
             berth_k8s_obj_name(o));
    if (!add_prov(reg, by, strlen(by), ops, source))
      return false;
  }
  return true;
}

/* The inspectors' callbacks: ud is the ctl_ctx_t. */
static const berth_backend_ops_t *env_class_backend(void *ud,
                                                    const json_t *sclass)
{
  ctl_ctx_t *ctx = ud;

  return ctx->reg != NULL ? ctl_registry_class_backend(ctx->reg, sclass) : NULL;
}

static void env_warn(void *ud, const char *message)
{
  ctl_ctx_t *ctx = ud;

  fprintf(ctx->err, "warning: %s\n", message);
}

static void env_progress(void *ud, const char *message)
{
  ctl_ctx_t *ctx = ud;

  if (message == NULL)
    ctl_progress(ctx, NULL);
  else
    ctl_progress(ctx, "%s", message);
}

/* What the backends' inspectors are given: the lists, the flags. */
static bool env_init(ctl_ctx_t *ctx, ctl_registry_t *reg)
{
  berth_inspect_env_t *env = &reg->env;
  const ctl_options_t *opt = ctx->opt;
  size_t n = 0;

  while (berth_backends[n] != NULL)
    n++;
  reg->instances = calloc(n, sizeof(*reg->instances));
  if (reg->instances == NULL)
    return false;
  reg->ninstances = n;
  env->k8s = ctx->k8s;
  env->classes = ctl_registry_classes(reg);
  env->pvs = ctl_registry_pvs(reg);
  env->class_backend = env_class_backend;
  env->warn = env_warn;
  env->progress = env_progress;
  env->ud = ctx;
  env->nfs_url = opt->nfs_url;
  env->timeout_ms = opt->request_timeout_ms;
  env->verbosity = opt->verbosity;
  env->now_s = ctx->now_s;
  env->min_age_s = opt->min_age_ms / 1000;
  env->archived = opt->archived;
  env->usage = !opt->no_usage;
  return true;
}

bool ctl_registry_load(ctl_ctx_t *ctx)
{
  ctl_registry_t *reg;
  berth_error_t err;
  berth_status_t st;

  if (ctx->reg != NULL)
    return true;
  if (!ctl_kube_connect(ctx))
    return false;
  reg = calloc(1, sizeof(*reg));
  if (reg == NULL) {
    ctl_fail(ctx, "out of memory");
    return false;
  }
  berth_error_clear(&err);
  st = berth_k8s_list_all(ctx->k8s, &berth_k8s_res_storageclasses, NULL, NULL,
                          &reg->class_list, &err);
  if (st != BERTH_OK) {
    ctl_kube_error(ctx, "list storageclasses", st, &err);
    goto fail;
  }
  st = berth_k8s_list_all(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL,
                          NULL, &reg->pv_list, &err);
  if (st != BERTH_OK) {
    ctl_kube_error(ctx, "list persistentvolumes", st, &err);
    goto fail;
  }
  if (!find_provisioners(ctx, reg))
    goto fail;
  if (!env_init(ctx, reg)) {
    ctl_fail(ctx, "out of memory");
    goto fail;
  }
  ctx->reg = reg;
  return true;

fail:
  ctl_registry_destroy(reg);
  return false;
}

void ctl_registry_destroy(ctl_registry_t *reg)
{
  size_t i;

  if (reg == NULL)
    return;
  for (i = 0; i < reg->ninstances; i++)
    berth_inspector_close(reg->instances[i]);
  free(reg->instances);
  for (i = 0; i < reg->nprovs; i++) {
    free(reg->provs[i].name);
    free(reg->provs[i].source);
  }
  free(reg->provs);
  json_decref(reg->class_list);
  json_decref(reg->pv_list);
  free(reg);
}

berth_status_t ctl_registry_backend(ctl_ctx_t *ctx,
                                    const berth_backend_ops_t *ops,
                                    berth_inspector_t **out, berth_error_t *err)
{
  ctl_registry_t *reg = ctx->reg;
  berth_status_t st;
  size_t i;

  for (i = 0; reg != NULL && i < reg->ninstances && berth_backends[i] != ops;
       i++)
    ;
  if (reg == NULL || i == reg->ninstances)
    return berth_error_set(err, BERTH_EINTERNAL, "unknown backend");
  if (reg->instances[i] == NULL) {
    st = berth_inspector_open(ops, &reg->env, &reg->instances[i], err);
    if (st != BERTH_OK)
      return st;
  }
  *out = reg->instances[i];
  return BERTH_OK;
}

int ctl_get_pv(ctl_ctx_t *ctx, const char *arg, const char **name, json_t **pv)
{
  berth_error_t err;
  berth_status_t st;

  if (strncmp(arg, "persistentvolume/", 17) == 0)
    arg += 17;
  else if (strncmp(arg, "pv/", 3) == 0)
    arg += 3;
  *name = arg;
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  berth_error_clear(&err);
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, arg, pv,
                     &err);
  if (st == BERTH_ENOTFOUND)
    return ctl_fail(ctx,
                    "PersistentVolume \"%s\" not found ('berthctl "
                    "volumes' lists berth's)",
                    arg);
  if (st != BERTH_OK)
    return ctl_kube_error(ctx, "get persistentvolume", st, &err);
  return CTL_EXIT_OK;
}

const berth_inspect_env_t *ctl_registry_env(const ctl_registry_t *reg)
{
  return &reg->env;
}

void ctl_inspect_pv(ctl_ctx_t *ctx, const berth_backend_ops_t *ops,
                    const json_t *pv, bool usage, berth_volume_info_t *out)
{
  const char *cls = json_string_value(
      json_object_get(json_object_get(pv, "spec"), "storageClassName"));
  berth_inspector_t *in = NULL;
  berth_error_t err;
  berth_status_t st;

  out->ops = ops;
  berth_error_clear(&err);
  st = ctl_registry_backend(ctx, ops, &in, &err);
  if (st == BERTH_OK)
    st = ops->inspect->volume(in, pv, ctl_registry_class(ctx->reg, cls), usage,
                              out, &err);
  if (st != BERTH_OK) {
    out->state = BERTH_VOLUME_ERROR;
    free(out->message);
    out->message = strdup(err.message[0] ? err.message : berth_strerror(st));
  }
}
