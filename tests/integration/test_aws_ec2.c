/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: libberth's EC2 calls against the emulator (which
 * checks every signature with botocore): the volume life cycle,
 * idempotent creates, paging and filters, modifications, tags, instances;
 * retries on throttling and 5xx with the retry quota; and the errors that
 * must not be retried (a wrong secret, an old date). Run under
 * tests/bed/bed.py run aws. */
#include "test_aws_common.c"

#include <pthread.h>
#include <unistd.h>

#include "berth/aws_ec2.h"

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

/* The id of an instance in zone. */
static char *instance_in(berth_aws_t *aws, const char *zone)
{
  const char *vals[] = {zone};
  berth_ec2_filter_t flt = {"availability-zone", vals, 1};
  berth_ec2_describe_params_t p;
  berth_ec2_instance_list_t l;
  char *id;

  memset(&p, 0, sizeof(p));
  p.filters = &flt;
  p.filter_count = 1;
  assert_int_equal(berth_ec2_describe_instances(aws, &p, &l, NULL), BERTH_OK);
  assert_true(l.count >= 1);
  assert_string_equal(l.items[0].availability_zone, zone);
  id = strdup(l.items[0].instance_id);
  berth_ec2_instance_list_cleanup(&l);
  return id;
}

static void test_volume_lifecycle(void **state)
{
  fixture_t *f = *state;
  const berth_aws_kv_t tags[] = {
      {"CSIVolumeName", "pvc-0a1b"},
      {"kubernetes.io/created-for/pvc/name", "data"},
      {"kubernetes.io/created-for/pvc/namespace", "default"},
      {"kubernetes.io/cluster/berth", "owned"},
  };
  berth_ec2_create_volume_params_t cp;
  berth_ec2_volume_t v, again, d;
  berth_ec2_attachment_t a;
  berth_ec2_instance_list_t il;
  berth_ec2_describe_params_t dp;
  berth_error_t err;
  char zone[64];
  char *iid;
  const char *id1[1];
  size_t i;
  bool found = false;

  snprintf(zone, sizeof(zone), "%sa", bed_env("AWS_REGION"));
  admin_post("/config", "{\"create_delay_ms\": 100}");
  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = zone;
  cp.size_gib = 10;
  cp.volume_type = "gp3";
  cp.iops = 4000;
  cp.throughput = 250;
  cp.encrypted = true;
  cp.client_token = "pvc-0a1b";
  cp.tags = tags;
  cp.tag_count = 4;
  if (berth_ec2_create_volume(f->aws, &cp, &v, &err) != BERTH_OK)
    fail_msg("CreateVolume: %s", err.message);
  assert_string_equal(v.state, "creating");
  assert_string_equal(v.availability_zone, zone);
  assert_true(v.size_gib == 10 && v.iops == 4000 && v.throughput == 250);
  assert_true(v.encrypted);
  assert_true(v.create_time_ms > 0);
  assert_true(strncmp(v.volume_id, "vol-", 4) == 0);

  /* The same token and parameters: the same disk, however often. */
  assert_int_equal(berth_ec2_create_volume(f->aws, &cp, &again, &err),
                   BERTH_OK);
  assert_string_equal(again.volume_id, v.volume_id);
  berth_ec2_volume_cleanup(&again);
  cp.size_gib = 11;
  assert_int_equal(berth_ec2_create_volume(f->aws, &cp, &again, &err),
                   BERTH_ECONFLICT);
  assert_string_equal(err.reason, "IdempotentParameterMismatch");

  /* creating -> available. */
  for (i = 0;; i++) {
    assert_int_equal(berth_ec2_describe_volume(f->aws, v.volume_id, &d, &err),
                     BERTH_OK);
    if (strcmp(d.state, "available") == 0)
      break;
    assert_string_equal(d.state, "creating");
    berth_ec2_volume_cleanup(&d);
    assert_true(i < 500);
    berth_clock_sleep_ms(NULL, 10);
  }
  assert_string_equal(berth_ec2_volume_tag(&d, "CSIVolumeName"), "pvc-0a1b");
  assert_string_equal(berth_ec2_volume_tag(&d, "kubernetes.io/cluster/berth"),
                      "owned");
  assert_null(berth_ec2_volume_tag(&d, "nope"));
  berth_ec2_volume_cleanup(&d);

  /* Attach: attaching, then attached, visible on the instance. */
  iid = instance_in(f->aws, zone);
  assert_int_equal(
      berth_ec2_attach_volume(f->aws, v.volume_id, iid, "/dev/xvdba", &a, &err),
      BERTH_OK);
  assert_string_equal(a.state, "attaching");
  assert_string_equal(a.device, "/dev/xvdba");
  berth_ec2_attachment_cleanup(&a);
  assert_int_equal(berth_ec2_describe_volume(f->aws, v.volume_id, &d, &err),
                   BERTH_OK);
  assert_string_equal(d.state, "in-use");
  assert_int_equal(d.attachment_count, 1);
  assert_string_equal(d.attachments[0].instance_id, iid);
  assert_string_equal(d.attachments[0].state, "attached");
  berth_ec2_volume_cleanup(&d);
  memset(&dp, 0, sizeof(dp));
  id1[0] = iid;
  dp.ids = id1;
  dp.id_count = 1;
  assert_int_equal(berth_ec2_describe_instances(f->aws, &dp, &il, &err),
                   BERTH_OK);
  assert_int_equal(il.count, 1);
  assert_string_equal(il.items[0].state, "running");
  assert_non_null(il.items[0].private_dns_name);
  for (i = 0; i < il.items[0].block_device_count; i++)
    if (strcmp(il.items[0].block_devices[i].device_name, "/dev/xvdba") == 0 &&
        strcmp(il.items[0].block_devices[i].volume_id, v.volume_id) == 0)
      found = true;
  assert_true(found);
  berth_ec2_instance_list_cleanup(&il);

  /* The device is taken; the disk is in use. */
  assert_int_equal(berth_ec2_attach_volume(f->aws, v.volume_id, iid,
                                           "/dev/xvdbb", NULL, &err),
                   BERTH_ECONFLICT);
  assert_string_equal(err.reason, "VolumeInUse");
  assert_int_equal(berth_ec2_delete_volume(f->aws, v.volume_id, &err),
                   BERTH_ECONFLICT);
  assert_string_equal(err.reason, "VolumeInUse");

  /* Detach, delete, gone. */
  assert_int_equal(
      berth_ec2_detach_volume(f->aws, v.volume_id, iid, NULL, false, &a, &err),
      BERTH_OK);
  assert_string_equal(a.state, "detaching");
  berth_ec2_attachment_cleanup(&a);
  assert_int_equal(berth_ec2_describe_volume(f->aws, v.volume_id, &d, &err),
                   BERTH_OK);
  assert_string_equal(d.state, "available");
  berth_ec2_volume_cleanup(&d);
  assert_int_equal(berth_ec2_delete_volume(f->aws, v.volume_id, &err),
                   BERTH_OK);
  assert_int_equal(berth_ec2_describe_volume(f->aws, v.volume_id, &d, &err),
                   BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "InvalidVolume.NotFound");
  assert_int_equal(err.http_code, 400);
  assert_int_equal(berth_ec2_delete_volume(f->aws, v.volume_id, &err),
                   BERTH_ENOTFOUND);
  assert_int_equal(berth_ec2_detach_volume(f->aws, "vol-0123456789abcdef0",
                                           NULL, NULL, false, NULL, &err),
                   BERTH_ENOTFOUND);
  assert_int_equal(berth_ec2_describe_volume(f->aws, "vol-x", &d, &err),
                   BERTH_EINVAL);
  assert_string_equal(err.reason, "InvalidVolumeID.Malformed");
  free(iid);
  berth_ec2_volume_cleanup(&v);
}

