/* SPDX-License-Identifier: Apache-2.0 */
/* The EBS backend's records: the BERTH_EBS_TAG_PROVISIONING tag of its
 * disks, listed page by page for the sweep and removed once a PV owns the
 * disk (see backends/ebs_records.h). */
#include "backends/ebs_records.h"
#include "backends/ebs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct berth_ebs_records {
  pthread_mutex_t lock;
  char *next_token; /* where the next listing starts; NULL: the first page */
};

berth_status_t berth__ebs_records_create(berth_ebs_records_t **out)
{
  berth_ebs_records_t *r = calloc(1, sizeof(*r));

  if (r == NULL)
    return BERTH_ENOMEM;
  pthread_mutex_init(&r->lock, NULL);
  *out = r;
  return BERTH_OK;
}

void berth__ebs_records_destroy(berth_ebs_records_t *r)
{
  if (r == NULL)
    return;
  pthread_mutex_destroy(&r->lock);
  free(r->next_token);
  free(r);
}

static bool ebsr_is(const char *s, const char *want)
{
  return s != NULL && strcmp(s, want) == 0;
}

json_t *berth__ebs_record(const berth_ec2_volume_t *v, const char *cluster_tag)
{
  const char *pv = berth_ec2_volume_tag(v, BERTH_EBS_TAG_VOLUME_NAME);
  const char *uid = berth_ec2_volume_tag(v, BERTH_EBS_TAG_PROVISIONING);
  const char *ns = berth_ec2_volume_tag(v, BERTH_EBS_TAG_PVC_NAMESPACE);
  const char *name = berth_ec2_volume_tag(v, BERTH_EBS_TAG_PVC_NAME);
  const char *id = v->volume_id;

  /* Another cluster's disk, or one made without a cluster id, is never
   * ours to remove. */
  if (cluster_tag == NULL ||
      !ebsr_is(berth_ec2_volume_tag(v, cluster_tag), "owned"))
    return NULL;
  if (id == NULL || strncmp(id, "vol-", 4) != 0 || pv == NULL || uid == NULL ||
      uid[0] == '\0' || strncmp(pv, "pvc-", 4) != 0 ||
      strcmp(pv + 4, uid) != 0 || ns == NULL || name == NULL)
    return NULL;
  /* Attached to an instance: in use by something, never a leftover of a
   * provision (the attacher attaches only disks that have a PV); a
   * Delete reclaim would wait for it to be detached too. */
  if (v->attachment_count > 0 || ebsr_is(v->state, "in-use") ||
      ebsr_is(v->state, "deleting") || ebsr_is(v->state, "deleted"))
    return NULL;
  /* The PV as berth_backend_delete takes it: what provision put in its
   * csi source and annotations. */
  return json_pack(
      "{s:{s:{s:s,s:{s:s}},s:{s:{s:s,s:s}}},s:s,s:s,s:s,s:I}", "pv", "metadata",
      "name", pv, "annotations", BERTH_EBS_ANN_VOLUME_ID, id, "spec", "csi",
      "driver", BERTH_EBS_DRIVER, "volumeHandle", id, "namespace", ns, "name",
      name, "uid", uid, "created",
      (json_int_t)(v->create_time_ms > 0 ? v->create_time_ms / 1000 : -1));
}

/* Take the cursor (a copy, NULL for the first page); false when out of
 * memory. */
static bool ebsr_cursor_get(berth_ebs_records_t *r, char **out)
{
  bool ok = true;

  pthread_mutex_lock(&r->lock);
  *out = NULL;
  if (r->next_token != NULL && (*out = strdup(r->next_token)) == NULL)
    ok = false;
  pthread_mutex_unlock(&r->lock);
  return ok;
}

/* Keep next (NULL: start again from the first page). */
static void ebsr_cursor_set(berth_ebs_records_t *r, const char *next)
{
  char *copy = next != NULL ? strdup(next) : NULL;

  pthread_mutex_lock(&r->lock);
  free(r->next_token);
  /* Out of memory: start again, never skip. */
  r->next_token = copy;
  pthread_mutex_unlock(&r->lock);
}

