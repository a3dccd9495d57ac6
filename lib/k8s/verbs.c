/* SPDX-License-Identifier: Apache-2.0 */
/* The API verbs on any resource: get, list (paged), create, update,
 * patch, delete. See include/berth/k8s.h; paths are built in resource.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "k8s_int.h"

#define DEFAULT_PAGE 500

/* Append "?key=value" or "&key=value" (value escaped) when value is set. */
static berth_status_t add_query(berth_buf_t *b, const char *key,
                                const char *value)
{
  berth_status_t st;

  if (value == NULL || value[0] == '\0')
    return BERTH_OK;
  st = berth_buf_appendf(b, "%c%s=", strchr(berth_buf_str(b), '?') ? '&' : '?',
                         key);
  if (st == BERTH_OK)
    st = berth__k8s_append_escaped(b, value);
  return st;
}

static const char *default_ns(berth_k8s_client_t *c,
                              const berth_k8s_resource_t *res, const char *ns,
                              const json_t *obj)
{
  const char *from_obj;

  if (!res->namespaced)
    return NULL;
  if (ns != NULL)
    return ns;
  from_obj = obj != NULL ? berth_k8s_obj_namespace(obj) : NULL;
  if (from_obj != NULL && from_obj[0] != '\0')
    return from_obj;
  return berth_k8s_client_namespace(c);
}

/* Send one request whose path is path (+ query) and body is a JSON value. */
static berth_status_t send(berth_k8s_client_t *c, const char *method,
                           const berth_buf_t *path, const char *content_type,
                           const json_t *body, json_t **out, berth_error_t *err)
{
  berth__k8s_req_t req;
  char *text = NULL;
  json_t *result = NULL;
  berth_status_t st;

  memset(&req, 0, sizeof(req));
  if (body != NULL) {
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "k8s %s: the object cannot be encoded", method);
      goto done;
    }
    req.body = text;
    req.body_len = strlen(text);
    req.content_type = content_type != NULL ? content_type : "application/json";
  }
  req.method = method;
  req.path_and_query = berth_buf_str(path);
  st = berth__k8s_request(c, &req, out != NULL ? &result : NULL, err);
  if (st == BERTH_OK && out != NULL) {
    if (result == NULL) {
      st = berth_error_set(err, BERTH_EPARSE, "k8s %s %s: empty answer", method,
                           berth_buf_str(path));
      goto done;
    }
    *out = result;
    result = NULL;
  }

done:
  json_decref(result);
  free(text);
  return st;
}

berth_status_t berth_k8s_get(berth_k8s_client_t *c,
                             const berth_k8s_resource_t *res, const char *ns,
                             const char *name, json_t **out, berth_error_t *err)
{
  berth_buf_t path;
  berth_status_t st;

  berth_buf_init(&path);
  if (name == NULL || name[0] == '\0') {
    st = berth_error_set(err, BERTH_EINVAL, "k8s get %s: no name",
                         res->resource);
    goto done;
  }
  st = berth__k8s_path(&path, res, default_ns(c, res, ns, NULL), name, NULL);
  if (st == BERTH_OK)
    st = send(c, "GET", &path, NULL, NULL, out, err);
  else
    berth_error_set(err, st, "out of memory");

done:
  berth_buf_cleanup(&path);
  return st;
}

berth_status_t berth_k8s_list(berth_k8s_client_t *c,
                              const berth_k8s_resource_t *res, const char *ns,
                              const berth_k8s_list_options_t *opts,
                              json_t **out, berth_error_t *err)
{
  berth_k8s_list_options_t none;
  berth_buf_t path;
  json_t *list = NULL;
  char limit[32];
  berth_status_t st;

  berth_buf_init(&path);
  if (opts == NULL) {
    memset(&none, 0, sizeof(none));
    opts = &none;
  }
  snprintf(limit, sizeof(limit), "%ld", opts->limit);
  st = berth__k8s_path(&path, res, res->namespaced ? ns : NULL, NULL, NULL);
  if (st == BERTH_OK)
    st = add_query(&path, "labelSelector", opts->label_selector);
  if (st == BERTH_OK)
    st = add_query(&path, "fieldSelector", opts->field_selector);
  if (st == BERTH_OK && opts->limit > 0)
    st = add_query(&path, "limit", limit);
  if (st == BERTH_OK)
    st = add_query(&path, "continue", opts->continue_token);
  if (st == BERTH_OK)
    st = add_query(&path, "resourceVersion", opts->resource_version);
  if (st == BERTH_OK)
    st = add_query(&path, "resourceVersionMatch", opts->resource_version_match);
  if (st == BERTH_OK)
    st = send(c, "GET", &path, NULL, NULL, &list, err);
  else
    berth_error_set(err, st, "out of memory");
  /* An empty list may come as "items": null. */
  if (st == BERTH_OK && !json_is_array(json_object_get(list, "items")) &&
      json_object_set_new(list, "items", json_array()) != 0)
    st = berth_error_set(err, BERTH_EPARSE, "k8s list %s: not a List",
                         res->resource);
  if (st == BERTH_OK) {
    *out = list;
    list = NULL;
  }
  json_decref(list);
  berth_buf_cleanup(&path);
  return st;
}

