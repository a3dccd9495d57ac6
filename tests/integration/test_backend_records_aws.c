/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: the EBS and EFS backends' records for the sweep
 * (provisioner/backends/ebs_records.c, efs_records.c) against the AWS
 * emulator: only this cluster's objects still carrying the record tag are
 * listed, a listing is one bounded page and the next listing goes on where
 * it stopped (and starts again after the last page), and forget removes
 * the record tag and nothing else. Run under tests/bed/bed.py run aws. */
#include "test_aws_common.c"

#include "backends/ebs.h"
#include "backends/ebs_records.h"
#include "backends/efs_records.h"

#include "berth/aws_ec2.h"
#include "berth/aws_efs.h"
#include "berth/clock.h"

#define CLUSTER_TAG "kubernetes.io/cluster/bed"
#define N_OURS 12

typedef struct fixture {
  test_env_t env;
  berth_aws_options_t opts;
  berth_aws_t *aws;
} fixture_t;

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  berth_error_t err;

  assert_non_null(f);
  emulator_reset();
  test_env_static(&f->env);
  test_options(&f->opts, &f->env);
  if (berth_aws_create(&f->opts, &f->aws, &err) != BERTH_OK)
    fail_msg("berth_aws_create: %s", err.message);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;

  berth_aws_destroy(f->aws);
  test_env_free(&f->env);
  free(f);
  return 0;
}

/* A disk tagged as EBS provision tags it; cluster NULL: none; marker
 * false: its record already forgotten. */
static void make_disk(berth_aws_t *aws, int i, const char *cluster, bool marker)
{
  char uid[64], pv[80], name[32];
  berth_aws_kv_t tags[7];
  size_t n = 0;
  berth_ec2_create_volume_params_t cp;
  berth_ec2_volume_t v;
  berth_error_t err;

  snprintf(uid, sizeof(uid), "0000%04d-1111-2222-3333-%012d", i, i);
  snprintf(pv, sizeof(pv), "pvc-%s", uid);
  snprintf(name, sizeof(name), "data-%d", i);
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_VOLUME_NAME, pv};
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_PVC_NAME, name};
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_PVC_NAMESPACE, "default"};
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_CLUSTER, "true"};
  if (cluster != NULL)
    tags[n++] = (berth_aws_kv_t){cluster, "owned"};
  if (marker)
    tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_PROVISIONING, uid};
  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = "us-east-1a";
  cp.size_gib = 1;
  cp.volume_type = "gp3";
  cp.tags = tags;
  cp.tag_count = n;
  memset(&v, 0, sizeof(v));
  if (berth_ec2_create_volume(aws, &cp, &v, &err) != BERTH_OK)
    fail_msg("CreateVolume: %s", err.message);
  berth_ec2_volume_cleanup(&v);
}

/* One listing of at most max records: their PV names into seen (an object
 * of counts); the number listed. */
static size_t list_once(berth_aws_t *aws, berth_ebs_records_t *r,
                        const char *cluster, size_t max, json_t *seen)
{
  berth_records_request_t req = {NULL, NULL, max, NULL};
  berth_error_t err;
  json_t *rec;
  size_t i, n;

  if (berth__ebs_records(aws, cluster, r, &req, &err) != BERTH_OK)
    fail_msg("records: %s", err.message);
  assert_non_null(req.records);
  n = json_array_size(req.records);
  assert_true(n <= max);
  json_array_foreach(req.records, i, rec)
  {
    const char *pv = NULL;
    json_t *c;
    assert_int_equal(berth_json_get_string(rec, "pv.metadata.name", &pv, NULL),
                     BERTH_OK);
    c = json_object_get(seen, pv);
    json_object_set_new(
        seen, pv, json_integer(c != NULL ? json_integer_value(c) + 1 : 1));
    assert_string_equal(json_string_value(json_object_get(rec, "namespace")),
                        "default");
    assert_string_equal(json_string_value(json_object_get(rec, "uid")), pv + 4);
    assert_true(json_integer_value(json_object_get(rec, "created")) > 0);
  }
  json_decref(req.records);
  return n;
}

/* 12 disks of ours with records, others that are not candidates; pages
 * of 5: 5, 5, 2, then the first page again. */
