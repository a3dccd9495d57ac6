/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the informer's changes to its cache through a transform
 * (lib/k8s/informer_apply.c) and the compact store (informer_store.c),
 * without a server: watch events and relists
 * are applied to an informer that is never started, and the queued
 * notifications are read back. Objects that stop passing the transform
 * leave the cache with a delete; objects that start passing come in with
 * an add; a relist delivers only the differences; a compact cache gives
 * back what was stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/k8s.h"
#include "berth/k8s_informer.h"
#include "informer_int.h"

static berth_k8s_client_t *client;

/* The test transform: objects labelled mine=yes pass, without their
 * managedFields; the rest are left out. Counts its calls. */
static int transforms;

static json_t *mine_only(void *ctx, json_t *obj)
{
  const char *v = json_string_value(json_object_get(
      json_object_get(json_object_get(obj, "metadata"), "labels"), "mine"));

  (void)ctx;
  transforms++;
  if (v == NULL || strcmp(v, "yes") != 0)
    return NULL;
  json_object_del(json_object_get(obj, "metadata"), "managedFields");
  return json_incref(obj);
}

static json_t *obj(const char *name, const char *rv, bool mine)
{
  return json_pack("{s:{s:s, s:s, s:s, s:{s:s}, s:[{s:s}]}, s:{s:s}}",
                   "metadata", "name", name, "namespace", "ns",
                   "resourceVersion", rv, "labels", "mine", mine ? "yes" : "no",
                   "managedFields", "manager", "kubectl", "spec", "size",
                   "1Gi");
}

static berth_k8s_informer_t *informer(bool compact)
{
  berth_k8s_informer_options_t o;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;

  memset(&o, 0, sizeof(o));
  o.resource = &berth_k8s_res_configmaps;
  o.transform = mine_only;
  o.compact = compact;
  assert_int_equal(berth_k8s_informer_create(client, &o, NULL, &inf, &err),
                   BERTH_OK);
  transforms = 0;
  return inf;
}

/* The queued notifications as "add a 2 | update a 2>3 | delete a 3",
 * emptying the queue. */
static void notes(berth_k8s_informer_t *inf, char *out, size_t size)
{
  berth__k8s_note_t *n;
  static const char *const kinds[] = {"add", "update", "delete"};
  size_t len = 0;

  out[0] = '\0';
  while ((n = inf->head) != NULL) {
    inf->head = n->next;
    if (n->next == NULL)
      inf->tail = NULL;
    /* A compact informer queues text, decoded when the handlers run. */
    if (json_is_string(n->new_obj))
      n->new_obj = berth__k8s_object_of(n->new_obj);
    if (json_is_string(n->old_obj))
      n->old_obj = berth__k8s_object_of(n->old_obj);
    assert_non_null(n->new_obj);
    assert_null(json_object_get(json_object_get(n->new_obj, "metadata"),
                                "managedFields"));
    if (n->type == NOTE_UPDATE)
      len += (size_t)snprintf(out + len, size - len, "%s%s %s %s>%s",
                              len ? " | " : "", kinds[n->type],
                              berth_k8s_obj_name(n->new_obj),
                              berth_k8s_obj_resource_version(n->old_obj),
                              berth_k8s_obj_resource_version(n->new_obj));
    else
      len += (size_t)snprintf(out + len, size - len, "%s%s %s %s",
                              len ? " | " : "", kinds[n->type],
                              berth_k8s_obj_name(n->new_obj),
                              berth_k8s_obj_resource_version(n->new_obj));
    json_decref(n->old_obj);
    json_decref(n->new_obj);
    free(n);
  }
}

/* When set, each event and each list page is made and applied in a
 * decode arena (informer_arena.c), as a compact informer does, and the
 * scope ends before anything is read back: whatever the cache, its
 * indexes or the queue kept from the arena would be unmapped by then, and
 * reading it would crash the test. */
static bool in_arena;

static bool arena_begin(void)
{
  bool opened = in_arena && berth__k8s_arena_begin();

  assert_true(opened == in_arena);
  return opened;
}

