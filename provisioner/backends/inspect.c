/* SPDX-License-Identifier: Apache-2.0 */
/* What every backend's inspect operations share (see inspect.h): the
 * volume info and orphan lists, the environment's helpers, and the
 * dispatch to a backend's berth_inspect_ops_t. */
#include "backends/inspect.h"

#include "berth/aws.h"
#include "berth/buf.h"
#include "berth/k8s_names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *berth_volume_state_name(berth_volume_state_t st)
{
  switch (st) {
  case BERTH_VOLUME_PRESENT:
    return "exists";
  case BERTH_VOLUME_MISSING:
    return "missing";
  case BERTH_VOLUME_ERROR:
    return "error";
  case BERTH_VOLUME_UNKNOWN:
  default:
    return "unknown";
  }
}

void berth_volume_info_init(berth_volume_info_t *info)
{
  memset(info, 0, sizeof(*info));
}

void berth_volume_info_cleanup(berth_volume_info_t *info)
{
  if (info == NULL)
    return;
  free(info->source);
  free(info->location);
  free(info->message);
  json_decref(info->details);
  memset(info, 0, sizeof(*info));
}

berth_orphan_t *berth_orphans_add(berth_orphans_t *list)
{
  berth_orphan_t *grown;

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

void berth_orphans_cleanup(berth_orphans_t *list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; i < list->n; i++) {
    berth_orphan_t *o = &list->items[i];

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

static char *dup_or_null(const char *s)
{
  return s != NULL ? strdup(s) : NULL;
}

berth_orphan_t *berth_orphans_push(berth_orphans_t *list,
                                   const berth_inspect_env_t *env,
                                   const berth_backend_ops_t *ops,
                                   const char *kind, const char *name,
                                   const char *source, const char *location,
                                   char *problem, int64_t time_s)
{
  berth_orphan_t *o = berth_orphans_add(list);

  if (o == NULL) {
    free(problem);
    return NULL;
  }
  o->ops = ops;
  o->kind = dup_or_null(kind);
  o->name = dup_or_null(name);
  o->source = dup_or_null(source);
  o->location = dup_or_null(location);
  o->problem = problem;
  o->time_s = time_s;
  o->recent = berth_inspect_recent(env, time_s);
  return o;
}

bool berth_inspect_recent(const berth_inspect_env_t *env, int64_t t)
{
  return env->now_s - t < env->min_age_s;
}

/* Format and hand a line to one of env's callbacks. */
static void say(const berth_inspect_env_t *env,
                void (*fn)(void *ud, const char *message), const char *fmt,
                va_list ap)
{
  char line[2048];

  if (fn == NULL)
    return;
  if (fmt == NULL) {
    fn(env->ud, NULL);
    return;
  }
  vsnprintf(line, sizeof(line), fmt, ap);
  fn(env->ud, line);
}

void berth_inspect_warn(const berth_inspect_env_t *env, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  say(env, env->warn, fmt, ap);
  va_end(ap);
}

void berth_inspect_progress(const berth_inspect_env_t *env, const char *fmt,
                            ...)
{
  va_list ap;

  va_start(ap, fmt);
  say(env, env->progress, fmt, ap);
  va_end(ap);
}

const json_t *berth_inspect_named(const json_t *arr, const char *name)
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

const json_t *berth_inspect_class(const berth_inspect_env_t *env,
                                  const char *name)
{
  return berth_inspect_named(env->classes, name);
}

const json_t *berth_inspect_pv(const berth_inspect_env_t *env, const char *name)
{
  return berth_inspect_named(env->pvs, name);
}

static const berth_k8s_resource_t res_deployments = {
    "apps", "v1", "deployments", "Deployment", true,
};

static bool is_provisioner(const json_t *c)
{
  const json_t *cmd = json_object_get(c, "command");
  const char *image = json_string_value(json_object_get(c, "image"));
  const char *c0 = json_string_value(json_array_get(cmd, 0));

  return (c0 != NULL && strstr(c0, "berth-provisioner") != NULL) ||
         (c0 == NULL && image != NULL && strstr(image, "berth") != NULL);
}

bool berth_inspect_provisioner_containers(berth_k8s_client_t *k8s,
                                          bool (*fn)(void *ud,
                                                     const json_t *deployment,
                                                     const json_t *container),
                                          void *ud)
{
  json_t *list = NULL;
  const json_t *dep;
  const json_t *c;
  bool done = false;
  size_t i;
  size_t j;

  if (k8s == NULL || berth_k8s_list_all(k8s, &res_deployments, NULL, NULL,
                                        &list, NULL) != BERTH_OK)
    return false;
  json_array_foreach(json_object_get(list, "items"), i, dep)
  {
    const json_t *spec = json_object_get(
        json_object_get(json_object_get(dep, "spec"), "template"), "spec");

    json_array_foreach(json_object_get(spec, "containers"), j, c)
    {
      if (!done && is_provisioner(c))
        done = fn(ud, dep, c);
    }
  }
  json_decref(list);
  return done;
}

const json_t *berth_inspect_class_parameters(const json_t *sclass)
{
  const json_t *p = json_object_get(sclass, "parameters");

  return json_is_object(p) ? p : NULL;
}

void berth_inspect_detail(json_t *details, const char *key, const char *value)
{
  if (details != NULL && value != NULL)
    json_object_set_new(details, key, json_string(value));
}

berth_status_t berth_inspect_validate_class(berth_inspector_t *in,
                                            const json_t *sclass,
                                            berth_error_t *err)
{
  berth_status_t st;

  if (sclass == NULL)
    return BERTH_OK;
  st = berth_backend_validate(in->core, berth_inspect_class_parameters(sclass),
                              err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "invalid parameters (berth-provisioner refuses "
                            "its claims; make a new class: parameters "
                            "cannot be changed)");
  return st;
}

void berth_inspector_aws_close(berth_inspector_t *in)
{
  berth_inspector_aws_t *a = (berth_inspector_aws_t *)in;

  if (a == NULL)
    return;
  berth_backend_destroy(a->base.core);
  berth_aws_destroy(a->aws);
  free(a);
}

berth_status_t berth_inspector_aws_open(const berth_backend_ops_t *ops,
                                        const berth_inspect_env_t *env,
                                        const berth_backend_settings_t *set,
                                        size_t size, berth_inspector_t **out,
                                        berth_error_t *err)
{
  berth_inspector_aws_t *a = calloc(1, size);
  berth_aws_options_t opts;
  berth_status_t st;

  if (a == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  a->base.ops = ops;
  a->base.env = env;
  berth_aws_options_init(&opts);
  st = berth_aws_create(&opts, &a->aws, err);
  if (st == BERTH_OK)
    st = ops->create(set, &a->base.core, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, ops->name);
    berth_inspector_aws_close(&a->base);
    return st;
  }
  *out = &a->base;
  return BERTH_OK;
}

bool berth_backend_can_inspect(const berth_backend_ops_t *ops)
{
  return ops != NULL && ops->inspect != NULL;
}

berth_status_t berth_inspector_open(const berth_backend_ops_t *ops,
                                    const berth_inspect_env_t *env,
                                    berth_inspector_t **out, berth_error_t *err)
{
  if (!berth_backend_can_inspect(ops))
    return berth_error_set(err, BERTH_EPERM,
                           "backend '%s' has no operations for berthctl",
                           ops != NULL ? ops->name : "");
  return ops->inspect->open(env, out, err);
}

void berth_inspector_close(berth_inspector_t *in)
{
  if (in != NULL)
    in->ops->inspect->close(in);
}

const berth_backend_ops_t *berth_inspect_annotated_backend(const json_t *pv)
{
  const json_t *ann =
      json_object_get(json_object_get(pv, "metadata"), "annotations");
  const char *key;
  json_t *v;
  size_t i;

  json_object_foreach((json_t *)ann, key, v)
  {
    for (i = 0; berth_backends[i] != NULL; i++) {
      const berth_backend_ops_t *ops = berth_backends[i];

      if (berth_backend_can_inspect(ops) &&
          berth_str_has_prefix(key, ops->inspect->annotation_prefix))
        return ops;
    }
  }
  return NULL;
}
