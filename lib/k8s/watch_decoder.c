/* SPDX-License-Identifier: Apache-2.0 */
/* The incremental watch-stream decoder, see include/berth/k8s_watch.h.
 *
 * The API server writes each watch event as one JSON object followed by a
 * newline (k8s.io/apimachinery's json.Encoder framing). We cut the bytes
 * at newlines as they arrive and parse one line at a time; a line that
 * arrives whole inside one chunk is parsed in place without a copy. */
#include "berth/k8s_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/log.h"

struct berth_k8s_watch_decoder {
  berth_k8s_watch_event_fn fn;
  void *ctx;
  size_t max_line;
  berth_buf_t line; /* the partial line carried between chunks */
  bool skipping;    /* inside an oversize line: drop up to its newline */
  berth_k8s_watch_decoder_stats_t stats;
};

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED",
                                         "BOOKMARK", "ERROR"};

const char *berth_k8s_event_type_name(berth_k8s_event_type_t type)
{
  if ((unsigned)type < sizeof(type_names) / sizeof(type_names[0]))
    return type_names[type];
  return "UNKNOWN";
}

berth_status_t berth_k8s_watch_decoder_create(size_t max_line_bytes,
                                              berth_k8s_watch_event_fn fn,
                                              void *ctx,
                                              berth_k8s_watch_decoder_t **out)
{
  berth_k8s_watch_decoder_t *dec;

  if (fn == NULL || out == NULL)
    return BERTH_EINVAL;
  dec = calloc(1, sizeof(*dec));
  if (dec == NULL)
    return BERTH_ENOMEM;
  dec->fn = fn;
  dec->ctx = ctx;
  dec->max_line =
      max_line_bytes > 0 ? max_line_bytes : BERTH_K8S_WATCH_DEFAULT_MAX_LINE;
  berth_buf_init(&dec->line);
  *out = dec;
  return BERTH_OK;
}

void berth_k8s_watch_decoder_destroy(berth_k8s_watch_decoder_t *dec)
{
  if (dec == NULL)
    return;
  berth_buf_cleanup(&dec->line);
  free(dec);
}

void berth_k8s_watch_decoder_reset(berth_k8s_watch_decoder_t *dec)
{
  berth_buf_reset(&dec->line);
  dec->skipping = false;
}

void berth_k8s_watch_decoder_get_stats(const berth_k8s_watch_decoder_t *dec,
                                       berth_k8s_watch_decoder_stats_t *out)
{
  *out = dec->stats;
}

static void log_skip(const char *why, size_t len, const char *detail)
{
  char n[32];

  /* Never the line itself: a watch on Secrets carries their data. */
  snprintf(n, sizeof(n), "%zu", len);
  berth_log(BERTH_LOG_WARN,
            "k8s watch: skipped a line that is not a valid "
            "event",
            "reason", why, "bytes", n, "detail", detail, NULL);
}

static bool parse_type(const char *s, berth_k8s_event_type_t *out)
{
  size_t i;

  for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
    if (strcmp(s, type_names[i]) == 0) {
      *out = (berth_k8s_event_type_t)i;
      return true;
    }
  }
  return false;
}

/* Decode one complete line (without its newline) and deliver it. */
static berth_status_t decode_line(berth_k8s_watch_decoder_t *dec, const char *p,
                                  size_t len)
{
  json_error_t jerr;
  json_t *doc = NULL;
  json_t *type;
  json_t *object;
  berth_k8s_event_type_t t;
  berth_status_t st = BERTH_OK;
  size_t i;

  while (len > 0 &&
         (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
    ;
  if (i == len)
    goto done; /* blank lines are framing, not garbage */
  /* Like berth_json_parse: "\u0000" inside a string is refused by the
   * getters that read it, not by dropping the whole event. */
  doc = json_loadb(p, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  if (doc == NULL) {
    dec->stats.skipped_invalid++;
    log_skip("invalid JSON", len, jerr.text);
    goto done;
  }
  type = json_object_get(doc, "type");
  object = json_object_get(doc, "object");
  if (!json_is_string(type) || !parse_type(json_string_value(type), &t)) {
    dec->stats.skipped_invalid++;
    log_skip("missing or unknown type", len,
             json_is_string(type) ? json_string_value(type) : "");
    goto done;
  }
  if (!json_is_object(object)) {
    dec->stats.skipped_invalid++;
    log_skip("object is not a JSON object", len, json_string_value(type));
    goto done;
  }
  dec->stats.events++;
  st = dec->fn(dec->ctx, t, object);

done:
  json_decref(doc);
  return st;
}

berth_status_t berth_k8s_watch_decoder_feed(berth_k8s_watch_decoder_t *dec,
                                            const char *data, size_t len)
{
  const char *nl;
  size_t seg;
  berth_status_t st = BERTH_OK;

  dec->stats.bytes += len;
  while (len > 0 && st == BERTH_OK) {
    nl = memchr(data, '\n', len);
    seg = nl != NULL ? (size_t)(nl - data) : len;
    if (dec->skipping) {
      /* The rest of an oversize line. */
    } else if (dec->line.len + seg > dec->max_line) {
      dec->stats.skipped_oversize++;
      log_skip("line too long", dec->line.len + seg, "over the limit");
      berth_buf_reset(&dec->line);
      dec->skipping = true;
    } else if (nl != NULL && dec->line.len == 0) {
      /* A whole line inside this chunk: parse it where it is. */
      st = decode_line(dec, data, seg);
    } else {
      st = berth_buf_append(&dec->line, data, seg);
      if (st == BERTH_OK && nl != NULL) {
        st = decode_line(dec, dec->line.data, dec->line.len);
        berth_buf_reset(&dec->line);
      }
    }
    if (nl != NULL) {
      dec->skipping = false;
      seg++;
    }
    data += seg;
    len -= seg;
  }
  return st;
}

berth_status_t berth_k8s_watch_decoder_finish(berth_k8s_watch_decoder_t *dec)
{
  berth_status_t st = BERTH_OK;

  if (!dec->skipping && dec->line.len > 0)
    st = decode_line(dec, dec->line.data, dec->line.len);
  berth_k8s_watch_decoder_reset(dec);
  return st;
}
