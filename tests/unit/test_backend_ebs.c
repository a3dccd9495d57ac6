/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the EBS backend's parameters, sizes, IOPS, tag templates,
 * zones and ClientToken (provisioner/backends/ebs_params.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "backends/ebs.h"

/* The parsed parameters borrow their strings from the object: it is kept
 * until the next parse (or the end). */
static json_t *held;

static berth_status_t parse(const char *json, berth_ebs_params_t *p,
                            berth_error_t *err)
{
  json_decref(held);
  held = json_loads(json, 0, NULL);
  assert_non_null(held);
  return berth_ebs_params_parse(held, p, err);
}

static int64_t iops_of(const berth_ebs_params_t *p, int64_t gib)
{
  int64_t out = -1;
  berth_error_t err;

  assert_int_equal(berth_ebs_iops(p, gib, &out, &err), BERTH_OK);
  return out;
}

static void test_defaults(void **state)
{
  berth_ebs_params_t p;
  berth_error_t err;

  (void)state;
  assert_int_equal(berth_ebs_params_parse(NULL, &p, &err), BERTH_OK);
  assert_string_equal(p.type, "gp3");
  assert_string_equal(p.fstype, "ext4");
  assert_false(p.encrypted);
  assert_int_equal(berth_ebs_size_gib(&p, 1), 1);
  assert_int_equal(berth_ebs_size_gib(&p, 1024ull * 1024 * 1024), 1);
  assert_int_equal(berth_ebs_size_gib(&p, 1024ull * 1024 * 1024 + 1), 2);
  assert_int_equal(iops_of(&p, 100), 0);
}

static void test_full(void **state)
{
  berth_ebs_params_t p;
  berth_error_t err;

  (void)state;
  assert_int_equal(
      parse("{\"type\":\"io2\",\"iopsPerGB\":\"50\",\"encrypted\":\"true\","
            "\"kmsKeyId\":\"arn:aws:kms:us-east-1:1:key/k\","
            "\"blockExpress\":\"true\",\"allowAutoIOPSPerGBIncrease\":"
            "\"true\",\"csi.storage.k8s.io/fstype\":\"xfs\","
            "\"tagSpecification_1\":\"a=b\",\"tagSpecification_12\":"
            "\"owner={{ .PVCNamespace }}\"}",
            &p, &err),
      BERTH_OK);
  assert_string_equal(p.type, "io2");
  assert_true(p.encrypted);
  assert_string_equal(p.fstype, "xfs");
  assert_int_equal(p.n_tag_specs, 2);
  assert_int_equal(berth_ebs_size_gib(&p, 1), 4); /* io2's minimum */
  assert_int_equal(iops_of(&p, 4), 200);
  assert_int_equal(iops_of(&p, 1), 100); /* raised to the minimum */
  /* io2 is Block Express whatever blockExpress says: 256,000 IOPS. */
  assert_int_equal(iops_of(&p, 10000), 256000);
  assert_int_equal(parse("{\"type\":\"st1\"}", &p, &err), BERTH_OK);
  assert_int_equal(berth_ebs_size_gib(&p, 1), 125);
}

/* Every key the parser accepts, written in three cases (lower, UPPER,
 * MiXeD), with a value that
 * is not the default: the parsed field changes. A key that were accepted
 * and ignored would leave its field at the default and fail here. */
static void test_every_key_any_case(void **state)
{
  static const struct {
    const char *key, *value;
  } keys[] = {
      {"type", "io2"},
      {"iops", "5000"},
      {"iopsPerGB", "20"},
      {"allowAutoIOPSPerGBIncrease", "true"},
      {"allowAutoIOPSIncreaseOnModify", "true"},
      {"throughput", "300"},
      {"encrypted", "true"},
      {"kmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/k"},
      {"fsType", "xfs"},
      {"blockSize", "2048"},
      {"inodeSize", "512"},
      {"bytesPerInode", "8192"},
      {"numberOfInodes", "200"},
      {"ext4BigAlloc", "true"},
      {"ext4ClusterSize", "16384"},
      {"ext4EncryptionSupport", "true"},
      {"volumeInitializationRate", "200"},
      {"blockAttachUntilInitialized", "true"},
      {"outpostArn", "arn:aws:outposts:us-east-1:123456789012:outpost/"
                     "op-0123456789abcdef0"},
  };
  size_t i, c;

  (void)state;
  for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    for (c = 0; c < 3; c++) {
      char key[64], json[512];
      berth_ebs_params_t p, d;
      berth_error_t err;
      size_t j, n = strlen(keys[i].key);
      const char *extra = "";

      for (j = 0; j <= n; j++) {
        char ch = keys[i].key[j];
        if (c == 0 && ch >= 'A' && ch <= 'Z')
          ch = (char)(ch - 'A' + 'a');
        else if (c == 1 && ch >= 'a' && ch <= 'z')
          ch = (char)(ch - 'a' + 'A');
        else if (c == 2 && (j % 2) == 0 && ch >= 'a' && ch <= 'z')
          ch = (char)(ch - 'a' + 'A');
        else if (c == 2 && (j % 2) == 1 && ch >= 'A' && ch <= 'Z')
          ch = (char)(ch - 'A' + 'a');
        key[j] = ch;
      }
      /* What some keys need beside them to be valid. */
      if (strcmp(keys[i].key, "iops") == 0 ||
          strcmp(keys[i].key, "iopsPerGB") == 0)
        extra = ",\"type\":\"io1\"";
      else if (strcmp(keys[i].key, "ext4ClusterSize") == 0)
        extra = ",\"ext4BigAlloc\":\"true\"";
      snprintf(json, sizeof(json), "{\"%s\":\"%s\"%s}", key, keys[i].value,
               extra);
      memset(&err, 0, sizeof(err));
      if (parse(json, &p, &err) != BERTH_OK)
        fail_msg("%s refused: %s", json, err.message);
      assert_int_equal(berth_ebs_params_parse(NULL, &d, &err), BERTH_OK);
      switch (i) {
      case 0:
        assert_string_equal(p.type, "io2");
        break;
      case 1:
        assert_int_equal(p.iops, 5000);
        break;
      case 2:
        assert_int_equal(p.iops_per_gb, 20);
        break;
      case 3:
        assert_true(p.allow_iops_increase);
        break;
      case 4:
        assert_true(p.allow_iops_increase_on_modify);
        break;
      case 5:
        assert_int_equal(p.throughput, 300);
        break;
      case 6:
        assert_true(p.encrypted);
        break;
      case 7:
        assert_non_null(p.kms_key_id);
        assert_true(p.encrypted); /* the key implies encryption */
        break;
      case 8:
        assert_string_equal(p.fstype, "xfs");
        break;
      case 9:
        assert_string_equal(p.block_size, "2048");
        break;
      case 10:
        assert_string_equal(p.inode_size, "512");
        break;
      case 11:
        assert_string_equal(p.bytes_per_inode, "8192");
        break;
      case 12:
        assert_string_equal(p.number_of_inodes, "200");
        break;
      case 13:
        assert_true(p.ext4_bigalloc);
        break;
      case 14:
        assert_string_equal(p.ext4_cluster_size, "16384");
        break;
      case 15:
        assert_true(p.ext4_encryption);
        break;
      case 16:
        assert_int_equal(p.volume_initialization_rate, 200);
        break;
      case 17:
        assert_true(p.block_attach_until_initialized);
        break;
      case 18:
        assert_non_null(p.outpost_arn);
        break;
      default:
        fail();
      }
      /* And it differs from the default. */
      assert_memory_not_equal(&p, &d, sizeof(p));
    }
  }
}

