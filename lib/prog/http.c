/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: the daemons' HTTP endpoint, see include/berth/prog_http.h. */
#include "prog_int.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/log.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

struct berth_prog_http {
  berth__prog_mhd_t mhd;
  struct MHD_Daemon *daemon;
  berth_prog_route_fn route;
  void *ctx;
};

static MHD_RESULT reply(const berth__prog_mhd_t *mhd,
                        struct MHD_Connection *conn, unsigned code,
                        const char *type, const berth_buf_t *body)
{
  struct MHD_Response *resp;
  MHD_RESULT ret;

  resp = mhd->create_response(body->len, (void *)berth_buf_str(body),
                              MHD_RESPMEM_MUST_COPY);
  if (resp == NULL)
    return MHD_NO;
  mhd->add_header(resp, "Content-Type", type);
  mhd->add_header(resp, "Cache-Control", "no-store");
  ret = mhd->queue_response(conn, code, resp);
  mhd->destroy_response(resp);
  return ret;
}

static MHD_RESULT handle(void *cls, struct MHD_Connection *conn,
                         const char *url, const char *method,
                         const char *version, const char *upload_data,
                         size_t *upload_data_size, void **con_cls)
{
  berth_prog_http_t *h = cls;
  const char *type = "text/plain";
  berth_buf_t body;
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
    /* A GET or HEAD with a body: close the connection. */
    berth_buf_cleanup(&body);
    return MHD_NO;
  } else {
    type = "text/plain; charset=utf-8";
    code = h->route(h->ctx, url, &body, &type);
  }
  ret = reply(&h->mhd, conn, code, type, &body);
  berth_buf_cleanup(&body);
  return ret;
}

/* libmicrohttpd's errors, one log line each (it ends them with '\n'). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
  char msg[256];

  (void)cls;
  vsnprintf(msg, sizeof(msg), fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  berth_log(BERTH_LOG_WARN, "http endpoint", "error", msg, NULL);
}

static void unload(berth__prog_mhd_t *mhd)
{
  if (mhd->lib != NULL)
    dlclose(mhd->lib);
  memset(mhd, 0, sizeof(*mhd));
}

berth_status_t berth_prog_http_start(const berth_prog_http_options_t *o,
                                     berth_prog_http_t **out, int *port,
                                     berth_error_t *err)
{
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  const union MHD_DaemonInfo *info;
  struct sockaddr_storage ss;
  berth_prog_http_t *h = NULL;
  socklen_t len;
  berth_status_t st;

  st = berth_prog_endpoint_parse(o->endpoint, &ss, &len, err);
  if (st != BERTH_OK)
    goto done;
  h = calloc(1, sizeof(*h));
  if (h == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  h->route = o->route;
  h->ctx = o->ctx;
  st = o->load(&h->mhd, err);
  if (st != BERTH_OK)
    goto done;
  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  /* The logger goes first so that it sees every message. */
  h->daemon = h->mhd.start_daemon(
      flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
      NULL, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
      o->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
      MHD_OPTION_END);
  if (h->daemon == NULL) {
    st = berth_error_set(err, BERTH_EIO, "cannot listen on %s", o->endpoint);
    goto done;
  }
  info = h->mhd.get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (port != NULL)
    *port = info != NULL ? (int)info->port : 0;
  *out = h;
  h = NULL;
done:
  if (h != NULL) {
    unload(&h->mhd);
    free(h);
  }
  return st;
}

void berth_prog_http_stop(berth_prog_http_t *h)
{
  if (h == NULL)
    return;
  h->mhd.stop_daemon(h->daemon);
  unload(&h->mhd);
  free(h);
}
