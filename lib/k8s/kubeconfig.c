/* SPDX-License-Identifier: Apache-2.0 */
/* kubeconfig files: load, merge, select a context. See
 * berth_k8s_config_from_kubeconfig in include/berth/k8s.h; what a
 * cluster's and a user's fields mean is in kubeconfig_fields.c.
 *
 * Merging follows client-go's ClientConfigLoadingRules.Load: files are read
 * in order; for clusters, users and contexts the first file that defines a
 * name wins and later definitions of that name are ignored; the first file
 * that sets current-context wins. Relative paths (certificate-authority,
 * client-certificate, client-key, tokenFile, and an exec command that
 * contains a '/') are resolved against the directory of the file that
 * holds them (clientcmd.ResolvePaths). Errors name the file and the field:
 * "kubeconfig /x/config: users[0].user.client-key-data (invalid base64)". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "k8s_int.h"
#include "kubeconfig_int.h"
#include "yaml_int.h"

typedef struct {
  kc_entry_t *items;
  size_t n;
} kc_list_t;

typedef struct {
  json_t **docs;
  char **files;
  size_t nfiles;
  kc_list_t clusters;
  kc_list_t users;
  kc_list_t contexts;
  const char *current_context;
  const char *current_context_file;
  berth_buf_t sources; /* "a:b" for messages */
} kc_t;

static void kc_cleanup(kc_t *kc)
{
  size_t i;

  for (i = 0; i < kc->nfiles; i++) {
    json_decref(kc->docs[i]);
    free(kc->files[i]);
  }
  free(kc->docs);
  free(kc->files);
  free(kc->clusters.items);
  free(kc->users.items);
  free(kc->contexts.items);
  berth_buf_cleanup(&kc->sources);
}

static kc_entry_t *find(const kc_list_t *list, const char *name)
{
  size_t i;

  for (i = 0; i < list->n; i++)
    if (strcmp(list->items[i].name, name) == 0)
      return &list->items[i];
  return NULL;
}

/* Add the entries of one top-level list ("clusters") of one file. */
static berth_status_t merge_list(kc_list_t *list, json_t *doc, const char *file,
                                 const char *key, const char *body_key,
                                 berth_error_t *err)
{
  json_t *arr = json_object_get(doc, key);
  json_t *item;
  json_t *name;
  json_t *body;
  kc_entry_t *grown;
  size_t i;
  char where[48];

  if (arr == NULL || json_is_null(arr))
    return BERTH_OK;
  if (!json_is_array(arr))
    return berth__k8s_kc_field_error(err, file, "", key, "expected a list");
  json_array_foreach(arr, i, item)
  {
    snprintf(where, sizeof(where), "%s[%zu]", key, i);
    if (!json_is_object(item))
      return berth__k8s_kc_field_error(err, file, where, "",
                                       "expected a mapping");
    name = json_object_get(item, "name");
    if (!json_is_string(name) || json_string_length(name) == 0)
      return berth__k8s_kc_field_error(err, file, where, "name", "missing");
    body = json_object_get(item, body_key);
    if (body != NULL && !json_is_null(body) && !json_is_object(body))
      return berth__k8s_kc_field_error(err, file, where, body_key,
                                       "expected a mapping");
    if (find(list, json_string_value(name)) != NULL)
      continue; /* an earlier file (or entry) defined it: it wins */
    grown = realloc(list->items, (list->n + 1) * sizeof(*grown));
    if (grown == NULL)
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    list->items = grown;
    grown[list->n].name = json_string_value(name);
    grown[list->n].body = json_is_object(body) ? body : NULL;
    grown[list->n].file = file;
    snprintf(grown[list->n].where, sizeof(grown[list->n].where), "%.40s.%.16s",
             where, body_key);
    list->n++;
  }
  return BERTH_OK;
}

static berth_status_t load_file(kc_t *kc, const char *path, bool must_exist,
                                berth_error_t *err)
{
  char *text = NULL;
  size_t len = 0;
  json_t *doc = NULL;
  json_t *cur;
  json_t **docs;
  char **files;
  char *file;
  berth_status_t st;

  st = berth__k8s_read_file(path, BERTH__K8S_MAX_FILE_BYTES, "kubeconfig",
                            &text, &len, err);
  if (st == BERTH_ENOTFOUND && !must_exist) {
    berth_error_clear(err);
    st = BERTH_OK;
    goto done;
  }
  if (st != BERTH_OK)
    goto done;
  st = berth__k8s_yaml_to_json(path, text, len, &doc, err);
  if (st != BERTH_OK)
    goto done;
  if (!json_is_object(doc)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "kubeconfig %s: expected a mapping at the top level",
                         path);
    goto done;
  }
  docs = realloc(kc->docs, (kc->nfiles + 1) * sizeof(*docs));
  if (docs != NULL)
    kc->docs = docs;
  files = realloc(kc->files, (kc->nfiles + 1) * sizeof(*files));
  if (files != NULL)
    kc->files = files;
  file = strdup(path);
  if (docs == NULL || files == NULL || file == NULL) {
    free(file);
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  kc->docs[kc->nfiles] = doc;
  kc->files[kc->nfiles] = file;
  kc->nfiles++;
  doc = NULL;
  berth_buf_appendf(&kc->sources, "%s%s", kc->sources.len > 0 ? ":" : "", path);
  if ((st = merge_list(&kc->clusters, kc->docs[kc->nfiles - 1], file,
                       "clusters", "cluster", err)) != BERTH_OK ||
      (st = merge_list(&kc->users, kc->docs[kc->nfiles - 1], file, "users",
                       "user", err)) != BERTH_OK ||
      (st = merge_list(&kc->contexts, kc->docs[kc->nfiles - 1], file,
                       "contexts", "context", err)) != BERTH_OK)
    goto done;
  cur = json_object_get(kc->docs[kc->nfiles - 1], "current-context");
  if (cur != NULL && !json_is_null(cur) && !json_is_string(cur)) {
    st = berth__k8s_kc_field_error(err, file, "", "current-context",
                                   "expected a string");
    goto done;
  }
  if (kc->current_context == NULL && json_is_string(cur) &&
      json_string_length(cur) > 0) {
    kc->current_context = json_string_value(cur);
    kc->current_context_file = file;
  }

done:
  json_decref(doc);
  if (text != NULL)
    berth__k8s_free_secret(text);
  return st;
}

