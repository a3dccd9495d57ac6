/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: libmicrohttpd loaded when the endpoint starts, see
 * include/berth/prog_http.h. Linked in, it brings GnuTLS and its
 * dependencies, whose start-up and pages made up half of berth-peers'
 * resident memory (2.4 MB of 4.7 MB), which every pod of a StatefulSet
 * would pay for an endpoint it may not use. */
#include "prog_int.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#ifndef BERTH_MHD_SONAME
#define BERTH_MHD_SONAME "libmicrohttpd.so.12"
#endif

/* dlsym into *fn; false when the symbol is missing. A data pointer copied
 * into a function pointer, as POSIX's dlsym requires. */
static bool mhd_sym(void *lib, const char *name, void *fn)
{
  void *p = dlsym(lib, name);

  memcpy(fn, &p, sizeof(p));
  return p != NULL;
}

berth_status_t berth_prog_mhd_dlopen(berth__prog_mhd_t *api, berth_error_t *err)
{
  void *lib = dlopen(BERTH_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

  memset(api, 0, sizeof(*api));
  if (lib == NULL)
    return berth_error_set(err, BERTH_ENOTFOUND, "cannot load %s: %s",
                           BERTH_MHD_SONAME, dlerror());
  if (!mhd_sym(lib, "MHD_start_daemon", &api->start_daemon) ||
      !mhd_sym(lib, "MHD_stop_daemon", &api->stop_daemon) ||
      !mhd_sym(lib, "MHD_get_daemon_info", &api->get_daemon_info) ||
      !mhd_sym(lib, "MHD_create_response_from_buffer", &api->create_response) ||
      !mhd_sym(lib, "MHD_add_response_header", &api->add_header) ||
      !mhd_sym(lib, "MHD_queue_response", &api->queue_response) ||
      !mhd_sym(lib, "MHD_destroy_response", &api->destroy_response)) {
    dlclose(lib);
    memset(api, 0, sizeof(*api));
    return berth_error_set(err, BERTH_EINVAL, "%s lacks a symbol berth uses",
                           BERTH_MHD_SONAME);
  }
  api->lib = lib;
  return BERTH_OK;
}
