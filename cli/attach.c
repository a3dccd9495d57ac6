/* berthctl attach, berthctl detach: manual attach and detach of EBS disks,
 * as berth-provisioner's attacher (provisioner/attach.c) does them: the
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

#define ATT_DEV_MAX 32
#define ATT_ID_MAX 64
#define ATT_TIMEOUT_MS 60000

/* The instance id of a providerID ("aws:///us-east-1a/i-0abc"). */
static bool instance_id(const char *provider_id, char *out, size_t size)
{
  const char *s;

  if (provider_id == NULL || strncmp(provider_id, "aws://", 6) != 0)
    return false;
  s = strrchr(provider_id, '/');
  if (s == NULL || strncmp(s + 1, "i-", 2) != 0 || strlen(s + 1) >= size)
    return false;
  snprintf(out, size, "%s", s + 1);
  return true;
}

/* The volume's attachment to instance, if any. */
static berth_status_t att_find(berth_aws_t *aws, const char *volume,
                               const char *instance, char *state, char *device,
                               bool *found, berth_error_t *err)
{
  berth_ec2_volume_t v;
  berth_status_t st;
  size_t i;

  memset(&v, 0, sizeof(v));
  *found = false;
  st = berth_ec2_describe_volume(aws, volume, &v, err);
  if (st != BERTH_OK)
    return st;
  for (i = 0; i < v.attachment_count; i++) {
    berth_ec2_attachment_t *at = &v.attachments[i];
    if (at->instance_id != NULL && strcmp(at->instance_id, instance) == 0) {
      snprintf(state, 16, "%s", at->state != NULL ? at->state : "");
      snprintf(device, ATT_DEV_MAX, "%s", at->device != NULL ? at->device : "");
      *found = true;
    }
  }
  berth_ec2_volume_cleanup(&v);
  return BERTH_OK;
}

/* The first of /dev/xvdba .. /dev/xvdcz that inst does not use. */
static berth_status_t att_pick(const berth_ec2_instance_t *inst, char *out,
                               berth_error_t *err)
{
  char dev[ATT_DEV_MAX];
  int c1, c2;
  size_t i;
  bool used;

  for (c1 = 'b'; c1 <= 'c'; c1++)
    for (c2 = 'a'; c2 <= 'z'; c2++) {
      snprintf(dev, sizeof(dev), "/dev/xvd%c%c", c1, c2);
      used = false;
      for (i = 0; i < inst->block_device_count && !used; i++)
        used = inst->block_devices[i].device_name != NULL &&
               strcmp(inst->block_devices[i].device_name, dev) == 0;
      if (!used) {
        snprintf(out, ATT_DEV_MAX, "%s", dev);
        return BERTH_OK;
      }
    }
  return berth_error_set(err, BERTH_EPERM,
                         "attach: no free device name on instance %s",
                         ctl_nz(inst->instance_id));
}

static berth_status_t att_attach(berth_aws_t *aws, const char *volume,
                                 const char *instance, char *device,
                                 berth_error_t *err)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + ATT_TIMEOUT_MS;
  int64_t pause = 100;
  char state[16];
  bool found;
  berth_status_t st;

  st = att_find(aws, volume, instance, state, device, &found, err);
  if (st == BERTH_OK && !found) {
    const char *id = instance;
    berth_ec2_describe_params_t dp;
    berth_ec2_instance_list_t l;

    memset(&dp, 0, sizeof(dp));
    memset(&l, 0, sizeof(l));
    dp.ids = &id;
    dp.id_count = 1;
    st = berth_ec2_describe_instances(aws, &dp, &l, err);
    if (st == BERTH_OK && l.count != 1)
      st = berth_error_set(err, BERTH_ENOTFOUND,
                           "attach: instance %s not found", instance);
    if (st == BERTH_OK)
      st = att_pick(&l.items[0], device, err);
    berth_ec2_instance_list_cleanup(&l);
    if (st == BERTH_OK)
      st = berth_ec2_attach_volume(aws, volume, instance, device, NULL, err);
    if (st != BERTH_OK)
      return st;
    snprintf(state, sizeof(state), "attaching");
  }
  while (st == BERTH_OK && strcmp(state, "attached") != 0) {
    if (strcmp(state, "attaching") != 0 && strcmp(state, "busy") != 0)
      return berth_error_set(err, BERTH_EIO, "attach: volume %s is %s on %s",
                             volume, found ? state : "not attached", instance);
    if (berth_clock_monotonic_ms(NULL) >= deadline)
      return berth_error_set(err, BERTH_ETIMEOUT,
                             "attach: volume %s still attaching to %s", volume,
                             instance);
    berth_clock_sleep_ms(NULL, pause);
    pause = pause * 2 > 1000 ? 1000 : pause * 2;
    st = att_find(aws, volume, instance, state, device, &found, err);
    if (st == BERTH_OK && !found)
      snprintf(state, sizeof(state), "gone");
  }
  return st;
}

static berth_status_t att_detach(berth_aws_t *aws, const char *volume,
                                 const char *instance, bool force,
                                 bool *was_attached, berth_error_t *err)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + ATT_TIMEOUT_MS;
  int64_t pause = 100;
  char state[16], device[ATT_DEV_MAX];
  bool found;
  berth_status_t st;

  st = att_find(aws, volume, instance, state, device, &found, err);
  *was_attached = st == BERTH_OK && found;
  if (st == BERTH_OK && found && (force || strcmp(state, "detaching") != 0))
    st = berth_ec2_detach_volume(aws, volume, instance, NULL, force, NULL, err);
  if (st == BERTH_ENOTFOUND || (st == BERTH_ECONFLICT && !found))
    return BERTH_OK;
  while (st == BERTH_OK) {
    st = att_find(aws, volume, instance, state, device, &found, err);
    if (st == BERTH_ENOTFOUND || (st == BERTH_OK && !found))
      return BERTH_OK;
    if (st != BERTH_OK)
      break;
    if (berth_clock_monotonic_ms(NULL) >= deadline)
      return berth_error_set(err, BERTH_ETIMEOUT,
                             "detach: volume %s still %s on %s", volume, state,
                             instance);
    berth_clock_sleep_ms(NULL, pause);
    pause = pause * 2 > 1000 ? 1000 : pause * 2;
  }
  return st;
}

static int run(ctl_ctx_t *ctx, bool attach)
{
  const char *what = attach ? "attach" : "detach";
  ctl_options_t *opt = ctx->opt;
  const ctl_backend_ops_t *ops;
  const char *name, *volume;
  char instance[ATT_ID_MAX], device[ATT_DEV_MAX] = "";
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
  if (opt->node == NULL)
    return ctl_usage_error(ctx, "%s needs --node NODE", what);
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
  if (!instance_id(json_string_value(json_object_get(
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
    st = attach ? att_attach(aws, volume, instance, device, &err)
                : att_detach(aws, volume, instance, opt->force, &was, &err);
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
