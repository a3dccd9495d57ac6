/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: safe typed JSON access (lib/json/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/json.h"

static json_t *load_fixture(const char *name, berth_status_t *st,
                            berth_error_t *err)
{
  char path[1024];
  char data[8192];
  FILE *f;
  size_t n;
  json_t *doc = NULL;

  snprintf(path, sizeof(path), "%s/json/%s", BERTH_TEST_DATA, name);
  f = fopen(path, "rb");
  assert_non_null(f);
  n = fread(data, 1, sizeof(data), f);
  fclose(f);
  *st = berth_json_parse(data, n, &doc, err);
  return doc;
}

static void test_typed_getters(void **state)
{
  berth_error_t err;
  berth_status_t st;
  json_t *doc = load_fixture("pvc.json", &st, &err);
  const char *s = NULL;
  long long i = 0;
  bool b = true;
  json_t *v = NULL;

  (void)state;
  assert_int_equal(st, BERTH_OK);
  assert_int_equal(berth_json_get_string(doc, "metadata.name", &s, &err),
                   BERTH_OK);
  assert_string_equal(s, "data-mongo-0");
  assert_int_equal(
      berth_json_get_string(
          doc, "metadata.annotations[\"volume.kubernetes.io/selected-node\"]",
          &s, &err),
      BERTH_OK);
  assert_string_equal(s, "node-a");
  assert_int_equal(berth_json_get_string(doc, "spec.accessModes[0]", &s, &err),
                   BERTH_OK);
  assert_string_equal(s, "ReadWriteOnce");
  assert_int_equal(berth_json_get_int(doc, "status.capacityBytes", &i, &err),
                   BERTH_OK);
  assert_int_equal(i, 1073741824LL);
  assert_int_equal(berth_json_get_bool(doc, "status.ready", &b, &err),
                   BERTH_OK);
  assert_false(b);
  assert_int_equal(
      berth_json_get_object(doc, "spec.resources.requests", &v, &err),
      BERTH_OK);
  assert_true(json_is_object(v));
  assert_int_equal(berth_json_get_array(doc, "spec.accessModes", &v, &err),
                   BERTH_OK);
  assert_int_equal(json_array_size(v), 1);
  json_decref(doc);
}

static void test_errors_name_the_path(void **state)
{
  berth_error_t err;
  berth_status_t st;
  json_t *doc = load_fixture("pvc.json", &st, &err);
  const char *s = "untouched";
  long long i = 5;

  (void)state;
  berth_error_clear(&err);
  assert_int_equal(berth_json_get_string(doc, "metadata.missing", &s, &err),
                   BERTH_EPARSE);
  assert_string_equal(err.message, "metadata.missing: missing");
  assert_string_equal(s, "untouched");

  assert_int_equal(berth_json_get_string(doc, "status.capacityBytes", &s, &err),
                   BERTH_EPARSE);
  assert_string_equal(err.message,
                      "status.capacityBytes: expected string, got integer");

  assert_int_equal(
      berth_json_get_int(doc, "metadata.resourceVersion", &i, &err),
      BERTH_EPARSE);
  assert_string_equal(err.message,
                      "metadata.resourceVersion: expected integer, got string");
  assert_int_equal(i, 5);

  /* Walking through a value of the wrong type. */
  assert_int_equal(berth_json_get_string(doc, "metadata.name.first", &s, &err),
                   BERTH_EPARSE);
  assert_string_equal(err.message,
                      "metadata.name: expected object, got string");
  assert_int_equal(berth_json_get_string(doc, "spec.accessModes[3]", &s, &err),
                   BERTH_EPARSE);
  assert_string_equal(err.message, "spec.accessModes[3]: missing");
  assert_int_equal(berth_json_get_string(doc, "metadata[0]", &s, &err),
                   BERTH_EPARSE);

  /* Malformed paths are the caller's bug, not the document's. */
  assert_int_equal(berth_json_get_string(doc, "metadata..name", &s, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_json_get_string(doc, "spec.accessModes[x]", &s, &err),
                   BERTH_EINVAL);
  assert_int_equal(berth_json_get_string(doc, "metadata[\"name", &s, &err),
                   BERTH_EINVAL);
  json_decref(doc);
}

static void test_optional_getters(void **state)
{
  berth_error_t err;
  berth_status_t st;
  json_t *doc = load_fixture("pvc.json", &st, &err);
  const char *s = NULL;
  long long i = 0;
  bool b = false;
  json_t *v = (json_t *)1;

  (void)state;
  assert_int_equal(
      berth_json_opt_string(doc, "spec.volumeName", "none", &s, &err),
      BERTH_OK);
  assert_string_equal(s, "none");
  assert_int_equal(berth_json_opt_int(doc, "spec.x", 9, &i, &err), BERTH_OK);
  assert_int_equal(i, 9);
  assert_int_equal(berth_json_opt_bool(doc, "spec.x", true, &b, &err),
                   BERTH_OK);
  assert_true(b);
  /* null counts as missing. */
  assert_int_equal(berth_json_opt_array(doc, "status.conditions", &v, &err),
                   BERTH_OK);
  assert_null(v);
  assert_int_equal(berth_json_opt_object(doc, "metadata.labels", &v, &err),
                   BERTH_OK);
  assert_non_null(v);
  /* Present with the wrong type is still an error. */
  assert_int_equal(berth_json_opt_string(doc, "metadata.labels", "d", &s, &err),
                   BERTH_EPARSE);
  assert_string_equal(err.message,
                      "metadata.labels: expected string, got object");
  assert_int_equal(berth_json_opt_string(doc, "metadata.name.x", "d", &s, &err),
                   BERTH_EPARSE);
  json_decref(doc);
}

static void test_malformed_documents(void **state)
{
  berth_error_t err;
  berth_status_t st;
  json_t *doc;
  char deep[70000];
  size_t i;

  (void)state;
  doc = load_fixture("truncated.json", &st, &err);
  assert_int_equal(st, BERTH_EPARSE);
  assert_null(doc);
  assert_non_null(strstr(err.message, "invalid JSON at line 1"));

  doc = load_fixture("duplicate-key.json", &st, &err);
  assert_int_equal(st, BERTH_EPARSE);
  assert_null(doc);

  /* Hostile nesting is refused, not a stack overflow. */
  for (i = 0; i < sizeof(deep) - 1; i++)
    deep[i] = '[';
  deep[sizeof(deep) - 1] = '\0';
  doc = NULL;
  assert_int_equal(berth_json_parse(deep, strlen(deep), &doc, &err),
                   BERTH_EPARSE);
  assert_null(doc);

  assert_int_equal(berth_json_parse("", 0, &doc, &err), BERTH_EPARSE);
  assert_int_equal(berth_json_parse("{\"a\":1} x", 9, &doc, &err),
                   BERTH_EPARSE);
}

static void test_embedded_nul(void **state)
{
  static const char text[] = "{\"metadata\":{\"name\":\"ok\",\"annotations\":{"
                             "\"a\":\"x\\u0000../../etc\"}}}";
  berth_error_t err;
  json_t *doc = NULL;
  const char *s = "untouched";

  (void)state;
  /* One hostile string does not make the document unreadable... */
  assert_int_equal(berth_json_parse(text, strlen(text), &doc, &err), BERTH_OK);
  assert_int_equal(berth_json_get_string(doc, "metadata.name", &s, &err),
                   BERTH_OK);
  assert_string_equal(s, "ok");
  /* ...but the string itself is never handed out cut short. */
  assert_int_equal(
      berth_json_get_string(doc, "metadata.annotations.a", &s, &err),
      BERTH_EPARSE);
  assert_string_equal(err.message,
                      "metadata.annotations.a: contains a NUL byte");
  assert_int_equal(
      berth_json_opt_string(doc, "metadata.annotations.a", "d", &s, &err),
      BERTH_EPARSE);
  assert_string_equal(s, "ok");
  json_decref(doc);
}

static void test_dump(void **state)
{
  berth_buf_t out;
  json_t *v = json_pack("{s:s,s:i}", "name", "a\"b", "n", 3);

  (void)state;
  berth_buf_init(&out);
  assert_int_equal(berth_json_dump(v, &out), BERTH_OK);
  assert_string_equal(berth_buf_str(&out), "{\"name\":\"a\\\"b\",\"n\":3}");
  berth_buf_cleanup(&out);
  json_decref(v);
  assert_string_equal(berth_json_type_name(NULL), "nothing");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_typed_getters),
      cmocka_unit_test(test_errors_name_the_path),
      cmocka_unit_test(test_optional_getters),
      cmocka_unit_test(test_malformed_documents),
      cmocka_unit_test(test_embedded_nul),
      cmocka_unit_test(test_dump),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
