/* SPDX-License-Identifier: Apache-2.0 */
/* Integration tests: every verb of the k8s client against the real
 * kube-apiserver, Status decoding of real answers, the conflict loop, 429
 * with Retry-After, 5xx back-off (from the bed's fault proxy), a wrong
 * token, and a watch whose history etcd compacted. Run under
 * `tests/bed/bed.py run k8s -- test_k8s_verbs`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "test_k8s_common.h"
#include "test_timing.h"

#define NS "verbs"

static berth_k8s_client_t *client;
static const berth_k8s_resource_t *cms = &berth_k8s_res_configmaps;

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

static void test_create_get_update_delete(void **state)
{
  berth_error_t err;
  json_t *obj = tk_configmap(NS, "cm-a", "1", "crud");
  json_t *made = NULL;
  json_t *got = NULL;
  json_t *stale = NULL;
  json_t *updated = NULL;
  json_t *deleted = NULL;
  berth_k8s_delete_options_t dopts;
  char uid[128];

  (void)state;
  assert_int_equal(berth_k8s_create(client, cms, NULL, obj, &made, &err),
                   BERTH_OK);
  assert_string_equal(berth_k8s_obj_name(made), "cm-a");
  assert_non_null(berth_k8s_obj_uid(made));
  assert_non_null(berth_k8s_obj_resource_version(made));
  snprintf(uid, sizeof(uid), "%s", berth_k8s_obj_uid(made));

  /* Creating it again: 409 AlreadyExists. */
  assert_int_equal(berth_k8s_create(client, cms, NS, obj, NULL, &err),
                   BERTH_EEXIST);
  assert_int_equal(err.http_code, 409);
  assert_string_equal(err.reason, "AlreadyExists");
  assert_non_null(strstr(err.message, "cm-a"));

  assert_int_equal(berth_k8s_get(client, cms, NS, "cm-a", &got, &err),
                   BERTH_OK);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(got, "data"), "v")),
      "1");

  /* Update with the current version, then again with the stale one. */
  stale = json_deep_copy(got);
  json_object_set_new(json_object_get(got, "data"), "v", json_string("2"));
  assert_int_equal(berth_k8s_update(client, cms, NULL, got, &updated, &err),
                   BERTH_OK);
  assert_string_not_equal(berth_k8s_obj_resource_version(updated),
                          berth_k8s_obj_resource_version(stale));
  json_object_set_new(json_object_get(stale, "data"), "v", json_string("x"));
  assert_int_equal(berth_k8s_update(client, cms, NULL, stale, NULL, &err),
                   BERTH_ECONFLICT);
  assert_string_equal(err.reason, "Conflict");
  assert_int_equal(err.http_code, 409);

  /* Delete with a wrong uid precondition: 409; with the right one: done. */
  memset(&dopts, 0, sizeof(dopts));
  dopts.precondition_uid = "00000000-0000-0000-0000-000000000000";
  assert_int_equal(
      berth_k8s_delete(client, cms, NS, "cm-a", &dopts, NULL, &err),
      BERTH_ECONFLICT);
  dopts.precondition_uid = uid;
  dopts.precondition_resource_version = "1";
  assert_int_equal(
      berth_k8s_delete(client, cms, NS, "cm-a", &dopts, NULL, &err),
      BERTH_ECONFLICT);
  dopts.precondition_resource_version = NULL;
  assert_int_equal(
      berth_k8s_delete(client, cms, NS, "cm-a", &dopts, &deleted, &err),
      BERTH_OK);
  assert_non_null(deleted);
  assert_int_equal(
      berth_k8s_get(client, cms, NS, "cm-a", &got, &err) == BERTH_OK ? 0 : 1,
      1);
  assert_int_equal(err.status, BERTH_ENOTFOUND);
  assert_string_equal(err.reason, "NotFound");
  assert_int_equal(err.http_code, 404);
  assert_int_equal(berth_k8s_delete(client, cms, NS, "cm-a", NULL, NULL, &err),
                   BERTH_ENOTFOUND);
  json_decref(obj);
  json_decref(made);
  json_decref(got);
  json_decref(stale);
  json_decref(updated);
  json_decref(deleted);
}

