/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: what berthctl asks of the backends without a server
 * (provisioner/backends/inspect.c and the pure parts of nfs_inspect.c,
 * nfs_orphans.c and ebs.c): the registry's inspect operations, which
 * backend a PV's annotations name, the volume and orphan lists, where an
 * NFS volume's directory is, which directories look like volumes, and an
 * EBS PV's disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "backends/ebs.h"
#include "backends/efs.h"
#include "backends/inspect.h"
#include "backends/nfs.h"
#include "backends/nfs_int.h"

static json_t *load(const char *text)
{
  json_t *j = json_loads(text, 0, NULL);

  assert_non_null(j);
  return j;
}

/* Every backend in the registry serves berthctl, with the operations
 * that are not optional. */
static void test_registry_inspects(void **state)
{
  size_t i;

  (void)state;
  for (i = 0; berth_backends[i] != NULL; i++) {
    const berth_inspect_ops_t *in = berth_backends[i]->inspect;

    assert_true(berth_backend_can_inspect(berth_backends[i]));
    assert_non_null(in->annotation_prefix);
    assert_non_null(in->open);
    assert_non_null(in->close);
    assert_non_null(in->volume);
    assert_non_null(in->scan);
    assert_non_null(in->remove);
    assert_non_null(in->check);
    /* Attach is for the backends that attach, and only for them. */
    assert_int_equal(in->attach != NULL,
                     (berth_backend_ops_caps(berth_backends[i]) &
                      BERTH_BACKEND_CAP_ATTACH) != 0);
  }
  assert_false(berth_backend_can_inspect(NULL));
}

static void test_open_without_inspect(void **state)
{
  berth_backend_ops_t bare;
  berth_inspect_env_t env;
  berth_inspector_t *in = NULL;
  berth_error_t err;

  (void)state;
  memset(&bare, 0, sizeof(bare));
  memset(&env, 0, sizeof(env));
  bare.name = "bare";
  assert_int_equal(berth_inspector_open(&bare, &env, &in, &err), BERTH_EPERM);
  assert_non_null(strstr(err.message, "bare"));
  assert_null(in);
  berth_inspector_close(NULL);
}

static void test_annotated_backend(void **state)
{
  json_t *nfs = load("{\"metadata\":{\"annotations\":{\"a\":\"b\","
                     "\"nfs.berth.io/directory\":\"d\"}}}");
  json_t *ebs = load("{\"metadata\":{\"annotations\":{"
                     "\"ebs.berth.io/volume-id\":\"vol-1\"}}}");
  json_t *efs = load("{\"metadata\":{\"annotations\":{"
                     "\"efs.berth.io/access-point-id\":\"fsap-1\"}}}");
  json_t *none = load("{\"metadata\":{\"annotations\":{"
                      "\"nfs.berth.io\":\"x\",\"berth.io/cloned-from\":"
                      "\"a/b\"}}}");

  (void)state;
  assert_ptr_equal(berth_inspect_annotated_backend(nfs),
                   &berth_backend_nfs_ops);
  assert_ptr_equal(berth_inspect_annotated_backend(ebs),
                   &berth_backend_ebs_ops);
  assert_ptr_equal(berth_inspect_annotated_backend(efs),
                   &berth_backend_efs_ops);
  assert_null(berth_inspect_annotated_backend(none));
  assert_null(berth_inspect_annotated_backend(NULL));
  json_decref(nfs);
  json_decref(ebs);
  json_decref(efs);
  json_decref(none);
}

static void test_state_names(void **state)
{
  (void)state;
  assert_string_equal(berth_volume_state_name(BERTH_VOLUME_PRESENT), "exists");
  assert_string_equal(berth_volume_state_name(BERTH_VOLUME_MISSING), "missing");
  assert_string_equal(berth_volume_state_name(BERTH_VOLUME_ERROR), "error");
  assert_string_equal(berth_volume_state_name(BERTH_VOLUME_UNKNOWN), "unknown");
}

/* The list grows past its first allocation and frees every string (ASan
 * finds a leak otherwise). */
static void test_orphans_list(void **state)
{
  berth_orphans_t list;
  berth_volume_info_t info;
  size_t i;

  (void)state;
  memset(&list, 0, sizeof(list));
  for (i = 0; i < 40; i++) {
    berth_orphan_t *o = berth_orphans_add(&list);

    assert_non_null(o);
    assert_null(o->name);
    o->kind = strdup("directory");
    o->name = strdup("x");
    o->claim = strdup("ns/c");
  }
  assert_int_equal(list.n, 40);
  assert_string_equal(list.items[39].claim, "ns/c");
  berth_orphans_cleanup(&list);
  assert_int_equal(list.n, 0);
  assert_null(list.items);
  berth_orphans_cleanup(NULL);

  berth_volume_info_init(&info);
  info.source = strdup("s");
  info.details = json_object();
  berth_inspect_detail(info.details, "A", "1");
  berth_inspect_detail(info.details, "B", NULL);
  assert_int_equal(json_object_size(info.details), 1);
  berth_volume_info_cleanup(&info);
  assert_null(info.source);
}

