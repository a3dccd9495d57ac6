/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: Events (aggregation of repeats into count and
 * lastTimestamp, the per-object spam filter, re-creation of an Event that
 * went away) and Leases (create, get, conditional update), against
 * berth's test API server. Run under
 * `tests/bed/bed.py run k8s -- test_k8s_events`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "berth/k8s_events.h"
#include "berth/k8s_lease.h"
#include "test_k8s_common.h"

#define NS "events"

static berth_k8s_client_t *client;

static int setup(void **state)
{
  (void)state;
  client = tk_client(NULL);
  tk_namespace(client, NS);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  berth_k8s_client_destroy(client);
  return 0;
}

/* The Events in ns about object `name` with reason, as a new array. */
static json_t *events_for(const char *ns, const char *name, const char *reason)
{
  berth_error_t err;
  json_t *list = NULL;
  json_t *out = json_array();
  json_t *ev;
  size_t i;

  if (berth_k8s_list_all(client, &berth_k8s_res_events, ns, NULL, &list,
                         &err) != BERTH_OK)
    fail_msg("list events: %s", err.message);
  json_array_foreach(json_object_get(list, "items"), i, ev)
  {
    json_t *io = json_object_get(ev, "involvedObject");
    if (strcmp(json_string_value(json_object_get(io, "name")), name) == 0 &&
        strcmp(json_string_value(json_object_get(ev, "reason")), reason) == 0)
      json_array_append(out, ev);
  }
  json_decref(list);
  return out;
}

static json_t *make_claim(const char *name)
{
  berth_error_t err;
  json_t *made = NULL;
  json_t *pvc = json_pack(
      "{s:s, s:s, s:{s:s}, s:{s:[s], s:{s:{s:s}}}}", "apiVersion", "v1", "kind",
      "PersistentVolumeClaim", "metadata", "name", name, "spec", "accessModes",
      "ReadWriteOnce", "resources", "requests", "storage", "1Gi");

  if (berth_k8s_create(client, &berth_k8s_res_persistentvolumeclaims, NS, pvc,
                       &made, &err) != BERTH_OK)
    fail_msg("create claim: %s", err.message);
  json_decref(pvc);
  return made;
}

static void test_aggregation(void **state)
{
  berth_k8s_recorder_options_t o;
  berth_k8s_recorder_t *rec = NULL;
  berth_k8s_recorder_stats_t stats;
  berth_k8s_object_ref_t ref;
  berth_error_t err;
  json_t *claim = make_claim("data-0");
  json_t *evs;
  json_t *ev;
  long patches;
  int i;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.component = "berth-provisioner";
  o.host = "node-a";
  assert_int_equal(berth_k8s_recorder_create(client, &o, &rec, &err), BERTH_OK);
  /* List items and create answers have no kind: take it from the
   * resource. */
  berth_k8s_object_ref_from(claim, &berth_k8s_res_persistentvolumeclaims, &ref);
  assert_string_equal(ref.kind, "PersistentVolumeClaim");
  assert_string_equal(ref.api_version, "v1");
  patches = tk_requests("patch", "events");
  /* A retry loop failing five times the same way: one Event, count 5. */
  for (i = 0; i < 5; i++)
    assert_int_equal(
        berth_k8s_record(rec, &ref, "Warning", "ProvisioningFailed", &err,
                         "failed to provision volume: %s", "no space"),
        BERTH_OK);
  evs = events_for(NS, "data-0", "ProvisioningFailed");
  assert_int_equal(json_array_size(evs), 1);
  ev = json_array_get(evs, 0);
  assert_int_equal(json_integer_value(json_object_get(ev, "count")), 5);
  assert_string_equal(json_string_value(json_object_get(ev, "type")),
                      "Warning");
  assert_string_equal(json_string_value(json_object_get(ev, "message")),
                      "failed to provision volume: no space");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(ev, "source"), "component")),
                      "berth-provisioner");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(ev, "source"), "host")),
      "node-a");
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(ev, "involvedObject"), "uid")),
                      berth_k8s_obj_uid(claim));
  assert_non_null(json_string_value(json_object_get(ev, "firstTimestamp")));
  assert_non_null(json_string_value(json_object_get(ev, "lastTimestamp")));
  assert_int_equal(tk_requests("patch", "events") - patches, 4);
  json_decref(evs);

  /* Another message is another Event. */
  assert_int_equal(berth_k8s_record(rec, &ref, "Warning", "ProvisioningFailed",
                                    &err, "other"),
                   BERTH_OK);
  evs = events_for(NS, "data-0", "ProvisioningFailed");
  assert_int_equal(json_array_size(evs), 2);
  json_decref(evs);

  /* The Event goes away (TTL): the next repeat creates it again, with the
   * count carried on. */
  evs = events_for(NS, "data-0", "ProvisioningFailed");
  json_array_foreach(evs, i, ev) assert_int_equal(
      berth_k8s_delete(client, &berth_k8s_res_events, NS,
                       berth_k8s_obj_name(ev), NULL, NULL, &err),
      BERTH_OK);
  json_decref(evs);
  assert_int_equal(berth_k8s_record(rec, &ref, "Warning", "ProvisioningFailed",
                                    &err,
                                    "failed to provision volume: no space"),
                   BERTH_OK);
  evs = events_for(NS, "data-0", "ProvisioningFailed");
  assert_int_equal(json_array_size(evs), 1);
  assert_int_equal(
      json_integer_value(json_object_get(json_array_get(evs, 0), "count")), 6);
  json_decref(evs);
  berth_k8s_recorder_get_stats(rec, &stats);
  assert_true(stats.created == 3 && stats.aggregated == 4 &&
              stats.dropped == 0 && stats.failed == 0);
  berth_k8s_recorder_destroy(rec);
  json_decref(claim);
}

