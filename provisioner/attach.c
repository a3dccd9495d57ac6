/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: the EBS attacher; see attach.h. The protocol is
 * external-attacher's (kubernetes-csi/external-attacher, the CSI
 * attacher's "csi_handler.go"): finalizer first, then ControllerPublish
 * (here AttachVolume), then status; on deletion ControllerUnpublish
 * (DetachVolume), then the finalizer goes. */
#include "attach.h"
#include "backends/ebs_attach.h"

#include "berth/aws_ec2.h"
#include "berth/clock.h"
#include "berth/k8s_informer.h"
#include "berth/log.h"

#include "queue.h"
#include "trim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATT_ID_MAX 64
#define ATT_DEV_MAX BERTH_EBS_DEVICE_MAX

typedef struct att_resv {
  char instance[ATT_ID_MAX];
  char device[ATT_DEV_MAX];
  char volume[ATT_ID_MAX];
} att_resv_t;

struct prov_attacher {
  berth_k8s_client_t *k8s;
  berth_aws_t *aws;
  char *attacher;
  char finalizer[128];
  int timeout_ms;
  berth_k8s_informer_t *inf;
  prov_queue_t *queue;
  pthread_t worker;
  bool started;
  pthread_mutex_t lock; /* resv */
  att_resv_t *resv;
  size_t nresv, capresv;
};

void prov_attacher_finalizer(const char *attacher, char *out, size_t size)
{
  size_t i;

  snprintf(out, size, "external-attacher/%s", attacher);
  for (i = strlen("external-attacher/"); i < size && out[i] != '\0'; i++)
    if (out[i] == '/' || out[i] == '.')
      out[i] = '-';
}

bool prov_attacher_instance_id(const char *provider_id, char *out, size_t size)
{
  return berth_ebs_instance_id(provider_id, out, size);
}

/* ---- device names ------------------------------------------------------ */

/* berth_ebs_pick_device's predicate: a device reserved on instance by an
 * attachment in flight (a->lock held). */
static bool att_taken(void *ctx, const char *instance, const char *device)
{
  prov_attacher_t *a = ctx;
  size_t i;

  for (i = 0; i < a->nresv; i++)
    if (strcmp(a->resv[i].instance, instance) == 0 &&
        strcmp(a->resv[i].device, device) == 0)
      return true;
  return false;
}

/* Reserve a device on instance for volume (berth_ebs_attach's reserve):
 * the volume's earlier reservation, or the first device the instance does
 * not use and no reservation holds, so that two attachments in flight to
 * one instance never get the same name. */
static berth_status_t att_reserve(void *ctx, const char *instance,
                                  const char *volume,
                                  const berth_ec2_instance_t *inst, char *out,
                                  berth_error_t *err)
{
  prov_attacher_t *a = ctx;
  berth_status_t st = BERTH_OK;
  size_t i;

  pthread_mutex_lock(&a->lock);
  for (i = 0; i < a->nresv; i++)
    if (strcmp(a->resv[i].instance, instance) == 0 &&
        strcmp(a->resv[i].volume, volume) == 0) {
      snprintf(out, BERTH_EBS_DEVICE_MAX, "%s", a->resv[i].device);
      goto done;
    }
  if (a->nresv == a->capresv) {
    size_t cap = a->capresv * 2 + 8;
    att_resv_t *r = realloc(a->resv, cap * sizeof(*r));
    if (r == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      goto done;
    }
    a->resv = r;
    a->capresv = cap;
  }
  st = berth_ebs_pick_device(inst, att_taken, a, out, err);
  if (st != BERTH_OK)
    goto done;
  snprintf(a->resv[a->nresv].instance, ATT_ID_MAX, "%s", instance);
  snprintf(a->resv[a->nresv].volume, ATT_ID_MAX, "%s", volume);
  snprintf(a->resv[a->nresv].device, ATT_DEV_MAX, "%s", out);
  a->nresv++;
done:
  pthread_mutex_unlock(&a->lock);
  return st;
}

static void att_release(void *ctx, const char *instance, const char *volume)
{
  prov_attacher_t *a = ctx;
  size_t i;

  pthread_mutex_lock(&a->lock);
  for (i = 0; i < a->nresv; i++)
    if (strcmp(a->resv[i].instance, instance) == 0 &&
        strcmp(a->resv[i].volume, volume) == 0) {
      a->resv[i] = a->resv[--a->nresv];
      break;
    }
  pthread_mutex_unlock(&a->lock);
}

