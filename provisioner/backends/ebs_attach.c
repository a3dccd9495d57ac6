/* SPDX-License-Identifier: Apache-2.0 */
/* EBS attach and detach steps on the EC2 side, see ebs_attach.h. */
#include "backends/ebs_attach.h"

#include <stdio.h>
#include <string.h>

#include "berth/clock.h"

#define EBS_ATTACH_DEFAULT_TIMEOUT_MS 60000

bool berth_ebs_instance_id(const char *provider_id, char *out, size_t size)
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

berth_status_t berth_ebs_pick_device(const berth_ec2_instance_t *inst,
                                     berth_ebs_device_taken_fn taken, void *ctx,
                                     char *out, berth_error_t *err)
{
  char dev[BERTH_EBS_DEVICE_MAX];
  const char *id = inst->instance_id != NULL ? inst->instance_id : "";
  size_t i;
  int c1, c2;
  bool used;

  for (c1 = 'b'; c1 <= 'c'; c1++)
    for (c2 = 'a'; c2 <= 'z'; c2++) {
      snprintf(dev, sizeof(dev), "/dev/xvd%c%c", c1, c2);
      used = false;
      for (i = 0; i < inst->block_device_count && !used; i++)
        used = inst->block_devices[i].device_name != NULL &&
               strcmp(inst->block_devices[i].device_name, dev) == 0;
      if (!used && taken != NULL)
        used = taken(ctx, id, dev);
      if (!used) {
        snprintf(out, BERTH_EBS_DEVICE_MAX, "%s", dev);
        return BERTH_OK;
      }
    }
  return berth_error_set(err, BERTH_EPERM,
                         "attach: no free device name on instance %s", id);
}

/* The volume's attachment to instance, if any: its state and device. */
static berth_status_t ebs_find(berth_aws_t *aws, const char *volume,
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
      snprintf(state, BERTH_EBS_STATE_MAX, "%s",
               at->state != NULL ? at->state : "");
      snprintf(device, BERTH_EBS_DEVICE_MAX, "%s",
               at->device != NULL ? at->device : "");
      *found = true;
    }
  }
  berth_ec2_volume_cleanup(&v);
  return BERTH_OK;
}

/* Choose a device on instance (DescribeInstances) and AttachVolume. */
static berth_status_t ebs_start_attach(berth_aws_t *aws, const char *volume,
                                       const char *instance,
                                       const berth_ebs_attach_options_t *o,
                                       char *device, berth_error_t *err)
{
  const char *id = instance;
  berth_ec2_describe_params_t dp;
  berth_ec2_instance_list_t l;
  berth_status_t st;

  memset(&dp, 0, sizeof(dp));
  memset(&l, 0, sizeof(l));
  dp.ids = &id;
  dp.id_count = 1;
  st = berth_ec2_describe_instances(aws, &dp, &l, err);
  if (st == BERTH_OK && l.count != 1)
    st = berth_error_set(err, BERTH_ENOTFOUND, "attach: instance %s not found",
                         instance);
  if (st == BERTH_OK)
    st = o->reserve != NULL
             ? o->reserve(o->ctx, instance, volume, &l.items[0], device, err)
             : berth_ebs_pick_device(&l.items[0], NULL, NULL, device, err);
  berth_ec2_instance_list_cleanup(&l);
  if (st == BERTH_OK)
    st = berth_ec2_attach_volume(aws, volume, instance, device, NULL, err);
  if (st != BERTH_OK && o->release != NULL)
    o->release(o->ctx, instance, volume);
  return st;
}

berth_status_t berth_ebs_attach(berth_aws_t *aws, const char *volume,
                                const char *instance,
                                const berth_ebs_attach_options_t *opts,
                                char *device, berth_error_t *err)
{
  berth_ebs_attach_options_t none;
  int64_t deadline;
  int64_t pause = 100;
  char state[BERTH_EBS_STATE_MAX];
  bool found;
  berth_status_t st;

  if (opts == NULL) {
    memset(&none, 0, sizeof(none));
    opts = &none;
  }
  deadline =
      berth_clock_monotonic_ms(NULL) +
      (opts->timeout_ms > 0 ? opts->timeout_ms : EBS_ATTACH_DEFAULT_TIMEOUT_MS);
  st = ebs_find(aws, volume, instance, state, device, &found, err);
  if (st == BERTH_OK && !found) {
    st = ebs_start_attach(aws, volume, instance, opts, device, err);
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
    st = ebs_find(aws, volume, instance, state, device, &found, err);
    if (st == BERTH_OK && !found)
      snprintf(state, sizeof(state), "gone");
  }
  return st;
}

berth_status_t berth_ebs_detach(berth_aws_t *aws, const char *volume,
                                const char *instance, bool force,
                                int64_t timeout_ms, bool *was_attached,
                                berth_error_t *err)
{
  int64_t deadline =
      berth_clock_monotonic_ms(NULL) +
      (timeout_ms > 0 ? timeout_ms : EBS_ATTACH_DEFAULT_TIMEOUT_MS);
  int64_t pause = 100;
  char state[BERTH_EBS_STATE_MAX], device[BERTH_EBS_DEVICE_MAX];
  bool found;
  berth_status_t st;

  st = ebs_find(aws, volume, instance, state, device, &found, err);
  if (was_attached != NULL)
    *was_attached = st == BERTH_OK && found;
  if (st == BERTH_OK && found && (force || strcmp(state, "detaching") != 0))
    st = berth_ec2_detach_volume(aws, volume, instance, NULL, force, NULL, err);
  /* Gone already, or detached meanwhile: done. */
  if (st == BERTH_ENOTFOUND || (st == BERTH_ECONFLICT && !found))
    return BERTH_OK;
  while (st == BERTH_OK) {
    st = ebs_find(aws, volume, instance, state, device, &found, err);
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