berth_status_t berth_k8s_list_all(berth_k8s_client_t *c,
                                  const berth_k8s_resource_t *res,
                                  const char *ns,
                                  const berth_k8s_list_options_t *opts,
                                  json_t **out, berth_error_t *err)
{
  berth_k8s_list_options_t page_opts;
  json_t *first = NULL;
  json_t *page = NULL;
  json_t *items = NULL;
  json_t *meta;
  const char *cont;
  char *cont_copy = NULL;
  bool restarted = false;
  berth_status_t st = BERTH_OK;

  if (opts != NULL)
    page_opts = *opts;
  else
    memset(&page_opts, 0, sizeof(page_opts));
  if (page_opts.limit == 0)
    page_opts.limit = DEFAULT_PAGE;
  for (;;) {
    st = berth_k8s_list(c, res, ns, &page_opts, &page, err);
    if (st == BERTH_EGONE && page_opts.continue_token != NULL && !restarted) {
      /* The continue token expired (compaction): start again, in one go,
       * as client-go's pager does. */
      restarted = true;
      json_decref(first);
      first = NULL;
      json_decref(items);
      items = NULL;
      page_opts.limit = 0;
      page_opts.continue_token = NULL;
      continue;
    }
    if (st != BERTH_OK)
      goto done;
    if (items == NULL) {
      first = page;
      items = json_incref(json_object_get(page, "items"));
    } else {
      json_array_extend(items, json_object_get(page, "items"));
    }
    meta = json_object_get(page, "metadata");
    cont = json_string_value(json_object_get(meta, "continue"));
    if (page != first) {
      /* Later pages carry the same snapshot version; keep the newest. */
      json_t *rv = json_object_get(meta, "resourceVersion");
      if (json_is_string(rv))
        json_object_set(json_object_get(first, "metadata"), "resourceVersion",
                        rv);
    }
    free(cont_copy);
    cont_copy = NULL;
    if (cont == NULL || cont[0] == '\0') {
      if (page != first)
        json_decref(page);
      page = NULL;
      break;
    }
    cont_copy = strdup(cont);
    if (page != first)
      json_decref(page);
    page = NULL;
    if (cont_copy == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      goto done;
    }
    page_opts.continue_token = cont_copy;
  }
  meta = json_object_get(first, "metadata");
  if (json_is_object(meta))
    json_object_del(meta, "continue");
  json_object_del(first, "items");
  json_object_set(first, "items", items);
  *out = first;
  first = NULL;

done:
  free(cont_copy);
  json_decref(items);
  json_decref(first);
  return st;
}

berth_status_t berth_k8s_create(berth_k8s_client_t *c,
                                const berth_k8s_resource_t *res, const char *ns,
                                const json_t *obj, json_t **out,
                                berth_error_t *err)
{
  berth_buf_t path;
  berth_status_t st;

  berth_buf_init(&path);
  st = berth__k8s_path(&path, res, default_ns(c, res, ns, obj), NULL, NULL);
  if (st == BERTH_OK)
    st = send(c, "POST", &path, NULL, obj, out, err);
  else
    berth_error_set(err, st, "out of memory");
  berth_buf_cleanup(&path);
  return st;
}

