/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: EC2 answer parsers (lib/aws/ec2_xml.c) on real EC2 bodies
 * from tests/data/aws/ (libcloud's and botocore's fixtures; see its
 * NOTICE), compared field by field with botocore's own
 * parsed results (the .json beside each botocore .xml); hostile XML; and
 * the EFS JSON parsers on the shapes of botocore's EFS model. A missing
 * data directory is a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws_int.h"
#include "berth/aws_ec2.h"
#include "berth/aws_efs.h"

#define AWSDATA BERTH_TEST_DATA "/aws"

static char *slurp(const char *rel, size_t *len)
{
  char path[1024];
  FILE *f;
  char *buf;
  long n;

  snprintf(path, sizeof(path), "%s/%s", AWSDATA, rel);
  f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("cannot open %s (tests/data/aws is part of the checkout)", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static json_t *load_json(const char *rel)
{
  char path[1024];
  json_error_t e;
  json_t *j;

  snprintf(path, sizeof(path), "%s/%s", AWSDATA, rel);
  j = json_load_file(path, 0, &e);
  if (j == NULL)
    fail_msg("cannot read %s: %s", path, e.text);
  return j;
}

static int64_t ms_of(const char *iso)
{
  int64_t ms = 0;

  if (iso == NULL || berth__aws_parse_time(iso, &ms) != BERTH_OK)
    return 0;
  return ms;
}

/* "" in botocore's result is NULL here. */
static void expect_str(const char *got, json_t *want, const char *what)
{
  const char *w = json_string_value(want);

  if (w == NULL || *w == '\0') {
    if (got != NULL)
      fail_msg("%s: want none, got \"%s\"", what, got);
    return;
  }
  if (got == NULL || strcmp(got, w) != 0)
    fail_msg("%s: want \"%s\", got \"%s\"", what, w, got ? got : "(null)");
}

static void expect_volume(const berth_ec2_volume_t *v, json_t *w)
{
  json_t *atts = json_object_get(w, "Attachments");
  size_t i;

  expect_str(v->volume_id, json_object_get(w, "VolumeId"), "VolumeId");
  expect_str(v->availability_zone, json_object_get(w, "AvailabilityZone"),
             "AvailabilityZone");
  expect_str(v->state, json_object_get(w, "State"), "State");
  expect_str(v->volume_type, json_object_get(w, "VolumeType"), "VolumeType");
  expect_str(v->snapshot_id, json_object_get(w, "SnapshotId"), "SnapshotId");
  assert_true(v->size_gib == json_integer_value(json_object_get(w, "Size")));
  assert_true(v->create_time_ms ==
              ms_of(json_string_value(json_object_get(w, "CreateTime"))));
  assert_int_equal(v->attachment_count, json_array_size(atts));
  for (i = 0; i < v->attachment_count; i++) {
    json_t *a = json_array_get(atts, i);
    expect_str(v->attachments[i].instance_id, json_object_get(a, "InstanceId"),
               "InstanceId");
    expect_str(v->attachments[i].device, json_object_get(a, "Device"),
               "Device");
    expect_str(v->attachments[i].state, json_object_get(a, "State"),
               "Attachment State");
    assert_int_equal(v->attachments[i].delete_on_termination,
                     json_is_true(json_object_get(a, "DeleteOnTermination")));
    assert_true(v->attachments[i].attach_time_ms ==
                ms_of(json_string_value(json_object_get(a, "AttachTime"))));
  }
}

static void test_botocore_describe_volumes(void **state)
{
  size_t len, i;
  char *xml = slurp("ec2-botocore/responses/ec2-describe-volumes.xml", &len);
  json_t *want = load_json("ec2-botocore/responses/ec2-describe-volumes.json");
  json_t *vols = json_object_get(want, "Volumes");
  berth_ec2_volume_list_t l;
  berth_error_t err;

  (void)state;
  assert_int_equal(berth_ec2_parse_volumes(xml, len, &l, &err), BERTH_OK);
  assert_int_equal(l.count, json_array_size(vols));
  assert_true(l.count >= 2);
  for (i = 0; i < l.count; i++)
    expect_volume(&l.items[i], json_array_get(vols, i));
  assert_null(l.next_token);
  berth_ec2_volume_list_cleanup(&l);
  json_decref(want);
  free(xml);
}

static void test_botocore_create_attach_detach(void **state)
{
  size_t len;
  char *xml;
  json_t *want;
  berth_ec2_volume_t v;
  berth_ec2_attachment_t a;
  const char *files[] = {"ec2-attach-volume", "ec2-detach-volume"};
  size_t i;

  (void)state;
  xml = slurp("ec2-botocore/responses/ec2-create-volume.xml", &len);
  want = load_json("ec2-botocore/responses/ec2-create-volume.json");
  /* createTime is the placeholder "YYYY-MM-DDTHH:MM:SS.000Z": 0. */
  assert_int_equal(berth_ec2_parse_volume(xml, len, &v, NULL), BERTH_OK);
  expect_volume(&v, want);
  assert_true(v.create_time_ms == 0);
  berth_ec2_volume_cleanup(&v);
  json_decref(want);
  free(xml);

  for (i = 0; i < 2; i++) {
    char rel[128];
    snprintf(rel, sizeof(rel), "ec2-botocore/responses/%s.xml", files[i]);
    xml = slurp(rel, &len);
    snprintf(rel, sizeof(rel), "ec2-botocore/responses/%s.json", files[i]);
    want = load_json(rel);
    assert_int_equal(berth_ec2_parse_attachment(xml, len, &a, NULL), BERTH_OK);
    expect_str(a.volume_id, json_object_get(want, "VolumeId"), "VolumeId");
    expect_str(a.instance_id, json_object_get(want, "InstanceId"),
               "InstanceId");
    expect_str(a.device, json_object_get(want, "Device"), "Device");
    expect_str(a.state, json_object_get(want, "State"), "State");
    assert_true(a.attach_time_ms == 0); /* placeholder */
    berth_ec2_attachment_cleanup(&a);
    json_decref(want);
    free(xml);
  }
}

static void test_libcloud_volumes(void **state)
{
  size_t len;
  char *xml;
  berth_ec2_volume_t v;
  berth_ec2_volume_list_t l;

  (void)state;
  xml = slurp("ec2-libcloud/create_volume.xml", &len);
  assert_int_equal(berth_ec2_parse_volume(xml, len, &v, NULL), BERTH_OK);
  assert_string_equal(v.volume_id, "vol-4d826724");
  assert_true(v.size_gib == 10);
  assert_string_equal(v.state, "creating");
  assert_string_equal(v.availability_zone, "us-east-1a");
  assert_null(v.snapshot_id);
  assert_false(v.encrypted);
  assert_true(v.create_time_ms == 1210161110000LL);
  berth_ec2_volume_cleanup(&v);
  free(xml);

  xml = slurp("ec2-libcloud/create_encrypted_volume.xml", &len);
  assert_int_equal(berth_ec2_parse_volume(xml, len, &v, NULL), BERTH_OK);
  assert_true(v.encrypted);
  berth_ec2_volume_cleanup(&v);
  free(xml);

  xml = slurp("ec2-libcloud/describe_volumes.xml", &len);
  assert_int_equal(berth_ec2_parse_volumes(xml, len, &l, NULL), BERTH_OK);
  assert_int_equal(l.count, 3);
  assert_string_equal(l.items[1].state, "in-use");
  /* An unknown state passes through as text. */
  assert_string_equal(l.items[2].state, "some-unknown-status");
  assert_string_equal(l.items[2].snapshot_id, "snap-30d37269");
  assert_int_equal(l.items[2].attachment_count, 1);
  assert_string_equal(l.items[2].attachments[0].instance_id, "i-d334b4b3");
  assert_true(l.items[2].attachments[0].delete_on_termination);
  assert_int_equal(l.items[0].attachment_count, 0);
  berth_ec2_volume_list_cleanup(&l);
  free(xml);
}

static void test_libcloud_snapshots(void **state)
{
  size_t len;
  char *xml;
  berth_ec2_snapshot_t s;
  berth_ec2_snapshot_list_t l;

  (void)state;
  xml = slurp("ec2-libcloud/create_snapshot.xml", &len);
  assert_int_equal(berth_ec2_parse_snapshot(xml, len, &s, NULL), BERTH_OK);
  assert_string_equal(s.snapshot_id, "snap-a7cb2hd9");
  assert_string_equal(s.volume_id, "vol-4282672b");
  assert_string_equal(s.state, "pending");
  assert_string_equal(s.progress, "60%");
  assert_string_equal(s.owner_id, "1836219348");
  assert_string_equal(s.description, "Test description");
  assert_true(s.volume_size_gib == 10);
  assert_true(s.start_time_ms == 1376583750000LL);
  assert_false(s.encrypted);
  assert_int_equal(s.tag_count, 0);
  berth_ec2_snapshot_cleanup(&s);
  /* Not a CreateSnapshotResponse. */
  assert_int_equal(berth_ec2_parse_snapshots(xml, len, &l, NULL), BERTH_EPARSE);
  free(xml);

  /* libcloud's body repeats snapshotSet; EC2 sends one, the first. */
  xml = slurp("ec2-libcloud/describe_snapshots.xml", &len);
  assert_int_equal(berth_ec2_parse_snapshots(xml, len, &l, NULL), BERTH_OK);
  assert_int_equal(l.count, 1);
  assert_string_equal(l.items[0].snapshot_id, "snap-428abd35");
  assert_true(l.items[0].volume_size_gib == 30);
  assert_string_equal(berth_ec2_snapshot_tag(&l.items[0], "Keyone"),
                      "DB_Backup");
  assert_null(berth_ec2_snapshot_tag(&l.items[0], "Name"));
  assert_null(l.next_token);
  berth_ec2_snapshot_list_cleanup(&l);
  free(xml);
}

static void test_libcloud_others(void **state)
{
  size_t len;
  char *xml;
  berth_ec2_attachment_t a;
  berth_ec2_modification_t m;
  berth_ec2_modification_list_t ml;
  berth_ec2_instance_list_t il;
  size_t i;

  (void)state;
  xml = slurp("ec2-libcloud/attach_volume.xml", &len);
  assert_int_equal(berth_ec2_parse_attachment(xml, len, &a, NULL), BERTH_OK);
  assert_string_equal(a.state, "attaching");
  berth_ec2_attachment_cleanup(&a);
  free(xml);
  xml = slurp("ec2-libcloud/detach_volume.xml", &len);
  assert_int_equal(berth_ec2_parse_attachment(xml, len, &a, NULL), BERTH_OK);
  assert_string_equal(a.state, "detaching");
  assert_string_equal(a.device, "/dev/sdh");
  assert_true(a.attach_time_ms == 1210247510000LL);
  berth_ec2_attachment_cleanup(&a);
  free(xml);

  xml = slurp("ec2-libcloud/delete_volume.xml", &len);
  assert_int_equal(berth_ec2_parse_return(xml, len, NULL), BERTH_OK);
  free(xml);
  xml = slurp("ec2-libcloud/create_tags.xml", &len);
  assert_int_equal(berth_ec2_parse_return(xml, len, NULL), BERTH_OK);
  free(xml);

  xml = slurp("ec2-libcloud/modify_volume.xml", &len);
  assert_int_equal(berth_ec2_parse_modification(xml, len, &m, NULL), BERTH_OK);
  assert_string_equal(m.volume_id, "vol-10ae5e2b");
  assert_string_equal(m.state, "modifying");
  assert_true(m.target_size_gib == 2 && m.original_size_gib == 1);
  assert_true(m.target_iops == 1000 && m.original_iops == 300);
  assert_string_equal(m.target_volume_type, "io1");
  assert_string_equal(m.original_volume_type, "gp2");
  assert_true(m.start_time_ms == 1484870284922LL);
  assert_true(m.end_time_ms == 0);
  berth_ec2_modification_cleanup(&m);
  free(xml);

  xml = slurp("ec2-libcloud/describe_volumes_modifications.xml", &len);
  assert_int_equal(berth_ec2_parse_modifications(xml, len, &ml, NULL),
                   BERTH_OK);
  assert_int_equal(ml.count, 2);
  assert_string_equal(ml.items[0].state, "optimizing");
  assert_true(ml.items[0].progress == 3);
  assert_string_equal(ml.items[1].state, "completed");
  assert_true(ml.items[1].end_time_ms > ml.items[1].start_time_ms);
  berth_ec2_modification_list_cleanup(&ml);
  free(xml);

  xml = slurp("ec2-libcloud/describe_instances.xml", &len);
  assert_int_equal(berth_ec2_parse_instances(xml, len, &il, NULL), BERTH_OK);
  assert_int_equal(il.count, 2);
  assert_string_equal(il.items[0].instance_id, "i-4382922a");
  assert_string_equal(il.items[0].state, "stopped");
  assert_string_equal(il.items[0].availability_zone, "us-east-1d");
  assert_string_equal(il.items[0].instance_type, "m1.small");
  assert_null(il.items[0].private_dns_name); /* <privateDnsName/> */
  for (i = 0; i < il.count; i++) {
    assert_true(il.items[i].block_device_count >= 1);
    assert_string_equal(il.items[i].block_devices[0].device_name, "/dev/sda1");
    assert_non_null(il.items[i].block_devices[0].volume_id);
  }
  assert_true(il.items[1].block_devices[0].attach_time_ms > 0);
  berth_ec2_instance_list_cleanup(&il);
  free(xml);
}

static void test_hostile(void **state)
{
  static const char bomb[] =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
      "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
      "<DescribeVolumesResponse>&lol2;</DescribeVolumesResponse>";
  static const char bad_size[] =
      "<DescribeVolumesResponse><volumeSet><item><size>big</size>"
      "<volumeId>vol-1</volumeId></item></volumeSet></DescribeVolumesResponse>";
  static const char delete_answer[] =
      "<DeleteVolumeResponse><return>true</return></DeleteVolumeResponse>";
  berth_ec2_volume_list_t l;
  berth_ec2_volume_t v;
  berth_error_t err;
  char deep[64 * 4 + 200];
  size_t i, n = 0;

  (void)state;
  assert_int_equal(berth_ec2_parse_volumes(bomb, strlen(bomb), &l, &err),
                   BERTH_EPARSE);
  assert_non_null(strstr(err.message, "DOCTYPE"));
  assert_int_equal(
      berth_ec2_parse_volumes("<DescribeVolumesResponse>", 25, &l, &err),
      BERTH_EPARSE);
  assert_int_equal(berth_ec2_parse_volumes("", 0, &l, &err), BERTH_EPARSE);
  /* The right XML for another call. */
  assert_int_equal(
      berth_ec2_parse_volume(delete_answer, strlen(delete_answer), &v, &err),
      BERTH_EPARSE);
  assert_non_null(strstr(err.message, "CreateVolumeResponse"));
  assert_int_equal(
      berth_ec2_parse_volumes(bad_size, strlen(bad_size), &l, &err),
      BERTH_EPARSE);
  assert_non_null(strstr(err.message, "size"));
  assert_int_equal(
      berth_ec2_parse_return("<R><return>false</return></R>", 29, &err),
      BERTH_EHTTP);
  for (i = 0; i < 70; i++)
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<a>");
  assert_int_equal(berth_ec2_parse_volumes(deep, n, &l, &err), BERTH_ETOOBIG);
}

static void test_efs_json(void **state)
{
  static const char ap[] =
      "{\"ClientToken\":\"pvc-1\",\"Name\":\"n\",\"Tags\":[{\"Key\":\"Name\","
      "\"Value\":\"n\"}],\"AccessPointId\":\"fsap-0123456789abcdef0\","
      "\"AccessPointArn\":\"arn:aws:elasticfilesystem:us-east-1:1:access-point"
      "/fsap-0123456789abcdef0\",\"FileSystemId\":\"fs-12345678\","
      "\"PosixUser\":{\"Uid\":1000,\"Gid\":1000,\"SecondaryGids\":[5]},"
      "\"RootDirectory\":{\"Path\":\"/x\",\"CreationInfo\":{\"OwnerUid\":1,"
      "\"OwnerGid\":2,\"Permissions\":\"0750\"}},\"OwnerId\":\"1\","
      "\"LifeCycleState\":\"available\"}";
  static const char fss[] =
      "{\"FileSystems\":[{\"OwnerId\":\"1\",\"CreationToken\":\"t\","
      "\"FileSystemId\":\"fs-12345678\",\"CreationTime\":1700000000.5,"
      "\"LifeCycleState\":\"available\",\"NumberOfMountTargets\":2,"
      "\"SizeInBytes\":{\"Value\":6144},\"PerformanceMode\":\"generalPurpose\","
      "\"Encrypted\":false,\"Tags\":[]}],\"NextMarker\":\"m2\"}";
  static const char mts[] =
      "{\"MountTargets\":[{\"MountTargetId\":\"fsmt-1\",\"FileSystemId\":"
      "\"fs-12345678\",\"SubnetId\":\"subnet-1\",\"LifeCycleState\":"
      "\"available\",\"IpAddress\":\"10.0.0.5\",\"AvailabilityZoneName\":"
      "\"us-east-1a\"}]}";
  berth_efs_access_point_t a;
  berth_efs_access_point_list_t al;
  berth_efs_file_system_list_t fl;
  berth_efs_mount_target_list_t ml;
  berth_error_t err;

  (void)state;
  assert_int_equal(berth_efs_parse_access_point(ap, strlen(ap), &a, &err),
                   BERTH_OK);
  assert_string_equal(a.access_point_id, "fsap-0123456789abcdef0");
  assert_true(a.secondary_gid_count == 1 && a.secondary_gids[0] == 5);
  assert_string_equal(a.permissions, "0750");
  assert_true(a.owner_gid == 2);
  berth_efs_access_point_cleanup(&a);
  assert_int_equal(
      berth_efs_parse_access_points("{\"AccessPoints\":[]}", 19, &al, &err),
      BERTH_OK);
  assert_int_equal(al.count, 0);
  berth_efs_access_point_list_cleanup(&al);
  assert_int_equal(
      berth_efs_parse_access_points("{\"AccessPoints\":[{}]}", 21, &al, &err),
      BERTH_EPARSE);
  assert_non_null(strstr(err.message, "AccessPointId"));
  assert_int_equal(berth_efs_parse_file_systems(fss, strlen(fss), &fl, &err),
                   BERTH_OK);
  assert_true(fl.items[0].creation_time_ms == 1700000000500LL);
  assert_true(fl.items[0].size_bytes == 6144);
  assert_string_equal(fl.next_marker, "m2");
  berth_efs_file_system_list_cleanup(&fl);
  assert_int_equal(berth_efs_parse_mount_targets(mts, strlen(mts), &ml, &err),
                   BERTH_OK);
  assert_string_equal(ml.items[0].ip_address, "10.0.0.5");
  assert_null(ml.next_marker);
  berth_efs_mount_target_list_cleanup(&ml);
  assert_int_equal(berth_efs_parse_mount_targets("[]", 2, &ml, &err),
                   BERTH_EPARSE);
  /* A CreationTime no int64 of milliseconds holds is refused, not
   * converted (undefined behaviour in C). */
  {
    static const char *const huge[] = {"1e300", "-1e300", "9.3e15", "-9.3e15",
                                       NULL};
    char doc[256];
    size_t i;

    for (i = 0; huge[i] != NULL; i++) {
      snprintf(doc, sizeof(doc),
               "{\"FileSystems\":[{\"FileSystemId\":\"fs-1\","
               "\"CreationTime\":%s}]}",
               huge[i]);
      berth_error_clear(&err);
      if (berth_efs_parse_file_systems(doc, strlen(doc), &fl, &err) !=
          BERTH_EPARSE) {
        berth_efs_file_system_list_cleanup(&fl);
        fail_msg("CreationTime %s accepted", huge[i]);
      }
      assert_non_null(strstr(err.message, "CreationTime"));
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_botocore_describe_volumes),
      cmocka_unit_test(test_botocore_create_attach_detach),
      cmocka_unit_test(test_libcloud_volumes),
      cmocka_unit_test(test_libcloud_snapshots),
      cmocka_unit_test(test_libcloud_others),
      cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_efs_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