static berth_status_t build(const kc_t *kc, const char *context,
                            berth_k8s_config_t *cfg, berth_error_t *err)
{
  const char *name = context != NULL ? context : kc->current_context;
  const char *cluster_name;
  const char *user_name;
  const char *ns;
  kc_entry_t *ctx;
  kc_entry_t *cl;
  kc_entry_t *user = NULL;
  berth_status_t st;

  if (name == NULL || name[0] == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "kubeconfig %s: current-context is not set and no "
                           "context was given",
                           berth_buf_str(&kc->sources));
  ctx = find(&kc->contexts, name);
  if (ctx == NULL)
    return berth_error_set(
        err, BERTH_EINVAL, "kubeconfig %s: %s: context \"%s\" not found",
        context != NULL ? berth_buf_str(&kc->sources)
                        : kc->current_context_file,
        context != NULL ? "--context" : "current-context", name);
  if ((st = berth__k8s_kc_get_str(ctx, "cluster", &cluster_name, err)) !=
          BERTH_OK ||
      (st = berth__k8s_kc_get_str(ctx, "user", &user_name, err)) != BERTH_OK ||
      (st = berth__k8s_kc_get_str(ctx, "namespace", &ns, err)) != BERTH_OK)
    return st;
  if (cluster_name == NULL)
    return berth__k8s_kc_field_error(err, ctx->file, ctx->where, "cluster",
                                     "missing");
  cl = find(&kc->clusters, cluster_name);
  if (cl == NULL) {
    char problem[320];
    snprintf(problem, sizeof(problem), "cluster \"%.256s\" not found",
             cluster_name);
    return berth__k8s_kc_field_error(err, ctx->file, ctx->where, "cluster",
                                     problem);
  }
  if (user_name != NULL && (user = find(&kc->users, user_name)) == NULL) {
    char problem[320];
    snprintf(problem, sizeof(problem), "user \"%.256s\" not found", user_name);
    return berth__k8s_kc_field_error(err, ctx->file, ctx->where, "user",
                                     problem);
  }
  if (!berth__k8s_dup(name, &cfg->context_name) ||
      !berth__k8s_dup(cluster_name, &cfg->cluster_name) ||
      !berth__k8s_dup(user_name, &cfg->user_name) ||
      !berth__k8s_dup(ns != NULL ? ns : "default", &cfg->namespace_name) ||
      !berth__k8s_dup(berth_buf_str(&kc->sources), &cfg->source))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if ((st = berth__k8s_kc_build_cluster(cl, cfg, err)) != BERTH_OK)
    return st;
  if (user != NULL &&
      (st = berth__k8s_kc_build_user(user, cfg, err)) != BERTH_OK)
    return st;
  return BERTH_OK;
}

berth_status_t berth_k8s_config_from_kubeconfig(const char *const *paths,
                                                size_t npaths, bool must_exist,
                                                const char *context,
                                                berth_k8s_config_t *out,
                                                berth_error_t *err)
{
  kc_t kc;
  berth_k8s_config_t cfg;
  size_t i;
  size_t j;
  bool dup;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  memset(&kc, 0, sizeof(kc));
  berth_buf_init(&kc.sources);
  berth_k8s_config_init(&cfg);
  for (i = 0; i < npaths && st == BERTH_OK; i++) {
    if (paths[i] == NULL || paths[i][0] == '\0')
      continue;
    /* A file named twice is read once (client-go deduplicates). */
    for (dup = false, j = 0; j < i; j++)
      dup = dup || (paths[j] != NULL && strcmp(paths[j], paths[i]) == 0);
    if (!dup)
      st = load_file(&kc, paths[i], must_exist, err);
  }
  if (st == BERTH_OK && kc.nfiles == 0) {
    /* clientcmd's "no configuration has been provided". */
    berth_buf_t tried;
    berth_buf_init(&tried);
    for (i = 0; i < npaths; i++)
      if (paths[i] != NULL && paths[i][0] != '\0')
        berth_buf_appendf(&tried, "%s%s", tried.len > 0 ? ":" : "", paths[i]);
    st = berth_error_set(
        err, BERTH_ENOTFOUND, "kubeconfig: no configuration: %s does not exist",
        tried.len > 0 ? berth_buf_str(&tried) : "no file was named and it");
    berth_buf_cleanup(&tried);
  }
  if (st == BERTH_OK)
    st = build(&kc, context, &cfg, err);
  if (st == BERTH_OK) {
    berth_k8s_config_cleanup(out);
    *out = cfg;
    berth_k8s_config_init(&cfg);
  }
  berth_k8s_config_cleanup(&cfg);
  kc_cleanup(&kc);
  return st;
}
