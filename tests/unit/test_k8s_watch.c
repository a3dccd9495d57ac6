/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the incremental watch decoder (lib/k8s/watch_decoder.c):
 * chunks of every size, partial lines, oversize lines, garbage, the cut
 * of metadata.managedFields. Fixtures:
 * tests/data/k8s-client/watch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/clock.h"
#include "berth/k8s_watch.h"
#include "berth/log.h"

typedef struct {
  char seen[64][80]; /* "ADDED a 1" */
  int n;
  int stop_after; /* 0: never */
} rec_t;

static berth_status_t record(void *ctx, berth_k8s_event_type_t type,
                             json_t *object)
{
  rec_t *r = ctx;
  json_t *meta = json_object_get(object, "metadata");
  const char *name = json_string_value(json_object_get(meta, "name"));
  const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));

  if (r->n < 64)
    snprintf(r->seen[r->n], sizeof(r->seen[0]), "%s %s %s",
             berth_k8s_event_type_name(type), name ? name : "-", rv ? rv : "-");
  r->n++;
  if (r->stop_after > 0 && r->n >= r->stop_after)
    return BERTH_ECANCELED;
  return BERTH_OK;
}

static char *load(const char *name, size_t *len)
{
  char path[1024];
  FILE *f;
  char *data = malloc(1 << 16);

  snprintf(path, sizeof(path), "%s/k8s-client/watch/%s", BERTH_TEST_DATA, name);
  f = fopen(path, "rb");
  assert_non_null(f);
  *len = fread(data, 1, (1 << 16) - 1, f);
  data[*len] = '\0';
  fclose(f);
  return data;
}

/* Feed data in chunks of `chunk` bytes (0: pseudo-random sizes). */
static void feed_all(berth_k8s_watch_decoder_t *dec, const char *data,
                     size_t len, size_t chunk, uint64_t *seed)
{
  size_t off = 0;
  size_t n;

  while (off < len) {
    n = chunk > 0 ? chunk : 1 + berth_rand_splitmix64(seed) % 97;
    if (n > len - off)
      n = len - off;
    assert_int_equal(berth_k8s_watch_decoder_feed(dec, data + off, n),
                     BERTH_OK);
    off += n;
  }
  assert_int_equal(berth_k8s_watch_decoder_finish(dec), BERTH_OK);
}

static void test_basic_any_chunking(void **state)
{
  static const char *const want[] = {"ADDED data-0 11", "MODIFIED data-0 12",
                                     "BOOKMARK - 15", "DELETED data-0 16"};
  size_t chunks[] = {1, 2, 3, 7, 64, 100000, 0, 0, 0};
  size_t len;
  char *data = load("basic.jsonl", &len);
  uint64_t seed = 42;
  size_t c;
  int i;

  (void)state;
  for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
    berth_k8s_watch_decoder_t *dec = NULL;
    berth_k8s_watch_decoder_stats_t stats;
    rec_t r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(berth_k8s_watch_decoder_create(0, record, &r, &dec),
                     BERTH_OK);
    feed_all(dec, data, len, chunks[c], &seed);
    assert_int_equal(r.n, 4);
    for (i = 0; i < 4; i++)
      assert_string_equal(r.seen[i], want[i]);
    berth_k8s_watch_decoder_get_stats(dec, &stats);
    assert_true(stats.events == 4 && stats.skipped_invalid == 0 &&
                stats.skipped_oversize == 0 && stats.bytes == len);
    berth_k8s_watch_decoder_destroy(dec);
  }
  free(data);
}

