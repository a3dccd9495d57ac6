/* SPDX-License-Identifier: Apache-2.0 */
/* The watch verb, see berth_k8s_watch in include/berth/k8s.h: a streamed
 * GET with watch=true whose bytes go through the incremental decoder
 * (watch_decoder.c) as they arrive. */
#include <stdio.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/k8s_watch.h"
#include "informer_int.h"
#include "k8s_int.h"

typedef struct {
  berth_k8s_watch_event_fn fn;
  void *ctx;
  berth_k8s_watch_decoder_t *dec;
  const volatile int *cancel;
  bool decode_arena;
  bool got_error;
  berth_status_t error_status;
  berth_error_t error_detail;
} watch_ctx_t;

static berth_status_t on_event(void *ctx, berth_k8s_event_type_t type,
                               json_t *object)
{
  watch_ctx_t *w = ctx;
  berth_status_t st = w->fn(w->ctx, type, object);

  if (st != BERTH_OK || type != BERTH_K8S_EVENT_ERROR)
    return st;
  /* An ERROR event ends the watch (the server closes it next): 410
   * Expired when our resourceVersion is too old for its history. */
  w->got_error = true;
  berth_error_clear(&w->error_detail);
  w->error_status =
      berth_k8s_status_decode_json(0, object, NULL, &w->error_detail);
  if (w->error_status == BERTH_OK)
    w->error_status = berth_error_set(&w->error_detail, BERTH_EHTTP,
                                      "watch ERROR event without a failure");
  return w->error_status;
}

static berth_status_t on_data(void *ctx, long http_status, const char *data,
                              size_t len)
{
  watch_ctx_t *w = ctx;
  bool arena;
  berth_status_t st;

  (void)http_status;
  if (w->cancel != NULL && *w->cancel)
    return BERTH_ECANCELED;
  /* The events of this batch are decoded, handled and freed within it. */
  arena = w->decode_arena && berth__k8s_arena_begin();
  st = berth_k8s_watch_decoder_feed(w->dec, data, len);
  berth__k8s_arena_end(arena);
  return st;
}

berth_status_t berth_k8s_watch(berth_k8s_client_t *c,
                               const berth_k8s_resource_t *res, const char *ns,
                               const berth_k8s_watch_options_t *opts,
                               berth_k8s_watch_event_fn fn, void *ctx,
                               berth_error_t *err)
{
  berth_k8s_watch_options_t none;
  berth_buf_t path;
  watch_ctx_t w;
  char num[32];
  berth_status_t st;

  berth_error_clear(err);
  berth_buf_init(&path);
  memset(&w, 0, sizeof(w));
  if (opts == NULL) {
    memset(&none, 0, sizeof(none));
    opts = &none;
  }
  w.fn = fn;
  w.ctx = ctx;
  w.cancel = opts->cancel;
  w.decode_arena = opts->decode_arena;
  st = berth_k8s_watch_decoder_create(opts->max_line_bytes, on_event, &w,
                                      &w.dec);
  if (st != BERTH_OK) {
    berth_error_set(err, st, "k8s watch %s: cannot create a decoder",
                    res->resource);
    goto done;
  }
  berth_k8s_watch_decoder_drop_managed_fields(w.dec, opts->drop_managed_fields);
  st = berth__k8s_path(&path, res, res->namespaced ? ns : NULL, NULL, NULL);
  if (st == BERTH_OK)
    st = berth_buf_append_str(&path, "?watch=true");
  if (st == BERTH_OK && opts->resource_version != NULL &&
      opts->resource_version[0] != '\0') {
    st = berth_buf_append_str(&path, "&resourceVersion=");
    if (st == BERTH_OK)
      st = berth__k8s_append_escaped(&path, opts->resource_version);
  }
  if (st == BERTH_OK && opts->label_selector != NULL) {
    st = berth_buf_append_str(&path, "&labelSelector=");
    if (st == BERTH_OK)
      st = berth__k8s_append_escaped(&path, opts->label_selector);
  }
  if (st == BERTH_OK && opts->field_selector != NULL) {
    st = berth_buf_append_str(&path, "&fieldSelector=");
    if (st == BERTH_OK)
      st = berth__k8s_append_escaped(&path, opts->field_selector);
  }
  if (st == BERTH_OK && opts->allow_bookmarks)
    st = berth_buf_append_str(&path, "&allowWatchBookmarks=true");
  if (st == BERTH_OK && opts->timeout_seconds > 0) {
    snprintf(num, sizeof(num), "%ld", opts->timeout_seconds);
    st = berth_buf_appendf(&path, "&timeoutSeconds=%s", num);
  }
  if (st != BERTH_OK) {
    berth_error_set(err, st, "out of memory");
    goto done;
  }
  st = berth__k8s_stream(c, berth_buf_str(&path), opts->idle_timeout_ms,
                         opts->cancel, on_data, &w, err);
  if (st == BERTH_OK) {
    bool arena = w.decode_arena && berth__k8s_arena_begin();

    st = berth_k8s_watch_decoder_finish(w.dec);
    berth__k8s_arena_end(arena);
  }
  if (w.got_error && st == w.error_status) {
    /* Report the Status, not "stopped by the data callback". */
    if (err != NULL) {
      *err = w.error_detail;
      berth_error_prefix(err, "k8s watch");
    }
  } else if (st == BERTH_ECANCELED && w.cancel != NULL && *w.cancel) {
    berth_error_set(err, st, "k8s watch %s: canceled", res->resource);
  }

done:
  berth_k8s_watch_decoder_destroy(w.dec);
  berth_buf_cleanup(&path);
  return st;
}