static void test_paging_and_filters(void **state)
{
  fixture_t *f = *state;
  const berth_aws_kv_t tag = {"berth.test/group", "paging"};
  const char *vals[] = {"pag*"};
  berth_ec2_filter_t flt = {"tag:berth.test/group", vals, 1};
  berth_ec2_create_volume_params_t cp;
  berth_ec2_describe_params_t dp;
  berth_ec2_volume_list_t l;
  berth_ec2_volume_t v;
  char zone[64];
  char *token = NULL;
  size_t total = 0;
  int pages = 0;
  int i;

  snprintf(zone, sizeof(zone), "%sc", bed_env("AWS_REGION"));
  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = zone;
  cp.tags = &tag;
  cp.tag_count = 1;
  for (i = 0; i < 12; i++) {
    cp.size_gib = 1 + i; /* no client token: a random one each time */
    assert_int_equal(berth_ec2_create_volume(f->aws, &cp, &v, NULL), BERTH_OK);
    berth_ec2_volume_cleanup(&v);
  }
  do {
    memset(&dp, 0, sizeof(dp));
    dp.filters = &flt;
    dp.filter_count = 1;
    dp.max_results = 5;
    dp.next_token = token;
    assert_int_equal(berth_ec2_describe_volumes(f->aws, &dp, &l, NULL),
                     BERTH_OK);
    total += l.count;
    pages++;
    free(token);
    token = l.next_token != NULL ? strdup(l.next_token) : NULL;
    berth_ec2_volume_list_cleanup(&l);
  } while (token != NULL);
  assert_int_equal(pages, 3);
  assert_int_equal(total, 12);

  /* A filter with two values. */
  {
    const char *sizes[] = {"3", "4"};
    berth_ec2_filter_t fs = {"size", sizes, 2};
    memset(&dp, 0, sizeof(dp));
    dp.filters = &fs;
    dp.filter_count = 1;
    assert_int_equal(berth_ec2_describe_volumes(f->aws, &dp, &l, NULL),
                     BERTH_OK);
    assert_int_equal(l.count, 2);
    assert_null(l.next_token);
    berth_ec2_volume_list_cleanup(&l);
  }
}

