/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers options, durations and the metrics text
 * (peer-discovery/options.c, status.c); the endpoint address is
 * berth_prog's (test_prog.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"

#include "options.h"
#include "status.h"

static void test_bools(void **state)
{
  bool b = false;

  (void)state;
  assert_int_equal(peers_bool_parse(NULL, &b), BERTH_OK);
  assert_true(b);
  assert_int_equal(peers_bool_parse("false", &b), BERTH_OK);
  assert_false(b);
  assert_int_equal(peers_bool_parse("TRUE", &b), BERTH_OK);
  assert_true(b);
  assert_int_equal(peers_bool_parse("0", &b), BERTH_OK);
  assert_false(b);
  assert_int_equal(peers_bool_parse("yes", &b), BERTH_EPARSE);
}

static peers_parse_result_t parse(peers_options_t *o, char **argv)
{
  int argc = 0;
  FILE *devnull = fopen("/dev/null", "w");
  peers_parse_result_t r;

  while (argv[argc] != NULL)
    argc++;
  r = peers_options_parse(argc, argv, o, devnull, devnull);
  fclose(devnull);
  return r;
}

/* --timeout VALUE through the real option parser (which uses libberth's
 * one duration parser): true and the value in ms, or false. */
static bool timeout_flag(const char *value, int64_t *ms)
{
  char *argv[] = {"berth-peers", "-service",    "web", "--once",
                  "--timeout",   (char *)value, NULL};
  peers_options_t o;
  bool ok = parse(&o, argv) == PEERS_PARSE_RUN;

  if (ok)
    *ms = o.timeout_ms;
  peers_options_cleanup(&o);
  return ok;
}

static void test_durations(void **state)
{
  static const struct {
    const char *in;
    int64_t ms;
  } ok[] = {
      {"250ms", 250}, {"1.5s", 1500},  {"2", 2000},       {"0", 0},
      {"2m", 120000}, {"1h", 3600000}, {"24h", 86400000},
  };
  /* Issue 14: "\t-5s" was -4999 ms through strtod's white space. */
  static const char *const bad[] = {"-1s",   "1d",    "s",    "",
                                    "25h",   "nan",   "1 s",  "\t-5s",
                                    "\n-5s", "1e300", "infs", NULL};
  int64_t ms;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    ms = -1;
    if (!timeout_flag(ok[i].in, &ms) || ms != ok[i].ms)
      fail_msg("--timeout %s: %lld ms, want %lld", ok[i].in, (long long)ms,
               (long long)ok[i].ms);
  }
  for (i = 0; bad[i] != NULL; i++) {
    if (timeout_flag(bad[i], &ms))
      fail_msg("--timeout '%s' accepted as %lld ms", bad[i], (long long)ms);
  }
}

/* The same command line parsed twice in one process gives the same
 * result: getopt's state inside the last argv ("-h-A" stopped after 'h')
 * is reset (found by tests/fuzz options: corpus/options/peers-twice). */
static void test_parse_twice(void **state)
{
  char *argv[] = {"berth-peers", "-h-A", NULL};
  peers_options_t o;

  (void)state;
  assert_int_equal(parse(&o, argv), PEERS_PARSE_EXIT_OK);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, argv), PEERS_PARSE_EXIT_OK);
  peers_options_cleanup(&o);
}

static void test_peer_finder_flags(void **state)
{
  /* peer-finder's Go spelling, as in its StatefulSet examples. */
  char *argv[] = {"berth-peers",
                  "-on-start=/work-dir/on-start.sh",
                  "-service=mongo",
                  "-ns",
                  "prod",
                  "-domain=k8s.local",
                  "-addresses",
                  "-on-change",
                  "/on-change.sh x",
                  NULL};
  peers_options_t o;

  (void)state;
  assert_int_equal(parse(&o, argv), PEERS_PARSE_RUN);
  assert_string_equal(o.on_start, "/work-dir/on-start.sh");
  assert_string_equal(o.on_change, "/on-change.sh x");
  assert_string_equal(o.id.service, "mongo");
  assert_string_equal(o.id.ns, "prod");
  assert_string_equal(o.id.domain, "k8s.local");
  assert_true(o.addresses);
  assert_true(o.wait_self);
  assert_false(o.once);
  assert_int_equal(o.interval_ms, PEERS_DEFAULT_INTERVAL_MS);
  peers_options_cleanup(&o);
}

/* Every flag of kmodules/peer-finder (with klog's) and of the contrib
 * peer-finder parses; -hosts-file is not -h (help), -v N is the
 * verbosity, not -V (version); -address-type IP gives addresses. */