static void test_env_helpers(void **state)
{
  json_t *classes = load("[{\"metadata\":{\"name\":\"a\"},\"parameters\":"
                         "{\"k\":\"v\"}},{\"metadata\":{\"name\":\"b\"}}]");
  json_t *pvs = load("[{\"metadata\":{\"name\":\"pvc-1\"}}]");
  berth_inspect_env_t env;

  (void)state;
  memset(&env, 0, sizeof(env));
  env.classes = classes;
  env.pvs = pvs;
  env.now_s = 1000;
  env.min_age_s = 300;
  assert_non_null(berth_inspect_class(&env, "b"));
  assert_null(berth_inspect_class(&env, "c"));
  assert_null(berth_inspect_class(&env, NULL));
  assert_non_null(berth_inspect_pv(&env, "pvc-1"));
  assert_null(berth_inspect_pv(&env, "pvc-2"));
  assert_non_null(
      berth_inspect_class_parameters(berth_inspect_class(&env, "a")));
  assert_null(berth_inspect_class_parameters(berth_inspect_class(&env, "b")));
  assert_null(berth_inspect_class_parameters(NULL));
  /* Younger than --min-age: left alone. */
  assert_true(berth_inspect_recent(&env, 701));
  assert_false(berth_inspect_recent(&env, 700));
  assert_false(berth_inspect_recent(&env, 0));
  /* No callbacks: warnings go nowhere, without a crash. */
  berth_inspect_warn(&env, "x %d", 1);
  berth_inspect_progress(&env, NULL);
  json_decref(classes);
  json_decref(pvs);
}

static void target_ok(const json_t *defaults, const char *pv_text,
                      const char *class_text, const char *url, const char *dir)
{
  json_t *pv = load(pv_text);
  json_t *sclass = class_text != NULL ? load(class_text) : NULL;
  char *u = NULL;
  char *d = NULL;
  berth_error_t err;

  berth_error_clear(&err);
  assert_int_equal(berth__nfsi_pv_target(defaults, pv, sclass, &u, &d, &err),
                   BERTH_OK);
  assert_string_equal(u, url);
  assert_string_equal(d, dir);
  free(u);
  free(d);
  json_decref(pv);
  json_decref(sclass);
}

static berth_status_t target_fails(const json_t *defaults, const char *pv_text,
                                   const char *class_text, const char *want)
{
  json_t *pv = load(pv_text);
  json_t *sclass = class_text != NULL ? load(class_text) : NULL;
  char *u = NULL;
  char *d = NULL;
  berth_error_t err;
  berth_status_t st;

  berth_error_clear(&err);
  st = berth__nfsi_pv_target(defaults, pv, sclass, &u, &d, &err);
  assert_int_not_equal(st, BERTH_OK);
  assert_null(u);
  assert_null(d);
  assert_non_null(strstr(err.message, want));
  json_decref(pv);
  json_decref(sclass);
  return st;
}

/* berth's PVs say where they are; nfs-subdir's are found below their
 * class's export, or the default one, and nowhere else. */
static void test_nfs_pv_target(void **state)
{
  json_t *defaults = load("{\"url\":\"nfs://filer/srv\"}");

  (void)state;
  target_ok(NULL,
            "{\"metadata\":{\"annotations\":{\"nfs.berth.io/url\":"
            "\"nfs://h/e\",\"nfs.berth.io/directory\":\"a/b\"}}}",
            NULL, "nfs://h/e", "a/b");
  target_ok(NULL,
            "{\"spec\":{\"nfs\":{\"server\":\"H\",\"path\":\"/e/ns-c-pvc/\"}}}",
            "{\"metadata\":{\"name\":\"c\"},\"parameters\":{\"server\":"
            "\"h\",\"share\":\"/e\"}}",
            "nfs://h/e", "ns-c-pvc");
  target_ok(defaults,
            "{\"spec\":{\"nfs\":{\"server\":\"filer\",\"path\":"
            "\"/srv/x/y\"}}}",
            NULL, "nfs://filer/srv", "x/y");
  /* The export itself, a sibling export, another server: not below. */
  target_fails(defaults,
               "{\"spec\":{\"nfs\":{\"server\":\"filer\",\"path\":\"/srv/\"}}}",
               NULL, "is not below");
  target_fails(
      defaults,
      "{\"spec\":{\"nfs\":{\"server\":\"filer\",\"path\":\"/srv2/x\"}}}", NULL,
      "is not below");
  target_fails(
      defaults,
      "{\"spec\":{\"nfs\":{\"server\":\"other\",\"path\":\"/srv/x\"}}}", NULL,
      "is not below");
  target_fails(NULL, "{\"spec\":{}}", NULL, "neither");
  /* No default and a class without an export: berthctl says how to tell
   * it. */
  assert_int_equal(
      target_fails(NULL,
                   "{\"spec\":{\"nfs\":{\"server\":\"h\",\"path\":\"/e/x\"}}}",
                   "{\"metadata\":{\"name\":\"c\"}}", "--nfs-url"),
      BERTH_ENOTFOUND);
  json_decref(defaults);
}

