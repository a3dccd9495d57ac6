/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS client: signing, retries with a retry quota, a pool of HTTP
 * connections, and berth_aws_t. See include/berth/aws.h.
 *
 * Retries follow the SDKs' "standard" retry mode (AWS SDKs and Tools
 * Reference Guide, "Retry behavior"): throttling codes, 5xx answers and
 * transport failures are retried up to max_attempts with full-jitter
 * exponential backoff ("Exponential Backoff And Jitter", AWS Architecture
 * Blog); each retry takes 5 tokens (10 after a time-out) from a quota of
 * 500 that successes refill, and no retry is made when it is empty. Every
 * attempt is signed anew, so its X-Amz-Date is fresh. */
#include "aws_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/sigv4.h"

#define KEY_CACHE 4

typedef struct key_entry {
  bool used;
  char *access_key_id;
  char *secret; /* wiped on eviction */
  char date[9];
  char region[64];
  char service[32];
  unsigned char key[BERTH_SIGV4_KEY_LEN];
  uint64_t stamp;
} key_entry_t;

struct berth__aws_transport {
  pthread_mutex_t lock;
  berth_http_client_t **idle; /* connections not in use */
  size_t idle_count;
  size_t idle_cap;
  berth_http_options_t http_opts;
  char *ca_file;
  char *user_agent;
  const berth_clock_t *clock;
  const berth_rand_t *rand;
  int max_attempts;
  int64_t retry_base_ms;
  int64_t retry_cap_ms;
  int quota;     /* tokens left */
  int quota_cap; /* < 0: unlimited */
  berth_aws_stats_t stats;
  key_entry_t keys[KEY_CACHE];
  uint64_t key_stamp;
};

struct berth_aws {
  berth__aws_config_t cfg;
  char *region;
  berth_aws_endpoint_t endpoints[BERTH_AWS_SERVICE_MAX_];
  berth__aws_transport_t *transport;
  berth_aws_creds_provider_t *provider;
};

/* --- transport ----------------------------------------------------------- */

berth_status_t berth__aws_transport_create(const berth__aws_config_t *cfg,
                                           berth__aws_transport_t **out,
                                           berth_error_t *err)
{
  berth__aws_transport_t *t;

  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "aws: out of memory");
  pthread_mutex_init(&t->lock, NULL);
  berth_http_options_init(&t->http_opts);
  if ((cfg->ca_file != NULL && (t->ca_file = strdup(cfg->ca_file)) == NULL) ||
      (cfg->user_agent != NULL &&
       (t->user_agent = strdup(cfg->user_agent)) == NULL)) {
    berth__aws_transport_destroy(t);
    return berth_error_set(err, BERTH_ENOMEM, "aws: out of memory");
  }
  t->http_opts.ca_file = t->ca_file;
  t->http_opts.user_agent = t->user_agent;
  t->http_opts.connect_timeout_ms = cfg->connect_timeout_ms;
  t->http_opts.timeout_ms = cfg->timeout_ms;
  t->clock = cfg->clock;
  t->rand = cfg->rand;
  t->max_attempts = cfg->max_attempts;
  t->retry_base_ms = cfg->retry_base_ms;
  t->retry_cap_ms = cfg->retry_cap_ms;
  t->quota_cap = cfg->retry_quota;
  t->quota = cfg->retry_quota;
  *out = t;
  return BERTH_OK;
}

static void key_entry_clear(key_entry_t *e)
{
  free(e->access_key_id);
  berth__aws_free_secret(e->secret);
  berth_memzero(e, sizeof(*e));
}

