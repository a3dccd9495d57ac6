/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers members from EndpointSlices
 * (peer-discovery/endpoints.c), on tests/data/peers/endpoints/slices.json:
 * a dual-stack Service's two slices (merged), conditions absent, not
 * ready, terminating, an endpoint without hostname, a bad hostname, an
 * FQDN slice and another Service's slice (both ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "endpoints.h"

#define DOMAIN "default.svc.cluster.local"

static json_t *load(void)
{
  json_error_t jerr;
  json_t *j =
      json_load_file(BERTH_TEST_DATA "/peers/endpoints/slices.json", 0, &jerr);

  assert_non_null(j);
  return j;
}

static void assert_hosts(const peers_set_t *s, const char *const *want,
                         size_t n)
{
  size_t i;

  assert_int_equal(s->count, n);
  for (i = 0; i < n; i++)
    assert_string_equal(s->items[i].host, want[i]);
}

static void test_members_and_ready(void **state)
{
  static const char *const all[] = {"web-0", "web-1", "web-2", "web-10"};
  static const char *const ready[] = {"web-0", "web-10"};
  peers_endpoints_result_t r;
  json_t *slices = load();
  const peers_member_t *m;

  (void)state;
  peers_endpoints_result_init(&r);
  assert_int_equal(
      peers_endpoints_members(slices, "web", DOMAIN, false, &r, NULL),
      BERTH_OK);
  assert_hosts(&r.members, all, 4);
  assert_hosts(&r.ready, ready, 2);
  assert_int_equal(r.skipped, 2);
  m = peers_set_find(&r.members, "web-0.web." DOMAIN);
  assert_non_null(m);
  assert_int_equal(m->port, 80);
  assert_int_equal(m->naddrs, 2);
  assert_string_equal(m->addrs[0], "10.244.0.10");
  assert_string_equal(m->addrs[1], "fd00:10:244::10");
  assert_null(peers_set_find(&r.members, "web-7.web." DOMAIN));
  /* Conditions go with the member: absent ready and serving are true. */
  assert_int_equal(m->conds,
                   PEERS_COND_KNOWN | PEERS_COND_READY | PEERS_COND_SERVING);
  assert_true(peers_member_ready(m));
  m = peers_set_find(&r.members, "web-2.web." DOMAIN);
  assert_non_null(m);
  assert_int_equal(m->conds, PEERS_COND_KNOWN | PEERS_COND_READY |
                                 PEERS_COND_SERVING | PEERS_COND_TERMINATING);
  assert_false(peers_member_ready(m));
  peers_endpoints_result_cleanup(&r);
  json_decref(slices);
}

static void test_ready_only(void **state)
{
  static const char *const ready[] = {"web-0", "web-10"};
  peers_endpoints_result_t r;
  json_t *slices = load();

  (void)state;
  peers_endpoints_result_init(&r);
  assert_int_equal(
      peers_endpoints_members(slices, "web", DOMAIN, true, &r, NULL), BERTH_OK);
  assert_hosts(&r.members, ready, 2);
  assert_hosts(&r.ready, ready, 2);
  peers_endpoints_result_cleanup(&r);
  json_decref(slices);
}

static void test_other_service(void **state)
{
  static const char *const want[] = {"other-0"};
  peers_endpoints_result_t r;
  json_t *slices = load();

  (void)state;
  peers_endpoints_result_init(&r);
  assert_int_equal(
      peers_endpoints_members(slices, "other", DOMAIN, false, &r, NULL),
      BERTH_OK);
  /* No conditions at all: ready, as the API says to read "unknown". */
  assert_hosts(&r.members, want, 1);
  assert_hosts(&r.ready, want, 1);
  assert_int_equal(r.members.items[0].port, 0);
  peers_endpoints_result_cleanup(&r);
  json_decref(slices);
}

static void test_malformed(void **state)
{
  static const char *const bad[] = {
      "[{\"metadata\": {\"name\": \"s1\", \"labels\": "
      "{\"kubernetes.io/service-name\": \"web\"}}, \"addressType\": \"IPv4\", "
      "\"endpoints\": {}}]",
      "[{\"metadata\": {\"name\": \"s1\", \"labels\": "
      "{\"kubernetes.io/service-name\": \"web\"}}, \"addressType\": \"IPv4\", "
      "\"endpoints\": [{\"hostname\": \"web-0\", \"addresses\": [\"x\"]}]}]",
      "[{\"metadata\": {\"name\": \"s1\", \"labels\": "
      "{\"kubernetes.io/service-name\": \"web\"}}, \"addressType\": \"IPv4\", "
      "\"endpoints\": [{\"hostname\": \"web-0\", "
      "\"conditions\": {\"ready\": \"yes\"}}]}]",
      "[{\"metadata\": {\"name\": \"s1\", \"labels\": "
      "{\"kubernetes.io/service-name\": \"web\"}}, \"addressType\": \"IPv4\", "
      "\"ports\": [{\"port\": 70000}], \"endpoints\": []}]",
  };
  peers_endpoints_result_t r;
  berth_error_t err;
  json_error_t jerr;
  json_t *j;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    j = json_loads(bad[i], 0, &jerr);
    assert_non_null(j);
    peers_endpoints_result_init(&r);
    assert_int_equal(peers_endpoints_members(j, "web", DOMAIN, false, &r, &err),
                     BERTH_EPARSE);
    assert_non_null(strstr(err.message, "EndpointSlice s1: "));
    assert_int_equal(r.members.count, 0);
    peers_endpoints_result_cleanup(&r);
    json_decref(j);
  }
  j = json_object();
  assert_int_equal(peers_endpoints_members(j, "web", DOMAIN, false, &r, &err),
                   BERTH_EINVAL);
  json_decref(j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_members_and_ready),
      cmocka_unit_test(test_ready_only),
      cmocka_unit_test(test_other_service),
      cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