static void test_nfs_below_export(void **state)
{
  berth_backend_nfs_export_t root = {"nfs://h/", "h", "/"};
  berth_backend_nfs_export_t e = {"nfs://h/e", "h", "/e"};

  (void)state;
  assert_string_equal(berth__nfsi_below_export(&root, "H", "/a/b"), "a/b");
  assert_null(berth__nfsi_below_export(&root, "h", "/"));
  assert_string_equal(berth__nfsi_below_export(&e, "h", "/e/a"), "a");
  assert_null(berth__nfsi_below_export(&e, "h", "/ea"));
  assert_null(berth__nfsi_below_export(&e, "h", "/e"));
  assert_null(berth__nfsi_below_export(&e, NULL, "/e/a"));
}

static void test_nfs_names(void **state)
{
  char *t;

  (void)state;
  assert_int_equal(berth__nfsi_levels(NULL), 1);
  assert_int_equal(berth__nfsi_levels(""), 1);
  assert_int_equal(berth__nfsi_levels("a"), 1);
  assert_int_equal(berth__nfsi_levels("a/b/"), 2);
  assert_int_equal(berth__nfsi_levels("${.PVC.namespace}/${.PVC.name}/x"), 3);
  assert_true(berth__nfsi_looks_like_volume(
      "ns-c-pvc-0a1b2c3d-0000-4fff-8aaa-bbbbccccdddd"));
  assert_true(berth__nfsi_looks_like_volume(
      "pvc-0a1b2c3d-0000-4fff-8aaa-bbbbccccdddd"));
  assert_false(berth__nfsi_looks_like_volume(
      "ns-c-pvc-0A1B2C3D-0000-4fff-8aaa-bbbbccccdddd"));
  assert_false(berth__nfsi_looks_like_volume(
      "ns-c-pvX-0a1b2c3d-0000-4fff-8aaa-bbbbccccdddd"));
  assert_false(berth__nfsi_looks_like_volume(
      "ns-c-pvc-0a1b2c3d00000-4fff-8aaa-bbbbccccdddd"));
  assert_false(berth__nfsi_looks_like_volume("data"));
  t = berth__nfsi_trim_path("a/b//", 5);
  assert_string_equal(t, "a/b");
  free(t);
  t = berth__nfsi_trim_path("", 0);
  assert_string_equal(t, "/");
  free(t);
}

static void test_ebs_volume_id(void **state)
{
  json_t *csi = load("{\"spec\":{\"csi\":{\"driver\":\"ebs.csi.aws.com\","
                     "\"volumeHandle\":\"vol-1\"}}}");
  json_t *intree = load("{\"spec\":{\"awsElasticBlockStore\":{\"volumeID\":"
                        "\"aws://us-east-1a/vol-2\"}}}");
  json_t *ann = load("{\"metadata\":{\"annotations\":{"
                     "\"ebs.berth.io/volume-id\":\"vol-3\"}}}");
  json_t *other = load("{\"spec\":{\"csi\":{\"driver\":\"efs.csi.aws.com\","
                       "\"volumeHandle\":\"fs-1::fsap-1\"}}}");

  (void)state;
  assert_string_equal(berth_ebs_pv_volume_id(csi), "vol-1");
  assert_string_equal(berth_ebs_pv_volume_id(intree), "vol-2");
  assert_string_equal(berth_ebs_pv_volume_id(ann), "vol-3");
  assert_null(berth_ebs_pv_volume_id(other));
  /* What berthctl attach reads: the same disk. */
  assert_ptr_equal(berth_backend_ebs_inspect.attach_volume,
                   berth_ebs_pv_volume_id);
  json_decref(csi);
  json_decref(intree);
  json_decref(ann);
  json_decref(other);
}

static void test_ebs_attach_node(void **state)
{
  json_t *aws = load("{\"spec\":{\"providerID\":"
                     "\"aws:///us-east-1a/i-0abc\"}}");
  json_t *kind = load("{\"spec\":{\"providerID\":\"kind://docker/n\"}}");
  char out[64];

  (void)state;
  assert_true(berth_backend_ebs_inspect.attach_node(aws, out, sizeof(out)));
  assert_string_equal(out, "i-0abc");
  assert_false(berth_backend_ebs_inspect.attach_node(kind, out, sizeof(out)));
  json_decref(aws);
  json_decref(kind);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_inspects),
      cmocka_unit_test(test_open_without_inspect),
      cmocka_unit_test(test_annotated_backend),
      cmocka_unit_test(test_state_names),
      cmocka_unit_test(test_orphans_list),
      cmocka_unit_test(test_env_helpers),
      cmocka_unit_test(test_nfs_pv_target),
      cmocka_unit_test(test_nfs_below_export),
      cmocka_unit_test(test_nfs_names),
      cmocka_unit_test(test_ebs_volume_id),
      cmocka_unit_test(test_ebs_attach_node),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
