/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: writing every --render file for a settled membership.
 *
 * Each spec is rendered (render.h) and written with peers_file_update
 * (files.h): atomically, and only when its content changed; zookeeper's
 * myid goes beside its file. Failures are logged, one line each, and do
 * not stop the others: a file that cannot be written must not keep the
 * hooks from running. */
#ifndef BERTH_PEERS_OUTPUTS_H
#define BERTH_PEERS_OUTPUTS_H

#include <stddef.h>

#include "render.h"

/* Render and write the n specs for view. */
void peers_outputs_write(const peers_render_spec_t *specs, size_t n,
                         const peers_view_t *view);

#endif /* BERTH_PEERS_OUTPUTS_H */
