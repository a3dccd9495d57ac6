/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: provisioner names and their backends, see
 * provisioners.h. */
#include "provisioners.h"

#include "backends/ebs.h"
#include "backends/efs.h"
#include "backends/nfs.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  char *name;
  berth_backend_t *be;
} entry_t;

struct prov_provisioners {
  entry_t *e;
  size_t n;
};

typedef berth_status_t (*factory_fn)(const prov_options_t *opt,
                                     berth_backend_t **out, berth_error_t *err);

static berth_status_t make_nfs(const prov_options_t *opt, berth_backend_t **out,
                               berth_error_t *err)
{
  berth_backend_nfs_config_t cfg;

  memset(&cfg, 0, sizeof(cfg));
  cfg.defaults = opt->nfs_defaults;
  return berth_backend_nfs_create(&cfg, out, err);
}

/* EBS: the AWS client comes from the environment (region, credentials,
 * AWS_ENDPOINT_URL); BERTH_CLUSTER_ID adds the kubernetes.io/cluster/<id>
 * tag to every disk, --extra-tags its tags. */
static berth_status_t make_ebs(const prov_options_t *opt, berth_backend_t **out,
                               berth_error_t *err)
{
  berth_backend_ebs_config_t cfg;

  memset(&cfg, 0, sizeof(cfg));
  cfg.cluster_id = getenv("BERTH_CLUSTER_ID");
  cfg.extra_tags = opt->extra_tags;
  return berth_backend_ebs_create(&cfg, out, err);
}

/* EFS: access points (efs-ap) or directories (efs-dir); the AWS client
 * from the environment. */
static berth_status_t make_efs(const prov_options_t *opt, berth_backend_t **out,
                               berth_error_t *err)
{
  (void)opt;
  return berth_backend_efs_create(out, err);
}

/* The backends built into this program. */
static const struct {
  const char *kind;
  factory_fn make;
} factories[] = {
    {"nfs", make_nfs},
    {"ebs", make_ebs},
    {"efs", make_efs},
};

berth_status_t prov_provisioners_check(const prov_options_t *opt,
                                       berth_error_t *err)
{
  size_t i;
  size_t k;

  for (i = 0; i < opt->nbindings; i++) {
    for (k = 0; k < sizeof(factories) / sizeof(factories[0]); k++) {
      if (strcmp(factories[k].kind, opt->bindings[i].backend) == 0)
        break;
    }
    if (k == sizeof(factories) / sizeof(factories[0]))
      return berth_error_set(err, BERTH_EINVAL,
                             "provisioner %s: unknown backend '%s' (this "
                             "build has: nfs, ebs, efs)",
                             opt->bindings[i].name, opt->bindings[i].backend);
  }
  /* --extra-tags as the EBS backend will read it, so that --check-config
   * refuses what start would. */
  if (opt->extra_tags != NULL) {
    json_t *tags = NULL;
    berth_status_t st = berth_ebs_parse_extra_tags(opt->extra_tags, &tags, err);

    json_decref(tags);
    if (st != BERTH_OK)
      return st;
  }
  return BERTH_OK;
}

static berth_status_t make_backend(const prov_options_t *opt,
                                   const prov_binding_t *b,
                                   berth_backend_t **out, berth_error_t *err)
{
  size_t i;
  berth_status_t st;

  for (i = 0; i < sizeof(factories) / sizeof(factories[0]); i++) {
    if (strcmp(factories[i].kind, b->backend) == 0) {
      st = factories[i].make(opt, out, err);
      if (st != BERTH_OK)
        berth_error_prefix(err, b->name);
      return st;
    }
  }
  return berth_error_set(err, BERTH_EINVAL,
                         "provisioner %s: unknown backend '%s' (this build "
                         "has: nfs, ebs, efs)",
                         b->name, b->backend);
}

berth_status_t prov_provisioners_create(const prov_options_t *opt,
                                        prov_provisioners_t **out,
                                        berth_error_t *err)
{
  prov_provisioners_t *p = calloc(1, sizeof(*p));
  berth_status_t st = BERTH_OK;
  size_t i;

  if (p == NULL || (p->e = calloc(opt->nbindings, sizeof(*p->e))) == NULL) {
    free(p);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  for (i = 0; i < opt->nbindings && st == BERTH_OK; i++) {
    p->e[i].name = strdup(opt->bindings[i].name);
    if (p->e[i].name == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      break;
    }
    p->n++;
    st = make_backend(opt, &opt->bindings[i], &p->e[i].be, err);
  }
  if (st != BERTH_OK) {
    prov_provisioners_destroy(p);
    return st;
  }
  *out = p;
  return BERTH_OK;
}

void prov_provisioners_destroy(prov_provisioners_t *p)
{
  size_t i;

  if (p == NULL)
    return;
  for (i = 0; i < p->n; i++) {
    free(p->e[i].name);
    berth_backend_destroy(p->e[i].be);
  }
  free(p->e);
  free(p);
}

berth_backend_t *prov_provisioners_find(const prov_provisioners_t *p,
                                        const char *name)
{
  size_t i;

  for (i = 0; name != NULL && i < p->n; i++) {
    if (strcmp(p->e[i].name, name) == 0)
      return p->e[i].be;
  }
  return NULL;
}

size_t prov_provisioners_count(const prov_provisioners_t *p)
{
  return p->n;
}

const char *prov_provisioners_name(const prov_provisioners_t *p, size_t i)
{
  return i < p->n ? p->e[i].name : NULL;
}