/* CreateSnapshot with tags, DescribeSnapshots by tag and by id (pending,
 * then completed), DeleteSnapshot; a missing one is InvalidSnapshot.NotFound.
 */
static void test_snapshots(void **state)
{
  fixture_t *f = *state;
  const berth_aws_kv_t tag = {"CSIVolumeSnapshotName", "snapshot-test"};
  const char *vals[] = {"snapshot-test"};
  berth_ec2_filter_t flt = {"tag:CSIVolumeSnapshotName", vals, 1};
  berth_ec2_create_volume_params_t cp;
  berth_ec2_create_snapshot_params_t sp;
  berth_ec2_describe_params_t dp;
  berth_ec2_snapshot_list_t l;
  berth_ec2_snapshot_t s, d;
  berth_ec2_volume_t v;
  berth_error_t err;
  char zone[64], id[64];
  int i;

  snprintf(zone, sizeof(zone), "%sa", bed_env("AWS_REGION"));
  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = zone;
  cp.size_gib = 2;
  assert_int_equal(berth_ec2_create_volume(f->aws, &cp, &v, NULL), BERTH_OK);
  /* The emulator's volumes are available at once (setup). */
  memset(&sp, 0, sizeof(sp));
  sp.volume_id = v.volume_id;
  sp.description = "berth test";
  sp.tags = &tag;
  sp.tag_count = 1;
  assert_int_equal(berth_ec2_create_snapshot(f->aws, &sp, &s, &err), BERTH_OK);
  assert_string_equal(s.state, "pending");
  assert_string_equal(s.volume_id, v.volume_id);
  assert_true(s.volume_size_gib == 2);
  assert_string_equal(berth_ec2_snapshot_tag(&s, "CSIVolumeSnapshotName"),
                      "snapshot-test");
  snprintf(id, sizeof(id), "%s", s.snapshot_id);
  memset(&dp, 0, sizeof(dp));
  dp.filters = &flt;
  dp.filter_count = 1;
  assert_int_equal(berth_ec2_describe_snapshots(f->aws, &dp, &l, NULL),
                   BERTH_OK);
  assert_int_equal(l.count, 1);
  assert_string_equal(l.items[0].snapshot_id, id);
  assert_string_equal(l.items[0].description, "berth test");
  berth_ec2_snapshot_list_cleanup(&l);
  for (i = 0; i < 200; i++) {
    assert_int_equal(berth_ec2_describe_snapshot(f->aws, id, &d, NULL),
                     BERTH_OK);
    if (strcmp(d.state, "completed") == 0)
      break;
    berth_ec2_snapshot_cleanup(&d);
    usleep(20000); /* the emulator's snapshot_delay_ms */
  }
  assert_string_equal(d.state, "completed");
  assert_true(d.start_time_ms > 0);
  berth_ec2_snapshot_cleanup(&d);
  assert_int_equal(berth_ec2_delete_snapshot(f->aws, id, NULL), BERTH_OK);
  assert_int_equal(berth_ec2_delete_snapshot(f->aws, id, &err),
                   BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "InvalidSnapshot.NotFound");
  assert_int_equal(berth_ec2_describe_snapshot(f->aws, id, &d, &err),
                   BERTH_ENOTFOUND);
  berth_ec2_snapshot_cleanup(&s);
  berth_ec2_volume_cleanup(&v);
}

