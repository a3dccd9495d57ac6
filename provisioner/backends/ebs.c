/* SPDX-License-Identifier: Apache-2.0 */
/* The EBS backend: the vtable of backends/backend.h over EC2 volumes (see
 * backends/ebs.h for the parameters and guarantees).
 *
 * Provision: parameters and the claim's shape (access modes, Block) ->
 * zone (the selected node's topology labels, else req->zones) ->
 * find a disk already tagged for this PV, or CreateVolume with a
 * ClientToken derived from the PV name (EC2's idempotency:
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html)
 * -> poll DescribeVolumes until "available", bounded -> a csi PV source
 * and a nodeAffinity for the zone.
 *
 * Delete: the volume id from spec.csi.volumeHandle -> wait (bounded) for
 * it to be detached -> DeleteVolume; InvalidVolume.NotFound is done. */
#include "backends/ebs.h"
#include "backends/ebs_records.h"

#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "berth/buf.h"
#include "berth/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EBS_GIB (1024ull * 1024 * 1024)
#define EBS_TAG_VALUE_MAX 256

typedef struct ebsb_backend {
  berth_backend_t base; /* first: the vtable */
  berth_aws_t *aws;
  char *cluster_tag;  /* "kubernetes.io/cluster/<id>", or NULL */
  char *cluster_id;   /* <id>, or NULL */
  json_t *extra_tags; /* --extra-tags, an object of strings */
  int create_timeout_ms;
  int delete_timeout_ms;
  berth_ebs_records_t *records; /* the sweep's cursor (ebs_records.c) */
} ebsb_backend_t;

/* ---- validate ---------------------------------------------------------- */

static berth_status_t
ebsb_validate(berth_backend_t *be, const json_t *parameters, berth_error_t *err)
{
  berth_ebs_params_t p;

  (void)be;
  return berth_ebs_params_parse(parameters, &p, err);
}

static berth_status_t ebsb_check_claim(berth_backend_t *be,
                                       const berth_provision_request_t *req,
                                       berth_error_t *err)
{
  berth_ebs_params_t p;
  berth_status_t st;

  (void)be;
  st = berth_ebs_params_parse(req->parameters, &p, err);
  if (st == BERTH_OK)
    st = berth_ebs_check_claim(&p, req->access_modes, req->block, err);
  return st;
}

/* ---- provision --------------------------------------------------------- */

/* The zone for the disk. WaitForFirstConsumer: the selected node's.
 * Immediate: one of req->zones (the class's allowedTopologies, else the
 * zones of the cluster's nodes: the external provisioner's requisite
 * topology), spread by claim name as it spreads its preferred topology;
 * with no zone known at all, the region's first zone. A node without a
 * zone label is a node choice the scheduler should make again. */
static berth_status_t ebsb_zone(ebsb_backend_t *b,
                                const berth_provision_request_t *req, char *out,
                                size_t size, berth_error_t *err)
{
  const char *z;
  berth_status_t st;

  if (req->selected_node == NULL) {
    if (req->n_zones > 0)
      snprintf(out, size, "%s",
               berth_ebs_pick_zone(req->zones, req->n_zones, req->claim_name));
    else
      snprintf(out, size, "%sa", berth_aws_region(b->aws));
    return BERTH_OK;
  }
  if (req->node == NULL)
    return berth_error_set(err, BERTH_EUNAVAILABLE,
                           "ebs: the selected node \"%.100s\" could not be "
                           "read",
                           req->selected_node);
  z = berth_ebs_node_zone(req->node);
  if (z == NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: the selected node \"%.100s\" has no zone "
                         "label (" BERTH_EBS_TOPOLOGY_KEY
                         " or topology.kubernetes.io/zone)",
                         req->selected_node);
    berth_error_set_reason(err, BERTH_REASON_NODE_CHOICE);
    return st;
  }
  if (strlen(z) >= size)
    return berth_error_set(err, BERTH_EINVAL, "ebs: zone label too long");
  snprintf(out, size, "%s", z);
  return BERTH_OK;
}

/* A disk already made for pv_name (tag CSIVolumeName), not being deleted.
 * BERTH_ENOTFOUND when there is none. */