static void test_list_paging(void **state)
{
  berth_error_t err;
  berth_k8s_list_options_t lo;
  json_t *page = NULL;
  json_t *all = NULL;
  char name[32];
  char cont[1024];
  int i;
  int pages = 0;
  size_t total = 0;

  (void)state;
  for (i = 0; i < 7; i++) {
    json_t *obj;
    snprintf(name, sizeof(name), "page-%d", i);
    obj = tk_configmap(NS, name, "x", "paging");
    assert_int_equal(berth_k8s_create(client, cms, NS, obj, NULL, &err),
                     BERTH_OK);
    json_decref(obj);
  }
  memset(&lo, 0, sizeof(lo));
  lo.label_selector = "group=paging";
  lo.limit = 3;
  do {
    assert_int_equal(berth_k8s_list(client, cms, NS, &lo, &page, &err),
                     BERTH_OK);
    total += json_array_size(json_object_get(page, "items"));
    pages++;
    {
      const char *c = json_string_value(
          json_object_get(json_object_get(page, "metadata"), "continue"));
      snprintf(cont, sizeof(cont), "%s", c != NULL ? c : "");
    }
    lo.continue_token = cont;
    json_decref(page);
  } while (cont[0] != '\0');
  assert_int_equal(pages, 3);
  assert_int_equal(total, 7);

  /* list_all joins the pages (2 a page here). */
  lo.continue_token = NULL;
  lo.limit = 2;
  assert_int_equal(berth_k8s_list_all(client, cms, NS, &lo, &all, &err),
                   BERTH_OK);
  assert_int_equal(json_array_size(json_object_get(all, "items")), 7);
  assert_non_null(json_string_value(
      json_object_get(json_object_get(all, "metadata"), "resourceVersion")));
  assert_null(json_object_get(json_object_get(all, "metadata"), "continue"));
  json_decref(all);

  /* Field selector, and all namespaces (ns NULL). */
  memset(&lo, 0, sizeof(lo));
  lo.field_selector = "metadata.name=page-3";
  assert_int_equal(berth_k8s_list_all(client, cms, NULL, &lo, &all, &err),
                   BERTH_OK);
  assert_int_equal(json_array_size(json_object_get(all, "items")), 1);
  json_decref(all);
}

/* The claim names a StorageClass that does not exist: the real PV
 * controller then only records a ProvisioningFailed Event and never
 * writes the claim's status, so the status PUT below races nobody. */
static void test_patch_and_status(void **state)
{
  berth_error_t err;
  json_t *pvc = json_pack("{s:s, s:s, s:{s:s}, s:{s:[s], s:{s:{s:s}}, s:s}}",
                          "apiVersion", "v1", "kind", "PersistentVolumeClaim",
                          "metadata", "name", "claim-a", "spec", "accessModes",
                          "ReadWriteOnce", "resources", "requests", "storage",
                          "1Gi", "storageClassName", "verbs-no-such-class");
  json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
                            "berth.io/test", "yes");
  json_t *out = NULL;
  json_t *got = NULL;

  (void)state;
  assert_int_equal(berth_k8s_create(client,
                                    &berth_k8s_res_persistentvolumeclaims, NS,
                                    pvc, NULL, &err),
                   BERTH_OK);
  assert_int_equal(berth_k8s_patch(client,
                                   &berth_k8s_res_persistentvolumeclaims, NS,
                                   "claim-a", NULL, BERTH_K8S_PATCH_MERGE,
                                   patch, &out, &err),
                   BERTH_OK);
  assert_string_equal(berth_k8s_obj_annotation(out, "berth.io/test"), "yes");
  json_decref(out);
  json_decref(patch);

  /* The status subresource: a merge patch and a PUT. */
  patch = json_pack("{s:{s:s}}", "status", "phase", "Lost");
  assert_int_equal(berth_k8s_patch(client,
                                   &berth_k8s_res_persistentvolumeclaims, NS,
                                   "claim-a", "status", BERTH_K8S_PATCH_MERGE,
                                   patch, &out, &err),
                   BERTH_OK);
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(out, "status"), "phase")),
                      "Lost");
  json_object_set_new(json_object_get(out, "status"), "phase",
                      json_string("Bound"));
  assert_int_equal(
      berth_k8s_update_status(client, &berth_k8s_res_persistentvolumeclaims, NS,
                              out, &got, &err),
      BERTH_OK);
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(got, "status"), "phase")),
                      "Bound");
  json_decref(got);
  /* A patch on something missing. */
  assert_int_equal(
      berth_k8s_patch(client, &berth_k8s_res_persistentvolumeclaims, NS, "nope",
                      NULL, BERTH_K8S_PATCH_MERGE, patch, NULL, &err),
      BERTH_ENOTFOUND);
  json_decref(out);
  json_decref(patch);
  json_decref(pvc);
}