static void test_modify_and_tags(void **state)
{
  fixture_t *f = *state;
  berth_ec2_create_volume_params_t cp;
  berth_ec2_modify_volume_params_t mp;
  berth_ec2_modification_t m;
  berth_ec2_modification_list_t ml;
  berth_ec2_describe_params_t dp;
  berth_ec2_volume_t v, d;
  berth_error_t err;
  const berth_aws_kv_t tags[] = {{"a", "1"}, {"b", ""}};
  const char *ids[1];
  char zone[64];
  int i;

  snprintf(zone, sizeof(zone), "%sb", bed_env("AWS_REGION"));
  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = zone;
  cp.size_gib = 5;
  cp.volume_type = "gp2";
  assert_int_equal(berth_ec2_create_volume(f->aws, &cp, &v, NULL), BERTH_OK);
  admin_post("/config", "{\"modify_delay_ms\": 50, \"optimize_delay_ms\": 50}");
  memset(&mp, 0, sizeof(mp));
  mp.volume_id = v.volume_id;
  mp.size_gib = 20;
  mp.volume_type = "gp3";
  assert_int_equal(berth_ec2_modify_volume(f->aws, &mp, &m, &err), BERTH_OK);
  assert_string_equal(m.state, "modifying");
  assert_true(m.target_size_gib == 20 && m.original_size_gib == 5);
  assert_string_equal(m.target_volume_type, "gp3");
  assert_string_equal(m.original_volume_type, "gp2");
  berth_ec2_modification_cleanup(&m);
  assert_int_equal(berth_ec2_modify_volume(f->aws, &mp, NULL, &err),
                   BERTH_ECONFLICT);
  assert_string_equal(err.reason, "IncorrectModificationState");
  memset(&dp, 0, sizeof(dp));
  ids[0] = v.volume_id;
  dp.ids = ids;
  dp.id_count = 1;
  for (i = 0;; i++) {
    assert_int_equal(
        berth_ec2_describe_volumes_modifications(f->aws, &dp, &ml, &err),
        BERTH_OK);
    assert_int_equal(ml.count, 1);
    if (strcmp(ml.items[0].state, "completed") == 0)
      break;
    berth_ec2_modification_list_cleanup(&ml);
    assert_true(i < 500);
    berth_clock_sleep_ms(NULL, 10);
  }
  assert_true(ml.items[0].progress == 100);
  assert_true(ml.items[0].end_time_ms >= ml.items[0].start_time_ms);
  berth_ec2_modification_list_cleanup(&ml);
  assert_int_equal(berth_ec2_describe_volume(f->aws, v.volume_id, &d, NULL),
                   BERTH_OK);
  assert_true(d.size_gib == 20);
  assert_string_equal(d.volume_type, "gp3");
  berth_ec2_volume_cleanup(&d);
  mp.size_gib = 10;
  mp.volume_type = NULL;
  assert_int_equal(berth_ec2_modify_volume(f->aws, &mp, NULL, &err),
                   BERTH_EINVAL);

  assert_int_equal(berth_ec2_create_tags(f->aws, ids, 1, tags, 2, &err),
                   BERTH_OK);
  assert_int_equal(berth_ec2_describe_volume(f->aws, v.volume_id, &d, NULL),
                   BERTH_OK);
  assert_string_equal(berth_ec2_volume_tag(&d, "a"), "1");
  assert_string_equal(berth_ec2_volume_tag(&d, "b"), "");
  berth_ec2_volume_cleanup(&d);
  berth_ec2_volume_cleanup(&v);
}

