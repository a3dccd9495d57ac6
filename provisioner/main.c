/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the external provisioner.
 *
 * Entry point: options (options.h), logging, signals, then the run loop
 * (app.h). SIGTERM and SIGINT are blocked in every thread and taken by the
 * run loop with sigtimedwait, so no handler runs in an arbitrary thread. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "check.h"
#include "memory.h"
#include "options.h"

#include "berth/log.h"
#include "berth/prog_http.h"

static int block_signals(void)
{
  struct sigaction sa;
  sigset_t set;

  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
    return -1;
  /* A peer that closes a connection must not kill us. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  return sigaction(SIGPIPE, &sa, NULL);
}

int main(int argc, char **argv)
{
  prov_options_t opt;
  int rc;

  prov_memory_init();
  switch (prov_options_parse(argc, argv, &opt, stdout, stderr)) {
  case PROV_PARSE_EXIT_OK:
    rc = 0;
    goto done;
  case PROV_PARSE_EXIT_USAGE:
    rc = 2;
    goto done;
  case PROV_PARSE_RUN:
    break;
  }
  if (opt.check_config) {
    rc = prov_check_config(&opt, stdout, stderr);
    goto done;
  }
  /* The provisioner always serves /metrics: libmicrohttpd is linked in
   * (berth_prog_mhd), not loaded. */
  opt.mhd_load = berth_prog_mhd_linked;
  berth_log_set_level(opt.log_level);
  berth_log_set_format(opt.log_format);
  if (block_signals() != 0) {
    perror("berth-provisioner: signals");
    rc = 1;
    goto done;
  }
  rc = prov_app_run(&opt);

done:
  prov_options_cleanup(&opt);
  return rc;
}
