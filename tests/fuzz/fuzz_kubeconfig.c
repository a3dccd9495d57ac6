/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: kubeconfig loading (lib/k8s/yaml.c, kubeconfig.c,
 * kubeconfig_fields.c). The input is a kubeconfig file. Invariants: the
 * YAML to JSON step never produces more than its output bound, however
 * the document uses aliases (issue 14: a 343-byte file took 95 MiB); a
 * configuration that loads has a server; a refusal says why and names
 * the file. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/buf.h"
#include "berth/json.h"
#include "berth/k8s.h"
#include "fuzz.h"
#include "yaml_int.h"

static char path[64];

static void remove_file(void)
{
  if (path[0] != '\0')
    unlink(path);
}

static bool write_input(const uint8_t *data, size_t size)
{
  FILE *f;

  if (path[0] == '\0') {
    snprintf(path, sizeof(path), "/tmp/berth-fuzz-kubeconfig-%ld.yaml",
             (long)getpid());
    atexit(remove_file);
  }
  f = fopen(path, "wb");
  if (f == NULL)
    return false;
  if (size > 0 && fwrite(data, 1, size, f) != size) {
    fclose(f);
    return false;
  }
  return fclose(f) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  berth_k8s_config_t cfg;
  berth_error_t err;
  berth_status_t st;
  json_t *doc = NULL;
  const char *paths[1];

  fuzz_quiet_logs();
  st = berth__k8s_yaml_to_json("fuzz", (const char *)data, size, &doc, &err);
  if (st == BERTH_OK) {
    berth_buf_t out;

    berth_buf_init(&out);
    berth_json_dump(doc, &out);
    /* The bound of yaml.c: 32 bytes per input byte plus 1 MiB, counted
     * with 8 bytes per node; a compact dump is within a small factor. */
    FUZZ_CHECK(out.len <= 4 * (32 * size + 1024 * 1024),
               "%zu bytes of YAML became %zu bytes of JSON", size, out.len);
    berth_buf_cleanup(&out);
    json_decref(doc);
  } else {
    FUZZ_CHECK(err.message[0] != '\0', "refused without a message");
  }

  if (!write_input(data, size))
    return 0;
  paths[0] = path;
  berth_k8s_config_init(&cfg);
  berth_error_clear(&err);
  st = berth_k8s_config_from_kubeconfig(paths, 1, true, NULL, &cfg, &err);
  if (st == BERTH_OK)
    FUZZ_CHECK(cfg.server != NULL && cfg.server[0] != '\0',
               "a configuration without a server");
  else
    FUZZ_CHECK(strstr(err.message, path) != NULL,
               "message does not name the file: %s", err.message);
  berth_k8s_config_cleanup(&cfg);
  return 0;
}