static void test_partial_last_line_and_crlf(void **state)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  rec_t r;
  size_t len;
  char *data = load("crlf-and-blank.jsonl", &len);
  const char *tail = "{\"type\":\"DELETED\",\"object\":{\"metadata\":"
                     "{\"name\":\"b\",\"resourceVersion\":\"3\"}}}";

  (void)state;
  memset(&r, 0, sizeof(r));
  assert_int_equal(berth_k8s_watch_decoder_create(0, record, &r, &dec),
                   BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, data, len), BERTH_OK);
  assert_int_equal(r.n, 2);
  assert_string_equal(r.seen[0], "ADDED a 1");
  assert_string_equal(r.seen[1], "ADDED b 2");
  /* A last event without its newline waits until the stream ends. */
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, tail, strlen(tail)),
                   BERTH_OK);
  assert_int_equal(r.n, 2);
  assert_int_equal(berth_k8s_watch_decoder_finish(dec), BERTH_OK);
  assert_int_equal(r.n, 3);
  assert_string_equal(r.seen[2], "DELETED b 3");
  /* reset drops a partial line. */
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, tail, 20), BERTH_OK);
  berth_k8s_watch_decoder_reset(dec);
  assert_int_equal(berth_k8s_watch_decoder_finish(dec), BERTH_OK);
  assert_int_equal(r.n, 3);
  berth_k8s_watch_decoder_destroy(dec);
  free(data);
}

static int warnings;
static int leaked;

static void sink(void *ctx, berth_log_level_t level, const char *line)
{
  (void)ctx;
  if (level == BERTH_LOG_WARN)
    warnings++;
  if (strstr(line, "not json") != NULL || strstr(line, "SURPRISE-SECRET"))
    leaked++;
}

static void test_garbage_is_skipped(void **state)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  berth_k8s_watch_decoder_stats_t stats;
  rec_t r;
  size_t len;
  char *data = load("garbage.jsonl", &len);
  uint64_t seed = 7;

  (void)state;
  memset(&r, 0, sizeof(r));
  warnings = leaked = 0;
  berth_log_set_sink(sink, NULL);
  assert_int_equal(berth_k8s_watch_decoder_create(0, record, &r, &dec),
                   BERTH_OK);
  feed_all(dec, data, len, 0, &seed);
  berth_log_set_sink(NULL, NULL);
  assert_int_equal(r.n, 3);
  assert_string_equal(r.seen[0], "ADDED a 1");
  assert_string_equal(r.seen[1], "MODIFIED a 3");
  assert_string_equal(r.seen[2], "DELETED a 4");
  berth_k8s_watch_decoder_get_stats(dec, &stats);
  assert_true(stats.events == 3);
  assert_true(stats.skipped_invalid == 7);
  assert_int_equal(warnings, 7);
  assert_int_equal(leaked, 0); /* the lines themselves are never logged */
  berth_k8s_watch_decoder_destroy(dec);
  free(data);
}

static void test_oversize_lines(void **state)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  berth_k8s_watch_decoder_stats_t stats;
  rec_t r;
  const char *small = "{\"type\":\"ADDED\",\"object\":{\"metadata\":"
                      "{\"name\":\"ok\",\"resourceVersion\":\"1\"}}}\n";
  char big[600];
  size_t i;

  (void)state;
  memset(&r, 0, sizeof(r));
  /* A 500-byte event in a decoder limited to 200 bytes a line. */
  snprintf(big, sizeof(big),
           "{\"type\":\"ADDED\",\"object\":{\"metadata\":"
           "{\"name\":\"big\"},\"data\":\"%0450d\"}}\n",
           0);
  berth_log_set_sink(sink, NULL);
  assert_int_equal(berth_k8s_watch_decoder_create(200, record, &r, &dec),
                   BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, small, strlen(small)),
                   BERTH_OK);
  /* The big line arrives a few bytes at a time, followed by a good one in
   * the same chunk as its end. */
  for (i = 0; i + 10 < strlen(big); i += 10)
    assert_int_equal(berth_k8s_watch_decoder_feed(dec, big + i, 10), BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, big + i, strlen(big) - i),
                   BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, small, strlen(small)),
                   BERTH_OK);
  /* And whole, in one chunk. */
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, big, strlen(big)),
                   BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, small, strlen(small)),
                   BERTH_OK);
  /* An oversize line at the end of the stream, never finished. */
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, big, 300), BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_finish(dec), BERTH_OK);
  berth_log_set_sink(NULL, NULL);
  assert_int_equal(r.n, 3);
  berth_k8s_watch_decoder_get_stats(dec, &stats);
  assert_true(stats.skipped_oversize == 3);
  assert_true(stats.events == 3);
  berth_k8s_watch_decoder_destroy(dec);
}

