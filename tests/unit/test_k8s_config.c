/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: kubeconfig parsing, merging and resolution, in-cluster
 * configuration, exec credential output (lib/k8s/kubeconfig.c, config.c,
 * exec.c). Fixtures: tests/data/k8s-client/kubeconfig and exec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/k8s.h"
#include "k8s_int.h"

#define KC BERTH_TEST_DATA "/k8s-client/kubeconfig/"
#define EXEC BERTH_TEST_DATA "/k8s-client/exec/"

static berth_status_t load_one(const char *name, const char *context,
                               berth_k8s_config_t *cfg, berth_error_t *err)
{
  char path[1024];
  const char *paths[1];

  snprintf(path, sizeof(path), "%s%s", KC, name);
  paths[0] = path;
  return berth_k8s_config_from_kubeconfig(paths, 1, true, context, cfg, err);
}

static void test_basic(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  assert_int_equal(load_one("basic.yaml", NULL, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.server, "https://127.0.0.1:6443");
  assert_string_equal(cfg.namespace_name, "storage");
  assert_string_equal(cfg.context_name, "dev");
  assert_string_equal(cfg.cluster_name, "dev-cluster");
  assert_string_equal(cfg.user_name, "dev-user");
  assert_string_equal(cfg.token, "dev-token-123");
  assert_string_equal(cfg.ca_data, "-----BEGIN CERTIFICATE-----\nTESTCA\n"
                                   "-----END CERTIFICATE-----\n");
  assert_null(cfg.ca_file);
  assert_null(cfg.exec);
  assert_false(cfg.in_cluster);
  assert_non_null(strstr(cfg.source, "basic.yaml"));
  berth_k8s_config_cleanup(&cfg);
}

static void test_context_override(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  assert_int_equal(load_one("basic.yaml", "other", &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.server, "https://other.example:443");
  assert_string_equal(cfg.namespace_name, "default");
  assert_null(cfg.token);
  assert_string_equal(cfg.client_cert_data, "-----BEGIN CERTIFICATE-----\n"
                                            "TESTCLIENT\n-----END "
                                            "CERTIFICATE-----\n");
  assert_string_equal(cfg.client_key_data, "-----BEGIN PRIVATE KEY-----\n"
                                           "TESTKEY\n-----END PRIVATE "
                                           "KEY-----\n");
  berth_k8s_config_cleanup(&cfg);

  assert_int_equal(load_one("basic.yaml", "missing", &cfg, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "basic.yaml"));
  assert_non_null(strstr(err.message, "--context"));
  assert_non_null(strstr(err.message, "\"missing\""));
}

static void test_relative_paths(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  assert_int_equal(load_one("relative-paths.yaml", NULL, &cfg, &err), BERTH_OK);
  /* A bare host:port means https (client-go's DefaultServerURL). */
  assert_string_equal(cfg.server, "https://10.0.0.1:6443");
  assert_string_equal(cfg.ca_file, KC "files/ca.crt");
  assert_string_equal(cfg.token_file, KC "files/token");
  assert_string_equal(cfg.client_cert_file, "/etc/absolute/client.crt");
  assert_string_equal(cfg.client_key_file, KC "files/client.key");
  berth_k8s_config_cleanup(&cfg);
}

static void test_exec(void **state)
{
  berth_k8s_config_t cfg;
  berth_k8s_config_t copy;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  assert_int_equal(load_one("exec.yaml", NULL, &cfg, &err), BERTH_OK);
  assert_true(cfg.insecure_skip_tls_verify);
  assert_non_null(cfg.exec);
  assert_string_equal(cfg.exec->api_version, "client.authentication.k8s.io/v1");
  assert_string_equal(cfg.exec->command, "aws"); /* $PATH name: as is */
  assert_string_equal(cfg.exec->args[0], "--region");
  assert_string_equal(cfg.exec->args[5], "demo");
  assert_null(cfg.exec->args[6]);
  assert_string_equal(cfg.exec->env[0], "AWS_PROFILE=prod");
  assert_null(cfg.exec->env[1]);
  assert_string_equal(cfg.exec->interactive_mode, "Never");
  assert_string_equal(cfg.exec->install_hint, "install the AWS CLI");
  assert_true(cfg.exec->provide_cluster_info);
  assert_int_equal(berth__k8s_config_copy(&cfg, &copy), BERTH_OK);
  assert_string_equal(copy.exec->args[5], "demo");
  assert_string_equal(copy.exec->env[0], "AWS_PROFILE=prod");
  berth_k8s_config_cleanup(&copy);
  berth_k8s_config_cleanup(&cfg);

  assert_int_equal(load_one("exec-relative.yaml", NULL, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.exec->command, KC "./bin/plugin");
  /* v1beta1 defaults interactiveMode to IfAvailable. */
  assert_string_equal(cfg.exec->interactive_mode, "IfAvailable");
  berth_k8s_config_cleanup(&cfg);
}

static void test_anchors_and_empty(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;
  char path[1024];
  const char *paths[2];

  (void)state;
  berth_k8s_config_init(&cfg);
  assert_int_equal(load_one("anchors.yaml", NULL, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.server, "https://anchored:6443");
  assert_true(cfg.insecure_skip_tls_verify);
  assert_null(cfg.user_name);
  berth_k8s_config_cleanup(&cfg);

  /* An empty file is an empty configuration: no current context. */
  assert_int_equal(load_one("empty.yaml", NULL, &cfg, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "current-context"));

  /* Missing files are skipped in a list; none at all is ENOTFOUND. */
  snprintf(path, sizeof(path), "%s", KC "does-not-exist.yaml");
  paths[0] = path;
  assert_int_equal(
      berth_k8s_config_from_kubeconfig(paths, 1, false, NULL, &cfg, &err),
      BERTH_ENOTFOUND);
  assert_int_equal(
      berth_k8s_config_from_kubeconfig(paths, 1, true, NULL, &cfg, &err),
      BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "does-not-exist.yaml"));
  paths[1] = KC "basic.yaml";
  assert_int_equal(
      berth_k8s_config_from_kubeconfig(paths, 2, false, NULL, &cfg, &err),
      BERTH_OK);
  assert_string_equal(cfg.context_name, "dev");
  berth_k8s_config_cleanup(&cfg);
}

static void test_merge(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;
  const char *paths[] = {KC "merge-first.yaml", KC "merge-second.yaml"};
  const char *reversed[] = {KC "merge-second.yaml", KC "merge-first.yaml"};

  (void)state;
  berth_k8s_config_init(&cfg);
  /* First file wins: its current-context, its "shared" context and
   * cluster; the user comes from the second file. */
  assert_int_equal(
      berth_k8s_config_from_kubeconfig(paths, 2, false, NULL, &cfg, &err),
      BERTH_OK);
  assert_string_equal(cfg.context_name, "shared");
  assert_string_equal(cfg.server, "https://first:6443");
  assert_string_equal(cfg.namespace_name, "first-ns");
  assert_string_equal(cfg.token, "second-token");
  assert_non_null(strstr(cfg.source, "merge-first.yaml:"));
  berth_k8s_config_cleanup(&cfg);

  assert_int_equal(
      berth_k8s_config_from_kubeconfig(reversed, 2, false, NULL, &cfg, &err),
      BERTH_OK);
  assert_string_equal(cfg.context_name, "second-only");
  assert_string_equal(cfg.server, "https://second-only:6443");
  berth_k8s_config_cleanup(&cfg);

  assert_int_equal(berth_k8s_config_from_kubeconfig(reversed, 2, false,
                                                    "shared", &cfg, &err),
                   BERTH_OK);
  assert_string_equal(cfg.server, "https://second-only:6443");
  assert_string_equal(cfg.namespace_name, "second-ns");
  assert_null(cfg.token);
  berth_k8s_config_cleanup(&cfg);
}

/* Each malformed file: the status and words the message must contain (the
 * file's name first, then the field). */
static const struct {
  const char *file;
  berth_status_t status;
  const char *words[3];
} malformed[] = {
    {"bad-yaml.yaml", BERTH_EPARSE, {"line", "invalid YAML", NULL}},
    {"bad-base64.yaml",
     BERTH_EINVAL,
     {"users[0].user.client-key-data", "invalid base64", NULL}},
    {"missing-server.yaml",
     BERTH_EINVAL,
     {"clusters[0].cluster.server", "missing", NULL}},
    {"no-current-context.yaml", BERTH_EINVAL, {"current-context", NULL}},
    {"unknown-context.yaml",
     BERTH_EINVAL,
     {"current-context", "\"nowhere\" not found", NULL}},
    {"unknown-cluster.yaml",
     BERTH_EINVAL,
     {"contexts[0].context.cluster", "\"missing-cluster\" not found", NULL}},
    {"unknown-user.yaml",
     BERTH_EINVAL,
     {"contexts[0].context.user", "\"ghost\" not found", NULL}},
    {"clusters-not-list.yaml", BERTH_EINVAL, {"clusters", "list", NULL}},
    {"entry-without-name.yaml",
     BERTH_EINVAL,
     {"users[0].name", "missing", NULL}},
    {"insecure-with-ca.yaml",
     BERTH_EINVAL,
     {"clusters[0].cluster.insecure-skip-tls-verify", "certificate-authority",
      NULL}},
    {"bad-bool.yaml",
     BERTH_EINVAL,
     {"clusters[0].cluster.insecure-skip-tls-verify", "true or false", NULL}},
    {"cert-without-key.yaml",
     BERTH_EINVAL,
     {"users[0].user.client-key", "missing", NULL}},
    {"cert-file-and-data.yaml",
     BERTH_EINVAL,
     {"users[0].user.client-certificate-data", "only one", NULL}},
    {"token-not-string.yaml",
     BERTH_EINVAL,
     {"users[0].user.token", "expected a string, got array", NULL}},
    {"exec-no-command.yaml",
     BERTH_EINVAL,
     {"users[0].user.exec.command", "missing", NULL}},
    {"exec-bad-api-version.yaml",
     BERTH_EINVAL,
     {"users[0].user.exec.apiVersion", "v1beta1", NULL}},
    {"exec-v1-no-interactive-mode.yaml",
     BERTH_EINVAL,
     {"users[0].user.exec.interactiveMode", "missing", NULL}},
    {"exec-bad-env.yaml",
     BERTH_EINVAL,
     {"users[0].user.exec.env[0]", "name", NULL}},
    {"auth-provider.yaml",
     BERTH_EINVAL,
     {"users[0].user.auth-provider", "exec plugin", NULL}},
    {"top-level-list.yaml", BERTH_EINVAL, {"top level", NULL}},
    {"server-bad-scheme.yaml",
     BERTH_EINVAL,
     {"clusters[0].cluster.server", "https://", NULL}},
    {"billion-laughs.yaml", BERTH_EPARSE, {"alias", NULL}},
    /* Few nodes, long scalars: bounded by output bytes, not node count. */
    {"alias-bytes.yaml", BERTH_EPARSE, {"alias", "bytes", NULL}},
    {"duplicate-key.yaml",
     BERTH_EPARSE,
     {"duplicate key \"current-context\"", NULL}},
};

static void test_malformed(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;
  size_t i;
  size_t w;

  (void)state;
  berth_k8s_config_init(&cfg);
  for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
    berth_error_clear(&err);
    berth_status_t st = load_one(malformed[i].file, NULL, &cfg, &err);
    if (st != malformed[i].status)
      fail_msg("%s: got %s (%s), want %s", malformed[i].file,
               berth_status_name(st), err.message,
               berth_status_name(malformed[i].status));
    if (strstr(err.message, malformed[i].file) == NULL)
      fail_msg("%s: message does not name the file: %s", malformed[i].file,
               err.message);
    for (w = 0; w < 3 && malformed[i].words[w] != NULL; w++)
      if (strstr(err.message, malformed[i].words[w]) == NULL)
        fail_msg("%s: message lacks \"%s\": %s", malformed[i].file,
                 malformed[i].words[w], err.message);
    assert_null(cfg.server); /* untouched on failure */
  }
}

/* ---- Resolution order -------------------------------------------------- */

static char tmpdir[256];

static void write_file(const char *dir, const char *name, const char *text)
{
  char path[512];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int setup_env(void **state)
{
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-k8s-config-XXXXXX");
  if (mkdtemp(tmpdir) == NULL)
    return -1;
  unsetenv("KUBECONFIG");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  unsetenv("POD_NAMESPACE");
  unsetenv("BERTH_K8S_SERVICEACCOUNT_DIR");
  return 0;
}

static int teardown_env(void **state)
{
  char cmd[512];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_in_cluster(void **state)
{
  berth_k8s_config_t cfg;
  berth_k8s_config_options_t opts;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  memset(&opts, 0, sizeof(opts));
  write_file(tmpdir, "token", "sa-token\n");
  write_file(tmpdir, "ca.crt", "PEM");
  write_file(tmpdir, "namespace", "berth-system\n");

  /* Not in a cluster: ENOTFOUND from the in-cluster loader. */
  assert_int_equal(berth_k8s_config_in_cluster(tmpdir, &cfg, &err),
                   BERTH_ENOTFOUND);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  setenv("BERTH_K8S_SERVICEACCOUNT_DIR", tmpdir, 1);
  setenv("HOME", tmpdir, 1);
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_true(cfg.in_cluster);
  assert_string_equal(cfg.server, "https://10.96.0.1:443");
  assert_string_equal(cfg.token, "sa-token");
  assert_non_null(strstr(cfg.token_file, "/token"));
  assert_non_null(strstr(cfg.ca_file, "/ca.crt"));
  assert_string_equal(cfg.namespace_name, "berth-system");
  assert_string_equal(cfg.source, "in-cluster");
  berth_k8s_config_cleanup(&cfg);

  /* $POD_NAMESPACE wins over the file; --namespace over both. */
  setenv("POD_NAMESPACE", "from-env", 1);
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.namespace_name, "from-env");
  berth_k8s_config_cleanup(&cfg);
  opts.namespace_name = "flag";
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.namespace_name, "flag");
  berth_k8s_config_cleanup(&cfg);
  opts.namespace_name = NULL;
  unsetenv("POD_NAMESPACE");

  /* IPv6 service address in brackets (net.JoinHostPort). */
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.server, "https://[fd00::1]:443");
  berth_k8s_config_cleanup(&cfg);

  /* $KUBECONFIG beats in-cluster; --kubeconfig beats $KUBECONFIG. */
  setenv("KUBECONFIG", KC "does-not-exist.yaml:" KC "merge-second.yaml", 1);
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_false(cfg.in_cluster);
  assert_string_equal(cfg.context_name, "second-only");
  berth_k8s_config_cleanup(&cfg);
  opts.kubeconfig = KC "basic.yaml";
  opts.context = "other";
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.context_name, "other");
  berth_k8s_config_cleanup(&cfg);
  opts.kubeconfig = KC "no-such-file.yaml";
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "no-such-file.yaml"));
  opts.kubeconfig = NULL;
  opts.context = NULL;
  unsetenv("KUBECONFIG");

  /* A missing token file is an error naming it. */
  {
    char path[512];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    unlink(path);
  }
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "token"));
  assert_non_null(strstr(err.message, tmpdir));

  /* Out of the cluster: ~/.kube/config. */
  unsetenv("KUBERNETES_SERVICE_HOST");
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, ".kube/config"));
  {
    char dir[512];
    FILE *in;
    char buf[8192];
    size_t n;
    snprintf(dir, sizeof(dir), "%s/.kube", tmpdir);
    mkdir(dir, 0700);
    in = fopen(KC "basic.yaml", "r");
    assert_non_null(in);
    n = fread(buf, 1, sizeof(buf) - 1, in);
    fclose(in);
    buf[n] = '\0';
    write_file(dir, "config", buf);
  }
  assert_int_equal(berth_k8s_config_load(&opts, &cfg, &err), BERTH_OK);
  assert_string_equal(cfg.context_name, "dev");
  berth_k8s_config_cleanup(&cfg);
  unsetenv("BERTH_K8S_SERVICEACCOUNT_DIR");
}

