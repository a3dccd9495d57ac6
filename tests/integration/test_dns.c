/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests of include/berth/dns.h against dnsmasq from the test
 * bed (tests/bed/bed_dns.py): a headless Service "web" in namespace
 * "default" of cluster.local backing a 3-member StatefulSet.
 *
 * Runs under `bed.py run dns -- test_dns`, which exports
 * BERTH_DNS_SERVER, BERTH_DNS_DOMAIN, BERTH_BED and BERTH_BED_DIR. The
 * tests run in order: the later ones change the bed (scale, down, up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/dns.h"
#include "test_timing.h"

extern char **environ;

/* Per-try timeout and tries of the resolver under test: short, so that a
 * stopped server is noticed quickly. */
#define TEST_TIMEOUT_MS 300
#define TEST_TRIES 2

typedef struct fixture {
  berth_dns_t *dns;
  char domain[128];
  char service[256]; /* web.default.svc.<domain> */
} fixture_t;

static const char *env_or_fail(const char *name)
{
  const char *v = getenv(name);

  if (v == NULL || v[0] == '\0')
    fail_msg("%s is not set: run this test under tests/bed/bed.py run dns",
             name);
  return v;
}

/* Run `python3 $BERTH_BED ctl dns ARGS...` and assert that it succeeded. */
static void bed_ctl_dns(const char *a1, const char *a2, const char *a3)
{
  const char *bed = env_or_fail("BERTH_BED");
  char *argv[8];
  pid_t pid;
  int status = 0;
  int n = 0;

  env_or_fail("BERTH_BED_DIR");
  argv[n++] = (char *)"/usr/bin/python3";
  argv[n++] = (char *)bed;
  argv[n++] = (char *)"ctl";
  argv[n++] = (char *)"dns";
  argv[n++] = (char *)a1;
  if (a2 != NULL)
    argv[n++] = (char *)a2;
  if (a3 != NULL)
    argv[n++] = (char *)a3;
  argv[n] = NULL;
  assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, argv, environ), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  berth_dns_options_t opts;
  berth_error_t err;

  assert_non_null(f);
  memset(&opts, 0, sizeof(opts));
  opts.servers = env_or_fail("BERTH_DNS_SERVER");
  opts.timeout_ms = TEST_TIMEOUT_MS;
  opts.tries = TEST_TRIES;
  berth_strlcpy(f->domain, env_or_fail("BERTH_DNS_DOMAIN"), sizeof(f->domain));
  snprintf(f->service, sizeof(f->service), "web.default.svc.%s", f->domain);
  berth_error_clear(&err);
  if (berth_dns_create(&opts, &f->dns, &err) != BERTH_OK)
    fail_msg("berth_dns_create: %s", err.message);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;

  berth_dns_destroy(f->dns);
  free(f);
  return 0;
}

/* A member's name: web-<i>.web.default.svc.<domain>. */
static void member_name(const fixture_t *f, int i, char *out, size_t size)
{
  snprintf(out, size, "web-%d.%s", i, f->service);
}

static berth_dns_addrs_t *resolve_ok(fixture_t *f, const char *name, int family)
{
  berth_dns_addrs_t *addrs = NULL;
  berth_error_t err;

  berth_error_clear(&err);
  if (berth_dns_resolve_addrs(f->dns, name, family, &addrs, &err) != BERTH_OK)
    fail_msg("resolve %s: %s: %s", name, berth_status_name(err.status),
             err.message);
  assert_non_null(addrs);
  assert_true(addrs->count > 0);
  return addrs;
}

static berth_dns_srv_list_t *srv_ok(fixture_t *f, const char *name)
{
  berth_dns_srv_list_t *list = NULL;
  berth_error_t err;

  berth_error_clear(&err);
  if (berth_dns_resolve_srv(f->dns, name, &list, &err) != BERTH_OK)
    fail_msg("resolve SRV %s: %s: %s", name, berth_status_name(err.status),
             err.message);
  assert_non_null(list);
  assert_true(list->count > 0);
  return list;
}

