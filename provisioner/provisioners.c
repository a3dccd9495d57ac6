/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: provisioner names and their backends, see
 * provisioners.h. */
#include "provisioners.h"

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

/* What the backends read from the program's options and environment:
 * NFS the default export, EBS BERTH_CLUSTER_ID (the
 * kubernetes.io/cluster/<id> tag on every disk) and --extra-tags. */
static void settings_of(const prov_options_t *opt, berth_backend_settings_t *s)
{
  memset(s, 0, sizeof(*s));
  s->nfs_defaults = opt->nfs_defaults;
  s->cluster_id = getenv("BERTH_CLUSTER_ID");
  s->extra_tags = opt->extra_tags;
}

/* b names a backend of this build (berth_backends); BERTH_EINVAL naming
 * the provisioner and the known backends otherwise. */
static berth_status_t known_backend(const prov_binding_t *b, berth_error_t *err)
{
  char known[256];

  if (berth_backend_find(b->backend) != NULL)
    return BERTH_OK;
  berth_backend_names(known, sizeof(known));
  return berth_error_set(err, BERTH_EINVAL,
                         "provisioner %s: unknown backend '%s' (this build "
                         "has: %s)",
                         b->name, b->backend, known);
}

berth_status_t prov_provisioners_check(const prov_options_t *opt,
                                       berth_error_t *err)
{
  berth_backend_settings_t s;
  berth_status_t st = BERTH_OK;
  size_t i;

  settings_of(opt, &s);
  for (i = 0; i < opt->nbindings && st == BERTH_OK; i++)
    st = known_backend(&opt->bindings[i], err);
  for (i = 0; i < opt->nbindings && st == BERTH_OK; i++)
    st = berth_backend_check_settings(opt->bindings[i].backend, &s, err);
  return st;
}

static berth_status_t make_backend(const prov_options_t *opt,
                                   const prov_binding_t *b,
                                   berth_backend_t **out, berth_error_t *err)
{
  berth_backend_settings_t s;
  berth_status_t st;

  settings_of(opt, &s);
  st = known_backend(b, err);
  if (st == BERTH_OK) {
    st = berth_backend_create(b->backend, &s, out, err);
    if (st != BERTH_OK)
      berth_error_prefix(err, b->name);
  }
  return st;
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
