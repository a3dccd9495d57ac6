/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the program's loop.
 *
 * Every --interval the membership is looked up (resolve.h); control.h
 * decides when it has settled and which hook is due; settled changes are
 * rendered (render.h, files.h) and published (status.h, http.h); hooks
 * run with their environment (event.h, hooks.h). DNS failures keep the
 * last membership and are logged once per outage. */
#ifndef BERTH_PEERS_APP_H
#define BERTH_PEERS_APP_H

#include "options.h"

/* Run until stop_fd becomes readable (the signal handler's pipe) or, with
 * --once, until the first hook succeeded or --timeout passed. Returns the
 * exit status: 0, or 1 after logging why. */
int peers_app_run(const peers_options_t *opt, int stop_fd);

#endif /* BERTH_PEERS_APP_H */
