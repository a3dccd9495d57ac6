/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: the daemons' HTTP endpoint (--http-endpoint: /healthz,
 * /readyz, /metrics, and berth-peers' /peers), one small server on
 * libmicrohttpd's own thread.
 *
 * The server answers GET and HEAD only (405 otherwise), with
 * "Cache-Control: no-store", and asks the program's route function for
 * every body. The program chooses where libmicrohttpd comes from:
 * berth_prog_mhd_linked (library berth_prog_mhd, which links it: the
 * provisioner always serves) or berth_prog_mhd_dlopen (loaded when the
 * endpoint starts: berth-peers serves only when asked, and every pod of a
 * StatefulSet would otherwise map libmicrohttpd and GnuTLS for nothing). */
#ifndef BERTH_PROG_HTTP_H
#define BERTH_PROG_HTTP_H

#include <sys/socket.h>

#include "berth/buf.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct berth_prog_http berth_prog_http_t;

/* libmicrohttpd's entry points, filled by a loader below (internal). */
typedef struct berth__prog_mhd berth__prog_mhd_t;

/* Fill api with libmicrohttpd's functions; BERTH_OK or an error that says
 * why it cannot be used. */
typedef berth_status_t (*berth_prog_mhd_load_fn)(berth__prog_mhd_t *api,
                                                 berth_error_t *err);

/* libmicrohttpd linked into the program (link berth_prog_mhd). */
berth_status_t berth_prog_mhd_linked(berth__prog_mhd_t *api,
                                     berth_error_t *err);

/* libmicrohttpd loaded with dlopen (its SONAME, BERTH_MHD_SONAME) when the
 * server starts and closed when it stops: nothing is linked. */
berth_status_t berth_prog_mhd_dlopen(berth__prog_mhd_t *api,
                                     berth_error_t *err);

/* Write the body for url into out (empty on entry), point *type at its
 * Content-Type (a static string; it starts as
 * "text/plain; charset=utf-8") and return the HTTP status. Called on the
 * server's thread, one request at a time. */
typedef unsigned (*berth_prog_route_fn)(void *ctx, const char *url,
                                        berth_buf_t *out, const char **type);

typedef struct berth_prog_http_options {
  const char *endpoint; /* "[HOST]:PORT", "HOST:PORT", ":PORT" or "PORT" */
  unsigned max_connections;
  berth_prog_mhd_load_fn load;
  berth_prog_route_fn route;
  void *ctx; /* borrowed: must outlive the server */
} berth_prog_http_options_t;

/* Parse an --http-endpoint value: "[HOST]:PORT", "HOST:PORT", ":PORT" or
 * "PORT", HOST numeric (IPv4 or IPv6; none means every IPv4 address), PORT
 * 0 to 65535, into *ss and *len. Errors name the flag and the value. */
berth_status_t berth_prog_endpoint_parse(const char *s,
                                         struct sockaddr_storage *ss,
                                         socklen_t *len, berth_error_t *err);

/* Listen on o->endpoint and serve. *port (may be NULL) gets the port bound
 * (useful with port 0). *out is set only on success; stop it with
 * berth_prog_http_stop. */
berth_status_t berth_prog_http_start(const berth_prog_http_options_t *o,
                                     berth_prog_http_t **out, int *port,
                                     berth_error_t *err);

/* Stop serving (waits for the request in progress) and free h. Accepts
 * NULL. */
void berth_prog_http_stop(berth_prog_http_t *h);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_PROG_HTTP_H */