void berth__aws_transport_destroy(berth__aws_transport_t *t)
{
  size_t i;

  if (t == NULL)
    return;
  for (i = 0; i < t->idle_count; i++)
    berth_http_client_destroy(t->idle[i]);
  free(t->idle);
  for (i = 0; i < KEY_CACHE; i++)
    key_entry_clear(&t->keys[i]);
  free(t->ca_file);
  free(t->user_agent);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

void berth__aws_transport_stats(berth__aws_transport_t *t,
                                berth_aws_stats_t *out)
{
  pthread_mutex_lock(&t->lock);
  *out = t->stats;
  out->retry_quota = t->quota;
  pthread_mutex_unlock(&t->lock);
}

/* Take an idle connection or make one. */
static berth_status_t take_client(berth__aws_transport_t *t,
                                  berth_http_client_t **out, berth_error_t *err)
{
  berth_http_client_t *c = NULL;

  pthread_mutex_lock(&t->lock);
  if (t->idle_count > 0)
    c = t->idle[--t->idle_count];
  pthread_mutex_unlock(&t->lock);
  if (c != NULL) {
    *out = c;
    return BERTH_OK;
  }
  return berth_http_client_create(&t->http_opts, out, err);
}

static void give_client(berth__aws_transport_t *t, berth_http_client_t *c)
{
  bool kept = false;

  pthread_mutex_lock(&t->lock);
  if (t->idle_count == t->idle_cap) {
    size_t cap = t->idle_cap ? t->idle_cap * 2 : 4;
    berth_http_client_t **idle = realloc(t->idle, cap * sizeof(*idle));
    if (idle != NULL) {
      t->idle = idle;
      t->idle_cap = cap;
    }
  }
  if (t->idle_count < t->idle_cap) {
    t->idle[t->idle_count++] = c;
    kept = true;
  }
  pthread_mutex_unlock(&t->lock);
  if (!kept)
    berth_http_client_destroy(c);
}

/* Find or derive the signing key for creds/date/region/service. */
static berth_status_t signing_key(berth__aws_transport_t *t,
                                  const berth_aws_credentials_t *creds,
                                  const char *date, const char *region,
                                  const char *service,
                                  unsigned char key[BERTH_SIGV4_KEY_LEN])
{
  key_entry_t *victim = NULL;
  berth_status_t st;
  size_t i;

  pthread_mutex_lock(&t->lock);
  for (i = 0; i < KEY_CACHE; i++) {
    key_entry_t *e = &t->keys[i];
    if (e->used && strcmp(e->date, date) == 0 &&
        strcmp(e->region, region) == 0 && strcmp(e->service, service) == 0 &&
        strcmp(e->access_key_id, creds->access_key_id) == 0 &&
        strcmp(e->secret, creds->secret_access_key) == 0) {
      memcpy(key, e->key, BERTH_SIGV4_KEY_LEN);
      e->stamp = ++t->key_stamp;
      pthread_mutex_unlock(&t->lock);
      return BERTH_OK;
    }
  }
  pthread_mutex_unlock(&t->lock);
  st = berth_sigv4_derive_key(creds->secret_access_key, date, region, service,
                              key);
  if (st != BERTH_OK || strlen(region) >= sizeof(victim->region) ||
      strlen(service) >= sizeof(victim->service))
    return st;
  pthread_mutex_lock(&t->lock);
  for (i = 0; i < KEY_CACHE; i++)
    if (victim == NULL || !t->keys[i].used ||
        (victim->used && t->keys[i].stamp < victim->stamp))
      victim = &t->keys[i];
  key_entry_clear(victim);
  victim->access_key_id = strdup(creds->access_key_id);
  victim->secret = strdup(creds->secret_access_key);
  if (victim->access_key_id != NULL && victim->secret != NULL) {
    victim->used = true;
    memcpy(victim->date, date, sizeof(victim->date));
    berth_strlcpy(victim->region, region, sizeof(victim->region));
    berth_strlcpy(victim->service, service, sizeof(victim->service));
    memcpy(victim->key, key, BERTH_SIGV4_KEY_LEN);
    victim->stamp = ++t->key_stamp;
  } else {
    key_entry_clear(victim);
  }
  pthread_mutex_unlock(&t->lock);
  return BERTH_OK;
}

/* Take cost tokens from the quota; false when it cannot pay. */
static bool quota_take(berth__aws_transport_t *t, int cost)
{
  bool ok;

  pthread_mutex_lock(&t->lock);
  ok = t->quota_cap < 0 || t->quota >= cost;
  if (ok && t->quota_cap >= 0)
    t->quota -= cost;
  if (!ok)
    t->stats.quota_refusals++;
  pthread_mutex_unlock(&t->lock);
  return ok;
}

/* A success gives back the last retry's cost, or one token. */
static void quota_release(berth__aws_transport_t *t, int cost)
{
  pthread_mutex_lock(&t->lock);
  if (t->quota_cap >= 0) {
    t->quota += cost > 0 ? cost : 1;
    if (t->quota > t->quota_cap)
      t->quota = t->quota_cap;
  }
  pthread_mutex_unlock(&t->lock);
}

static void count(berth__aws_transport_t *t, uint64_t *field)
{
  pthread_mutex_lock(&t->lock);
  (*field)++;
  pthread_mutex_unlock(&t->lock);
}

/* Codes retried besides throttling and 5xx (botocore's transient list,
 * and STS's IDPCommunicationError). */
static bool transient_code(const char *code)
{
  static const char *const codes[] = {
      "RequestTimeout",          "RequestTimeoutException",
      "PriorRequestNotComplete", "IDPCommunicationError",
      "InternalError",           "InternalFailure",
      "ServiceUnavailable",      NULL};
  size_t i;

  for (i = 0; codes[i] != NULL; i++)
    if (strcmp(code, codes[i]) == 0)
      return true;
  return false;
}

/* Build the header lines of one attempt into lines (owned strings). */
typedef struct header_lines {
  char *items[8];
  size_t count;
} header_lines_t;

static void lines_cleanup(header_lines_t *h)
{
  size_t i;

  for (i = 0; i < h->count; i++)
    berth__aws_free_secret(h->items[i]);
  h->count = 0;
}

static berth_status_t lines_add(header_lines_t *h, const char *name,
                                const char *value)
{
  char *line;

  if (h->count == sizeof(h->items) / sizeof(h->items[0]))
    return BERTH_EINTERNAL;
  line = berth_strdup_printf("%s: %s", name, value);
  if (line == NULL)
    return BERTH_ENOMEM;
  h->items[h->count++] = line;
  return BERTH_OK;
}

/* Sign one attempt (SigV4 over the headers sh, with the transport's
 * cached signing key) and add the signature's header lines to lines. */
static berth_status_t
sign_lines(berth__aws_transport_t *t, const berth_aws_endpoint_t *ep,
           const berth_aws_credentials_t *creds, const berth_aws_request_t *req,
           const char *method, const char *path, const berth_sigv4_header_t *sh,
           size_t nsh, header_lines_t *lines, berth_error_t *err)
{
  berth_sigv4_credentials_t sc;
  berth_sigv4_params_t sp;
  berth_sigv4_request_t sr;
  berth_sigv4_result_t sig;
  unsigned char key[BERTH_SIGV4_KEY_LEN];
  char date[17];
  berth_status_t st;
  size_t i;

  memset(&sig, 0, sizeof(sig));
  memset(&sc, 0, sizeof(sc));
  sc.access_key_id = creds->access_key_id;
  sc.secret_access_key = creds->secret_access_key;
  sc.session_token = creds->session_token;
  memset(&sp, 0, sizeof(sp));
  sp.region = ep->signing_region;
  sp.service = ep->signing_name;
  sp.credentials = &sc;
  sp.time_ms = berth_clock_realtime_ms(t->clock);
  memset(&sr, 0, sizeof(sr));
  sr.method = method;
  sr.path = path;
  sr.query = req->query;
  sr.headers = sh;
  sr.header_count = nsh;
  sr.body = req->body;
  sr.body_len = req->body_len;
  st = berth_sigv4_format_date(sp.time_ms, date);
  date[8] = '\0';
  if (st == BERTH_OK && creds->secret_access_key != NULL &&
      creds->access_key_id != NULL &&
      signing_key(t, creds, date, sp.region, sp.service, key) == BERTH_OK)
    sp.signing_key = key;
  if (st == BERTH_OK)
    st = berth_sigv4_sign(&sr, &sp, &sig, err);
  berth_memzero(key, sizeof(key));
  for (i = 0; st == BERTH_OK && i < sig.header_count; i++)
    st = lines_add(lines, sig.headers[i].name, sig.headers[i].value);
  berth_sigv4_result_cleanup(&sig);
  return st;
}

/* The header lines of one attempt: Host, Content-Type and, with
 * credentials, the signature's. On failure lines is cleaned up and err
 * says why. */
static berth_status_t attempt_lines(berth__aws_transport_t *t,
                                    const berth_aws_endpoint_t *ep,
                                    const berth_aws_credentials_t *creds,
                                    const berth_aws_request_t *req,
                                    const char *method, const char *host,
                                    const char *path, const char *action,
                                    header_lines_t *lines, berth_error_t *err)
{
  berth_sigv4_header_t sh[2];
  size_t nsh = 0;
  berth_status_t st = lines_add(lines, "Host", host);

  sh[nsh].name = "Host";
  sh[nsh++].value = host;
  if (st == BERTH_OK && req->content_type != NULL) {
    st = lines_add(lines, "Content-Type", req->content_type);
    sh[nsh].name = "Content-Type";
    sh[nsh++].value = req->content_type;
  }
  if (st != BERTH_OK) {
    lines_cleanup(lines);
    return berth_error_set(err, BERTH_ENOMEM, "%s: out of memory", action);
  }
  if (creds == NULL)
    return BERTH_OK;
  st = sign_lines(t, ep, creds, req, method, path, sh, nsh, lines, err);
  if (st != BERTH_OK) {
    lines_cleanup(lines);
    if (err != NULL && err->message[0] != '\0')
      berth_error_prefix(err, action);
    else
      berth_error_set(err, st, "%s: cannot sign the request", action);
  }
  return st;
}

/* A response that is not 2xx: its status, err from the AWS error in its
 * body (or the HTTP status), and *retryable for throttling, 5xx, 429
 * and the transient codes. */
static berth_status_t judge_response(berth__aws_transport_t *t,
                                     const berth_http_response_t *resp,
                                     const char *action, bool *retryable,
                                     berth_error_t *err)
{
  char code[128], message[400];
  berth_status_t st;

  if (berth_aws_parse_error(resp->body.data, resp->body.len, code, sizeof(code),
                            message, sizeof(message)) != BERTH_OK) {
    snprintf(code, sizeof(code), "HTTP%ld", resp->status);
    snprintf(message, sizeof(message), "HTTP status %ld", resp->status);
  }
  st = berth_aws_error_status(strncmp(code, "HTTP", 4) == 0 ? NULL : code,
                              resp->status);
  if (berth_aws_error_is_throttling(code)) {
    count(t, &t->stats.throttled);
    *retryable = true;
  }
  if (resp->status >= 500) {
    count(t, &t->stats.server_errors);
    *retryable = true;
  }
  if (resp->status == 429 || transient_code(code))
    *retryable = true;
  if (err != NULL) {
    berth_error_set(err, st, "%s: %s: %s (HTTP %ld)", action, code, message,
                    resp->status);
    err->http_code = resp->status;
    if (strncmp(code, "HTTP", 4) != 0)
      berth_error_set_reason(err, code);
  }
  return st;
}

/* true when a failed attempt may be retried: attempts are left and the
 * retry quota pays cost. Otherwise err's message says why not. */
static bool may_retry(berth__aws_transport_t *t, int attempt, int cost,
                      berth_error_t *err)
{
  if (attempt + 1 >= t->max_attempts) {
    if (err != NULL && t->max_attempts > 1) {
      char suffix[64];
      snprintf(suffix, sizeof(suffix), " after %d attempts", t->max_attempts);
      if (strlen(err->message) + strlen(suffix) < sizeof(err->message))
        strcat(err->message, suffix);
    }
    return false;
  }
  if (!quota_take(t, cost)) {
    if (err != NULL && strlen(err->message) + 40 < sizeof(err->message))
      strcat(err->message, " (retry quota exhausted)");
    return false;
  }
  return true;
}

/* One attempt: sign, send on a pooled connection, judge the answer.
 * *retryable says whether a failure is worth another attempt, *cost what
 * it takes from the retry quota. */
static berth_status_t
attempt_once(berth__aws_transport_t *t, const berth_aws_endpoint_t *ep,
             const berth_aws_credentials_t *creds,
             const berth_aws_request_t *req, const char *method,
             const char *host, const char *path, const char *url,
             const char *action, int attempt, berth_http_response_t *resp,
             bool *retryable, int *cost, berth_error_t *err)
{
  header_lines_t lines;
  berth_http_request_t hreq;
  berth_http_client_t *client = NULL;
  berth_status_t st;

  *retryable = false;
  *cost = BERTH_AWS_RETRY_COST;
  memset(&lines, 0, sizeof(lines));
  st =
      attempt_lines(t, ep, creds, req, method, host, path, action, &lines, err);
  if (st != BERTH_OK)
    return st;
  memset(&hreq, 0, sizeof(hreq));
  hreq.method = method;
  hreq.url = url;
  hreq.headers = (const char *const *)lines.items;
  hreq.header_count = lines.count;
  hreq.body = req->body;
  hreq.body_len = req->body_len;
  if (hreq.body == NULL && strcmp(method, "POST") == 0) {
    hreq.body = "";
    hreq.body_len = 0;
  }
  st = take_client(t, &client, err);
  if (st != BERTH_OK) {
    lines_cleanup(&lines);
    berth_error_prefix(err, action);
    return st;
  }
  count(t, &t->stats.attempts);
  if (attempt > 0)
    count(t, &t->stats.retries);
  berth_error_clear(err);
  st = berth_http_do(client, &hreq, resp, err);
  lines_cleanup(&lines);
  if (st == BERTH_ETRANSPORT || st == BERTH_ETIMEOUT) {
    /* The connection may be broken: do not reuse it. */
    berth_http_client_destroy(client);
    count(t, &t->stats.transport_errors);
    *retryable = true;
    if (st == BERTH_ETIMEOUT)
      *cost = BERTH_AWS_RETRY_TIMEOUT_COST;
    berth_error_prefix(err, action);
    return st;
  }
  give_client(t, client);
  if (st != BERTH_OK) {
    berth_error_prefix(err, action);
    return st;
  }
  if (resp->status >= 200 && resp->status < 300)
    return BERTH_OK;
  return judge_response(t, resp, action, retryable, err);
}

berth_status_t berth__aws_transport_send(berth__aws_transport_t *t,
                                         const berth_aws_endpoint_t *ep,
                                         const berth_aws_credentials_t *creds,
                                         const berth_aws_request_t *req,
                                         berth_http_response_t *resp,
                                         berth_error_t *err)
{
  char scheme[8], host[256], base[256];
  char *url = NULL;
  char *path = NULL;
  const char *method = req->method != NULL ? req->method : "POST";
  const char *action = req->action != NULL ? req->action : "request";
  berth_status_t st = BERTH_OK;
  int attempt;
  int cost;
  int last_cost = 0;
  bool pending_cost = false;
  bool retryable;

  berth_error_clear(err);
  count(t, &t->stats.calls);
  if (berth__aws_url_split(ep->url, scheme, sizeof(scheme), host, sizeof(host),
                           base, sizeof(base)) != BERTH_OK) {
    st = berth_error_set(err, BERTH_EINVAL, "%s: bad endpoint URL", action);
    goto done;
  }
  path = berth_strdup_printf(
      "%s%s", base, req->path != NULL && *req->path != '\0' ? req->path : "/");
  if (path != NULL)
    url = berth_strdup_printf("%s://%s%s%s%s", scheme, host, path,
                              req->query != NULL && *req->query != '\0' ? "?"
                                                                        : "",
                              req->query != NULL ? req->query : "");
  if (url == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "%s: out of memory", action);
    goto done;
  }
  /* Attempts with full-jitter backoff between them, as the SDKs retry
   * (throttling, 5xx, transient codes, broken connections). */
  for (attempt = 0;; attempt++) {
    st = attempt_once(t, ep, creds, req, method, host, path, url, action,
                      attempt, resp, &retryable, &cost, err);
    if (st == BERTH_OK)
      quota_release(t, pending_cost ? last_cost : 0);
    if (st == BERTH_OK || !retryable || !may_retry(t, attempt, cost, err))
      break;
    last_cost = cost;
    pending_cost = true;
    berth_clock_sleep_ms(t->clock, berth_backoff_full_jitter(
                                       t->rand, t->retry_base_ms,
                                       t->retry_cap_ms, (unsigned)attempt));
  }

done:
  free(url);
  free(path);
  return st;
}

