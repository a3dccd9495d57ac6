/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: how the client authenticates, against berth's test API
 * server: an exec credential plugin (tests/data/k8s-client/plugin/
 * exec-plugin.sh) run without a shell, with its args and env, cached until
 * expirationTimestamp and re-run after a 401; and the in-cluster
 * configuration from service-account files (BERTH_K8S_SERVICEACCOUNT_DIR)
 * with the token re-read when it rotates. Run under
 * `tests/bed/bed.py run k8s -- test_k8s_auth`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_k8s_common.h"

#define PLUGIN BERTH_TEST_DATA "/k8s-client/plugin/exec-plugin.sh"

static char dir[256];
static char log_path[512];

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/berth-k8s-auth-XXXXXX");
  if (mkdtemp(dir) == NULL)
    return -1;
  snprintf(log_path, sizeof(log_path), "%s/plugin.log", dir);
  return 0;
}

static int teardown(void **state)
{
  char cmd[512];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
  char tmp[600];
  FILE *f;

  /* Write then rename, as the kubelet swaps projected tokens. */
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  f = fopen(tmp, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(rename(tmp, path), 0);
}

static char *read_text(const char *path)
{
  FILE *f = fopen(path, "r");
  char *buf = calloc(1, 65536);
  size_t n;

  if (f == NULL)
    return buf;
  n = fread(buf, 1, 65535, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int plugin_runs(void)
{
  char *text = read_text(log_path);
  int n = 0;
  char *p;

  for (p = text; (p = strchr(p, '\n')) != NULL; p++)
    n++;
  free(text);
  return n;
}

/* A kubeconfig whose user is the plugin with args. */
static berth_k8s_client_t *plugin_client(const char *command, const char *args)
{
  char path[512];
  char text[4096];
  berth_k8s_config_t cfg;
  berth_k8s_client_t *c = NULL;
  berth_error_t err;
  const char *paths[1];

  unlink(log_path);
  snprintf(path, sizeof(path), "%s/kubeconfig", dir);
  snprintf(text, sizeof(text),
           "apiVersion: v1\n"
           "kind: Config\n"
           "current-context: exec\n"
           "clusters:\n"
           "- name: bed\n"
           "  cluster:\n"
           "    server: %s\n"
           "    certificate-authority: %s\n"
           "contexts:\n"
           "- name: exec\n"
           "  context: {cluster: bed, user: plugin, namespace: default}\n"
           "users:\n"
           "- name: plugin\n"
           "  user:\n"
           "    exec:\n"
           "      apiVersion: client.authentication.k8s.io/v1\n"
           "      command: %s\n"
           "      args: [%s]\n"
           "      env:\n"
           "      - {name: PLUGIN_TOKEN_FILE, value: \"%s\"}\n"
           "      - {name: PLUGIN_LOG, value: \"%s\"}\n"
           "      interactiveMode: Never\n"
           "      provideClusterInfo: true\n"
           "      installHint: \"the plugin lives in tests/data\"\n",
           tk_env("BERTH_K8S_URL"), tk_env("BERTH_K8S_CA"), command, args,
           tk_env("BERTH_K8S_TOKEN_FILE"), log_path);
  write_file(path, text);
  paths[0] = path;
  berth_k8s_config_init(&cfg);
  if (berth_k8s_config_from_kubeconfig(paths, 1, true, NULL, &cfg, &err) !=
          BERTH_OK ||
      berth_k8s_client_create(&cfg, NULL, &c, &err) != BERTH_OK)
    fail_msg("plugin client: %s", err.message);
  berth_k8s_config_cleanup(&cfg);
  return c;
}

static berth_status_t get_default(berth_k8s_client_t *c, berth_error_t *err)
{
  return berth_k8s_get(c, &berth_k8s_res_namespaces, NULL, "default", NULL,
                       err);
}

static void test_exec_cached(void **state)
{
  berth_k8s_client_t *c = plugin_client(PLUGIN, "--expires-in, \"3600\"");
  berth_error_t err;
  char *log;
  int i;

  (void)state;
  for (i = 0; i < 3; i++)
    assert_int_equal(get_default(c, &err), BERTH_OK);
  /* One run for three requests: cached until it expires. */
  assert_int_equal(plugin_runs(), 1);
  log = read_text(log_path);
  assert_non_null(strstr(log, "args=[--expires-in 3600]"));
  assert_non_null(strstr(log, "\"kind\":\"ExecCredential\""));
  assert_non_null(strstr(log, "\"interactive\":false"));
  /* provideClusterInfo: the server and the CA go to the plugin. */
  assert_non_null(strstr(log, tk_env("BERTH_K8S_URL")));
  assert_non_null(strstr(log, "certificate-authority-data"));
  free(log);
  berth_k8s_client_destroy(c);
}

static void test_exec_expired(void **state)
{
  berth_k8s_client_t *c = plugin_client(PLUGIN, "--expires-in, \"0\"");
  berth_error_t err;
  int i;

  (void)state;
  /* Expired as soon as it is issued: a run per request. */
  for (i = 0; i < 3; i++)
    assert_int_equal(get_default(c, &err), BERTH_OK);
  assert_int_equal(plugin_runs(), 3);
  berth_k8s_client_destroy(c);
}

static void test_exec_refreshed_after_401(void **state)
{
  berth_k8s_client_t *c = plugin_client(PLUGIN, "--bad-first");
  berth_error_t err;

  (void)state;
  /* The first credential is refused; the client runs the plugin again and
   * retries once. No expiry: then cached. */
  assert_int_equal(get_default(c, &err), BERTH_OK);
  assert_int_equal(plugin_runs(), 2);
  assert_int_equal(get_default(c, &err), BERTH_OK);
  assert_int_equal(plugin_runs(), 2);
  berth_k8s_client_destroy(c);
}

static void test_exec_failures(void **state)
{
  berth_k8s_client_t *c = plugin_client(PLUGIN, "--fail");
  berth_error_t err;

  (void)state;
  assert_int_equal(get_default(c, &err), BERTH_EUNAUTHORIZED);
  assert_non_null(strstr(err.message, "exec-plugin.sh"));
  assert_non_null(strstr(err.message, "exited with status 1"));
  berth_k8s_client_destroy(c);

  /* A command that is not there: the install hint is shown. */
  c = plugin_client(BERTH_TEST_DATA "/k8s-client/plugin/no-such-plugin", "");
  assert_int_equal(get_default(c, &err), BERTH_ENOTFOUND);
  assert_non_null(strstr(err.message, "no-such-plugin"));
  assert_non_null(strstr(err.message, "the plugin lives in tests/data"));
  berth_k8s_client_destroy(c);
  /* A $PATH name that is nowhere on $PATH. */
  c = plugin_client("berth-no-such-plugin", "");
  assert_int_equal(get_default(c, &err), BERTH_ENOTFOUND);
  berth_k8s_client_destroy(c);
}

static void test_in_cluster_rotation(void **state)
{
  berth_k8s_config_t cfg;
  berth_k8s_client_t *c = NULL;
  berth_error_t err;
  char sa[512];
  char path[600];
  char port[16];
  char *token = read_text(tk_env("BERTH_K8S_TOKEN_FILE"));
  char *ca = read_text(tk_env("BERTH_K8S_CA"));
  const char *url = tk_env("BERTH_K8S_URL");
  char *bad;

  (void)state;
  snprintf(sa, sizeof(sa), "%s/serviceaccount", dir);
  assert_int_equal(mkdir(sa, 0700), 0);
  snprintf(path, sizeof(path), "%s/token", sa);
  write_file(path, token);
  snprintf(path, sizeof(path), "%s/ca.crt", sa);
  write_file(path, ca);
  snprintf(path, sizeof(path), "%s/namespace", sa);
  write_file(path, "kube-system\n");
  snprintf(port, sizeof(port), "%s", strrchr(url, ':') + 1);

  /* As in a pod: no $KUBECONFIG, the service's host and port. */
  unsetenv("KUBECONFIG");
  setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", port, 1);
  setenv("BERTH_K8S_SERVICEACCOUNT_DIR", sa, 1);
  berth_k8s_config_init(&cfg);
  assert_int_equal(berth_k8s_config_load(NULL, &cfg, &err), BERTH_OK);
  assert_true(cfg.in_cluster);
  assert_string_equal(cfg.namespace_name, "kube-system");
  assert_int_equal(berth_k8s_client_create(&cfg, NULL, &c, &err), BERTH_OK);
  assert_string_equal(berth_k8s_client_namespace(c), "kube-system");
  assert_int_equal(get_default(c, &err), BERTH_OK);

  /* The token rotates to one the server refuses, then to a good one: the
   * same client follows the file. */
  snprintf(path, sizeof(path), "%s/token", sa);
  bad = berth_strdup_printf("rotated-%s", token);
  write_file(path, bad);
  assert_int_equal(get_default(c, &err), BERTH_EUNAUTHORIZED);
  write_file(path, token);
  assert_int_equal(get_default(c, &err), BERTH_OK);

  berth_k8s_client_destroy(c);
  berth_k8s_config_cleanup(&cfg);
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  unsetenv("BERTH_K8S_SERVICEACCOUNT_DIR");
  free(bad);
  free(token);
  free(ca);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exec_cached),
      cmocka_unit_test(test_exec_expired),
      cmocka_unit_test(test_exec_refreshed_after_401),
      cmocka_unit_test(test_exec_failures),
      cmocka_unit_test(test_in_cluster_rotation),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