/* The mkfs options reach the PV under the driver's lower-case keys. */
static void test_volume_attributes(void **state)
{
  berth_ebs_params_t p;
  berth_error_t err;
  json_t *a;

  (void)state;
  assert_int_equal(parse("{\"BlockSize\":\"4096\",\"INODESIZE\":\"256\","
                         "\"bytesperinode\":\"16384\",\"NumberOfInodes\":"
                         "\"100\",\"ext4bigalloc\":\"true\","
                         "\"Ext4ClusterSize\":\"65536\","
                         "\"ext4EncryptionSupport\":\"true\"}",
                         &p, &err),
                   BERTH_OK);
  a = berth_ebs_volume_attributes(&p);
  assert_non_null(a);
  assert_int_equal(json_object_size(a), 7);
  assert_string_equal(json_string_value(json_object_get(a, "blocksize")),
                      "4096");
  assert_string_equal(json_string_value(json_object_get(a, "inodesize")),
                      "256");
  assert_string_equal(json_string_value(json_object_get(a, "bytesperinode")),
                      "16384");
  assert_string_equal(json_string_value(json_object_get(a, "numberofinodes")),
                      "100");
  assert_string_equal(json_string_value(json_object_get(a, "ext4bigalloc")),
                      "true");
  assert_string_equal(json_string_value(json_object_get(a, "ext4clustersize")),
                      "65536");
  assert_string_equal(
      json_string_value(json_object_get(a, "ext4encryptionsupport")), "true");
  json_decref(a);
}

