/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-provisioner's informer transforms (provisioner/trim.c):
 * which claims and PVs are ours and kept, which are left out, and what is
 * cut from what is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "berth/k8s.h"
#include "claim.h"
#include "trim.h"

#define OURS "berth.io/nfs"
#define LAST "kubectl.kubernetes.io/last-applied-configuration"

static bool is_ours(void *ctx, const char *name)
{
  (void)ctx;
  return name != NULL && strcmp(name, OURS) == 0;
}

/* The claims cache holds "team/ours" only. */
static bool claim_cached(void *ctx, const char *ns, const char *name)
{
  (void)ctx;
  return strcmp(ns, "team") == 0 && strcmp(name, "ours") == 0;
}

#define OLD "k8s-sigs.io/nfs-subdir-external-provisioner"

/* --adopt-provisioner OLD. */
static bool is_adopted(void *ctx, const char *name)
{
  (void)ctx;
  return name != NULL && strcmp(name, OLD) == 0;
}

static prov_trim_t trim = {is_ours, claim_cached, is_adopted, NULL};

/* A claim with the given storage-provisioner annotations (NULL: none) and
 * finalizer (NULL: none), as the server sends it. */
static json_t *claim(const char *ga, const char *beta, const char *fin)
{
  json_t *c = json_pack(
      "{s:{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:[{s:s}], s:[s]}, "
      "s:{s:s, s:[s]}, s:{s:s}}",
      "metadata", "name", "c", "namespace", "team", "uid", "u1",
      "creationTimestamp", "2026-01-02T03:04:05Z", "annotations", LAST,
      "{\"big\": true}", "owner", "db", "labels", "tier", "gold",
      "managedFields", "manager", "kubectl", "finalizers",
      "kubernetes.io/pvc-protection", "spec", "storageClassName", "nfs",
      "accessModes", "ReadWriteOnce", "status", "phase", "Pending");
  json_t *ann = json_object_get(json_object_get(c, "metadata"), "annotations");

  if (ga != NULL)
    json_object_set_new(ann, PROV_ANN_STORAGE_PROVISIONER, json_string(ga));
  if (beta != NULL)
    json_object_set_new(ann, PROV_ANN_STORAGE_PROVISIONER_BETA,
                        json_string(beta));
  if (fin != NULL)
    json_array_append_new(
        json_object_get(json_object_get(c, "metadata"), "finalizers"),
        json_string(fin));
  return c;
}

/* Run the transform; true when it kept the object. */
static bool kept(json_t *(*fn)(void *, json_t *), json_t *obj)
{
  json_t *t = fn(&trim, obj);
  bool k = t != NULL;

  if (t != NULL)
    assert_ptr_equal(t, obj);
  json_decref(t);
  json_decref(obj);
  return k;
}

static void test_claim_ours(void **state)
{
  json_t *c = claim(OURS, OURS, NULL);
  json_t *t;
  json_t *meta;

  (void)state;
  t = prov_trim_claim(&trim, c);
  assert_non_null(t);
  meta = json_object_get(t, "metadata");
  /* Cut: what no reconciler reads. */
  assert_null(json_object_get(meta, "managedFields"));
  assert_null(json_object_get(json_object_get(meta, "annotations"), LAST));
  /* Of the status only the phase, and the creation time: the pending
   * claims' metrics read them. */
  assert_string_equal(
      json_string_value(json_object_get(meta, "creationTimestamp")),
      "2026-01-02T03:04:05Z");
  assert_int_equal(json_object_size(json_object_get(t, "status")), 1);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(t, "status"), "phase")),
      "Pending");
  /* Kept: what pathPattern, the reconcilers and the backends read. */
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(meta, "annotations"), "owner")),
                      "db");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(meta, "labels"), "tier")),
                      "gold");
  assert_string_equal(json_string_value(json_object_get(meta, "uid")), "u1");
  assert_int_equal(json_array_size(json_object_get(meta, "finalizers")), 1);
  assert_string_equal(prov_claim_class(t), "nfs");
  assert_non_null(json_object_get(json_object_get(t, "spec"), "accessModes"));
  json_decref(t);
  json_decref(c);
}

static void test_claim_which(void **state)
{
  (void)state;
  assert_true(kept(prov_trim_claim, claim(NULL, OURS, NULL)));
  assert_false(kept(prov_trim_claim, claim(NULL, NULL, NULL)));
  assert_false(kept(prov_trim_claim, claim("example.com/other", NULL, NULL)));
  /* The GA annotation wins over the beta one, as the reconciler reads. */
  assert_false(kept(prov_trim_claim, claim("example.com/other", OURS, NULL)));
  /* Our guard keeps a claim whose class moved away: it needs cleaning. */
  assert_true(kept(prov_trim_claim,
                   claim("example.com/other", NULL, PROV_CLAIM_FINALIZER)));
}

static json_t *volume(const char *by, const char *gid, const char *ref_ns,
                      const char *ref_name)
{
  json_t *v =
      json_pack("{s:{s:s, s:{s:s}, s:[{s:s}]}, s:{s:s, s:{s:s}}, "
                "s:{s:s, s:s}}",
                "metadata", "name", "pv1", "annotations", LAST, "{}",
                "managedFields", "manager", "x", "spec", "storageClassName",
                "nfs", "capacity", "storage", "1Gi", "status", "phase", "Bound",
                "lastPhaseTransitionTime", "2026-01-02T03:04:05Z");
  json_t *ann = json_object_get(json_object_get(v, "metadata"), "annotations");

  if (by != NULL)
    json_object_set_new(ann, PROV_ANN_PROVISIONED_BY, json_string(by));
  if (gid != NULL)
    json_object_set_new(ann, "pv.beta.kubernetes.io/gid", json_string(gid));
  if (ref_ns != NULL)
    json_object_set_new(
        json_object_get(v, "spec"), "claimRef",
        json_pack("{s:s, s:s}", "namespace", ref_ns, "name", ref_name));
  return v;
}

