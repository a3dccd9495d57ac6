/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP transfer through libcurl, for berth_http_do and
 * berth_http_stream (lib/http/http.c).
 *
 * Every request is driven through the client's multi handle by our own
 * loop (curl_multi_perform and curl_multi_poll) rather than
 * curl_easy_perform, for two reasons: the multi handle's connection cache
 * keeps connections alive between requests, and the loop lets us enforce a
 * stream's idle time-out to the millisecond (CURLOPT_LOW_SPEED_TIME counts
 * whole seconds of average speed, which is not "no byte for N ms"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "berth/clock.h"
#include "berth/http.h"
#include "http_int.h"

/* The one place where a CURLcode becomes a berth_status_t. x says why a
 * callback stopped a transfer, which libcurl reports only as a write
 * error; errbuf is libcurl's message for the transfer. */
static berth_status_t status_from_curl(CURLcode rc, const berth__http_xfer_t *x,
                                       const char *errbuf)
{
  switch (rc) {
  case CURLE_OK:
    return BERTH_OK;
  case CURLE_OPERATION_TIMEDOUT:
    return BERTH_ETIMEOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_USE_SSL_FAILED:
    return BERTH_ETLS;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
    /* Under TLS 1.3 a server that rejects our client certificate (or its
     * absence) says so with an alert after the handshake, which libcurl
     * reports as a read error carrying OpenSSL's reason ("SSL routines::
     * tlsv13 alert certificate required"). That is a TLS failure, not a
     * broken connection worth retrying. */
    if (errbuf != NULL && strstr(errbuf, "SSL routines") != NULL)
      return BERTH_ETLS;
    return BERTH_ETRANSPORT;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_BAD_CONTENT_ENCODING:
    return BERTH_ETRANSPORT;
  case CURLE_WRITE_ERROR:
    /* Our write or header callback refused the data: the body limit, the
     * caller's stream callback, or memory. */
    return x->stop_status != BERTH_OK ? x->stop_status : BERTH_ETRANSPORT;
  case CURLE_FILESIZE_EXCEEDED:
    return BERTH_ETOOBIG;
  case CURLE_ABORTED_BY_CALLBACK:
    return BERTH_ECANCELED;
  case CURLE_OUT_OF_MEMORY:
    return BERTH_ENOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return BERTH_EINVAL;
  case CURLE_UNKNOWN_OPTION:
  case CURLE_NOT_BUILT_IN:
  case CURLE_BAD_FUNCTION_ARGUMENT:
    return BERTH_EINTERNAL;
  default:
    return BERTH_ETRANSPORT;
  }
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
  berth__http_xfer_t *x = userdata;
  size_t n = size * nmemb;
  const char *v;
  size_t vlen;
  char tmp[64];
  int64_t ms;

  x->last_activity_ms = berth_clock_monotonic_ms(NULL);
  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    /* A new response (after a 100 Continue, say): forget the last one's. */
    free(x->content_type);
    x->content_type = NULL;
    x->retry_after_ms = -1;
  } else if (berth__http_header_match(ptr, n, "Content-Type", &v, &vlen)) {
    free(x->content_type);
    x->content_type = strndup(v, vlen);
    if (x->content_type == NULL) {
      x->stop_status = BERTH_ENOMEM;
      return 0;
    }
  } else if (berth__http_header_match(ptr, n, "Retry-After", &v, &vlen)) {
    x->retry_after_ms = -1;
    if (vlen < sizeof(tmp)) {
      memcpy(tmp, v, vlen);
      tmp[vlen] = '\0';
      if (berth_http_parse_retry_after(tmp, berth_clock_realtime_ms(NULL),
                                       &ms) == BERTH_OK)
        x->retry_after_ms = ms;
    }
  }
  return n;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
  berth__http_xfer_t *x = userdata;
  size_t n = size * nmemb;
  long code = 0;
  berth_status_t st;

  x->last_activity_ms = berth_clock_monotonic_ms(NULL);
  if (n == 0)
    return 0;
  if (x->on_data != NULL) {
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    st = x->on_data(x->on_data_ctx, code, ptr, n);
  } else {
    st = berth_buf_append(x->body, ptr, n);
  }
  if (st != BERTH_OK) {
    /* Any return other than n makes libcurl stop with CURLE_WRITE_ERROR. */
    x->stop_status = st;
    return 0;
  }
  return n;
}

