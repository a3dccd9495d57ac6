/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: writing rendered files.
 *
 * A file is replaced atomically (a temporary file in the same directory,
 * written, flushed to disk, then renamed over the old one, and the
 * directory flushed), so that a reader sees the old or the new content,
 * never a mix; and only when its content changes, so that a watcher of
 * its modification time is not woken for nothing. */
#ifndef BERTH_PEERS_FILES_H
#define BERTH_PEERS_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/status.h"

/* Make path hold exactly len bytes of data, unless it already does.
 * *changed (may be NULL) says whether the file was written. Errors are
 * BERTH_EIO (or BERTH_ENOMEM) with the path and errno text in err; the
 * old file is then left as it was. */
berth_status_t peers_file_update(const char *path, const char *data, size_t len,
                                 bool *changed, berth_error_t *err);

/* The directory part of path ("." when it has none), as a new string. */
char *peers_path_dirname(const char *path);

#endif /* BERTH_PEERS_FILES_H */