static void test_spam_filter_and_cluster_scope(void **state)
{
  berth_k8s_recorder_options_t o;
  berth_k8s_recorder_t *rec = NULL;
  berth_k8s_recorder_stats_t stats;
  berth_k8s_object_ref_t ref;
  berth_error_t err;
  json_t *evs;
  int i;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.component = "berth-test";
  o.burst = 3;
  assert_int_equal(berth_k8s_recorder_create(client, &o, &rec, &err), BERTH_OK);
  /* A cluster-scoped object: its Events go to "default". */
  memset(&ref, 0, sizeof(ref));
  ref.api_version = "v1";
  ref.kind = "PersistentVolume";
  ref.name = "pv-spam";
  ref.uid = "4c0f6f0e-7d5c-4c1f-9d56-9f9d2d0b5a11";
  for (i = 0; i < 3; i++)
    assert_int_equal(
        berth_k8s_record(rec, &ref, "Normal", "Spam", &err, "message %d", i),
        BERTH_OK);
  assert_int_equal(
      berth_k8s_record(rec, &ref, "Normal", "Spam", &err, "message 3"),
      BERTH_ETHROTTLED);
  assert_non_null(strstr(err.message, "pv-spam"));
  /* Repeats count against the same bucket. */
  assert_int_equal(
      berth_k8s_record(rec, &ref, "Normal", "Spam", &err, "message 0"),
      BERTH_ETHROTTLED);
  evs = events_for("default", "pv-spam", "Spam");
  assert_int_equal(json_array_size(evs), 3);
  json_decref(evs);
  berth_k8s_recorder_get_stats(rec, &stats);
  assert_true(stats.created == 3 && stats.dropped == 2);
  /* Bad arguments. */
  assert_int_equal(berth_k8s_record(rec, NULL, "Normal", "X", &err, "m"),
                   BERTH_EINVAL);
  berth_k8s_recorder_destroy(rec);
  o.component = NULL;
  assert_int_equal(berth_k8s_recorder_create(client, &o, &rec, &err),
                   BERTH_EINVAL);
}

static void test_leases(void **state)
{
  berth_k8s_lease_t want;
  berth_k8s_lease_t got;
  berth_k8s_lease_t stale;
  berth_error_t err;
  int64_t now = berth_clock_realtime_ms(NULL);

  (void)state;
  memset(&want, 0, sizeof(want));
  snprintf(want.holder_identity, sizeof(want.holder_identity), "pod-a");
  want.lease_duration_seconds = 15;
  want.acquire_time_ms = now;
  want.renew_time_ms = now;
  assert_int_equal(berth_k8s_lease_get(client, NS, "berth-leader", &got, &err),
                   BERTH_ENOTFOUND);
  assert_int_equal(
      berth_k8s_lease_create(client, NS, "berth-leader", &want, &got, &err),
      BERTH_OK);
  assert_string_equal(got.holder_identity, "pod-a");
  assert_true(got.lease_duration_seconds == 15);
  assert_true(got.acquire_time_ms == now); /* MicroTime keeps the ms */
  assert_true(got.renew_time_ms == now);
  assert_true(got.resource_version[0] != '\0');
  assert_int_equal(
      berth_k8s_lease_create(client, NS, "berth-leader", &want, NULL, &err),
      BERTH_EEXIST);

  /* Renew with the version read; then a stale writer loses. */
  stale = got;
  got.renew_time_ms = now + 5000;
  assert_int_equal(
      berth_k8s_lease_update(client, NS, "berth-leader", &got, &got, &err),
      BERTH_OK);
  assert_true(got.renew_time_ms == now + 5000);
  snprintf(stale.holder_identity, sizeof(stale.holder_identity), "pod-b");
  stale.lease_transitions = 1;
  assert_int_equal(
      berth_k8s_lease_update(client, NS, "berth-leader", &stale, NULL, &err),
      BERTH_ECONFLICT);
  assert_int_equal(berth_k8s_lease_get(client, NS, "berth-leader", &got, &err),
                   BERTH_OK);
  assert_string_equal(got.holder_identity, "pod-a");
  stale.resource_version[0] = '\0';
  assert_int_equal(
      berth_k8s_lease_update(client, NS, "berth-leader", &stale, NULL, &err),
      BERTH_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregation),
      cmocka_unit_test(test_spam_filter_and_cluster_scope),
      cmocka_unit_test(test_leases),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