static void test_kmodules_flags(void **state)
{
  char *argv[] = {"berth-peers",
                  "-hosts-file",
                  "/etc/hosts",
                  "-address-type=IP",
                  "-selector",
                  "app=db",
                  "-kubeconfig=/k",
                  "-master",
                  "https://10.0.0.1",
                  "-alsologtostderr",
                  "-logtostderr=true",
                  "-v",
                  "3",
                  "-log_dir",
                  "/tmp",
                  "-stderrthreshold=2",
                  "-vmodule=x=2",
                  "-skip_headers=false",
                  "-service=mongo",
                  "-ns",
                  "db",
                  "-on-start",
                  "/on-start.sh",
                  NULL};
  char *v_eq[] = {"berth-peers", "-v=5", "--service", "web", "--once", NULL};
  char *bad_type[] = {"berth-peers", "-address-type", "dns", "-service",
                      "web",         "--once",        NULL};
  char *bad_bool[] = {"berth-peers", "-alsologtostderr=maybe",
                      "-service",    "web",
                      "--once",      NULL};
  char *bad_v[] = {"berth-peers", "-v",     "loud", "-service",
                   "web",         "--once", NULL};
  peers_options_t o;

  (void)state;
  assert_int_equal(parse(&o, argv), PEERS_PARSE_RUN);
  assert_string_equal(o.id.service, "mongo");
  assert_string_equal(o.on_start, "/on-start.sh");
  assert_string_equal(o.address_type, "IP");
  assert_true(o.addresses);
  assert_true(berth_log_enabled(BERTH_LOG_DEBUG));
  assert_false(berth_log_enabled(BERTH_LOG_TRACE));
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, v_eq), PEERS_PARSE_RUN);
  assert_true(berth_log_enabled(BERTH_LOG_TRACE));
  assert_string_equal(o.address_type, "DNS");
  assert_false(o.addresses);
  peers_options_cleanup(&o);
  berth_log_set_level(BERTH_LOG_INFO);
  assert_int_equal(parse(&o, bad_type), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, bad_bool), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, bad_v), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
}

static void test_berth_flags(void **state)
{
  char *argv[] = {"berth-peers",
                  "--service",
                  "web",
                  "--once",
                  "--timeout=5s",
                  "--min-peers",
                  "3",
                  "-wait-for-self=false",
                  "--wait-for-lower-ordinals",
                  "--interval",
                  "100ms",
                  "--debounce=1s",
                  "--hook-timeout",
                  "0",
                  "--hook-backoff",
                  "50ms",
                  "--dns-server",
                  "127.0.0.1:5353",
                  "--render",
                  "json:/tmp/p.json",
                  "-render=zookeeper,port=2999:/tmp/z",
                  "--http-endpoint",
                  ":0",
                  "--hostname",
                  "web-1",
                  "--port-name",
                  "peer",
                  NULL};
  peers_options_t o;

  (void)state;
  assert_int_equal(parse(&o, argv), PEERS_PARSE_RUN);
  assert_true(o.once);
  assert_int_equal(o.timeout_ms, 5000);
  assert_int_equal(o.min_peers, 3);
  assert_false(o.wait_self);
  assert_true(o.wait_lower);
  assert_int_equal(o.interval_ms, 100);
  assert_int_equal(o.debounce_ms, 1000);
  assert_int_equal(o.hook_timeout_ms, 0);
  assert_int_equal(o.hook_backoff_ms, 50);
  assert_string_equal(o.dns_server, "127.0.0.1:5353");
  assert_int_equal(o.nrenders, 2);
  assert_int_equal(o.renders[1].kind, PEERS_RENDER_ZOOKEEPER);
  assert_int_equal(o.renders[1].port, 2999);
  assert_string_equal(o.http_endpoint, ":0");
  assert_string_equal(o.id.hostname, "web-1");
  assert_string_equal(o.port_name, "peer");
  peers_options_cleanup(&o);
}

