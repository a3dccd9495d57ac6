/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: reading claims and classes (provisioner/claim.c) and
 * building the PV (provisioner/pv.c), against fixtures in
 * tests/data/provisioner/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "pv.h"

#include "berth/k8s.h"

static json_t *load(const char *name)
{
  char path[512];
  json_error_t e;
  json_t *j;

  snprintf(path, sizeof(path), "%s/provisioner/%s", BERTH_TEST_DATA, name);
  j = json_load_file(path, 0, &e);
  if (j == NULL)
    fail_msg("%s: %s", path, e.text);
  return j;
}

static void test_claim_fields(void **state)
{
  json_t *c = load("claim.json");
  unsigned modes = 0;
  uint64_t bytes = 0;
  const char *text = NULL;
  char name[64];
  berth_error_t err;

  (void)state;
  /* The beta annotation counts when the GA one is missing. */
  assert_string_equal(prov_claim_provisioner(c), "berth.io/nfs");
  assert_string_equal(prov_claim_class(c), "fast");
  assert_string_equal(prov_claim_selected_node(c), "node-a");
  assert_null(prov_claim_volume_name(c));
  assert_false(prov_obj_deleting(c));
  assert_true(prov_obj_has_finalizer(c, "kubernetes.io/pvc-protection"));
  assert_false(prov_obj_has_finalizer(c, PROV_CLAIM_FINALIZER));
  assert_int_equal(prov_claim_access_modes(c, &modes, &err), BERTH_OK);
  assert_int_equal(modes, 3);
  assert_int_equal(prov_claim_request(c, &bytes, &text, &err), BERTH_OK);
  assert_int_equal(bytes, 1536ULL << 20);
  assert_string_equal(text, "1536Mi");
  assert_true(prov_pv_name(berth_k8s_obj_uid(c), name, sizeof(name)));
  assert_string_equal(name, "pvc-0b7f5b5e-8c1a-4a39-9f0e-1c2d3e4f5a6b");
  assert_false(prov_pv_name("", name, sizeof(name)));
  assert_false(prov_pv_name(berth_k8s_obj_uid(c), name, 10));

  /* GA wins over beta; the beta class annotation is a fallback. */
  json_object_set_new(
      json_object_get(json_object_get(c, "metadata"), "annotations"),
      PROV_ANN_STORAGE_PROVISIONER, json_string("other"));
  assert_string_equal(prov_claim_provisioner(c), "other");
  json_object_del(json_object_get(c, "spec"), "storageClassName");
  assert_null(prov_claim_class(c));
  json_object_set_new(
      json_object_get(json_object_get(c, "metadata"), "annotations"),
      PROV_ANN_STORAGE_CLASS_BETA, json_string("old"));
  assert_string_equal(prov_claim_class(c), "old");

  /* Bad modes and requests name the field. */
  json_object_set_new(json_object_get(c, "spec"), "accessModes",
                      json_pack("[s]", "ReadWriteSometimes"));
  assert_int_equal(prov_claim_access_modes(c, &modes, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "accessModes[0]"));
  json_object_set_new(json_object_get(c, "spec"), "resources",
                      json_pack("{s:{s:s}}", "requests", "storage", "lots"));
  assert_int_equal(prov_claim_request(c, &bytes, &text, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "requests.storage"));
  json_decref(c);
}

static void test_finalizer_edit(void **state)
{
  json_t *c = load("claim.json");
  json_t *with = prov_obj_with_finalizer(c, PROV_CLAIM_FINALIZER, true);
  json_t *twice = prov_obj_with_finalizer(with, PROV_CLAIM_FINALIZER, true);
  json_t *without = prov_obj_with_finalizer(twice, PROV_CLAIM_FINALIZER, false);
  json_t *none =
      prov_obj_with_finalizer(without, "kubernetes.io/pvc-protection", false);

  (void)state;
  assert_true(prov_obj_has_finalizer(with, PROV_CLAIM_FINALIZER));
  assert_int_equal(json_array_size(json_object_get(
                       json_object_get(twice, "metadata"), "finalizers")),
                   2);
  assert_true(json_equal(without, c));
  assert_null(json_object_get(json_object_get(none, "metadata"), "finalizers"));
  /* The original is never changed. */
  assert_false(prov_obj_has_finalizer(c, PROV_CLAIM_FINALIZER));
  json_decref(c);
  json_decref(with);
  json_decref(twice);
  json_decref(without);
  json_decref(none);
}

