/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the k8s client's integration tests, which run under
 * `tests/bed/bed.py run k8s -- ...` (the environment names the API server:
 * KUBECONFIG, BERTH_K8S_URL, BERTH_K8S_TOKEN_FILE, BERTH_K8S_CA,
 * BERTH_K8S_ADMIN_URL; see tests/bed/bed_k8s.py). Include after cmocka.h. */
#ifndef BERTH_TEST_K8S_COMMON_H
#define BERTH_TEST_K8S_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/clock.h"
#include "berth/http.h"
#include "berth/json.h"
#include "berth/k8s.h"

static inline const char *tk_env(const char *name)
{
  const char *v = getenv(name);

  if (v == NULL || v[0] == '\0') {
    fprintf(stderr, "%s is not set: run under tests/bed/bed.py run k8s\n",
            name);
    exit(1);
  }
  return v;
}

/* A client from $KUBECONFIG, as a program would make it. */
static inline berth_k8s_client_t *
tk_client(const berth_k8s_client_options_t *opts)
{
  berth_k8s_config_t cfg;
  berth_k8s_client_t *c = NULL;
  berth_error_t err;

  tk_env("KUBECONFIG");
  berth_k8s_config_init(&cfg);
  if (berth_k8s_config_load(NULL, &cfg, &err) != BERTH_OK ||
      berth_k8s_client_create(&cfg, opts, &c, &err) != BERTH_OK) {
    fprintf(stderr, "k8s client: %s\n", err.message);
    exit(1);
  }
  berth_k8s_config_cleanup(&cfg);
  return c;
}

/* One call to the server's admin endpoint; the answer as JSON (new
 * reference), or NULL when the call failed. */
static inline json_t *tk_admin(const char *method, const char *path,
                               const char *body)
{
  berth_http_client_t *h = NULL;
  berth_http_request_t req;
  berth_http_response_t resp;
  const char *hdrs[] = {"Content-Type: application/json", NULL};
  char url[512];
  json_t *out = NULL;
  berth_error_t err;

  snprintf(url, sizeof(url), "%s%s", tk_env("BERTH_K8S_ADMIN_URL"), path);
  berth_http_response_init(&resp);
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  req.headers = hdrs;
  req.body = body;
  req.body_len = body != NULL ? strlen(body) : 0;
  if (berth_http_client_create(NULL, &h, &err) == BERTH_OK &&
      berth_http_do(h, &req, &resp, &err) == BERTH_OK && resp.status >= 200 &&
      resp.status < 300)
    berth_json_parse(resp.body.data, resp.body.len, &out, &err);
  else
    fprintf(stderr, "admin %s %s failed: %ld %s %s\n", method, path,
            resp.status, berth_buf_str(&resp.body), err.message);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(h);
  return out;
}

/* Add a fault rule (JSON text); fails the test when refused. */
static inline void tk_fault(const char *spec)
{
  json_t *r = tk_admin("POST", "/faults", spec);

  if (r == NULL)
    fail_msg("fault %s refused", spec);
  json_decref(r);
}

static inline void tk_clear_faults(void)
{
  json_decref(tk_admin("DELETE", "/faults", NULL));
}

/* Count requests of one verb (and resource) since the log's start. */
static inline long tk_requests(const char *verb, const char *resource)
{
  char path[256];
  json_t *r;
  long n = -1;

  snprintf(path, sizeof(path), "/requests?limit=0&verb=%s%s%s", verb,
           resource != NULL ? "&resource=" : "",
           resource != NULL ? resource : "");
  r = tk_admin("GET", path, NULL);
  if (r != NULL)
    n = (long)json_integer_value(json_object_get(r, "matched"));
  json_decref(r);
  return n;
}

static inline int64_t tk_now(void)
{
  return berth_clock_monotonic_ms(NULL);
}

/* Poll cond(ctx) every 20 ms until true or timeout_ms passes. */
static inline bool tk_poll(bool (*cond)(void *), void *ctx, int64_t timeout_ms)
{
  int64_t deadline = tk_now() + timeout_ms;

  for (;;) {
    if (cond(ctx))
      return true;
    if (tk_now() >= deadline)
      return false;
    berth_clock_sleep_ms(NULL, 20);
  }
}

/* A ConfigMap named name in ns with data {"v": value} and a label. */
static inline json_t *tk_configmap(const char *ns, const char *name,
                                   const char *value, const char *label)
{
  return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion",
                   "v1", "kind", "ConfigMap", "metadata", "name", name,
                   "namespace", ns, "labels", "group", label, "data", "v",
                   value);
}

static inline void tk_namespace(berth_k8s_client_t *c, const char *ns)
{
  json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
                          "Namespace", "metadata", "name", ns);
  berth_error_t err;
  berth_status_t st =
      berth_k8s_create(c, &berth_k8s_res_namespaces, NULL, obj, NULL, &err);

  json_decref(obj);
  if (st != BERTH_OK && st != BERTH_EEXIST)
    fail_msg("create namespace %s: %s", ns, err.message);
}

#endif /* BERTH_TEST_K8S_COMMON_H */
