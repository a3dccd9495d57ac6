/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers membership sets (peer-discovery/members.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "members.h"

#define ZONE ".web.default.svc.cluster.local"

static void add(peers_set_t *s, const char *host)
{
  char name[256];

  snprintf(name, sizeof(name), "%s%s", host, ZONE);
  assert_int_equal(peers_set_add(s, name, 80, NULL, NULL), BERTH_OK);
}

static void test_sort_numeric(void **state)
{
  static const char *const in[] = {"web-10", "web-2", "zeta",    "web-1",
                                   "alpha",  "web-0", "web-100", "db-2"};
  static const char *const want[] = {"web-0",  "web-1",   "db-2",  "web-2",
                                     "web-10", "web-100", "alpha", "zeta"};
  peers_set_t s;
  size_t i;

  (void)state;
  peers_set_init(&s);
  for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
    add(&s, in[i]);
  peers_set_sort(&s);
  assert_int_equal(s.count, 8);
  for (i = 0; i < s.count; i++)
    assert_string_equal(s.items[i].host, want[i]);
  assert_int_equal(s.items[4].ordinal, 10);
  assert_int_equal(s.items[6].ordinal, -1);
  assert_string_equal(peers_set_primary(&s)->host, "web-0");
  peers_set_cleanup(&s);
}

static void test_case_and_dot(void **state)
{
  peers_set_t s;
  peers_member_t *m = NULL;
  berth_error_t err;

  (void)state;
  peers_set_init(&s);
  assert_int_equal(
      peers_set_add(&s, "Web-1.WEB.default.svc.cluster.local.", 80, &m, NULL),
      BERTH_OK);
  assert_string_equal(m->name, "web-1" ZONE);
  assert_string_equal(m->host, "web-1");
  assert_int_equal(m->port, 80);
  /* The same member in another case or without the dot is not added. */
  assert_int_equal(peers_set_add(&s, "web-1" ZONE, 81, &m, NULL), BERTH_OK);
  assert_int_equal(peers_set_add(&s, "WEB-1" ZONE ".", 81, NULL, NULL),
                   BERTH_OK);
  assert_int_equal(s.count, 1);
  assert_int_equal(m->port, 80);
  assert_non_null(peers_set_find(&s, "WEB-1" ZONE "."));
  assert_null(peers_set_find(&s, "web-10" ZONE));
  berth_error_clear(&err);
  assert_int_equal(peers_set_add(&s, "$(id)" ZONE, 80, NULL, &err),
                   BERTH_EINVAL);
  assert_int_equal(s.count, 1);
  peers_set_cleanup(&s);
  assert_int_equal(s.count, 0);
  peers_set_cleanup(NULL);
}

static void test_addresses(void **state)
{
  peers_set_t s;
  peers_member_t *m = NULL;

  (void)state;
  peers_set_init(&s);
  assert_int_equal(peers_set_add(&s, "web-0" ZONE, 0, &m, NULL), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "fd00:10:244:0:0:0:0:a"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "10.244.0.9"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "10.244.0.10"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "fd00:10:244::a"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "::1"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "10.244.0.9"), BERTH_OK);
  assert_int_equal(peers_member_add_addr(m, "not-an-ip"), BERTH_EINVAL);
  assert_int_equal(peers_member_add_addr(m, "10.0.0.1; rm"), BERTH_EINVAL);
  assert_int_equal(peers_member_add_addr(m, NULL), BERTH_EINVAL);
  assert_int_equal(m->naddrs, 4);
  /* IPv4 first, each family in numeric (not string) order, canonical. */
  assert_string_equal(m->addrs[0], "10.244.0.9");
  assert_string_equal(m->addrs[1], "10.244.0.10");
  assert_string_equal(m->addrs[2], "::1");
  assert_string_equal(m->addrs[3], "fd00:10:244::a");
  peers_set_cleanup(&s);
}

