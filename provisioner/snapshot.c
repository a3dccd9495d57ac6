/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: VolumeSnapshotContents of ebs.csi.aws.com become EC2
 * snapshots; see snapshot.h. The protocol is the csi-snapshotter
 * sidecar's (kubernetes-csi/external-snapshotter, pkg/sidecar-controller:
 * syncContent, createSnapshot, checkandUpdateContentStatus,
 * deleteCSISnapshot); the EC2 half is aws-ebs-csi-driver's CreateSnapshot,
 * ListSnapshots and DeleteSnapshot. */
#include "snapshot.h"

#include "berth/aws_ec2.h"
#include "berth/clock.h"
#include "berth/k8s_informer.h"
#include "berth/log.h"

#include "backends/ebs.h"
#include "events.h"
#include "queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_GIB (1024ll * 1024 * 1024)

const berth_k8s_resource_t prov_res_volumesnapshots = {
    "snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", true};
const berth_k8s_resource_t prov_res_volumesnapshotcontents = {
    "snapshot.storage.k8s.io", "v1", "volumesnapshotcontents",
    "VolumeSnapshotContent", false};
const berth_k8s_resource_t prov_res_volumesnapshotclasses = {
    "snapshot.storage.k8s.io", "v1", "volumesnapshotclasses",
    "VolumeSnapshotClass", false};

struct prov_snapshotter {
  berth_k8s_client_t *k8s;
  berth_aws_t *aws;
  char *driver;
  char *cluster_id;
  json_t *extra_tags;
  prov_events_t *events;
  berth_k8s_informer_t *inf;
  prov_queue_t *queue;
  pthread_t worker;
  bool started;
};

void prov_snapshot_name(const char *uid, char *out, size_t size)
{
  snprintf(out, size, "snapshot-%s", uid != NULL ? uid : "");
}

/* ---- reading a content ------------------------------------------------- */

static json_t *spec_of(const json_t *c)
{
  return json_object_get(c, "spec");
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
  json_t *v = json_object_get(o, a);
  return json_string_value(b != NULL ? json_object_get(v, b) : v);
}

static const char *content_handle(const json_t *c)
{
  const char *h = str_at(json_object_get(c, "status"), "snapshotHandle", NULL);
  return h != NULL ? h : str_at(spec_of(c), "source", "snapshotHandle");
}

static bool has_finalizer(const json_t *obj, const char *f)
{
  json_t *v;
  size_t i;

  json_array_foreach(
      json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, v)
  {
    if (json_is_string(v) && strcmp(json_string_value(v), f) == 0)
      return true;
  }
  return false;
}

/* ---- writing ----------------------------------------------------------- */

