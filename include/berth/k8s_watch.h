/* SPDX-License-Identifier: Apache-2.0 */
/* berth: Kubernetes watch events and their incremental decoder.
 *
 * A watch response is a stream of JSON objects, one per line:
 *
 *   {"type":"ADDED","object":{...}}\n
 *   {"type":"BOOKMARK","object":{"kind":"...","metadata":{"resourceVersion":"12"}}}\n
 *   {"type":"ERROR","object":{"kind":"Status","code":410,...}}\n
 *
 * The decoder takes the bytes as they arrive, in chunks of any size, and
 * hands each complete event to a callback: one line in memory at a time,
 * never the whole stream. A line longer than the limit is skipped up to its
 * end; a line that is not a valid event (not JSON, no type, an unknown
 * type, no object) is skipped; both are logged at warn level (without the
 * line's content, which may be a Secret) and counted. Neither is fatal. */
#ifndef BERTH_K8S_WATCH_H
#define BERTH_K8S_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default longest line: far above the largest object etcd stores
 * (1.5 MiB), as JSON. */
#define BERTH_K8S_WATCH_DEFAULT_MAX_LINE ((size_t)16 * 1024 * 1024)

typedef enum berth_k8s_event_type {
  BERTH_K8S_EVENT_ADDED = 0,
  BERTH_K8S_EVENT_MODIFIED,
  BERTH_K8S_EVENT_DELETED,
  BERTH_K8S_EVENT_BOOKMARK,
  BERTH_K8S_EVENT_ERROR
} berth_k8s_event_type_t;

/* "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR". */
const char *berth_k8s_event_type_name(berth_k8s_event_type_t type);

/* Receives one event. object is borrowed for the duration of the call
 * (json_incref() it to keep it). Return BERTH_OK to go on; anything else
 * stops the decoder and is returned by berth_k8s_watch_decoder_feed(). */
typedef berth_status_t (*berth_k8s_watch_event_fn)(void *ctx,
                                                   berth_k8s_event_type_t type,
                                                   json_t *object);

typedef struct berth_k8s_watch_decoder berth_k8s_watch_decoder_t;

typedef struct berth_k8s_watch_decoder_stats {
  uint64_t events;           /* events handed to the callback */
  uint64_t skipped_invalid;  /* lines that were not valid events */
  uint64_t skipped_oversize; /* lines longer than the limit */
  uint64_t bytes;            /* bytes fed */
} berth_k8s_watch_decoder_stats_t;

/* Create a decoder into *out (set only on success). max_line_bytes 0 gives
 * BERTH_K8S_WATCH_DEFAULT_MAX_LINE. */
berth_status_t berth_k8s_watch_decoder_create(size_t max_line_bytes,
                                              berth_k8s_watch_event_fn fn,
                                              void *ctx,
                                              berth_k8s_watch_decoder_t **out);

/* Free a decoder. Accepts NULL. */
void berth_k8s_watch_decoder_destroy(berth_k8s_watch_decoder_t *dec);

/* Feed len bytes; every complete line in them is decoded and delivered.
 * Returns BERTH_OK, BERTH_ENOMEM, or the callback's status when it stopped
 * the decoder (the rest of data is then dropped). */
berth_status_t berth_k8s_watch_decoder_feed(berth_k8s_watch_decoder_t *dec,
                                            const char *data, size_t len);

/* The stream ended: decode a last line that had no newline. */
berth_status_t berth_k8s_watch_decoder_finish(berth_k8s_watch_decoder_t *dec);

/* When drop is true, each event's object reaches the callback without
 * metadata.managedFields: it is cut from the line's text before the line
 * is parsed (on a real API server it is about half of an object's bytes,
 * and parsing is the decoder's whole cost). Only that member goes: an
 * annotation or label of that name, or the text in a string, stays.
 * What was cut is not checked beyond its brackets. Off by default. */
void berth_k8s_watch_decoder_drop_managed_fields(berth_k8s_watch_decoder_t *dec,
                                                 bool drop);

/* Forget a partial line (to reuse the decoder for a new stream). Stats
 * are kept. */
void berth_k8s_watch_decoder_reset(berth_k8s_watch_decoder_t *dec);

/* Counters since creation. */
void berth_k8s_watch_decoder_get_stats(const berth_k8s_watch_decoder_t *dec,
                                       berth_k8s_watch_decoder_stats_t *out);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_K8S_WATCH_H */
