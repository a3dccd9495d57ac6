/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers settling, gating, debouncing and hook retries
 * (peer-discovery/control.c), with time passed in by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

typedef struct fx {
  peers_identity_t id;
  peers_control_t ctl;
  uint64_t seed;
  berth_rand_t rand;
} fx_t;

static fx_t fx;

static void start(long min_peers, bool wait_lower, int64_t debounce, bool hooks)
{
  peers_identity_opts_t o;
  peers_control_cfg_t cfg;

  memset(&o, 0, sizeof(o));
  o.hostname = "web-2";
  o.service = "web";
  o.ns = "default";
  o.domain = "cluster.local";
  assert_int_equal(peers_identity_resolve(&o, &fx.id, NULL), BERTH_OK);
  fx.seed = 7;
  fx.rand = (berth_rand_t){berth_rand_splitmix64, &fx.seed};
  memset(&cfg, 0, sizeof(cfg));
  cfg.debounce_ms = debounce;
  cfg.min_peers = min_peers;
  cfg.wait_self = true;
  cfg.wait_lower = wait_lower;
  cfg.start_hook = hooks;
  cfg.change_hook = hooks;
  cfg.backoff_ms = 1000;
  cfg.backoff_max_ms = 8000;
  cfg.rand = &fx.rand;
  peers_control_init(&fx.ctl, &cfg, &fx.id);
}

static int stop(void **state)
{
  (void)state;
  peers_control_cleanup(&fx.ctl);
  peers_identity_cleanup(&fx.id);
  return 0;
}

/* Observe members web-<i> for each i listed in "0,1,2" (""=none). */
static void see(int64_t now, const char *ordinals)
{
  peers_set_t s;
  char name[128];
  const char *p = ordinals;
  char *end;
  long i;

  peers_set_init(&s);
  while (*p != '\0') {
    i = strtol(p, &end, 10);
    snprintf(name, sizeof(name), "web-%ld.web.default.svc.cluster.local", i);
    assert_int_equal(peers_set_add(&s, name, 80, NULL, NULL), BERTH_OK);
    p = *end == ',' ? end + 1 : end;
  }
  peers_control_observe(&fx.ctl, now, &s);
  assert_int_equal(s.count, 0);
}

static void test_waits_for_self_then_starts(void **state)
{
  berth_buf_t why;

  (void)state;
  start(0, false, 0, true);
  berth_buf_init(&why);
  assert_false(peers_control_settle(&fx.ctl, 0));
  see(0, "");
  assert_false(peers_control_settle(&fx.ctl, 0));
  see(100, "0,1");
  assert_false(peers_control_settle(&fx.ctl, 100));
  assert_false(peers_control_gate(&fx.ctl, &fx.ctl.observed, &why));
  assert_non_null(strstr(berth_buf_str(&why), "web-2.web.default"));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 100), PEERS_HOOK_NONE);
  assert_int_equal(peers_control_next(&fx.ctl, 100), INT64_MAX);
  see(200, "2,0,1");
  assert_true(peers_control_settle(&fx.ctl, 200));
  assert_false(peers_control_settle(&fx.ctl, 200));
  assert_int_equal(fx.ctl.settled.count, 3);
  assert_string_equal(fx.ctl.settled.items[0].host, "web-0");
  assert_false(peers_control_ready(&fx.ctl));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 200), PEERS_HOOK_START);
  assert_int_equal(peers_control_hook_done(&fx.ctl, 210, true), 0);
  assert_true(peers_control_ready(&fx.ctl));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 210), PEERS_HOOK_NONE);
  /* A change: one on-change, then nothing. */
  see(300, "0,1,2,3");
  assert_true(peers_control_settle(&fx.ctl, 300));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 300), PEERS_HOOK_CHANGE);
  peers_control_hook_done(&fx.ctl, 300, true);
  see(400, "3,2,1,0");
  assert_false(peers_control_settle(&fx.ctl, 400));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 400), PEERS_HOOK_NONE);
  /* After the start, self missing holds changes back (peer-finder). */
  see(500, "0,1");
  assert_false(peers_control_settle(&fx.ctl, 500));
  assert_int_equal(fx.ctl.settled.count, 4);
  berth_buf_cleanup(&why);
}

static void test_min_peers_and_lower_ordinals(void **state)
{
  berth_buf_t why;

  (void)state;
  start(3, true, 0, true);
  berth_buf_init(&why);
  see(0, "2");
  assert_false(peers_control_settle(&fx.ctl, 0));
  assert_false(peers_control_gate(&fx.ctl, &fx.ctl.observed, &why));
  assert_non_null(strstr(berth_buf_str(&why), "1 of the 3 peers"));
  see(10, "2,3,4");
  assert_false(peers_control_settle(&fx.ctl, 10));
  berth_buf_reset(&why);
  assert_false(peers_control_gate(&fx.ctl, &fx.ctl.observed, &why));
  assert_non_null(strstr(berth_buf_str(&why), "web-0.web.default.svc"));
  see(20, "0,2,3,4");
  assert_false(peers_control_settle(&fx.ctl, 20));
  berth_buf_reset(&why);
  assert_false(peers_control_gate(&fx.ctl, &fx.ctl.observed, &why));
  assert_non_null(strstr(berth_buf_str(&why), "web-1.web.default.svc"));
  see(30, "0,1,2");
  assert_true(peers_control_settle(&fx.ctl, 30));
  peers_control_hook_due(&fx.ctl, 30);
  peers_control_hook_done(&fx.ctl, 30, true);
  /* Once started, a scale below min-peers is still a change. */
  see(40, "1,2");
  assert_true(peers_control_settle(&fx.ctl, 40));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 40), PEERS_HOOK_CHANGE);
  peers_control_hook_done(&fx.ctl, 40, true);
  assert_false(peers_control_ready(&fx.ctl));
  berth_buf_cleanup(&why);
}