static berth_status_t patch(prov_snapshotter_t *s, const char *name,
                            const char *sub, json_t *p, berth_error_t *err)
{
  berth_status_t st;

  if (p == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_patch(s->k8s, &prov_res_volumesnapshotcontents, NULL, name,
                       sub, BERTH_K8S_PATCH_MERGE, p, NULL, err);
  json_decref(p);
  return st;
}

/* Set (value) or remove (NULL) an annotation. */
static berth_status_t set_annotation(prov_snapshotter_t *s, const char *name,
                                     const char *key, const char *value,
                                     berth_error_t *err)
{
  return patch(s, name, NULL,
               json_pack("{s:{s:{s:o}}}", "metadata", "annotations", key,
                         value != NULL ? json_string(value) : json_null()),
               err);
}

/* Drop our finalizer: the list without it, conditional on the version
 * read (a conflict is retried by the queue). */
static berth_status_t drop_finalizer(prov_snapshotter_t *s, const json_t *c,
                                     berth_error_t *err)
{
  json_t *fs = json_array(), *v;
  size_t i;

  json_array_foreach(
      json_object_get(json_object_get(c, "metadata"), "finalizers"), i, v)
  {
    if (!json_is_string(v) ||
        strcmp(json_string_value(v), PROV_SNAP_FINALIZER) != 0)
      json_array_append(fs, v);
  }
  return patch(s, berth_k8s_obj_name(c), NULL,
               json_pack("{s:{s:o,s:s}}", "metadata", "finalizers", fs,
                         "resourceVersion", berth_k8s_obj_resource_version(c)),
               err);
}

static void now_rfc3339(char *out, size_t size)
{
  berth_time_format_rfc3339(berth_clock_realtime_ms(NULL), out, size);
}

/* status.error and a Warning Event, as the sidecar's updateContentErrorStatus
 * with reason SnapshotCreationFailed (or SnapshotDeleteError). */
static void record_error(prov_snapshotter_t *s, const json_t *c,
                         const char *reason, const berth_error_t *cause)
{
  char now[40];
  berth_error_t err;
  const char *msg = cause->message[0] != '\0' ? cause->message
                                              : berth_strerror(cause->status);

  now_rfc3339(now, sizeof(now));
  if (patch(s, berth_k8s_obj_name(c), "status",
            json_pack("{s:{s:{s:s,s:s}}}", "status", "error", "time", now,
                      "message", msg),
            &err) != BERTH_OK)
    berth_log(BERTH_LOG_WARN, "cannot record the snapshot error", "content",
              berth_k8s_obj_name(c), "error", err.message, NULL);
  prov_events_emit(s->events, c, &prov_res_volumesnapshotcontents, "Warning",
                   reason, "%s", msg);
}

/* status from an EC2 snapshot: snapshotHandle, creationTime (ns since the
 * epoch), restoreSize (bytes), readyToUse; error cleared. */
static berth_status_t write_status(prov_snapshotter_t *s, const char *name,
                                   const berth_ec2_snapshot_t *snap,
                                   berth_error_t *err)
{
  bool ready = snap->state != NULL && strcmp(snap->state, "completed") == 0;

  return patch(s, name, "status",
               json_pack("{s:{s:s,s:I,s:I,s:b,s:n}}", "status",
                         "snapshotHandle", snap->snapshot_id, "creationTime",
                         (json_int_t)snap->start_time_ms * 1000000,
                         "restoreSize",
                         (json_int_t)snap->volume_size_gib * SNAP_GIB,
                         "readyToUse", ready, "error"),
               err);
}

/* ---- EC2 --------------------------------------------------------------- */

/* The snapshot tagged CSIVolumeSnapshotName=name, if any (ENOTFOUND). */
static berth_status_t find_by_name(prov_snapshotter_t *s, const char *name,
                                   berth_ec2_snapshot_t *out,
                                   berth_error_t *err)
{
  const char *vals[1] = {name};
  berth_ec2_filter_t f = {"tag:" PROV_SNAP_TAG_NAME, vals, 1};
  berth_ec2_describe_params_t p;
  berth_ec2_snapshot_list_t l;
  berth_status_t st;

  memset(&p, 0, sizeof(p));
  p.filters = &f;
  p.filter_count = 1;
  st = berth_ec2_describe_snapshots(s->aws, &p, &l, err);
  if (st != BERTH_OK)
    return st;
  if (l.count == 0) {
    st = BERTH_ENOTFOUND;
  } else {
    *out = l.items[0];
    memset(&l.items[0], 0, sizeof(l.items[0]));
  }
  berth_ec2_snapshot_list_cleanup(&l);
  return st;
}

/* The content's class parameters (new reference; an empty object without
 * a class). */
static berth_status_t class_parameters(prov_snapshotter_t *s, const json_t *c,
                                       json_t **out, berth_error_t *err)
{
  const char *cls = str_at(spec_of(c), "volumeSnapshotClassName", NULL);
  json_t *obj = NULL;
  berth_status_t st;

  if (cls == NULL) {
    *out = json_object();
    return BERTH_OK;
  }
  st = berth_k8s_get(s->k8s, &prov_res_volumesnapshotclasses, NULL, cls, &obj,
                     err);
  if (st != BERTH_OK)
    return st;
  *out = json_incref(json_object_get(obj, "parameters"));
  if (*out == NULL)
    *out = json_object();
  json_decref(obj);
  return BERTH_OK;
}

/* CreateSnapshot (or find the one an earlier attempt made). */
static berth_status_t cut(prov_snapshotter_t *s, const json_t *c,
                          const char *volume, berth_ec2_snapshot_t *out,
                          berth_error_t *err)
{
  json_t *ref = json_object_get(spec_of(c), "volumeSnapshotRef");
  const char *uid = str_at(ref, "uid", NULL);
  json_t *params = NULL, *tags = NULL, *v;
  berth_aws_kv_t kv[80];
  berth_ec2_create_snapshot_params_t cp;
  char name[128], desc[160];
  const char *key;
  size_t n = 0;
  berth_status_t st;

  if (uid == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "spec.volumeSnapshotRef.uid is not set");
  prov_snapshot_name(uid, name, sizeof(name));
  st = find_by_name(s, name, out, err);
  if (st == BERTH_OK) {
    if (out->volume_id == NULL || strcmp(out->volume_id, volume) != 0) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "snapshot %s already exists for another volume "
                           "(%s)",
                           name, out->volume_id ? out->volume_id : "?");
      berth_ec2_snapshot_cleanup(out);
    }
    return st;
  }
  if (st != BERTH_ENOTFOUND)
    return st;
  st = class_parameters(s, c, &params, err);
  if (st == BERTH_OK)
    st = prov_snapshot_class_check(params, err);
  if (st == BERTH_OK)
    st = prov_snapshot_tags(
        name, s->cluster_id, s->extra_tags, params, str_at(ref, "name", NULL),
        str_at(ref, "namespace", NULL), berth_k8s_obj_name(c), &tags, err);
  if (st != BERTH_OK)
    goto done;
  json_object_foreach(tags, key, v)
  {
    if (n < sizeof(kv) / sizeof(kv[0]))
      kv[n++] = (berth_aws_kv_t){key, json_string_value(v)};
  }
  snprintf(desc, sizeof(desc), "Created by berth-provisioner for volume %s",
           volume);
  memset(&cp, 0, sizeof(cp));
  cp.volume_id = volume;
  cp.description = desc;
  json_object_foreach(params, key, v)
  {
    if (strcasecmp(key, "outpostArn") == 0)
      cp.outpost_arn = json_string_value(v);
  }
  cp.tags = kv;
  cp.tag_count = n;
  st = berth_ec2_create_snapshot(s->aws, &cp, out, err);
  if (st == BERTH_OK)
    berth_log(BERTH_LOG_INFO, "snapshot created", "content",
              berth_k8s_obj_name(c), "snapshot", out->snapshot_id, "volume",
              volume, NULL);
