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

const ctl_backend_ops_t *const ctl_backends[] = {
    &ctl_backend_nfs,
    &ctl_backend_ebs,
    &ctl_backend_efs,
    NULL,
};

#define NBACKENDS (sizeof(ctl_backends) / sizeof(ctl_backends[0]) - 1)

const ctl_backend_ops_t *ctl_backend_find(const char *name)
{
  size_t i;

  for (i = 0; name != NULL && ctl_backends[i] != NULL; i++) {
    if (strcmp(ctl_backends[i]->name, name) == 0)
      return ctl_backends[i];
  }
  return NULL;
}

void ctl_backend_unknown(const char *name, char *out, size_t outsize)
{
  char known[256];

  if (berth_backend_find(name) != NULL) {
    snprintf(out, outsize,
             "backend '%s' is built in, but berthctl has no operations "
             "for it (cli/backend_%s.c)",
             name, name);
    return;
  }
  berth_backend_names(known, sizeof(known));
  snprintf(out, outsize, "unknown backend '%s' (known: %s)", name, known);
}

const char *ctl_state_name(ctl_state_t st)
{
  switch (st) {
  case CTL_STATE_PRESENT:
    return "exists";
  case CTL_STATE_MISSING:
    return "missing";
  case CTL_STATE_ERROR:
    return "error";
  case CTL_STATE_UNKNOWN:
  default:
    return "unknown";
  }
}

void ctl_volume_info_init(ctl_volume_info_t *info)
{
  memset(info, 0, sizeof(*info));
}

void ctl_volume_info_cleanup(ctl_volume_info_t *info)
{
  if (info == NULL)
    return;
  free(info->source);
  free(info->location);
  free(info->message);
  json_decref(info->details);
  memset(info, 0, sizeof(*info));
}

ctl_orphan_t *ctl_orphans_add(ctl_orphans_t *list)
{
  ctl_orphan_t *grown;

  if (list->n == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;

    grown = realloc(list->items, cap * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    list->items = grown;
    list->cap = cap;
  }
  memset(&list->items[list->n], 0, sizeof(list->items[0]));
  return &list->items[list->n++];
}

void ctl_orphans_cleanup(ctl_orphans_t *list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; i < list->n; i++) {
    ctl_orphan_t *o = &list->items[i];

    free(o->kind);
    free(o->name);
    free(o->source);
    free(o->location);
    free(o->problem);
    free(o->pv_phase);
    free(o->claim);
  }
  free(list->items);
  memset(list, 0, sizeof(*list));
}

/* ---- the registry
 * ------------------------------------------------------------ */

typedef struct ctl_prov {
  char *name;
  const ctl_backend_ops_t *ops;
  char *source;
} ctl_prov_t;