static berth_status_t ebsb_find(ebsb_backend_t *b, const char *pv_name,
                                berth_ec2_volume_t *out, berth_error_t *err)
{
  const char *values[] = {pv_name};
  berth_ec2_filter_t f = {"tag:" BERTH_EBS_TAG_VOLUME_NAME, values, 1};
  berth_ec2_describe_params_t dp;
  berth_ec2_volume_list_t l;
  berth_status_t st;
  size_t i;

  memset(&dp, 0, sizeof(dp));
  memset(&l, 0, sizeof(l));
  dp.filters = &f;
  dp.filter_count = 1;
  st = berth_ec2_describe_volumes(b->aws, &dp, &l, err);
  if (st != BERTH_OK)
    return st;
  st = BERTH_ENOTFOUND;
  for (i = 0; i < l.count; i++) {
    const char *s = l.items[i].state;
    if (s != NULL && (strcmp(s, "deleting") == 0 || strcmp(s, "deleted") == 0 ||
                      strcmp(s, "error") == 0))
      continue;
    *out = l.items[i];
    memset(&l.items[i], 0, sizeof(l.items[i]));
    st = BERTH_OK;
    break;
  }
  berth_ec2_volume_list_cleanup(&l);
  return st;
}

#define EBS_MAX_TAGS (12 + BERTH_EBS_MAX_EXTRA_TAGS + 50)

/* The tags every disk gets, as the driver sets them: its own, the claim's
 * (--extra-create-metadata), the cluster's (--cluster-id / --k8s-tag-
 * cluster-id), allowAutoIOPSIncreaseOnModify's, then --extra-tags. */
static size_t ebsb_base_tags(ebsb_backend_t *b,
                             const berth_provision_request_t *req,
                             const berth_ebs_params_t *p, char *name_tag,
                             size_t name_size, char *ratio, size_t ratio_size,
                             berth_aws_kv_t *tags)
{
  size_t n = 0;
  const char *k;
  json_t *v;

  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_VOLUME_NAME, req->pv_name};
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_PVC_NAME, req->claim_name};
  tags[n++] =
      (berth_aws_kv_t){BERTH_EBS_TAG_PVC_NAMESPACE, req->claim_namespace};
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_PV_NAME, req->pv_name};
  tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_CLUSTER, "true"};
  if (b->cluster_tag != NULL) {
    snprintf(name_tag, name_size, "%s-dynamic-%s", b->cluster_id, req->pv_name);
    tags[n++] = (berth_aws_kv_t){b->cluster_tag, "owned"};
    tags[n++] = (berth_aws_kv_t){"Name", name_tag};
    tags[n++] = (berth_aws_kv_t){"KubernetesCluster", b->cluster_id};
    /* The sweep's record until the PV is saved (ebs_records.h). */
    tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_PROVISIONING, req->claim_uid};
  }
  if (p->allow_iops_increase_on_modify && p->iops_per_gb != 0) {
    snprintf(ratio, ratio_size, "%lld", (long long)p->iops_per_gb);
    tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_AUTO_IOPS, "true"};
    tags[n++] = (berth_aws_kv_t){BERTH_EBS_TAG_IOPS_PER_GB, ratio};
  }
  json_object_foreach(b->extra_tags, k, v)
  {
    if (n >= 12 + 50)
      break;
    tags[n++] = (berth_aws_kv_t){k, json_string_value(v)};
  }
  return n;
}

