/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers names, ordinals and identity
 * (peer-discovery/names.c, identity.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "names.h"

#define RESOLV(name) BERTH_TEST_DATA "/peers/resolv/" name

static void test_labels(void **state)
{
  char l63[64];
  char l64[65];

  (void)state;
  memset(l63, 'a', 63);
  l63[63] = '\0';
  memset(l64, 'a', 64);
  l64[64] = '\0';
  assert_true(peers_label_valid("web-0", 5));
  assert_true(peers_label_valid("0", 1));
  assert_true(peers_label_valid("Web-0", 5));
  assert_true(peers_label_valid(l63, 63));
  assert_false(peers_label_valid(l64, 64));
  assert_false(peers_label_valid("", 0));
  assert_false(peers_label_valid("-web", 4));
  assert_false(peers_label_valid("web-", 4));
  assert_false(peers_label_valid("web_0", 5));
  assert_false(peers_label_valid("a b", 3));
  assert_false(peers_label_valid("a\0b", 3));
}

/* Names a hostile DNS server could send, each of which must be refused. */
static void test_hostile_names(void **state)
{
  static const char *const bad[] = {
      "",
      ".",
      "$(reboot).web.default.svc.cluster.local",
      "`id`.web.default.svc.cluster.local",
      "a;rm -rf /.web.default.svc.cluster.local",
      "../../etc/passwd",
      "web-0/..",
      "web 0.web",
      "web-0.web\n.default",
      "web-0\\.web",
      "web\\0320.web",
      "web_0.web.default.svc.cluster.local",
      "-web-0.web",
      "web-0-.web",
      "web..default",
      ".web.default",
      "web-0.web.default..",
      "caf\xc3\xa9.web",
      "a\x01.web",
      "web-0,web-1.web",
      "web-0=x.web",
      "web-0'.web",
  };
  char *out = NULL;
  char longname[300];
  char label64[70];
  berth_error_t err;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    berth_error_clear(&err);
    assert_int_equal(peers_name_normalize(bad[i], &out, &err), BERTH_EINVAL);
    assert_null(out);
    assert_true(err.message[0] != '\0');
  }
  /* 254 characters: one over the limit. */
  memset(longname, 'a', sizeof(longname));
  for (i = 63; i < 254; i += 64)
    longname[i] = '.';
  longname[254] = '\0';
  assert_int_equal(peers_name_normalize(longname, &out, NULL), BERTH_EINVAL);
  longname[253] = '\0';
  assert_int_equal(peers_name_normalize(longname, &out, NULL), BERTH_OK);
  assert_int_equal(strlen(out), 253);
  free(out);
  memset(label64, 'b', 64);
  strcpy(label64 + 64, ".web");
  assert_int_equal(peers_name_normalize(label64, &out, NULL), BERTH_EINVAL);
}

static void test_normalize(void **state)
{
  char *out = NULL;

  (void)state;
  assert_int_equal(
      peers_name_normalize("WEB-0.Web.Default.SVC.cluster.local.", &out, NULL),
      BERTH_OK);
  assert_string_equal(out, "web-0.web.default.svc.cluster.local");
  free(out);
  assert_int_equal(peers_name_normalize("0", &out, NULL), BERTH_OK);
  assert_string_equal(out, "0");
  free(out);
}

static void test_ordinals(void **state)
{
  (void)state;
  assert_int_equal(peers_name_ordinal("web-0"), 0);
  assert_int_equal(peers_name_ordinal("web-0.web.default.svc"), 0);
  assert_int_equal(peers_name_ordinal("web-12.web"), 12);
  assert_int_equal(peers_name_ordinal("my-db-7"), 7);
  assert_int_equal(peers_name_ordinal("web-2147483647"), 2147483647L);
  assert_int_equal(peers_name_ordinal("web-2147483648"), -1);
  assert_int_equal(peers_name_ordinal("web-99999999999999999999"), -1);
  assert_int_equal(peers_name_ordinal("web-01"), -1);
  assert_int_equal(peers_name_ordinal("web"), -1);
  assert_int_equal(peers_name_ordinal("web-"), -1);
  assert_int_equal(peers_name_ordinal("web3"), -1);
  assert_int_equal(peers_name_ordinal("-3"), -1);
  assert_int_equal(peers_name_ordinal("3"), -1);
  assert_int_equal(peers_name_ordinal("web.db-3"), -1);
}

static void base_opts(peers_identity_opts_t *o)
{
  memset(o, 0, sizeof(*o));
  o->service = "web";
  o->no_gethostname = true;
  o->ns_file = RESOLV("missing");
  o->resolv_conf = RESOLV("missing.conf");
}

