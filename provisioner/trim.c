/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the informers' transforms; see trim.h. */
#include "trim.h"

#include "claim.h"

#include "backends/backend.h"
#include "berth/k8s.h"

#include <string.h>

#define ANN_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

void prov_trim_common(json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *ann = json_object_get(meta, "annotations");

  json_object_del(meta, "managedFields");
  json_object_del(meta, "creationTimestamp");
  json_object_del(ann, ANN_LAST_APPLIED);
  if (ann != NULL && json_object_size(ann) == 0)
    json_object_del(meta, "annotations");
}

static json_t *keep(json_t *obj)
{
  prov_trim_common(obj);
  return json_incref(obj);
}

/* No reconciler reads a claim's status (the PV controller writes it) or
 * its creation time, but /metrics does: the claims pending by class
 * (status.phase) and the oldest one's age (creationTimestamp). Those two
 * stay, the rest goes. */
static json_t *keep_claim(json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *created = json_incref(json_object_get(meta, "creationTimestamp"));
  json_t *phase =
      json_incref(json_object_get(json_object_get(obj, "status"), "phase"));

  json_object_del(obj, "status");
  prov_trim_common(obj);
  if (created != NULL && meta != NULL)
    json_object_set_new(meta, "creationTimestamp", created);
  else
    json_decref(created);
  if (phase != NULL)
    json_object_set_new(obj, "status", json_pack("{s:o}", "phase", phase));
  return json_incref(obj);
}

json_t *prov_trim_claim(void *trim, json_t *obj)
{
  const prov_trim_t *t = trim;

  if (!prov_obj_has_finalizer(obj, PROV_CLAIM_FINALIZER) &&
      !t->is_ours(t->ctx, prov_claim_provisioner(obj)))
    return NULL;
  return keep_claim(obj);
}

json_t *prov_trim_volume(void *trim, json_t *obj)
{
  const prov_trim_t *t = trim;
  json_t *ref = json_object_get(json_object_get(obj, "spec"), "claimRef");
  const char *ns = json_string_value(json_object_get(ref, "namespace"));
  const char *name = json_string_value(json_object_get(ref, "name"));

  const char *by = berth_k8s_obj_annotation(obj, PROV_ANN_PROVISIONED_BY);
  const char *to = berth_k8s_obj_annotation(obj, PROV_ANN_MIGRATED_TO);

  /* Ours as prov_volume_backend decides: provisioned by us, handed over
   * to us (migrated-to), or made by (or migrated to) a tool whose
   * volumes we adopt. */
  if (t->is_ours(t->ctx, by) || t->is_ours(t->ctx, to) ||
      (t->is_adopted != NULL &&
       (t->is_adopted(t->ctx, by) || t->is_adopted(t->ctx, to))) ||
      berth_k8s_obj_annotation(obj, BERTH_ANN_PV_GID) != NULL ||
      (t->claim_cached != NULL && ns != NULL && name != NULL &&
       t->claim_cached(t->ctx, ns, name))) {
    /* Of the status, the reconcilers read the phase. */
    json_object_del(json_object_get(obj, "status"), "lastPhaseTransitionTime");
    return keep(obj);
  }
  return NULL;
}

/* The attacher reads a cached VolumeAttachment only to queue its name
 * (its sync reads the object from the server), and a VolumeAttachment's
 * spec, attacher included, never changes. */
json_t *prov_trim_attachment(void *attacher, json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  json_t *spec = json_object_get(obj, "spec");
  const char *who = json_string_value(json_object_get(spec, "attacher"));

  if (who == NULL || strcmp(who, (const char *)attacher) != 0)
    return NULL;
  return json_pack("{s:{s:O, s:O*, s:O}, s:{s:O}}", "metadata", "name",
                   json_object_get(meta, "name"), "uid",
                   json_object_get(meta, "uid"), "resourceVersion",
                   json_object_get(meta, "resourceVersion"), "spec", "attacher",
                   json_object_get(spec, "attacher"));
}

json_t *prov_trim_class(void *trim, json_t *obj)
{
  (void)trim;
  return keep(obj);
}
