/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the HTTP endpoint, see http.h. */
#include "http.h"

#include "berth/process.h"
#include "berth/buf.h"
#include "berth/log.h"

#include <arpa/inet.h>
#ifndef BERTH_PEERS_STATIC
#include <dlfcn.h>
#endif
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

/* libmicrohttpd is loaded only when --http-endpoint asks for it: linked
 * in, it brings GnuTLS and its dependencies, whose start-up and pages make
 * up half of berth-peers' resident memory (2.4 MB of 4.7 MB), which every
 * pod of a StatefulSet would pay for an endpoint it may not use. */
#ifndef BERTH_MHD_SONAME
#define BERTH_MHD_SONAME "libmicrohttpd.so.12"
#endif

typedef struct mhd_api {
  void *lib;
  __typeof__(MHD_start_daemon) *start_daemon;
  __typeof__(MHD_stop_daemon) *stop_daemon;
  __typeof__(MHD_get_daemon_info) *get_daemon_info;
  __typeof__(MHD_create_response_from_buffer) *create_response;
  __typeof__(MHD_add_response_header) *add_header;
  __typeof__(MHD_queue_response) *queue_response;
  __typeof__(MHD_destroy_response) *destroy_response;
} mhd_api_t;

struct peers_http {
  mhd_api_t mhd;
  struct MHD_Daemon *daemon;
  peers_status_t *status;
};

/* dlsym into *fn; false when the symbol is missing. */
#ifdef BERTH_PEERS_STATIC
/* The static build has no libmicrohttpd (options.c refuses the flag; this
 * is the second line of defence). */
static berth_status_t mhd_load(mhd_api_t *api, berth_error_t *err)
{
  (void)api;
  return berth_error_set(err, BERTH_EINVAL,
                         "--http-endpoint is not available in the static "
                         "build");
}

static void mhd_unload(mhd_api_t *api)
{
  (void)api;
}
#else
static bool mhd_sym(void *lib, const char *name, void *fn)
{
  void *p = dlsym(lib, name);

  memcpy(fn, &p, sizeof(p));
  return p != NULL;
}

static berth_status_t mhd_load(mhd_api_t *api, berth_error_t *err)
{
  void *lib = dlopen(BERTH_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

  if (lib == NULL)
    return berth_error_set(err, BERTH_ENOTFOUND, "cannot load %s: %s",
                           BERTH_MHD_SONAME, dlerror());
  api->lib = lib;
  if (!mhd_sym(lib, "MHD_start_daemon", &api->start_daemon) ||
      !mhd_sym(lib, "MHD_stop_daemon", &api->stop_daemon) ||
      !mhd_sym(lib, "MHD_get_daemon_info", &api->get_daemon_info) ||
      !mhd_sym(lib, "MHD_create_response_from_buffer", &api->create_response) ||
      !mhd_sym(lib, "MHD_add_response_header", &api->add_header) ||
      !mhd_sym(lib, "MHD_queue_response", &api->queue_response) ||
      !mhd_sym(lib, "MHD_destroy_response", &api->destroy_response)) {
    dlclose(lib);
    api->lib = NULL;
    return berth_error_set(err, BERTH_EINVAL,
                           "%s lacks a symbol berth-peers "
                           "uses",
                           BERTH_MHD_SONAME);
  }
  return BERTH_OK;
}

static void mhd_unload(mhd_api_t *api)
{
  dlclose(api->lib);
  api->lib = NULL;
}
#endif

berth_status_t peers_endpoint_parse(const char *s, struct sockaddr_storage *ss,
                                    socklen_t *len, berth_error_t *err)
{
  char host[64] = "";
  const char *port = s;
  const char *colon = strrchr(s, ':');
  long long p;
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

  memset(ss, 0, sizeof(*ss));
  if (colon != NULL) {
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
      s++;
      hl -= 2;
    }
    if (hl >= sizeof(host))
      return berth_error_set(err, BERTH_EINVAL, "bad endpoint host");
    memcpy(host, s, hl);
    host[hl] = '\0';
    port = colon + 1;
  }
  if (berth_str_to_ll(port, 0, 65535, &p) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "endpoint wants [HOST]:PORT, bad port '%s'", port);
  if (host[0] == '\0' || inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)p);
    if (host[0] == '\0')
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
    *len = sizeof(*sin);
  } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)p);
    *len = sizeof(*sin6);
  } else {
    return berth_error_set(err, BERTH_EINVAL,
                           "endpoint host '%s' is not a numeric address", host);
  }
  return BERTH_OK;
}

