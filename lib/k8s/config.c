/* SPDX-License-Identifier: Apache-2.0 */
/* Where a client's configuration comes from, see include/berth/k8s.h.
 *
 * The order is controller-runtime's config.GetConfig (pkg/client/config),
 * which client-go programs and kubectl agree with:
 *
 *   1. --kubeconfig (this file only; it must exist);
 *   2. $KUBECONFIG when set and non-empty: a colon-separated list of files,
 *      merged (clientcmd.ClientConfigLoadingRules.Precedence);
 *   3. in-cluster (rest.InClusterConfig) when both
 *      KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are set;
 *   4. $HOME/.kube/config.
 *
 * The in-cluster service-account directory can be moved with
 * BERTH_K8S_SERVICEACCOUNT_DIR (tests point it at temporary files). */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/buf.h"
#include "k8s_int.h"

void berth_k8s_config_init(berth_k8s_config_t *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
}

static void free_strv(char **v, bool secret)
{
  size_t i;

  if (v == NULL)
    return;
  for (i = 0; v[i] != NULL; i++) {
    if (secret)
      berth__k8s_free_secret(v[i]);
    else
      free(v[i]);
  }
  free(v);
}

void berth_k8s_config_cleanup(berth_k8s_config_t *cfg)
{
  if (cfg == NULL)
    return;
  free(cfg->server);
  free(cfg->namespace_name);
  free(cfg->ca_file);
  free(cfg->ca_data);
  free(cfg->client_cert_file);
  free(cfg->client_cert_data);
  free(cfg->client_key_file);
  berth__k8s_free_secret(cfg->client_key_data);
  free(cfg->tls_server_name);
  berth__k8s_free_secret(cfg->token);
  free(cfg->token_file);
  if (cfg->exec != NULL) {
    free(cfg->exec->api_version);
    free(cfg->exec->command);
    free_strv(cfg->exec->args, false);
    /* The plugin's environment may carry credentials (AWS_PROFILE is
     * harmless, a password is not): wipe it. */
    free_strv(cfg->exec->env, true);
    free(cfg->exec->interactive_mode);
    free(cfg->exec->install_hint);
    free(cfg->exec);
  }
  free(cfg->source);
  free(cfg->context_name);
  free(cfg->cluster_name);
  free(cfg->user_name);
  memset(cfg, 0, sizeof(*cfg));
}

static const char *sa_dir_for(const char *sa_dir)
{
  const char *env;

  if (sa_dir != NULL && sa_dir[0] != '\0')
    return sa_dir;
  env = getenv("BERTH_K8S_SERVICEACCOUNT_DIR");
  if (env != NULL && env[0] != '\0')
    return env;
  return BERTH_K8S_SERVICEACCOUNT_DIR;
}

