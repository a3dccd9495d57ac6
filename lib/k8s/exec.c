/* SPDX-License-Identifier: Apache-2.0 */
/* Exec credential plugins (client.authentication.k8s.io ExecCredential),
 * as client-go's plugin/pkg/client/auth/exec runs them: the command is run
 * directly (never through a shell) with its args, the caller's environment
 * plus the configured env entries and KUBERNETES_EXEC_INFO, standard input
 * closed (we are never interactive), standard error passed through, and its
 * standard output parsed as an ExecCredential. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/buf.h"
#include "berth/clock.h"
#include "informer_int.h"
#include "berth/json.h"
#include "k8s_int.h"

extern char **environ;

#define MAX_OUTPUT ((size_t)1024 * 1024)

void berth__k8s_exec_result_cleanup(berth__k8s_exec_result_t *r)
{
  if (r == NULL)
    return;
  berth__k8s_free_secret(r->token);
  free(r->cert_data);
  berth__k8s_free_secret(r->key_data);
  memset(r, 0, sizeof(*r));
}

berth_status_t berth__k8s_exec_parse(const char *api_version, const char *text,
                                     size_t len, berth__k8s_exec_result_t *out,
                                     berth_error_t *err)
{
  json_t *doc = NULL;
  json_t *status;
  const char *v;
  const char *kind;
  const char *token;
  const char *cert;
  const char *key;
  const char *exp;
  berth__k8s_exec_result_t r;
  berth_status_t st = BERTH_OK;

  memset(&r, 0, sizeof(r));
  doc = json_loadb(text, len, 0, NULL);
  if (!json_is_object(doc)) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "output is not an ExecCredential JSON object");
    goto done;
  }
  v = json_string_value(json_object_get(doc, "apiVersion"));
  kind = json_string_value(json_object_get(doc, "kind"));
  if (v == NULL || strcmp(v, api_version) != 0) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "apiVersion: plugin returned \"%s\", configured for "
                         "\"%s\"",
                         v != NULL ? v : "", api_version);
    goto done;
  }
  if (kind == NULL || strcmp(kind, "ExecCredential") != 0) {
    st = berth_error_set(err, BERTH_EPARSE, "kind: expected ExecCredential");
    goto done;
  }
  status = json_object_get(doc, "status");
  if (!json_is_object(status)) {
    st = berth_error_set(err, BERTH_EPARSE, "status: missing");
    goto done;
  }
  token = json_string_value(json_object_get(status, "token"));
  cert = json_string_value(json_object_get(status, "clientCertificateData"));
  key = json_string_value(json_object_get(status, "clientKeyData"));
  exp = json_string_value(json_object_get(status, "expirationTimestamp"));
  if (token != NULL && token[0] == '\0')
    token = NULL;
  if (cert != NULL && cert[0] == '\0')
    cert = NULL;
  if (key != NULL && key[0] == '\0')
    key = NULL;
  if (token == NULL && cert == NULL && key == NULL) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "status: neither a token nor a certificate and key");
    goto done;
  }
  if ((cert == NULL) != (key == NULL)) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "status: a client certificate needs its key");
    goto done;
  }
  if (exp != NULL && berth__k8s_parse_time(exp, &r.expires_ms) != BERTH_OK) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "status.expirationTimestamp: not an RFC 3339 time");
    goto done;
  }
  if (!berth__k8s_dup(token, &r.token) || !berth__k8s_dup(cert, &r.cert_data) ||
      !berth__k8s_dup(key, &r.key_data)) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  *out = r;
  memset(&r, 0, sizeof(r));

done:
  berth__k8s_exec_result_cleanup(&r);
  if (doc != NULL) {
    /* The document holds the token: wipe its strings before freeing. */
    json_t *s = json_object_get(doc, "status");
    const char *k;
    json_t *val;
    json_object_foreach(s, k, val) if (json_is_string(val))
        berth_memzero((char *)json_string_value(val), json_string_length(val));
    json_decref(doc);
  }
  return st;
}