/* CreateVolume with the claim's tags and the PV's ClientToken. */
static berth_status_t ebsb_create(ebsb_backend_t *b,
                                  const berth_provision_request_t *req,
                                  const berth_ebs_params_t *p, const char *zone,
                                  berth_ec2_volume_t *out, berth_error_t *err)
{
  berth_aws_kv_t tags[EBS_MAX_TAGS];
  char keys[BERTH_EBS_MAX_EXTRA_TAGS][128];
  char vals[BERTH_EBS_MAX_EXTRA_TAGS][EBS_TAG_VALUE_MAX];
  char name_tag[256], ratio[32];
  berth_ec2_create_volume_params_t cp;
  char token[65];
  size_t n, i;
  berth_status_t st;

  n = ebsb_base_tags(b, req, p, name_tag, sizeof(name_tag), ratio,
                     sizeof(ratio), tags);
  for (i = 0; i < p->n_tag_specs; i++) {
    const char *spec = p->tag_specs[i], *eq = strchr(spec, '=');
    size_t kl = (size_t)(eq - spec);
    if (kl >= sizeof(keys[i]))
      return berth_error_set(err, BERTH_EINVAL,
                             "ebs: tagSpecification key too long: \"%.60s\"",
                             spec);
    memcpy(keys[i], spec, kl);
    keys[i][kl] = '\0';
    st = berth_ebs_expand(eq + 1, req->claim_name, req->claim_namespace,
                          req->pv_name, vals[i], sizeof(vals[i]), err);
    if (st != BERTH_OK)
      return st;
    tags[n++] = (berth_aws_kv_t){keys[i], vals[i]};
  }
  berth_ebs_client_token(req->pv_name, token);
  memset(&cp, 0, sizeof(cp));
  cp.availability_zone = zone;
  cp.size_gib = berth_ebs_size_gib(p, req->requested_bytes);
  /* A restore: the snapshot's data, on a disk at least as large (EC2
   * refuses a smaller one). Snapshots are regional, so the zone chosen
   * above stands. */
  if (req->snapshot_id != NULL) {
    int64_t snap_gib = berth_ebs_size_gib(p, req->snapshot_bytes);
    cp.snapshot_id = req->snapshot_id;
    if (snap_gib > cp.size_gib)
      cp.size_gib = snap_gib;
    cp.volume_initialization_rate = p->volume_initialization_rate;
  }
  cp.volume_type = p->type;
  st = berth_ebs_iops(p, cp.size_gib, &cp.iops, err);
  if (st != BERTH_OK)
    return st;
  cp.throughput = p->throughput;
  cp.encrypted = p->encrypted;
  cp.kms_key_id = p->kms_key_id;
  cp.outpost_arn = p->outpost_arn;
  /* ReadWriteMany Block on io1/io2 (berth_ebs_check_claim refused the
   * rest): Multi-Attach, as the driver for MULTI_NODE_MULTI_WRITER. */
  cp.multi_attach_enabled =
      req->block && (req->access_modes & BERTH_ACCESS_RWX) != 0;
  cp.client_token = token;
  cp.tags = tags;
  cp.tag_count = n;
  return berth_ec2_create_volume(b->aws, &cp, out, err);
}

/* Poll until the volume is available, with a growing pause (100 ms to
 * 1 s) and a deadline. *vol is replaced by the last description. */
static berth_status_t ebsb_wait_available(ebsb_backend_t *b,
                                          berth_ec2_volume_t *vol,
                                          berth_error_t *err)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + b->create_timeout_ms;
  int64_t pause = 100;
  char id[64];
  berth_status_t st = BERTH_OK;

  snprintf(id, sizeof(id), "%s", vol->volume_id != NULL ? vol->volume_id : "");
  for (;;) {
    berth_ec2_volume_t v;
    const char *s = vol->state != NULL ? vol->state : "";
    if (strcmp(s, "available") == 0 || strcmp(s, "in-use") == 0)
      break;
    if (strcmp(s, "creating") != 0) {
      st = berth_error_set(err, BERTH_EIO,
                           "ebs: volume %s is %s, not available", id, s);
      break;
    }
    if (berth_clock_monotonic_ms(NULL) >= deadline) {
      st = berth_error_set(err, BERTH_ETIMEOUT,
                           "ebs: volume %s still creating after %d ms", id,
                           b->create_timeout_ms);
      break;
    }
    berth_clock_sleep_ms(NULL, pause);
    pause = pause * 2 > 1000 ? 1000 : pause * 2;
    memset(&v, 0, sizeof(v));
    st = berth_ec2_describe_volume(b->aws, id, &v, err);
    /* Describe may lag CreateVolume (eventual consistency): keep waiting. */
    if (st == BERTH_ENOTFOUND)
      continue;
    if (st != BERTH_OK)
      break;
    berth_ec2_volume_cleanup(vol);
    *vol = v;
  }
  return st;
}

static json_t *ebsb_affinity(const char *zone)
{
  return json_pack("{s:{s:[{s:[{s:s,s:s,s:[s]}]},{s:[{s:s,s:s,s:[s]}]}]}}",
                   "required", "nodeSelectorTerms", "matchExpressions", "key",
                   BERTH_EBS_TOPOLOGY_KEY, "operator", "In", "values", zone,
                   "matchExpressions", "key", "topology.kubernetes.io/zone",
                   "operator", "In", "values", zone);
}

