/* SPDX-License-Identifier: Apache-2.0 */
/* The fields of kubeconfig clusters and users (clientcmd/api/v1): what
 * they mean and how client-go validates them (validation.go). Errors name
 * the file and the field. See lib/k8s/kubeconfig_int.h. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "k8s_int.h"
#include "kubeconfig_int.h"

berth_status_t berth__k8s_kc_field_error(berth_error_t *err, const char *file,
                                         const char *where, const char *field,
                                         const char *problem)
{
  /* "FIELD (PROBLEM)", not "FIELD: PROBLEM": the log redactor takes text
   * after "client-key-data:" or "token:" for a secret and hides it. */
  return berth_error_set(err, BERTH_EINVAL, "kubeconfig %s: %s%s%s (%s)", file,
                         where, where[0] != '\0' && field[0] != '\0' ? "." : "",
                         field, problem);
}

/* An optional string field: missing or null gives NULL. */
berth_status_t berth__k8s_kc_get_str(const kc_entry_t *e, const char *field,
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
    return berth__k8s_kc_field_error(err, e->file, e->where, field, problem);
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
  static const char *const yes[] = {"true", "yes", "on", "y"};
  static const char *const no[] = {"false", "no", "off", "n"};
  const char *s;
  size_t i;
  berth_status_t st = berth__k8s_kc_get_str(e, field, &s, err);

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
  return berth__k8s_kc_field_error(err, e->file, e->where, field,
                                   "expected true or false");
}

/* A path named in file, made absolute against the file's directory. */
static berth_status_t resolve_path(const char *file, const char *p, char **out)
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
  berth_status_t st = berth__k8s_kc_get_str(e, field, &s, err);

  *out = NULL;
  if (st != BERTH_OK || s == NULL)
    return st;
  st = berth__k8s_base64_decode(s, out, NULL);
  if (st == BERTH_EPARSE)
    return berth__k8s_kc_field_error(err, e->file, e->where, field,
                                     "invalid base64");
  if (st != BERTH_OK)
    return berth_error_set(err, st, "out of memory");
  return BERTH_OK;
}

static berth_status_t get_path(const kc_entry_t *e, const char *field,
                               char **out, berth_error_t *err)
{
  const char *s;
  berth_status_t st = berth__k8s_kc_get_str(e, field, &s, err);

  if (st != BERTH_OK)
    return st;
  st = resolve_path(e->file, s, out);
  return st == BERTH_OK ? st : berth_error_set(err, st, "out of memory");
}