/* --- berth_aws_t --------------------------------------------------------- */

static berth_status_t create(const berth_aws_options_t *opts,
                             berth_aws_creds_provider_t *provider,
                             berth_aws_t **out, berth_error_t *err)
{
  berth_aws_t *aws;
  berth_status_t st;
  int s;

  berth_error_clear(err);
  aws = calloc(1, sizeof(*aws));
  if (aws == NULL) {
    berth_aws_creds_provider_destroy(provider);
    return berth_error_set(err, BERTH_ENOMEM, "aws: out of memory");
  }
  aws->provider = provider;
  st = berth__aws_config_load(opts, &aws->cfg);
  if (st != BERTH_OK) {
    berth_error_set(err, st, "aws: out of memory");
    goto fail;
  }
  st = berth_aws_region_resolve(opts, &aws->region, err);
  if (st != BERTH_OK)
    goto fail;
  for (s = 0; s < BERTH_AWS_SERVICE_MAX_; s++) {
    st = berth__aws_endpoint_from_config(&aws->cfg, (berth_aws_service_t)s,
                                         aws->region, &aws->endpoints[s], err);
    if (st != BERTH_OK)
      goto fail;
  }
  st = berth__aws_transport_create(&aws->cfg, &aws->transport, err);
  if (st != BERTH_OK)
    goto fail;
  if (aws->provider == NULL) {
    st = berth_aws_creds_chain_create(opts, &aws->provider, err);
    if (st != BERTH_OK)
      goto fail;
  }
  *out = aws;
  return BERTH_OK;

fail:
  berth_aws_destroy(aws);
  return st;
}