/* The PV's csi source: the driver, the volume, the fsType (file systems
 * only, as the external provisioner) and the mkfs options for the node
 * plugin. New reference, NULL when out of memory. */
static json_t *ebsb_source(const berth_ebs_params_t *p, bool block,
                           const char *volume_id)
{
  json_t *attrs = berth_ebs_volume_attributes(p);
  json_t *csi = json_pack("{s:s,s:s}", "driver", BERTH_EBS_DRIVER,
                          "volumeHandle", volume_id);
  int rc = attrs == NULL || csi == NULL;

  if (rc == 0 && !block)
    rc |= json_object_set_new(csi, "fsType", json_string(p->fstype));
  if (rc == 0 && json_object_size(attrs) > 0)
    rc |= json_object_set(csi, "volumeAttributes", attrs);
  json_decref(attrs);
  if (rc != 0) {
    json_decref(csi);
    return NULL;
  }
  return json_pack("{s:o}", "csi", csi);
}

static berth_status_t ebsb_provision(berth_backend_t *be,
                                     const berth_provision_request_t *req,
                                     berth_provision_result_t *out,
                                     berth_error_t *err)
{
  ebsb_backend_t *b = (ebsb_backend_t *)be;
  berth_ebs_params_t p;
  berth_ec2_volume_t vol;
  berth_provision_result_t res;
  char zone[128];
  const char *vz;
  berth_status_t st;

  memset(&vol, 0, sizeof(vol));
  berth_provision_result_init(&res);
  st = berth_ebs_params_parse(req->parameters, &p, err);
  if (st == BERTH_OK)
    st = berth_ebs_check_claim(&p, req->access_modes, req->block, err);
  if (st == BERTH_OK)
    st = ebsb_zone(b, req, zone, sizeof(zone), err);
  if (st != BERTH_OK)
    goto done;
  st = ebsb_find(b, req->pv_name, &vol, err);
  if (st == BERTH_ENOTFOUND)
    st = ebsb_create(b, req, &p, zone, &vol, err);
  if (st == BERTH_OK)
    st = ebsb_wait_available(b, &vol, err);
  if (st != BERTH_OK)
    goto done;
  vz = vol.availability_zone != NULL ? vol.availability_zone : zone;
  res.source = ebsb_source(&p, req->block, vol.volume_id);
  res.annotations = json_pack("{s:s,s:s}", BERTH_EBS_ANN_VOLUME_ID,
                              vol.volume_id, BERTH_EBS_ANN_ZONE, vz);
  res.node_affinity = ebsb_affinity(vz);
  res.capacity_bytes = (uint64_t)vol.size_gib * EBS_GIB;
  if (res.source == NULL || res.annotations == NULL ||
      res.node_affinity == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  *out = res;
  berth_provision_result_init(&res);
done:
  berth_provision_result_cleanup(&res);
  berth_ec2_volume_cleanup(&vol);
  return st;
}

/* ---- delete ------------------------------------------------------------ */

const char *berth_ebs_pv_volume_id(const json_t *pv)
{
  json_t *csi = json_object_get(json_object_get(pv, "spec"), "csi");
  const char *drv = json_string_value(json_object_get(csi, "driver"));
  const char *id = json_string_value(json_object_get(csi, "volumeHandle"));
  json_t *ann = json_object_get(json_object_get(pv, "metadata"), "annotations");

  json_t *intree =
      json_object_get(json_object_get(pv, "spec"), "awsElasticBlockStore");
  const char *slash;

  if (drv != NULL && strcmp(drv, BERTH_EBS_DRIVER) == 0 && id != NULL)
    return id;
  /* An in-tree kubernetes.io/aws-ebs PV handed over to us
   * (pv.kubernetes.io/migrated-to): volumeID is "vol-..." or
   * "aws://<zone>/vol-...", as the CSI migration translator reads it. */
  id = json_string_value(json_object_get(intree, "volumeID"));
  if (id != NULL) {
    slash = strrchr(id, '/');
    return slash != NULL ? slash + 1 : id;
  }
  return json_string_value(json_object_get(ann, BERTH_EBS_ANN_VOLUME_ID));
}

static bool ebsb_attached(const berth_ec2_volume_t *v)
{
  return v->attachment_count > 0 ||
         (v->state != NULL && strcmp(v->state, "in-use") == 0);
}

static berth_status_t ebsb_delete(berth_backend_t *be,
                                  const berth_delete_request_t *req,
                                  berth_delete_outcome_t *out,
                                  berth_error_t *err)
{
  ebsb_backend_t *b = (ebsb_backend_t *)be;
  const char *id = berth_ebs_pv_volume_id(req->pv);
  int64_t deadline = berth_clock_monotonic_ms(NULL) + b->delete_timeout_ms;
  int64_t pause = 100;
  berth_delete_outcome_t outcome = BERTH_DELETE_DELETED;
  berth_status_t st;

  if (id == NULL || strncmp(id, "vol-", 4) != 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: the PV has no EBS volume handle");
    goto done;
  }
  for (;;) {
    berth_ec2_volume_t v;
    bool attached;
    memset(&v, 0, sizeof(v));
    st = berth_ec2_describe_volume(b->aws, id, &v, err);
    if (st == BERTH_ENOTFOUND) {
      outcome = BERTH_DELETE_ABSENT;
      st = BERTH_OK;
      break;
    }
    if (st != BERTH_OK)
      break;
    attached = ebsb_attached(&v);
    if (v.state != NULL && strcmp(v.state, "deleting") == 0) {
      berth_ec2_volume_cleanup(&v);
      break;
    }
    berth_ec2_volume_cleanup(&v);
    if (!attached) {
      st = berth_ec2_delete_volume(b->aws, id, err);
      if (st == BERTH_ENOTFOUND) {
        outcome = BERTH_DELETE_ABSENT;
        st = BERTH_OK;
      }
      /* VolumeInUse / IncorrectState: attached meanwhile, wait again. */
      if (st != BERTH_ECONFLICT)
        break;
    }
    if (berth_clock_monotonic_ms(NULL) >= deadline) {
      st = berth_error_set(err, BERTH_ECONFLICT,
                           "ebs: volume %s is still attached after %d ms", id,
                           b->delete_timeout_ms);
      break;
    }
    berth_clock_sleep_ms(NULL, pause);
    pause = pause * 2 > 1000 ? 1000 : pause * 2;
  }
done:
  if (st == BERTH_OK && out != NULL)
    *out = outcome;
  return st;
}

/* ---- expand ------------------------------------------------------------ */

/* The latest modification of volume id: its state and target size;
 * state "" when there is none. */
static berth_status_t ebsb_modification(ebsb_backend_t *b, const char *id,
                                        char *state, size_t size,
                                        int64_t *target, berth_error_t *err)
{
  berth_ec2_describe_params_t dp;
  berth_ec2_modification_list_t l;
  berth_status_t st;
  size_t i, best = 0;

  memset(&dp, 0, sizeof(dp));
  memset(&l, 0, sizeof(l));
  dp.ids = &id;
  dp.id_count = 1;
  state[0] = '\0';
  *target = 0;
  st = berth_ec2_describe_volumes_modifications(b->aws, &dp, &l, err);
  if (st == BERTH_ENOTFOUND)
    return BERTH_OK; /* InvalidVolumeModification.NotFound: none yet */
  if (st != BERTH_OK)
    return st;
  for (i = 1; i < l.count; i++)
    if (l.items[i].start_time_ms >= l.items[best].start_time_ms)
      best = i;
  if (l.count > 0) {
    snprintf(state, size, "%s",
             l.items[best].state != NULL ? l.items[best].state : "");
    *target = l.items[best].target_size_gib;
  }
  berth_ec2_modification_list_cleanup(&l);
  return BERTH_OK;
}

/* The IOPS a disk growing to size_gib keeps when it was made with
 * allowAutoIOPSIncreaseOnModify and iopsPerGB (its tags say so, as
 * upstream records them): iopsPerGB times the new size, capped as at
 * creation; 0 when the disk keeps its IOPS. */
static int64_t ebsb_auto_iops(const berth_ec2_volume_t *v, int64_t size_gib)
{
  berth_ebs_params_t p;
  const char *on = NULL, *ratio = NULL;
  long long r;
  int64_t iops = 0;
  size_t i;

  for (i = 0; i < v->tag_count; i++) {
    if (strcmp(v->tags[i].key, BERTH_EBS_TAG_AUTO_IOPS) == 0)
      on = v->tags[i].value;
    else if (strcmp(v->tags[i].key, BERTH_EBS_TAG_IOPS_PER_GB) == 0)
      ratio = v->tags[i].value;
  }
  if (on == NULL || strcmp(on, "true") != 0 || ratio == NULL ||
      v->volume_type == NULL || berth_str_to_ll(ratio, 1, 1000, &r) != BERTH_OK)
    return 0;
  memset(&p, 0, sizeof(p));
  p.type = v->volume_type;
  p.iops_per_gb = r;
  p.allow_iops_increase = true;
  if (berth_ebs_iops(&p, size_gib, &iops, NULL) != BERTH_OK)
    return 0;
  return iops;
}

berth_status_t berth_backend_ebs_expand(berth_backend_t *be, const json_t *pv,
                                        uint64_t new_bytes, uint64_t *out_bytes,
                                        berth_error_t *err)
{
  ebsb_backend_t *b = (ebsb_backend_t *)be;
  const char *id = berth_ebs_pv_volume_id(pv);
  int64_t want = (int64_t)((new_bytes + EBS_GIB - 1) / EBS_GIB);
  int64_t deadline = berth_clock_monotonic_ms(NULL) + b->create_timeout_ms;
  int64_t pause = 100, size = 0, target = 0, auto_iops = 0;
  bool sent = false;
  char state[32];
  berth_status_t st;

  if (be == NULL || be->ops != &berth_backend_ebs_ops)
    return berth_error_set(err, BERTH_EINVAL, "ebs: not an EBS backend");
  if (id == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: the PV has no EBS volume handle");
  for (;;) {
    berth_ec2_volume_t v;
    memset(&v, 0, sizeof(v));
    st = berth_ec2_describe_volume(b->aws, id, &v, err);
    size = v.size_gib;
    auto_iops = ebsb_auto_iops(&v, want);
    berth_ec2_volume_cleanup(&v);
    if (st == BERTH_OK)
      st = ebsb_modification(b, id, state, sizeof(state), &target, err);
    if (st != BERTH_OK)
      break;
    /* Done: the size is there and no modification is still "modifying"
     * (during "optimizing" the new size is usable already). */
    if (size >= want && strcmp(state, "modifying") != 0)
      break;
    if (strcmp(state, "modifying") != 0 && strcmp(state, "optimizing") != 0 &&
        !sent) {
      berth_ec2_modify_volume_params_t mp;
      memset(&mp, 0, sizeof(mp));
      mp.volume_id = id;
      mp.size_gib = want;
      mp.iops = auto_iops;
      st = berth_ec2_modify_volume(b->aws, &mp, NULL, err);
      if (st == BERTH_OK)
        sent = true;
      else if (st != BERTH_ECONFLICT)
        break;
    } else if (strcmp(state, "failed") == 0 && target >= want) {
      st = berth_error_set(err, BERTH_EIO,
                           "ebs: the modification of %s to %lld GiB failed", id,
                           (long long)want);
      break;
    }
    if (berth_clock_monotonic_ms(NULL) >= deadline) {
      st = berth_error_set(err, BERTH_ETIMEOUT,
                           "ebs: %s not %lld GiB after %d ms", id,
                           (long long)want, b->create_timeout_ms);
      break;
    }
    berth_clock_sleep_ms(NULL, pause);
    pause = pause * 2 > 1000 ? 1000 : pause * 2;
  }
  if (st == BERTH_OK && out_bytes != NULL)
    *out_bytes = (uint64_t)size * EBS_GIB;
  return st;
}

/* ---- usage, destroy ---------------------------------------------------- */

static void ebsb_destroy(berth_backend_t *be)
{
  ebsb_backend_t *b = (ebsb_backend_t *)be;

  berth_aws_destroy(b->aws);
  berth__ebs_records_destroy(b->records);
  free(b->cluster_tag);
  free(b->cluster_id);
  json_decref(b->extra_tags);
  free(b);
}

berth_status_t berth_backend_ebs_create(const berth_backend_ebs_config_t *cfg,
                                        berth_backend_t **out,
                                        berth_error_t *err)
{
  ebsb_backend_t *b = calloc(1, sizeof(*b));
  berth_aws_options_t opts;
  berth_status_t st;

  if (b == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  b->base.ops = &berth_backend_ebs_ops;
  b->create_timeout_ms = cfg != NULL && cfg->create_timeout_ms > 0
                             ? cfg->create_timeout_ms
                             : 60000;
  b->delete_timeout_ms = cfg != NULL && cfg->delete_timeout_ms > 0
                             ? cfg->delete_timeout_ms
                             : 30000;
  if (cfg != NULL && cfg->cluster_id != NULL && cfg->cluster_id[0] != '\0') {
    size_t n = strlen("kubernetes.io/cluster/") + strlen(cfg->cluster_id) + 1;
    b->cluster_tag = malloc(n);
    if (b->cluster_tag == NULL) {
      free(b);
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
    snprintf(b->cluster_tag, n, "kubernetes.io/cluster/%s", cfg->cluster_id);
    b->cluster_id = strdup(cfg->cluster_id);
    if (b->cluster_id == NULL) {
      ebsb_destroy(&b->base);
      return berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
  }
  st = berth_ebs_parse_extra_tags(cfg != NULL ? cfg->extra_tags : NULL,
                                  &b->extra_tags, err);
  if (st == BERTH_OK && berth__ebs_records_create(&b->records) != BERTH_OK)
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (st != BERTH_OK) {
    ebsb_destroy(&b->base);
    return st;
  }
  berth_aws_options_init(&opts);
  st = berth_aws_create(&opts, &b->aws, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "ebs");
    ebsb_destroy(&b->base);
    return st;
  }
  *out = &b->base;
  return BERTH_OK;
}

/* The AWS client comes from the environment (region, credentials,
 * AWS_ENDPOINT_URL); the cluster id adds the kubernetes.io/cluster/<id>
 * tag to every disk, --extra-tags its tags. */
static berth_status_t ebsb_make(const berth_backend_settings_t *settings,
                                berth_backend_t **out, berth_error_t *err)
{
  berth_backend_ebs_config_t cfg;

  memset(&cfg, 0, sizeof(cfg));
  if (settings != NULL) {
    cfg.cluster_id = settings->cluster_id;
    cfg.extra_tags = settings->extra_tags;
  }
  return berth_backend_ebs_create(&cfg, out, err);
}

/* --extra-tags as create reads them, so that --check-config refuses what
 * start would. */
static berth_status_t
ebsb_check_settings(const berth_backend_settings_t *settings,
                    berth_error_t *err)
{
  json_t *tags = NULL;
  berth_status_t st = berth_ebs_parse_extra_tags(
      settings != NULL ? settings->extra_tags : NULL, &tags, err);

  json_decref(tags);
  return st;
}

/* The sweep's records: the disks' BERTH_EBS_TAG_PROVISIONING tag. */
static berth_status_t ebsb_records(berth_backend_t *be,
                                   berth_records_request_t *req,
                                   berth_error_t *err)
{
  ebsb_backend_t *b = (ebsb_backend_t *)be;

  return berth__ebs_records(b->aws, b->cluster_tag, b->records, req, err);
}

/* No usage: a block device's contents are only visible to the node that
 * mounts it. */
const berth_backend_ops_t berth_backend_ebs_ops = {
    .name = "ebs",
    .summary = "EBS disks, attached to nodes",
    .caps = BERTH_BACKEND_CAP_ATTACH | BERTH_BACKEND_CAP_BLOCK |
            BERTH_BACKEND_CAP_ZONAL | BERTH_BACKEND_CAP_SNAPSHOT,
    .inspect = &berth_backend_ebs_inspect,
    .create = ebsb_make,
    .check_settings = ebsb_check_settings,
    .validate = ebsb_validate,
    .provision = ebsb_provision,
    .delete_volume = ebsb_delete,
    .destroy = ebsb_destroy,
    .expand = berth_backend_ebs_expand,
    .check_claim = ebsb_check_claim,
    .records = ebsb_records,
};