static void test_class_fields(void **state)
{
  json_t *sc = load("class.json");
  json_t *node = json_pack("{s:{s:s, s:{s:s}}}", "metadata", "name", "node-a",
                           "labels", "topology.kubernetes.io/zone", "zone-b");

  (void)state;
  assert_string_equal(prov_class_provisioner(sc), "berth.io/nfs");
  assert_string_equal(prov_class_reclaim_policy(sc), "Delete");
  assert_true(prov_class_wait_for_consumer(sc));
  /* kubernetes.io/hostname defaults to the node's name. */
  assert_true(prov_class_allows_node(sc, node));
  json_object_set_new(
      json_object_get(json_object_get(node, "metadata"), "labels"),
      "topology.kubernetes.io/zone", json_string("zone-x"));
  assert_false(prov_class_allows_node(sc, node));
  json_object_del(sc, "allowedTopologies");
  assert_true(prov_class_allows_node(sc, node));
  json_object_del(sc, "reclaimPolicy");
  assert_string_equal(prov_class_reclaim_policy(sc), "Delete");
  json_object_set_new(sc, "reclaimPolicy", json_string("Retain"));
  assert_string_equal(prov_class_reclaim_policy(sc), "Retain");
  json_decref(node);
  json_decref(sc);
}

static void fill_input(prov_pv_input_t *in, json_t *c, json_t *sc,
                       berth_provision_result_t *res)
{
  memset(in, 0, sizeof(*in));
  in->pv_name = "pvc-0b7f5b5e-8c1a-4a39-9f0e-1c2d3e4f5a6b";
  in->provisioner = "berth.io/nfs";
  in->claim = c;
  in->sclass = sc;
  in->result = res;
  in->requested_bytes = 1536ULL << 20;
  in->requested = "1536Mi";
}

static void test_pv_build(void **state)
{
  json_t *c = load("claim.json");
  json_t *sc = load("class.json");
  json_t *r = load("result.json");
  json_t *want = load("pv-expected.json");
  berth_provision_result_t res;
  prov_pv_input_t in;
  json_t *pv = NULL;
  berth_error_t err;
  char *got;

  (void)state;
  berth_provision_result_init(&res);
  res.source = json_incref(json_object_get(r, "source"));
  res.annotations = json_incref(json_object_get(r, "annotations"));
  res.node_affinity = json_incref(json_object_get(r, "node_affinity"));
  res.capacity_bytes = 1536ULL << 20;
  fill_input(&in, c, sc, &res);
  assert_int_equal(prov_pv_build(&in, &pv, &err), BERTH_OK);
  if (!json_equal(pv, want)) {
    got = json_dumps(pv, JSON_INDENT(1) | JSON_SORT_KEYS);
    fail_msg("PV differs from pv-expected.json:\n%s", got);
  }
  json_decref(pv);

  /* A larger volume than asked: its own size; Retain: no finalizer. */
  res.capacity_bytes = 2ULL << 30;
  json_object_set_new(sc, "reclaimPolicy", json_string("Retain"));
  assert_int_equal(prov_pv_build(&in, &pv, &err), BERTH_OK);
  assert_string_equal(
      json_string_value(json_object_get(
          json_object_get(json_object_get(pv, "spec"), "capacity"), "storage")),
      "2Gi");
  assert_null(json_object_get(json_object_get(pv, "metadata"), "finalizers"));
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(pv, "spec"),
                                        "persistentVolumeReclaimPolicy")),
      "Retain");
  json_decref(pv);
  berth_provision_result_cleanup(&res);
  json_decref(c);
  json_decref(sc);
  json_decref(r);
  json_decref(want);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_claim_fields),
      cmocka_unit_test(test_finalizer_edit),
      cmocka_unit_test(test_class_fields),
      cmocka_unit_test(test_pv_build),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