static size_t count_family(const berth_dns_addrs_t *addrs, int family)
{
  size_t n = 0;
  size_t i;

  for (i = 0; i < addrs->count; i++)
    if (addrs->items[i].family == family)
      n++;
  return n;
}

static bool has_addr(const berth_dns_addrs_t *addrs, const char *addr)
{
  size_t i;

  for (i = 0; i < addrs->count; i++)
    if (strcmp(addrs->items[i].addr, addr) == 0)
      return true;
  return false;
}

/* Assert that list holds exactly the members 0..n-1 of web, each once,
 * with port 80, lower case and without a trailing dot. */
static void assert_srv_members(const fixture_t *f,
                               const berth_dns_srv_list_t *list, int n)
{
  int i;
  size_t j;

  assert_int_equal(list->count, (size_t)n);
  for (i = 0; i < n; i++) {
    char want[300];
    int seen = 0;

    member_name(f, i, want, sizeof(want));
    for (j = 0; j < list->count; j++) {
      if (strcmp(list->items[j].target, want) == 0) {
        seen++;
        assert_int_equal(list->items[j].port, 80);
        assert_int_equal(list->items[j].priority, 0);
      }
    }
    if (seen != 1)
      fail_msg("SRV target %s seen %d times", want, seen);
  }
}

static void test_member_a(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs;
  char name[300];

  member_name(f, 0, name, sizeof(name));
  addrs = resolve_ok(f, name, AF_INET);
  assert_int_equal(addrs->count, 1);
  assert_int_equal(addrs->items[0].family, AF_INET);
  assert_string_equal(addrs->items[0].addr, "10.244.0.10");
  /* The bed serves its records with a 5 s TTL. */
  assert_true(addrs->items[0].ttl > 0 && addrs->items[0].ttl <= 5);
  berth_dns_addrs_free(addrs);
}

static void test_member_aaaa(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs;
  char name[300];

  member_name(f, 2, name, sizeof(name));
  addrs = resolve_ok(f, name, AF_INET6);
  assert_int_equal(addrs->count, 1);
  assert_int_equal(addrs->items[0].family, AF_INET6);
  assert_string_equal(addrs->items[0].addr, "fd00:10:244::c");
  assert_true(addrs->items[0].ttl > 0 && addrs->items[0].ttl <= 5);
  berth_dns_addrs_free(addrs);
}

static void test_member_both_families(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs;
  char name[300];

  member_name(f, 1, name, sizeof(name));
  addrs = resolve_ok(f, name, AF_UNSPEC);
  assert_int_equal(addrs->count, 2);
  assert_int_equal(count_family(addrs, AF_INET), 1);
  assert_int_equal(count_family(addrs, AF_INET6), 1);
  assert_true(has_addr(addrs, "10.244.0.11"));
  assert_true(has_addr(addrs, "fd00:10:244::b"));
  berth_dns_addrs_free(addrs);
}

static void test_headless_service(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs;

  addrs = resolve_ok(f, f->service, AF_INET);
  assert_int_equal(addrs->count, 3);
  assert_true(has_addr(addrs, "10.244.0.10"));
  assert_true(has_addr(addrs, "10.244.0.11"));
  assert_true(has_addr(addrs, "10.244.0.12"));
  berth_dns_addrs_free(addrs);

  addrs = resolve_ok(f, f->service, AF_UNSPEC);
  assert_int_equal(addrs->count, 6);
  assert_int_equal(count_family(addrs, AF_INET), 3);
  assert_int_equal(count_family(addrs, AF_INET6), 3);
  berth_dns_addrs_free(addrs);
}

static void test_srv(void **state)
{
  fixture_t *f = *state;
  berth_dns_srv_list_t *list;
  char name[300];

  list = srv_ok(f, f->service);
  assert_srv_members(f, list, 3);
  berth_dns_srv_list_free(list);

  /* The named port: _<port>._<proto>.<svc>.<ns>.svc.<zone>. */
  snprintf(name, sizeof(name), "_http._tcp.%s", f->service);
  list = srv_ok(f, name);
  assert_srv_members(f, list, 3);
  berth_dns_srv_list_free(list);

  /* A trailing dot makes no difference. */
  snprintf(name, sizeof(name), "%s.", f->service);
  list = srv_ok(f, name);
  assert_srv_members(f, list, 3);
  berth_dns_srv_list_free(list);
}