static berth_status_t bump(void *ctx, json_t *obj, berth_error_t *err)
{
  int *calls = ctx;
  json_t *data = json_object_get(obj, "data");

  (void)err;
  (*calls)++;
  json_object_set_new(data, "v", json_string("bumped"));
  return BERTH_OK;
}

static berth_status_t no_change(void *ctx, json_t *obj, berth_error_t *err)
{
  (void)ctx;
  (void)obj;
  (void)err;
  return BERTH_ECANCELED;
}

static void test_conflict_loop(void **state)
{
  berth_error_t err;
  json_t *obj = tk_configmap(NS, "cm-conflict", "0", "conflict");
  json_t *out = NULL;
  int calls = 0;

  (void)state;
  assert_int_equal(berth_k8s_create(client, cms, NS, obj, NULL, &err),
                   BERTH_OK);
  /* Two injected 409s: the third attempt writes. */
  tk_fault("{\"kind\":\"conflict\",\"resource\":\"configmaps\",\"count\":2}");
  assert_int_equal(berth_k8s_update_with_retry(client, cms, NS, "cm-conflict",
                                               false, bump, &calls, 0, &out,
                                               &err),
                   BERTH_OK);
  assert_int_equal(calls, 3);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(out, "data"), "v")),
      "bumped");
  json_decref(out);
  /* More conflicts than attempts: the 409 comes back. */
  tk_fault("{\"kind\":\"conflict\",\"resource\":\"configmaps\",\"count\":5}");
  calls = 0;
  assert_int_equal(berth_k8s_update_with_retry(client, cms, NS, "cm-conflict",
                                               false, bump, &calls, 2, NULL,
                                               &err),
                   BERTH_ECONFLICT);
  assert_int_equal(calls, 2);
  tk_clear_faults();
  /* Nothing to change: no write. */
  assert_int_equal(berth_k8s_update_with_retry(client, cms, NS, "cm-conflict",
                                               false, no_change, NULL, 0, &out,
                                               &err),
                   BERTH_OK);
  assert_non_null(out);
  json_decref(out);
  json_decref(obj);
}

static void test_throttle_honoured(void **state)
{
  berth_error_t err;
  berth_k8s_client_stats_t before;
  berth_k8s_client_stats_t after;
  json_t *got = NULL;
  int64_t start;
  int64_t took;

  (void)state;
  /* Two 429s with Retry-After: 1: the GET succeeds after about 2 s. */
  berth_k8s_client_get_stats(client, &before);
  tk_fault("{\"kind\":\"throttle\",\"resource\":\"namespaces\",\"count\":2,"
           "\"retryAfter\":1}");
  start = tk_now();
  assert_int_equal(
      berth_k8s_get(client, &berth_k8s_res_namespaces, NULL, NS, &got, &err),
      BERTH_OK);
  took = tk_now() - start;
  berth_k8s_client_get_stats(client, &after);
  assert_true(took >= 1900);
  assert_true(took < test_bound_ms(10000));
  assert_true(after.throttled - before.throttled == 2);
  assert_true(after.retries - before.retries == 2);
  json_decref(got);

  /* More 429s than retries: ETHROTTLED with the Status. */
  {
    berth_k8s_client_options_t o;
    berth_k8s_client_t *c2;
    berth_k8s_client_options_init(&o);
    o.max_retries = 1;
    o.max_retry_after_ms = 100; /* and a cap on what we wait */
    c2 = tk_client(&o);
    tk_fault("{\"kind\":\"throttle\",\"resource\":\"namespaces\",\"count\":2,"
             "\"retryAfter\":30}");
    start = tk_now();
    assert_int_equal(
        berth_k8s_get(c2, &berth_k8s_res_namespaces, NULL, NS, NULL, &err),
        BERTH_ETHROTTLED);
    assert_true(tk_now() - start < test_bound_ms(5000));
    assert_int_equal(err.http_code, 429);
    assert_string_equal(err.reason, "TooManyRequests");
    berth_k8s_client_destroy(c2);
  }
  tk_clear_faults();
}

