/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the claims this process is provisioning, see
 * controller_int.h (prov_inflight_*).
 *
 * From the moment the backend may make storage for a claim until its PV
 * is saved (or the storage is removed again), the claim is held here,
 * keyed by namespace/name, as it was when provisioning began. A claim
 * deleted in that window is no longer in the informer's cache; this copy
 * is what lets the next sync find the storage again (a backend's names
 * derive from the claim and pvc-<uid>) and remove it. It takes the place
 * of a finalizer on the claim, which cost two API requests per claim. */
#include "controller_int.h"

#include <stdio.h>
#include <string.h>

static void inflight_key(const char *ns, const char *name, char *key,
                         size_t size)
{
  snprintf(key, size, "%s/%s", ns != NULL ? ns : "", name != NULL ? name : "");
}

berth_status_t prov_inflight_put(prov_controller_t *c, const json_t *claim)
{
  char key[512];
  json_t *copy = json_deep_copy(claim);
  json_t *old;
  berth_status_t st;

  if (copy == NULL)
    return BERTH_ENOMEM;
  inflight_key(berth_k8s_obj_namespace(claim), berth_k8s_obj_name(claim), key,
               sizeof(key));
  pthread_mutex_lock(&c->lock);
  old = prov_map_remove(&c->inflight, key);
  st = prov_map_put(&c->inflight, key, copy);
  pthread_mutex_unlock(&c->lock);
  json_decref(old);
  if (st != BERTH_OK)
    json_decref(copy);
  return st;
}

json_t *prov_inflight_get(prov_controller_t *c, const char *ns,
                          const char *name)
{
  char key[512];
  json_t *claim;

  inflight_key(ns, name, key, sizeof(key));
  pthread_mutex_lock(&c->lock);
  claim = json_incref(prov_map_get(&c->inflight, key));
  pthread_mutex_unlock(&c->lock);
  return claim;
}

bool prov_inflight_has(prov_controller_t *c, const json_t *claim)
{
  json_t *held = prov_inflight_get(c, berth_k8s_obj_namespace(claim),
                                   berth_k8s_obj_name(claim));
  const char *a = berth_k8s_obj_uid(held);
  const char *b = berth_k8s_obj_uid(claim);
  bool same = a != NULL && b != NULL && strcmp(a, b) == 0;

  json_decref(held);
  return same;
}

void prov_inflight_remove(prov_controller_t *c, const json_t *claim)
{
  char key[512];
  json_t *held;
  const char *uid = berth_k8s_obj_uid(claim);

  inflight_key(berth_k8s_obj_namespace(claim), berth_k8s_obj_name(claim), key,
               sizeof(key));
  pthread_mutex_lock(&c->lock);
  held = prov_map_get(&c->inflight, key);
  /* Only the entry of this very claim: a claim of the same name made
   * since keeps its own. */
  if (held != NULL && uid != NULL && berth_k8s_obj_uid(held) != NULL &&
      strcmp(berth_k8s_obj_uid(held), uid) == 0)
    prov_map_remove(&c->inflight, key);
  else
    held = NULL;
  pthread_mutex_unlock(&c->lock);
  json_decref(held);
}

size_t prov_inflight_count(prov_controller_t *c)
{
  size_t n;

  pthread_mutex_lock(&c->lock);
  n = prov_map_count(&c->inflight);
  pthread_mutex_unlock(&c->lock);
  return n;
}

static void release_one(void *ctx, const char *key, void *value)
{
  (void)ctx;
  (void)key;
  json_decref(value);
}

void prov_inflight_cleanup(prov_controller_t *c)
{
  prov_map_each(&c->inflight, release_one, NULL);
  prov_map_cleanup(&c->inflight);
}