berth_status_t berth_aws_create(const berth_aws_options_t *opts,
                                berth_aws_t **out, berth_error_t *err)
{
  return create(opts, NULL, out, err);
}

berth_status_t berth_aws_create_with_provider(const berth_aws_options_t *opts,
                                              berth_aws_creds_provider_t *p,
                                              berth_aws_t **out,
                                              berth_error_t *err)
{
  if (p == NULL)
    return berth_error_set(err, BERTH_EINVAL, "aws: no credential provider");
  return create(opts, p, out, err);
}

void berth_aws_destroy(berth_aws_t *aws)
{
  if (aws == NULL)
    return;
  berth__aws_transport_destroy(aws->transport);
  berth_aws_creds_provider_destroy(aws->provider);
  free(aws->region);
  berth__aws_config_cleanup(&aws->cfg);
  free(aws);
}

const char *berth_aws_region(const berth_aws_t *aws)
{
  return aws->region;
}

const berth_aws_endpoint_t *berth_aws_endpoint(const berth_aws_t *aws,
                                               berth_aws_service_t service)
{
  if (service < 0 || service >= BERTH_AWS_SERVICE_MAX_)
    return NULL;
  return &aws->endpoints[service];
}

const berth_rand_t *berth__aws_rand(const berth_aws_t *aws)
{
  return aws->cfg.rand;
}