static void test_ebs_pages(void **state)
{
  fixture_t *f = *state;
  berth_ebs_records_t *r = NULL;
  json_t *seen = json_object(), *first = json_object(), *again = json_object();
  int i;

  for (i = 0; i < N_OURS; i++)
    make_disk(f->aws, i, CLUSTER_TAG, true);
  make_disk(f->aws, 100, "kubernetes.io/cluster/other", true);
  make_disk(f->aws, 101, NULL, true);
  make_disk(f->aws, 102, CLUSTER_TAG, false);
  assert_int_equal(berth__ebs_records_create(&r), BERTH_OK);

  /* Below EC2's smallest page: nothing, and the cursor stays. */
  assert_int_equal(list_once(f->aws, r, CLUSTER_TAG, 4, seen), 0);
  assert_int_equal(list_once(f->aws, r, CLUSTER_TAG, 5, first), 5);
  json_object_update(seen, first);
  assert_int_equal(list_once(f->aws, r, CLUSTER_TAG, 5, seen), 5);
  assert_int_equal(list_once(f->aws, r, CLUSTER_TAG, 5, seen), 2);
  /* Every record once: the cursor went on, and only ours came. */
  assert_int_equal(json_object_size(seen), N_OURS);
  {
    const char *k;
    json_t *v;
    json_object_foreach(seen, k, v) assert_int_equal(json_integer_value(v), 1);
  }
  /* After the last page, the first again. */
  assert_int_equal(list_once(f->aws, r, CLUSTER_TAG, 5, again), 5);
  assert_true(json_equal(first, again));
  /* No cluster id: no records at all. */
  assert_int_equal(list_once(f->aws, r, NULL, 100, seen), 0);

  json_decref(seen);
  json_decref(first);
  json_decref(again);
  berth__ebs_records_destroy(r);
}

/* Forget removes the record tag of that PV's disk only; the disk and its
 * other tags stay. */
static void test_ebs_forget(void **state)
{
  fixture_t *f = *state;
  berth_ebs_records_t *r = NULL;
  const char *pv = "pvc-00000000-1111-2222-3333-000000000000";
  berth_records_request_t req = {NULL, pv, 0, NULL};
  const char *names[] = {pv};
  berth_ec2_filter_t flt = {"tag:" BERTH_EBS_TAG_VOLUME_NAME, names, 1};
  berth_ec2_describe_params_t dp;
  berth_ec2_volume_list_t l;
  json_t *seen = json_object();
  berth_error_t err;

  make_disk(f->aws, 0, CLUSTER_TAG, true);
  make_disk(f->aws, 1, CLUSTER_TAG, true);
  assert_int_equal(berth__ebs_records_create(&r), BERTH_OK);
  if (berth__ebs_records(f->aws, CLUSTER_TAG, r, &req, &err) != BERTH_OK)
    fail_msg("forget: %s", err.message);
  assert_null(req.records);
  assert_int_equal(list_once(f->aws, r, CLUSTER_TAG, 100, seen), 1);
  assert_null(json_object_get(seen, pv));
  memset(&dp, 0, sizeof(dp));
  dp.filters = &flt;
  dp.filter_count = 1;
  assert_int_equal(berth_ec2_describe_volumes(f->aws, &dp, &l, NULL), BERTH_OK);
  assert_int_equal(l.count, 1);
  assert_null(berth_ec2_volume_tag(&l.items[0], BERTH_EBS_TAG_PROVISIONING));
  assert_string_equal(berth_ec2_volume_tag(&l.items[0], CLUSTER_TAG), "owned");
  berth_ec2_volume_list_cleanup(&l);
  /* Again, and for a PV without a disk: nothing to do, no error. */
  assert_int_equal(berth__ebs_records(f->aws, CLUSTER_TAG, r, &req, &err),
                   BERTH_OK);
  req.forget = "pvc-ffffffff-1111-2222-3333-000000000000";
  assert_int_equal(berth__ebs_records(f->aws, CLUSTER_TAG, r, &req, &err),
                   BERTH_OK);
  json_decref(seen);
  berth__ebs_records_destroy(r);
}

/* The emulator's file system after a reset. */
#define FS_ID "fs-0123456789abcdef0"

/* An access point tagged as efs-ap provision tags it. */
static void make_ap(berth_aws_t *aws, int i, const char *cluster, bool marker)
{
  char uid[64], pv[80], name[32], root[100];
  berth_aws_kv_t tags[6];
  size_t n = 0;
  berth_efs_create_access_point_params_t cp;
  berth_efs_access_point_t ap;
  berth_error_t err;

  snprintf(uid, sizeof(uid), "0000%04d-1111-2222-3333-%012d", i, i);
  snprintf(pv, sizeof(pv), "pvc-%s", uid);
  snprintf(name, sizeof(name), "data-%d", i);
  snprintf(root, sizeof(root), "/%s", pv);
  tags[n++] = (berth_aws_kv_t){"CSIVolumeName", pv};
  tags[n++] = (berth_aws_kv_t){"kubernetes.io/created-for/pvc/name", name};
  tags[n++] =
      (berth_aws_kv_t){"kubernetes.io/created-for/pvc/namespace", "default"};
  tags[n++] = (berth_aws_kv_t){"efs.csi.aws.com/cluster", "true"};
  if (cluster != NULL)
    tags[n++] = (berth_aws_kv_t){cluster, "owned"};
  if (marker)
    tags[n++] = (berth_aws_kv_t){BERTH_EFS_TAG_PROVISIONING, uid};
  memset(&cp, 0, sizeof(cp));
  cp.client_token = pv;
  cp.file_system_id = FS_ID;
  cp.root_path = root;
  cp.tags = tags;
  cp.tag_count = n;
  memset(&ap, 0, sizeof(ap));
  if (berth_efs_create_access_point(aws, &cp, &ap, &err) != BERTH_OK)
    fail_msg("CreateAccessPoint: %s", err.message);
  berth_efs_access_point_cleanup(&ap);
}

