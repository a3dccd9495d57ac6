/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-provisioner's metrics (provisioner/metrics.c): the
 * sig-storage names, cumulative histogram buckets, label escaping, the
 * usage gauges and the scrape-time collector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "metrics.h"

static void has(const berth_buf_t *b, const char *line)
{
  if (strstr(berth_buf_str(b), line) == NULL)
    fail_msg("missing: %s\n--- exposition ---\n%s", line, berth_buf_str(b));
}

static void collect(void *ctx, berth_buf_t *out)
{
  berth_buf_appendf(out, "extra_gauge %d\n", *(int *)ctx);
}

static void test_exposition(void **state)
{
  prov_metrics_t *m = NULL;
  berth_buf_t b;
  int seven = 7;

  (void)state;
  assert_int_equal(prov_metrics_create(&m), BERTH_OK);
  prov_metrics_provision(m, "fast", true, 0.2);
  prov_metrics_provision(m, "fast", true, 3.0);
  prov_metrics_provision(m, "fast", false, 9.0);
  prov_metrics_provision(m, "we\"ird\\", false, 1.0);
  prov_metrics_delete(m, "fast", true, 0.01);
  prov_metrics_api(m, "create", 201);
  prov_metrics_api(m, "create", 201);
  prov_metrics_api(m, "patch", 0);
  prov_metrics_backend(m, "nfs", "provision", false, 0.5);
  prov_metrics_usage(m, "pvc-1", "fast", 4096, 3, 1 << 20);
  prov_metrics_usage(m, "pvc-2", "fast", 1, 1, 1 << 20);
  prov_metrics_usage_forget(m, "pvc-2");
  prov_metrics_set_collector(m, collect, &seven);
  assert_int_equal(prov_metrics_provisioned(m), 2);

  berth_buf_init(&b);
  assert_int_equal(prov_metrics_format(m, &b), BERTH_OK);
  has(&b, "# TYPE controller_persistentvolumeclaim_provision_total counter\n");
  has(&b,
      "controller_persistentvolumeclaim_provision_total{class=\"fast\"} 2\n");
  has(&b, "controller_persistentvolumeclaim_provision_failed_total"
          "{class=\"fast\"} 1\n");
  has(&b, "controller_persistentvolumeclaim_provision_failed_total"
          "{class=\"we\\\"ird\\\\\"} 1\n");
  /* Failures are not timed; buckets are cumulative. */
  has(&b, "controller_persistentvolumeclaim_provision_duration_seconds_bucket"
          "{class=\"fast\",le=\"0.1\"} 0\n");
  has(&b, "controller_persistentvolumeclaim_provision_duration_seconds_bucket"
          "{class=\"fast\",le=\"0.25\"} 1\n");
  has(&b, "controller_persistentvolumeclaim_provision_duration_seconds_bucket"
          "{class=\"fast\",le=\"5\"} 2\n");
  has(&b, "controller_persistentvolumeclaim_provision_duration_seconds_bucket"
          "{class=\"fast\",le=\"+Inf\"} 2\n");
  has(&b, "controller_persistentvolumeclaim_provision_duration_seconds_count"
          "{class=\"fast\"} 2\n");
  has(&b, "controller_persistentvolume_delete_total{class=\"fast\"} 1\n");
  has(&b, "# TYPE controller_persistentvolume_delete_duration_seconds "
          "histogram\n");
  has(&b, "berth_provisioner_api_requests_total{verb=\"create\",code=\"201\"}"
          " 2\n");
  has(&b, "berth_provisioner_api_requests_total{verb=\"patch\",code=\"0\"} "
          "1\n");
  has(&b, "berth_provisioner_backend_errors_total{backend=\"nfs\","
          "operation=\"provision\"} 1\n");
  has(&b, "berth_provisioner_backend_duration_seconds_count{backend=\"nfs\","
          "operation=\"provision\"} 1\n");
  has(&b, "berth_provisioner_volume_usage_bytes{persistentvolume=\"pvc-1\","
          "class=\"fast\"} 4096\n");
  has(&b, "berth_provisioner_volume_usage_files{persistentvolume=\"pvc-1\","
          "class=\"fast\"} 3\n");
  assert_null(strstr(berth_buf_str(&b), "pvc-2"));
  has(&b, "extra_gauge 7\n");
  berth_buf_cleanup(&b);
  prov_metrics_destroy(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exposition),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