/* KUBERNETES_EXEC_INFO: an ExecCredential with spec.interactive and, when
 * provideClusterInfo is set, spec.cluster. */
static char *exec_info(const berth_k8s_config_t *cfg)
{
  json_t *doc;
  json_t *spec;
  json_t *cluster;
  char *ca = NULL;
  char *ca64 = NULL;
  size_t ca_len = 0;
  char *text = NULL;
  /* The caller free()s the text: malloc's, even when a request made in
   * an informer's decode arena needs fresh credentials. */
  bool was = berth__k8s_arena_suspend();

  doc = json_pack("{s:s, s:s, s:{s:b}}", "kind", "ExecCredential", "apiVersion",
                  cfg->exec->api_version, "spec", "interactive", 0);
  if (doc == NULL) {
    berth__k8s_arena_resume(was);
    return NULL;
  }
  spec = json_object_get(doc, "spec");
  if (cfg->exec->provide_cluster_info) {
    cluster =
        json_pack("{s:s, s:b}", "server", cfg->server,
                  "insecure-skip-tls-verify", cfg->insecure_skip_tls_verify);
    if (cfg->ca_data != NULL)
      ca64 = berth__k8s_base64_encode(cfg->ca_data, strlen(cfg->ca_data));
    else if (cfg->ca_file != NULL &&
             berth__k8s_read_file(cfg->ca_file, BERTH__K8S_MAX_FILE_BYTES, "CA",
                                  &ca, &ca_len, NULL) == BERTH_OK)
      ca64 = berth__k8s_base64_encode(ca, ca_len);
    if (cluster != NULL && ca64 != NULL)
      json_object_set_new(cluster, "certificate-authority-data",
                          json_string(ca64));
    if (cluster != NULL && cfg->tls_server_name != NULL)
      json_object_set_new(cluster, "tls-server-name",
                          json_string(cfg->tls_server_name));
    if (cluster != NULL)
      json_object_set_new(spec, "cluster", cluster);
  }
  text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  free(ca);
  free(ca64);
  berth__k8s_arena_resume(was);
  return text;
}

/* environ + configured entries + KUBERNETES_EXEC_INFO; a configured name
 * replaces the inherited one. The strings are borrowed except *owned. */
static char **build_env(const berth_k8s_config_t *cfg, char **owned)
{
  size_t n = 0;
  size_t m = 0;
  size_t i;
  size_t j;
  size_t k = 0;
  char **env;
  const char *eq;
  bool replaced;
  char *info = exec_info(cfg);

  if (info == NULL)
    return NULL;
  *owned = berth_strdup_printf("KUBERNETES_EXEC_INFO=%s", info);
  free(info);
  if (*owned == NULL)
    return NULL;
  while (environ[n] != NULL)
    n++;
  while (cfg->exec->env != NULL && cfg->exec->env[m] != NULL)
    m++;
  env = calloc(n + m + 2, sizeof(char *));
  if (env == NULL)
    return NULL;
  for (i = 0; i < n; i++) {
    eq = strchr(environ[i], '=');
    replaced =
        eq == NULL || strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;
    for (j = 0; j < m && !replaced; j++)
      replaced = strncmp(environ[i], cfg->exec->env[j],
                         (size_t)(eq - environ[i]) + 1) == 0;
    if (!replaced)
      env[k++] = environ[i];
  }
  for (j = 0; j < m; j++)
    env[k++] = cfg->exec->env[j];
  env[k++] = *owned;
  env[k] = NULL;
  return env;
}

/* Read the child's output until EOF or the deadline. */
static berth_status_t read_output(int fd, int64_t deadline, berth_buf_t *out)
{
  struct pollfd pfd;
  char chunk[4096];
  ssize_t n;
  int64_t left;
  int rc;

  for (;;) {
    left = deadline - berth_clock_monotonic_ms(NULL);
    if (left <= 0)
      return BERTH_ETIMEOUT;
    pfd.fd = fd;
    pfd.events = POLLIN;
    rc = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc < 0)
      return BERTH_EIO;
    if (rc == 0)
      continue;
    n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return BERTH_EIO;
    if (n == 0)
      return BERTH_OK;
    if (berth_buf_append(out, chunk, (size_t)n) != BERTH_OK)
      return BERTH_ETOOBIG;
  }
}

