/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the backend vtable (provisioner/backends/backend.c) with
 * the NFS backend, where no server is needed: refusals must come before
 * any I/O. The export named here is a closed port, so any attempt to
 * reach it would fail with BERTH_ETRANSPORT instead of BERTH_EINVAL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/nfs.h"

#include "test_backend_data.c"

/* Port 1 on loopback: nothing listens there. */
#define CLOSED_URL "nfs://127.0.0.1/export?nfsport=1&mountport=1"

static berth_backend_t *make_backend(void)
{
  berth_backend_nfs_config_t cfg;
  berth_backend_t *be = NULL;
  json_t *defaults = json_pack("{s:s}", "url", CLOSED_URL);
  berth_error_t err;

  memset(&cfg, 0, sizeof(cfg));
  cfg.defaults = defaults;
  cfg.timeout_ms = 1000;
  assert_int_equal(berth_backend_nfs_create(&cfg, &be, &err), BERTH_OK);
  json_decref(defaults);
  return be;
}

static void init_req(berth_provision_request_t *req, json_t *claim,
                     json_t *params)
{
  memset(req, 0, sizeof(*req));
  req->claim_namespace = "team-a";
  req->claim_name = "data";
  req->claim_uid = "1234";
  req->pv_name = "pvc-1234";
  req->claim = claim;
  req->parameters = params;
  req->requested_bytes = 1 << 30;
  req->access_modes = BERTH_ACCESS_RWX;
}

/* Every hostile annotation is refused with BERTH_EINVAL, before any
 * connection. */
static void test_hostile_claims_no_io(void **state)
{
  berth_backend_t *be = make_backend();
  json_t *params = json_pack("{s:s}", "pathPattern",
                             "${.PVC.namespace}/${.PVC.annotations.dir}");
  berth_provision_request_t req;
  berth_provision_result_t res;
  tbd_file_t f;
  size_t i;

  (void)state;
  tbd_load("hostile-values.txt", &f);
  for (i = 0; i < f.n; i++) {
    json_t *claim = json_pack("{s:{s:{s:s%}}}", "metadata", "annotations",
                              "dir", f.lines[i].s, f.lines[i].len);
    berth_error_t err;
    berth_status_t st;

    assert_non_null(claim);
    init_req(&req, claim, params);
    berth_provision_result_init(&res);
    berth_error_clear(&err);
    st = berth_backend_provision(be, &req, &res, &err);
    if (st != BERTH_EINVAL)
      fail_msg("line %zu: %s: %s", i + 1, berth_status_name(st), err.message);
    assert_null(res.source);
    assert_null(res.annotations);
    assert_true(tbd_printable(err.message));
    json_decref(claim);
  }
  tbd_free(&f);
  /* Claims that are not what the API server sends. */
  {
    json_t *claim = json_pack("{s:{s:s}}", "metadata", "annotations", "x");
    berth_error_t err;

    init_req(&req, claim, params);
    assert_int_equal(berth_backend_provision(be, &req, &res, &err),
                     BERTH_EINVAL);
    json_decref(claim);
    init_req(&req, NULL, NULL);
    req.pv_name = "";
    assert_int_equal(berth_backend_provision(be, &req, &res, &err),
                     BERTH_EINVAL);
    assert_int_equal(berth_backend_provision(be, NULL, &res, &err),
                     BERTH_EINVAL);
  }
  json_decref(params);
  berth_backend_destroy(be);
}

/* A class that is not valid is refused by provision too. */
static void test_invalid_class_no_io(void **state)
{
  berth_backend_t *be = make_backend();
  json_t *params = json_pack("{s:s}", "onDelete", "archive");
  berth_provision_request_t req;
  berth_provision_result_t res;
  berth_error_t err;

  (void)state;
  init_req(&req, NULL, params);
  berth_provision_result_init(&res);
  assert_int_equal(berth_backend_provision(be, &req, &res, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "onDelete"));
  json_decref(params);
  berth_backend_destroy(be);
}

/* A PV whose recorded directory would leave the export, or whose spec is
 * not below the class's export: refused before any I/O. */
static void test_hostile_pvs_no_io(void **state)
{
  static const char *const dirs[] = {"../x", "/etc", "a/../../b", "",
                                     ".",    "a//b", NULL};
  berth_backend_t *be = make_backend();
  berth_delete_request_t dreq;
  berth_delete_outcome_t outcome = BERTH_DELETE_ABSENT;
  berth_usage_t usage;
  berth_error_t err;
  json_t *pv;
  size_t i;

  (void)state;
  for (i = 0; dirs[i] != NULL; i++) {
    pv = json_pack("{s:{s:s, s:{s:s, s:s}}}", "metadata", "name", "pvc-1",
                   "annotations", BERTH_NFS_ANN_URL, CLOSED_URL,
                   BERTH_NFS_ANN_DIR, dirs[i]);
    memset(&dreq, 0, sizeof(dreq));
    dreq.pv = pv;
    assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err),
                     BERTH_EINVAL);
    assert_int_equal(outcome, BERTH_DELETE_ABSENT); /* untouched */
    assert_int_equal(berth_backend_usage(be, pv, NULL, &usage, &err),
                     BERTH_EINVAL);
    json_decref(pv);
  }
  /* nfs-subdir PVs: spec.nfs must be below the class's export. */
  pv = json_pack("{s:{s:s}, s:{s:{s:s, s:s}}}", "metadata", "name", "pvc-1",
                 "spec", "nfs", "server", "127.0.0.1", "path", "/exportx/a");
  dreq.pv = pv;
  assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "not below"));
  json_decref(pv);
  pv = json_pack("{s:{s:s}, s:{s:{s:s, s:s}}}", "metadata", "name", "pvc-1",
                 "spec", "nfs", "server", "other", "path", "/export/a");
  dreq.pv = pv;
  assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err),
                   BERTH_EINVAL);
  json_decref(pv);
  pv =
      json_pack("{s:{s:s}, s:{s:{s:s, s:s}}}", "metadata", "name", "pvc-1",
                "spec", "nfs", "server", "127.0.0.1", "path", "/export/../etc");
  dreq.pv = pv;
  assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err),
                   BERTH_EINVAL);
  json_decref(pv);
  /* No spec.nfs at all. */
  pv = json_pack("{s:{s:s}}", "metadata", "name", "pvc-1");
  dreq.pv = pv;
  assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "spec.nfs"));
  json_decref(pv);
  berth_backend_destroy(be);
}