static void arena_end(bool opened)
{
  if (opened)
    assert_true(berth__k8s_arena_mapped() > 0); /* it did hold the values */
  berth__k8s_arena_end(opened);
}

static void event(berth_k8s_informer_t *inf, berth_k8s_event_type_t type,
                  const char *name, const char *rv, bool mine)
{
  bool opened = arena_begin();
  json_t *o = obj(name, rv, mine);

  berth__k8s_informer_apply(inf, type, o);
  json_decref(o);
  arena_end(opened);
}

static void test_transitions(bool compact)
{
  berth_k8s_informer_t *inf = informer(compact);
  char got[512];
  json_t *cached;

  /* Not ours: nothing cached, nothing said. */
  event(inf, BERTH_K8S_EVENT_ADDED, "a", "1", false);
  notes(inf, got, sizeof(got));
  assert_string_equal(got, "");
  assert_int_equal(berth_k8s_informer_count(inf), 0);
  /* Becomes ours: an add. */
  event(inf, BERTH_K8S_EVENT_MODIFIED, "a", "2", true);
  notes(inf, got, sizeof(got));
  assert_string_equal(got, "add a 2");
  assert_true(berth_k8s_informer_has(inf, "ns", "a"));
  cached = berth_k8s_informer_get(inf, "ns", "a");
  assert_non_null(cached);
  assert_string_equal(berth_k8s_obj_resource_version(cached), "2");
  assert_null(
      json_object_get(json_object_get(cached, "metadata"), "managedFields"));
  assert_string_equal(json_string_value(json_object_get(
                          json_object_get(cached, "spec"), "size")),
                      "1Gi");
  json_decref(cached);
  /* Stays ours: an update; a replay of the same version: nothing, and
   * not even a transform. */
  event(inf, BERTH_K8S_EVENT_MODIFIED, "a", "3", true);
  transforms = 0;
  event(inf, BERTH_K8S_EVENT_MODIFIED, "a", "3", true);
  assert_int_equal(transforms, 0);
  notes(inf, got, sizeof(got));
  assert_string_equal(got, "update a 2>3");
  /* Stops being ours: a delete with the last state we had. */
  event(inf, BERTH_K8S_EVENT_MODIFIED, "a", "4", false);
  notes(inf, got, sizeof(got));
  assert_string_equal(got, "delete a 3");
  assert_false(berth_k8s_informer_has(inf, "ns", "a"));
  /* Deleted while not ours: nothing. Deleted while ours: a delete. */
  event(inf, BERTH_K8S_EVENT_DELETED, "a", "5", false);
  event(inf, BERTH_K8S_EVENT_ADDED, "b", "6", true);
  event(inf, BERTH_K8S_EVENT_DELETED, "b", "7", true);
  notes(inf, got, sizeof(got));
  assert_string_equal(got, "add b 6 | delete b 7");
  assert_int_equal(berth_k8s_informer_count(inf), 0);
  berth_k8s_informer_destroy(inf);
}

static void test_transitions_tree(void **state)
{
  (void)state;
  test_transitions(false);
}

static void test_transitions_compact(void **state)
{
  (void)state;
  test_transitions(true);
}

/* A list page as the server sends it. */
static json_t *page(int n, ...)
{
  json_t *items = json_array();
  va_list ap;
  int i;

  va_start(ap, n);
  for (i = 0; i < n; i++) {
    const char *name = va_arg(ap, const char *);
    const char *rv = va_arg(ap, const char *);
    int mine = va_arg(ap, int);
    json_array_append_new(items, obj(name, rv, mine != 0));
  }
  va_end(ap);
  return items;
}

/* Stage one page, a copy of p made in the page's arena if in_arena. */
static void stage(berth_k8s_informer_t *inf, berth__k8s_relist_t *r, json_t *p)
{
  bool opened = arena_begin();
  json_t *copy = json_deep_copy(p);

  assert_int_equal(berth__k8s_relist_page(inf, r, copy), BERTH_OK);
  json_decref(copy);
  arena_end(opened);
}