/* ---- Kubernetes side --------------------------------------------------- */

static bool att_has_finalizer(const json_t *obj, const char *f)
{
  json_t *fs = json_object_get(json_object_get(obj, "metadata"), "finalizers");
  json_t *v;
  size_t i;

  json_array_foreach(fs, i,
                     v) if (json_is_string(v) &&
                            strcmp(json_string_value(v), f) == 0) return true;
  return false;
}

/* Add or remove our finalizer with a merge patch conditional on the
 * object's resourceVersion (a conflict is retried by the queue). */
static berth_status_t att_set_finalizer(prov_attacher_t *a, const json_t *va,
                                        bool present, berth_error_t *err)
{
  json_t *fs = json_object_get(json_object_get(va, "metadata"), "finalizers");
  json_t *nf = json_array(), *patch, *v;
  size_t i;
  berth_status_t st;

  json_array_foreach(fs, i, v) if (!json_is_string(v) ||
                                   strcmp(json_string_value(v), a->finalizer) !=
                                       0) json_array_append(nf, v);
  if (present)
    json_array_append_new(nf, json_string(a->finalizer));
  patch = json_pack("{s:{s:o,s:s}}", "metadata", "finalizers", nf,
                    "resourceVersion", berth_k8s_obj_resource_version(va));
  if (patch == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_patch(a->k8s, &berth_k8s_res_volumeattachments, NULL,
                       berth_k8s_obj_name(va), NULL, BERTH_K8S_PATCH_MERGE,
                       patch, NULL, err);
  json_decref(patch);
  return st;
}

static void att_now(char *out, size_t size)
{
  time_t t = time(NULL);
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Merge status into the VolumeAttachment's status subresource. */
static berth_status_t att_status(prov_attacher_t *a, const char *name,
                                 json_t *status, berth_error_t *err)
{
  json_t *patch = json_pack("{s:o}", "status", status);
  berth_status_t st;

  if (patch == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_patch(a->k8s, &berth_k8s_res_volumeattachments, NULL, name,
                       "status", BERTH_K8S_PATCH_MERGE, patch, NULL, err);
  json_decref(patch);
  return st;
}

static void att_record_error(prov_attacher_t *a, const char *name,
                             bool attaching, const berth_error_t *cause)
{
  char now[32];
  berth_error_t e2;
  json_t *st;

  att_now(now, sizeof(now));
  st = json_pack("{s:{s:s,s:s}}", attaching ? "attachError" : "detachError",
                 "time", now, "message", cause->message);
  if (st != NULL && attaching)
    json_object_set_new(st, "attached", json_false());
  if (st != NULL && att_status(a, name, st, &e2) != BERTH_OK)
    berth_log(BERTH_LOG_WARN, "cannot record the attach error", "va", name,
              "error", e2.message, NULL);
}

/* The volume and instance ids of a VolumeAttachment: from its PV's
 * spec.csi.volumeHandle and its node's spec.providerID. */
static berth_status_t att_ids(prov_attacher_t *a, const json_t *va,
                              char *volume, char *instance, berth_error_t *err)
{
  json_t *spec = json_object_get(va, "spec");
  const char *pvn = json_string_value(
      json_object_get(json_object_get(spec, "source"), "persistentVolumeName"));
  const char *node = json_string_value(json_object_get(spec, "nodeName"));
  json_t *pv = NULL, *n = NULL;
  const char *h, *pid;
  berth_status_t st;

  if (pvn == NULL || node == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "attach: spec.source.persistentVolumeName and "
                           "spec.nodeName are required");
  st = berth_k8s_get(a->k8s, &berth_k8s_res_persistentvolumes, NULL, pvn, &pv,
                     err);
  if (st != BERTH_OK)
    goto done;
  h = json_string_value(json_object_get(
      json_object_get(json_object_get(pv, "spec"), "csi"), "volumeHandle"));
  if (h == NULL || strncmp(h, "vol-", 4) != 0 || strlen(h) >= ATT_ID_MAX) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "attach: PV %s has no EBS volume handle", pvn);
    goto done;
  }
  snprintf(volume, ATT_ID_MAX, "%s", h);
  st = berth_k8s_get(a->k8s, &berth_k8s_res_nodes, NULL, node, &n, err);
  if (st != BERTH_OK)
    goto done;
  pid = json_string_value(
      json_object_get(json_object_get(n, "spec"), "providerID"));
  if (!prov_attacher_instance_id(pid, instance, ATT_ID_MAX))
    st = berth_error_set(err, BERTH_EINVAL,
                         "attach: node %s has no AWS spec.providerID", node);
done:
  json_decref(pv);
  json_decref(n);
  return st;
}

/* ---- EC2 side (backends/ebs_attach.c) -------------------------------- */

static berth_status_t att_attach(prov_attacher_t *a, const char *volume,
                                 const char *instance, char *device,
                                 berth_error_t *err)
{
  berth_ebs_attach_options_t o;

  memset(&o, 0, sizeof(o));
  o.timeout_ms = a->timeout_ms;
  o.reserve = att_reserve;
  o.release = att_release;
  o.ctx = a;
  return berth_ebs_attach(a->aws, volume, instance, &o, device, err);
}

static berth_status_t att_detach(prov_attacher_t *a, const char *volume,
                                 const char *instance, berth_error_t *err)
{
  berth_status_t st;

  st = berth_ebs_detach(a->aws, volume, instance, false, a->timeout_ms, NULL,
                        err);
  if (st == BERTH_OK)
    att_release(a, instance, volume);
  return st;
}

/* ---- reconcile --------------------------------------------------------- */

berth_status_t prov_attacher_sync(prov_attacher_t *a, const char *name,
                                  berth_error_t *err)
{
  json_t *va = NULL, *spec, *status;
  char volume[ATT_ID_MAX], instance[ATT_ID_MAX], device[ATT_DEV_MAX];
  const char *who;
  bool deleting, attached;
  berth_status_t st;

  st = berth_k8s_get(a->k8s, &berth_k8s_res_volumeattachments, NULL, name, &va,
                     err);
  if (st == BERTH_ENOTFOUND) {
    st = BERTH_OK;
    goto done;
  }
  if (st != BERTH_OK)
    goto done;
  spec = json_object_get(va, "spec");
  who = json_string_value(json_object_get(spec, "attacher"));
  if (who == NULL || strcmp(who, a->attacher) != 0)
    goto done;
  deleting = json_object_get(json_object_get(va, "metadata"),
                             "deletionTimestamp") != NULL;
  status = json_object_get(va, "status");
  attached = json_is_true(json_object_get(status, "attached"));
  if (deleting) {
    if (!att_has_finalizer(va, a->finalizer))
      goto done;
    st = att_ids(a, va, volume, instance, err);
    /* The PV or the node is gone: nothing can be attached through them. */
    if (st == BERTH_OK)
      st = att_detach(a, volume, instance, err);
    else if (st == BERTH_ENOTFOUND)
      st = BERTH_OK;
    if (st == BERTH_OK)
      st = att_set_finalizer(a, va, false, err);
    else
      att_record_error(a, name, false, err);
    if (st == BERTH_OK)
      berth_log(BERTH_LOG_INFO, "detached", "va", name, "volume", volume,
                "instance", instance, NULL);
    goto done;
  }
  if (!att_has_finalizer(va, a->finalizer)) {
    /* The finalizer before any EC2 call, so that a deletion always comes
     * back to us for the detach. Re-read after the patch. */
    st = att_set_finalizer(a, va, true, err);
    if (st == BERTH_OK)
      st = prov_attacher_sync(a, name, err);
    goto done;
  }
  st = att_ids(a, va, volume, instance, err);
  if (st == BERTH_OK)
    st = att_attach(a, volume, instance, device, err);
  if (st != BERTH_OK) {
    att_record_error(a, name, true, err);
    goto done;
  }
  if (!attached || json_object_get(status, "attachError") != NULL ||
      json_string_value(json_object_get(
          json_object_get(status, "attachmentMetadata"), "devicePath")) ==
          NULL) {
    json_t *s =
        json_pack("{s:b,s:{s:s},s:n}", "attached", 1, "attachmentMetadata",
                  "devicePath", device, "attachError");
    st = s != NULL ? att_status(a, name, s, err)
                   : berth_error_set(err, BERTH_ENOMEM, "out of memory");
    if (st == BERTH_OK)
      berth_log(BERTH_LOG_INFO, "attached", "va", name, "volume", volume,
                "instance", instance, "device", device, NULL);
  }
done:
  json_decref(va);
  return st;
}

/* ---- informer and worker ----------------------------------------------- */

static void att_enqueue(prov_attacher_t *a, const json_t *obj)
{
  const char *who = json_string_value(
      json_object_get(json_object_get(obj, "spec"), "attacher"));

  if (who != NULL && strcmp(who, a->attacher) == 0)
    prov_queue_add(a->queue, berth_k8s_obj_name(obj));
}

static void on_add(void *ctx, json_t *obj)
{
  att_enqueue(ctx, obj);
}

static void on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  att_enqueue(ctx, new_obj);
}