/* DescribeVolumes under admin-set faults; returns the status. */
static berth_status_t describe_once(berth_aws_t *aws, berth_error_t *err)
{
  berth_ec2_volume_list_t l;
  berth_status_t st = berth_ec2_describe_volumes(aws, NULL, &l, err);

  if (st == BERTH_OK)
    berth_ec2_volume_list_cleanup(&l);
  return st;
}

static void test_retries(void **state)
{
  fixture_t *f = *state;
  berth_aws_stats_t s0, s1;
  berth_aws_t *aws = NULL;
  berth_error_t err;
  int i;

  /* Three throttles, then success: three retries. */
  berth_aws_get_stats(f->aws, &s0);
  admin_post("/faults", "{\"throttle_next\": 3}");
  if (describe_once(f->aws, &err) != BERTH_OK)
    fail_msg("after throttling: %s", err.message);
  berth_aws_get_stats(f->aws, &s1);
  assert_true(s1.retries - s0.retries == 3);
  assert_true(s1.throttled - s0.throttled == 3);
  assert_true(s1.attempts - s0.attempts == 4);
  assert_int_equal(counter("faults", "throttled"), 3);

  /* 5xx answers are retried too. */
  admin_post("/faults", "{\"error_next\": 2}");
  assert_int_equal(describe_once(f->aws, &err), BERTH_OK);
  berth_aws_get_stats(f->aws, &s0);
  assert_true(s0.server_errors - s1.server_errors == 2);

  /* Attempts run out: the throttling error, said so. */
  f->opts.max_attempts = 3;
  assert_int_equal(berth_aws_create(&f->opts, &aws, NULL), BERTH_OK);
  admin_post("/faults", "{\"throttle_next\": 10}");
  assert_int_equal(describe_once(aws, &err), BERTH_ETHROTTLED);
  assert_string_equal(err.reason, "RequestLimitExceeded");
  assert_int_equal(err.http_code, 503);
  assert_non_null(strstr(err.message, "after 3 attempts"));
  berth_aws_get_stats(aws, &s1);
  assert_true(s1.attempts == 3);
  berth_aws_destroy(aws);

  /* A small quota: one retry (5 tokens) and no more. */
  f->opts.max_attempts = 5;
  f->opts.retry_quota = 5;
  assert_int_equal(berth_aws_create(&f->opts, &aws, NULL), BERTH_OK);
  admin_post("/faults", "{\"throttle_next\": 10}");
  assert_int_equal(describe_once(aws, &err), BERTH_ETHROTTLED);
  assert_non_null(strstr(err.message, "retry quota exhausted"));
  berth_aws_get_stats(aws, &s1);
  assert_true(s1.attempts == 2 && s1.quota_refusals == 1);
  assert_int_equal(s1.retry_quota, 0);
  /* Successes refill it, one token at a time. */
  admin_post("/faults", "{\"throttle_next\": 0}");
  assert_int_equal(describe_once(aws, &err), BERTH_OK);
  berth_aws_get_stats(aws, &s1);
  assert_int_equal(s1.retry_quota, 1);
  berth_aws_destroy(aws);

  /* A storm of 30% throttling and 5% 5xx: every call gets through. */
  f->opts.retry_quota = 0;
  f->opts.max_attempts = 8;
  assert_int_equal(berth_aws_create(&f->opts, &aws, NULL), BERTH_OK);
  admin_post("/faults", "{\"throttle_next\": 0, \"throttle_rate\": 0.3, "
                        "\"error_rate\": 0.05, \"seed\": 7}");
  for (i = 0; i < 40; i++)
    if (describe_once(aws, &err) != BERTH_OK)
      fail_msg("call %d under faults: %s", i, err.message);
  berth_aws_get_stats(aws, &s1);
  assert_true(s1.retries > 0);
  admin_post("/faults", "{\"throttle_rate\": 0, \"error_rate\": 0}");
  berth_aws_destroy(aws);
}

