/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the HTTP endpoint, see http.h. */
#include "http.h"

#include "berth/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

struct prov_http {
  struct MHD_Daemon *daemon;
  prov_metrics_t *metrics;
  prov_ready_fn ready;
  void *ctx;
};

static berth_status_t parse_endpoint(const char *s, struct sockaddr_storage *ss,
                                     berth_error_t *err)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  const char *colon = strrchr(s, ':');
  char host[64] = "";
  size_t hl;
  long long port;

  memset(ss, 0, sizeof(*ss));
  if (colon == NULL || berth_str_to_ll(colon + 1, 0, 65535, &port) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "--http-endpoint wants [HOST]:PORT, got '%s'", s);
  hl = (size_t)(colon - s);
  if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
    s++;
    hl -= 2;
  }
  if (hl >= sizeof(host))
    return berth_error_set(err, BERTH_EINVAL, "--http-endpoint: bad host");
  memcpy(host, s, hl);
  host[hl] = '\0';
  if (host[0] == '\0' || inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (host[0] == '\0')
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
  } else {
    return berth_error_set(err, BERTH_EINVAL,
                           "--http-endpoint: '%s' is not a numeric address",
                           host);
  }
  return BERTH_OK;
}

static MHD_RESULT reply(struct MHD_Connection *conn, unsigned code,
                        const char *type, const berth_buf_t *body)
{
  struct MHD_Response *resp;
  MHD_RESULT ret;

  resp = MHD_create_response_from_buffer(body->len, (void *)berth_buf_str(body),
                                         MHD_RESPMEM_MUST_COPY);
  if (resp == NULL)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", type);
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  ret = MHD_queue_response(conn, code, resp);
  MHD_destroy_response(resp);
  return ret;
}

static unsigned route(prov_http_t *h, const char *url, berth_buf_t *out,
                      const char **type)
{
  *type = "text/plain; charset=utf-8";
  if (strcmp(url, "/healthz") == 0 || strcmp(url, "/livez") == 0) {
    berth_buf_append_str(out, "ok\n");
    return 200;
  }
  if (strcmp(url, "/readyz") == 0) {
    bool ok = h->ready != NULL && h->ready(h->ctx, out);
    if (out->len == 0)
      berth_buf_append_str(out, ok ? "ready" : "not ready");
    berth_buf_append_byte(out, '\n');
    return ok ? 200 : 503;
  }
  if (strcmp(url, "/metrics") == 0) {
    *type = "text/plain; version=0.0.4; charset=utf-8";
    return prov_metrics_format(h->metrics, out) == BERTH_OK ? 200 : 500;
  }
  berth_buf_append_str(out, "not found\n");
  return 404;
}

static MHD_RESULT handle(void *cls, struct MHD_Connection *conn,
                         const char *url, const char *method,
                         const char *version, const char *upload_data,
                         size_t *upload_data_size, void **con_cls)
{
  prov_http_t *h = cls;
  berth_buf_t body;
  const char *type = "text/plain";
  unsigned code;
  MHD_RESULT ret;

  (void)version;
  (void)upload_data;
  (void)con_cls;
  berth_buf_init(&body);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    berth_buf_append_str(&body, "method not allowed\n");
    code = 405;
  } else if (*upload_data_size != 0) {
    return MHD_NO;
  } else {
    code = route(h, url, &body, &type);
  }
  ret = reply(conn, code, type, &body);
  berth_buf_cleanup(&body);
  return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
  char msg[256];

  (void)cls;
  vsnprintf(msg, sizeof(msg), fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  berth_log(BERTH_LOG_WARN, "http endpoint", "error", msg, NULL);
}

berth_status_t prov_http_start(const char *endpoint, prov_metrics_t *metrics,
                               prov_ready_fn ready, void *ctx,
                               prov_http_t **out, int *port, berth_error_t *err)
{
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  const union MHD_DaemonInfo *info;
  struct sockaddr_storage ss;
  prov_http_t *h;
  berth_status_t st;

  st = parse_endpoint(endpoint, &ss, err);
  if (st != BERTH_OK)
    return st;
  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  h->metrics = metrics;
  h->ready = ready;
  h->ctx = ctx;
  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  h->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
      NULL, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
      MHD_OPTION_END);
  if (h->daemon == NULL) {
    free(h);
    return berth_error_set(err, BERTH_EIO, "cannot listen on %s", endpoint);
  }
  info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (port != NULL)
    *port = info != NULL ? (int)info->port : 0;
  *out = h;
  return BERTH_OK;
}

void prov_http_stop(prov_http_t *h)
{
  if (h == NULL)
    return;
  MHD_stop_daemon(h->daemon);
  free(h);
}