static void test_debounce_rolling_scale(void **state)
{
  (void)state;
  start(0, false, 1000, true);
  see(0, "0,1,2");
  assert_false(peers_control_settle(&fx.ctl, 999));
  assert_int_equal(peers_control_next(&fx.ctl, 500), 1000);
  assert_true(peers_control_settle(&fx.ctl, 1000));
  peers_control_hook_due(&fx.ctl, 1000);
  peers_control_hook_done(&fx.ctl, 1000, true);
  /* A rolling scale 3 -> 6: each step restarts the debounce. */
  see(2000, "0,1,2,3");
  see(2600, "0,1,2,3,4");
  assert_false(peers_control_settle(&fx.ctl, 3000));
  see(3200, "0,1,2,3,4,5");
  see(3400, "0,1,2,3,4,5");
  see(3600, "5,4,3,2,1,0");
  assert_false(peers_control_settle(&fx.ctl, 4199));
  assert_int_equal(peers_control_next(&fx.ctl, 4000), 4200);
  assert_true(peers_control_settle(&fx.ctl, 4200));
  assert_int_equal(fx.ctl.settle_count, 2);
  assert_int_equal(peers_control_hook_due(&fx.ctl, 4200), PEERS_HOOK_CHANGE);
  peers_control_hook_done(&fx.ctl, 4200, true);
  /* A change that reverts within the debounce never settles. */
  see(5000, "0,1,2,3,4");
  see(5500, "0,1,2,3,4,5");
  assert_false(peers_control_settle(&fx.ctl, 7000));
  assert_int_equal(fx.ctl.settle_count, 2);
}

static void test_retry_backoff(void **state)
{
  int64_t d;
  int64_t prev_cap = 1000;
  int i;

  (void)state;
  start(0, false, 0, true);
  see(0, "0,1,2");
  assert_true(peers_control_settle(&fx.ctl, 0));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 0), PEERS_HOOK_START);
  /* Delays: half fixed, half random, doubling to the 8 s cap. */
  for (i = 0; i < 6; i++) {
    d = peers_control_hook_done(&fx.ctl, 0, false);
    assert_true(d >= prev_cap / 2);
    assert_true(d <= prev_cap);
    assert_int_equal(peers_control_hook_due(&fx.ctl, d - 1), PEERS_HOOK_NONE);
    assert_int_equal(peers_control_next(&fx.ctl, 0), d);
    assert_int_equal(peers_control_hook_due(&fx.ctl, d), PEERS_HOOK_START);
    prev_cap = prev_cap * 2 > 8000 ? 8000 : prev_cap * 2;
  }
  assert_false(peers_control_ready(&fx.ctl));
  assert_int_equal(peers_control_hook_done(&fx.ctl, 0, true), 0);
  assert_true(peers_control_ready(&fx.ctl));
  /* A failing on-change whose change reverts: nothing more to run. */
  see(100, "0,1,2,3");
  assert_true(peers_control_settle(&fx.ctl, 100));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 100), PEERS_HOOK_CHANGE);
  d = peers_control_hook_done(&fx.ctl, 100, false);
  see(200, "0,1,2");
  assert_true(peers_control_settle(&fx.ctl, 200));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 100 + d), PEERS_HOOK_NONE);
  assert_int_equal(fx.ctl.attempt, 0);
}

static void test_no_hooks(void **state)
{
  (void)state;
  start(2, false, 0, false);
  see(0, "2");
  assert_false(peers_control_settle(&fx.ctl, 0));
  see(0, "1,2");
  assert_true(peers_control_settle(&fx.ctl, 0));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 0), PEERS_HOOK_NONE);
  assert_true(fx.ctl.started);
  assert_true(peers_control_ready(&fx.ctl));
  see(10, "0,1,2");
  assert_true(peers_control_settle(&fx.ctl, 10));
  assert_int_equal(peers_control_hook_due(&fx.ctl, 10), PEERS_HOOK_NONE);
  assert_int_equal(fx.ctl.hooked.count, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_waits_for_self_then_starts, stop),
      cmocka_unit_test_teardown(test_min_peers_and_lower_ordinals, stop),
      cmocka_unit_test_teardown(test_debounce_rolling_scale, stop),
      cmocka_unit_test_teardown(test_retry_backoff, stop),
      cmocka_unit_test_teardown(test_no_hooks, stop),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
