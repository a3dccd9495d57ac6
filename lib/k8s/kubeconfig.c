/* kubeconfig files: load, merge, select a context, build a configuration.
 * See berth_k8s_config_from_kubeconfig in include/berth/k8s.h.
 *
 * Merging follows client-go's ClientConfigLoadingRules.Load: files are read
 * in order; for clusters, users and contexts the first file that defines a
 * name wins and later definitions of that name are ignored; the first file
 * that sets current-context wins. Relative paths (certificate-authority,
 * client-certificate, client-key, tokenFile, and an exec command that
 * contains a '/') are resolved against the directory of the file that
 * holds them (clientcmd.ResolvePaths). Errors name the file and the field:
 * "kubeconfig /x/config: users[0].user.client-key-data: invalid base64". */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "k8s_int.h"
#include "yaml_int.h"

typedef struct {
  const char *name;
  json_t *body;      /* the cluster/user/context object, borrowed; may be
                      * NULL */
  const char *file;  /* the file that defined it (borrowed from kc_t) */
  char where[80];    /* "users[2].user" */
} kc_entry_t;

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

static berth_status_t field_error(berth_error_t *err, const char *file,
                                  const char *where, const char *field,
                                  const char *problem)
{
  return berth_error_set(err, BERTH_EINVAL, "kubeconfig %s: %s%s%s: %s", file,
                         where, where[0] != '\0' && field[0] != '\0' ? "." : "",
                         field, problem);
}

/* An optional string field: missing or null gives NULL. */
static berth_status_t get_str(const kc_entry_t *e, const char *field,
                              const char **out, berth_error_t *err)
{
  json_t *v = e->body != NULL ? json_object_get(e->body, field) : NULL;
  char problem[64];

  *out = NULL;
  if (v == NULL || json_is_null(v))
    return BERTH_OK;
  if (!json_is_string(v)) {
    snprintf(problem, sizeof(problem), "expected a string, got %s",
             berth_json_type_name(v));
    return field_error(err, e->file, e->where, field, problem);
  }
  *out = json_string_value(v);
  if ((*out)[0] == '\0')
    *out = NULL;
  return BERTH_OK;
}

