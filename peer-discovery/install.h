/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: `berth-peers install DIR`, the init container that copies
 * the static berth-peers into a shared emptyDir, as peer-finder's users do
 * with `cp /peer-finder /work-dir/`:
 *
 *   initContainers:
 *     - name: install
 *       image: berth
 *       command: [berth-peers, install, /work-dir]
 *
 * The copy is DIR/berth-peers, mode 0755, written beside and renamed into
 * place so that a restarted init container never leaves half a binary.
 * The static build copies itself; the dynamic build copies the
 * berth-peers-static that lies beside it (the image has both), because a
 * dynamic berth-peers would not start in an image without its libraries. */
#ifndef BERTH_PEERS_INSTALL_H
#define BERTH_PEERS_INSTALL_H

#include <stdio.h>

#include "berth/status.h"

/* The program name that the copy gets in DIR. */
#define PEERS_INSTALL_NAME "berth-peers"

/* Run `berth-peers install ARGS...`: argv[0] is the program, argv[1]
 * "install". Returns the exit status (0 installed, 1 failed, 2 usage);
 * messages go to out and errout. */
int peers_install_main(int argc, char **argv, FILE *out, FILE *errout);

/* Copy the executable at src to dir/PEERS_INSTALL_NAME (mode 0755,
 * atomically); *size gets the bytes copied. BERTH_EINVAL when dir is not a
 * directory, BERTH_EIO (with the errno text) when a read or write fails. */
berth_status_t peers_install_copy(const char *src, const char *dir,
                                  long long *size, berth_error_t *err);

#endif /* BERTH_PEERS_INSTALL_H */
