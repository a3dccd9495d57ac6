/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl attach, berthctl detach: manual attach and detach of EBS disks,
 * through the steps berth-provisioner's attacher uses
 * (provisioner/backends/ebs_attach.c): the
 * node's instance from its spec.providerID (aws:///<zone>/<instance>),
 * the first device name of /dev/xvdba .. /dev/xvdcz the instance does not
 * use (DescribeInstances), AttachVolume, then wait (bounded) for
 * "attached"; DetachVolume (--force: forced), then wait for the disk to
 * leave the instance. A disk already attached to the instance keeps its
 * device; a disk already detached is done. Both ask first (or take
 * --yes). */
#include "ctl.h"
#include "ctl_backend.h"

#include <stdlib.h>
#include <string.h>

#include "berth/aws_ec2.h"
#include "berth/clock.h"

#include "backends/ebs_attach.h"

#define ATT_ID_MAX 64

static int run(ctl_ctx_t *ctx, bool attach)
{
  const char *what = attach ? "attach" : "detach";
  ctl_options_t *opt = ctx->opt;
  const ctl_backend_ops_t *ops;
  const char *name, *volume;
  char instance[ATT_ID_MAX], device[BERTH_EBS_DEVICE_MAX] = "";
  json_t *pv = NULL, *node = NULL;
  ctl_backend_t *be = NULL;
  berth_aws_t *aws;
  berth_error_t err;
  berth_status_t st;
  char *prompt = NULL;
  bool was = false;
  int rc = CTL_EXIT_ERROR;

  if (opt->nargs != 1)
    return ctl_usage_error(ctx, "%s needs one VOLUME", what);
  if (opt->node == NULL || opt->node[0] == '\0')
    return ctl_usage_error(ctx, "%s needs --node NODE (a node's name)", what);
  name = opt->args[0];
  if (strncmp(name, "persistentvolume/", 17) == 0)
    name += 17;
  else if (strncmp(name, "pv/", 3) == 0)
    name += 3;
  if (!ctl_registry_load(ctx))
    return CTL_EXIT_ERROR;
  berth_error_clear(&err);
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_persistentvolumes, NULL, name,
                     &pv, &err);
  if (st == BERTH_ENOTFOUND)
    return ctl_fail(ctx,
                    "PersistentVolume \"%s\" not found ('berthctl "
                    "volumes' lists berth's)",
                    name);
  if (st != BERTH_OK)
    return ctl_kube_error(ctx, "get persistentvolume", st, &err);
  ops = ctl_registry_pv_backend(ctx->reg, pv);
  volume = ctl_ebs_volume_id(pv);
  if (ops != &ctl_backend_ebs || volume == NULL) {
    rc = ctl_fail(ctx,
                  "PersistentVolume \"%s\" is not an EBS volume of berth's "
                  "(backend %s): only EBS disks are attached; NFS and EFS "
                  "volumes need no attach, kubelet mounts them",
                  name, ops != NULL ? ops->name : "none");
    goto done;
  }
  st = berth_k8s_get(ctx->k8s, &berth_k8s_res_nodes, NULL, opt->node, &node,
                     &err);
  if (st == BERTH_ENOTFOUND) {
    rc = ctl_fail(ctx, "Node \"%s\" not found (kubectl get nodes)", opt->node);
    goto done;
  }
  if (st != BERTH_OK) {
    rc = ctl_kube_error(ctx, "get node", st, &err);
    goto done;
  }
  if (!berth_ebs_instance_id(json_string_value(json_object_get(
                                 json_object_get(node, "spec"), "providerID")),
                             instance, sizeof(instance))) {
    rc = ctl_fail(ctx,
                  "Node \"%s\" has no EC2 instance in spec.providerID "
                  "(aws:///ZONE/i-...): is it an AWS node?",
                  opt->node);
    goto done;
  }
  prompt = berth_strdup_printf(
      "%s EBS disk %s (PersistentVolume %s) %s node %s (instance %s)%s?",
      attach ? "Attach" : "Detach", volume, name, attach ? "to" : "from",
      opt->node, instance,
      !attach && opt->force ? ", forced (the node may lose data it has not "
                              "written)"
                            : "");
  if (opt->dry_run) {
    fprintf(ctx->out, "%s (dry run: nothing done)\n", prompt);
    rc = CTL_EXIT_OK;
    goto done;
  }
  if (!ctl_confirm(ctx, prompt))
    goto done;
  st = ctl_registry_backend(ctx, ops, &be, &err);
  aws = st == BERTH_OK ? ctl_ebs_aws(be) : NULL;
  if (st == BERTH_OK && aws == NULL)
    st = berth_error_set(&err, BERTH_EINTERNAL, "no AWS client");
  if (st == BERTH_OK)
    st = attach ? berth_ebs_attach(aws, volume, instance, NULL, device, &err)
                : berth_ebs_detach(aws, volume, instance, opt->force, 0, &was,
                                   &err);
  if (st != BERTH_OK) {
    rc = ctl_fail(ctx, "%s %s: %s", what, volume,
                  err.message[0] ? err.message : berth_strerror(st));
    goto done;
  }
  if (attach)
    fprintf(ctx->out, "volume %s attached to %s (%s) at %s\n", name, opt->node,
            instance, device);
  else
    fprintf(ctx->out, "volume %s %s %s (%s)\n", name,
            was ? "detached from" : "was not attached to", opt->node, instance);
  rc = CTL_EXIT_OK;
done:
  free(prompt);
  json_decref(node);
  json_decref(pv);
  return rc;
}

int ctl_run_attach(ctl_ctx_t *ctx)
{
  return run(ctx, true);
}

int ctl_run_detach(ctl_ctx_t *ctx)
{
  return run(ctx, false);
}