static void test_bad_flags(void **state)
{
  char *no_service[] = {"berth-peers", "-on-start", "x", NULL};
  char *nothing[] = {"berth-peers", "-service", "web", NULL};
  char *bad_dur[] = {"berth-peers", "-service", "web", "--once",
                     "--timeout",   "soon",     NULL};
  char *bad_render[] = {"berth-peers", "-service", "web",
                        "--render",    "xml:/x",   NULL};
  char *unknown[] = {"berth-peers", "-service", "web", "--frobnicate", NULL};
  char *extra[] = {"berth-peers", "-service", "web", "--once", "stray", NULL};
  char *tiny[] = {"berth-peers", "-service", "web", "--once",
                  "--interval",  "1ms",      NULL};
  char *help[] = {"berth-peers", "-h", NULL};
  char *version[] = {"berth-peers", "-version", NULL};
  peers_options_t o;

  (void)state;
  assert_int_equal(parse(&o, no_service), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, nothing), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, bad_dur), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, bad_render), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, unknown), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, extra), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, tiny), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, help), PEERS_PARSE_EXIT_OK);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, version), PEERS_PARSE_EXIT_OK);
  peers_options_cleanup(&o);
}

static void test_source(void **state)
{
  char *endpoints[] = {
      "berth-peers",    "--source",     "endpoints", "--ready-only",
      "-kubeconfig=/k", "-service=web", "--once",    NULL};
  char *dns[] = {"berth-peers", "--source=dns", "-service=web", "--once", NULL};
  char *bad[] = {"berth-peers",  "--source", "api",
                 "-service=web", "--once",   NULL};
  char *ready_dns[] = {"berth-peers", "--ready-only", "-service=web", "--once",
                       NULL};
  peers_options_t o;

  (void)state;
  assert_int_equal(parse(&o, endpoints), PEERS_PARSE_RUN);
  assert_true(o.source_endpoints);
  assert_true(o.ready_only);
  assert_string_equal(o.kubeconfig, "/k");
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, dns), PEERS_PARSE_RUN);
  assert_false(o.source_endpoints);
  assert_false(o.ready_only);
  peers_options_cleanup(&o);
  assert_int_equal(parse(&o, bad), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
  /* DNS names only ready endpoints: --ready-only there is a mistake. */
  assert_int_equal(parse(&o, ready_dns), PEERS_PARSE_EXIT_USAGE);
  peers_options_cleanup(&o);
}

static void test_metrics_text(void **state)
{
  peers_counters_t c;
  peers_status_t s;
  berth_buf_t out;

  (void)state;
  memset(&c, 0, sizeof(c));
  c.members = 12;
  c.ready = true;
  c.changes = 3;
  c.dns_queries = 40;
  c.dns_failures = 2;
  c.hook_runs = 4;
  c.hook_failures = 1;
  c.last_change_ms = 1764083913123;
  berth_buf_init(&out);
  assert_int_equal(peers_metrics_format(&c, &out), BERTH_OK);
  assert_non_null(strstr(berth_buf_str(&out),
                         "# TYPE berth_peers_members gauge\n"
                         "berth_peers_members 12\n"));
  assert_non_null(strstr(berth_buf_str(&out), "\nberth_peers_ready 1\n"));
  assert_non_null(
      strstr(berth_buf_str(&out), "\nberth_peers_changes_total 3\n"));
  assert_non_null(
      strstr(berth_buf_str(&out), "\nberth_peers_dns_queries_total 40\n"));
  assert_non_null(
      strstr(berth_buf_str(&out), "\nberth_peers_dns_failures_total 2\n"));
  assert_non_null(
      strstr(berth_buf_str(&out), "\nberth_peers_hook_runs_total 4\n"));
  assert_non_null(
      strstr(berth_buf_str(&out), "\nberth_peers_hook_failures_total 1\n"));
  assert_non_null(strstr(berth_buf_str(&out),
                         "\nberth_peers_last_change_timestamp_seconds "
                         "1764083913.123\n"));
  berth_buf_reset(&out);
  peers_status_init(&s);
  assert_int_equal(peers_status_json(&s, &out), BERTH_OK);
  assert_string_equal(berth_buf_str(&out), "{}\n");
  assert_int_equal(peers_status_set_json(&s, "{\"a\":1}\n"), BERTH_OK);
  peers_status_set_counters(&s, &c);
  memset(&c, 0, sizeof(c));
  peers_status_counters(&s, &c);
  assert_int_equal(c.members, 12);
  berth_buf_reset(&out);
  assert_int_equal(peers_status_json(&s, &out), BERTH_OK);
  assert_string_equal(berth_buf_str(&out), "{\"a\":1}\n");
  peers_status_cleanup(&s);
  berth_buf_cleanup(&out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_parse_twice),
      cmocka_unit_test(test_bools),
      cmocka_unit_test(test_peer_finder_flags),
      cmocka_unit_test(test_kmodules_flags),
      cmocka_unit_test(test_source),
      cmocka_unit_test(test_berth_flags),
      cmocka_unit_test(test_bad_flags),
      cmocka_unit_test(test_metrics_text),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