/* Errors that retrying cannot fix come back at once, clearly. */
static void test_auth_errors(void **state)
{
  fixture_t *f = *state;
  berth_aws_options_t o;
  berth_aws_t *aws = NULL;
  berth_aws_stats_t s;
  berth_error_t err;
  test_env_t e;
  char wrong[256];
  offset_clock_t oc = {-10 * 60 * 1000};
  berth_clock_t clock = {offset_now, offset_mono, offset_sleep, &oc};

  (void)f;
  /* A wrong secret. */
  snprintf(wrong, sizeof(wrong), "%sx", bed_env("AWS_SECRET_ACCESS_KEY"));
  test_env_static(&e);
  test_env_set(&e, "AWS_SECRET_ACCESS_KEY", wrong);
  test_options(&o, &e);
  assert_int_equal(berth_aws_create(&o, &aws, NULL), BERTH_OK);
  assert_int_equal(describe_once(aws, &err), BERTH_EUNAUTHORIZED);
  assert_string_equal(err.reason, "SignatureDoesNotMatch");
  assert_int_equal(err.http_code, 403);
  assert_non_null(strstr(err.message, "EC2 DescribeVolumes: "
                                      "SignatureDoesNotMatch: The request "
                                      "signature we calculated"));
  assert_null(strstr(err.message, wrong));
  assert_true(free_of_secrets(err.message));
  berth_aws_get_stats(aws, &s);
  assert_true(s.attempts == 1 && s.retries == 0);
  berth_aws_destroy(aws);

  /* An unknown key. */
  test_env_set(&e, "AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000");
  assert_int_equal(berth_aws_create(&o, &aws, NULL), BERTH_OK);
  assert_int_equal(describe_once(aws, &err), BERTH_EUNAUTHORIZED);
  assert_string_equal(err.reason, "AuthFailure");
  berth_aws_destroy(aws);

  /* A clock ten minutes slow: RequestExpired, not retried. */
  test_env_static(&e);
  test_options(&o, &e);
  o.clock = &clock;
  assert_int_equal(berth_aws_create(&o, &aws, NULL), BERTH_OK);
  assert_int_equal(describe_once(aws, &err), BERTH_EUNAUTHORIZED);
  assert_string_equal(err.reason, "RequestExpired");
  berth_aws_get_stats(aws, &s);
  assert_true(s.attempts == 1);
  berth_aws_destroy(aws);
  test_env_free(&e);
}

typedef struct worker {
  berth_aws_t *aws;
  int index;
  int failures;
  char zone[64];
} worker_t;

static void *work(void *arg)
{
  worker_t *w = arg;
  berth_ec2_create_volume_params_t cp;
  berth_ec2_volume_t v;
  berth_ec2_volume_list_t l;
  char token[64];
  int i;

  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = w->zone;
  cp.size_gib = 1;
  for (i = 0; i < 10; i++) {
    /* Two creates per token: the second is the first's volume. */
    snprintf(token, sizeof(token), "thread-%d-%d", w->index, i / 2);
    cp.client_token = token;
    if (berth_ec2_create_volume(w->aws, &cp, &v, NULL) != BERTH_OK)
      w->failures++;
    else
      berth_ec2_volume_cleanup(&v);
    if (berth_ec2_describe_volumes(w->aws, NULL, &l, NULL) != BERTH_OK)
      w->failures++;
    else
      berth_ec2_volume_list_cleanup(&l);
  }
  return NULL;
}

/* One client, several threads at once, with some throttling: every call
 * succeeds and idempotency holds (5 volumes per thread). */
static void test_threads(void **state)
{
  fixture_t *f = *state;
  pthread_t th[4];
  worker_t w[4];
  json_t *st;
  size_t i, created = 0;

  admin_post("/faults", "{\"throttle_rate\": 0.2, \"seed\": 3}");
  for (i = 0; i < 4; i++) {
    memset(&w[i], 0, sizeof(w[i]));
    w[i].aws = f->aws;
    w[i].index = (int)i;
    snprintf(w[i].zone, sizeof(w[i].zone), "%sa", bed_env("AWS_REGION"));
    assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
  }
  for (i = 0; i < 4; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(w[i].failures, 0);
  }
  admin_post("/faults", "{\"throttle_rate\": 0}");
  st = admin("GET", "/state", NULL);
  for (i = 0; i < json_array_size(json_object_get(st, "volumes")); i++)
    if (!json_is_true(json_object_get(
            json_array_get(json_object_get(st, "volumes"), i), "Root")))
      created++;
  json_decref(st);
  assert_int_equal(created, 4 * 5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_volume_lifecycle, setup, teardown),
      cmocka_unit_test_setup_teardown(test_paging_and_filters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_modify_and_tags, setup, teardown),
      cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
