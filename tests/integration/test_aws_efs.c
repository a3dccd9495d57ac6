/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: libberth's EFS calls against the emulator: access
 * points (create, idempotency, describe, paging, delete), file systems,
 * mount targets, errors, and retries of EFS's 429 ThrottlingException.
 * Run under tests/bed/bed.py run aws. */
#include "test_aws_common.c"

#include "berth/aws_efs.h"

#define FS "fs-0123456789abcdef0"

typedef struct fixture {
  test_env_t env;
  berth_aws_options_t opts;
  berth_aws_t *aws;
} fixture_t;

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  berth_error_t err;

  assert_non_null(f);
  emulator_reset();
  test_env_static(&f->env);
  test_options(&f->opts, &f->env);
  if (berth_aws_create(&f->opts, &f->aws, &err) != BERTH_OK)
    fail_msg("berth_aws_create: %s", err.message);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;

  berth_aws_destroy(f->aws);
  test_env_free(&f->env);
  free(f);
  return 0;
}

static void test_access_points(void **state)
{
  fixture_t *f = *state;
  const uint32_t gids[] = {2000, 2001};
  const berth_aws_kv_t tags[] = {{"Name", "pvc-42"},
                                 {"efs.csi.aws.com/cluster", "true"}};
  berth_efs_create_access_point_params_t p;
  berth_efs_access_point_t ap, again;
  berth_efs_access_point_list_t l;
  berth_error_t err;

  memset(&p, 0, sizeof(p));
  p.client_token = "pvc-42";
  p.file_system_id = FS;
  p.set_posix_user = true;
  p.uid = 1000;
  p.gid = 1001;
  p.secondary_gids = gids;
  p.secondary_gid_count = 2;
  p.root_path = "/dynamic/pvc-42";
  p.set_creation_info = true;
  p.owner_uid = 1000;
  p.owner_gid = 1001;
  p.permissions = "0700";
  p.tags = tags;
  p.tag_count = 2;
  if (berth_efs_create_access_point(f->aws, &p, &ap, &err) != BERTH_OK)
    fail_msg("CreateAccessPoint: %s", err.message);
  assert_true(strncmp(ap.access_point_id, "fsap-", 5) == 0);
  assert_string_equal(ap.file_system_id, FS);
  assert_string_equal(ap.client_token, "pvc-42");
  assert_string_equal(ap.life_cycle_state, "available");
  assert_string_equal(ap.name, "pvc-42");
  assert_true(ap.has_posix_user && ap.posix_uid == 1000 &&
              ap.posix_gid == 1001);
  assert_int_equal(ap.secondary_gid_count, 2);
  assert_true(ap.secondary_gids[1] == 2001);
  assert_string_equal(ap.root_path, "/dynamic/pvc-42");
  assert_true(ap.has_creation_info && ap.owner_uid == 1000);
  assert_string_equal(ap.permissions, "0700");
  assert_int_equal(ap.tag_count, 2);
  assert_non_null(strstr(ap.access_point_arn, ap.access_point_id));

  /* Same token, same parameters: the same access point. */
  assert_int_equal(berth_efs_create_access_point(f->aws, &p, &again, &err),
                   BERTH_OK);
  assert_string_equal(again.access_point_id, ap.access_point_id);
  berth_efs_access_point_cleanup(&again);
  p.uid = 7;
  assert_int_equal(berth_efs_create_access_point(f->aws, &p, &again, &err),
                   BERTH_EEXIST);
  assert_string_equal(err.reason, "AccessPointAlreadyExists");
  assert_int_equal(err.http_code, 409);

  assert_int_equal(berth_efs_describe_access_points(
                       f->aws, NULL, ap.access_point_id, 0, NULL, &l, &err),
                   BERTH_OK);
  assert_int_equal(l.count, 1);
  assert_string_equal(l.items[0].root_path, "/dynamic/pvc-42");
  berth_efs_access_point_list_cleanup(&l);
  assert_int_equal(
      berth_efs_describe_access_points(f->aws, FS, NULL, 0, NULL, &l, &err),
      BERTH_OK);
  assert_int_equal(l.count, 1);
  berth_efs_access_point_list_cleanup(&l);

  assert_int_equal(
      berth_efs_delete_access_point(f->aws, ap.access_point_id, &err),
      BERTH_OK);
  assert_int_equal(
      berth_efs_delete_access_point(f->aws, ap.access_point_id, &err),
      BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "AccessPointNotFound");
  assert_int_equal(err.http_code, 404);
  assert_non_null(strstr(err.message, "EFS DeleteAccessPoint"));
  assert_int_equal(berth_efs_describe_access_points(
                       f->aws, NULL, ap.access_point_id, 0, NULL, &l, &err),
                   BERTH_ENOTFOUND);
  berth_efs_access_point_cleanup(&ap);

  /* An unknown file system. */
  p.file_system_id = "fs-00000000";
  p.client_token = "other";
  assert_int_equal(berth_efs_create_access_point(f->aws, &p, &ap, &err),
                   BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "FileSystemNotFound");
}

