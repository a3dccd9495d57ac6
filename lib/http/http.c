/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client's life cycle and entry points, see include/berth/http.h.
 * The transfer itself is in http_transfer.c. */
#include "berth/http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "berth/version.h"
#include "http_int.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* libcurl's global state is set up once per process and never torn down:
 * curl_global_cleanup is not thread-safe and other libraries in the same
 * process may still use libcurl. */
static void global_init(void)
{
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void berth__http_free_secret(char *s)
{
  if (s == NULL)
    return;
  berth_memzero(s, strlen(s));
  free(s);
}

static berth_status_t dup_opt(const char *src, char **dst)
{
  *dst = NULL;
  if (src == NULL)
    return BERTH_OK;
  *dst = strdup(src);
  return *dst != NULL ? BERTH_OK : BERTH_ENOMEM;
}

void berth_http_options_init(berth_http_options_t *opts)
{
  memset(opts, 0, sizeof(*opts));
}

berth_status_t berth_http_client_create(const berth_http_options_t *opts,
                                        berth_http_client_t **out,
                                        berth_error_t *err)
{
  berth_http_options_t defaults;
  berth_http_client_t *c = NULL;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "http: no place for the client");
    goto done;
  }
  if (opts == NULL) {
    berth_http_options_init(&defaults);
    opts = &defaults;
  }
  if ((opts->client_key_file != NULL || opts->client_key_data != NULL) &&
      opts->client_cert_file == NULL && opts->client_cert_data == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "http: a client key needs a client certificate");
    goto done;
  }
  if (opts->connect_timeout_ms < 0 || opts->timeout_ms < 0) {
    st = berth_error_set(err, BERTH_EINVAL, "http: negative time-out");
    goto done;
  }
  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK) {
    st = berth_error_set(err, BERTH_EINTERNAL,
                         "http: curl_global_init failed: %s",
                         curl_easy_strerror(global_rc));
    goto done;
  }
  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "http: out of memory");
    goto done;
  }
  if (dup_opt(opts->ca_file, &c->ca_file) != BERTH_OK ||
      dup_opt(opts->ca_data, &c->ca_data) != BERTH_OK ||
      dup_opt(opts->client_cert_file, &c->cert_file) != BERTH_OK ||
      dup_opt(opts->client_key_file, &c->key_file) != BERTH_OK ||
      dup_opt(opts->client_cert_data, &c->cert_data) != BERTH_OK ||
      dup_opt(opts->client_key_data, &c->key_data) != BERTH_OK ||
      dup_opt(opts->bearer_token, &c->token) != BERTH_OK ||
      dup_opt(opts->user_agent != NULL ? opts->user_agent
                                       : "berth/" BERTH_VERSION,
              &c->user_agent) != BERTH_OK) {
    st = berth_error_set(err, BERTH_ENOMEM, "http: out of memory");
    goto done;
  }
  c->insecure = opts->insecure_skip_tls_verify;
  c->connect_timeout_ms = opts->connect_timeout_ms > 0
                              ? opts->connect_timeout_ms
                              : BERTH_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
  c->timeout_ms =
      opts->timeout_ms > 0 ? opts->timeout_ms : BERTH_HTTP_DEFAULT_TIMEOUT_MS;
  c->max_body_bytes = opts->max_body_bytes > 0
                          ? opts->max_body_bytes
                          : BERTH_HTTP_DEFAULT_MAX_BODY_BYTES;
  c->easy = curl_easy_init();
  c->multi = curl_multi_init();
  if (c->easy == NULL || c->multi == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "http: cannot create curl handles");
    goto done;
  }
  *out = c;
  c = NULL;

done:
  berth_http_client_destroy(c);
  return st;
}

void berth_http_client_destroy(berth_http_client_t *c)
{
  if (c == NULL)
    return;
  /* The easy handle is never left in the multi handle between requests.
   * Clean both up before freeing the strings their options pointed at. */
  if (c->easy != NULL)
    curl_easy_cleanup(c->easy);
  if (c->multi != NULL)
    curl_multi_cleanup(c->multi);
  free(c->ca_file);
  free(c->ca_data);
  free(c->cert_file);
  free(c->key_file);
  free(c->cert_data);
  berth__http_free_secret(c->key_data);
  berth__http_free_secret(c->token);
  free(c->user_agent);
  free(c);
}

berth_status_t berth_http_client_set_bearer_token(berth_http_client_t *c,
                                                  const char *token,
                                                  berth_error_t *err)
{
  char *copy = NULL;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (c == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "http: no client");
    goto done;
  }
  if (dup_opt(token, &copy) != BERTH_OK) {
    st = berth_error_set(err, BERTH_ENOMEM, "http: out of memory");
    goto done;
  }
  berth__http_free_secret(c->token);
  c->token = copy;

done:
  return st;
}

void berth_http_response_init(berth_http_response_t *resp)
{
  memset(resp, 0, sizeof(*resp));
  berth_buf_init(&resp->body);
  resp->retry_after_ms = -1;
}

void berth_http_response_cleanup(berth_http_response_t *resp)
{
  if (resp == NULL)
    return;
  berth_buf_cleanup(&resp->body);
  free(resp->content_type);
  resp->content_type = NULL;
  resp->status = 0;
  resp->retry_after_ms = -1;
}

static void xfer_init(berth__http_xfer_t *x)
{
  memset(x, 0, sizeof(*x));
  x->retry_after_ms = -1;
}

berth_status_t berth_http_do(berth_http_client_t *c,
                             const berth_http_request_t *req,
                             berth_http_response_t *resp, berth_error_t *err)
{
  berth__http_xfer_t x;
  berth_status_t st;

  berth_error_clear(err);
  xfer_init(&x);
  if (c == NULL || req == NULL || resp == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "http: missing argument");
    goto done;
  }
  berth_buf_reset(&resp->body);
  free(resp->content_type);
  resp->content_type = NULL;
  resp->status = 0;
  resp->retry_after_ms = -1;

  berth_buf_set_limit(&resp->body, c->max_body_bytes);
  x.body = &resp->body;
  x.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms;
  x.max_body_bytes = c->max_body_bytes;
  x.accept_encoding = true;
  st = berth__http_perform(c, req, &x, err);
  berth_buf_set_limit(&resp->body, 0);
  resp->status = x.http_status;
  resp->content_type = x.content_type;
  x.content_type = NULL;
  resp->retry_after_ms = x.retry_after_ms;

done:
  free(x.content_type);
  return st;
}

berth_status_t berth_http_stream(berth_http_client_t *c,
                                 const berth_http_request_t *req,
                                 berth_http_chunk_fn on_data, void *ctx,
                                 long *http_status, berth_error_t *err)
{
  berth__http_xfer_t x;
  berth_status_t st;

  berth_error_clear(err);
  xfer_init(&x);
  if (c == NULL || req == NULL || on_data == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "http: missing argument");
    goto done;
  }
  x.on_data = on_data;
  x.on_data_ctx = ctx;
  /* A watch may rightly last for hours: only an explicit overall limit
   * applies, and silence is caught by the idle time-out. */
  x.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 0;
  if (req->idle_timeout_ms == 0)
    x.idle_timeout_ms = BERTH_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
  else if (req->idle_timeout_ms > 0)
    x.idle_timeout_ms = req->idle_timeout_ms;
  st = berth__http_perform(c, req, &x, err);

done:
  if (http_status != NULL)
    *http_status = x.http_status;
  free(x.content_type);
  return st;
}
