/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: libmicrohttpd linked in (library berth_prog_mhd), see
 * include/berth/prog_http.h. A file of its own, so that only a program
 * that names berth_prog_mhd_linked needs libmicrohttpd to link. */
#include "prog_int.h"

#include <string.h>

berth_status_t berth_prog_mhd_linked(berth__prog_mhd_t *api, berth_error_t *err)
{
  (void)err;
  memset(api, 0, sizeof(*api));
  api->start_daemon = MHD_start_daemon;
  api->stop_daemon = MHD_stop_daemon;
  api->get_daemon_info = MHD_get_daemon_info;
  api->create_response = MHD_create_response_from_buffer;
  api->add_header = MHD_add_response_header;
  api->queue_response = MHD_queue_response;
  api->destroy_response = MHD_destroy_response;
  return BERTH_OK;
}
