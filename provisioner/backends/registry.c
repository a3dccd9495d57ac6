/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the registry of backends (see backend.h). The one
 * list of what this build has: berth-provisioner's --provisioner
 * NAME=BACKEND, berthctl and the help texts all read it. */
#include "backends/backend.h"

#include "backends/ebs.h"
#include "backends/efs.h"
#include "backends/nfs.h"

#include "berth/buf.h"

#include <stdio.h>
#include <string.h>

const berth_backend_ops_t *const berth_backends[] = {
    &berth_backend_nfs_ops,
    &berth_backend_ebs_ops,
    &berth_backend_efs_ops,
    NULL,
};

const berth_backend_ops_t *berth_backend_find(const char *name)
{
  size_t i;

  for (i = 0; name != NULL && berth_backends[i] != NULL; i++) {
    if (strcmp(berth_backends[i]->name, name) == 0)
      return berth_backends[i];
  }
  return NULL;
}

void berth_backend_names(char *out, size_t outsize)
{
  size_t i;
  size_t n = 0;

  if (outsize == 0)
    return;
  out[0] = '\0';
  for (i = 0; berth_backends[i] != NULL && n < outsize; i++) {
    int w = snprintf(out + n, outsize - n, "%s%s", i > 0 ? ", " : "",
                     berth_backends[i]->name);

    if (w < 0)
      break;
    n += (size_t)w;
  }
}

/* The backend called name, or BERTH_EINVAL naming the known ones. */
static berth_status_t find_or_fail(const char *name,
                                   const berth_backend_ops_t **out,
                                   berth_error_t *err)
{
  char known[256];

  *out = berth_backend_find(name);
  if (*out != NULL)
    return BERTH_OK;
  berth_backend_names(known, sizeof(known));
  return berth_error_set(err, BERTH_EINVAL,
                         "unknown backend '%s' (this build has: %s)",
                         name != NULL ? name : "", known);
}

berth_status_t berth_backend_create(const char *name,
                                    const berth_backend_settings_t *settings,
                                    berth_backend_t **out, berth_error_t *err)
{
  const berth_backend_ops_t *ops;
  berth_status_t st = find_or_fail(name, &ops, err);

  if (st == BERTH_OK)
    st = ops->create(settings, out, err);
  return st;
}

berth_status_t
berth_backend_check_settings(const char *name,
                             const berth_backend_settings_t *settings,
                             berth_error_t *err)
{
  const berth_backend_ops_t *ops;
  berth_status_t st = find_or_fail(name, &ops, err);

  if (st == BERTH_OK && ops->check_settings != NULL)
    st = ops->check_settings(settings, err);
  return st;
}