static void relist(berth_k8s_informer_t *inf, json_t *p1, json_t *p2)
{
  berth__k8s_relist_t r;

  berth__k8s_relist_init(&r);
  stage(inf, &r, p1);
  if (p2 != NULL)
    stage(inf, &r, p2);
  berth__k8s_relist_commit(inf, &r);
  berth__k8s_relist_cleanup(&r);
  json_decref(p1);
  json_decref(p2);
}

/* A relist after 410 delivers only the differences, in both directions
 * of "ours", and stages nothing for what it leaves out. */
static void test_relist(void **state)
{
  berth_k8s_informer_t *inf = informer(true);
  char got[512];
  berth__k8s_relist_t r;
  json_t *p;

  (void)state;
  relist(inf, page(2, "same", "1", 1, "leaves", "1", 1),
         page(3, "changes", "1", 1, "gone", "1", 1, "foreign", "1", 0));
  notes(inf, got, sizeof(got));
  /* In list order. */
  assert_string_equal(got, "add same 1 | add leaves 1 | add changes 1 | "
                           "add gone 1");
  assert_int_equal(berth_k8s_informer_count(inf), 4);

  /* Foreign objects not cached take no room in a relist; passing ones
   * are staged as text in a compact informer. */
  berth__k8s_relist_init(&r);
  p = page(4, "f1", "2", 0, "f2", "2", 0, "same", "1", 1, "new", "1", 1);
  assert_int_equal(berth__k8s_relist_page(inf, &r, p), BERTH_OK);
  assert_int_equal(json_object_size(r.staged), 2);
  assert_true(json_is_false(json_object_get(r.staged, "ns/same")));
  assert_true(json_is_string(json_object_get(r.staged, "ns/new")));
  berth__k8s_relist_cleanup(&r);
  json_decref(p);

  transforms = 0;
  relist(inf, page(2, "same", "1", 1, "leaves", "2", 0),
         page(3, "changes", "2", 1, "foreign", "2", 1, "other", "2", 0));
  /* "same" is not transformed again. */
  assert_int_equal(transforms, 4);
  notes(inf, got, sizeof(got));
  /* changes: update; foreign became ours: add; leaves stopped being ours
   * and gone vanished: deletes with their last state; same: nothing. */
  assert_non_null(strstr(got, "update changes 1>2"));
  assert_non_null(strstr(got, "add foreign 2"));
  assert_non_null(strstr(got, "delete leaves 1"));
  assert_non_null(strstr(got, "delete gone 1"));
  assert_null(strstr(got, "same"));
  assert_null(strstr(got, "other"));
  assert_int_equal(berth_k8s_informer_count(inf), 3);
  berth_k8s_informer_destroy(inf);
}

/* Without a transform everything is cached, whole. */
static void test_no_transform(void **state)
{
  berth_k8s_informer_options_t o;
  berth_k8s_informer_t *inf = NULL;
  berth_error_t err;
  json_t *cached;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.resource = &berth_k8s_res_configmaps;
  assert_int_equal(berth_k8s_informer_create(client, &o, NULL, &inf, &err),
                   BERTH_OK);
  relist(inf, page(1, "x", "1", 0), NULL);
  cached = berth_k8s_informer_get(inf, "ns", "x");
  assert_non_null(
      json_object_get(json_object_get(cached, "metadata"), "managedFields"));
  json_decref(cached);
  berth_k8s_informer_destroy(inf);
}

/* A compact cache gives back exactly what was stored, strings with NUL
 * bytes (a hostile annotation) included. */
static void test_compact_round_trip(void **state)
{
  berth_k8s_informer_t *inf = informer(true);
  json_t *o = obj("n", "1", true);
  json_t *want;
  json_t *cached;
  char got[256];

  (void)state;
  json_object_set_new(json_object_get(o, "metadata"), "annotations",
                      json_pack("{s:s#, s:s}", "dir", "x\0../etc", (size_t)9,
                                "note", "caf\xc3\xa9 \"quoted\"\n"));
  json_object_set_new(json_object_get(o, "spec"), "n", json_integer(-7));
  json_object_set_new(json_object_get(o, "spec"), "big",
                      json_integer(9007199254740993LL));
  berth__k8s_informer_apply(inf, BERTH_K8S_EVENT_ADDED, o);
  want = json_deep_copy(o);
  json_object_del(json_object_get(want, "metadata"), "managedFields");
  cached = berth_k8s_informer_get(inf, "ns", "n");
  assert_non_null(cached);
  assert_true(json_equal(cached, want));
  json_decref(cached);
  json_decref(want);
  json_decref(o);
  notes(inf, got, sizeof(got));
  berth_k8s_informer_destroy(inf);
}