static void test_mixed_case(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs;
  berth_dns_srv_list_t *list;
  char name[300];
  char zone[128];
  size_t i;

  /* The zone in upper case too: "CLUSTER.LOCAL". */
  berth_strlcpy(zone, f->domain, sizeof(zone));
  for (i = 0; zone[i] != '\0'; i++)
    if (zone[i] >= 'a' && zone[i] <= 'z')
      zone[i] = (char)(zone[i] - 'a' + 'A');
  snprintf(name, sizeof(name), "WEB-1.Web.DEFAULT.Svc.%s", zone);
  addrs = resolve_ok(f, name, AF_INET);
  assert_int_equal(addrs->count, 1);
  assert_string_equal(addrs->items[0].addr, "10.244.0.11");
  berth_dns_addrs_free(addrs);

  snprintf(name, sizeof(name), "_HTTP._Tcp.WEB.default.SVC.%s.", zone);
  list = srv_ok(f, name);
  /* Targets come back in lower case whatever the question's case. */
  assert_srv_members(f, list, 3);
  berth_dns_srv_list_free(list);
}

static void test_nxdomain(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs = NULL;
  berth_dns_srv_list_t *list = NULL;
  berth_error_t err;
  char name[300];
  int64_t t0;
  int64_t elapsed;

  snprintf(name, sizeof(name), "nosuch.default.svc.%s", f->domain);
  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(
      berth_dns_resolve_addrs(f->dns, name, AF_UNSPEC, &addrs, &err),
      BERTH_ENOTFOUND);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  /* An answer, not a timeout: the reason says NXDOMAIN (a clock bound
   * would fail on a loaded machine and prove no more). */
  print_message("NXDOMAIN after %lld ms\n", (long long)elapsed);
  assert_null(addrs);
  assert_int_equal(err.status, BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "NXDOMAIN");

  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(berth_dns_resolve_srv(f->dns, name, &list, &err),
                   BERTH_ENOTFOUND);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  print_message("NXDOMAIN after %lld ms\n", (long long)elapsed);
  assert_null(list);
  assert_string_equal(err.reason, "NXDOMAIN");

  /* Outside the zone nothing is forwarded: NXDOMAIN too. */
  berth_error_clear(&err);
  assert_int_equal(
      berth_dns_resolve_addrs(f->dns, "example.com", AF_INET, &addrs, &err),
      BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "NXDOMAIN");
}

static void test_nodata(void **state)
{
  fixture_t *f = *state;
  berth_dns_srv_list_t *list = NULL;
  berth_error_t err;
  char name[300];

  /* A member has A/AAAA records but no SRV records. */
  member_name(f, 0, name, sizeof(name));
  berth_error_clear(&err);
  assert_int_equal(berth_dns_resolve_srv(f->dns, name, &list, &err),
                   BERTH_ENOTFOUND);
  assert_null(list);
  assert_string_equal(err.reason, "NODATA");
}

static void test_scale_to_5(void **state)
{
  fixture_t *f = *state;
  berth_dns_srv_list_t *list;
  berth_dns_addrs_t *addrs;
  char name[300];

  bed_ctl_dns("scale", "web", "5");

  list = srv_ok(f, f->service);
  assert_srv_members(f, list, 5);
  berth_dns_srv_list_free(list);

  snprintf(name, sizeof(name), "_http._tcp.%s", f->service);
  list = srv_ok(f, name);
  assert_srv_members(f, list, 5);
  berth_dns_srv_list_free(list);

  member_name(f, 4, name, sizeof(name));
  addrs = resolve_ok(f, name, AF_INET);
  assert_string_equal(addrs->items[0].addr, "10.244.0.14");
  berth_dns_addrs_free(addrs);

  addrs = resolve_ok(f, f->service, AF_INET);
  assert_int_equal(addrs->count, 5);
  berth_dns_addrs_free(addrs);
}

