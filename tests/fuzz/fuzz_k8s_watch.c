/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the Kubernetes watch stream decoder
 * (lib/k8s/watch_decoder.c). The input is a stream of JSON lines, fed in
 * pieces whose sizes come from the input itself. Invariants: every event
 * carries a JSON object and a known type; the events, their order and
 * their objects are the same however the stream is cut, with or without
 * the cut of metadata.managedFields (bit 3 of the first byte); the
 * counters add up. */
#include <stdbool.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "berth/k8s_watch.h"
#include "fuzz.h"

typedef struct {
  berth_buf_t log; /* "<type> <compact object>\n" per event */
  size_t events;
} seen_t;

static berth_status_t on_event(void *ctx, berth_k8s_event_type_t type,
                               json_t *object)
{
  seen_t *s = ctx;

  FUZZ_CHECK(json_is_object(object), "event object of type %d",
             json_typeof(object));
  FUZZ_CHECK(type <= BERTH_K8S_EVENT_ERROR, "type %d", (int)type);
  berth_buf_append_str(&s->log, berth_k8s_event_type_name(type));
  berth_buf_append_str(&s->log, " ");
  berth_json_dump(object, &s->log);
  berth_buf_append_str(&s->log, "\n");
  s->events++;
  return BERTH_OK;
}

/* Decode data fed in pieces: piece i has 1 + cuts[i % ncuts] bytes
 * (ncuts 0: all at once). */
static void decode(const char *data, size_t len, const uint8_t *cuts,
                   size_t ncuts, size_t max_line, bool drop, seen_t *s)
{
  berth_k8s_watch_decoder_t *dec = NULL;
  berth_k8s_watch_decoder_stats_t stats;
  size_t off = 0;
  size_t i = 0;

  berth_buf_init(&s->log);
  s->events = 0;
  if (berth_k8s_watch_decoder_create(max_line, on_event, s, &dec) != BERTH_OK)
    return;
  berth_k8s_watch_decoder_drop_managed_fields(dec, drop);
  while (off < len) {
    size_t n = ncuts == 0 ? len : 1 + (size_t)cuts[i++ % ncuts];

    if (n > len - off)
      n = len - off;
    berth_k8s_watch_decoder_feed(dec, data + off, n);
    off += n;
  }
  berth_k8s_watch_decoder_finish(dec);
  berth_k8s_watch_decoder_get_stats(dec, &stats);
  FUZZ_CHECK(stats.events == s->events, "%llu events counted, %zu seen",
             (unsigned long long)stats.events, s->events);
  FUZZ_CHECK(stats.bytes == len, "%llu bytes counted, %zu fed",
             (unsigned long long)stats.bytes, len);
  berth_k8s_watch_decoder_destroy(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  seen_t whole;
  seen_t pieces;
  size_t ncuts;
  bool drop;

  fuzz_quiet_logs();
  if (size < 1)
    return 0;
  /* The first byte: how many of the next bytes give the piece sizes. */
  ncuts = data[0] % 8;
  drop = (data[0] & 8) != 0;
  if (size < 1 + ncuts)
    return 0;
  decode((const char *)data + 1 + ncuts, size - 1 - ncuts, NULL, 0, 0, drop,
         &whole);
  decode((const char *)data + 1 + ncuts, size - 1 - ncuts, data + 1, ncuts, 0,
         drop, &pieces);
  FUZZ_CHECK(
      whole.events == pieces.events &&
          strcmp(berth_buf_str(&whole.log), berth_buf_str(&pieces.log)) == 0,
      "cutting the stream changed the events:\n%s---\n%s",
      berth_buf_str(&whole.log), berth_buf_str(&pieces.log));
  berth_buf_cleanup(&whole.log);
  berth_buf_cleanup(&pieces.log);
  /* A tiny line limit: oversize lines are skipped, never delivered cut. */
  decode((const char *)data + 1 + ncuts, size - 1 - ncuts, NULL, 0, 64, drop,
         &pieces);
  berth_buf_cleanup(&pieces.log);
  return 0;
}