static void test_paging(void **state)
{
  fixture_t *f = *state;
  berth_efs_create_access_point_params_t p;
  berth_efs_access_point_t ap;
  berth_efs_access_point_list_t l;
  char token[32];
  char *next = NULL;
  size_t total = 0;
  int pages = 0;
  int i;

  for (i = 0; i < 5; i++) {
    memset(&p, 0, sizeof(p));
    snprintf(token, sizeof(token), "t%d", i);
    p.client_token = token;
    p.file_system_id = FS;
    assert_int_equal(berth_efs_create_access_point(f->aws, &p, &ap, NULL),
                     BERTH_OK);
    assert_string_equal(ap.root_path, "/");
    assert_false(ap.has_posix_user);
    berth_efs_access_point_cleanup(&ap);
  }
  do {
    assert_int_equal(
        berth_efs_describe_access_points(f->aws, FS, NULL, 2, next, &l, NULL),
        BERTH_OK);
    total += l.count;
    pages++;
    free(next);
    next = l.next_token != NULL ? strdup(l.next_token) : NULL;
    berth_efs_access_point_list_cleanup(&l);
  } while (next != NULL);
  assert_int_equal(total, 5);
  assert_int_equal(pages, 3);
}

static void test_file_systems_and_mount_targets(void **state)
{
  fixture_t *f = *state;
  berth_efs_file_system_list_t fl;
  berth_efs_mount_target_list_t ml;
  berth_efs_create_access_point_params_t p;
  berth_efs_access_point_t ap;
  berth_error_t err;
  char zone[64];

  assert_int_equal(
      berth_efs_describe_file_systems(f->aws, NULL, NULL, 0, NULL, &fl, &err),
      BERTH_OK);
  assert_int_equal(fl.count, 1);
  assert_string_equal(fl.items[0].file_system_id, FS);
  assert_string_equal(fl.items[0].life_cycle_state, "available");
  assert_true(fl.items[0].number_of_mount_targets == 3);
  assert_true(fl.items[0].creation_time_ms > 0);
  assert_true(fl.items[0].encrypted);
  berth_efs_file_system_list_cleanup(&fl);
  assert_int_equal(berth_efs_describe_file_systems(f->aws, "fs-00000000", NULL,
                                                   0, NULL, &fl, &err),
                   BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "FileSystemNotFound");

  assert_int_equal(berth_efs_describe_mount_targets(f->aws, FS, NULL, NULL, 0,
                                                    NULL, &ml, &err),
                   BERTH_OK);
  assert_int_equal(ml.count, 3);
  snprintf(zone, sizeof(zone), "%sa", bed_env("AWS_REGION"));
  assert_string_equal(ml.items[0].availability_zone_name, zone);
  assert_non_null(ml.items[0].ip_address);
  berth_efs_mount_target_list_cleanup(&ml);

  memset(&p, 0, sizeof(p));
  p.client_token = "mt";
  p.file_system_id = FS;
  assert_int_equal(berth_efs_create_access_point(f->aws, &p, &ap, NULL),
                   BERTH_OK);
  assert_int_equal(berth_efs_describe_mount_targets(f->aws, NULL, NULL,
                                                    ap.access_point_id, 0, NULL,
                                                    &ml, &err),
                   BERTH_OK);
  assert_int_equal(ml.count, 3);
  berth_efs_mount_target_list_cleanup(&ml);
  berth_efs_access_point_cleanup(&ap);
  assert_int_equal(berth_efs_describe_mount_targets(f->aws, FS, "fsmt-1", NULL,
                                                    0, NULL, &ml, &err),
                   BERTH_EINVAL);
}

static void test_throttling_and_signature(void **state)
{
  fixture_t *f = *state;
  berth_efs_file_system_list_t fl;
  berth_aws_stats_t s0, s1;
  berth_aws_options_t o;
  berth_aws_t *aws = NULL;
  berth_error_t err;
  test_env_t e;

  berth_aws_get_stats(f->aws, &s0);
  admin_post("/faults", "{\"throttle_next\": 2, \"services\": [\"efs\"]}");
  if (berth_efs_describe_file_systems(f->aws, NULL, NULL, 0, NULL, &fl, &err) !=
      BERTH_OK)
    fail_msg("after 429s: %s", err.message);
  berth_efs_file_system_list_cleanup(&fl);
  berth_aws_get_stats(f->aws, &s1);
  assert_true(s1.throttled - s0.throttled == 2);

  test_env_static(&e);
  test_env_set(&e, "AWS_SECRET_ACCESS_KEY", "not-the-secret");
  test_options(&o, &e);
  assert_int_equal(berth_aws_create(&o, &aws, NULL), BERTH_OK);
  assert_int_equal(
      berth_efs_describe_file_systems(aws, NULL, NULL, 0, NULL, &fl, &err),
      BERTH_EUNAUTHORIZED);
  assert_string_equal(err.reason, "InvalidSignatureException");
  assert_null(strstr(err.message, "not-the-secret"));
  berth_aws_destroy(aws);
  test_env_free(&e);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_access_points, setup, teardown),
      cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
      cmocka_unit_test_setup_teardown(test_file_systems_and_mount_targets,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_throttling_and_signature, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
