/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the EBS attacher (the external-attacher protocol).
 *
 * Watches storage.k8s.io/v1 VolumeAttachments whose spec.attacher is ours
 * (ebs.csi.aws.com by default) and makes EC2 agree with them:
 *
 *   - a VolumeAttachment without deletionTimestamp: put the attacher
 *     finalizer (external-attacher/ebs-csi-aws-com) on it, attach the PV's
 *     volume (spec.csi.volumeHandle) to the instance of the node's
 *     spec.providerID (aws:///<zone>/<instance id>) at a device name that
 *     no other volume of that instance uses (DescribeInstances plus the
 *     names this process has handed out and not yet seen attached), wait
 *     (bounded) for "attached", then set status.attached = true and
 *     status.attachmentMetadata.devicePath;
 *   - a failure goes to status.attachError (time, message) and the
 *     VolumeAttachment is retried with backoff;
 *   - a VolumeAttachment being deleted: DetachVolume, wait (bounded) for
 *     the volume to leave the instance, then drop the finalizer;
 *     status.detachError on failure.
 *
 * Idempotent: a volume already attached to the instance keeps its device;
 * a volume or attachment that is gone counts as detached.
 *
 * berth-provisioner starts it (app.c) once it leads and its workers run,
 * when one of its provisioners uses the EBS backend: prov_attacher_start
 * runs its own informer and worker, prov_attacher_sync reconciles one
 * object. */
#ifndef BERTH_PROV_ATTACH_H
#define BERTH_PROV_ATTACH_H

#include <stdbool.h>

#include "berth/aws.h"
#include "berth/k8s.h"
#include "berth/status.h"

#define PROV_ATTACHER_DEFAULT "ebs.csi.aws.com"

typedef struct prov_attacher prov_attacher_t;

typedef struct prov_attacher_options {
  const char *attacher;  /* spec.attacher we serve (NULL: ebs.csi.aws.com) */
  int attach_timeout_ms; /* wait for attached / detached (0: 30 s) */
} prov_attacher_options_t;

/* Create an attacher over a Kubernetes client and an AWS client (both
 * borrowed: they must outlive it). */
berth_status_t prov_attacher_create(berth_k8s_client_t *k8s, berth_aws_t *aws,
                                    const prov_attacher_options_t *opts,
                                    prov_attacher_t **out, berth_error_t *err);

/* Reconcile the VolumeAttachment name once (see the top). BERTH_OK when
 * it is as it should be (or not ours, or gone). */
berth_status_t prov_attacher_sync(prov_attacher_t *a, const char *name,
                                  berth_error_t *err);

/* Start the informer and one worker thread. */
berth_status_t prov_attacher_start(prov_attacher_t *a, berth_error_t *err);

/* Stop (if started) and free. Accepts NULL. */
void prov_attacher_destroy(prov_attacher_t *a);

/* The finalizer for an attacher name into out: "external-attacher/" and
 * the name with '/' and '.' as '-'. */
void prov_attacher_finalizer(const char *attacher, char *out, size_t size);

/* The instance id of a providerID ("aws:///us-east-1a/i-0abc"), into out;
 * false when it has none. */
bool prov_attacher_instance_id(const char *provider_id, char *out, size_t size);

#endif /* BERTH_PROV_ATTACH_H */