done:
  json_decref(tags);
  json_decref(params);
  return st;
}

/* ---- the steps --------------------------------------------------------- */

/* Dynamic: cut the snapshot, then write its status. */
static berth_status_t create_step(prov_snapshotter_t *s, const json_t *c,
                                  bool *pending, berth_error_t *err)
{
  const char *name = berth_k8s_obj_name(c);
  const char *volume = str_at(spec_of(c), "source", "volumeHandle");
  berth_ec2_snapshot_t snap;
  berth_status_t st = BERTH_OK;

  memset(&snap, 0, sizeof(snap));
  if (berth_k8s_obj_annotation(c, PROV_SNAP_ANN_BEING_CREATED) == NULL)
    st = set_annotation(s, name, PROV_SNAP_ANN_BEING_CREATED, "yes", err);
  if (st == BERTH_OK)
    st = cut(s, c, volume, &snap, err);
  if (st == BERTH_OK)
    st = write_status(s, name, &snap, err);
  if (st == BERTH_OK) {
    *pending = snap.state == NULL || strcmp(snap.state, "completed") != 0;
    st = set_annotation(s, name, PROV_SNAP_ANN_BEING_CREATED, NULL, err);
  } else if (st == BERTH_EINVAL) {
    /* A request that will never work: the sidecar removes the annotation
     * too, so that the snapshot controller may delete the content. */
    berth_error_t aerr;
    set_annotation(s, name, PROV_SNAP_ANN_BEING_CREATED, NULL, &aerr);
  }
  berth_ec2_snapshot_cleanup(&snap);
  return st;
}

/* Not ready yet, or pre-provisioned: DescribeSnapshots, then status. */
static berth_status_t check_step(prov_snapshotter_t *s, const json_t *c,
                                 const char *handle, bool *pending,
                                 berth_error_t *err)
{
  berth_ec2_snapshot_t snap;
  berth_status_t st;

  memset(&snap, 0, sizeof(snap));
  st = berth_ec2_describe_snapshot(s->aws, handle, &snap, err);
  if (st == BERTH_ENOTFOUND)
    st = berth_error_set(err, BERTH_ENOTFOUND,
                         "snapshot %s does not exist in EC2", handle);
  if (st == BERTH_OK)
    st = write_status(s, berth_k8s_obj_name(c), &snap, err);
  if (st == BERTH_OK)
    *pending = snap.state == NULL || strcmp(snap.state, "completed") != 0;
  berth_ec2_snapshot_cleanup(&snap);
  return st;
}

/* The sidecar's shouldDelete: a content being deleted that the snapshot
 * controller marked, or a pre-provisioned one bound to nothing. */
static bool should_delete(const json_t *c)
{
  json_t *spec = spec_of(c);

  if (json_object_get(json_object_get(c, "metadata"), "deletionTimestamp") ==
      NULL)
    return false;
  if (str_at(spec, "source", "snapshotHandle") != NULL &&
      str_at(spec, "volumeSnapshotRef", "uid") == NULL)
    return true;
  return berth_k8s_obj_annotation(c, PROV_SNAP_ANN_BEING_DELETED) != NULL;
}

