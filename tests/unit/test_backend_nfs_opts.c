/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the NFS backend's StorageClass parameters
 * (provisioner/backends/nfs_opts.c), from tests/data/backends/params.json,
 * and of validate through the vtable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/nfs_int.h"

static json_t *load_cases(void)
{
  char path[1024];
  json_error_t jerr;
  json_t *root;

  snprintf(path, sizeof(path), "%s/backends/params.json", BERTH_TEST_DATA);
  root = json_load_file(path, 0, &jerr);
  if (root == NULL)
    fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
  return root;
}

static void expect_str(const char *name, const char *field, const json_t *want,
                       const char *got)
{
  if (want == NULL)
    return;
  if (json_is_null(want)) {
    if (got != NULL)
      fail_msg("%s: %s is \"%s\", expected none", name, field, got);
    return;
  }
  if (got == NULL || strcmp(got, json_string_value(want)) != 0)
    fail_msg("%s: %s is \"%s\", expected \"%s\"", name, field,
             got != NULL ? got : "(null)", json_string_value(want));
}

static void expect_opts(const char *name, const json_t *want,
                        const berth__nfsb_opts_t *o)
{
  json_t *v;
  char perms[8];

  expect_str(name, "url", json_object_get(want, "url"), o->url);
  expect_str(name, "server", json_object_get(want, "server"), o->server);
  expect_str(name, "export_path", json_object_get(want, "export_path"),
             o->export_path);
  expect_str(name, "pattern", json_object_get(want, "pattern"), o->pattern);
  expect_str(name, "on_delete", json_object_get(want, "on_delete"),
             berth__nfsb_on_delete_name(o->on_delete));
  snprintf(perms, sizeof(perms), "%o", o->perms);
  expect_str(name, "perms", json_object_get(want, "perms"), perms);
  v = json_object_get(want, "uid");
  if (v != NULL)
    assert_int_equal(o->uid, json_integer_value(v));
  v = json_object_get(want, "gid");
  if (v != NULL)
    assert_int_equal(o->gid, json_integer_value(v));
  v = json_object_get(want, "gid_range");
  if (v != NULL) {
    assert_true(o->gid_range);
    assert_int_equal(o->gid_min, json_integer_value(json_array_get(v, 0)));
    assert_int_equal(o->gid_max, json_integer_value(json_array_get(v, 1)));
    assert_int_equal(o->gid, BERTH__NFSB_NO_ID);
  } else {
    assert_false(o->gid_range);
  }
}

static void test_params_cases(void **state)
{
  json_t *root = load_cases();
  json_t *c;
  size_t i;

  (void)state;
  json_array_foreach(json_object_get(root, "cases"), i, c)
  {
    const char *name = json_string_value(json_object_get(c, "name"));
    json_t *error = json_object_get(c, "error");
    berth__nfsb_opts_t opts;
    berth_error_t err;
    berth_status_t st;

    berth_error_clear(&err);
    st = berth__nfsb_opts_parse(json_object_get(c, "defaults"),
                                json_object_get(c, "params"), &opts, &err);
    if (error != NULL) {
      if (st != BERTH_EINVAL)
        fail_msg("%s: %s, expected BERTH_EINVAL", name, berth_status_name(st));
      if (strstr(err.message, json_string_value(error)) == NULL)
        fail_msg("%s: message \"%s\" does not name %s", name, err.message,
                 json_string_value(error));
    } else {
      if (st != BERTH_OK)
        fail_msg("%s: %s: %s", name, berth_status_name(st), err.message);
      expect_opts(name, json_object_get(c, "expect"), &opts);
    }
    berth__nfsb_opts_cleanup(&opts);
  }
  json_decref(root);
}

