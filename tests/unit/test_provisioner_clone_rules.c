/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the rules a clone's source must follow
 * (provisioner/clone_check.c), in the external provisioner's words. The
 * bed's API server drops dataSourceRef.namespace without the
 * CrossNamespaceVolumeDataSource gate, so the cross-namespace refusal is
 * checked here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clone.h"

#define PROV "berth.io/nfs"

static json_t *obj(const char *text)
{
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);

  if (j == NULL)
    fail_msg("fixture: %s", e.text);
  return j;
}

static json_t *new_claim(const char *ns, const char *cls, const char *size)
{
  char text[512];

  snprintf(text, sizeof(text),
           "{\"metadata\":{\"name\":\"dst\",\"namespace\":\"%s\","
           "\"uid\":\"u-dst\"},\"spec\":{\"storageClassName\":\"%s\","
           "\"resources\":{\"requests\":{\"storage\":\"%s\"}}}}",
           ns, cls, size);
  return obj(text);
}

static json_t *source(const char *phase, const char *cls, const char *size,
                      const char *extra_meta)
{
  char text[640];

  snprintf(text, sizeof(text),
           "{\"metadata\":{\"name\":\"src\",\"namespace\":\"default\","
           "\"uid\":\"u-src\"%s},\"spec\":{\"storageClassName\":\"%s\","
           "\"volumeName\":\"pvc-u-src\",\"resources\":{\"requests\":"
           "{\"storage\":\"%s\"}}},\"status\":{\"phase\":\"%s\"}}",
           extra_meta, cls, size, phase);
  return obj(text);
}

static json_t *volume(const char *by, const char *uid, const char *phase,
                      const char *mode)
{
  char text[640];

  snprintf(text, sizeof(text),
           "{\"metadata\":{\"name\":\"pvc-u-src\",\"annotations\":"
           "{\"pv.kubernetes.io/provisioned-by\":\"%s\"}},\"spec\":"
           "{\"volumeMode\":\"%s\",\"claimRef\":{\"name\":\"src\","
           "\"namespace\":\"default\",\"uid\":\"%s\"}},\"status\":"
           "{\"phase\":\"%s\"}}",
           by, mode, uid, phase);
  return obj(text);
}

static void refused(berth_status_t st, const berth_error_t *err,
                    const char *words)
{
  assert_int_equal(st, BERTH_EINVAL);
  if (strstr(err->message, words) == NULL)
    fail_msg("message \"%s\" does not say \"%s\"", err->message, words);
}

static void test_kind(void **state)
{
  json_t *a = obj("{\"kind\":\"PersistentVolumeClaim\",\"name\":\"x\"}");
  json_t *b = obj("{\"kind\":\"PersistentVolumeClaim\",\"apiGroup\":\"\","
                  "\"name\":\"x\"}");
  json_t *c = obj("{\"kind\":\"VolumeSnapshot\",\"apiGroup\":"
                  "\"snapshot.storage.k8s.io\",\"name\":\"x\"}");
  json_t *d = obj("{\"kind\":\"PersistentVolumeClaim\",\"apiGroup\":"
                  "\"example.com\",\"name\":\"x\"}");

  (void)state;
  assert_true(prov_clone_is_claim_source(a));
  assert_true(prov_clone_is_claim_source(b));
  assert_false(prov_clone_is_claim_source(c));
  assert_false(prov_clone_is_claim_source(d));
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(d);
}

static void test_ref(void **state)
{
  json_t *claim = new_claim("default", "nfs", "1Gi");
  json_t *other = obj("{\"kind\":\"PersistentVolumeClaim\",\"name\":\"src\","
                      "\"namespace\":\"team-b\"}");
  json_t *same = obj("{\"kind\":\"PersistentVolumeClaim\",\"name\":\"src\","
                     "\"namespace\":\"default\"}");
  json_t *noname = obj("{\"kind\":\"PersistentVolumeClaim\"}");
  berth_error_t err;

  (void)state;
  refused(prov_clone_check_ref(claim, "dataSourceRef", other, &err), &err,
          "CrossNamespaceVolumeDataSource");
  refused(prov_clone_check_ref(claim, "dataSourceRef", other, &err), &err,
          "namespace team-b");
  assert_int_equal(prov_clone_check_ref(claim, "dataSourceRef", same, &err),
                   BERTH_OK);
  refused(prov_clone_check_ref(claim, "dataSource", noname, &err), &err,
          "spec.dataSource has no valid name");
  json_decref(claim);
  json_decref(other);
  json_decref(same);
  json_decref(noname);
}

static void test_source(void **state)
{
  json_t *claim = new_claim("default", "nfs", "2Gi");
  json_t *ok = source("Bound", "nfs", "2Gi", "");
  json_t *pending = source("Pending", "nfs", "1Gi", "");
  json_t *going = source("Bound", "nfs", "1Gi",
                         ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"");
  json_t *other = source("Bound", "fast", "1Gi", "");
  json_t *bigger = source("Bound", "nfs", "3Gi", "");
  berth_error_t err;

  (void)state;
  assert_int_equal(prov_clone_check_source(claim, "src", ok, &err), BERTH_OK);
  refused(prov_clone_check_source(claim, "src", pending, &err), &err,
          "must have a status of Bound");
  refused(prov_clone_check_source(claim, "src", going, &err), &err,
          "currently being deleted");
  refused(prov_clone_check_source(claim, "src", other, &err), &err,
          "Source is in fast, but new PVC is in nfs");
  refused(prov_clone_check_source(claim, "src", bigger, &err), &err,
          "requested 2Gi but source is 3Gi");
  json_object_del(json_object_get(ok, "spec"), "volumeName");
  refused(prov_clone_check_source(claim, "src", ok, &err), &err,
          "volume name is empty");
  json_decref(claim);
  json_decref(ok);
  json_decref(pending);
  json_decref(going);
  json_decref(other);
  json_decref(bigger);
}

static void test_pv(void **state)
{
  json_t *claim = new_claim("default", "nfs", "2Gi");
  json_t *src = source("Bound", "nfs", "2Gi", "");
  json_t *ok = volume(PROV, "u-src", "Bound", "Filesystem");
  json_t *foreign = volume("nfs-subdir", "u-src", "Bound", "Filesystem");
  json_t *stolen = volume(PROV, "u-other", "Bound", "Filesystem");
  json_t *released = volume(PROV, "u-src", "Released", "Filesystem");
  json_t *block = volume(PROV, "u-src", "Bound", "Block");
  berth_error_t err;

  (void)state;
  assert_int_equal(prov_clone_check_pv(claim, "src", src, ok, PROV, &err),
                   BERTH_OK);
  refused(prov_clone_check_pv(claim, "src", src, NULL, PROV, &err), &err,
          "not found");
  refused(prov_clone_check_pv(claim, "src", src, foreign, PROV, &err), &err,
          "not provisioned by this provisioner");
  refused(prov_clone_check_pv(claim, "src", src, stolen, PROV, &err), &err,
          "bound to another claim");
  refused(prov_clone_check_pv(claim, "src", src, released, PROV, &err), &err,
          "not Bound");
  refused(prov_clone_check_pv(claim, "src", src, block, PROV, &err), &err,
          "same volume mode");
  json_decref(claim);
  json_decref(src);
  json_decref(ok);
  json_decref(foreign);
  json_decref(stolen);
  json_decref(released);
  json_decref(block);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kind),
      cmocka_unit_test(test_ref),
      cmocka_unit_test(test_source),
      cmocka_unit_test(test_pv),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