/* Indexes of a compact cache find the objects again. */
static berth_status_t by_size(void *ctx, const json_t *o,
                              berth_k8s_index_values_t *values)
{
  (void)ctx;
  return berth_k8s_index_values_add(
      values,
      json_string_value(json_object_get(json_object_get(o, "spec"), "size")));
}

static void test_compact_index(void **state)
{
  berth_k8s_informer_t *inf = informer(true);
  berth_error_t err;
  json_t *found;
  char got[256];

  (void)state;
  assert_int_equal(
      berth_k8s_informer_add_index(inf, "size", by_size, NULL, &err), BERTH_OK);
  relist(inf, page(3, "a", "1", 1, "b", "1", 1, "c", "1", 0), NULL);
  notes(inf, got, sizeof(got));
  found = berth_k8s_informer_by_index(inf, "size", "1Gi");
  assert_int_equal(json_array_size(found), 2);
  assert_string_equal(berth_k8s_obj_name(json_array_get(found, 0)), "a");
  assert_string_equal(berth_k8s_obj_name(json_array_get(found, 1)), "b");
  json_decref(found);
  event(inf, BERTH_K8S_EVENT_MODIFIED, "a", "2", false);
  found = berth_k8s_informer_by_index(inf, "size", "1Gi");
  assert_int_equal(json_array_size(found), 1);
  json_decref(found);
  found = berth_k8s_informer_list(inf);
  assert_int_equal(json_array_size(found), 1);
  json_decref(found);
  /* A new index value from a watch event. */
  event(inf, BERTH_K8S_EVENT_ADDED, "d", "3", true);
  found = berth_k8s_informer_by_index(inf, "size", "1Gi");
  assert_int_equal(json_array_size(found), 2);
  assert_string_equal(berth_k8s_obj_name(json_array_get(found, 1)), "d");
  json_decref(found);
  notes(inf, got, sizeof(got));
  berth_k8s_informer_destroy(inf);
}

/* berth_k8s_informer_each: every cached object in key order, one at a
 * time, until the callback says stop. */
typedef struct walk {
  char names[256];
  int calls;
  int stop_after;
} walk_t;

static bool walk_one(void *ctx, json_t *o)
{
  walk_t *w = ctx;
  size_t len = strlen(w->names);

  snprintf(w->names + len, sizeof(w->names) - len, "%s%s", len ? " " : "",
           berth_k8s_obj_name(o));
  assert_null(json_object_get(json_object_get(o, "metadata"), "managedFields"));
  return ++w->calls != w->stop_after;
}

static void test_each(void **state)
{
  bool compact;
  berth_k8s_informer_t *inf;
  walk_t w;
  char got[256];

  (void)state;
  for (compact = false;; compact = true) {
    inf = informer(compact);
    event(inf, BERTH_K8S_EVENT_ADDED, "c", "1", true);
    event(inf, BERTH_K8S_EVENT_ADDED, "a", "1", true);
    event(inf, BERTH_K8S_EVENT_ADDED, "x", "1", false);
    event(inf, BERTH_K8S_EVENT_ADDED, "b", "1", true);
    notes(inf, got, sizeof(got));
    memset(&w, 0, sizeof(w));
    assert_int_equal(berth_k8s_informer_each(inf, walk_one, &w), BERTH_OK);
    assert_string_equal(w.names, "a b c");
    memset(&w, 0, sizeof(w));
    w.stop_after = 2;
    assert_int_equal(berth_k8s_informer_each(inf, walk_one, &w), BERTH_OK);
    assert_string_equal(w.names, "a b");
    berth_k8s_informer_destroy(inf);
    if (compact)
      break;
  }
}

