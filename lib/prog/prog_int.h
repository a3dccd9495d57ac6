/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog internals: the libmicrohttpd entry points the HTTP server
 * calls, whether linked (mhd_linked.c) or loaded (mhd_dlopen.c). */
#ifndef BERTH_PROG_INT_H
#define BERTH_PROG_INT_H

#include <microhttpd.h>

#include "berth/prog_http.h"

struct berth__prog_mhd {
  void *lib; /* the dlopen handle, or NULL when linked */
  __typeof__(MHD_start_daemon) *start_daemon;
  __typeof__(MHD_stop_daemon) *stop_daemon;
  __typeof__(MHD_get_daemon_info) *get_daemon_info;
  __typeof__(MHD_create_response_from_buffer) *create_response;
  __typeof__(MHD_add_response_header) *add_header;
  __typeof__(MHD_queue_response) *queue_response;
  __typeof__(MHD_destroy_response) *destroy_response;
};

#endif /* BERTH_PROG_INT_H */
