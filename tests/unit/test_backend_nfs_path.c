/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the NFS backend's pathPattern expansion and path safety
 * (provisioner/backends/nfs_path.c): expansions from
 * tests/data/backends/patterns.txt, hostile claim values from
 * hostile-values.txt and hostile patterns from hostile-patterns.txt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/nfs_int.h"

#include "test_backend_data.c"

/* The claim of patterns.txt. */
typedef struct claim {
  json_t *annotations;
  json_t *labels;
  berth__nfsb_vars_t vars;
} claim_t;

static void claim_init(claim_t *c)
{
  memset(c, 0, sizeof(*c));
  c->annotations = json_pack("{s:s, s:s, s:s}", "example.com/dir", "web",
                             "empty", "", "dots", "a..b");
  c->labels = json_pack("{s:s, s:s, s:s}", "app", "wordpress", "tier", "db",
                        "v", "1.0");
  assert_non_null(c->annotations);
  assert_non_null(c->labels);
  c->vars.ns = "team-a";
  c->vars.name = "data";
  c->vars.pv_name = "pvc-1234";
  c->vars.annotations = c->annotations;
  c->vars.labels = c->labels;
}

static void claim_cleanup(claim_t *c)
{
  json_decref(c->annotations);
  json_decref(c->labels);
}

static void test_patterns_expand(void **state)
{
  tbd_file_t f;
  claim_t c;
  size_t i;

  (void)state;
  claim_init(&c);
  tbd_load("patterns.txt", &f);
  assert_true(f.n >= 10);
  for (i = 0; i < f.n; i++) {
    char *line = f.lines[i].s;
    char *tab = strchr(line, '\t');
    const char *pattern = line;
    berth_error_t err;
    char *out = NULL;
    berth_status_t st;

    assert_non_null(tab);
    *tab = '\0';
    if (strcmp(pattern, "<none>") == 0)
      pattern = NULL;
    berth_error_clear(&err);
    st = berth__nfsb_expand(pattern, &c.vars, &out, &err);
    if (st != BERTH_OK)
      fail_msg("pattern %s: %s: %s", line, berth_status_name(st), err.message);
    if (strcmp(out, tab + 1) != 0)
      fail_msg("pattern %s gave %s, expected %s", line, out, tab + 1);
    /* A pattern that expands for a claim passes validate too. */
    if (pattern != NULL)
      assert_int_equal(berth__nfsb_pattern_check(pattern, &err), BERTH_OK);
    free(out);
  }
  tbd_free(&f);
  claim_cleanup(&c);
}

/* Expand pattern with one claim field set to value; must be refused, with
 * a printable message, and *out untouched. */
static void expect_refused(const char *pattern, claim_t *c,
                           const tbd_line_t *value, const char *where)
{
  berth_error_t err;
  char *out = (char *)"untouched";
  berth_status_t st;

  berth_error_clear(&err);
  st = berth__nfsb_expand(pattern, &c->vars, &out, &err);
  if (st != BERTH_EINVAL) {
    char q[96];

    berth_backend_quote(value->s, value->len, q, sizeof(q));
    fail_msg("%s %s under %s: %s (%s), expected BERTH_EINVAL", where, q,
             pattern, berth_status_name(st),
             st == BERTH_OK ? out : err.message);
  }
  assert_string_equal(out, "untouched");
  assert_int_equal(err.status, BERTH_EINVAL);
  assert_true(err.message[0] != '\0');
  if (!tbd_printable(err.message))
    fail_msg("message with control bytes for %s", where);
}

static void test_hostile_values(void **state)
{
  tbd_file_t f;
  claim_t c;
  size_t i;

  (void)state;
  tbd_load("hostile-values.txt", &f);
  assert_true(f.n >= 20);
  for (i = 0; i < f.n; i++) {
    const tbd_line_t *v = &f.lines[i];
    json_t *j = json_stringn(v->s, v->len);

    assert_non_null(j);
    claim_init(&c);
    json_object_set(c.annotations, "dir", j);
    json_object_set(c.labels, "dir", j);
    expect_refused("vols/${.PVC.annotations.dir}", &c, v, "annotation");
    expect_refused("vols/${.PVC.labels.dir}", &c, v, "label");
    /* Names are C strings: one with a NUL byte cannot be given. */
    if (strlen(v->s) == v->len) {
      c.vars.ns = v->s;
      expect_refused("${.PVC.namespace}/x", &c, v, "namespace");
      c.vars.ns = "team-a";
      c.vars.name = v->s;
      expect_refused("x/${.PVC.name}", &c, v, "name");
      c.vars.name = "data";
    }
    json_decref(j);
    claim_cleanup(&c);
  }
  tbd_free(&f);
}

/* Names with '/' or control bytes are refused in the default name too;
 * "." and ".." are harmless there ("..-data-pvc-1234"). */