/* ---- Exec credential output -------------------------------------------- */

static berth_status_t parse_exec(const char *name, const char *version,
                                 berth__k8s_exec_result_t *r,
                                 berth_error_t *err)
{
  char path[1024];
  char *text = NULL;
  size_t len = 0;
  berth_status_t st;

  snprintf(path, sizeof(path), "%s%s", EXEC, name);
  assert_int_equal(
      berth__k8s_read_file(path, 1 << 20, "fixture", &text, &len, NULL),
      BERTH_OK);
  st = berth__k8s_exec_parse(version, text, len, r, err);
  free(text);
  return st;
}

static void test_exec_output(void **state)
{
  berth__k8s_exec_result_t r;
  berth_error_t err;
  const char *v1 = "client.authentication.k8s.io/v1";

  (void)state;
  memset(&r, 0, sizeof(r));
  assert_int_equal(parse_exec("token-v1.json", v1, &r, &err), BERTH_OK);
  assert_string_equal(r.token, "k8s-aws-v1.aHR0cHM6Ly9zdHM");
  assert_true(r.expires_ms == 1893553445000LL);
  assert_null(r.cert_data);
  berth__k8s_exec_result_cleanup(&r);
  assert_int_equal(parse_exec("cert-v1beta1.json",
                              "client.authentication.k8s.io/v1beta1", &r, &err),
                   BERTH_OK);
  assert_null(r.token);
  assert_non_null(strstr(r.cert_data, "BEGIN CERTIFICATE"));
  assert_non_null(strstr(r.key_data, "BEGIN PRIVATE KEY"));
  assert_true(r.expires_ms == 0);
  berth__k8s_exec_result_cleanup(&r);

  assert_int_equal(parse_exec("wrong-version.json", v1, &r, &err),
                   BERTH_EPARSE);
  assert_non_null(strstr(err.message, "apiVersion"));
  assert_int_equal(parse_exec("no-status.json", v1, &r, &err), BERTH_EPARSE);
  assert_non_null(strstr(err.message, "status"));
  assert_int_equal(parse_exec("cert-without-key.json", v1, &r, &err),
                   BERTH_EPARSE);
  assert_non_null(strstr(err.message, "key"));
  assert_int_equal(parse_exec("bad-expiry.json", v1, &r, &err), BERTH_EPARSE);
  assert_non_null(strstr(err.message, "expirationTimestamp"));
}

