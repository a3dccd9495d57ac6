/* SPDX-License-Identifier: Apache-2.0 */
/* berth: an HTTP/1.1 and HTTP/2 client over libcurl.
 *
 * A berth_http_client_t holds one libcurl easy handle and one multi handle,
 * so that successive requests reuse their TCP and TLS connections
 * (keep-alive), plus the TLS material and bearer token every request uses.
 *
 * Threads: a client is used by one thread at a time (libcurl handles are
 * not thread-safe); give each thread its own client, or serialise calls.
 * Different clients may be used from different threads at once.
 *
 * Results: berth_http_do() returns BERTH_OK whenever an HTTP response was
 * received, whatever its status code; callers decide what a 404 means and
 * can use berth_http_status_to_berth(). Transport failures (connect, TLS,
 * time-outs, size limits) return the matching berth_status_t and fill the
 * optional berth_error_t. Error messages name the method, scheme, host,
 * port and path of the URL, never its query string, user information, any
 * header or the bearer token. */
#ifndef BERTH_HTTP_H
#define BERTH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/buf.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when an option or request field is 0. */
#define BERTH_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define BERTH_HTTP_DEFAULT_TIMEOUT_MS 30000L
#define BERTH_HTTP_DEFAULT_IDLE_TIMEOUT_MS 300000L
#define BERTH_HTTP_CANCEL_POLL_MS 100L
#define BERTH_HTTP_DEFAULT_MAX_BODY_BYTES ((size_t)64 * 1024 * 1024)

typedef struct berth_http_client berth_http_client_t;

/* How a client connects. Zero-initialise it (or call
 * berth_http_options_init) and set what you need. Every string is borrowed
 * for the duration of berth_http_client_create only: the client copies
 * what it keeps. */
typedef struct berth_http_options {
  /* Trust anchors. With neither set, the system's CA bundle is used. With
   * either set, only the given CAs are trusted (the system bundle is not).
   * ca_data (PEM text, NUL-terminated) overrides ca_file. */
  const char *ca_file;
  const char *ca_data;
  /* Client certificate and key for mutual TLS, PEM, as files or as
   * NUL-terminated text in memory (data overrides file). */
  const char *client_cert_file;
  const char *client_key_file;
  const char *client_cert_data;
  const char *client_key_data;
  /* Skip server certificate and host name verification. For tests and
   * kubeconfig's insecure-skip-tls-verify only. */
  bool insecure_skip_tls_verify;
  /* Sent as "Authorization: Bearer <token>" on every request that does not
   * carry its own Authorization header. NULL for none. */
  const char *bearer_token;
  /* Time allowed to connect (TCP and TLS); 0 gives
   * BERTH_HTTP_DEFAULT_CONNECT_TIMEOUT_MS. */
  long connect_timeout_ms;
  /* Time allowed for a whole berth_http_do() request; 0 gives
   * BERTH_HTTP_DEFAULT_TIMEOUT_MS. Does not apply to streams. */
  long timeout_ms;
  /* Largest response body berth_http_do() accepts; a larger one fails with
   * BERTH_ETOOBIG. 0 gives BERTH_HTTP_DEFAULT_MAX_BODY_BYTES. Does not
   * apply to streams. */
  size_t max_body_bytes;
  /* User-Agent header; NULL gives "berth/<BERTH_VERSION>". */
  const char *user_agent;
} berth_http_options_t;

/* One request. Every pointer is borrowed for the duration of the call. */
typedef struct berth_http_request {
  /* "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", ... (upper-case
   * letters only). NULL means "GET", or "POST" when body is not NULL. */
  const char *method;
  /* An absolute http:// or https:// URL. */
  const char *url;
  /* Extra headers as "Name: value" strings. Either a NULL-terminated array
   * (header_count 0) or exactly header_count entries. "Name:" removes a
   * header libcurl would send. May be NULL. A header containing CR or LF is
   * rejected with BERTH_EINVAL. When a body is sent without a Content-Type
   * header, none is sent (not libcurl's form type). */
  const char *const *headers;
  size_t header_count;
  /* Request body, body_len bytes; NULL for none. */
  const void *body;
  size_t body_len;
  /* berth_http_do(): the whole request's time limit; 0 uses the client's
   * timeout_ms. berth_http_stream(): an overall limit on the stream when
   * greater than 0; 0 means none. */
  long timeout_ms;
  /* berth_http_stream() only: fail with BERTH_ETIMEOUT when no byte
   * arrives for this long; 0 gives BERTH_HTTP_DEFAULT_IDLE_TIMEOUT_MS, a
   * negative value disables the check. */
  long idle_timeout_ms;
  /* Optional: when another thread sets *cancel to non-zero, the request
   * stops within BERTH_HTTP_CANCEL_POLL_MS and fails with BERTH_ECANCELED
   * (used to stop a watch at shutdown). NULL for none. */
  const volatile int *cancel;
} berth_http_request_t;