static void test_default_name(void **state)
{
  static const char *const bad[] = {"a/b",  "/", "../x", "a\nb",
                                    "\x1b", "",  NULL};
  berth_error_t err;
  char *out = NULL;
  claim_t c;
  size_t i;

  (void)state;
  claim_init(&c);
  for (i = 0; bad[i] != NULL; i++) {
    c.vars.ns = bad[i];
    assert_int_equal(berth__nfsb_expand(NULL, &c.vars, &out, &err),
                     BERTH_EINVAL);
    c.vars.ns = "team-a";
    c.vars.name = bad[i];
    assert_int_equal(berth__nfsb_expand(NULL, &c.vars, &out, &err),
                     BERTH_EINVAL);
    c.vars.name = "data";
    c.vars.pv_name = bad[i];
    assert_int_equal(berth__nfsb_expand(NULL, &c.vars, &out, &err),
                     BERTH_EINVAL);
    c.vars.pv_name = "pvc-1234";
  }
  c.vars.ns = "..";
  assert_int_equal(berth__nfsb_expand(NULL, &c.vars, &out, &err), BERTH_OK);
  assert_string_equal(out, "..-data-pvc-1234");
  free(out);
  claim_cleanup(&c);
}

static void test_hostile_patterns(void **state)
{
  tbd_file_t f;
  size_t i;

  (void)state;
  tbd_load("hostile-patterns.txt", &f);
  assert_true(f.n >= 15);
  for (i = 0; i < f.n; i++) {
    berth_error_t err;
    berth_status_t st;

    berth_error_clear(&err);
    st = berth__nfsb_pattern_check(f.lines[i].s, &err);
    if (st != BERTH_EINVAL)
      fail_msg("pattern %s: %s, expected BERTH_EINVAL", f.lines[i].s,
               berth_status_name(st));
    assert_non_null(strstr(err.message, "pathPattern"));
    assert_true(tbd_printable(err.message));
  }
  tbd_free(&f);
}