static MHD_RESULT reply(const mhd_api_t *mhd, struct MHD_Connection *conn,
                        unsigned code, const char *type, const char *body,
                        size_t len)
{
  struct MHD_Response *resp;
  MHD_RESULT ret;

  resp = mhd->create_response(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (resp == NULL)
    return MHD_NO;
  mhd->add_header(resp, "Content-Type", type);
  mhd->add_header(resp, "Cache-Control", "no-store");
  ret = mhd->queue_response(conn, code, resp);
  mhd->destroy_response(resp);
  return ret;
}

/* Build the body for url into out; returns the HTTP status. */
static unsigned route(peers_http_t *h, const char *url, berth_buf_t *out,
                      const char **type)
{
  peers_counters_t c;

  *type = "text/plain; charset=utf-8";
  if (strcmp(url, "/peers") == 0) {
    *type = "application/json";
    return peers_status_json(h->status, out) == BERTH_OK ? 200 : 500;
  }
  if (strcmp(url, "/healthz") == 0) {
    berth_buf_append_str(out, "ok\n");
    return 200;
  }
  peers_status_counters(h->status, &c);
  if (strcmp(url, "/readyz") == 0) {
    berth_buf_append_str(out, c.ready ? "ready\n" : "not ready\n");
    return c.ready ? 200 : 503;
  }
  if (strcmp(url, "/metrics") == 0) {
    *type = "text/plain; version=0.0.4; charset=utf-8";
    if (peers_metrics_format(&c, out) != BERTH_OK)
      return 500;
    /* What operators expect of any program: its build and its process
     * (nothing of the latter where /proc is not mounted). */
    berth_build_info_format(out, "berth_build_info", "berth-peers");
    berth_process_metrics_format(out);
    return 200;
  }
  berth_buf_append_str(out, "not found\n");
  return 404;
}

static MHD_RESULT handle(void *cls, struct MHD_Connection *conn,
                         const char *url, const char *method,
                         const char *version, const char *upload_data,
                         size_t *upload_data_size, void **con_cls)
{
  peers_http_t *h = cls;
  berth_buf_t body;
  const char *type;
  unsigned code;
  MHD_RESULT ret;

  (void)version;
  (void)upload_data;
  (void)con_cls;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return reply(&h->mhd, conn, 405, "text/plain", "method not allowed\n", 19);
  if (*upload_data_size != 0)
    return MHD_NO;
  berth_buf_init(&body);
  code = route(h, url, &body, &type);
  ret = reply(&h->mhd, conn, code, type, berth_buf_str(&body), body.len);
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

berth_status_t peers_http_start(const char *endpoint, peers_status_t *status,
                                peers_http_t **out, int *port_out,
                                berth_error_t *err)
{
  struct sockaddr_storage ss;
  socklen_t len;
  peers_http_t *h;
  const union MHD_DaemonInfo *info;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  berth_status_t st;

  st = peers_endpoint_parse(endpoint, &ss, &len, err);
  if (st != BERTH_OK)
    return st;
  h = calloc(1, sizeof(*h));
  if (h == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  h->status = status;
  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  /* The logger goes first so that it sees every message. */
  st = mhd_load(&h->mhd, err);
  if (st != BERTH_OK) {
    free(h);
    return st;
  }
  h->daemon = h->mhd.start_daemon(
      flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
      NULL, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)32, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
      MHD_OPTION_END);
  if (h->daemon == NULL) {
    mhd_unload(&h->mhd);
    free(h);
    return berth_error_set(err, BERTH_EIO, "cannot listen on %s", endpoint);
  }
  info = h->mhd.get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (port_out != NULL)
    *port_out = info != NULL ? (int)info->port : 0;
  *out = h;
  return BERTH_OK;
}

void peers_http_stop(peers_http_t *h)
{
  if (h == NULL)
    return;
  h->mhd.stop_daemon(h->daemon);
  mhd_unload(&h->mhd);
  free(h);
}
