/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-provisioner's flags and environment
 * (provisioner/options.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static FILE *devnull;

static const char *const env_names[] = {
    "PROVISIONER_NAME",       "NFS_SERVER", "NFS_PATH", "NFS_URL",
    "ENABLE_LEADER_ELECTION", NULL,
};

static int clear_env(void **state)
{
  size_t i;

  (void)state;
  for (i = 0; env_names[i] != NULL; i++)
    unsetenv(env_names[i]);
  return 0;
}

static prov_parse_result_t parse(prov_options_t *o, const char *const *args)
{
  char *argv[32];
  int argc = 0;

  argv[argc++] = (char *)"berth-provisioner";
  while (*args != NULL && argc < 31)
    argv[argc++] = (char *)*args++;
  argv[argc] = NULL;
  return prov_options_parse(argc, argv, o, devnull, devnull);
}

static void test_defaults_and_flags(void **state)
{
  static const char *const args[] = {
      "--provisioner",
      "berth.io/nfs=nfs",
      "--provisioner",
      "example.com/b=nfs",
      "--kubeconfig",
      "/k",
      "--context",
      "ctx",
      "--kube-api-qps",
      "200",
      "--kube-api-burst",
      "400",
      "--worker-threads",
      "32",
      "--leader-elect=false",
      "--leader-election-namespace",
      "kube-system",
      "--lease-duration",
      "30s",
      "--renew-deadline",
      "20s",
      "--retry-period",
      "1500ms",
      "--http-endpoint",
      ":9090",
      "-v",
      "4",
      "--log-format",
      "json",
      NULL,
  };
  prov_options_t o;

  (void)state;
  assert_int_equal(parse(&o, args), PROV_PARSE_RUN);
  assert_int_equal(o.nbindings, 2);
  assert_string_equal(o.bindings[0].name, "berth.io/nfs");
  assert_string_equal(o.bindings[1].backend, "nfs");
  assert_string_equal(o.kubeconfig, "/k");
  assert_string_equal(o.context, "ctx");
  assert_true(o.qps == 200.0);
  assert_int_equal(o.burst, 400);
  assert_int_equal(o.workers, 32);
  assert_false(o.leader_elect);
  assert_string_equal(o.le_namespace, "kube-system");
  assert_int_equal(o.lease_ms, 30000);
  assert_int_equal(o.renew_ms, 20000);
  assert_int_equal(o.retry_ms, 1500);
  assert_string_equal(o.http_endpoint, ":9090");
  assert_int_equal(o.log_level, BERTH_LOG_DEBUG);
  assert_int_equal(o.log_format, BERTH_LOG_FORMAT_JSON);
  assert_null(o.nfs_defaults);
  prov_options_cleanup(&o);

  {
    static const char *const minimal[] = {"--provisioner", "a=nfs", NULL};
    assert_int_equal(parse(&o, minimal), PROV_PARSE_RUN);
    assert_true(o.leader_elect);
    assert_int_equal(o.lease_ms, PROV_DEFAULT_LEASE_MS);
    assert_int_equal(o.renew_ms, PROV_DEFAULT_RENEW_MS);
    assert_int_equal(o.retry_ms, PROV_DEFAULT_RETRY_MS);
    assert_int_equal(o.workers, PROV_DEFAULT_WORKERS);
    assert_true(o.qps == PROV_DEFAULT_QPS);
    assert_int_equal(o.burst, PROV_DEFAULT_BURST);
    assert_string_equal(o.http_endpoint, PROV_DEFAULT_HTTP_ENDPOINT);
    prov_options_cleanup(&o);
  }
}

static void test_nfs_subdir_environment(void **state)
{
  static const char *const none[] = {NULL};
  prov_options_t o;

  (void)state;
  setenv("PROVISIONER_NAME", "k8s-sigs.io/nfs-subdir-external-provisioner", 1);
  setenv("NFS_SERVER", "10.0.0.5", 1);
  setenv("NFS_PATH", "/srv/nfs", 1);
  setenv("ENABLE_LEADER_ELECTION", "false", 1);
  assert_int_equal(parse(&o, none), PROV_PARSE_RUN);
  assert_int_equal(o.nbindings, 1);
  assert_string_equal(o.bindings[0].name,
                      "k8s-sigs.io/nfs-subdir-external-provisioner");
  assert_string_equal(o.bindings[0].backend, "nfs");
  assert_false(o.leader_elect);
  assert_string_equal(
      json_string_value(json_object_get(o.nfs_defaults, "server")), "10.0.0.5");
  assert_string_equal(
      json_string_value(json_object_get(o.nfs_defaults, "share")), "/srv/nfs");
  prov_options_cleanup(&o);

  /* A flag wins over the environment; NFS_URL over NFS_SERVER. */
  {
    static const char *const flags[] = {"--leader-elect", "--provisioner",
                                        "x=nfs", NULL};
    setenv("NFS_URL", "nfs://h/e?version=4", 1);
    assert_int_equal(parse(&o, flags), PROV_PARSE_RUN);
    assert_true(o.leader_elect);
    assert_int_equal(o.nbindings, 1);
    assert_string_equal(o.bindings[0].name, "x");
    assert_string_equal(
        json_string_value(json_object_get(o.nfs_defaults, "url")),
        "nfs://h/e?version=4");
    assert_null(json_object_get(o.nfs_defaults, "server"));
    prov_options_cleanup(&o);
  }
  clear_env(NULL);
}

static void test_usage_errors(void **state)
{
  static const char *const b0[] = {NULL}; /* no provisioner */
  static const char *const b1[] = {"--provisioner", "nobackend", NULL};
  static const char *const b2[] = {"--provisioner", "=nfs", NULL};
  static const char *const b3[] = {"--provisioner", "bad name=nfs", NULL};
  static const char *const b4[] = {"--provisioner", "a=nfs", "--provisioner",
                                   "a=nfs", NULL};
  static const char *const b5[] = {"--provisioner", "a=nfs", "--worker-threads",
                                   "0", NULL};
  static const char *const b6[] = {"--provisioner", "a=nfs", "--lease-duration",
                                   "soon", NULL};
  /* A renew deadline as long as the lease duration. */
  static const char *const b7[] = {"--provisioner", "a=nfs", "--renew-deadline",
                                   "20s", NULL};
  static const char *const b8[] = {"--provisioner", "a=nfs",
                                   "--leader-elect=maybe", NULL};
  static const char *const b9[] = {"--provisioner", "a=nfs", "-v", "loud",
                                   NULL};
  static const char *const b10[] = {"--provisioner", "a=nfs", "extra", NULL};
  static const char *const b11[] = {"--no-such-flag", NULL};
  static const char *const *const bad[] = {b0, b1, b2, b3,  b4,  b5,  b6,
                                           b7, b8, b9, b10, b11, NULL};
  static const char *const one[] = {"--provisioner", "a=nfs", NULL};
  static const char *const help[] = {"--help", NULL};
  static const char *const version[] = {"-V", NULL};
  prov_options_t o;
  size_t i;

  (void)state;
  for (i = 0; bad[i] != NULL; i++) {
    if (parse(&o, bad[i]) != PROV_PARSE_EXIT_USAGE)
      fail_msg("case %zu accepted", i);
    prov_options_cleanup(&o);
  }
  setenv("ENABLE_LEADER_ELECTION", "perhaps", 1);
  assert_int_equal(parse(&o, one), PROV_PARSE_EXIT_USAGE);
  prov_options_cleanup(&o);
  clear_env(NULL);
  assert_int_equal(parse(&o, help), PROV_PARSE_EXIT_OK);
  prov_options_cleanup(&o);
  assert_int_equal(parse(&o, version), PROV_PARSE_EXIT_OK);
  prov_options_cleanup(&o);
}

/* --usage-interval VALUE through the real option parser: true and the
 * value in ms, or false. */
static bool usage_flag(const char *value, int64_t *ms)
{
  const char *args[] = {"--provisioner", "a=nfs", "--usage-interval", value,
                        NULL};
  prov_options_t o;
  bool ok = parse(&o, args) == PROV_PARSE_RUN;

  if (ok)
    *ms = o.usage_interval_ms;
  prov_options_cleanup(&o);
  return ok;
}

static void test_durations_and_lease_name(void **state)
{
  static const struct {
    const char *in;
    int64_t ms;
  } ok[] = {
      {"15s", 15000}, {"1m30s", 90000}, {"500ms", 500}, {"2h", 7200000},
      {"10", 10000},  {"0.5", 500},     {"1.5s", 1500}, {"0", 0},
  };
  /* Issue 14: 1e300, infs and nanms became INT64_MIN and were accepted,
   * turning usage measurement off. */
  static const char *const bad[] = {
      "",     "s",     "5x",  "-1s", "1s5", "ms",  "1e300", "1e300s",
      "infs", "nanms", "inf", " 5s", "5s ", "+5s", "1e3s",  NULL};
  char name[64];
  int64_t ms;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    ms = -1;
    if (!usage_flag(ok[i].in, &ms) || ms != ok[i].ms)
      fail_msg("--usage-interval %s: %lld ms, want %lld", ok[i].in,
               (long long)ms, (long long)ok[i].ms);
  }
  for (i = 0; bad[i] != NULL; i++) {
    if (usage_flag(bad[i], &ms))
      fail_msg("--usage-interval '%s' accepted as %lld ms", bad[i],
               (long long)ms);
  }
  prov_lease_name("k8s-sigs.io/nfs-subdir-external-provisioner", name,
                  sizeof(name));
  assert_string_equal(name, "k8s-sigs.io-nfs-subdir-external-provisioner");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_defaults_and_flags, clear_env),
      cmocka_unit_test_setup(test_nfs_subdir_environment, clear_env),
      cmocka_unit_test_setup(test_usage_errors, clear_env),
      cmocka_unit_test(test_durations_and_lease_name),
  };
  int rc;

  devnull = fopen("/dev/null", "w");
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  fclose(devnull);
  return rc;
}