/* An optional boolean, YAML 1.1 spellings as go-yaml v2 reads them. */
static berth_status_t get_bool(const kc_entry_t *e, const char *field,
                               bool *out, berth_error_t *err)
{
  static const char *const yes[] = { "true", "yes", "on", "y" };
  static const char *const no[] = { "false", "no", "off", "n" };
  const char *s;
  size_t i;
  berth_status_t st = get_str(e, field, &s, err);

  *out = false;
  if (st != BERTH_OK || s == NULL)
    return st;
  for (i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = true;
      return BERTH_OK;
    }
    if (strcasecmp(s, no[i]) == 0)
      return BERTH_OK;
  }
  return field_error(err, e->file, e->where, field, "expected true or false");
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
static berth_status_t merge_list(kc_list_t *list, json_t *doc,
                                 const char *file, const char *key,
                                 const char *body_key, berth_error_t *err)
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
    return field_error(err, file, "", key, "expected a list");
  json_array_foreach(arr, i, item) {
    snprintf(where, sizeof(where), "%s[%zu]", key, i);
    if (!json_is_object(item))
      return field_error(err, file, where, "", "expected a mapping");
    name = json_object_get(item, "name");
    if (!json_is_string(name) || json_string_length(name) == 0)
      return field_error(err, file, where, "name", "missing");
    body = json_object_get(item, body_key);
    if (body != NULL && !json_is_null(body) && !json_is_object(body))
      return field_error(err, file, where, body_key, "expected a mapping");
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
  berth_buf_appendf(&kc->sources, "%s%s", kc->sources.len > 0 ? ":" : "",
                    path);
  if ((st = merge_list(&kc->clusters, kc->docs[kc->nfiles - 1], file,
                       "clusters", "cluster", err)) != BERTH_OK ||
      (st = merge_list(&kc->users, kc->docs[kc->nfiles - 1], file, "users",
                       "user", err)) != BERTH_OK ||
      (st = merge_list(&kc->contexts, kc->docs[kc->nfiles - 1], file,
                       "contexts", "context", err)) != BERTH_OK)
    goto done;
  cur = json_object_get(kc->docs[kc->nfiles - 1], "current-context");
  if (cur != NULL && !json_is_null(cur) && !json_is_string(cur)) {
    st = field_error(err, file, "", "current-context", "expected a string");
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

/* A path named in file, made absolute against the file's directory. */
static berth_status_t resolve_path(const char *file, const char *p,
                                   char **out)
{
  char *copy;
  char *dir;

  *out = NULL;
  if (p == NULL)
    return BERTH_OK;
  if (p[0] == '/') {
    *out = strdup(p);
  } else {
    copy = strdup(file);
    if (copy == NULL)
      return BERTH_ENOMEM;
    dir = dirname(copy);
    *out = berth_strdup_printf("%s/%s", dir, p);
    free(copy);
  }
  return *out != NULL ? BERTH_OK : BERTH_ENOMEM;
}

/* certificate-authority-data and friends: base64 of PEM text. */
static berth_status_t get_data(const kc_entry_t *e, const char *field,
                               char **out, berth_error_t *err)
{
  const char *s;
  berth_status_t st = get_str(e, field, &s, err);

  *out = NULL;
  if (st != BERTH_OK || s == NULL)
    return st;
  st = berth__k8s_base64_decode(s, out, NULL);
  if (st == BERTH_EPARSE)
    return field_error(err, e->file, e->where, field, "invalid base64");
  if (st != BERTH_OK)
    return berth_error_set(err, st, "out of memory");
  return BERTH_OK;
}

static berth_status_t get_path(const kc_entry_t *e, const char *field,
                               char **out, berth_error_t *err)
{
  const char *s;
  berth_status_t st = get_str(e, field, &s, err);

  if (st != BERTH_OK)
    return st;
  st = resolve_path(e->file, s, out);
  return st == BERTH_OK ? st : berth_error_set(err, st, "out of memory");
}

static berth_status_t build_cluster(const kc_entry_t *e,
                                    berth_k8s_config_t *cfg,
                                    berth_error_t *err)
{
  const char *server;
  const char *tls_name;
  size_t n;
  berth_status_t st;

  if ((st = get_str(e, "server", &server, err)) != BERTH_OK)
    return st;
  if (server == NULL)
    return field_error(err, e->file, e->where, "server", "missing");
  /* client-go's DefaultServerURL: a bare host[:port] means https. */
  if (berth_str_has_prefix(server, "https://") ||
      berth_str_has_prefix(server, "http://"))
    cfg->server = strdup(server);
  else if (strstr(server, "://") != NULL)
    return field_error(err, e->file, e->where, "server",
                       "only http:// and https:// URLs are supported");
  else
    cfg->server = berth_strdup_printf("https://%s", server);
  if (cfg->server == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  n = strlen(cfg->server);
  while (n > 0 && cfg->server[n - 1] == '/')
    cfg->server[--n] = '\0';
  if ((st = get_path(e, "certificate-authority", &cfg->ca_file, err)) !=
        BERTH_OK ||
      (st = get_data(e, "certificate-authority-data", &cfg->ca_data, err)) !=
        BERTH_OK ||
      (st = get_bool(e, "insecure-skip-tls-verify",
                     &cfg->insecure_skip_tls_verify, err)) != BERTH_OK ||
      (st = get_str(e, "tls-server-name", &tls_name, err)) != BERTH_OK)
    return st;
  if (cfg->insecure_skip_tls_verify &&
      (cfg->ca_file != NULL || cfg->ca_data != NULL))
    return field_error(err, e->file, e->where, "insecure-skip-tls-verify",
                       "cannot be true together with certificate-authority "
                       "or certificate-authority-data");
  if (!berth__k8s_dup(tls_name, &cfg->tls_server_name))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  return BERTH_OK;
}

/* users[].user.exec: an ExecConfig (clientcmd/api/v1). */
static berth_status_t build_exec(const kc_entry_t *user, json_t *exec,
                                 berth_k8s_config_t *cfg, berth_error_t *err)
{
  kc_entry_t e = *user;
  berth_k8s_exec_config_t *x;
  json_t *list;
  json_t *item;
  const char *s;
  const char *name;
  const char *value;
  size_t i;
  berth_status_t st;

  snprintf(e.where, sizeof(e.where), "%.60s.exec", user->where);
  if (!json_is_object(exec))
    return field_error(err, e.file, e.where, "", "expected a mapping");
  e.body = exec;
  x = calloc(1, sizeof(*x));
  if (x == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  cfg->exec = x;
  if ((st = get_str(&e, "apiVersion", &s, err)) != BERTH_OK)
    return st;
  if (s == NULL)
    return field_error(err, e.file, e.where, "apiVersion", "missing");
  if (strcmp(s, "client.authentication.k8s.io/v1") != 0 &&
      strcmp(s, "client.authentication.k8s.io/v1beta1") != 0)
    return field_error(err, e.file, e.where, "apiVersion",
                       "must be client.authentication.k8s.io/v1 or v1beta1");
  if (!berth__k8s_dup(s, &x->api_version))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if ((st = get_str(&e, "command", &s, err)) != BERTH_OK)
    return st;
  if (s == NULL)
    return field_error(err, e.file, e.where, "command", "missing");
  /* Only a command with a path separator is relative to the file. */
  st = strchr(s, '/') != NULL ? resolve_path(e.file, s, &x->command)
                              : (berth__k8s_dup(s, &x->command) ? BERTH_OK
                                                                : BERTH_ENOMEM);
  if (st != BERTH_OK)
    return berth_error_set(err, st, "out of memory");
  if ((st = get_str(&e, "installHint", &s, err)) != BERTH_OK)
    return st;
  if (!berth__k8s_dup(s, &x->install_hint))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if ((st = get_bool(&e, "provideClusterInfo", &x->provide_cluster_info,
                     err)) != BERTH_OK ||
      (st = get_str(&e, "interactiveMode", &s, err)) != BERTH_OK)
    return st;
  /* clientcmd/api/v1 defaults interactiveMode to IfAvailable for v1beta1
   * only; v1 must say it (validation.go). */
  if (s == NULL && strcmp(x->api_version, "client.authentication.k8s.io/v1") == 0)
    return field_error(err, e.file, e.where, "interactiveMode",
                       "missing (required with client.authentication.k8s.io/v1)");
  if (s == NULL)
    s = "IfAvailable";
  if (strcmp(s, "Never") != 0 && strcmp(s, "IfAvailable") != 0 &&
      strcmp(s, "Always") != 0)
    return field_error(err, e.file, e.where, "interactiveMode",
                       "must be Never, IfAvailable or Always");
  if (strcmp(s, "Always") == 0)
    return field_error(err, e.file, e.where, "interactiveMode",
                       "Always needs a terminal, which berth never gives a "
                       "plugin");
  if (!berth__k8s_dup(s, &x->interactive_mode))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");

  list = json_object_get(exec, "args");
  if (list != NULL && !json_is_null(list)) {
    if (!json_is_array(list))
      return field_error(err, e.file, e.where, "args", "expected a list");
    x->args = calloc(json_array_size(list) + 1, sizeof(char *));
    if (x->args == NULL)
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    json_array_foreach(list, i, item) {
      if (!json_is_string(item)) {
        char f[32];
        snprintf(f, sizeof(f), "args[%zu]", i);
        return field_error(err, e.file, e.where, f, "expected a string");
      }
      if ((x->args[i] = strdup(json_string_value(item))) == NULL)
        return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
  }
  list = json_object_get(exec, "env");
  if (list != NULL && !json_is_null(list)) {
    if (!json_is_array(list))
      return field_error(err, e.file, e.where, "env", "expected a list");
    x->env = calloc(json_array_size(list) + 1, sizeof(char *));
    if (x->env == NULL)
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    json_array_foreach(list, i, item) {
      char f[32];
      name = json_string_value(json_object_get(item, "name"));
      value = json_string_value(json_object_get(item, "value"));
      snprintf(f, sizeof(f), "env[%zu]", i);
      if (name == NULL || name[0] == '\0' || strchr(name, '=') != NULL)
        return field_error(err, e.file, e.where, f,
                           "name missing or not a variable name");
      if (value == NULL && !json_is_null(json_object_get(item, "value")) &&
          json_object_get(item, "value") != NULL)
        return field_error(err, e.file, e.where, f, "value: expected a string");
      x->env[i] = berth_strdup_printf("%s=%s", name, value ? value : "");
      if (x->env[i] == NULL)
        return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
  }
  return BERTH_OK;
}

static berth_status_t build_user(const kc_entry_t *e, berth_k8s_config_t *cfg,
                                 berth_error_t *err)
{
  const char *token;
  const char *username;
  const char *password;
  json_t *exec;
  int methods = 0;
  berth_status_t st;

  if (e->body == NULL)
    return BERTH_OK;
  if (json_object_get(e->body, "auth-provider") != NULL &&
      !json_is_null(json_object_get(e->body, "auth-provider")))
    return field_error(err, e->file, e->where, "auth-provider",
                       "auth-provider plugins are not supported (client-go "
                       "removed them; use an exec plugin)");
  if ((st = get_str(e, "token", &token, err)) != BERTH_OK ||
      (st = get_path(e, "tokenFile", &cfg->token_file, err)) != BERTH_OK ||
      (st = get_path(e, "client-certificate", &cfg->client_cert_file, err)) !=
        BERTH_OK ||
      (st = get_data(e, "client-certificate-data", &cfg->client_cert_data,
                     err)) != BERTH_OK ||
      (st = get_path(e, "client-key", &cfg->client_key_file, err)) !=
        BERTH_OK ||
      (st = get_data(e, "client-key-data", &cfg->client_key_data, err)) !=
        BERTH_OK ||
      (st = get_str(e, "username", &username, err)) != BERTH_OK ||
      (st = get_str(e, "password", &password, err)) != BERTH_OK)
    return st;
  if (!berth__k8s_dup(token, &cfg->token))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  /* As clientcmd's validateAuthInfo. */
  if (cfg->client_cert_file != NULL && cfg->client_cert_data != NULL)
    return field_error(err, e->file, e->where, "client-certificate-data",
                       "client-certificate is given too; give only one");
  if (cfg->client_key_file != NULL && cfg->client_key_data != NULL)
    return field_error(err, e->file, e->where, "client-key-data",
                       "client-key is given too; give only one");
  if ((cfg->client_cert_file != NULL || cfg->client_cert_data != NULL) !=
      (cfg->client_key_file != NULL || cfg->client_key_data != NULL))
    return field_error(err, e->file, e->where,
                       cfg->client_key_file || cfg->client_key_data
                         ? "client-certificate"
                         : "client-key",
                       "missing (a client certificate needs its key and the "
                       "key its certificate)");
  if (token != NULL || cfg->token_file != NULL)
    methods++;
  if (username != NULL || password != NULL) {
    /* Basic authentication is not supported: it is disabled in every
     * supported Kubernetes release. */
    return field_error(err, e->file, e->where,
                       username != NULL ? "username" : "password",
                       "basic authentication is not supported");
  }
  if (methods > 1)
    return field_error(err, e->file, e->where, "",
                       "more than one authentication method");
  exec = json_object_get(e->body, "exec");
  if (exec != NULL && !json_is_null(exec))
    return build_exec(e, exec, cfg, err);
  return BERTH_OK;
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

  if (kc->nfiles == 0)
    return berth_error_set(err, BERTH_ENOTFOUND,
                           "kubeconfig: no configuration has been provided "
                           "(no kubeconfig file exists)");
  if (name == NULL || name[0] == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "kubeconfig %s: current-context is not set and no "
                           "context was given",
                           berth_buf_str(&kc->sources));
  ctx = find(&kc->contexts, name);
  if (ctx == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "kubeconfig %s: %s: context \"%s\" not found",
                           context != NULL ? berth_buf_str(&kc->sources)
                                           : kc->current_context_file,
                           context != NULL ? "--context" : "current-context",
                           name);
  if ((st = get_str(ctx, "cluster", &cluster_name, err)) != BERTH_OK ||
      (st = get_str(ctx, "user", &user_name, err)) != BERTH_OK ||
      (st = get_str(ctx, "namespace", &ns, err)) != BERTH_OK)
    return st;
  if (cluster_name == NULL)
    return field_error(err, ctx->file, ctx->where, "cluster", "missing");
  cl = find(&kc->clusters, cluster_name);
  if (cl == NULL) {
    char problem[320];
    snprintf(problem, sizeof(problem), "cluster \"%.256s\" not found",
             cluster_name);
    return field_error(err, ctx->file, ctx->where, "cluster", problem);
  }
  if (user_name != NULL && (user = find(&kc->users, user_name)) == NULL) {
    char problem[320];
    snprintf(problem, sizeof(problem), "user \"%.256s\" not found", user_name);
    return field_error(err, ctx->file, ctx->where, "user", problem);
  }
  if (!berth__k8s_dup(name, &cfg->context_name) ||
      !berth__k8s_dup(cluster_name, &cfg->cluster_name) ||
      !berth__k8s_dup(user_name, &cfg->user_name) ||
      !berth__k8s_dup(ns != NULL ? ns : "default", &cfg->namespace_name) ||
      !berth__k8s_dup(berth_buf_str(&kc->sources), &cfg->source))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if ((st = build_cluster(cl, cfg, err)) != BERTH_OK)
    return st;
  if (user != NULL && (st = build_user(user, cfg, err)) != BERTH_OK)
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
