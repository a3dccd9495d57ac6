/* SPDX-License-Identifier: Apache-2.0 */
/* EBS attach and detach steps on the EC2 side, shared by berth-provisioner's
 * attacher (provisioner/attach.c, VolumeAttachment objects) and berthctl
 * attach/detach (cli/attach.c): find a volume's attachment to an instance,
 * choose a free device name, AttachVolume and wait for "attached",
 * DetachVolume and wait for the disk to leave the instance. Every step is
 * idempotent: a disk already attached keeps its device, a disk already
 * detached (or gone) is done. */
#ifndef BERTH_PROVISIONER_BACKENDS_EBS_ATTACH_H
#define BERTH_PROVISIONER_BACKENDS_EBS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "berth/status.h"

#define BERTH_EBS_DEVICE_MAX 32
#define BERTH_EBS_STATE_MAX 16

/* The instance id of a node's spec.providerID ("aws:///us-east-1a/i-0abc")
 * into out; false when it is not an AWS provider id or does not fit. */
bool berth_ebs_instance_id(const char *provider_id, char *out, size_t size);

/* Optional: true when device is taken on instance by someone else's
 * attachment in flight (the attacher's reservations). */
typedef bool (*berth_ebs_device_taken_fn)(void *ctx, const char *instance,
                                          const char *device);

/* The first of /dev/xvdba .. /dev/xvdcz that inst does not use and taken
 * (may be NULL) does not claim, into out (BERTH_EBS_DEVICE_MAX bytes). None
 * free is BERTH_EPERM. */
berth_status_t berth_ebs_pick_device(const berth_ec2_instance_t *inst,
                                     berth_ebs_device_taken_fn taken, void *ctx,
                                     char *out, berth_error_t *err);

/* How berth_ebs_attach chooses a device: reserve (NULL: the first free one
 * by berth_ebs_pick_device) gets the instance as EC2 describes it; release
 * (may be NULL) is called when the attach could not be started. */
typedef struct berth_ebs_attach_options {
  int64_t timeout_ms; /* wait for "attached"; 0: 60 s */
  berth_status_t (*reserve)(void *ctx, const char *instance, const char *volume,
                            const berth_ec2_instance_t *inst, char *device,
                            berth_error_t *err);
  void (*release)(void *ctx, const char *instance, const char *volume);
  void *ctx;
} berth_ebs_attach_options_t;

/* Attach volume to instance (or find it attached) and wait until it is
 * "attached"; its device goes to device (BERTH_EBS_DEVICE_MAX bytes). */
berth_status_t berth_ebs_attach(berth_aws_t *aws, const char *volume,
                                const char *instance,
                                const berth_ebs_attach_options_t *opts,
                                char *device, berth_error_t *err);

/* Detach volume from instance (force: a forced detach) and wait until it
 * has left; timeout_ms 0 is 60 s. *was_attached (may be NULL) says whether
 * it was attached when asked. A volume that is gone counts as detached. */
berth_status_t berth_ebs_detach(berth_aws_t *aws, const char *volume,
                                const char *instance, bool force,
                                int64_t timeout_ms, bool *was_attached,
                                berth_error_t *err);

#endif /* BERTH_PROVISIONER_BACKENDS_EBS_ATTACH_H */
