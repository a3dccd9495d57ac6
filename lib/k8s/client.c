/* SPDX-License-Identifier: Apache-2.0 */
/* The Kubernetes client: HTTP connection pool, credentials, rate limit,
 * retries and back-off. See include/berth/k8s.h and lib/k8s/k8s_int.h.
 *
 * Every request goes through berth__k8s_request:
 *   1. wait for a token from the rate limiter (a 429 holds it for all);
 *   2. take the current credentials (token file re-read on rotation, exec
 *      plugin re-run on expiry) and an idle HTTP client from the pool (one
 *      libcurl handle per concurrent request, keep-alive between them);
 *   3. on 401, refresh the credentials once and retry; on 429, wait for
 *      Retry-After (or back off) and retry; on 5xx or a transport failure,
 *      back off with full jitter and retry an idempotent request (POST only
 *      when the server said it did not act: 429, or a 5xx with
 *      Retry-After), up to max_retries times;
 *   4. decode an error answer's Status into berth_error_t. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/http.h"
#include "berth/json.h"
#include "berth/k8s_ratelimit.h"
#include "k8s_int.h"

#define POOL_MAX_IDLE 16
#define STREAM_ERROR_BODY_MAX ((size_t)64 * 1024)

typedef struct pool_entry {
  berth_http_client_t *http;
  uint64_t generation;
  struct pool_entry *next;
} pool_entry_t;

struct berth_k8s_client {
  berth_k8s_config_t cfg;
  const berth_clock_t *clock;
  const berth_rand_t *rand;
  berth_k8s_ratelimit_t *rl;
  berth__k8s_auth_t *auth;
  long timeout_ms;
  long connect_timeout_ms;
  int max_retries;
  int64_t backoff_base_ms;
  int64_t backoff_cap_ms;
  int64_t max_retry_after_ms;
  char *user_agent;
  void (*observe)(void *ctx, const char *method, long code, double seconds);
  void *observe_ctx;
  pthread_mutex_t lock; /* the pool and the stats */
  pool_entry_t *idle;
  size_t nidle;
  berth_k8s_client_stats_t stats;
};

void berth_k8s_client_options_init(berth_k8s_client_options_t *opts)
{
  memset(opts, 0, sizeof(*opts));
}

static berth_status_t check_readable(const char *path, const char *what,
                                     berth_error_t *err)
{
  if (path == NULL || access(path, R_OK) == 0)
    return BERTH_OK;
  return berth_error_set(err, BERTH_EINVAL, "k8s: %s %s cannot be read", what,
                         path);
}

