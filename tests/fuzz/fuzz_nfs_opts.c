/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the NFS backend's StorageClass parameters
 * (provisioner/backends/nfs_opts.c). The input is a JSON object
 * {"defaults": {...}, "params": {...}}. Invariants of accepted options:
 * the URL is nfs://<host>/<path>, the PV's server is a host that
 * berth__nfsb_host_check accepts (never "", "[", "]" or "[::1": issue 14),
 * without brackets; the export path is absolute with no "." or ".."
 * component; the pattern passes its check; refusals name the parameter. */
#include <string.h>

#include "backends/nfs_int.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *in = json_loadb((const char *)data, size, 0, NULL);
  berth__nfsb_opts_t opts;
  berth_error_t err;
  berth_status_t st;

  fuzz_quiet_logs();
  if (in == NULL)
    return 0;
  memset(&opts, 0, sizeof(opts));
  berth_error_clear(&err);
  st = berth__nfsb_opts_parse(json_object_get(in, "defaults"),
                              json_object_get(in, "params"), &opts, &err);
  if (st == BERTH_OK) {
    bool v6 = false;
    const char *c;

    FUZZ_CHECK(opts.url != NULL && strncmp(opts.url, "nfs://", 6) == 0,
               "url %s", opts.url != NULL ? opts.url : "(null)");
    FUZZ_CHECK(opts.server != NULL && opts.server[0] != '\0',
               "empty server from %.*s", (int)size, (const char *)data);
    FUZZ_CHECK(strpbrk(opts.server, "[]/ ") == NULL, "server '%s'",
               opts.server);
    FUZZ_CHECK(berth__nfsb_host_check(opts.server, strlen(opts.server), &v6) ==
                   BERTH_OK,
               "server '%s' is not a host", opts.server);
    FUZZ_CHECK(opts.export_path != NULL && opts.export_path[0] == '/',
               "export '%s'", opts.export_path);
    for (c = opts.export_path; (c = strstr(c, "/.")) != NULL; c++)
      FUZZ_CHECK(!(c[2] == '\0' || c[2] == '/' ||
                   (c[2] == '.' && (c[3] == '\0' || c[3] == '/'))),
                 "dot component in export '%s'", opts.export_path);
    if (opts.pattern != NULL)
      FUZZ_CHECK(berth__nfsb_pattern_check(opts.pattern, &err) == BERTH_OK,
                 "pattern '%s' accepted, then refused", opts.pattern);
  } else {
    FUZZ_CHECK(err.message[0] != '\0', "refused without a message");
  }
  berth__nfsb_opts_cleanup(&opts);
  json_decref(in);
  return 0;
}