berth_aws_creds_provider_t *berth_aws_provider(berth_aws_t *aws)
{
  return aws->provider;
}

void berth_aws_get_stats(berth_aws_t *aws, berth_aws_stats_t *out)
{
  berth__aws_transport_stats(aws->transport, out);
}

berth_status_t berth_aws_send(berth_aws_t *aws, const berth_aws_request_t *req,
                              berth_http_response_t *resp, berth_error_t *err)
{
  berth_aws_credentials_t creds;
  berth_status_t st;
  int round;

  memset(&creds, 0, sizeof(creds));
  if (aws == NULL || req == NULL || resp == NULL || req->service < 0 ||
      req->service >= BERTH_AWS_SERVICE_MAX_)
    return berth_error_set(err, BERTH_EINVAL, "aws: missing argument");
  for (round = 0; round < 2; round++) {
    st = berth_aws_creds_get(aws->provider, &creds, err);
    if (st != BERTH_OK) {
      berth_error_prefix(err, req->action != NULL ? req->action : "aws");
      break;
    }
    st = berth__aws_transport_send(
        aws->transport, &aws->endpoints[req->service], &creds, req, resp, err);
    berth_aws_credentials_cleanup(&creds);
    /* Temporary credentials revoked or expired early: fetch new ones and
     * try once more. */
    if (st == BERTH_EUNAUTHORIZED && round == 0 && err != NULL &&
        (strcmp(err->reason, "ExpiredToken") == 0 ||
         strcmp(err->reason, "ExpiredTokenException") == 0)) {
      berth_aws_creds_invalidate(aws->provider);
      continue;
    }
    break;
  }
  return st;
}