static void test_claim_shapes(void **state)
{
  berth_ebs_params_t gp3, io2, fmt;
  berth_error_t err;

  (void)state;
  assert_int_equal(parse("{}", &gp3, &err), BERTH_OK);
  assert_int_equal(berth_ebs_check_claim(&gp3, BERTH_ACCESS_RWO, false, &err),
                   BERTH_OK);
  assert_int_equal(berth_ebs_check_claim(&gp3, BERTH_ACCESS_RWO, true, &err),
                   BERTH_OK);
  assert_int_equal(berth_ebs_check_claim(&gp3, BERTH_ACCESS_RWX, false, &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "InvalidArgument"));
  assert_int_equal(berth_ebs_check_claim(&gp3, BERTH_ACCESS_RWX, true, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_ebs_check_claim(&gp3, BERTH_ACCESS_ROX, true, &err),
                   BERTH_EINVAL);
  assert_int_equal(parse("{\"type\":\"io2\",\"iops\":\"1000\"}", &io2, &err),
                   BERTH_OK);
  assert_int_equal(berth_ebs_check_claim(&io2, BERTH_ACCESS_RWX, true, &err),
                   BERTH_OK);
  assert_int_equal(parse("{\"blockSize\":\"4096\"}", &fmt, &err), BERTH_OK);
  assert_int_equal(berth_ebs_check_claim(&fmt, BERTH_ACCESS_RWO, true, &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "blockSize"));
}

static void test_iops_limits(void **state)
{
  berth_ebs_params_t p;
  berth_error_t err;
  int64_t out;

  (void)state;
  /* io2: 1,000 IOPS per GiB and 256,000 in all. */
  assert_int_equal(parse("{\"type\":\"io2\",\"iops\":\"256000\"}", &p, &err),
                   BERTH_OK);
  assert_int_equal(iops_of(&p, 256), 256000);
  assert_int_equal(iops_of(&p, 100), 100000);
  assert_int_equal(parse("{\"type\":\"io2\",\"iopsPerGB\":\"1000\"}", &p, &err),
                   BERTH_OK);
  assert_int_equal(iops_of(&p, 10), 10000);
  /* io1: 50 per GiB, 64,000. */
  assert_int_equal(parse("{\"type\":\"io1\",\"iops\":\"64000\"}", &p, &err),
                   BERTH_OK);
  assert_int_equal(iops_of(&p, 100), 5000);
  assert_int_equal(iops_of(&p, 5000), 64000);
  /* Below the minimum without allowAutoIOPSPerGBIncrease: refused. */
  assert_int_equal(parse("{\"type\":\"io1\",\"iopsPerGB\":\"10\"}", &p, &err),
                   BERTH_OK);
  assert_int_equal(berth_ebs_iops(&p, 4, &out, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "allowAutoIOPSPerGBIncrease"));
}

static void test_extra_tags_and_zones(void **state)
{
  static const char *const zones[] = {"us-east-1a", "us-east-1b", "us-east-1c"};
  json_t *t = NULL;
  berth_error_t err;
  const char *z0, *z1, *z2;

  (void)state;
  assert_int_equal(berth_ebs_parse_extra_tags("team=db,env=prod", &t, &err),
                   BERTH_OK);
  assert_int_equal(json_object_size(t), 2);
  assert_string_equal(json_string_value(json_object_get(t, "env")), "prod");
  json_decref(t);
  assert_int_equal(berth_ebs_parse_extra_tags(NULL, &t, &err), BERTH_OK);
  assert_int_equal(json_object_size(t), 0);
  json_decref(t);
  assert_int_equal(berth_ebs_parse_extra_tags("novalue", &t, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_ebs_parse_extra_tags("aws:x=1", &t, &err),
                   BERTH_EINVAL);
  /* Stable, and a StatefulSet's claims go round the zones. */
  z0 = berth_ebs_pick_zone(zones, 3, "data-db-0");
  z1 = berth_ebs_pick_zone(zones, 3, "data-db-1");
  z2 = berth_ebs_pick_zone(zones, 3, "data-db-2");
  assert_string_equal(z0, berth_ebs_pick_zone(zones, 3, "data-db-0"));
  assert_string_not_equal(z0, z1);
  assert_string_not_equal(z1, z2);
  assert_string_not_equal(z0, z2);
  assert_string_equal(berth_ebs_pick_zone(zones, 1, "x"), "us-east-1a");
}

static void test_bad(void **state)
{
  static const struct {
    const char *json;
    const char *word; /* the message names it */
  } bad[] = {
      {"{\"colour\":\"blue\"}", "colour"},
      {"{\"type\":\"gp4\"}", "type"},
      {"{\"iops\":\"lots\"}", "iops"},
      {"{\"iops\":\"0\"}", "iops"},
      {"{\"type\":\"gp2\",\"iops\":\"3000\"}", "iops"},
      {"{\"iops\":\"3000\",\"iopsPerGB\":\"10\"}", "iopsPerGB"},
      {"{\"type\":\"io1\",\"throughput\":\"200\"}", "throughput"},
      {"{\"encrypted\":\"yes\"}", "encrypted"},
      {"{\"kmsKeyId\":\"k\",\"encrypted\":\"false\"}", "kmsKeyId"},
      {"{\"iops\":\"3000\",\"IOPS\":\"4000\"}", "case-insensitive"},
      {"{\"fsType\":\"xfs\",\"csi.storage.k8s.io/fstype\":\"ext4\"}", "twice"},
      {"{\"CSI.storage.k8s.io/fstype\":\"xfs\"}", "CSI.storage"},
      {"{\"blockSize\":\"4k;rm\"}", "blockSize"},
      {"{\"fsType\":\"xfs\",\"ext4BigAlloc\":\"true\"}", "ext4BigAlloc"},
      {"{\"ext4ClusterSize\":\"16384\"}", "ext4BigAlloc"},
      {"{\"volumeInitializationRate\":\"50\"}", "volumeInitializationRate"},
      {"{\"outpostArn\":\"op-1\"}", "outpostArn"},
      {"{\"archiveOnDelete\":\"true\"}", "nfs-subdir"},
      {"{\"zone\":\"us-east-1a\"}", "allowedTopologies"},
      {"{\"csi.storage.k8s.io/fstype\":\"btrfs\"}", "fstype"},
      {"{\"tagSpecification_1\":\"novalue\"}", "tagSpecification_1"},
      {"{\"TagSpecification_1\":\"a=b\"}", "TagSpecification_1"},
      {"{\"tagSpecification_2\":\"aws:x=b\"}", "aws:"},
      {"{\"tagSpecification_3\":\"a={{ .Nope }}\"}", ".Nope"},
      {"{\"tagSpecification_4\":\"a={{ .PVName\"}", "unterminated"},
      {"{\"type\":7}", "type"},
  };
  berth_ebs_params_t p;
  berth_error_t err;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    memset(&err, 0, sizeof(err));
    assert_int_equal(parse(bad[i].json, &p, &err), BERTH_EINVAL);
    if (strstr(err.message, bad[i].word) == NULL)
      fail_msg("%s: message \"%s\" does not name %s", bad[i].json, err.message,
               bad[i].word);
  }
}

static void test_expand(void **state)
{
  char out[64];
  berth_error_t err;

  (void)state;
  assert_int_equal(
      berth_ebs_expand("{{ .PVCNamespace }}/{{.PVCName}}-{{ .PVName }}!",
                       "data", "ns", "pvc-1", out, sizeof(out), &err),
      BERTH_OK);
  assert_string_equal(out, "ns/data-pvc-1!");
  assert_int_equal(
      berth_ebs_expand("plain", "a", "b", "c", out, sizeof(out), &err),
      BERTH_OK);
  assert_string_equal(out, "plain");
  assert_int_equal(
      berth_ebs_expand("{{ .PVCName }}", "0123456789", "b", "c", out, 8, &err),
      BERTH_EINVAL);
}

static void test_zone_token(void **state)
{
  json_t *n = json_loads("{\"metadata\":{\"labels\":{\"topology.kubernetes.io/"
                         "zone\":\"us-east-1b\"}}}",
                         0, NULL);
  json_t *m = json_loads("{\"metadata\":{\"labels\":{\"topology.ebs.csi.aws."
                         "com/zone\":\"eu-west-1c\",\"topology.kubernetes.io/"
                         "zone\":\"x\"}}}",
                         0, NULL);
  char tok[65], tok2[65];

  (void)state;
  assert_string_equal(berth_ebs_node_zone(n), "us-east-1b");
  assert_string_equal(berth_ebs_node_zone(m), "eu-west-1c");
  assert_null(berth_ebs_node_zone(NULL));
  /* sha256("pvc-1"), as aws-ebs-csi-driver computes it. */
  berth_ebs_client_token("pvc-1", tok);
  assert_int_equal(strlen(tok), 64);
  berth_ebs_client_token("pvc-1", tok2);
  assert_string_equal(tok, tok2);
  berth_ebs_client_token("pvc-2", tok2);
  assert_string_not_equal(tok, tok2);
  json_decref(n);
  json_decref(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_full),
      cmocka_unit_test(test_bad),
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_zone_token),
      cmocka_unit_test(test_every_key_any_case),
      cmocka_unit_test(test_volume_attributes),
      cmocka_unit_test(test_claim_shapes),
      cmocka_unit_test(test_iops_limits),
      cmocka_unit_test(test_extra_tags_and_zones),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);

  json_decref(held);
  return rc;
}
