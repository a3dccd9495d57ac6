/* SPDX-License-Identifier: Apache-2.0 */
/* The incremental watch-stream decoder, see include/berth/k8s_watch.h.
 *
 * The API server writes each watch event as one JSON object followed by a
 * newline (k8s.io/apimachinery's json.Encoder framing). We cut the bytes
 * at newlines as they arrive and parse one line at a time; a line that
 * arrives whole inside one chunk is parsed in place without a copy.
 *
 * jansson's parser is the whole cost of decoding (measured with perf on
 * a real server's claims: three quarters of the time in its lexer, the
 * rest in malloc and its string buffers; this file's own work is under
 * one percent), so the only way to decode faster is to parse less. When
 * asked (berth_k8s_watch_decoder_drop_managed_fields), the event
 * object's metadata.managedFields, the server-side apply bookkeeping that
 * is about half of each object a real API server sends and that berth
 * never reads, is cut from the line's text before jansson sees it. */
#include "berth/k8s_watch.h"

#include <stdint.h>
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
  bool drop_managed_fields;
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

void berth_k8s_watch_decoder_drop_managed_fields(berth_k8s_watch_decoder_t *dec,
                                                 bool drop)
{
  dec->drop_managed_fields = drop;
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

/* The index just past the JSON string that starts at p[i] (a '"'), or
 * len when it does not end. */
static size_t skip_string(const char *p, size_t i, size_t len)
{
  for (i++; i < len; i++) {
    if (p[i] == '\\')
      i++;
    else if (p[i] == '"')
      return i + 1;
  }
  return len;
}

static size_t skip_space(const char *p, size_t i, size_t len)
{
  while (i < len &&
         (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
    i++;
  return i;
}

/* The index just past the array, object or null that starts at p[i], or
 * 0 when it is something else or its brackets do not match (up to 64
 * levels deep; deeper is left alone). Only the brackets are checked:
 * what is inside is dropped unread. */
static size_t skip_container(const char *p, size_t i, size_t len)
{
  uint64_t objects = 0; /* bit d: level d is an object */
  int depth = 0;

  if (len - i >= 4 && memcmp(p + i, "null", 4) == 0)
    return i + 4;
  if (i >= len || (p[i] != '[' && p[i] != '{'))
    return 0;
  while (i < len) {
    if (p[i] == '"') {
      i = skip_string(p, i, len);
      continue;
    }
    if (p[i] == '[' || p[i] == '{') {
      if (depth == 64)
        return 0;
      objects = (objects & ~((uint64_t)1 << depth)) |
                ((uint64_t)(p[i] == '{') << depth);
      depth++;
    } else if (p[i] == ']' || p[i] == '}') {
      if (depth == 0 || ((objects >> (depth - 1)) & 1) != (p[i] == '}'))
        return 0;
      if (--depth == 0)
        return i + 1;
    }
    i++;
  }
  return 0;
}

/* What a key names, for the levels that lead to metadata.managedFields:
 * the event's "object", its "metadata". */
enum { KEY_OTHER, KEY_OBJECT, KEY_METADATA };

static int key_kind(const char *p, size_t len, int depth)
{
  if (depth == 1 && len == 8 && memcmp(p, "\"object\"", 8) == 0)
    return KEY_OBJECT;
  if (depth == 2 && len == 10 && memcmp(p, "\"metadata\"", 10) == 0)
    return KEY_METADATA;
  return KEY_OTHER;
}

/* Cut the member "managedFields" of the event's object.metadata out of
 * the line p (len bytes, changed in place) with the comma that separates
 * it; the new length. Any other "managedFields" (an annotation's or a
 * label's key, text inside a string) stays. A line this cannot follow is
 * left as it is, for jansson to judge. */
static size_t elide_managed_fields(char *p, size_t len)
{
  int kinds[4] = {KEY_OTHER, KEY_OTHER, KEY_OTHER, KEY_OTHER};
  int depth = 0;
  size_t r = 0;
  size_t w = 0;
  size_t end;
  size_t after;
  size_t b;

  while (r < len) {
    if (p[r] == '{' || p[r] == '[') {
      depth++;
    } else if (p[r] == '}' || p[r] == ']') {
      depth--;
    } else if (p[r] == '"') {
      end = skip_string(p, r, len);
      after = skip_space(p, end, len);
      if (after < len && p[after] == ':' && depth >= 1 && depth <= 3) {
        if (depth < 3)
          kinds[depth] = key_kind(p + r, end - r, depth);
        else if (kinds[1] == KEY_OBJECT && kinds[2] == KEY_METADATA &&
                 end - r == 15 && memcmp(p + r, "\"managedFields\"", 15) == 0 &&
                 (after = skip_container(p, skip_space(p, after + 1, len),
                                         len)) != 0) {
          /* Drop the member and the comma after it, or, for the last
           * member, the comma before it (already copied to w). */
          end = skip_space(p, after, len);
          if (end < len && p[end] == ',') {
            r = end + 1;
          } else {
            for (b = w; b > 0 && (p[b - 1] == ' ' || p[b - 1] == '\t' ||
                                  p[b - 1] == '\r' || p[b - 1] == '\n');
                 b--)
              ;
            if (b > 0 && p[b - 1] == ',')
              w = b - 1;
            r = after;
          }
          continue;
        }
      }
      memmove(p + w, p + r, end - r);
      w += end - r;
      r = end;
      continue;
    }
    p[w++] = p[r++];
  }
  return w;
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
    } else if (nl != NULL && dec->line.len == 0 &&
               !(dec->drop_managed_fields &&
                 memmem(data, seg, "\"managedFields\"", 15) != NULL)) {
      /* A whole line inside this chunk with nothing to cut: parse it
       * where it is. */
      st = decode_line(dec, data, seg);
    } else {
      st = berth_buf_append(&dec->line, data, seg);
      if (st == BERTH_OK && nl != NULL) {
        if (dec->drop_managed_fields)
          dec->line.len = elide_managed_fields(dec->line.data, dec->line.len);
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