/* Wipe and free a header list: it may hold an Authorization header. */
static void free_headers(struct curl_slist *list)
{
  struct curl_slist *h;

  for (h = list; h != NULL; h = h->next)
    berth_memzero(h->data, strlen(h->data));
  curl_slist_free_all(list);
}

static berth_status_t append_header(struct curl_slist **list, const char *h)
{
  struct curl_slist *l = curl_slist_append(*list, h);

  if (l == NULL)
    return BERTH_ENOMEM;
  *list = l;
  return BERTH_OK;
}

static bool valid_method(const char *m)
{
  size_t i;

  for (i = 0; m[i] != '\0'; i++)
    if (m[i] < 'A' || m[i] > 'Z' || i >= 16)
      return false;
  return i > 0;
}

/* Build the request's header list: the caller's headers, then what we add
 * (no default Content-Type, no Expect: 100-continue, the bearer token). */
static berth_status_t build_headers(const berth_http_client_t *c,
                                    const berth_http_request_t *req,
                                    bool sends_body, struct curl_slist **out,
                                    berth_error_t *err)
{
  struct curl_slist *list = NULL;
  bool has_auth = false;
  bool has_type = false;
  char *auth = NULL;
  const char *h;
  const char *v;
  size_t vlen;
  size_t i;
  berth_status_t st = BERTH_OK;

  for (i = 0; req->headers != NULL; i++) {
    if (req->header_count > 0 ? i >= req->header_count
                              : req->headers[i] == NULL)
      break;
    h = req->headers[i];
    if (h == NULL || strpbrk(h, "\r\n") != NULL || strpbrk(h, ":;") == NULL) {
      /* Do not echo the header: it may be a credential. */
      st = berth_error_set(err, BERTH_EINVAL,
                           "http: request header %zu is malformed", i);
      goto done;
    }
    has_auth = has_auth || berth__http_header_match(h, strlen(h),
                                                    "Authorization", &v, &vlen);
    has_type = has_type || berth__http_header_match(h, strlen(h),
                                                    "Content-Type", &v, &vlen);
    st = append_header(&list, h);
    if (st != BERTH_OK)
      goto nomem;
  }
  if (sends_body) {
    /* "Name:" removes a header libcurl would add: its form Content-Type
     * and, for large bodies, Expect: 100-continue (a wasted round trip). */
    if (!has_type && (st = append_header(&list, "Content-Type:")) != BERTH_OK)
      goto nomem;
    if ((st = append_header(&list, "Expect:")) != BERTH_OK)
      goto nomem;
  }
  if (c->token != NULL && !has_auth) {
    auth = berth_strdup_printf("Authorization: Bearer %s", c->token);
    if (auth == NULL || (st = append_header(&list, auth)) != BERTH_OK)
      goto nomem;
  }
  *out = list;
  list = NULL;
  goto done;

nomem:
  st = berth_error_set(err, BERTH_ENOMEM, "http: out of memory");
done:
  berth__http_free_secret(auth);
  free_headers(list);
  return st;
}

