/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure DNS name helpers of include/berth/dns.h, and for
 * the argument checks of the resolver that need no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "berth/dns.h"

static void test_name_eq(void **state)
{
  (void)state;
  assert_true(berth_dns_name_eq("web-0.web", "web-0.web"));
  assert_true(berth_dns_name_eq("Web-0.WEB.default.svc.Cluster.Local",
                                "web-0.web.default.svc.cluster.local"));
  assert_true(berth_dns_name_eq("web-0.web.", "web-0.web"));
  assert_true(berth_dns_name_eq("web-0.web", "WEB-0.web."));
  assert_true(berth_dns_name_eq("web-0.web.", "web-0.web."));
  assert_true(berth_dns_name_eq("", ""));
  assert_true(berth_dns_name_eq(".", ""));
  assert_true(berth_dns_name_eq(NULL, NULL));
  /* Only one trailing dot is ignored. */
  assert_false(berth_dns_name_eq("web..", "web"));
  assert_false(berth_dns_name_eq("web-0.web", "web-1.web"));
  assert_false(berth_dns_name_eq("web-0.web", "web-0.we"));
  assert_false(berth_dns_name_eq("web-1", "web-10"));
  assert_false(berth_dns_name_eq("web", NULL));
  assert_false(berth_dns_name_eq(NULL, "web"));
  /* '-' and '_' are not letters: 0x2d | 0x20 is not 0x5f. */
  assert_false(berth_dns_name_eq("a-b", "a_b"));
  /* Octets above 0x7f compare exactly (RFC 4343 section 3). */
  assert_false(berth_dns_name_eq("\xc3\x89", "\xc3\xa9"));
  /* '@' (0x40) and '`' (0x60) differ only in the case bit, yet are not
   * letters. */
  assert_false(berth_dns_name_eq("@", "`"));
}

static void test_name_normalize(void **state)
{
  char a[] = "Web-0.WEB.default.svc.Cluster.Local.";
  char b[] = "web";
  char c[] = ".";
  char d[] = "x..";

  (void)state;
  assert_string_equal(berth_dns_name_normalize(a),
                      "web-0.web.default.svc.cluster.local");
  assert_string_equal(berth_dns_name_normalize(b), "web");
  assert_string_equal(berth_dns_name_normalize(c), "");
  assert_string_equal(berth_dns_name_normalize(d), "x.");
  assert_null(berth_dns_name_normalize(NULL));
}

static void test_name_valid(void **state)
{
  char label63[64];
  char label64[65];
  char name253[254];
  char name254[255];
  char name253dot[255];
  size_t i;

  (void)state;
  assert_true(berth_dns_name_valid("web"));
  assert_true(berth_dns_name_valid("web-0.web.default.svc.cluster.local"));
  assert_true(berth_dns_name_valid("web-0.web.default.svc.cluster.local."));
  assert_true(berth_dns_name_valid("_http._tcp.web.default.svc.cluster.local"));
  assert_true(berth_dns_name_valid("WEB-0.Web"));
  assert_true(berth_dns_name_valid("10.0.0.1"));

  assert_false(berth_dns_name_valid(NULL));
  assert_false(berth_dns_name_valid(""));
  assert_false(berth_dns_name_valid("."));
  assert_false(berth_dns_name_valid(".web"));
  assert_false(berth_dns_name_valid("web..local"));
  assert_false(berth_dns_name_valid("web.."));
  assert_false(berth_dns_name_valid("web local"));
  assert_false(berth_dns_name_valid("web\\.local"));
  assert_false(berth_dns_name_valid("web/0"));
  assert_false(berth_dns_name_valid("w\xc3\xa9z"));
  assert_false(berth_dns_name_valid("::1"));

  /* Labels of up to 63 characters (RFC 1035 section 2.3.4). */
  memset(label63, 'a', 63);
  label63[63] = '\0';
  assert_true(berth_dns_name_valid(label63));
  memset(label64, 'a', 64);
  label64[64] = '\0';
  assert_false(berth_dns_name_valid(label64));

  /* Names of up to 253 characters, plus an optional trailing dot: 63
   * characters and a dot, four times, less three. */
  for (i = 0; i < 253; i++)
    name253[i] = (i % 64 == 63) ? '.' : 'a';
  name253[253] = '\0';
  assert_true(berth_dns_name_valid(name253));
  memcpy(name253dot, name253, 253);
  name253dot[253] = '.';
  name253dot[254] = '\0';
  assert_true(berth_dns_name_valid(name253dot));
  memcpy(name254, name253, 253);
  name254[252] = 'a';
  name254[253] = 'a';
  name254[254] = '\0';
  assert_false(berth_dns_name_valid(name254));
}

static void test_create_rejects_bad_options(void **state)
{
  berth_dns_options_t opts;
  berth_dns_t *dns = NULL;
  berth_error_t err;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  opts.servers = "not an address";
  berth_error_clear(&err);
  assert_int_equal(berth_dns_create(&opts, &dns, &err), BERTH_EINVAL);
  assert_null(dns);
  assert_int_equal(err.status, BERTH_EINVAL);

  opts.servers = "";
  assert_int_equal(berth_dns_create(&opts, &dns, &err), BERTH_EINVAL);
  assert_null(dns);

  opts.servers = "127.0.0.1:53";
  opts.timeout_ms = -1;
  assert_int_equal(berth_dns_create(&opts, &dns, &err), BERTH_EINVAL);
  assert_null(dns);

  assert_int_equal(berth_dns_create(&opts, NULL, &err), BERTH_EINVAL);

  /* The port may be left out; IPv6 addresses go in brackets. */
  opts.timeout_ms = 0;
  opts.servers = "127.0.0.1,[::1]:5353";
  assert_int_equal(berth_dns_create(&opts, &dns, &err), BERTH_OK);
  assert_non_null(dns);
  berth_dns_destroy(dns);
  berth_dns_destroy(NULL);
}

static void test_resolve_rejects_bad_arguments(void **state)
{
  berth_dns_options_t opts;
  berth_dns_t *dns = NULL;
  berth_dns_addrs_t *addrs = NULL;
  berth_dns_srv_list_t *srv = NULL;
  berth_error_t err;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  /* A server that is never asked: every call below fails before. */
  opts.servers = "127.0.0.1:9,[::1]:9";
  assert_int_equal(berth_dns_create(&opts, &dns, NULL), BERTH_OK);
  assert_non_null(dns);

  berth_error_clear(&err);
  assert_int_equal(
      berth_dns_resolve_addrs(dns, "bad..name", AF_UNSPEC, &addrs, &err),
      BERTH_EINVAL);
  assert_null(addrs);
  assert_int_equal(err.status, BERTH_EINVAL);
  assert_int_equal(berth_dns_resolve_addrs(dns, NULL, AF_INET, &addrs, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_dns_resolve_addrs(dns, "web", AF_UNIX, &addrs, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_dns_resolve_addrs(dns, "web", AF_INET, NULL, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_dns_resolve_srv(dns, "", &srv, &err), BERTH_EINVAL);
  assert_int_equal(berth_dns_resolve_srv(NULL, "web", &srv, NULL),
                   BERTH_EINVAL);
  assert_null(srv);

  berth_dns_addrs_free(NULL);
  berth_dns_srv_list_free(NULL);
  berth_dns_destroy(dns);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_eq),
      cmocka_unit_test(test_name_normalize),
      cmocka_unit_test(test_name_valid),
      cmocka_unit_test(test_create_rejects_bad_options),
      cmocka_unit_test(test_resolve_rejects_bad_arguments),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