static berth_status_t put(berth_k8s_client_t *c,
                          const berth_k8s_resource_t *res, const char *ns,
                          const json_t *obj, const char *subresource,
                          json_t **out, berth_error_t *err)
{
  const char *name = berth_k8s_obj_name(obj);
  berth_buf_t path;
  berth_status_t st;

  berth_buf_init(&path);
  if (name == NULL || name[0] == '\0') {
    st =
        berth_error_set(err, BERTH_EINVAL,
                        "k8s update %s: metadata.name: missing", res->resource);
    goto done;
  }
  st = berth__k8s_path(&path, res, default_ns(c, res, ns, obj), name,
                       subresource);
  if (st == BERTH_OK)
    st = send(c, "PUT", &path, NULL, obj, out, err);
  else
    berth_error_set(err, st, "out of memory");

done:
  berth_buf_cleanup(&path);
  return st;
}

berth_status_t berth_k8s_update(berth_k8s_client_t *c,
                                const berth_k8s_resource_t *res, const char *ns,
                                const json_t *obj, json_t **out,
                                berth_error_t *err)
{
  return put(c, res, ns, obj, NULL, out, err);
}

berth_status_t berth_k8s_update_status(berth_k8s_client_t *c,
                                       const berth_k8s_resource_t *res,
                                       const char *ns, const json_t *obj,
                                       json_t **out, berth_error_t *err)
{
  return put(c, res, ns, obj, "status", out, err);
}

berth_status_t berth_k8s_patch(berth_k8s_client_t *c,
                               const berth_k8s_resource_t *res, const char *ns,
                               const char *name, const char *subresource,
                               berth_k8s_patch_type_t type, const json_t *patch,
                               json_t **out, berth_error_t *err)
{
  static const char *const types[] = {"application/merge-patch+json",
                                      "application/json-patch+json",
                                      "application/strategic-merge-patch+json"};
  berth_buf_t path;
  berth_status_t st;

  berth_buf_init(&path);
  if (name == NULL || name[0] == '\0' || patch == NULL ||
      (unsigned)type > BERTH_K8S_PATCH_STRATEGIC) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "k8s patch %s: no name, patch or patch type",
                         res->resource);
    goto done;
  }
  st = berth__k8s_path(&path, res, default_ns(c, res, ns, NULL), name,
                       subresource);
  if (st == BERTH_OK)
    st = send(c, "PATCH", &path, types[type], patch, out, err);
  else
    berth_error_set(err, st, "out of memory");

done:
  berth_buf_cleanup(&path);
  return st;
}

berth_status_t berth_k8s_delete(berth_k8s_client_t *c,
                                const berth_k8s_resource_t *res, const char *ns,
                                const char *name,
                                const berth_k8s_delete_options_t *opts,
                                json_t **out, berth_error_t *err)
{
  berth_buf_t path;
  json_t *body = NULL;
  json_t *pre = NULL;
  json_t *result = NULL;
  berth_status_t st;

  berth_buf_init(&path);
  if (name == NULL || name[0] == '\0') {
    st = berth_error_set(err, BERTH_EINVAL, "k8s delete %s: no name",
                         res->resource);
    goto done;
  }
  st = berth__k8s_path(&path, res, default_ns(c, res, ns, NULL), name, NULL);
  if (st != BERTH_OK) {
    berth_error_set(err, st, "out of memory");
    goto done;
  }
  if (opts != NULL) {
    /* A DeleteOptions body (meta/v1), as kubectl and client-go send. */
    body = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
    pre = json_object();
    if (body == NULL || pre == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      goto done;
    }
    if (opts->precondition_uid != NULL)
      json_object_set_new(pre, "uid", json_string(opts->precondition_uid));
    if (opts->precondition_resource_version != NULL)
      json_object_set_new(pre, "resourceVersion",
                          json_string(opts->precondition_resource_version));
    if (json_object_size(pre) > 0)
      json_object_set(body, "preconditions", pre);
    if (opts->propagation_policy != NULL)
      json_object_set_new(body, "propagationPolicy",
                          json_string(opts->propagation_policy));
    if (opts->has_grace_period && opts->grace_period_seconds >= 0)
      json_object_set_new(body, "gracePeriodSeconds",
                          json_integer(opts->grace_period_seconds));
  }
  st = send(c, "DELETE", &path, NULL, body, out != NULL ? &result : NULL, err);
  if (st == BERTH_OK && out != NULL) {
    *out = result;
    result = NULL;
  }

done:
  json_decref(result);
  json_decref(pre);
  json_decref(body);
  berth_buf_cleanup(&path);
  return st;
}