/* A response, embedded by the caller: berth_http_response_init() before
 * use, berth_http_response_cleanup() after. One response may be passed to
 * several berth_http_do() calls; each call replaces its contents. */
typedef struct berth_http_response {
  long status;            /* HTTP status code, 0 when none was received */
  berth_buf_t body;       /* the body, NUL-terminated; owned by the response */
  char *content_type;     /* Content-Type value or NULL; owned */
  int64_t retry_after_ms; /* Retry-After in milliseconds, -1 when absent
                           * or unparsable */
} berth_http_response_t;

/* Receives stream bytes as they arrive. http_status is the response's
 * status code (so that an error body can be told from data). data is
 * borrowed for the duration of the call and is not NUL-terminated. Return
 * BERTH_OK to continue, anything else to stop the stream. */
typedef berth_status_t (*berth_http_chunk_fn)(void *ctx, long http_status,
                                              const char *data, size_t len);

/* Zero an options struct. */
void berth_http_options_init(berth_http_options_t *opts);

/* Create a client from opts (NULL for all defaults) and store it in *out
 * (set only on success). The caller owns the client and frees it with
 * berth_http_client_destroy(). Fails with BERTH_EINVAL for inconsistent
 * options (a key without a certificate) or BERTH_ENOMEM. libcurl is
 * initialised once per process, on first use. */
berth_status_t berth_http_client_create(const berth_http_options_t *opts,
                                        berth_http_client_t **out,
                                        berth_error_t *err);

/* Close the client's connections and free it; secrets it held (token,
 * client key) are wiped first. Accepts NULL. */
void berth_http_client_destroy(berth_http_client_t *client);

/* Replace the bearer token used by later requests (for a rotated
 * service-account token); NULL removes it. The token is copied; the old
 * copy is wiped. */
berth_status_t berth_http_client_set_bearer_token(berth_http_client_t *client,
                                                  const char *token,
                                                  berth_error_t *err);

/* Initialise an empty response. */
void berth_http_response_init(berth_http_response_t *resp);

/* Free what a response owns and leave it empty (reusable). Accepts NULL. */
void berth_http_response_cleanup(berth_http_response_t *resp);

/* Send req and read the whole response into resp (whose previous contents
 * are replaced). Returns BERTH_OK when a complete HTTP response was
 * received, whatever its status code. Otherwise: BERTH_ETIMEOUT,
 * BERTH_ETLS, BERTH_ETRANSPORT (connect, reset, truncated response),
 * BERTH_ETOOBIG (body over max_body_bytes), BERTH_EINVAL (bad URL, method
 * or header), BERTH_ENOMEM; err (may be NULL) then has a message and the
 * HTTP code if headers had arrived, and resp holds whatever had arrived
 * (status, part of the body). */
berth_status_t berth_http_do(berth_http_client_t *client,
                             const berth_http_request_t *req,
                             berth_http_response_t *resp, berth_error_t *err);

/* Send req and pass the response body to on_data as it arrives, for long
 * responses such as Kubernetes watches. The client's timeout_ms and
 * max_body_bytes do not apply; req->idle_timeout_ms and req->timeout_ms do
 * (see berth_http_request_t). *http_status (may be NULL) receives the
 * status code, or 0 when none arrived, whatever the result.
 *
 * Returns BERTH_OK when the server ended the response normally, whatever
 * its status code; the status on_data returned to stop the stream,
 * unchanged (return BERTH_ECANCELED from the callback for a plain stop);
 * BERTH_ETIMEOUT when idle or over time; BERTH_ETRANSPORT when the
 * connection broke or a chunked body ended mid-chunk (after the bytes that
 * did arrive were delivered); or the errors of berth_http_do(). */
berth_status_t berth_http_stream(berth_http_client_t *client,
                                 const berth_http_request_t *req,
                                 berth_http_chunk_fn on_data, void *ctx,
                                 long *http_status, berth_error_t *err);

/* Map an HTTP status code to a berth_status_t: 2xx BERTH_OK, 401
 * BERTH_EUNAUTHORIZED, 403 BERTH_EFORBIDDEN, 404 BERTH_ENOTFOUND, 409
 * BERTH_ECONFLICT, 410 BERTH_EGONE, 413 BERTH_ETOOBIG, 429
 * BERTH_ETHROTTLED, 5xx BERTH_EUNAVAILABLE, anything else (other 4xx, 1xx,
 * 3xx, out of range) BERTH_EHTTP. */
berth_status_t berth_http_status_to_berth(long code);

/* Parse a Retry-After value (RFC 9110 section 10.2.3): delay-seconds
 * ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"), the latter
 * relative to now_ms (ms since the epoch; a date in the past gives 0).
 * Surrounding white space is ignored. *out_ms is set only on success;
 * otherwise BERTH_EPARSE. */
berth_status_t berth_http_parse_retry_after(const char *value, int64_t now_ms,
                                            int64_t *out_ms);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_HTTP_H */