/* Set every option of one request on the (just reset) easy handle. */
static CURLcode set_options(berth_http_client_t *c,
                            const berth_http_request_t *req,
                            berth__http_xfer_t *x, const char *method,
                            bool sends_body, struct curl_slist *headers)
{
  CURL *e = c->easy;
  struct curl_blob blob;
  CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
  do {                                                                         \
    if (rc == CURLE_OK)                                                        \
      rc = curl_easy_setopt(e, opt, val);                                      \
  } while (0)
/* libcurl need not copy the PEM text: the client keeps it alive until the
 * easy handle is cleaned up. */
#define SET_BLOB(opt, text)                                                    \
  do {                                                                         \
    blob.data = (void *)(text);                                                \
    blob.len = strlen(text);                                                   \
    blob.flags = CURL_BLOB_NOCOPY;                                             \
    SET(opt, &blob);                                                           \
  } while (0)

  SET(CURLOPT_ERRORBUFFER, c->errbuf);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_URL, req->url);
  SET(CURLOPT_USERAGENT, c->user_agent);
  SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  SET(CURLOPT_TIMEOUT_MS, x->timeout_ms);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  /* Over TLS, libcurl 7.88 copies each request into an upload buffer of
   * this size (64 KiB by default), allocated per transfer: heaptrack puts
   * 1.3 MB of them at berth-provisioner's peak (16 workers and 4 Event
   * lanes POSTing at once). API bodies are a few KiB; larger ones go in
   * several writes. 16 KiB is libcurl's minimum. */
  SET(CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  if (x->max_body_bytes > 0)
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body_bytes);
  if (x->accept_encoding)
    SET(CURLOPT_ACCEPT_ENCODING, "");

  if (c->insecure) {
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (c->ca_data != NULL || c->ca_file != NULL) {
    /* Trust only the given CAs, not the system's directory or bundle. */
    SET(CURLOPT_CAPATH, NULL);
    SET(CURLOPT_CAINFO, c->ca_data != NULL ? NULL : c->ca_file);
    if (c->ca_data != NULL)
      SET_BLOB(CURLOPT_CAINFO_BLOB, c->ca_data);
  }
  if (c->cert_data != NULL || c->cert_file != NULL) {
    SET(CURLOPT_SSLCERTTYPE, "PEM");
    if (c->cert_data != NULL)
      SET_BLOB(CURLOPT_SSLCERT_BLOB, c->cert_data);
    else
      SET(CURLOPT_SSLCERT, c->cert_file);
  }
  if (c->key_data != NULL || c->key_file != NULL) {
    SET(CURLOPT_SSLKEYTYPE, "PEM");
    if (c->key_data != NULL)
      SET_BLOB(CURLOPT_SSLKEY_BLOB, c->key_data);
    else
      SET(CURLOPT_SSLKEY, c->key_file);
  }

  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, x);
  SET(CURLOPT_WRITEFUNCTION, on_write);
  SET(CURLOPT_WRITEDATA, x);

  if (strcmp(method, "HEAD") == 0) {
    SET(CURLOPT_NOBODY, 1L);
  } else if (sends_body) {
    SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (strcmp(method, "POST") != 0)
      SET(CURLOPT_CUSTOMREQUEST, method);
  } else {
    SET(CURLOPT_HTTPGET, 1L);
    if (strcmp(method, "GET") != 0)
      SET(CURLOPT_CUSTOMREQUEST, method);
  }
  SET(CURLOPT_HTTPHEADER, headers);
#undef SET_BLOB
#undef SET
  return rc;
}

/* Drive the easy handle through the multi handle until the transfer ends,
 * or until x->idle_timeout_ms passes without a byte. *idle_expired says
 * which; *rc is libcurl's result when the transfer ended. */
static berth_status_t run_transfer(berth_http_client_t *c,
                                   berth__http_xfer_t *x, CURLcode *rc,
                                   bool *idle_expired)
{
  CURLMcode mc;
  CURLMsg *msg;
  int running = 1;
  int left;
  int64_t idle;
  long wait_ms;
  berth_status_t st = BERTH_EINTERNAL;

  *idle_expired = false;
  for (;;) {
    mc = curl_multi_perform(c->multi, &running);
    if (mc != CURLM_OK || running == 0)
      break;
    wait_ms = 1000;
    if (x->cancel != NULL) {
      if (*x->cancel) {
        st = BERTH_ECANCELED;
        goto done;
      }
      wait_ms = BERTH_HTTP_CANCEL_POLL_MS;
    }
    if (x->idle_timeout_ms > 0) {
      idle = berth_clock_monotonic_ms(NULL) - x->last_activity_ms;
      if (idle >= x->idle_timeout_ms) {
        *idle_expired = true;
        st = BERTH_ETIMEOUT;
        goto done;
      }
      if (x->idle_timeout_ms - idle < wait_ms)
        wait_ms = (long)(x->idle_timeout_ms - idle);
    }
    /* Returns early on socket activity or libcurl's own timers. */
    mc = curl_multi_poll(c->multi, NULL, 0, (int)wait_ms, NULL);
    if (mc != CURLM_OK)
      break;
  }
  if (mc != CURLM_OK) {
    st = mc == CURLM_OUT_OF_MEMORY ? BERTH_ENOMEM : BERTH_EINTERNAL;
    goto done;
  }
  while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy) {
      *rc = msg->data.result;
      st = BERTH_OK;
    }
  }