static void test_identity_flags_win(void **state)
{
  peers_identity_opts_t o;
  peers_identity_t id;

  (void)state;
  base_opts(&o);
  o.hostname = "Mongo-10.mongo.prod.svc.cluster.local";
  o.env_hostname = "ignored-1";
  o.service = "Mongo";
  o.ns = "prod";
  o.env_namespace = "ignored";
  o.domain = "k8s.example.";
  o.resolv_conf = RESOLV("pod.conf");
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  assert_string_equal(id.host, "mongo-10");
  assert_string_equal(id.base, "mongo");
  assert_int_equal(id.ordinal, 10);
  assert_string_equal(id.service, "mongo");
  assert_string_equal(id.ns, "prod");
  assert_string_equal(id.domain, "k8s.example");
  assert_string_equal(id.service_fqdn, "mongo.prod.svc.k8s.example");
  assert_string_equal(id.fqdn, "mongo-10.mongo.prod.svc.k8s.example");
  assert_string_equal(id.host_source, "flag");
  assert_string_equal(id.ns_source, "flag");
  assert_string_equal(id.domain_source, "flag");
  peers_identity_cleanup(&id);
}

static void test_identity_env_and_files(void **state)
{
  peers_identity_opts_t o;
  peers_identity_t id;

  (void)state;
  base_opts(&o);
  o.env_hostname = "web-2";
  o.env_namespace = "team-a";
  o.resolv_conf = RESOLV("pod.conf");
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  assert_string_equal(id.fqdn, "web-2.web.team-a.svc.cluster.local");
  assert_string_equal(id.host_source, "env");
  assert_string_equal(id.ns_source, "env");
  assert_string_equal(id.domain_source, "resolv.conf");
  peers_identity_cleanup(&id);

  o.env_namespace = NULL;
  o.ns_file = RESOLV("namespace");
  o.resolv_conf = RESOLV("custom-zone.conf");
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  assert_string_equal(id.fqdn, "web-2.web.prod.svc.k8s.example.org");
  assert_string_equal(id.ns_source, "file");
  peers_identity_cleanup(&id);

  o.resolv_conf = RESOLV("no-svc.conf");
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  assert_string_equal(id.domain, "cluster.local");
  assert_string_equal(id.domain_source, "default");
  peers_identity_cleanup(&id);

  o.resolv_conf = RESOLV("only-svc.conf");
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  assert_string_equal(id.domain, "corp.example");
  peers_identity_cleanup(&id);
}

static void test_identity_no_ordinal(void **state)
{
  peers_identity_opts_t o;
  peers_identity_t id;

  (void)state;
  base_opts(&o);
  o.hostname = "standalone";
  o.ns = "default";
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_OK);
  assert_int_equal(id.ordinal, -1);
  assert_string_equal(id.base, "standalone");
  peers_identity_cleanup(&id);
}

static void test_identity_errors(void **state)
{
  peers_identity_opts_t o;
  peers_identity_t id;
  berth_error_t err;

  (void)state;
  base_opts(&o);
  o.hostname = "web-0";
  berth_error_clear(&err);
  assert_int_equal(peers_identity_resolve(&o, &id, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "namespace"));

  o.ns = "default";
  o.service = NULL;
  berth_error_clear(&err);
  assert_int_equal(peers_identity_resolve(&o, &id, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "-service"));

  o.service = "web";
  o.hostname = NULL;
  berth_error_clear(&err);
  assert_int_equal(peers_identity_resolve(&o, &id, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "host name"));

  o.hostname = "web_0";
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_EINVAL);
  o.hostname = "web-0";
  o.ns = "a.b";
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_EINVAL);
  o.ns = "default";
  o.service = "$(x)";
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_EINVAL);
  o.service = "web";
  o.domain = "bad..zone";
  assert_int_equal(peers_identity_resolve(&o, &id, NULL), BERTH_EINVAL);
}

static void test_zone_from_resolv_conf(void **state)
{
  char *zone = NULL;

  (void)state;
  assert_int_equal(peers_zone_from_resolv_conf("search a.b c.d\n", &zone),
                   BERTH_ENOTFOUND);
  assert_int_equal(
      peers_zone_from_resolv_conf("search x.y.svc.z\nnameserver 1\n", &zone),
      BERTH_ENOTFOUND);
  assert_int_equal(peers_zone_from_resolv_conf(
                       "searchx svc.bad\nsearch  ns1.svc.good.zone \n", &zone),
                   BERTH_OK);
  assert_string_equal(zone, "good.zone");
  free(zone);
  assert_int_equal(
      peers_zone_from_resolv_conf("search ns.svc.$(bad) svc.ok\n", &zone),
      BERTH_OK);
  assert_string_equal(zone, "ok");
  free(zone);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_labels),
      cmocka_unit_test(test_hostile_names),
      cmocka_unit_test(test_normalize),
      cmocka_unit_test(test_ordinals),
      cmocka_unit_test(test_identity_flags_win),
      cmocka_unit_test(test_identity_env_and_files),
      cmocka_unit_test(test_identity_no_ordinal),
      cmocka_unit_test(test_identity_errors),
      cmocka_unit_test(test_zone_from_resolv_conf),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