static size_t efs_list(berth_aws_t *aws, berth_efs_records_t *r,
                       const char *cluster, size_t max, json_t *seen)
{
  berth_records_request_t req = {NULL, NULL, max, NULL};
  berth_error_t err;
  json_t *rec;
  size_t i, n;

  if (berth__efs_records(aws, cluster, r, FS_ID, &req, &err) != BERTH_OK)
    fail_msg("efs records: %s", err.message);
  assert_non_null(req.records);
  n = json_array_size(req.records);
  assert_true(n <= max);
  json_array_foreach(req.records, i, rec)
  {
    const char *pv = NULL;
    assert_int_equal(berth_json_get_string(rec, "pv.metadata.name", &pv, NULL),
                     BERTH_OK);
    json_object_set(seen, pv, json_object_get(rec, "created"));
  }
  json_decref(req.records);
  return n;
}

/* 7 access points of ours with records among others; pages of 3 (of all
 * access points, EFS filtering by file system only) go on from each
 * other and wrap; forget removes one record; "created" is when this
 * process first listed the record and stays so. */
static void test_efs_pages_forget(void **state)
{
  fixture_t *f = *state;
  berth_efs_records_t *r = NULL;
  json_t *seen = json_object(), *again = json_object();
  const char *pv = "pvc-00000000-1111-2222-3333-000000000000";
  berth_records_request_t forget = {NULL, pv, 0, NULL};
  int64_t t0 = berth_clock_realtime_ms(NULL) / 1000;
  berth_error_t err;
  size_t listed = 0, calls = 0;
  int i;

  for (i = 0; i < 7; i++)
    make_ap(f->aws, i, CLUSTER_TAG, true);
  make_ap(f->aws, 100, "kubernetes.io/cluster/other", true);
  make_ap(f->aws, 101, CLUSTER_TAG, false);
  assert_int_equal(berth__efs_records_create(&r), BERTH_OK);
  /* 9 access points, pages of 3: three listings see them all. */
  for (calls = 0; calls < 3; calls++)
    listed += efs_list(f->aws, r, CLUSTER_TAG, 3, seen);
  assert_int_equal(listed, 7);
  assert_int_equal(json_object_size(seen), 7);
  {
    const char *k;
    json_t *v;
    json_object_foreach(seen, k, v)
    {
      assert_true(json_integer_value(v) >= t0);
      assert_true(json_integer_value(v) <= t0 + 60);
    }
  }
  /* The fourth starts again: the same first-seen times. */
  assert_true(efs_list(f->aws, r, CLUSTER_TAG, 3, again) > 0);
  {
    const char *k;
    json_t *v;
    json_object_foreach(again, k, v)
        assert_true(json_equal(v, json_object_get(seen, k)));
  }
  if (berth__efs_records(f->aws, CLUSTER_TAG, r, FS_ID, &forget, &err) !=
      BERTH_OK)
    fail_msg("efs forget: %s", err.message);
  /* To the end from where the fourth stopped, then all from the start. */
  efs_list(f->aws, r, CLUSTER_TAG, 100, seen);
  json_object_clear(seen);
  assert_int_equal(efs_list(f->aws, r, CLUSTER_TAG, 100, seen), 6);
  assert_null(json_object_get(seen, pv));
  /* Again: nothing to do. No cluster id: no records. */
  assert_int_equal(
      berth__efs_records(f->aws, CLUSTER_TAG, r, FS_ID, &forget, &err),
      BERTH_OK);
  assert_int_equal(efs_list(f->aws, r, NULL, 100, seen), 0);
  json_decref(seen);
  json_decref(again);
  berth__efs_records_destroy(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ebs_pages, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ebs_forget, setup, teardown),
      cmocka_unit_test_setup_teardown(test_efs_pages_forget, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