done:
  return st;
}

berth_status_t berth__http_perform(berth_http_client_t *c,
                                   const berth_http_request_t *req,
                                   berth__http_xfer_t *x, berth_error_t *err)
{
  struct curl_slist *headers = NULL;
  const char *method;
  char where[256];
  bool sends_body;
  bool added = false;
  bool idle_expired = false;
  CURLcode rc = CURLE_OK;
  CURLMcode mc;
  berth_status_t st;

  method =
      req->method != NULL ? req->method : (req->body != NULL ? "POST" : "GET");
  st = berth__http_url_for_message(req->url, where, sizeof(where));
  if (st != BERTH_OK) {
    st = berth_error_set(err, st, "http: %s", where);
    goto done;
  }
  if (!valid_method(method) || (req->body == NULL && req->body_len > 0) ||
      req->timeout_ms < 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "http: %s %s: invalid method, body or time-out",
                         valid_method(method) ? method : "?", where);
    goto done;
  }
  x->cancel = req->cancel;
  sends_body = req->body != NULL || strcmp(method, "POST") == 0 ||
               strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
  st = build_headers(c, req, sends_body, &headers, err);
  if (st != BERTH_OK)
    goto done;

  /* Reset forgets the previous request's options but keeps connections. */
  curl_easy_reset(c->easy);
  c->errbuf[0] = '\0';
  x->easy = c->easy;
  rc = set_options(c, req, x, method, sends_body, headers);
  if (rc != CURLE_OK) {
    st = berth_error_set(err, status_from_curl(rc, x, NULL), "http: %s %s: %s",
                         method, where, curl_easy_strerror(rc));
    goto done;
  }
  x->last_activity_ms = berth_clock_monotonic_ms(NULL);
  mc = curl_multi_add_handle(c->multi, c->easy);
  if (mc != CURLM_OK) {
    st = berth_error_set(
        err, mc == CURLM_OUT_OF_MEMORY ? BERTH_ENOMEM : BERTH_EINTERNAL,
        "http: %s", curl_multi_strerror(mc));
    goto done;
  }
  added = true;

  st = run_transfer(c, x, &rc, &idle_expired);
  curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &x->http_status);
  if (idle_expired) {
    st = berth_error_set(err, BERTH_ETIMEOUT,
                         "http: %s %s: no data received for %ld ms", method,
                         where, x->idle_timeout_ms);
  } else if (st == BERTH_ECANCELED) {
    st = berth_error_set(err, st, "http: %s %s: canceled", method, where);
  } else if (st != BERTH_OK) {
    st = berth_error_set(err, st, "http: %s %s: transfer loop failed", method,
                         where);
  } else if (rc != CURLE_OK) {
    st = status_from_curl(rc, x, c->errbuf);
    if (rc == CURLE_WRITE_ERROR && x->stop_status == BERTH_ETOOBIG)
      berth_error_set(err, st, "http: %s %s: response body exceeds %zu bytes",
                      method, where, x->max_body_bytes);
    else if (rc == CURLE_WRITE_ERROR && x->stop_status != BERTH_OK)
      berth_error_set(err, st, "http: %s %s: stopped by the data callback (%s)",
                      method, where, berth_status_name(x->stop_status));
    else
      berth_error_set(err, st, "http: %s %s: %s", method, where,
                      c->errbuf[0] != '\0' ? c->errbuf
                                           : curl_easy_strerror(rc));
  }

done:
  /* Removing an unfinished transfer aborts it and closes its connection. */
  if (added)
    curl_multi_remove_handle(c->multi, c->easy);
  /* Drop the options that point into this call's arguments. */
  if (headers != NULL)
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
  free_headers(headers);
  if (st != BERTH_OK && err != NULL)
    err->http_code = x->http_status;
  return st;
}