static berth_status_t delete_step(prov_snapshotter_t *s, const json_t *c,
                                  berth_error_t *err)
{
  const char *policy = str_at(spec_of(c), "deletionPolicy", NULL);
  const char *handle = content_handle(c);
  const char *uid = str_at(spec_of(c), "volumeSnapshotRef", "uid");
  berth_ec2_snapshot_t found;
  json_t *fresh = NULL;
  bool cleared = false;
  char name[128];
  berth_status_t st = BERTH_OK;

  memset(&found, 0, sizeof(found));
  if (policy != NULL && strcmp(policy, "Delete") == 0) {
    /* A dynamic content that lost its status (or never got it: a crash
     * after CreateSnapshot) is found by its name tag. */
    if (handle == NULL && uid != NULL &&
        str_at(spec_of(c), "source", "volumeHandle") != NULL) {
      prov_snapshot_name(uid, name, sizeof(name));
      st = find_by_name(s, name, &found, err);
      if (st == BERTH_ENOTFOUND)
        st = BERTH_OK;
      handle = found.snapshot_id;
    }
    if (st == BERTH_OK && handle != NULL) {
      st = berth_ec2_delete_snapshot(s->aws, handle, err);
      if (st == BERTH_ENOTFOUND)
        st = BERTH_OK;
      if (st == BERTH_OK) {
        berth_log(BERTH_LOG_INFO, "snapshot deleted", "content",
                  berth_k8s_obj_name(c), "snapshot", handle, NULL);
        if (json_object_get(json_object_get(c, "status"), "snapshotHandle")) {
          st = patch(s, berth_k8s_obj_name(c), "status",
                     json_pack("{s:{s:n,s:b}}", "status", "snapshotHandle",
                               "readyToUse", 0),
                     err);
          cleared = st == BERTH_OK;
        }
      }
    }
  }
  /* The status patch moved the version: the finalizer patch is
   * conditional on the object as it is now. */
  if (st == BERTH_OK && cleared) {
    st = berth_k8s_get(s->k8s, &prov_res_volumesnapshotcontents, NULL,
                       berth_k8s_obj_name(c), &fresh, err);
    c = fresh;
  }
  if (st == BERTH_OK && has_finalizer(c, PROV_SNAP_FINALIZER))
    st = drop_finalizer(s, c, err);
  if (st == BERTH_ENOTFOUND)
    st = BERTH_OK;
  json_decref(fresh);
  berth_ec2_snapshot_cleanup(&found);
  return st;
}

berth_status_t prov_snapshotter_sync(prov_snapshotter_t *s, const char *name,
                                     bool *pending, berth_error_t *err)
{
  json_t *c = NULL;
  const char *driver;
  berth_status_t st;
  json_t *status;

  *pending = false;
  st = berth_k8s_get(s->k8s, &prov_res_volumesnapshotcontents, NULL, name, &c,
                     err);
  if (st == BERTH_ENOTFOUND)
    return BERTH_OK;
  if (st != BERTH_OK)
    return st;
  driver = str_at(spec_of(c), "driver", NULL);
  if (driver == NULL || strcmp(driver, s->driver) != 0)
    goto done;
  status = json_object_get(c, "status");
  if (json_object_get(json_object_get(c, "metadata"), "deletionTimestamp")) {
    if (should_delete(c)) {
      st = delete_step(s, c, err);
      if (st != BERTH_OK)
        record_error(s, c, "SnapshotDeleteError", err);
    }
    goto done;
  }
  if (json_is_true(json_object_get(status, "readyToUse"))) {
    if (berth_k8s_obj_annotation(c, PROV_SNAP_ANN_BEING_CREATED) != NULL)
      st = set_annotation(s, name, PROV_SNAP_ANN_BEING_CREATED, NULL, err);
    goto done;
  }
  if (content_handle(c) != NULL)
    st = check_step(s, c, content_handle(c), pending, err);
  else if (str_at(spec_of(c), "source", "volumeHandle") != NULL)
    st = create_step(s, c, pending, err);
  else
    st = berth_error_set(err, BERTH_EINVAL,
                         "spec.source has neither volumeHandle nor "
                         "snapshotHandle");
  if (st != BERTH_OK)
    record_error(s, c,
                 content_handle(c) != NULL
                     ? "SnapshotContentCheckandUpdateFailed"
                     : "SnapshotCreationFailed",
                 err);
done:
  json_decref(c);
  return st;
}