/* ---- Small helpers ----------------------------------------------------- */

static void test_time_and_base64(void **state)
{
  int64_t ms = 0;
  char buf[40];
  char *out = NULL;
  size_t len = 0;

  (void)state;
  assert_int_equal(berth__k8s_parse_time("2030-01-02T03:04:05Z", &ms),
                   BERTH_OK);
  assert_true(ms == 1893553445000LL);
  assert_int_equal(berth__k8s_parse_time("2030-01-02T04:04:05.250+01:00", &ms),
                   BERTH_OK);
  assert_true(ms == 1893553445250LL);
  assert_int_equal(berth__k8s_parse_time("2030-01-02 03:04:05Z", &ms),
                   BERTH_EPARSE);
  assert_int_equal(berth__k8s_parse_time("2030-01-02T03:04:05", &ms),
                   BERTH_EPARSE);
  berth__k8s_format_time(1893553445250LL, buf, sizeof(buf));
  assert_string_equal(buf, "2030-01-02T03:04:05Z");
  berth__k8s_format_microtime(1893553445250LL, buf, sizeof(buf));
  assert_string_equal(buf, "2030-01-02T03:04:05.250000Z");

  assert_int_equal(berth__k8s_base64_decode("aGVs\nbG8=", &out, &len),
                   BERTH_OK);
  assert_int_equal(len, 5);
  assert_string_equal(out, "hello");
  free(out);
  assert_int_equal(berth__k8s_base64_decode("aGk=", &out, &len), BERTH_OK);
  assert_string_equal(out, "hi");
  free(out);
  assert_int_equal(berth__k8s_base64_decode("", &out, &len), BERTH_OK);
  assert_int_equal(len, 0);
  free(out);
  assert_int_equal(berth__k8s_base64_decode("aGk", &out, &len), BERTH_EPARSE);
  assert_int_equal(berth__k8s_base64_decode("a=Gk", &out, &len), BERTH_EPARSE);
  assert_int_equal(berth__k8s_base64_decode("a*Gk", &out, &len), BERTH_EPARSE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_context_override),
      cmocka_unit_test(test_relative_paths),
      cmocka_unit_test(test_exec),
      cmocka_unit_test(test_anchors_and_empty),
      cmocka_unit_test(test_merge),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test_setup_teardown(test_in_cluster, setup_env, teardown_env),
      cmocka_unit_test(test_exec_output),
      cmocka_unit_test(test_time_and_base64),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