/* The class's mountOptions set the version of berth's own connection. */
static void test_mount_version(void **state)
{
  static const struct {
    const char *url;
    const char *options; /* JSON array */
    const char *want;    /* the URL after, or NULL: BERTH_EINVAL */
  } cases[] = {
      {"nfs://h/e", "[\"nfsvers=4.1\"]", "nfs://h/e?version=4"},
      {"nfs://h/e?nfsport=2", "[\"hard\", \"vers=4\"]",
       "nfs://h/e?nfsport=2&version=4"},
      {"nfs://h/e", "[\"vers=3\"]", "nfs://h/e?version=3"},
      {"nfs://h/e", "[\"nfsvers=4.2\", \"nfsvers=3\"]", "nfs://h/e?version=3"},
      {"nfs://h/e", "[\"hard\", \"timeo=600\"]", "nfs://h/e"},
      {"nfs://h/e", "[]", "nfs://h/e"},
      {"nfs://h/e?version=4", "[\"nfsvers=4.0\"]", "nfs://h/e?version=4"},
      {"nfs://h/e?version=3", "[\"nfsvers=4.1\"]", NULL},
      {"nfs://h/e", "[\"nfsvers=2\"]", NULL},
      {"nfs://h/e", "[\"vers=5\"]", NULL},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *o = json_loads(cases[i].options, 0, NULL);
    char *url = strdup(cases[i].url);
    berth_error_t err;
    berth_status_t st;

    berth_error_clear(&err);
    st = berth__nfsb_url_mount_version(&url, o, &err);
    if (cases[i].want == NULL) {
      if (st != BERTH_EINVAL)
        fail_msg("%s %s: %s, expected BERTH_EINVAL", cases[i].url,
                 cases[i].options, berth_status_name(st));
    } else if (st != BERTH_OK || strcmp(url, cases[i].want) != 0) {
      fail_msg("%s %s: %s %s, expected %s", cases[i].url, cases[i].options,
               berth_status_name(st), url, cases[i].want);
    }
    free(url);
    json_decref(o);
  }
  /* No options at all (a PV without mountOptions). */
  {
    char *url = strdup("nfs://h/e");
    assert_int_equal(berth__nfsb_url_mount_version(&url, NULL, NULL), BERTH_OK);
    assert_string_equal(url, "nfs://h/e");
    free(url);
  }
}

/* validate through the vtable: the defaults given at create apply; an
 * unknown parameter is named, with the known ones listed. */
static void test_validate_vtable(void **state)
{
  berth_backend_nfs_config_t cfg;
  berth_backend_t *be = NULL;
  json_t *defaults =
      json_pack("{s:s, s:s}", "server", "nfs.example.com", "share", "/srv/nfs");
  json_t *params = json_pack("{s:s}", "archiveOnDelete", "false");
  berth_error_t err;

  (void)state;
  memset(&cfg, 0, sizeof(cfg));
  cfg.defaults = defaults;
  assert_int_equal(berth_backend_nfs_create(&cfg, &be, &err), BERTH_OK);
  json_decref(defaults); /* copied */
  assert_string_equal(berth_backend_name(be), "nfs");
  assert_int_equal(berth_backend_validate(be, params, &err), BERTH_OK);
  assert_int_equal(berth_backend_validate(be, NULL, &err), BERTH_OK);
  json_object_set_new(params, "mountOptions", json_string("hard"));
  assert_int_equal(berth_backend_validate(be, params, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "unknown StorageClass parameter "
                                      "\"mountOptions\""));
  assert_non_null(strstr(err.message, "pathPattern"));
  json_decref(params);
  /* Not an object. */
  params = json_string("x");
  assert_int_equal(berth_backend_validate(be, params, &err), BERTH_EINVAL);
  json_decref(params);
  berth_backend_destroy(be);

  /* No defaults: a class must name its export. */
  assert_int_equal(berth_backend_nfs_create(NULL, &be, &err), BERTH_OK);
  assert_int_equal(berth_backend_validate(be, NULL, &err), BERTH_EINVAL);
  assert_non_null(strstr(err.message, "no export"));
  berth_backend_destroy(be);
  berth_backend_destroy(NULL);

  /* Defaults with a bad export are refused at create. */
  defaults = json_pack("{s:s}", "server", "nfs.example.com");
  cfg.defaults = defaults;
  be = NULL;
  assert_int_equal(berth_backend_nfs_create(&cfg, &be, &err), BERTH_EINVAL);
  assert_null(be);
  json_decref(defaults);
}

static void test_on_delete_names(void **state)
{
  berth__nfsb_on_delete_t v;

  (void)state;
  assert_int_equal(berth__nfsb_on_delete_parse("retain", &v), BERTH_OK);
  assert_int_equal(v, BERTH__NFSB_ON_DELETE_RETAIN);
  assert_int_equal(berth__nfsb_on_delete_parse("archive", &v), BERTH_OK);
  assert_int_equal(v, BERTH__NFSB_ON_DELETE_ARCHIVE);
  assert_int_equal(berth__nfsb_on_delete_parse("Delete", &v), BERTH_EINVAL);
  assert_int_equal(berth__nfsb_on_delete_parse(NULL, &v), BERTH_EINVAL);
}

static void test_access_modes(void **state)
{
  (void)state;
  assert_int_equal(berth_access_mode_parse("ReadWriteMany"), BERTH_ACCESS_RWX);
  assert_int_equal(berth_access_mode_parse("ReadWriteOncePod"),
                   BERTH_ACCESS_RWOP);
  assert_int_equal(berth_access_mode_parse("readwritemany"), 0);
  assert_int_equal(berth_access_mode_parse(NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_cases),
      cmocka_unit_test(test_mount_version),
      cmocka_unit_test(test_validate_vtable),
      cmocka_unit_test(test_on_delete_names),
      cmocka_unit_test(test_access_modes),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