/* ---- informer and worker ----------------------------------------------- */

static void enqueue(prov_snapshotter_t *s, const json_t *obj)
{
  const char *d = str_at(spec_of(obj), "driver", NULL);

  if (d != NULL && strcmp(d, s->driver) == 0)
    prov_queue_add(s->queue, berth_k8s_obj_name(obj));
}

static void on_add(void *ctx, json_t *obj)
{
  enqueue(ctx, obj);
}

static void on_update(void *ctx, json_t *old_obj, json_t *new_obj)
{
  (void)old_obj;
  enqueue(ctx, new_obj);
}

static void *run(void *arg)
{
  prov_snapshotter_t *s = arg;
  char *key;
  berth_error_t err;
  bool pending;

  while (prov_queue_get(s->queue, &key)) {
    memset(&err, 0, sizeof(err));
    if (prov_snapshotter_sync(s, key, &pending, &err) != BERTH_OK) {
      berth_log(BERTH_LOG_WARN, "snapshot sync failed", "content", key, "error",
                err.message, NULL);
      prov_queue_add_rate_limited(s->queue, key, NULL);
    } else {
      prov_queue_forget(s->queue, key);
      /* EBS snapshots take seconds to minutes: look again. */
      if (pending)
        prov_queue_add_after(s->queue, key, 500);
    }
    prov_queue_done(s->queue, key);
    free(key);
  }
  return NULL;
}

berth_status_t prov_snapshotter_create(berth_k8s_client_t *k8s,
                                       berth_aws_t *aws,
                                       const prov_snapshotter_options_t *opts,
                                       prov_snapshotter_t **out,
                                       berth_error_t *err)
{
  prov_snapshotter_t *s = calloc(1, sizeof(*s));
  prov_queue_options_t qo;
  const char *driver =
      opts != NULL && opts->driver != NULL ? opts->driver : PROV_SNAP_DRIVER;
  berth_status_t st;

  if (s == NULL || (s->driver = strdup(driver)) == NULL) {
    free(s);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  s->k8s = k8s;
  s->aws = aws;
  if (opts != NULL && opts->cluster_id != NULL &&
      (s->cluster_id = strdup(opts->cluster_id)) == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto fail;
  }
  st = berth_ebs_parse_extra_tags(opts != NULL ? opts->extra_tags : NULL,
                                  &s->extra_tags, err);
  if (st != BERTH_OK)
    goto fail;
  memset(&qo, 0, sizeof(qo));
  qo.base_delay_ms = 200;
  qo.max_delay_ms = 10000;
  st = prov_queue_create(&qo, &s->queue);
  if (st == BERTH_OK)
    st = prov_events_create(
        k8s, "berth-provisioner", 256, opts != NULL ? opts->api_qps : 0,
        opts != NULL ? opts->api_burst : 0, &s->events, err);
  if (st != BERTH_OK)
    goto fail;
  *out = s;
  return BERTH_OK;
fail:
  prov_snapshotter_destroy(s);
  return st;
}

berth_status_t prov_snapshotter_start(prov_snapshotter_t *s, berth_error_t *err)
{
  berth_k8s_informer_options_t o;
  berth_k8s_informer_handlers_t h = {on_add, on_update, NULL, s};
  berth_status_t st;

  memset(&o, 0, sizeof(o));
  o.resource = &prov_res_volumesnapshotcontents;
  o.resync_ms = 60000;
  st = berth_k8s_informer_create(s->k8s, &o, &h, &s->inf, err);
  if (st == BERTH_OK)
    st = berth_k8s_informer_start(s->inf, err);
  if (st != BERTH_OK)
    return st;
  if (pthread_create(&s->worker, NULL, run, s) != 0)
    return berth_error_set(err, BERTH_EINTERNAL, "cannot start a thread");
  s->started = true;
  return BERTH_OK;
}

void prov_snapshotter_destroy(prov_snapshotter_t *s)
{
  if (s == NULL)
    return;
  if (s->inf != NULL)
    berth_k8s_informer_stop(s->inf);
  if (s->queue != NULL)
    prov_queue_shutdown(s->queue);
  if (s->started)
    pthread_join(s->worker, NULL);
  berth_k8s_informer_destroy(s->inf);
  prov_queue_destroy(s->queue);
  prov_events_destroy(s->events, 1000);
  json_decref(s->extra_tags);
  free(s->cluster_id);
  free(s->driver);
  free(s);
}