static void test_callback_stops(void **state)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  rec_t r;
  size_t len;
  char *data = load("basic.jsonl", &len);

  (void)state;
  memset(&r, 0, sizeof(r));
  r.stop_after = 2;
  assert_int_equal(berth_k8s_watch_decoder_create(0, record, &r, &dec),
                   BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, data, len),
                   BERTH_ECANCELED);
  assert_int_equal(r.n, 2);
  berth_k8s_watch_decoder_destroy(dec);
  free(data);
}

static void test_error_event(void **state)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  rec_t r;
  size_t len;
  char *data = load("error-410.jsonl", &len);

  (void)state;
  memset(&r, 0, sizeof(r));
  assert_int_equal(berth_k8s_watch_decoder_create(0, record, &r, &dec),
                   BERTH_OK);
  assert_int_equal(berth_k8s_watch_decoder_feed(dec, data, len), BERTH_OK);
  assert_int_equal(r.n, 2);
  assert_string_equal(r.seen[1], "ERROR - -");
  berth_k8s_watch_decoder_destroy(dec);
  free(data);
  assert_string_equal(berth_k8s_event_type_name((berth_k8s_event_type_t)99),
                      "UNKNOWN");
}

typedef struct {
  json_t *objects; /* every object delivered, in order */
} keep_t;

static berth_status_t keep_object(void *ctx, berth_k8s_event_type_t type,
                                  json_t *object)
{
  (void)type;
  json_array_append(((keep_t *)ctx)->objects, object);
  return BERTH_OK;
}

/* With the cut on, each event's object is the line's object without
 * metadata.managedFields, whatever its place among the members and its
 * spacing; an annotation, a spec field and a deeper member of that name
 * stay, and so does a last-applied annotation's text that names it. A
 * line whose managedFields has unmatched brackets is left for jansson to
 * refuse. With the cut off, objects are as sent. */
static void test_drop_managed_fields(void **state)
{
  size_t chunks[] = {1, 5, 64, 100000, 0, 0};
  size_t len;
  char *data = load("managed-fields.jsonl", &len);
  uint64_t seed = 7;
  size_t c;
  int drop;

  (void)state;
  for (drop = 0; drop <= 1; drop++) {
    for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
      berth_k8s_watch_decoder_t *dec = NULL;
      berth_k8s_watch_decoder_stats_t stats;
      keep_t k = {json_array()};
      const char *line = data;
      size_t i = 0;

      assert_int_equal(berth_k8s_watch_decoder_create(0, keep_object, &k, &dec),
                       BERTH_OK);
      berth_k8s_watch_decoder_drop_managed_fields(dec, drop == 1);
      feed_all(dec, data, len, chunks[c], &seed);
      berth_k8s_watch_decoder_get_stats(dec, &stats);
      assert_int_equal(stats.events, 8);
      assert_int_equal(stats.skipped_invalid, 3);
      assert_int_equal(json_array_size(k.objects), 8);
      while (i < 8) {
        const char *nl = strchr(line, '\n');
        json_t *ev = json_loadb(line, (size_t)(nl - line), 0, NULL);
        json_t *want = json_object_get(ev, "object");
        json_t *meta = json_object_get(want, "metadata");

        assert_non_null(ev);
        assert_non_null(json_object_get(meta, "managedFields"));
        if (drop)
          json_object_del(meta, "managedFields");
        assert_true(json_equal(json_array_get(k.objects, i), want));
        json_decref(ev);
        line = nl + 1;
        i++;
      }
      if (drop)
        assert_non_null(json_object_get(
            json_object_get(json_array_get(k.objects, 0), "spec"),
            "managedFields"));
      json_decref(k.objects);
      berth_k8s_watch_decoder_destroy(dec);
    }
  }
  free(data);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_basic_any_chunking),
      cmocka_unit_test(test_partial_last_line_and_crlf),
      cmocka_unit_test(test_garbage_is_skipped),
      cmocka_unit_test(test_oversize_lines),
      cmocka_unit_test(test_callback_stops),
      cmocka_unit_test(test_error_event),
      cmocka_unit_test(test_drop_managed_fields),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
