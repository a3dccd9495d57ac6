/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the records the EBS and EFS backends give the sweep, from
 * DescribeVolumes and DescribeAccessPoints answers
 * (tests/data/backends/ebs-records-volumes.xml,
 * efs-records-access-points.json): only this cluster's objects that still
 * carry their record, whose PV name is pvc-<the record's uid>, that are
 * neither attached nor being deleted, each with the PV the backend's
 * delete takes, the claim and the creation time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ebs.h"
#include "backends/ebs_records.h"
#include "backends/efs.h"
#include "backends/efs_records.h"

#include "berth/aws_ec2.h"
#include "berth/aws_efs.h"
#include "berth/json.h"

#define DATA BERTH_TEST_DATA "/backends/"
#define CLUSTER "kubernetes.io/cluster/bed"
/* 2026-01-02T03:04:05Z */
#define CREATED 1767323045

static char *slurp(const char *name, size_t *len)
{
  FILE *f = fopen(name, "rb");
  char *buf;
  long n;

  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  assert_true(n > 0);
  rewind(f);
  buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static const char *str_at(const json_t *rec, const char *path)
{
  const char *s = NULL;

  assert_int_equal(berth_json_get_string(rec, path, &s, NULL), BERTH_OK);
  return s;
}

/* The records of the fixture's disks, by volume id. */
static json_t *ebs_records(const char *cluster_tag)
{
  berth_ec2_volume_list_t l;
  json_t *out = json_object();
  size_t len, i;
  char *xml = slurp(DATA "ebs-records-volumes.xml", &len);

  assert_int_equal(berth_ec2_parse_volumes(xml, len, &l, NULL), BERTH_OK);
  assert_int_equal(l.count, 8);
  for (i = 0; i < l.count; i++) {
    json_t *rec = berth__ebs_record(&l.items[i], cluster_tag);
    if (rec != NULL)
      json_object_set_new(out, l.items[i].volume_id, rec);
  }
  berth_ec2_volume_list_cleanup(&l);
  free(xml);
  return out;
}

static void test_ebs_candidates(void **state)
{
  json_t *recs = ebs_records(CLUSTER);
  const json_t *a = json_object_get(recs, "vol-0000000000000000a");
  const json_t *c = json_object_get(recs, "vol-00000000000000010");

  (void)state;
  /* Only the available disk and the creating one: not another cluster's
   * (b) or one shared (11), not one whose record is forgotten (c),
   * attached (d), of another PV (e) or being deleted (f). */
  assert_int_equal(json_object_size(recs), 2);
  assert_non_null(a);
  assert_non_null(c);
  assert_string_equal(str_at(a, "pv.metadata.name"), "pvc-aaaa-1");
  assert_string_equal(str_at(a, "pv.spec.csi.driver"), BERTH_EBS_DRIVER);
  assert_string_equal(str_at(a, "pv.spec.csi.volumeHandle"),
                      "vol-0000000000000000a");
  assert_string_equal(str_at(a, "namespace"), "apps");
  assert_string_equal(str_at(a, "name"), "data-0");
  assert_string_equal(str_at(a, "uid"), "aaaa-1");
  assert_int_equal(json_integer_value(json_object_get(a, "created")), CREATED);
  /* No createTime: age unknown, which the sweep never takes as old. */
  assert_int_equal(json_integer_value(json_object_get(c, "created")), -1);
  assert_null(json_object_get(a, "incomplete"));
  json_decref(recs);
}

/* No cluster id: nothing is this cluster's. */
static void test_ebs_no_cluster(void **state)
{
  json_t *recs = ebs_records(NULL);

  (void)state;
  assert_int_equal(json_object_size(recs), 0);
  json_decref(recs);
  recs = ebs_records("kubernetes.io/cluster/other");
  assert_int_equal(json_object_size(recs), 1);
  assert_non_null(json_object_get(recs, "vol-0000000000000000b"));
  json_decref(recs);
}

static json_t *efs_records(const char *cluster_tag)
{
  berth_efs_access_point_list_t l;
  json_t *out = json_object();
  size_t len, i;
  char *doc = slurp(DATA "efs-records-access-points.json", &len);

  assert_int_equal(berth_efs_parse_access_points(doc, len, &l, NULL), BERTH_OK);
  assert_int_equal(l.count, 6);
  assert_string_equal(l.next_token, "page-2");
  for (i = 0; i < l.count; i++) {
    json_t *rec = berth__efs_record(&l.items[i], cluster_tag, 1234);
    if (rec != NULL)
      json_object_set_new(out, l.items[i].access_point_id, rec);
  }
  berth_efs_access_point_list_cleanup(&l);
  free(doc);
  return out;
}

static void test_efs_candidates(void **state)
{
  json_t *recs = efs_records(CLUSTER);
  const json_t *a = json_object_get(recs, "fsap-0000000000000000a");

  (void)state;
  assert_int_equal(json_object_size(recs), 2);
  assert_non_null(a);
  assert_non_null(json_object_get(recs, "fsap-00000000000000010"));
  assert_string_equal(str_at(a, "pv.metadata.name"), "pvc-aaaa-1");
  assert_string_equal(str_at(a, "pv.spec.csi.driver"), BERTH_EFS_DRIVER);
  assert_string_equal(str_at(a, "pv.spec.csi.volumeHandle"),
                      "fs-0123456789abcdef0::fsap-0000000000000000a");
  assert_string_equal(str_at(a, "namespace"), "apps");
  assert_string_equal(str_at(a, "name"), "data-0");
  assert_string_equal(str_at(a, "uid"), "aaaa-1");
  assert_int_equal(json_integer_value(json_object_get(a, "created")), 1234);
  json_decref(recs);
  recs = efs_records(NULL);
  assert_int_equal(json_object_size(recs), 0);
  json_decref(recs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ebs_candidates),
      cmocka_unit_test(test_ebs_no_cluster),
      cmocka_unit_test(test_efs_candidates),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