static void test_down_then_up(void **state)
{
  fixture_t *f = *state;
  berth_dns_addrs_t *addrs = NULL;
  berth_dns_srv_list_t *list = NULL;
  berth_error_t err;
  berth_status_t st;
  int64_t t0;
  int64_t elapsed;

  bed_ctl_dns("down", NULL, NULL);

  /* No server: the call must fail, and within a bounded time (300 ms per
   * try, 2 tries, doubled on the second round, plus slack). */
  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  st = berth_dns_resolve_addrs(f->dns, f->service, AF_UNSPEC, &addrs, &err);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  if (st != BERTH_ETIMEOUT && st != BERTH_EDNS)
    fail_msg("resolve with the server down gave %s: %s", berth_status_name(st),
             err.message);
  assert_null(addrs);
  assert_int_equal(err.status, st);
  assert_true(elapsed < test_bound_ms(3000));

  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  st = berth_dns_resolve_srv(f->dns, f->service, &list, &err);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  if (st != BERTH_ETIMEOUT && st != BERTH_EDNS)
    fail_msg("resolve SRV with the server down gave %s: %s",
             berth_status_name(st), err.message);
  assert_null(list);
  assert_true(elapsed < test_bound_ms(3000));

  bed_ctl_dns("up", NULL, NULL);

  /* The same handle works again, with the records as scaled before. */
  list = srv_ok(f, f->service);
  assert_srv_members(f, list, 5);
  berth_dns_srv_list_free(list);
  addrs = resolve_ok(f, f->service, AF_INET6);
  assert_int_equal(addrs->count, 5);
  berth_dns_addrs_free(addrs);
}

static void test_deadline_bounds_a_silent_server(void **state)
{
  berth_dns_options_t opts;
  berth_dns_t *dns = NULL;
  berth_dns_addrs_t *addrs = NULL;
  berth_dns_srv_list_t *list = NULL;
  berth_error_t err;
  struct sockaddr_in sin;
  socklen_t len = sizeof(sin);
  char servers[64];
  int64_t t0;
  int64_t elapsed;
  int fd;

  (void)state;
  /* A UDP socket that receives the queries and never answers: only the
   * deadline ends the call, long before c-ares's own timeouts would. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
  snprintf(servers, sizeof(servers), "127.0.0.1:%u",
           (unsigned)ntohs(sin.sin_port));

  memset(&opts, 0, sizeof(opts));
  opts.servers = servers;
  opts.timeout_ms = 2000;
  opts.tries = 5;
  opts.deadline_ms = 250;
  assert_int_equal(berth_dns_create(&opts, &dns, NULL), BERTH_OK);

  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(berth_dns_resolve_addrs(dns, "web.default.svc.cluster.local",
                                           AF_UNSPEC, &addrs, &err),
                   BERTH_ETIMEOUT);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_null(addrs);
  assert_int_equal(err.status, BERTH_ETIMEOUT);
  assert_true(elapsed >= 250 && elapsed < test_bound_ms(1500));

  berth_error_clear(&err);
  t0 = berth_clock_monotonic_ms(NULL);
  assert_int_equal(
      berth_dns_resolve_srv(dns, "web.default.svc.cluster.local", &list, &err),
      BERTH_ETIMEOUT);
  elapsed = berth_clock_monotonic_ms(NULL) - t0;
  assert_null(list);
  assert_true(elapsed >= 250 && elapsed < test_bound_ms(1500));

  berth_dns_destroy(dns);
  close(fd);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_member_a),
      cmocka_unit_test(test_member_aaaa),
      cmocka_unit_test(test_member_both_families),
      cmocka_unit_test(test_headless_service),
      cmocka_unit_test(test_srv),
      cmocka_unit_test(test_mixed_case),
      cmocka_unit_test(test_nxdomain),
      cmocka_unit_test(test_nodata),
      cmocka_unit_test(test_scale_to_5),
      cmocka_unit_test(test_down_then_up),
      cmocka_unit_test(test_deadline_bounds_a_silent_server),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