static void test_equal_copy_move(void **state)
{
  peers_set_t a;
  peers_set_t b;
  peers_set_t c;

  (void)state;
  peers_set_init(&a);
  peers_set_init(&b);
  peers_set_init(&c);
  add(&a, "web-0");
  add(&a, "web-1");
  add(&b, "web-1");
  add(&b, "web-0");
  assert_true(peers_set_equal(&a, &b, true));
  assert_int_equal(peers_member_add_addr(&a.items[0], "10.0.0.1"), BERTH_OK);
  assert_true(peers_set_equal(&a, &b, false));
  assert_false(peers_set_equal(&a, &b, true));
  add(&b, "web-2");
  assert_false(peers_set_equal(&a, &b, false));
  assert_int_equal(peers_set_copy(&c, &a), BERTH_OK);
  assert_true(peers_set_equal(&a, &c, true));
  assert_ptr_not_equal(c.items[0].name, a.items[0].name);
  peers_set_move(&c, &b);
  assert_int_equal(c.count, 3);
  assert_int_equal(b.count, 0);
  assert_null(b.items);
  peers_set_cleanup(&a);
  peers_set_cleanup(&b);
  peers_set_cleanup(&c);
}

static void test_diff_and_join(void **state)
{
  peers_set_t before;
  peers_set_t now;
  berth_buf_t added;
  berth_buf_t removed;
  berth_buf_t all;
  int i;
  char host[16];

  (void)state;
  peers_set_init(&before);
  peers_set_init(&now);
  berth_buf_init(&added);
  berth_buf_init(&removed);
  berth_buf_init(&all);
  for (i = 0; i < 15; i++) {
    snprintf(host, sizeof(host), "web-%d", i);
    add(&before, host);
    if (i < 10)
      add(&now, host);
  }
  assert_int_equal(peers_set_diff(&before, &now, &added, &removed), BERTH_OK);
  assert_string_equal(berth_buf_str(&added), "");
  assert_string_equal(berth_buf_str(&removed),
                      "web-10" ZONE ",web-11" ZONE ",web-12" ZONE ",web-13" ZONE
                      ",web-14" ZONE);
  berth_buf_reset(&removed);
  assert_int_equal(peers_set_diff(&now, &before, &added, &removed), BERTH_OK);
  assert_string_equal(berth_buf_str(&removed), "");
  assert_non_null(strstr(berth_buf_str(&added), "web-14" ZONE));
  peers_set_cleanup(&now);
  add(&now, "web-1");
  add(&now, "web-0");
  peers_set_sort(&now);
  assert_int_equal(peers_set_join(&now, "\n", &all), BERTH_OK);
  assert_string_equal(berth_buf_str(&all), "web-0" ZONE "\nweb-1" ZONE);
  berth_buf_cleanup(&added);
  berth_buf_cleanup(&removed);
  berth_buf_cleanup(&all);
  peers_set_cleanup(&before);
  peers_set_cleanup(&now);
}

static void test_has_lower(void **state)
{
  peers_set_t s;
  long missing = -1;
  const char *domain = "web.default.svc.cluster.local";

  (void)state;
  peers_set_init(&s);
  assert_true(peers_set_has_lower(&s, "web", 0, domain, &missing));
  add(&s, "web-0");
  add(&s, "web-2");
  add(&s, "web-3");
  assert_true(peers_set_has_lower(&s, "web", 1, domain, &missing));
  assert_false(peers_set_has_lower(&s, "web", 3, domain, &missing));
  assert_int_equal(missing, 1);
  add(&s, "web-1");
  assert_true(peers_set_has_lower(&s, "web", 4, domain, &missing));
  assert_false(peers_set_has_lower(&s, "db", 1, domain, &missing));
  assert_int_equal(missing, 0);
  assert_null(peers_set_primary(&(peers_set_t){NULL, 0, 0}));
  peers_set_cleanup(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sort_numeric),
      cmocka_unit_test(test_case_and_dot),
      cmocka_unit_test(test_addresses),
      cmocka_unit_test(test_equal_copy_move),
      cmocka_unit_test(test_diff_and_join),
      cmocka_unit_test(test_has_lower),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
