/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: which of our backends, if any, owns a PV.
 *
 * As sig-storage-lib-external-provisioner's isProvisionerForVolume: a PV
 * is ours when pv.kubernetes.io/provisioned-by names one of our
 * provisioners, or when pv.kubernetes.io/migrated-to does (a volume handed
 * over to us, the annotation CSI migration writes). berth adds adoption:
 * with --adopt-provisioner OLD, a PV that OLD provisioned (another tool:
 * nfs-subdir-external-provisioner, ebs.csi.aws.com, efs.csi.aws.com) is
 * ours when its StorageClass now names one of our provisioners, so that
 * switching a class's provisioner: line to berth does not leave the old
 * tool's volumes Released with their storage leaked. The class decides
 * which backend, because the PV was made for that class. An in-tree
 * volume counts as made by the driver CSI migration hands it to: the
 * PV controller (re)writes migrated-to with the CSI driver's name
 * (kubernetes.io/aws-ebs becomes ebs.csi.aws.com) whatever it said, so
 * adopting ebs.csi.aws.com adopts the migrated in-tree volumes too. */
#include "controller_int.h"

#include "claim.h"
#include "provisioners.h"

#include <string.h>

static bool adopted_name(const prov_options_t *opt, const char *name)
{
  size_t i;

  for (i = 0; name != NULL && i < opt->nadopt; i++) {
    if (strcmp(opt->adopt[i], name) == 0)
      return true;
  }
  return false;
}

/* The backend of the provisioner pv's class names, or NULL. */
static berth_backend_t *class_backend(prov_controller_t *c, const json_t *pv)
{
  const char *cls = json_string_value(
      json_object_get(json_object_get(pv, "spec"), "storageClassName"));
  berth_backend_t *be = NULL;
  json_t *sclass;

  if (cls == NULL || c->classes == NULL)
    return NULL;
  sclass = berth_k8s_informer_get(c->classes, NULL, cls);
  if (sclass != NULL)
    be = prov_provisioners_find(c->provs, prov_class_provisioner(sclass));
  json_decref(sclass);
  return be;
}

berth_backend_t *prov_volume_backend(prov_controller_t *c, const json_t *pv)
{
  const char *by = berth_k8s_obj_annotation(pv, PROV_ANN_PROVISIONED_BY);
  const char *to = berth_k8s_obj_annotation(pv, PROV_ANN_MIGRATED_TO);
  berth_backend_t *be = prov_provisioners_find(c->provs, by);

  if (be == NULL)
    be = prov_provisioners_find(c->provs, to);
  if (be == NULL && (adopted_name(c->opt, by) || adopted_name(c->opt, to)))
    be = class_backend(c, pv);
  return be;
}

bool prov_volume_adoption(const prov_controller_t *c)
{
  return c->opt->nadopt > 0;
}

bool prov_volume_adopted_name(const prov_controller_t *c, const char *name)
{
  return adopted_name(c->opt, name);
}