static void test_server_errors(void **state)
{
  berth_error_t err;
  berth_k8s_client_options_t o;
  berth_k8s_client_t *c2;
  json_t *obj;

  (void)state;
  berth_k8s_client_options_init(&o);
  o.backoff_base_ms = 10;
  o.backoff_cap_ms = 50;
  c2 = tk_client(&o);
  /* A GET is retried through 503s. */
  tk_fault("{\"kind\":\"error\",\"code\":503,\"verb\":\"get\",\"count\":3}");
  assert_int_equal(
      berth_k8s_get(c2, &berth_k8s_res_namespaces, NULL, NS, NULL, &err),
      BERTH_OK);
  /* A POST is not (the server may have acted): the 500 comes back. */
  tk_fault("{\"kind\":\"error\",\"code\":500,\"verb\":\"create\",\"count\":1}");
  obj = tk_configmap(NS, "cm-500", "x", "errors");
  assert_int_equal(berth_k8s_create(c2, cms, NS, obj, NULL, &err),
                   BERTH_EUNAVAILABLE);
  assert_int_equal(err.http_code, 500);
  assert_string_equal(err.reason, "InternalError");
  assert_non_null(strstr(err.message, "k8s POST /api/v1/namespaces/verbs/"
                                      "configmaps"));
  /* Too many 5xx for the retries: the last one comes back. */
  tk_fault("{\"kind\":\"error\",\"code\":504,\"verb\":\"get\",\"count\":10}");
  assert_int_equal(
      berth_k8s_get(c2, &berth_k8s_res_namespaces, NULL, NS, NULL, &err),
      BERTH_EUNAVAILABLE);
  assert_string_equal(err.reason, "Timeout");
  tk_clear_faults();
  json_decref(obj);
  berth_k8s_client_destroy(c2);
}

static void test_wrong_token(void **state)
{
  berth_k8s_config_t cfg;
  berth_k8s_client_t *c2 = NULL;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  assert_int_equal(berth_k8s_config_load(NULL, &cfg, &err), BERTH_OK);
  free(cfg.token);
  cfg.token = strdup("not-the-token");
  assert_int_equal(berth_k8s_client_create(&cfg, NULL, &c2, &err), BERTH_OK);
  assert_int_equal(
      berth_k8s_get(c2, &berth_k8s_res_namespaces, NULL, NS, NULL, &err),
      BERTH_EUNAUTHORIZED);
  assert_int_equal(err.http_code, 401);
  assert_string_equal(err.reason, "Unauthorized");
  assert_null(strstr(err.message, "not-the-token"));
  berth_k8s_client_destroy(c2);
  berth_k8s_config_cleanup(&cfg);
}

/* ---- watch ------------------------------------------------------------- */

typedef struct {
  char seen[32][64];
  int n;
} events_t;

static berth_status_t collect(void *ctx, berth_k8s_event_type_t type,
                              json_t *obj)
{
  events_t *e = ctx;

  if (type == BERTH_K8S_EVENT_BOOKMARK)
    return BERTH_OK;
  if (e->n < 32)
    snprintf(e->seen[e->n], sizeof(e->seen[0]), "%s %s",
             berth_k8s_event_type_name(type),
             berth_k8s_obj_name(obj) ? berth_k8s_obj_name(obj) : "-");
  e->n++;
  return BERTH_OK;
}

