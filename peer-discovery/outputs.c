/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: rendered files, see outputs.h. */
#include "outputs.h"

#include "files.h"

#include "berth/log.h"

#include <stdlib.h>

static void write_file(const char *kind, const char *path,
                       const berth_buf_t *data)
{
  berth_error_t err;
  bool changed = false;

  berth_error_clear(&err);
  if (peers_file_update(path, berth_buf_str(data), data->len, &changed, &err) !=
      BERTH_OK)
    berth_log(BERTH_LOG_ERROR, "cannot write rendered file", "kind", kind,
              "path", path, "error", err.message, NULL);
  else if (changed)
    berth_log(BERTH_LOG_INFO, "rendered", "kind", kind, "path", path, NULL);
}

void peers_outputs_write(const peers_render_spec_t *specs, size_t n,
                         const peers_view_t *v)
{
  berth_buf_t out;
  berth_buf_t extra;
  berth_error_t err;
  const peers_render_spec_t *spec;
  const char *kind;
  char *dir;
  char *myid;
  size_t i;

  for (i = 0; i < n; i++) {
    spec = &specs[i];
    kind = peers_render_kind_name(spec->kind);
    berth_buf_init(&out);
    berth_buf_init(&extra);
    berth_error_clear(&err);
    if (peers_render(spec, v, &out, &extra, &err) != BERTH_OK) {
      berth_log(BERTH_LOG_ERROR, "cannot render", "kind", kind, "error",
                err.message, NULL);
    } else {
      write_file(kind, spec->path, &out);
      if (extra.len > 0 && (dir = peers_path_dirname(spec->path)) != NULL) {
        myid = berth_strdup_printf("%s/myid", dir);
        if (myid != NULL)
          write_file(kind, myid, &extra);
        free(myid);
        free(dir);
      }
    }
    berth_buf_cleanup(&out);
    berth_buf_cleanup(&extra);
  }
}
