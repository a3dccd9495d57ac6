/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: a VolumeSnapshotClass's parameters and the tags of a new EBS
 * snapshot (provisioner/snapshot_class.c), against aws-ebs-csi-driver's
 * documented parameters and the tags its CreateSnapshot sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <jansson.h>

#include "snapshot.h"

static berth_status_t check_params(const char *json)
{
  json_t *p = json_loads(json, 0, NULL);
  berth_error_t err;
  berth_status_t st;

  assert_non_null(p);
  memset(&err, 0, sizeof(err));
  st = prov_snapshot_class_check(p, &err);
  if (st != BERTH_OK)
    assert_true(err.message[0] != '\0');
  json_decref(p);
  return st;
}

static void test_class_parameters(void **state)
{
  (void)state;
  assert_int_equal(check_params("{}"), BERTH_OK);
  assert_int_equal(check_params("{\"tagSpecification_1\":\"a=b\","
                                "\"TAGSPECIFICATION_2\":\"c={{ "
                                ".VolumeSnapshotName }}\"}"),
                   BERTH_OK);
  assert_int_equal(
      check_params("{\"outpostArn\":\"arn:aws:outposts:us-east-1:1:outpost/"
                   "op-1\"}"),
      BERTH_OK);
  assert_int_equal(
      check_params("{\"csi.storage.k8s.io/volumesnapshot/name\":\"x\","
                   "\"csi.storage.k8s.io/volumesnapshot/namespace\":\"y\","
                   "\"csi.storage.k8s.io/volumesnapshotcontent/name\":\"z\"}"),
      BERTH_OK);
  /* Refused: what berth would ignore, bad values, unknown keys. */
  assert_int_equal(
      check_params("{\"fastSnapshotRestoreAvailabilityZones\":\"us-east-1a\"}"),
      BERTH_EINVAL);
  assert_int_equal(check_params("{\"lockMode\":\"governance\"}"), BERTH_EINVAL);
  assert_int_equal(check_params("{\"outpostArn\":\"op-1\"}"), BERTH_EINVAL);
  assert_int_equal(check_params("{\"tagSpecification_1\":\"novalue\"}"),
                   BERTH_EINVAL);
  assert_int_equal(check_params("{\"tagSpecification_1\":\"aws:x=1\"}"),
                   BERTH_EINVAL);
  assert_int_equal(
      check_params("{\"tagSpecification_1\":\"a={{ .PVCName }}\"}"),
      BERTH_EINVAL);
  assert_int_equal(check_params("{\"type\":\"gp3\"}"), BERTH_EINVAL);
}

static void test_tags(void **state)
{
  json_t *params = json_loads("{\"tagSpecification_1\":\"owner={{ "
                              ".VolumeSnapshotNamespace }}/{{ "
                              ".VolumeSnapshotName }}@{{ "
                              ".VolumeSnapshotContentName }}\"}",
                              0, NULL);
  json_t *extra = json_pack("{s:s}", "team", "storage");
  json_t *tags = NULL;
  berth_error_t err;

  (void)state;
  assert_int_equal(prov_snapshot_tags("snapshot-u1", "bed", extra, params, "vs",
                                      "ns", "snapcontent-u1", &tags, &err),
                   BERTH_OK);
  assert_string_equal(
      json_string_value(json_object_get(tags, "CSIVolumeSnapshotName")),
      "snapshot-u1");
  assert_string_equal(
      json_string_value(json_object_get(tags, "ebs.csi.aws.com/cluster")),
      "true");
  assert_string_equal(
      json_string_value(json_object_get(tags, "kubernetes.io/cluster/bed")),
      "owned");
  assert_string_equal(json_string_value(json_object_get(tags, "Name")),
                      "bed-dynamic-snapshot-u1");
  assert_string_equal(json_string_value(json_object_get(tags, "team")),
                      "storage");
  assert_string_equal(json_string_value(json_object_get(tags, "owner")),
                      "ns/vs@snapcontent-u1");
  assert_int_equal(json_object_size(tags), 6);
  json_decref(tags);
  /* No cluster id: no cluster tags. */
  assert_int_equal(prov_snapshot_tags("snapshot-u1", NULL, NULL, NULL, "vs",
                                      "ns", "c", &tags, &err),
                   BERTH_OK);
  assert_int_equal(json_object_size(tags), 2);
  json_decref(tags);
  json_decref(extra);
  json_decref(params);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_class_parameters),
      cmocka_unit_test(test_tags),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