static void test_watch(void **state)
{
  berth_error_t err;
  berth_k8s_watch_options_t wo;
  json_t *list = NULL;
  json_t *obj;
  char rv[64];
  events_t ev;

  (void)state;
  assert_int_equal(berth_k8s_list(client, cms, NS, NULL, &list, &err),
                   BERTH_OK);
  snprintf(rv, sizeof(rv), "%s",
           json_string_value(json_object_get(json_object_get(list, "metadata"),
                                             "resourceVersion")));
  json_decref(list);
  obj = tk_configmap(NS, "watched", "1", "watch");
  assert_int_equal(berth_k8s_create(client, cms, NS, obj, NULL, &err),
                   BERTH_OK);
  json_object_set_new(json_object_get(obj, "data"), "v", json_string("2"));
  assert_int_equal(berth_k8s_patch(client, cms, NS, "watched", NULL,
                                   BERTH_K8S_PATCH_MERGE, obj, NULL, &err),
                   BERTH_OK);
  assert_int_equal(
      berth_k8s_delete(client, cms, NS, "watched", NULL, NULL, &err), BERTH_OK);
  /* Watch from before the changes; the server ends it after 2 s. */
  memset(&wo, 0, sizeof(wo));
  memset(&ev, 0, sizeof(ev));
  wo.resource_version = rv;
  wo.label_selector = "group=watch";
  wo.allow_bookmarks = true;
  wo.timeout_seconds = 2;
  assert_int_equal(berth_k8s_watch(client, cms, NS, &wo, collect, &ev, &err),
                   BERTH_OK);
  assert_int_equal(ev.n, 3);
  assert_string_equal(ev.seen[0], "ADDED watched");
  assert_string_equal(ev.seen[1], "MODIFIED watched");
  assert_string_equal(ev.seen[2], "DELETED watched");

  /* A watch the server answers with an ERROR event: EGONE. */
  tk_fault("{\"kind\":\"watch-gone\",\"resource\":\"configmaps\",\"count\":1}");
  memset(&ev, 0, sizeof(ev));
  assert_int_equal(berth_k8s_watch(client, cms, NS, &wo, collect, &ev, &err),
                   BERTH_EGONE);
  assert_int_equal(err.http_code, 410);
  assert_string_equal(err.reason, "Expired");
  assert_string_equal(ev.seen[0], "ERROR -");
  /* ... or with HTTP 410. */
  tk_fault("{\"kind\":\"watch-gone\",\"http\":true,\"resource\":"
           "\"configmaps\",\"count\":1}");
  assert_int_equal(berth_k8s_watch(client, cms, NS, &wo, collect, &ev, &err),
                   BERTH_EGONE);
  assert_int_equal(err.http_code, 410);
  /* Until etcd compacts, the version from before the changes still
   * replays them (ConfigMaps bypass the watch cache: tests/bed/bed_k8s.py);
   * after a real compaction the same watch is 410. */
  memset(&ev, 0, sizeof(ev));
  assert_int_equal(berth_k8s_watch(client, cms, NS, &wo, collect, &ev, &err),
                   BERTH_OK);
  assert_int_equal(ev.n, 3);
  json_decref(tk_admin("POST", "/compact", "{\"keep\":0}"));
  memset(&ev, 0, sizeof(ev));
  assert_int_equal(berth_k8s_watch(client, cms, NS, &wo, collect, &ev, &err),
                   BERTH_EGONE);
  assert_int_equal(err.http_code, 410);
  json_decref(obj);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_get_update_delete),
      cmocka_unit_test(test_list_paging),
      cmocka_unit_test(test_patch_and_status),
      cmocka_unit_test(test_conflict_loop),
      cmocka_unit_test(test_throttle_honoured),
      cmocka_unit_test(test_server_errors),
      cmocka_unit_test(test_wrong_token),
      cmocka_unit_test(test_watch),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