/* A churning cache (every object replaced again and again, as claims
 * and PVs are while they are bound) maps little more than it keeps: the
 * dead records are compacted away once they pass a quarter of the used
 * bytes, so the blocks stay within a third (plus a block or two) over the
 * live records at every step. */
static void test_store_churn(void **state)
{
  berth__k8s_store_t *s = NULL;
  char key[32];
  char text[1100];
  size_t live = 0;
  size_t worst = 0;
  unsigned seed = 42;
  size_t len;
  int i;
  int n;

  (void)state;
  assert_int_equal(berth__k8s_store_create(&s), BERTH_OK);
  memset(text, 'x', sizeof(text));
  for (i = 0; i < 2000; i++) {
    snprintf(key, sizeof(key), "default/claim-%d", i);
    assert_int_equal(berth__k8s_store_put(s, key, text, 1000), BERTH_OK);
    live += 1000 + strlen(key) + 16;
  }
  /* Updates in random order, each the same size: the live bytes stay. */
  for (n = 0; n < 12000; n++) {
    seed = seed * 1103515245u + 12345u;
    i = (int)((seed >> 8) % 2000);
    snprintf(key, sizeof(key), "default/claim-%d", i);
    len = 1000;
    assert_int_equal(berth__k8s_store_put(s, key, text, len), BERTH_OK);
    if (berth__k8s_store_mapped(s) > worst)
      worst = berth__k8s_store_mapped(s);
  }
  assert_int_equal(berth__k8s_store_count(s), 2000);
  /* The table of slots counts too: 4,096 slots of 24 bytes. */
  assert_true(worst < live * 4 / 3 + 2 * 65536 + 4096 * 24);
  berth__k8s_store_destroy(s);
}

/* The compact informer's transitions, relists and indexes again, each
 * event and page decoded in a decode arena released before anything is
 * read back (see in_arena). */
static void test_transitions_arena(void **state)
{
  (void)state;
  in_arena = true;
  test_transitions(true);
  in_arena = false;
}

static void test_relist_arena(void **state)
{
  in_arena = true;
  test_relist(state);
  in_arena = false;
}

static void test_compact_index_arena(void **state)
{
  in_arena = true;
  test_compact_index(state);
  in_arena = false;
}

/* The compact store against a reference (a jansson object): random puts,
 * replacements and deletes over a few thousand keys, texts of every size
 * (some bigger than a block), with lookups, counts and full iterations
 * checked as it goes; deleting most keys must give memory back. */
