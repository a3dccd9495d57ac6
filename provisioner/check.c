/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner --check-config, see check.h. */
#include "check.h"

#include "provisioners.h"

#include "berth/buf.h"
#include "berth/status.h"

#include <string.h>

/* The nfs backend's default export, as given by the environment. */
static void print_export(const prov_options_t *opt, FILE *out)
{
  const char *url =
      json_string_value(json_object_get(opt->nfs_defaults, "url"));
  const char *server =
      json_string_value(json_object_get(opt->nfs_defaults, "server"));
  const char *share =
      json_string_value(json_object_get(opt->nfs_defaults, "share"));

  if (url != NULL)
    fprintf(out, "nfs-export %s\n", url);
  else if (server != NULL || share != NULL)
    fprintf(out, "nfs-export %s:%s\n", server != NULL ? server : "",
            share != NULL ? share : "");
  else
    fprintf(out, "nfs-export none (each class names its server and share)\n");
}

int prov_check_config(const prov_options_t *opt, FILE *out, FILE *errout)
{
  berth_error_t err;
  char lease[256];
  size_t i;
  bool nfs = false;

  berth_error_clear(&err);
  if (prov_provisioners_check(opt, &err) != BERTH_OK) {
    fprintf(errout, "berth-provisioner: %s\n", err.message);
    return 2;
  }
  for (i = 0; i < opt->nbindings; i++) {
    fprintf(out, "provisioner %s=%s\n", opt->bindings[i].name,
            opt->bindings[i].backend);
    nfs = nfs || strcmp(opt->bindings[i].backend, "nfs") == 0;
  }
  if (opt->le_name != NULL)
    berth_strlcpy(lease, opt->le_name, sizeof(lease));
  else
    prov_lease_name(opt->bindings[0].name, lease, sizeof(lease));
  if (opt->leader_elect)
    fprintf(out, "leader-election lease %s/%s\n",
            opt->le_namespace != NULL ? opt->le_namespace
                                      : "(the client's namespace)",
            lease);
  else
    fprintf(out, "leader-election off\n");
  if (nfs)
    print_export(opt, out);
  fprintf(out, "http-endpoint %s\n",
          opt->http_endpoint != NULL && opt->http_endpoint[0] != '\0'
              ? opt->http_endpoint
              : "off");
  fprintf(out, "config ok\n");
  return 0;
}