berth_status_t berth__k8s_kc_build_cluster(const kc_entry_t *e,
                                           berth_k8s_config_t *cfg,
                                           berth_error_t *err)
{
  const char *server;
  const char *tls_name;
  size_t n;
  berth_status_t st;

  if ((st = berth__k8s_kc_get_str(e, "server", &server, err)) != BERTH_OK)
    return st;
  if (server == NULL)
    return berth__k8s_kc_field_error(err, e->file, e->where, "server",
                                     "missing");
  /* client-go's DefaultServerURL: a bare host[:port] means https. */
  if (berth_str_has_prefix(server, "https://") ||
      berth_str_has_prefix(server, "http://"))
    cfg->server = strdup(server);
  else if (strstr(server, "://") != NULL)
    return berth__k8s_kc_field_error(
        err, e->file, e->where, "server",
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
      (st = berth__k8s_kc_get_str(e, "tls-server-name", &tls_name, err)) !=
          BERTH_OK)
    return st;
  if (cfg->insecure_skip_tls_verify &&
      (cfg->ca_file != NULL || cfg->ca_data != NULL))
    return berth__k8s_kc_field_error(
        err, e->file, e->where, "insecure-skip-tls-verify",
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
    return berth__k8s_kc_field_error(err, e.file, e.where, "",
                                     "expected a mapping");
  e.body = exec;
  x = calloc(1, sizeof(*x));
  if (x == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  cfg->exec = x;
  if ((st = berth__k8s_kc_get_str(&e, "apiVersion", &s, err)) != BERTH_OK)
    return st;
  if (s == NULL)
    return berth__k8s_kc_field_error(err, e.file, e.where, "apiVersion",
                                     "missing");
  if (strcmp(s, "client.authentication.k8s.io/v1") != 0 &&
      strcmp(s, "client.authentication.k8s.io/v1beta1") != 0)
    return berth__k8s_kc_field_error(
        err, e.file, e.where, "apiVersion",
        "must be client.authentication.k8s.io/v1 or v1beta1");
  if (!berth__k8s_dup(s, &x->api_version))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if ((st = berth__k8s_kc_get_str(&e, "command", &s, err)) != BERTH_OK)
    return st;
  if (s == NULL)
    return berth__k8s_kc_field_error(err, e.file, e.where, "command",
                                     "missing");
  /* Only a command with a path separator is relative to the file. */
  st = strchr(s, '/') != NULL
           ? resolve_path(e.file, s, &x->command)
           : (berth__k8s_dup(s, &x->command) ? BERTH_OK : BERTH_ENOMEM);
  if (st != BERTH_OK)
    return berth_error_set(err, st, "out of memory");
  if ((st = berth__k8s_kc_get_str(&e, "installHint", &s, err)) != BERTH_OK)
    return st;
  if (!berth__k8s_dup(s, &x->install_hint))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if ((st = get_bool(&e, "provideClusterInfo", &x->provide_cluster_info,
                     err)) != BERTH_OK ||
      (st = berth__k8s_kc_get_str(&e, "interactiveMode", &s, err)) != BERTH_OK)
    return st;
  /* clientcmd/api/v1 defaults interactiveMode to IfAvailable for v1beta1
   * only; v1 must say it (validation.go). */
  if (s == NULL &&
      strcmp(x->api_version, "client.authentication.k8s.io/v1") == 0)
    return berth__k8s_kc_field_error(
        err, e.file, e.where, "interactiveMode",
        "missing (required with client.authentication.k8s.io/v1)");
  if (s == NULL)
    s = "IfAvailable";
  if (strcmp(s, "Never") != 0 && strcmp(s, "IfAvailable") != 0 &&
      strcmp(s, "Always") != 0)
    return berth__k8s_kc_field_error(err, e.file, e.where, "interactiveMode",
                                     "must be Never, IfAvailable or Always");
  if (strcmp(s, "Always") == 0)
    return berth__k8s_kc_field_error(
        err, e.file, e.where, "interactiveMode",
        "Always needs a terminal, which berth never gives a "
        "plugin");
  if (!berth__k8s_dup(s, &x->interactive_mode))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");

  list = json_object_get(exec, "args");
  if (list != NULL && !json_is_null(list)) {
    if (!json_is_array(list))
      return berth__k8s_kc_field_error(err, e.file, e.where, "args",
                                       "expected a list");
    x->args = calloc(json_array_size(list) + 1, sizeof(char *));
    if (x->args == NULL)
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    json_array_foreach(list, i, item)
    {
      if (!json_is_string(item)) {
        char f[32];
        snprintf(f, sizeof(f), "args[%zu]", i);
        return berth__k8s_kc_field_error(err, e.file, e.where, f,
                                         "expected a string");
      }
      if ((x->args[i] = strdup(json_string_value(item))) == NULL)
        return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
  }
  list = json_object_get(exec, "env");
  if (list != NULL && !json_is_null(list)) {
    if (!json_is_array(list))
      return berth__k8s_kc_field_error(err, e.file, e.where, "env",
                                       "expected a list");
    x->env = calloc(json_array_size(list) + 1, sizeof(char *));
    if (x->env == NULL)
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    json_array_foreach(list, i, item)
    {
      char f[32];
      name = json_string_value(json_object_get(item, "name"));
      value = json_string_value(json_object_get(item, "value"));
      snprintf(f, sizeof(f), "env[%zu]", i);
      if (name == NULL || name[0] == '\0' || strchr(name, '=') != NULL)
        return berth__k8s_kc_field_error(err, e.file, e.where, f,
                                         "name missing or not a variable name");
      if (value == NULL && !json_is_null(json_object_get(item, "value")) &&
          json_object_get(item, "value") != NULL)
        return berth__k8s_kc_field_error(err, e.file, e.where, f,
                                         "value: expected a string");
      x->env[i] = berth_strdup_printf("%s=%s", name, value ? value : "");
      if (x->env[i] == NULL)
        return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
  }
  return BERTH_OK;
}

berth_status_t berth__k8s_kc_build_user(const kc_entry_t *e,
                                        berth_k8s_config_t *cfg,
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
    return berth__k8s_kc_field_error(
        err, e->file, e->where, "auth-provider",
        "auth-provider plugins are not supported (client-go "
        "removed them; use an exec plugin)");
  if ((st = berth__k8s_kc_get_str(e, "token", &token, err)) != BERTH_OK ||
      (st = get_path(e, "tokenFile", &cfg->token_file, err)) != BERTH_OK ||
      (st = get_path(e, "client-certificate", &cfg->client_cert_file, err)) !=
          BERTH_OK ||
      (st = get_data(e, "client-certificate-data", &cfg->client_cert_data,
                     err)) != BERTH_OK ||
      (st = get_path(e, "client-key", &cfg->client_key_file, err)) !=
          BERTH_OK ||
      (st = get_data(e, "client-key-data", &cfg->client_key_data, err)) !=
          BERTH_OK ||
      (st = berth__k8s_kc_get_str(e, "username", &username, err)) != BERTH_OK ||
      (st = berth__k8s_kc_get_str(e, "password", &password, err)) != BERTH_OK)
    return st;
  if (!berth__k8s_dup(token, &cfg->token))
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  /* As clientcmd's validateAuthInfo. */
  if (cfg->client_cert_file != NULL && cfg->client_cert_data != NULL)
    return berth__k8s_kc_field_error(
        err, e->file, e->where, "client-certificate-data",
        "client-certificate is given too; give only one");
  if (cfg->client_key_file != NULL && cfg->client_key_data != NULL)
    return berth__k8s_kc_field_error(err, e->file, e->where, "client-key-data",
                                     "client-key is given too; give only one");
  if ((cfg->client_cert_file != NULL || cfg->client_cert_data != NULL) !=
      (cfg->client_key_file != NULL || cfg->client_key_data != NULL))
    return berth__k8s_kc_field_error(
        err, e->file, e->where,
        cfg->client_key_file || cfg->client_key_data ? "client-certificate"
                                                     : "client-key",
        "missing (a client certificate needs its key and the "
        "key its certificate)");
  if (token != NULL || cfg->token_file != NULL)
    methods++;
  if (username != NULL || password != NULL) {
    /* Basic authentication is not supported: it is disabled in every
     * supported Kubernetes release. */
    return berth__k8s_kc_field_error(err, e->file, e->where,
                                     username != NULL ? "username" : "password",
                                     "basic authentication is not supported");
  }
  if (methods > 1)
    return berth__k8s_kc_field_error(err, e->file, e->where, "",
                                     "more than one authentication method");
  exec = json_object_get(e->body, "exec");
  if (exec != NULL && !json_is_null(exec))
    return build_exec(e, exec, cfg, err);
  return BERTH_OK;
}
