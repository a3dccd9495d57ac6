/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of lib/http; not part of the public API.
 *
 *   http.c           the client's life cycle, berth_http_do, berth_http_stream
 *   http_transfer.c  one transfer through libcurl: options, callbacks, the
 *                    multi loop, and the one CURLcode conversion
 *   http_util.c      pure helpers: status mapping, Retry-After, URL text */
#ifndef BERTH_HTTP_INT_H
#define BERTH_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "berth/http.h"

struct berth_http_client {
  CURL *easy;   /* reused for every request */
  CURLM *multi; /* drives the easy handle and keeps its connections */
  char *ca_file;
  char *ca_data;
  char *cert_file;
  char *key_file;
  char *cert_data;
  char *key_data; /* secret: wiped on destroy */
  char *token;    /* secret: wiped on destroy and on replacement */
  char *user_agent;
  bool insecure;
  long connect_timeout_ms;
  long timeout_ms;
  size_t max_body_bytes;
  char errbuf[CURL_ERROR_SIZE]; /* CURLOPT_ERRORBUFFER */
};

/* The state of one transfer, shared with libcurl's callbacks. */
typedef struct berth__http_xfer {
  CURL *easy;
  /* Where the body goes: collected into body, or passed to on_data. */
  berth_buf_t *body;
  berth_http_chunk_fn on_data;
  void *on_data_ctx;
  long timeout_ms;            /* whole transfer; 0 for none */
  long idle_timeout_ms;       /* no byte for this long fails; 0 for no check */
  size_t max_body_bytes;      /* Content-Length limit; 0 for none */
  const volatile int *cancel; /* the request's cancel flag, or NULL */
  bool accept_encoding;
  /* Why a callback stopped the transfer (BERTH_OK when none did). */
  berth_status_t stop_status;
  int64_t last_activity_ms;
  /* Results: the status code and captured headers (content_type owned). */
  long http_status;
  char *content_type;
  int64_t retry_after_ms;
} berth__http_xfer_t;

/* Run one request on client c with x prepared by the caller (body sink,
 * time-outs). Fills x's results and, on failure, err (with http_code). */
berth_status_t berth__http_perform(berth_http_client_t *c,
                                   const berth_http_request_t *req,
                                   berth__http_xfer_t *x, berth_error_t *err);

/* Wipe a NUL-terminated secret and free it. Accepts NULL. */
void berth__http_free_secret(char *s);

/* Describe url for an error message as "scheme://host[:port]/path": the
 * query, fragment and user information are left out because they may hold
 * secrets (a presigned URL's signature, a password). Returns BERTH_EINVAL,
 * with out set to "(invalid URL)", when libcurl cannot parse url. */
berth_status_t berth__http_url_for_message(const char *url, char *out,
                                           size_t outsize);

/* When the header line (len bytes, with or without its CRLF) is the header
 * `name` (compared without case), point *value at its value with white
 * space trimmed, set *value_len and return true. */
bool berth__http_header_match(const char *line, size_t len, const char *name,
                              const char **value, size_t *value_len);

#endif /* BERTH_HTTP_INT_H */