static void test_volume_which(void **state)
{
  json_t *v = volume(OURS, NULL, NULL, NULL);
  json_t *t;

  (void)state;
  t = prov_trim_volume(&trim, v);
  assert_non_null(t);
  assert_null(json_object_get(json_object_get(t, "metadata"), "managedFields"));
  assert_null(json_object_get(
      json_object_get(json_object_get(t, "metadata"), "annotations"), LAST));
  assert_non_null(json_object_get(json_object_get(t, "spec"), "capacity"));
  /* The phase is read (reclaim, usage); its time is not. */
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(t, "status"), "phase")),
      "Bound");
  assert_null(
      json_object_get(json_object_get(t, "status"), "lastPhaseTransitionTime"));
  json_decref(t);
  json_decref(v);
  assert_false(
      kept(prov_trim_volume, volume("example.com/other", NULL, NULL, NULL)));
  assert_false(kept(prov_trim_volume, volume(NULL, NULL, NULL, NULL)));
  /* Bound to one of our claims: ours, whoever made it. */
  assert_true(kept(prov_trim_volume,
                   volume("example.com/other", NULL, "team", "ours")));
  assert_false(kept(prov_trim_volume,
                    volume("example.com/other", NULL, "team", "theirs")));
  /* A recorded gid counts against the class's range. */
  assert_true(kept(prov_trim_volume, volume(NULL, "5000", NULL, NULL)));
  /* Another tool's PV that we adopt, and one handed over to us. */
  assert_true(kept(prov_trim_volume, volume(OLD, NULL, NULL, NULL)));
  v = volume("example.com/other", NULL, NULL, NULL);
  json_object_set_new(
      json_object_get(json_object_get(v, "metadata"), "annotations"),
      PROV_ANN_MIGRATED_TO, json_string(OURS));
  assert_true(kept(prov_trim_volume, v));
  /* An in-tree volume migrated to a tool we adopt: the PV controller
   * writes migrated-to with that tool's name, not ours. */
  v = volume("kubernetes.io/aws-ebs", NULL, NULL, NULL);
  json_object_set_new(
      json_object_get(json_object_get(v, "metadata"), "annotations"),
      PROV_ANN_MIGRATED_TO, json_string(OLD));
  assert_true(kept(prov_trim_volume, v));
}

static void test_class(void **state)
{
  json_t *c =
      json_pack("{s:{s:s, s:{s:s}}, s:s}", "metadata", "name", "nfs",
                "annotations", LAST, "{}", "provisioner", "example.com/other");
  json_t *t = prov_trim_class(&trim, c);

  (void)state;
  /* Every class is kept (a claim's class decides); the annotations object
   * goes when the last-applied configuration was all it held. */
  assert_non_null(t);
  assert_null(json_object_get(json_object_get(t, "metadata"), "annotations"));
  assert_string_equal(prov_class_provisioner(t), "example.com/other");
  json_decref(t);
  json_decref(c);
}

/* A VolumeAttachment of the given attacher, as the attach/detach
 * controller makes it and an attacher completes it. */
static json_t *attachment(const char *attacher)
{
  return json_pack(
      "{s:{s:s, s:s, s:s, s:[{s:s}], s:[s]}, s:{s:s, s:s, s:{s:s}}, "
      "s:{s:b, s:{s:s}}}",
      "metadata", "name", "csi-abc", "uid", "u9", "resourceVersion", "42",
      "managedFields", "manager", "kube-controller-manager", "finalizers",
      "external-attacher/ebs-csi-aws-com", "spec", "attacher", attacher,
      "nodeName", "node-a", "source", "persistentVolumeName", "pv-1", "status",
      "attached", 1, "attachmentMetadata", "devicePath", "/dev/xvdaa");
}

static void test_attachment(void **state)
{
  json_t *va = attachment("ebs.csi.aws.com");
  json_t *t = prov_trim_attachment("ebs.csi.aws.com", va);
  json_t *other = attachment("csi.example.com");

  (void)state;
  /* Ours: what the attacher queues by (name, attacher) and what the
   * informer keys and compares by (uid, resourceVersion), nothing more. */
  assert_non_null(t);
  assert_string_equal(berth_k8s_obj_name(t), "csi-abc");
  assert_string_equal(berth_k8s_obj_uid(t), "u9");
  assert_string_equal(berth_k8s_obj_resource_version(t), "42");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(t, "spec"), "attacher")),
                      "ebs.csi.aws.com");
  assert_int_equal(json_object_size(t), 2);
  assert_int_equal(json_object_size(json_object_get(t, "metadata")), 3);
  assert_int_equal(json_object_size(json_object_get(t, "spec")), 1);
  /* Another attacher's: not cached. */
  assert_null(prov_trim_attachment("ebs.csi.aws.com", other));
  json_decref(t);
  json_decref(va);
  json_decref(other);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_claim_ours),   cmocka_unit_test(test_claim_which),
      cmocka_unit_test(test_volume_which), cmocka_unit_test(test_class),
      cmocka_unit_test(test_attachment),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