/* A string of n copies of c. */
static char *repeat(char c, size_t n)
{
  char *s = malloc(n + 1);

  assert_non_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

static void test_lengths(void **state)
{
  char *c255 = repeat('a', 255);
  char *c256 = repeat('a', 256);
  char *c250 = repeat('b', 250);
  berth_error_t err;
  char *out = NULL;
  claim_t c;

  (void)state;
  claim_init(&c);
  /* One component: 255 bytes pass, 256 do not. */
  json_object_set_new(c.annotations, "dir", json_string(c255));
  assert_int_equal(
      berth__nfsb_expand("${.PVC.annotations.dir}", &c.vars, &out, &err),
      BERTH_OK);
  assert_int_equal(strlen(out), 255);
  free(out);
  json_object_set_new(c.annotations, "dir", json_string(c256));
  assert_int_equal(
      berth__nfsb_expand("${.PVC.annotations.dir}", &c.vars, &out, &err),
      BERTH_EINVAL);
  assert_non_null(strstr(err.message, "longer than 255"));
  /* The whole path: five components of 250 bytes are 1254 > 1024. */
  json_object_set_new(c.annotations, "dir", json_string(c250));
  assert_int_equal(berth__nfsb_expand("${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}",
                                      &c.vars, &out, &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "1254 bytes"));
  /* Four are 1003: fine. */
  assert_int_equal(berth__nfsb_expand("${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}/"
                                      "${.PVC.annotations.dir}",
                                      &c.vars, &out, &err),
                   BERTH_OK);
  free(out);
  /* A very long namespace in the default name: refused, and the message
   * stays short. */
  c.vars.ns = c256;
  assert_int_equal(berth__nfsb_expand(NULL, &c.vars, &out, &err), BERTH_EINVAL);
  assert_true(strlen(err.message) < 400);
  free(c255);
  free(c256);
  free(c250);
  claim_cleanup(&c);
}

/* The message names the claim field at fault and shows the value
 * escaped. */
static void test_messages(void **state)
{
  berth_error_t err;
  char *out = NULL;
  claim_t c;

  (void)state;
  claim_init(&c);
  json_object_set_new(c.annotations, "dir", json_string("../../etc"));
  assert_int_equal(
      berth__nfsb_expand("${.PVC.annotations.dir}", &c.vars, &out, &err),
      BERTH_EINVAL);
  assert_non_null(strstr(err.message, "annotation \"dir\""));
  assert_non_null(strstr(err.message, "\"../../etc\""));
  json_object_set_new(c.labels, "dir", json_string("a\nb"));
  assert_int_equal(
      berth__nfsb_expand("x/${.PVC.labels.dir}", &c.vars, &out, &err),
      BERTH_EINVAL);
  assert_non_null(strstr(err.message, "\"x/a\\x0ab\""));
  assert_non_null(strstr(err.message, "control character"));
  assert_int_equal(berth__nfsb_pattern_check("${.PVC.uid}", &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "unknown variable ${\".PVC.uid\"}"));
  /* An annotation that is not a string (not from a real API server). */
  json_object_set_new(c.annotations, "n", json_integer(3));
  assert_int_equal(
      berth__nfsb_expand("${.PVC.annotations.n}", &c.vars, &out, &err),
      BERTH_EINVAL);
  claim_cleanup(&c);
}

static void test_path_check_and_leaf(void **state)
{
  static const char *const good[] = {
      "a",          "a/b/c",    "...",     "a..",   ".a",
      "archived-x", "a/.berth", ".berthx", ".bert", NULL};
  /* ".berth" at the export's root is berth's journal of volumes in
   * flight: never a volume nor a level above one. */
  static const char *const bad[] = {
      "",      "/",      "/a",    "a/",     "a//b",     ".", "..",
      "a/./b", "a/../b", "a\x01", ".berth", ".berth/x", NULL};
  berth_error_t err;
  size_t i;

  (void)state;
  for (i = 0; good[i] != NULL; i++)
    assert_int_equal(berth__nfsb_path_check(good[i], "test", &err), BERTH_OK);
  for (i = 0; bad[i] != NULL; i++)
    assert_int_equal(berth__nfsb_path_check(bad[i], "test", &err),
                     BERTH_EINVAL);
  assert_int_equal(berth__nfsb_path_check(NULL, "test", &err), BERTH_EINVAL);
  /* The error says why, in the user's terms. */
  assert_int_equal(berth__nfsb_path_check("/etc/x", "test", &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "absolute path \"/etc/x\""));
  assert_int_equal(berth__nfsb_path_check("a/../b", "test", &err),
                   BERTH_EINVAL);
  assert_non_null(strstr(err.message, "component 2 is \"..\""));
  assert_string_equal(berth__nfsb_leaf("a/b/c"), "c");
  assert_string_equal(berth__nfsb_leaf("c"), "c");
}

static void test_quote(void **state)
{
  char out[24];

  (void)state;
  berth_backend_quote("ab", 2, out, sizeof(out));
  assert_string_equal(out, "\"ab\"");
  berth_backend_quote("a\"\\\n", 4, out, sizeof(out));
  assert_string_equal(out, "\"a\\\"\\\\\\x0a\"");
  berth_backend_quote("a\0b", 3, out, sizeof(out));
  assert_string_equal(out, "\"a\\x00b\"");
  /* Cut short: never inside a UTF-8 sequence. "é" is two bytes. */
  berth_backend_quote("abcdefgh\xc3\xa9", 10, out, 12);
  assert_string_equal(out, "\"abcdef...\"");
  berth_backend_quote("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, out, 12);
  assert_string_equal(out, "\"\xc3\xa9\xc3\xa9\xc3\xa9...\"");
  /* Invalid UTF-8 is escaped. */
  berth_backend_quote("\xff", 1, out, sizeof(out));
  assert_string_equal(out, "\"\\xff\"");
  /* Overlong forms, UTF-16 surrogates and code points above U+10FFFF are
   * not UTF-8 (RFC 3629 section 3): every byte of them is escaped. */
  berth_backend_quote("\xc0\xaf", 2, out, sizeof(out));
  assert_string_equal(out, "\"\\xc0\\xaf\"");
  berth_backend_quote("\xe0\x80\xaf", 3, out, sizeof(out));
  assert_string_equal(out, "\"\\xe0\\x80\\xaf\"");
  berth_backend_quote("\xed\xa0\x80", 3, out, sizeof(out));
  assert_string_equal(out, "\"\\xed\\xa0\\x80\"");
  berth_backend_quote("\xf4\x90\x80", 3, out, sizeof(out));
  assert_string_equal(out, "\"\\xf4\\x90\\x80\"");
  berth_backend_quote("\xf0\x80\x80", 3, out, sizeof(out));
  assert_string_equal(out, "\"\\xf0\\x80\\x80\"");
  /* The largest code point and the last before the surrogates pass. */
  berth_backend_quote("\xf4\x8f\xbf\xbf", 4, out, sizeof(out));
  assert_string_equal(out, "\"\xf4\x8f\xbf\xbf\"");
  berth_backend_quote("\xed\x9f\xbf", 3, out, sizeof(out));
  assert_string_equal(out, "\"\xed\x9f\xbf\"");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_patterns_expand),
      cmocka_unit_test(test_hostile_values),
      cmocka_unit_test(test_default_name),
      cmocka_unit_test(test_hostile_patterns),
      cmocka_unit_test(test_lengths),
      cmocka_unit_test(test_messages),
      cmocka_unit_test(test_path_check_and_leaf),
      cmocka_unit_test(test_quote),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
