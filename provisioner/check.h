/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner --check-config: validate the flags and the environment
 * as the program would run with them, print what would be served, and
 * exit, touching nothing (no API server, no export, no AWS). Deployments
 * and the Helm chart are tested by running their rendered container
 * arguments and environment through this. */
#ifndef BERTH_PROV_CHECK_H
#define BERTH_PROV_CHECK_H

#include <stdio.h>

#include "options.h"

/* Print the served configuration to out, one "key value" line each, and
 * "config ok" last; 0 when good, 2 (a usage error, as at start-up) with
 * the reason on errout when not. */
int prov_check_config(const prov_options_t *opt, FILE *out, FILE *errout);

#endif /* BERTH_PROV_CHECK_H */
