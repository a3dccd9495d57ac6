/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the program's run loop: clients, backends, the HTTP
 * endpoint, leader election and the controller, and the signals that end
 * them. */
#ifndef BERTH_PROV_APP_H
#define BERTH_PROV_APP_H

#include "options.h"

/* Run until SIGTERM or SIGINT (exit status 0 after a clean drain), a lost
 * lease (1, at once) or a start-up failure (1). SIGTERM and SIGINT must be
 * blocked in every thread before this is called. */
int prov_app_run(const prov_options_t *opt);

#endif /* BERTH_PROV_APP_H */