static void test_store(void **state)
{
  berth__k8s_store_t *s = NULL;
  json_t *ref = json_object();
  char key[64];
  char *text = malloc(200000);
  unsigned seed = 12345;
  size_t peak = 0;
  size_t pos;
  size_t len;
  size_t seen;
  const char *k;
  const char *t;
  int round;
  int i;

  (void)state;
  assert_int_equal(berth__k8s_store_create(&s), BERTH_OK);
  for (round = 0; round < 20000; round++) {
    int n;
    seed = seed * 1103515245u + 12345u;
    n = (int)((seed >> 8) % 3000);
    snprintf(key, sizeof(key), "ns-%d/claim-%d", n % 7, n);
    if ((seed >> 4) % 4 == 0) {
      bool had = json_object_get(ref, key) != NULL;
      assert_int_equal(berth__k8s_store_del(s, key), had);
      json_object_del(ref, key);
    } else {
      size_t tl = (seed >> 12) % 1500;
      if ((seed >> 3) % 997 == 0)
        tl = 100000 + tl; /* bigger than a block */
      for (i = 0; i < (int)tl; i++)
        text[i] = (char)('a' + (i + n + round) % 26);
      text[tl] = '\0';
      assert_int_equal(berth__k8s_store_put(s, key, text, tl), BERTH_OK);
      json_object_set_new(ref, key, json_stringn(text, tl));
    }
    if (round % 1000 == 0 || round == 19999) {
      const char *rk;
      json_t *rv;
      assert_int_equal(berth__k8s_store_count(s), json_object_size(ref));
      json_object_foreach(ref, rk, rv)
      {
        t = berth__k8s_store_get(s, rk, &len);
        assert_non_null(t);
        assert_int_equal(len, json_string_length(rv));
        assert_memory_equal(t, json_string_value(rv), len);
      }
      pos = 0;
      seen = 0;
      while (berth__k8s_store_at(s, &pos, &k, &t, &len)) {
        assert_non_null(json_object_get(ref, k));
        seen++;
      }
      assert_int_equal(seen, json_object_size(ref));
    }
    if (berth__k8s_store_mapped(s) > peak)
      peak = berth__k8s_store_mapped(s);
  }
  /* Keep one key in ten: compaction brings the mapping down. */
  for (i = 0; i < 3000; i++) {
    if (i % 10 == 0)
      continue;
    snprintf(key, sizeof(key), "ns-%d/claim-%d", i % 7, i);
    berth__k8s_store_del(s, key);
    json_object_del(ref, key);
  }
  assert_int_equal(berth__k8s_store_count(s), json_object_size(ref));
  assert_true(berth__k8s_store_mapped(s) < peak / 3);
  assert_null(berth__k8s_store_get(s, "ns-1/claim-1", NULL));
  /* Everything deleted: one block (the current one) and the table. */
  for (i = 0; i < 3000; i++) {
    snprintf(key, sizeof(key), "ns-%d/claim-%d", i % 7, i);
    berth__k8s_store_del(s, key);
  }
  assert_int_equal(berth__k8s_store_count(s), 0);
  assert_true(berth__k8s_store_mapped(s) <= 64 * 1024 + 8192 * 24);
  berth__k8s_store_destroy(s);
  json_decref(ref);
  free(text);
}

/* A block whose records all died while it was being filled goes back once
 * a new block takes over. */
static void test_store_dead_block(void **state)
{
  berth__k8s_store_t *s = NULL;
  char *text = calloc(1, 60 * 1024 + 1);

  (void)state;
  memset(text, 'x', 60 * 1024);
  assert_int_equal(berth__k8s_store_create(&s), BERTH_OK);
  assert_int_equal(berth__k8s_store_put(s, "a", text, 60 * 1024), BERTH_OK);
  assert_true(berth__k8s_store_del(s, "a"));
  assert_int_equal(berth__k8s_store_put(s, "b", text, 10 * 1024), BERTH_OK);
  /* One block of 64 KiB and the table of 64 slots. */
  assert_true(berth__k8s_store_mapped(s) < 2 * 64 * 1024);
  assert_non_null(berth__k8s_store_get(s, "b", NULL));
  berth__k8s_store_destroy(s);
  free(text);
}

static int setup(void **state)
{
  berth_k8s_config_t cfg;
  berth_error_t err;

  (void)state;
  berth_k8s_config_init(&cfg);
  cfg.server = strdup("https://127.0.0.1:1");
  cfg.namespace_name = strdup("default");
  if (berth_k8s_client_create(&cfg, NULL, &client, &err) != BERTH_OK) {
    fprintf(stderr, "client: %s\n", err.message);
    return -1;
  }
  berth_k8s_config_cleanup(&cfg);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  berth_k8s_client_destroy(client);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transitions_tree),
      cmocka_unit_test(test_transitions_compact),
      cmocka_unit_test(test_relist),
      cmocka_unit_test(test_no_transform),
      cmocka_unit_test(test_compact_index),
      cmocka_unit_test(test_compact_round_trip),
      cmocka_unit_test(test_each),
      cmocka_unit_test(test_transitions_arena),
      cmocka_unit_test(test_relist_arena),
      cmocka_unit_test(test_compact_index_arena),
      cmocka_unit_test(test_store),
      cmocka_unit_test(test_store_dead_block),
      cmocka_unit_test(test_store_churn),
  };

  /* Before anything allocates: jansson's allocator is berth's (malloc
   * and free outside arenas) for every test here. */
  if (berth_k8s_informer_use_arenas() != BERTH_OK)
    return 1;
  return cmocka_run_group_tests(tests, setup, teardown);
}