/* onDelete retain needs no server at all. */
static void test_retain_no_io(void **state)
{
  berth_backend_t *be = make_backend();
  berth_delete_request_t dreq;
  berth_delete_outcome_t outcome = BERTH_DELETE_ABSENT;
  berth_error_t err;
  json_t *pv;

  (void)state;
  pv =
      json_pack("{s:{s:s, s:{s:s, s:s, s:s}}}", "metadata", "name", "pvc-1",
                "annotations", BERTH_NFS_ANN_URL, CLOSED_URL, BERTH_NFS_ANN_DIR,
                "team-a-data-pvc-1", BERTH_NFS_ANN_ON_DELETE, "retain");
  memset(&dreq, 0, sizeof(dreq));
  dreq.pv = pv;
  assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err), BERTH_OK);
  assert_int_equal(outcome, BERTH_DELETE_RETAINED);
  /* A recorded policy that is not one. */
  json_object_set_new(
      json_object_get(json_object_get(pv, "metadata"), "annotations"),
      BERTH_NFS_ANN_ON_DELETE, json_string("shred"));
  assert_int_equal(berth_backend_delete(be, &dreq, &outcome, &err),
                   BERTH_EINVAL);
  json_decref(pv);
  berth_backend_destroy(be);
}

/* A reachable-looking but closed export: the error is a transport one, to
 * be retried, and says so. */
static void test_closed_export(void **state)
{
  berth_backend_t *be = make_backend();
  berth_provision_request_t req;
  berth_provision_result_t res;
  berth_error_t err;
  berth_status_t st;

  (void)state;
  init_req(&req, NULL, NULL);
  berth_provision_result_init(&res);
  st = berth_backend_provision(be, &req, &res, &err);
  if (st != BERTH_ETRANSPORT && st != BERTH_ETIMEOUT)
    fail_msg("closed export: %s: %s", berth_status_name(st), err.message);
  assert_null(res.source);
  berth_provision_result_cleanup(&res);
  berth_provision_result_cleanup(NULL);
  berth_backend_destroy(be);
}

/* Keys of the other tools are named in the refusal; the errors that send
 * a claim back to the scheduler are recognised. */
static void test_foreign_keys_and_reschedule(void **state)
{
  static const struct {
    const char *backend, *key, *word; /* word NULL: not foreign */
  } cases[] = {
      {"nfs", "type", "aws-ebs-csi-driver"},
      {"nfs", "KMSKEYID", "aws-ebs-csi-driver"},
      {"nfs", "tagSpecification_1", "aws-ebs-csi-driver"},
      {"nfs", "provisioningMode", "aws-efs-csi-driver"},
      {"ebs", "archiveOnDelete", "nfs-subdir"},
      {"ebs", "basePath", "aws-efs-csi-driver"},
      {"efs", "az", "cross-account"},
      {"efs", "iops", "aws-ebs-csi-driver"},
      {"ebs", "csi.storage.k8s.io/node-stage-secret-name", "secret"},
      {"ebs", "zones", "allowedTopologies"},
      {"ebs", "type", NULL},
      {"nfs", "pathPattern", NULL},
      {"efs", "archiveOnDelete", NULL},
      {"nfs", "colour", NULL},
  };
  berth_error_t err;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *got = berth_backend_foreign_key(cases[i].backend, cases[i].key);
    if (cases[i].word == NULL
            ? got != NULL
            : got == NULL || strstr(got, cases[i].word) == NULL)
      fail_msg("%s on %s: %s", cases[i].key, cases[i].backend,
               got != NULL ? got : "(not foreign)");
  }
  berth_error_clear(&err);
  assert_false(berth_backend_error_reschedules(&err));
  berth_error_set_reason(&err, "InsufficientVolumeCapacity");
  assert_true(berth_backend_error_reschedules(&err));
  berth_error_set_reason(&err, BERTH_REASON_NODE_CHOICE);
  assert_true(berth_backend_error_reschedules(&err));
  berth_error_set_reason(&err, "VolumeLimitExceeded");
  assert_false(berth_backend_error_reschedules(&err));
  assert_false(berth_backend_error_reschedules(NULL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_claims_no_io),
      cmocka_unit_test(test_invalid_class_no_io),
      cmocka_unit_test(test_hostile_pvs_no_io),
      cmocka_unit_test(test_retain_no_io),
      cmocka_unit_test(test_closed_export),
      cmocka_unit_test(test_foreign_keys_and_reschedule),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
