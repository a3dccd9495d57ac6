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

static void test_defaults(void **state)
{
  berth_ebs_params_t p;
  berth_error_t err;

  (void)state;
  assert_int_equal(berth_ebs_params_parse(NULL, &p, &err), BERTH_OK);
  assert_string_equal(p.type, "gp3");
  assert_string_equal(p.fstype, "ext4");
  assert_int_equal(berth_ebs_size_gib(&p, 1), 1);
  assert_int_equal(berth_ebs_size_gib(&p, 1024ull * 1024 * 1024), 1);
  assert_int_equal(berth_ebs_size_gib(&p, 1024ull * 1024 * 1024 + 1), 2);
  assert_int_equal(berth_ebs_iops(&p, 100), 0);
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
            "\"true\",\"CSI.storage.k8s.io/fstype\":\"xfs\","
            "\"tagSpecification_1\":\"a=b\",\"tagSpecification_12\":"
            "\"owner={{ .PVCNamespace }}\"}",
            &p, &err),
      BERTH_OK);
  assert_string_equal(p.type, "io2");
  assert_true(p.encrypted);
  assert_string_equal(p.fstype, "xfs");
  assert_int_equal(p.n_tag_specs, 2);
  assert_int_equal(berth_ebs_size_gib(&p, 1), 4); /* io2's minimum */
  assert_int_equal(berth_ebs_iops(&p, 4), 200);
  assert_int_equal(berth_ebs_iops(&p, 1), 100); /* raised to the minimum */
  assert_int_equal(berth_ebs_iops(&p, 10000), 256000); /* Block Express */
  p.block_express = false;
  assert_int_equal(berth_ebs_iops(&p, 10000), 64000);
  assert_int_equal(parse("{\"type\":\"st1\"}", &p, &err), BERTH_OK);
  assert_int_equal(berth_ebs_size_gib(&p, 1), 125);
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
      {"{\"kmsKeyId\":\"k\"}", "kmsKeyId"},
      {"{\"csi.storage.k8s.io/fstype\":\"btrfs\"}", "fstype"},
      {"{\"tagSpecification_1\":\"novalue\"}", "tagSpecification_1"},
      {"{\"tagSpecification_x\":\"a=b\"}", "tagSpecification_x"},
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
      cmocka_unit_test(test_defaults),   cmocka_unit_test(test_full),
      cmocka_unit_test(test_bad),        cmocka_unit_test(test_expand),
      cmocka_unit_test(test_zone_token),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);

  json_decref(held);
  return rc;
}