berth_status_t berth__k8s_exec_run(const berth_k8s_config_t *cfg,
                                   long timeout_ms,
                                   berth__k8s_exec_result_t *out,
                                   berth_error_t *err)
{
  const berth_k8s_exec_config_t *x = cfg->exec;
  posix_spawn_file_actions_t fa;
  bool have_fa = false;
  int pipefd[2] = {-1, -1};
  char **argv = NULL;
  char **envp = NULL;
  char *info = NULL;
  size_t nargs = 0;
  size_t i;
  pid_t pid = -1;
  int wstatus = 0;
  int rc;
  berth_buf_t output;
  berth_status_t st = BERTH_OK;

  berth_buf_init(&output);
  berth_buf_set_limit(&output, MAX_OUTPUT);
  while (x->args != NULL && x->args[nargs] != NULL)
    nargs++;
  argv = calloc(nargs + 2, sizeof(char *));
  envp = build_env(cfg, &info);
  if (argv == NULL || envp == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  argv[0] = x->command;
  for (i = 0; i < nargs; i++)
    argv[i + 1] = x->args[i];
  if (pipe2(pipefd, O_CLOEXEC) != 0 ||
      posix_spawn_file_actions_init(&fa) != 0) {
    st = berth_error_set(err, BERTH_EIO, "exec plugin %s: pipe: %s", x->command,
                         strerror(errno));
    goto done;
  }
  have_fa = true;
  if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
      posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1)) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  /* posix_spawnp searches the caller's $PATH for a bare command name, as
   * Go's exec.Command does; nothing is interpreted by a shell. */
  rc = posix_spawnp(&pid, x->command, &fa, NULL, argv, envp);
  if (rc != 0) {
    pid = -1;
    st = berth_error_set(err, rc == ENOENT ? BERTH_ENOTFOUND : BERTH_EIO,
                         "exec plugin %s: cannot run it: %s%s%s", x->command,
                         strerror(rc), x->install_hint != NULL ? ". " : "",
                         x->install_hint != NULL ? x->install_hint : "");
    goto done;
  }
  close(pipefd[1]);
  pipefd[1] = -1;
  st = read_output(pipefd[0],
                   berth_clock_monotonic_ms(NULL) +
                       (timeout_ms > 0 ? timeout_ms : 60000),
                   &output);
  if (st != BERTH_OK) {
    kill(pid, SIGKILL);
    berth_error_set(err, st, "exec plugin %s: %s", x->command,
                    st == BERTH_ETIMEOUT ? "did not finish in time"
                                         : "cannot read its output");
  }
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  pid = -1;
  if (st != BERTH_OK)
    goto done;
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    st = berth_error_set(
        err, BERTH_EUNAUTHORIZED, "exec plugin %s: %s %d", x->command,
        WIFEXITED(wstatus) ? "exited with status" : "killed by signal",
        WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
    goto done;
  }
  st = berth__k8s_exec_parse(x->api_version, berth_buf_str(&output), output.len,
                             out, err);
  if (st != BERTH_OK) {
    char what[300];
    snprintf(what, sizeof(what), "exec plugin %.256s", x->command);
    berth_error_prefix(err, what);
  }

done:
  if (pid > 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
      ;
  }
  if (have_fa)
    posix_spawn_file_actions_destroy(&fa);
  if (pipefd[0] >= 0)
    close(pipefd[0]);
  if (pipefd[1] >= 0)
    close(pipefd[1]);
  if (output.data != NULL)
    berth_memzero(output.data, output.len);
  berth_buf_cleanup(&output);
  free(argv);
  free(envp);
  berth__k8s_free_secret(info);
  return st;
}