berth_status_t berth_k8s_config_in_cluster(const char *sa_dir,
                                           berth_k8s_config_t *out,
                                           berth_error_t *err)
{
  const char *host = getenv("KUBERNETES_SERVICE_HOST");
  const char *port = getenv("KUBERNETES_SERVICE_PORT");
  const char *pod_ns = getenv("POD_NAMESPACE");
  const char *dir = sa_dir_for(sa_dir);
  berth_k8s_config_t cfg;
  char *token_path = NULL;
  char *ca_path = NULL;
  char *ns_path = NULL;
  char *token = NULL;
  char *ns = NULL;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  berth_k8s_config_init(&cfg);
  if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0') {
    st = berth_error_set(err, BERTH_ENOTFOUND,
                         "in-cluster: KUBERNETES_SERVICE_HOST and "
                         "KUBERNETES_SERVICE_PORT must be set");
    goto done;
  }
  token_path = berth_strdup_printf("%s/token", dir);
  ca_path = berth_strdup_printf("%s/ca.crt", dir);
  ns_path = berth_strdup_printf("%s/namespace", dir);
  /* net.JoinHostPort: an IPv6 address goes in brackets. */
  cfg.server = berth_strdup_printf(strchr(host, ':') != NULL ? "https://[%s]:%s"
                                                             : "https://%s:%s",
                                   host, port);
  if (token_path == NULL || ca_path == NULL || ns_path == NULL ||
      cfg.server == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  /* The token must be readable now (rest.InClusterConfig fails without
   * it); the client re-reads the file whenever it changes. */
  st = berth__k8s_read_file(token_path, BERTH__K8S_MAX_FILE_BYTES,
                            "in-cluster: service-account token", &token, NULL,
                            err);
  if (st != BERTH_OK)
    goto done;
  cfg.token = berth_str_trim(token);
  token = NULL;
  cfg.token_file = token_path;
  token_path = NULL;
  /* rest.InClusterConfig uses ca.crt only when it loads; otherwise the
   * system's trust store applies. */
  if (access(ca_path, R_OK) == 0) {
    cfg.ca_file = ca_path;
    ca_path = NULL;
  }
  /* The namespace: $POD_NAMESPACE, the namespace file, "default"
   * (clientcmd's inClusterClientConfig.Namespace). */
  if (pod_ns != NULL && pod_ns[0] != '\0') {
    cfg.namespace_name = strdup(pod_ns);
  } else if (berth__k8s_read_file(ns_path, 4096, "in-cluster namespace", &ns,
                                  NULL, NULL) == BERTH_OK &&
             berth_str_trim(ns)[0] != '\0') {
    cfg.namespace_name = ns;
    ns = NULL;
  } else {
    cfg.namespace_name = strdup("default");
  }
  cfg.source = strdup("in-cluster");
  if (cfg.namespace_name == NULL || cfg.source == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  cfg.in_cluster = true;
  berth_k8s_config_cleanup(out);
  *out = cfg;
  berth_k8s_config_init(&cfg);

done:
  berth_k8s_config_cleanup(&cfg);
  berth__k8s_free_secret(token);
  free(token_path);
  free(ca_path);
  free(ns_path);
  free(ns);
  return st;
}

/* Split $KUBECONFIG on ':' (filepath.SplitList) into a new array. */
static berth_status_t split_list(const char *list, char ***out, size_t *n)
{
  char *copy = strdup(list);
  char **v = NULL;
  char *save = NULL;
  char *tok;
  size_t k = 0;
  size_t cap = 0;
  char **grown;
  berth_status_t st = BERTH_OK;

  if (copy == NULL)
    return BERTH_ENOMEM;
  for (tok = strtok_r(copy, ":", &save); tok != NULL;
       tok = strtok_r(NULL, ":", &save)) {
    if (k + 1 >= cap) {
      cap = cap ? cap * 2 : 8;
      grown = realloc(v, cap * sizeof(*v));
      if (grown == NULL) {
        st = BERTH_ENOMEM;
        goto done;
      }
      v = grown;
    }
    if ((v[k] = strdup(tok)) == NULL) {
      st = BERTH_ENOMEM;
      goto done;
    }
    v[++k] = NULL;
  }

done:
  free(copy);
  if (st != BERTH_OK) {
    free_strv(v, false);
    v = NULL;
    k = 0;
  }
  *out = v;
  *n = k;
  return st;
}

static char *home_kubeconfig(void)
{
  const char *home = getenv("HOME");
  struct passwd pw;
  struct passwd *res = NULL;
  char buf[4096];

  if (home == NULL || home[0] == '\0') {
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
      home = res->pw_dir;
    else
      home = "/";
  }
  return berth_strdup_printf("%s/.kube/config", home);
}

berth_status_t berth_k8s_config_load(const berth_k8s_config_options_t *opts,
                                     berth_k8s_config_t *out,
                                     berth_error_t *err)
{
  berth_k8s_config_options_t none;
  berth_k8s_config_t cfg;
  const char *env = getenv("KUBECONFIG");
  char **files = NULL;
  size_t nfiles = 0;
  char *home = NULL;
  berth_error_t in_err;
  bool in_cluster_env;
  berth_status_t st;

  berth_error_clear(err);
  berth_error_clear(&in_err);
  berth_k8s_config_init(&cfg);
  if (opts == NULL) {
    memset(&none, 0, sizeof(none));
    opts = &none;
  }
  if (opts->kubeconfig != NULL && opts->kubeconfig[0] != '\0') {
    st = berth_k8s_config_from_kubeconfig(&opts->kubeconfig, 1, true,
                                          opts->context, &cfg, err);
  } else if (env != NULL && env[0] != '\0') {
    st = split_list(env, &files, &nfiles);
    if (st == BERTH_OK)
      st = berth_k8s_config_from_kubeconfig((const char *const *)files, nfiles,
                                            false, opts->context, &cfg, err);
    else
      berth_error_set(err, st, "out of memory");
  } else {
    st = berth_k8s_config_in_cluster(opts->serviceaccount_dir, &cfg, &in_err);
    if (st != BERTH_OK && st != BERTH_ENOMEM) {
      /* Like controller-runtime, any in-cluster failure falls back to
       * ~/.kube/config; when that is missing too, the in-cluster error
       * (say, an unreadable token file) is the useful one. */
      in_cluster_env = getenv("KUBERNETES_SERVICE_HOST") != NULL &&
                       getenv("KUBERNETES_SERVICE_PORT") != NULL;
      home = home_kubeconfig();
      if (home == NULL) {
        st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
        goto done;
      }
      st = berth_k8s_config_from_kubeconfig((const char *const *)&home, 1,
                                            false, opts->context, &cfg, err);
      if (st == BERTH_ENOTFOUND && in_cluster_env && err != NULL)
        *err = in_err;
      if (st == BERTH_ENOTFOUND && in_cluster_env)
        st = in_err.status;
      else if (st == BERTH_ENOTFOUND)
        berth_error_set(err, st,
                        "no Kubernetes configuration: not in a cluster "
                        "(KUBERNETES_SERVICE_HOST unset), no $KUBECONFIG, "
                        "and %s does not exist",
                        home);
    } else if (st == BERTH_ENOMEM && err != NULL) {
      *err = in_err;
    }
  }
  if (st != BERTH_OK)
    goto done;
  if (opts->namespace_name != NULL && opts->namespace_name[0] != '\0') {
    free(cfg.namespace_name);
    cfg.namespace_name = strdup(opts->namespace_name);
    if (cfg.namespace_name == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      goto done;
    }
  }
  berth_k8s_config_cleanup(out);
  *out = cfg;
  berth_k8s_config_init(&cfg);

done:
  berth_k8s_config_cleanup(&cfg);
  free_strv(files, false);
  free(home);
  return st;
}

static bool dup_strv(char **src, char ***dst)
{
  size_t n = 0;
  size_t i;

  *dst = NULL;
  if (src == NULL)
    return true;
  while (src[n] != NULL)
    n++;
  *dst = calloc(n + 1, sizeof(char *));
  if (*dst == NULL)
    return false;
  for (i = 0; i < n; i++)
    if (((*dst)[i] = strdup(src[i])) == NULL)
      return false;
  return true;
}

berth_status_t berth__k8s_config_copy(const berth_k8s_config_t *src,
                                      berth_k8s_config_t *dst)
{
  berth_k8s_config_t c;
  bool ok;

  berth_k8s_config_init(&c);
  c.insecure_skip_tls_verify = src->insecure_skip_tls_verify;
  c.in_cluster = src->in_cluster;
  ok = berth__k8s_dup(src->server, &c.server) &&
       berth__k8s_dup(src->namespace_name, &c.namespace_name) &&
       berth__k8s_dup(src->ca_file, &c.ca_file) &&
       berth__k8s_dup(src->ca_data, &c.ca_data) &&
       berth__k8s_dup(src->client_cert_file, &c.client_cert_file) &&
       berth__k8s_dup(src->client_cert_data, &c.client_cert_data) &&
       berth__k8s_dup(src->client_key_file, &c.client_key_file) &&
       berth__k8s_dup(src->client_key_data, &c.client_key_data) &&
       berth__k8s_dup(src->tls_server_name, &c.tls_server_name) &&
       berth__k8s_dup(src->token, &c.token) &&
       berth__k8s_dup(src->token_file, &c.token_file) &&
       berth__k8s_dup(src->source, &c.source) &&
       berth__k8s_dup(src->context_name, &c.context_name) &&
       berth__k8s_dup(src->cluster_name, &c.cluster_name) &&
       berth__k8s_dup(src->user_name, &c.user_name);
  if (ok && src->exec != NULL) {
    c.exec = calloc(1, sizeof(*c.exec));
    ok = c.exec != NULL &&
         berth__k8s_dup(src->exec->api_version, &c.exec->api_version) &&
         berth__k8s_dup(src->exec->command, &c.exec->command) &&
         dup_strv(src->exec->args, &c.exec->args) &&
         dup_strv(src->exec->env, &c.exec->env) &&
         berth__k8s_dup(src->exec->interactive_mode,
                        &c.exec->interactive_mode) &&
         berth__k8s_dup(src->exec->install_hint, &c.exec->install_hint);
    if (c.exec != NULL)
      c.exec->provide_cluster_info = src->exec->provide_cluster_info;
  }
  if (!ok) {
    berth_k8s_config_cleanup(&c);
    return BERTH_ENOMEM;
  }
  *dst = c;
  return BERTH_OK;
}