berth_status_t berth_k8s_client_create(const berth_k8s_config_t *cfg,
                                       const berth_k8s_client_options_t *opts,
                                       berth_k8s_client_t **out,
                                       berth_error_t *err)
{
  berth_k8s_client_options_t defaults;
  berth_k8s_client_t *c = NULL;
  double qps;
  berth_status_t st = BERTH_OK;

  berth_error_clear(err);
  if (opts == NULL) {
    berth_k8s_client_options_init(&defaults);
    opts = &defaults;
  }
  if (cfg == NULL || cfg->server == NULL || out == NULL) {
    st = berth_error_set(err, BERTH_EINVAL, "k8s: no server configured");
    goto done;
  }
  if ((st = check_readable(cfg->ca_file, "certificate-authority", err)) !=
          BERTH_OK ||
      (st = check_readable(cfg->client_cert_file, "client-certificate", err)) !=
          BERTH_OK ||
      (st = check_readable(cfg->client_key_file, "client-key", err)) !=
          BERTH_OK)
    goto done;
  c = calloc(1, sizeof(*c));
  if (c == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  pthread_mutex_init(&c->lock, NULL);
  if (berth__k8s_config_copy(cfg, &c->cfg) != BERTH_OK ||
      !berth__k8s_dup(opts->user_agent, &c->user_agent)) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  if (c->cfg.namespace_name == NULL &&
      (c->cfg.namespace_name = strdup("default")) == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  c->clock = opts->clock != NULL ? opts->clock : berth_clock_system();
  c->rand = opts->rand != NULL ? opts->rand : berth_rand_system();
  c->timeout_ms =
      opts->timeout_ms > 0 ? opts->timeout_ms : BERTH_K8S_DEFAULT_TIMEOUT_MS;
  c->connect_timeout_ms = opts->connect_timeout_ms;
  c->max_retries = opts->max_retries == 0  ? BERTH_K8S_DEFAULT_MAX_RETRIES
                   : opts->max_retries < 0 ? 0
                                           : opts->max_retries;
  c->backoff_base_ms = opts->backoff_base_ms > 0
                           ? opts->backoff_base_ms
                           : BERTH_K8S_DEFAULT_BACKOFF_BASE_MS;
  c->backoff_cap_ms = opts->backoff_cap_ms > 0
                          ? opts->backoff_cap_ms
                          : BERTH_K8S_DEFAULT_BACKOFF_CAP_MS;
  c->observe = opts->observe;
  c->observe_ctx = opts->observe_ctx;
  c->max_retry_after_ms = opts->max_retry_after_ms > 0
                              ? opts->max_retry_after_ms
                              : BERTH_K8S_DEFAULT_MAX_RETRY_AFTER_MS;
  qps = opts->qps == 0 ? BERTH_K8S_DEFAULT_QPS : opts->qps;
  if (berth_k8s_ratelimit_create(
          qps, opts->burst > 0 ? opts->burst : BERTH_K8S_DEFAULT_BURST,
          c->clock, &c->rl) != BERTH_OK) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  st = berth__k8s_auth_create(&c->cfg, c->clock, &c->auth, err);
  if (st != BERTH_OK)
    goto done;
  *out = c;
  c = NULL;

done:
  berth_k8s_client_destroy(c);
  return st;
}

void berth_k8s_client_destroy(berth_k8s_client_t *c)
{
  pool_entry_t *e;

  if (c == NULL)
    return;
  while ((e = c->idle) != NULL) {
    c->idle = e->next;
    berth_http_client_destroy(e->http);
    free(e);
  }
  berth__k8s_auth_destroy(c->auth);
  berth_k8s_ratelimit_destroy(c->rl);
  berth_k8s_config_cleanup(&c->cfg);
  free(c->user_agent);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

const char *berth_k8s_client_namespace(const berth_k8s_client_t *c)
{
  return c->cfg.namespace_name;
}

void berth_k8s_client_get_stats(berth_k8s_client_t *c,
                                berth_k8s_client_stats_t *out)
{
  pthread_mutex_lock(&c->lock);
  *out = c->stats;
  pthread_mutex_unlock(&c->lock);
}

const berth_clock_t *berth__k8s_client_clock(const berth_k8s_client_t *c)
{
  return c->clock;
}

const berth_rand_t *berth__k8s_client_rand(const berth_k8s_client_t *c)
{
  return c->rand;
}

/* An idle HTTP client for cred's TLS identity, or a new one. */
static berth_status_t pool_acquire(berth_k8s_client_t *c,
                                   const berth__k8s_cred_t *cred,
                                   pool_entry_t **out, berth_error_t *err)
{
  pool_entry_t *e;
  pool_entry_t *stale = NULL;
  berth_http_options_t o;
  berth_status_t st;

  pthread_mutex_lock(&c->lock);
  while ((e = c->idle) != NULL) {
    c->idle = e->next;
    c->nidle--;
    if (e->generation == cred->generation)
      break;
    e->next = stale; /* an old exec certificate: drop the connection */
    stale = e;
  }
  pthread_mutex_unlock(&c->lock);
  while (stale != NULL) {
    pool_entry_t *next = stale->next;
    berth_http_client_destroy(stale->http);
    free(stale);
    stale = next;
  }
  if (e != NULL) {
    *out = e;
    return BERTH_OK;
  }
  e = calloc(1, sizeof(*e));
  if (e == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  berth_http_options_init(&o);
  o.ca_file = c->cfg.ca_file;
  o.ca_data = c->cfg.ca_data;
  o.client_cert_file = c->cfg.client_cert_file;
  o.client_key_file = c->cfg.client_key_file;
  o.client_cert_data =
      cred->cert_data != NULL ? cred->cert_data : c->cfg.client_cert_data;
  o.client_key_data =
      cred->key_data != NULL ? cred->key_data : c->cfg.client_key_data;
  o.insecure_skip_tls_verify = c->cfg.insecure_skip_tls_verify;
  o.connect_timeout_ms = c->connect_timeout_ms;
  o.timeout_ms = c->timeout_ms;
  o.user_agent = c->user_agent;
  st = berth_http_client_create(&o, &e->http, err);
  if (st != BERTH_OK) {
    free(e);
    return st;
  }
  e->generation = cred->generation;
  *out = e;
  return BERTH_OK;
}

static void pool_release(berth_k8s_client_t *c, pool_entry_t *e, bool broken)
{
  if (e == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  if (!broken && c->nidle < POOL_MAX_IDLE) {
    e->next = c->idle;
    c->idle = e;
    c->nidle++;
    e = NULL;
  }
  pthread_mutex_unlock(&c->lock);
  if (e != NULL) {
    berth_http_client_destroy(e->http);
    free(e);
  }
}

/* Wait for the rate limiter, counting the time. */
static void limit(berth_k8s_client_t *c)
{
  int64_t waited = berth_k8s_ratelimit_wait(c->rl);

  pthread_mutex_lock(&c->lock);
  c->stats.requests++;
  c->stats.rate_limited_ms += (uint64_t)waited;
  pthread_mutex_unlock(&c->lock);
}

static void count(berth_k8s_client_t *c, bool retry, bool throttled)
{
  pthread_mutex_lock(&c->lock);
  c->stats.retries += retry;
  c->stats.throttled += throttled;
  pthread_mutex_unlock(&c->lock);
}

/* Headers: Accept, Content-Type, Authorization. The token is in a header
 * we build, never in a URL, and the header array is wiped after use. */
static berth_status_t make_headers(const char *content_type,
                                   const berth__k8s_cred_t *cred, char *hdrs[4])
{
  size_t n = 0;

  memset(hdrs, 0, 4 * sizeof(char *));
  hdrs[n++] = strdup("Accept: application/json");
  if (content_type != NULL)
    hdrs[n++] = berth_strdup_printf("Content-Type: %s", content_type);
  if (cred->token != NULL)
    hdrs[n++] = berth_strdup_printf("Authorization: Bearer %s", cred->token);
  while (n > 0)
    if (hdrs[--n] == NULL)
      return BERTH_ENOMEM;
  return BERTH_OK;
}

static void free_headers(char *hdrs[4])
{
  size_t i;

  for (i = 0; i < 4; i++)
    berth__k8s_free_secret(hdrs[i]);
}

/* "GET /api/v1/namespaces/x/pods" (no query) for messages. */
static void describe(const char *method, const char *path, char *out,
                     size_t outsize)
{
  size_t n = strcspn(path, "?");

  snprintf(out, outsize, "k8s %s %.*s", method, (int)(n > 300 ? 300 : n), path);
}

static int64_t backoff(berth_k8s_client_t *c, unsigned attempt)
{
  return berth_backoff_full_jitter(c->rand, c->backoff_base_ms,
                                   c->backoff_cap_ms, attempt);
}

berth_status_t berth__k8s_request(berth_k8s_client_t *c,
                                  const berth__k8s_req_t *req, json_t **out,
                                  berth_error_t *err)
{
  berth_http_request_t hreq;
  berth_http_response_t resp;
  berth__k8s_cred_t cred;
  pool_entry_t *conn = NULL;
  char *hdrs[4] = {NULL, NULL, NULL, NULL};
  char *url = NULL;
  char what[400];
  bool idempotent = strcmp(req->method, "POST") != 0 || req->retry_unsafe;
  bool auth_retried = false;
  unsigned attempt = 0;
  int64_t retry_after;
  int64_t delay;
  int64_t t0;
  json_t *doc = NULL;
  berth_status_t st;

  berth_error_clear(err);
  memset(&cred, 0, sizeof(cred));
  berth_http_response_init(&resp);
  describe(req->method, req->path_and_query, what, sizeof(what));
  url = berth_strdup_printf("%s%s", c->cfg.server, req->path_and_query);
  if (url == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  for (;;) {
    limit(c);
    berth__k8s_cred_cleanup(&cred);
    free_headers(hdrs);
    st = berth__k8s_auth_get(c->auth, &cred, err);
    if (st == BERTH_OK &&
        make_headers(req->content_type, &cred, hdrs) != BERTH_OK)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    if (st == BERTH_OK)
      st = pool_acquire(c, &cred, &conn, err);
    if (st != BERTH_OK)
      goto done;
    memset(&hreq, 0, sizeof(hreq));
    hreq.method = req->method;
    hreq.url = url;
    hreq.headers = (const char *const *)hdrs;
    hreq.body = req->body;
    hreq.body_len = req->body_len;
    if (hreq.body == NULL &&
        (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
         strcmp(req->method, "PATCH") == 0))
      hreq.body = "";
    t0 = berth_clock_monotonic_ms(c->clock);
    st = berth_http_do(conn->http, &hreq, &resp, err);
    if (c->observe != NULL)
      c->observe(c->observe_ctx, req->method, st == BERTH_OK ? resp.status : 0,
                 (double)(berth_clock_monotonic_ms(c->clock) - t0) / 1000.0);
    pool_release(c, conn, st != BERTH_OK);
    conn = NULL;
    if (st != BERTH_OK) {
      /* A transport failure: the request may or may not have reached the
       * server, so only an idempotent one is sent again. */
      if ((st == BERTH_ETRANSPORT || st == BERTH_ETIMEOUT) && idempotent &&
          (int)attempt < c->max_retries) {
        count(c, true, false);
        berth_clock_sleep_ms(c->clock, backoff(c, attempt++));
        continue;
      }
      goto done;
    }
    if (resp.status >= 200 && resp.status < 300)
      break;
    st = berth_k8s_status_decode(resp.status, resp.body.data, resp.body.len,
                                 &retry_after, err);
    if (resp.retry_after_ms >= 0)
      retry_after = resp.retry_after_ms;
    if (st == BERTH_EUNAUTHORIZED && !auth_retried &&
        berth__k8s_auth_invalidate(c->auth, &cred)) {
      auth_retried = true;
      count(c, true, false);
      continue;
    }
    if (st == BERTH_ETHROTTLED) {
      /* The server did not act: always safe to send again, and everyone
       * using this client waits (a 429 is about the client, not the
       * request). */
      count(c, false, true);
      delay = retry_after >= 0 ? retry_after : backoff(c, attempt);
      if (delay > c->max_retry_after_ms)
        delay = c->max_retry_after_ms;
      berth_k8s_ratelimit_hold(c->rl, delay);
      if ((int)attempt < c->max_retries) {
        attempt++;
        count(c, true, false);
        continue;
      }
      goto done;
    }
    if (st == BERTH_EUNAVAILABLE && resp.status != 501 &&
        (idempotent || retry_after >= 0) && (int)attempt < c->max_retries) {
      delay = retry_after >= 0 ? retry_after : backoff(c, attempt);
      if (delay > c->max_retry_after_ms)
        delay = c->max_retry_after_ms;
      attempt++;
      count(c, true, false);
      berth_clock_sleep_ms(c->clock, delay);
      continue;
    }
    goto done;
  }
  if (out != NULL && resp.body.len > 0) {
    st = berth_json_parse(resp.body.data, resp.body.len, &doc, err);
    if (st != BERTH_OK)
      goto done;
    *out = doc;
    doc = NULL;
  } else if (out != NULL) {
    *out = NULL;
  }

done:
  if (st != BERTH_OK)
    berth_error_prefix(err, what);
  json_decref(doc);
  pool_release(c, conn, true);
  free_headers(hdrs);
  berth__k8s_cred_cleanup(&cred);
  if (resp.body.data != NULL && resp.body.len > 0 &&
      strstr(req->path_and_query, "/secrets") != NULL)
    berth_memzero(resp.body.data, resp.body.len);
  berth_http_response_cleanup(&resp);
  free(url);
  return st;
}

/* Passes a 2xx stream on, collects an error answer's body. */
typedef struct {
  berth_http_chunk_fn on_data;
  void *ctx;
  berth_buf_t error_body;
} stream_ctx_t;

static berth_status_t stream_chunk(void *ctx, long http_status,
                                   const char *data, size_t len)
{
  stream_ctx_t *s = ctx;

  if (http_status >= 200 && http_status < 300)
    return s->on_data(s->ctx, http_status, data, len);
  if (s->error_body.len + len > STREAM_ERROR_BODY_MAX)
    return BERTH_OK; /* enough of it */
  return berth_buf_append(&s->error_body, data, len);
}

berth_status_t berth__k8s_stream(berth_k8s_client_t *c, const char *path,
                                 long idle_timeout_ms,
                                 const volatile int *cancel,
                                 berth_http_chunk_fn on_data, void *ctx,
                                 berth_error_t *err)
{
  berth_http_request_t hreq;
  berth__k8s_cred_t cred;
  pool_entry_t *conn = NULL;
  char *hdrs[4] = {NULL, NULL, NULL, NULL};
  char *url = NULL;
  char what[400];
  stream_ctx_t s;
  long code = 0;
  int64_t retry_after = -1;
  bool auth_retried = false;
  berth_status_t st;

  berth_error_clear(err);
  memset(&cred, 0, sizeof(cred));
  s.on_data = on_data;
  s.ctx = ctx;
  berth_buf_init(&s.error_body);
  describe("GET", path, what, sizeof(what));
  url = berth_strdup_printf("%s%s", c->cfg.server, path);
  if (url == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  for (;;) {
    limit(c);
    berth__k8s_cred_cleanup(&cred);
    free_headers(hdrs);
    berth_buf_reset(&s.error_body);
    st = berth__k8s_auth_get(c->auth, &cred, err);
    if (st == BERTH_OK && make_headers(NULL, &cred, hdrs) != BERTH_OK)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    if (st == BERTH_OK)
      st = pool_acquire(c, &cred, &conn, err);
    if (st != BERTH_OK)
      goto done;
    memset(&hreq, 0, sizeof(hreq));
    hreq.method = "GET";
    hreq.url = url;
    hreq.headers = (const char *const *)hdrs;
    hreq.idle_timeout_ms = idle_timeout_ms;
    hreq.cancel = cancel;
    st = berth_http_stream(conn->http, &hreq, stream_chunk, &s, &code, err);
    /* A stream that did not end cleanly leaves its connection unusable. */
    pool_release(c, conn, st != BERTH_OK);
    conn = NULL;
    if (st != BERTH_OK || (code >= 200 && code < 300))
      goto done;
    st = berth_k8s_status_decode(code, s.error_body.data, s.error_body.len,
                                 &retry_after, err);
    if (st == BERTH_EUNAUTHORIZED && !auth_retried &&
        berth__k8s_auth_invalidate(c->auth, &cred)) {
      auth_retried = true;
      continue;
    }
    if (st == BERTH_ETHROTTLED) {
      count(c, false, true);
      /* A stream does not expose the Retry-After header; the Status's
       * details.retryAfterSeconds does the same job, else one second. */
      if (retry_after < 0)
        retry_after = 1000;
      if (retry_after > c->max_retry_after_ms)
        retry_after = c->max_retry_after_ms;
      berth_k8s_ratelimit_hold(c->rl, retry_after);
    }
    goto done;
  }

done:
  if (st != BERTH_OK)
    berth_error_prefix(err, what);
  pool_release(c, conn, true);
  free_headers(hdrs);
  berth__k8s_cred_cleanup(&cred);
  berth_buf_cleanup(&s.error_body);
  free(url);
  return st;
}
