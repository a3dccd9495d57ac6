/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the informers' decode arenas (lib/k8s/informer_arena.c).
 * Inside a scope jansson's values come from the arena and are released
 * with it; values made before it, or while it is suspended, are malloc's
 * and outlive it; scopes do not nest; big values fit. A value that the
 * arena wrongly kept would be unmapped when its scope ends, so reading
 * it afterwards crashes the test; one that malloc wrongly got back would
 * be reported by ASan (a bad free, or a leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "berth/k8s_informer.h"
#include "informer_int.h"

/* A document shaped like a list page: n objects with managedFields. */
static char *page_text(int n)
{
  json_t *items = json_array();
  json_t *page;
  char *text;
  int i;

  for (i = 0; i < n; i++)
    json_array_append_new(
        items, json_pack("{s:{s:s+, s:s, s:[{s:s, s:{s:{s:{}}}}]}, s:{s:s}}",
                         "metadata", "name", "claim-", i % 2 ? "odd" : "even",
                         "namespace", "default", "managedFields", "manager",
                         "kube-controller-manager", "fieldsV1", "f:spec",
                         "f:volumeName", "spec", "storageClassName", "nfs"));
  page = json_pack("{s:s, s:o}", "kind", "PersistentVolumeClaimList", "items",
                   items);
  text = json_dumps(page, JSON_COMPACT);
  json_decref(page);
  return text;
}

static void test_scope_holds_and_releases(void **state)
{
  char *text = page_text(200);
  json_t *before = json_string("made before the scope");
  json_t *doc;
  bool opened;

  (void)state;
  assert_int_equal(berth__k8s_arena_mapped(), 0);
  opened = berth__k8s_arena_begin();
  assert_true(opened);
  doc = json_loads(text, 0, NULL);
  assert_non_null(doc);
  assert_int_equal(json_array_size(json_object_get(doc, "items")), 200);
  /* The page went to the arena: more than its text's size is mapped. */
  assert_true(berth__k8s_arena_mapped() > strlen(text));
  /* A heap value freed inside the scope goes back to malloc (else LSan
   * reports it lost). */
  json_decref(before);
  /* Freeing an arena value does nothing (not free(): ASan would say
   * "bad free"). */
  json_object_del(doc, "kind");
  json_decref(doc);
  berth__k8s_arena_end(opened);
  assert_int_equal(berth__k8s_arena_mapped(), 0);
  berth__k8s_json_free(text);
}

static void test_suspended_outlives(void **state)
{
  json_t *doc;
  json_t *kept;
  json_t *text;
  bool opened;
  bool was;

  (void)state;
  opened = berth__k8s_arena_begin();
  assert_true(opened);
  doc = json_pack("{s:{s:s}, s:[i, i, i]}", "metadata", "name", "a", "n", 1, 2,
                  3);
  was = berth__k8s_arena_suspend();
  assert_false(was);
  kept = json_object();
  json_object_set_new(kept, "name", json_string("kept"));
  berth__k8s_arena_resume(was);
  /* An arena object turned to text: the text is malloc's. */
  text = berth__k8s_text_of(json_incref(doc));
  json_decref(doc);
  berth__k8s_arena_end(opened);
  assert_string_equal(json_string_value(json_object_get(kept, "name")), "kept");
  assert_string_equal(json_string_value(text),
                      "{\"metadata\":{\"name\":\"a\"},\"n\":[1,2,3]}");
  json_decref(kept);
  json_decref(text);
}

static void test_no_nesting(void **state)
{
  bool outer;
  bool inner;
  json_t *a;
  json_t *b;

  (void)state;
  outer = berth__k8s_arena_begin();
  assert_true(outer);
  a = json_string("outer");
  inner = berth__k8s_arena_begin();
  assert_false(inner);
  b = json_string("inner, still the outer arena");
  berth__k8s_arena_end(inner);
  /* The inner end released nothing: both still readable. */
  assert_string_equal(json_string_value(a), "outer");
  assert_string_equal(json_string_value(b), "inner, still the outer arena");
  assert_true(berth__k8s_arena_mapped() > 0);
  json_decref(a);
  json_decref(b);
  berth__k8s_arena_end(outer);
  assert_int_equal(berth__k8s_arena_mapped(), 0);
}

/* Values bigger than a chunk, and many chunks. */
static void test_big_values(void **state)
{
  size_t big = 3 * 1024 * 1024 + 17;
  char *s = malloc(big + 1);
  json_t *arr;
  json_t *v;
  bool opened;
  int i;

  (void)state;
  assert_non_null(s);
  memset(s, 'x', big);
  s[big] = '\0';
  opened = berth__k8s_arena_begin();
  v = json_string(s);
  assert_non_null(v);
  assert_int_equal(json_string_length(v), big);
  arr = json_array();
  for (i = 0; i < 20000; i++)
    assert_int_equal(json_array_append_new(arr, json_integer(i)), 0);
  assert_int_equal(json_integer_value(json_array_get(arr, 19999)), 19999);
  assert_int_equal(json_string_value(v)[big - 1], 'x');
  assert_true(berth__k8s_arena_mapped() > big);
  json_decref(v);
  json_decref(arr);
  berth__k8s_arena_end(opened);
  free(s);
}

/* A scope is the thread's own: another thread allocates from malloc
 * meanwhile, and its values outlive this thread's scope. */
static void *other_thread(void *arg)
{
  json_t **out = arg;

  *out = json_string("made on another thread");
  return NULL;
}

static void test_per_thread(void **state)
{
  pthread_t t;
  json_t *other = NULL;
  bool opened;

  (void)state;
  opened = berth__k8s_arena_begin();
  assert_true(opened);
  assert_int_equal(pthread_create(&t, NULL, other_thread, &other), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  berth__k8s_arena_end(opened);
  assert_string_equal(json_string_value(other), "made on another thread");
  json_decref(other);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scope_holds_and_releases),
      cmocka_unit_test(test_suspended_outlives),
      cmocka_unit_test(test_no_nesting),
      cmocka_unit_test(test_big_values),
      cmocka_unit_test(test_per_thread),
  };

  /* Twice: the second call finds berth's allocator installed. */
  if (berth_k8s_informer_use_arenas() != BERTH_OK ||
      berth_k8s_informer_use_arenas() != BERTH_OK)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
