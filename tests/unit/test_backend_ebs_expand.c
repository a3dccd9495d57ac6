/* SPDX-License-Identifier: Apache-2.0 */
/* The EBS backend's expand (berth_backend_ebs_expand) against the AWS
 * emulator (run under tests/bed/bed.py run aws): a 1 GiB disk grown to
 * 5 GiB (ModifyVolume, then waiting for the modification); the same call
 * again changes nothing; a smaller size changes nothing; a PV without an
 * EBS handle is refused. A disk made with allowAutoIOPSIncreaseOnModify
 * and iopsPerGB (its tags) keeps its IOPS per GiB when it grows; one
 * without keeps its IOPS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "berth/clock.h"

#include "backends/ebs.h"

#define GIB (1024ull * 1024 * 1024)

static void test_expand(void **state)
{
  berth_backend_t *be = NULL;
  berth_aws_t *aws = NULL;
  berth_aws_options_t ao;
  berth_ec2_create_volume_params_t p;
  berth_ec2_volume_t v;
  berth_error_t err;
  uint64_t got = 0;
  json_t *pv, *bad;
  char id[64];
  int64_t t0;

  (void)state;
  berth_aws_options_init(&ao);
  assert_int_equal(berth_aws_create(&ao, &aws, &err), BERTH_OK);
  assert_int_equal(berth_backend_ebs_create(NULL, &be, &err), BERTH_OK);
  memset(&p, 0, sizeof(p));
  memset(&v, 0, sizeof(v));
  p.availability_zone = "us-east-1a";
  p.size_gib = 1;
  p.volume_type = "gp3";
  assert_int_equal(berth_ec2_create_volume(aws, &p, &v, &err), BERTH_OK);
  snprintf(id, sizeof(id), "%s", v.volume_id);
  berth_ec2_volume_cleanup(&v);
  pv = json_pack("{s:{s:{s:s,s:s}}}", "spec", "csi", "driver",
                 "ebs.csi.aws.com", "volumeHandle", id);

  t0 = berth_clock_monotonic_ms(NULL);
  if (berth_backend_ebs_expand(be, pv, 5 * GIB - 100, &got, &err) != BERTH_OK)
    fail_msg("expand: %s", err.message);
  assert_int_equal(got, 5 * GIB);
  memset(&v, 0, sizeof(v));
  assert_int_equal(berth_ec2_describe_volume(aws, id, &v, &err), BERTH_OK);
  assert_int_equal(v.size_gib, 5);
  berth_ec2_volume_cleanup(&v);
  printf("# %s grown to 5 GiB in %lld ms\n", id,
         (long long)(berth_clock_monotonic_ms(NULL) - t0));

  assert_int_equal(berth_backend_ebs_expand(be, pv, 5 * GIB, &got, &err),
                   BERTH_OK);
  assert_int_equal(got, 5 * GIB);
  assert_int_equal(berth_backend_ebs_expand(be, pv, 2 * GIB, &got, &err),
                   BERTH_OK);
  assert_int_equal(got, 5 * GIB);

  bad = json_pack("{s:{s:{s:s}}}", "spec", "nfs", "path", "/x");
  assert_int_equal(berth_backend_ebs_expand(be, bad, 5 * GIB, &got, &err),
                   BERTH_EINVAL);
  json_decref(bad);
  json_decref(pv);
  berth_backend_destroy(be);
  berth_aws_destroy(aws);
}

/* A 10 GiB gp3 disk with 4,000 IOPS, tagged as the EBS backend tags it
 * for allowAutoIOPSIncreaseOnModify with iopsPerGB 400 (or not), grown to
 * 20 GiB: its IOPS afterwards. */
static int64_t grown_iops(berth_backend_t *be, berth_aws_t *aws, bool tagged)
{
  berth_aws_kv_t tags[] = {{BERTH_EBS_TAG_AUTO_IOPS, "true"},
                           {BERTH_EBS_TAG_IOPS_PER_GB, "400"}};
  berth_ec2_create_volume_params_t p;
  berth_ec2_volume_t v;
  berth_error_t err;
  uint64_t got = 0;
  int64_t iops;
  json_t *pv;
  char id[64];

  memset(&p, 0, sizeof(p));
  memset(&v, 0, sizeof(v));
  p.availability_zone = "us-east-1a";
  p.size_gib = 10;
  p.volume_type = "gp3";
  p.iops = 4000;
  p.tags = tagged ? tags : NULL;
  p.tag_count = tagged ? 2 : 0;
  assert_int_equal(berth_ec2_create_volume(aws, &p, &v, &err), BERTH_OK);
  snprintf(id, sizeof(id), "%s", v.volume_id);
  berth_ec2_volume_cleanup(&v);
  pv = json_pack("{s:{s:{s:s,s:s}}}", "spec", "csi", "driver",
                 "ebs.csi.aws.com", "volumeHandle", id);
  if (berth_backend_ebs_expand(be, pv, 20 * GIB, &got, &err) != BERTH_OK)
    fail_msg("expand: %s", err.message);
  assert_int_equal(got, 20 * GIB);
  memset(&v, 0, sizeof(v));
  assert_int_equal(berth_ec2_describe_volume(aws, id, &v, &err), BERTH_OK);
  iops = v.iops;
  berth_ec2_volume_cleanup(&v);
  json_decref(pv);
  return iops;
}

static void test_expand_auto_iops(void **state)
{
  berth_backend_t *be = NULL;
  berth_aws_t *aws = NULL;
  berth_aws_options_t ao;
  berth_error_t err;

  (void)state;
  berth_aws_options_init(&ao);
  assert_int_equal(berth_aws_create(&ao, &aws, &err), BERTH_OK);
  assert_int_equal(berth_backend_ebs_create(NULL, &be, &err), BERTH_OK);
  assert_int_equal(grown_iops(be, aws, true), 8000);
  assert_int_equal(grown_iops(be, aws, false), 4000);
  berth_backend_destroy(be);
  berth_aws_destroy(aws);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_expand_auto_iops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