static berth_status_t ebsr_list(berth_aws_t *aws, const char *cluster_tag,
                                berth_ebs_records_t *r,
                                berth_records_request_t *req,
                                berth_error_t *err)
{
  /* The states a leftover disk can be in; in-use and deleting disks are
   * no one's leftovers. */
  static const char *const states[] = {"creating", "available", "error"};
  const char *marker[] = {BERTH_EBS_TAG_PROVISIONING};
  const char *owned[] = {"owned"};
  char cluster_filter[300];
  berth_ec2_filter_t f[3];
  berth_ec2_describe_params_t dp;
  berth_ec2_volume_list_t l;
  json_t *out = json_array(), *rec;
  char *token = NULL;
  berth_status_t st = BERTH_OK;
  size_t i;

  memset(&l, 0, sizeof(l));
  if (out == NULL || !ebsr_cursor_get(r, &token)) {
    st = berth_error_set(err, BERTH_ENOMEM, "ebs records: out of memory");
    goto done;
  }
  if (cluster_tag == NULL || req->max < BERTH_EBS_RECORDS_PAGE_MIN)
    goto done;
  snprintf(cluster_filter, sizeof(cluster_filter), "tag:%s", cluster_tag);
  f[0] = (berth_ec2_filter_t){"tag-key", marker, 1};
  f[1] = (berth_ec2_filter_t){cluster_filter, owned, 1};
  f[2] = (berth_ec2_filter_t){"status", states, 3};
  memset(&dp, 0, sizeof(dp));
  dp.filters = f;
  dp.filter_count = 3;
  dp.max_results = req->max > BERTH_EBS_RECORDS_PAGE_MAX
                       ? BERTH_EBS_RECORDS_PAGE_MAX
                       : (int)req->max;
  dp.next_token = token;
  st = berth_ec2_describe_volumes(aws, &dp, &l, err);
  if (st != BERTH_OK) {
    /* A token EC2 no longer takes, or any other failure: the next
     * listing starts from the first page. */
    ebsr_cursor_set(r, NULL);
    goto done;
  }
  ebsr_cursor_set(r, l.next_token);
  for (i = 0; i < l.count && json_array_size(out) < req->max; i++) {
    rec = berth__ebs_record(&l.items[i], cluster_tag);
    if (rec != NULL && json_array_append_new(out, rec) != 0) {
      st = berth_error_set(err, BERTH_ENOMEM, "ebs records: out of memory");
      goto done;
    }
  }

done:
  if (st == BERTH_OK && out != NULL) {
    req->records = out;
    out = NULL;
  }
  json_decref(out);
  free(token);
  berth_ec2_volume_list_cleanup(&l);
  return st;
}

/* Remove the record tag from the disks of PV pv (normally one). */
static berth_status_t ebsr_forget(berth_aws_t *aws, const char *cluster_tag,
                                  const char *pv, berth_error_t *err)
{
  const char *names[] = {pv};
  const char *owned[] = {"owned"};
  const char *keys[] = {BERTH_EBS_TAG_PROVISIONING};
  char cluster_filter[300];
  berth_ec2_filter_t f[3];
  berth_ec2_describe_params_t dp;
  berth_ec2_volume_list_t l;
  berth_status_t st;
  size_t i;

  /* Without a cluster id no record was written. */
  if (cluster_tag == NULL)
    return BERTH_OK;
  snprintf(cluster_filter, sizeof(cluster_filter), "tag:%s", cluster_tag);
  f[0] = (berth_ec2_filter_t){"tag:" BERTH_EBS_TAG_VOLUME_NAME, names, 1};
  f[1] = (berth_ec2_filter_t){"tag-key", keys, 1};
  f[2] = (berth_ec2_filter_t){cluster_filter, owned, 1};
  memset(&dp, 0, sizeof(dp));
  memset(&l, 0, sizeof(l));
  dp.filters = f;
  dp.filter_count = 3;
  st = berth_ec2_describe_volumes(aws, &dp, &l, err);
  for (i = 0; st == BERTH_OK && i < l.count; i++) {
    const char *id = l.items[i].volume_id;
    if (id == NULL)
      continue;
    st = berth_ec2_delete_tags(aws, &id, 1, keys, 1, err);
    /* Deleted meanwhile: nothing to forget. */
    if (st == BERTH_ENOTFOUND)
      st = BERTH_OK;
  }
  berth_ec2_volume_list_cleanup(&l);
  return st;
}

berth_status_t berth__ebs_records(berth_aws_t *aws, const char *cluster_tag,
                                  berth_ebs_records_t *r,
                                  berth_records_request_t *req,
                                  berth_error_t *err)
{
  if (req->forget != NULL)
    return ebsr_forget(aws, cluster_tag, req->forget, err);
  return ebsr_list(aws, cluster_tag, r, req, err);
}
