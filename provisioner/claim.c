/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: reading claims, classes and nodes, see claim.h. */
#include "claim.h"

#include "berth/quantity.h"

#include "backends/backend.h"
#include "berth/k8s.h"

#include <stdio.h>
#include <string.h>

static const char *nonempty(const char *s)
{
  return s != NULL && s[0] != '\0' ? s : NULL;
}

static json_t *path2(const json_t *obj, const char *a, const char *b)
{
  return json_object_get(json_object_get(obj, a), b);
}

const char *prov_claim_provisioner(const json_t *claim)
{
  const char *p =
      nonempty(berth_k8s_obj_annotation(claim, PROV_ANN_STORAGE_PROVISIONER));

  return p != NULL ? p
                   : nonempty(berth_k8s_obj_annotation(
                         claim, PROV_ANN_STORAGE_PROVISIONER_BETA));
}

const char *prov_claim_class(const json_t *claim)
{
  const char *c =
      nonempty(json_string_value(path2(claim, "spec", "storageClassName")));

  return c != NULL ? c
                   : nonempty(berth_k8s_obj_annotation(
                         claim, PROV_ANN_STORAGE_CLASS_BETA));
}

const char *prov_claim_selected_node(const json_t *claim)
{
  return nonempty(berth_k8s_obj_annotation(claim, PROV_ANN_SELECTED_NODE));
}

const char *prov_claim_volume_name(const json_t *claim)
{
  return nonempty(json_string_value(path2(claim, "spec", "volumeName")));
}

bool prov_obj_deleting(const json_t *obj)
{
  return nonempty(json_string_value(
             path2(obj, "metadata", "deletionTimestamp"))) != NULL;
}

bool prov_obj_has_finalizer(const json_t *obj, const char *name)
{
  json_t *fins = path2(obj, "metadata", "finalizers");
  json_t *f;
  size_t i;

  json_array_foreach(fins, i, f)
  {
    if (json_is_string(f) && strcmp(json_string_value(f), name) == 0)
      return true;
  }
  return false;
}

json_t *prov_obj_with_finalizer(const json_t *obj, const char *name,
                                bool present)
{
  json_t *copy = json_deep_copy(obj);
  json_t *meta = json_object_get(copy, "metadata");
  json_t *fins = json_object_get(meta, "finalizers");
  json_t *out = json_array();
  json_t *f;
  size_t i;

  if (copy == NULL || !json_is_object(meta) || out == NULL)
    goto fail;
  json_array_foreach(fins, i, f)
  {
    if (json_is_string(f) && strcmp(json_string_value(f), name) == 0)
      continue;
    if (json_array_append(out, f) != 0)
      goto fail;
  }
  if (present && json_array_append_new(out, json_string(name)) != 0)
    goto fail;
  if (json_array_size(out) == 0) {
    json_object_del(meta, "finalizers");
    json_decref(out);
  } else if (json_object_set_new(meta, "finalizers", out) != 0) {
    out = NULL;
    goto fail;
  }
  return copy;

fail:
  json_decref(out);
  json_decref(copy);
  return NULL;
}

berth_status_t prov_claim_access_modes(const json_t *claim, unsigned *out,
                                       berth_error_t *err)
{
  json_t *modes = path2(claim, "spec", "accessModes");
  unsigned bits = 0;
  json_t *m;
  size_t i;

  json_array_foreach(modes, i, m)
  {
    unsigned b = berth_access_mode_parse(json_string_value(m));
    if (b == 0)
      return berth_error_set(err, BERTH_EINVAL,
                             "claim: spec.accessModes[%zu]: unknown access "
                             "mode",
                             i);
    bits |= b;
  }
  *out = bits;
  return BERTH_OK;
}

berth_status_t prov_claim_request(const json_t *claim, uint64_t *bytes,
                                  const char **text, berth_error_t *err)
{
  json_t *req = path2(path2(claim, "spec", "resources"), "requests", "storage");
  const char *s = json_string_value(req);
  uint64_t b;

  if (s == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "claim: spec.resources.requests.storage is "
                           "missing");
  if (berth_quantity_parse(s, &b, NULL) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "claim: spec.resources.requests.storage: invalid "
                           "quantity");
  *bytes = b;
  *text = s;
  return BERTH_OK;
}

const char *prov_class_reclaim_policy(const json_t *sclass)
{
  const char *p =
      nonempty(json_string_value(json_object_get(sclass, "reclaimPolicy")));

  return p != NULL ? p : "Delete";
}

bool prov_class_wait_for_consumer(const json_t *sclass)
{
  const char *m =
      json_string_value(json_object_get(sclass, "volumeBindingMode"));

  return m != NULL && strcmp(m, "WaitForFirstConsumer") == 0;
}

const char *prov_class_provisioner(const json_t *sclass)
{
  return nonempty(json_string_value(json_object_get(sclass, "provisioner")));
}

/* The node's value for label key; kubernetes.io/hostname defaults to the
 * node's name, as the scheduler's volume binding assumes. */
static const char *node_label(const json_t *node, const char *key)
{
  const char *v = berth_k8s_obj_label(node, key);

  if (v == NULL && strcmp(key, "kubernetes.io/hostname") == 0)
    v = berth_k8s_obj_name(node);
  return v;
}

/* One expression {key, values[]}: the node's label is one of values. */
static bool expr_allows(const json_t *expr, const json_t *node)
{
  const char *key = json_string_value(json_object_get(expr, "key"));
  const char *have = key != NULL ? node_label(node, key) : NULL;
  json_t *v;
  size_t i;

  if (have == NULL)
    return false;
  json_array_foreach(json_object_get(expr, "values"), i, v)
  {
    if (json_is_string(v) && strcmp(json_string_value(v), have) == 0)
      return true;
  }
  return false;
}

bool prov_class_allows_node(const json_t *sclass, const json_t *node)
{
  json_t *terms = json_object_get(sclass, "allowedTopologies");
  json_t *term;
  json_t *expr;
  size_t i;
  size_t j;

  if (json_array_size(terms) == 0)
    return true;
  json_array_foreach(terms, i, term)
  {
    bool ok = true;
    json_array_foreach(json_object_get(term, "matchLabelExpressions"), j, expr)
    {
      if (!expr_allows(expr, node))
        ok = false;
    }
    if (ok)
      return true;
  }
  return false;
}

bool prov_pv_name(const char *uid, char *out, size_t outsize)
{
  int n;

  if (uid == NULL || uid[0] == '\0')
    return false;
  n = snprintf(out, outsize, "pvc-%s", uid);
  return n > 0 && (size_t)n < outsize;
}