static void *att_run(void *arg)
{
  prov_attacher_t *a = arg;
  char *key;
  berth_error_t err;

  while (prov_queue_get(a->queue, &key)) {
    memset(&err, 0, sizeof(err));
    if (prov_attacher_sync(a, key, &err) == BERTH_OK) {
      prov_queue_forget(a->queue, key);
    } else {
      berth_log(BERTH_LOG_WARN, "attacher sync failed", "va", key, "error",
                err.message, NULL);
      prov_queue_add_rate_limited(a->queue, key, NULL);
    }
    prov_queue_done(a->queue, key);
    free(key);
  }
  return NULL;
}

berth_status_t prov_attacher_create(berth_k8s_client_t *k8s, berth_aws_t *aws,
                                    const prov_attacher_options_t *opts,
                                    prov_attacher_t **out, berth_error_t *err)
{
  prov_attacher_t *a = calloc(1, sizeof(*a));
  prov_queue_options_t qo;
  const char *name = opts != NULL && opts->attacher != NULL
                         ? opts->attacher
                         : PROV_ATTACHER_DEFAULT;

  if (a == NULL || (a->attacher = strdup(name)) == NULL) {
    free(a);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  a->k8s = k8s;
  a->aws = aws;
  a->timeout_ms = opts != NULL && opts->attach_timeout_ms > 0
                      ? opts->attach_timeout_ms
                      : 30000;
  prov_attacher_finalizer(name, a->finalizer, sizeof(a->finalizer));
  pthread_mutex_init(&a->lock, NULL);
  memset(&qo, 0, sizeof(qo));
  qo.base_delay_ms = 200;
  qo.max_delay_ms = 10000;
  if (prov_queue_create(&qo, &a->queue) != BERTH_OK) {
    prov_attacher_destroy(a);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  *out = a;
  return BERTH_OK;
}

berth_status_t prov_attacher_start(prov_attacher_t *a, berth_error_t *err)
{
  berth_k8s_informer_options_t o;
  berth_k8s_informer_handlers_t h = {on_add, on_update, NULL, a};
  berth_status_t st;

  memset(&o, 0, sizeof(o));
  o.resource = &berth_k8s_res_volumeattachments;
  o.resync_ms = 60000;
  /* Another attacher's VolumeAttachments are not cached at all. */
  o.transform = prov_trim_attachment;
  o.transform_ctx = a->attacher;
  st = berth_k8s_informer_create(a->k8s, &o, &h, &a->inf, err);
  if (st == BERTH_OK)
    st = berth_k8s_informer_start(a->inf, err);
  if (st != BERTH_OK)
    return st;
  if (pthread_create(&a->worker, NULL, att_run, a) != 0)
    return berth_error_set(err, BERTH_EINTERNAL, "cannot start a thread");
  a->started = true;
  return BERTH_OK;
}

void prov_attacher_destroy(prov_attacher_t *a)
{
  if (a == NULL)
    return;
  if (a->inf != NULL)
    berth_k8s_informer_stop(a->inf);
  if (a->queue != NULL)
    prov_queue_shutdown(a->queue);
  if (a->started)
    pthread_join(a->worker, NULL);
  berth_k8s_informer_destroy(a->inf);
  prov_queue_destroy(a->queue);
  pthread_mutex_destroy(&a->lock);
  free(a->resv);
  free(a->attacher);
  free(a);
}