struct ctl_registry {
  json_t *class_list; /* the List objects, owned */
  json_t *pv_list;
  ctl_prov_t *provs;
  size_t nprovs;
  ctl_backend_t *instances[NBACKENDS];
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

static const json_t *find_named(const json_t *arr, const char *name)
{
  const json_t *o;
  size_t i;

  if (name == NULL)
    return NULL;
  json_array_foreach(arr, i, o)
  {
    const char *n = berth_k8s_obj_name(o);

    if (n != NULL && strcmp(n, name) == 0)
      return o;
  }
  return NULL;
}

const json_t *ctl_registry_class(const ctl_registry_t *reg, const char *name)
{
  return find_named(ctl_registry_classes(reg), name);
}

const json_t *ctl_registry_pv(const ctl_registry_t *reg, const char *name)
{
  return find_named(ctl_registry_pvs(reg), name);
}

const ctl_backend_ops_t *ctl_registry_provisioner(const ctl_registry_t *reg,
                                                  const char *provisioner)
{
  size_t i;

  for (i = 0; provisioner != NULL && i < reg->nprovs; i++) {
    if (strcmp(reg->provs[i].name, provisioner) == 0)
      return reg->provs[i].ops;
  }
  return NULL;
}

const ctl_backend_ops_t *ctl_registry_class_backend(const ctl_registry_t *reg,
                                                    const json_t *sclass)
{
  return sclass == NULL
             ? NULL
             : ctl_registry_provisioner(reg, json_string_value(json_object_get(
                                                 sclass, "provisioner")));
}

/* The backend whose own annotations pv carries, or NULL. */
static const ctl_backend_ops_t *annotated_backend(const json_t *pv)
{
  const json_t *ann =
      json_object_get(json_object_get(pv, "metadata"), "annotations");
  const char *key;
  json_t *v;
  size_t i;

  json_object_foreach((json_t *)ann, key, v)
  {
    for (i = 0; ctl_backends[i] != NULL; i++) {
      if (berth_str_has_prefix(key, ctl_backends[i]->annotation_prefix))
        return ctl_backends[i];
    }
  }
  return NULL;
}

const ctl_backend_ops_t *ctl_registry_pv_backend(const ctl_registry_t *reg,
                                                 const json_t *pv)
{
  const ctl_backend_ops_t *ops;
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
  return annotated_backend(pv);
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

const json_t *ctl_class_parameters(const json_t *sclass)
{
  const json_t *p = json_object_get(sclass, "parameters");

  return json_is_object(p) ? p : NULL;
}

static bool add_prov(ctl_registry_t *reg, const char *name, size_t len,
                     const ctl_backend_ops_t *ops, const char *source)
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
  const ctl_backend_ops_t *ops;
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
static const ctl_backend_ops_t *guess_backend(const char *provisioner)
{
  const char *last;
  size_t i;

  if (provisioner == NULL || strcasestr(provisioner, "berth") == NULL)
    return NULL;
  last = strrchr(provisioner, '/');
  last = last != NULL ? last + 1 : provisioner;
  for (i = 0; ctl_backends[i] != NULL; i++) {
    if (berth_str_has_suffix(last, ctl_backends[i]->name))
      return ctl_backends[i];
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
    const ctl_backend_ops_t *ops = guess_backend(p);

    if (ops == NULL)
      continue;
    snprintf(source, sizeof(source), "StorageClass %s", berth_k8s_obj_name(o));
    if (!add_prov(reg, p, strlen(p), ops, source))
      return false;
  }
  json_array_foreach(ctl_registry_pvs(reg), i, o)
  {
    const ctl_backend_ops_t *ops = annotated_backend(o);
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
  for (i = 0; i < NBACKENDS; i++) {
    if (reg->instances[i] != NULL)
      reg->instances[i]->ops->destroy(reg->instances[i]);
  }
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
                                    const ctl_backend_ops_t *ops,
                                    ctl_backend_t **out, berth_error_t *err)
{
  berth_status_t st;
  size_t i;

  if (ops->not_built != NULL)
    return berth_error_set(err, BERTH_EINVAL, "%s", ops->not_built);
  for (i = 0; i < NBACKENDS && ctl_backends[i] != ops; i++)
    ;
  if (i == NBACKENDS || ctx->reg == NULL)
    return berth_error_set(err, BERTH_EINTERNAL, "unknown backend");
  if (ctx->reg->instances[i] == NULL) {
    st = ops->create(ctx, &ctx->reg->instances[i], err);
    if (st != BERTH_OK)
      return st;
  }
  *out = ctx->reg->instances[i];
  return BERTH_OK;
}

void ctl_inspect_pv(ctl_ctx_t *ctx, const ctl_backend_ops_t *ops,
                    const json_t *pv, bool usage, ctl_volume_info_t *out)
{
  const char *cls = json_string_value(
      json_object_get(json_object_get(pv, "spec"), "storageClassName"));
  ctl_backend_t *be = NULL;
  berth_error_t err;
  berth_status_t st;

  out->ops = ops;
  berth_error_clear(&err);
  st = ctl_registry_backend(ctx, ops, &be, &err);
  if (st == BERTH_OK)
    st = ops->inspect(be, ctx, pv, ctl_registry_class(ctx->reg, cls), usage,
                      out, &err);
  if (st != BERTH_OK) {
    out->state = ops->not_built != NULL ? CTL_STATE_UNKNOWN : CTL_STATE_ERROR;
    free(out->message);
    out->message = strdup(err.message[0] ? err.message : berth_strerror(st));
  }
}
