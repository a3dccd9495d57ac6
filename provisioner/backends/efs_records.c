/* SPDX-License-Identifier: Apache-2.0 */
/* The EFS backend's records: the BERTH_EFS_TAG_PROVISIONING tag of its
 * access points, listed page by page for the sweep and removed once a PV
 * owns the access point (see backends/efs_records.h). */
#include "backends/efs_records.h"
#include "backends/efs.h"

#include "berth/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tags provision gives every access point (aws-efs-csi-driver's). */
#define EFSR_TAG_PV "CSIVolumeName"
#define EFSR_TAG_PVC_NAME "kubernetes.io/created-for/pvc/name"
#define EFSR_TAG_PVC_NAMESPACE "kubernetes.io/created-for/pvc/namespace"

/* Entries remembered in each of seen and made, at most: past it, a new
 * record waits (its age unknown) and forget lists instead. */
#define EFSR_MEMORY_MAX 10000
/* Pages forget reads looking for a PV's access point, at most. */
#define EFSR_FORGET_PAGES 100

struct berth_efs_records {
  pthread_mutex_t lock;
  json_t *cursors; /* file system id -> NextToken */
  json_t *seen;    /* PV name -> when first listed (seconds) */
  json_t *made;    /* PV name -> access point id */
};

berth_status_t berth__efs_records_create(berth_efs_records_t **out)
{
  berth_efs_records_t *r = calloc(1, sizeof(*r));

  if (r == NULL)
    return BERTH_ENOMEM;
  pthread_mutex_init(&r->lock, NULL);
  r->cursors = json_object();
  r->seen = json_object();
  r->made = json_object();
  if (r->cursors == NULL || r->seen == NULL || r->made == NULL) {
    berth__efs_records_destroy(r);
    return BERTH_ENOMEM;
  }
  *out = r;
  return BERTH_OK;
}

void berth__efs_records_destroy(berth_efs_records_t *r)
{
  if (r == NULL)
    return;
  pthread_mutex_destroy(&r->lock);
  json_decref(r->cursors);
  json_decref(r->seen);
  json_decref(r->made);
  free(r);
}

void berth__efs_records_made(berth_efs_records_t *r, const char *pv,
                             const char *ap_id)
{
  if (r == NULL || pv == NULL || ap_id == NULL)
    return;
  pthread_mutex_lock(&r->lock);
  if (json_object_size(r->made) < EFSR_MEMORY_MAX)
    json_object_set_new(r->made, pv, json_string(ap_id));
  pthread_mutex_unlock(&r->lock);
}

static const char *efsr_tag(const berth_efs_access_point_t *ap, const char *key)
{
  size_t i;

  for (i = 0; i < ap->tag_count; i++)
    if (ap->tags[i].key != NULL && strcmp(ap->tags[i].key, key) == 0)
      return ap->tags[i].value;
  return NULL;
}

static bool efsr_is(const char *s, const char *want)
{
  return s != NULL && strcmp(s, want) == 0;
}

json_t *berth__efs_record(const berth_efs_access_point_t *ap,
                          const char *cluster_tag, int64_t created)
{
  const char *pv = efsr_tag(ap, EFSR_TAG_PV);
  const char *uid = efsr_tag(ap, BERTH_EFS_TAG_PROVISIONING);
  const char *ns = efsr_tag(ap, EFSR_TAG_PVC_NAMESPACE);
  const char *name = efsr_tag(ap, EFSR_TAG_PVC_NAME);
  const char *id = ap->access_point_id;
  const char *fs = ap->file_system_id;
  char handle[160];

  /* Another cluster's access point, or one made without a cluster id, is
   * never ours to remove. */
  if (cluster_tag == NULL || !efsr_is(efsr_tag(ap, cluster_tag), "owned"))
    return NULL;
  if (id == NULL || strncmp(id, "fsap-", 5) != 0 || fs == NULL || pv == NULL ||
      uid == NULL || uid[0] == '\0' || strncmp(pv, "pvc-", 4) != 0 ||
      strcmp(pv + 4, uid) != 0 || ns == NULL || name == NULL)
    return NULL;
  if (efsr_is(ap->life_cycle_state, "deleting") ||
      efsr_is(ap->life_cycle_state, "deleted"))
    return NULL;
  snprintf(handle, sizeof(handle), "%s::%s", fs, id);
  /* The PV as berth_backend_delete takes it: provision's csi source. */
  return json_pack("{s:{s:{s:s,s:{s:s}},s:{s:{s:s,s:s}}},s:s,s:s,s:s,s:I}",
                   "pv", "metadata", "name", pv, "annotations",
                   BERTH_EFS_ANN_ACCESS_POINT, id, "spec", "csi", "driver",
                   BERTH_EFS_DRIVER, "volumeHandle", handle, "namespace", ns,
                   "name", name, "uid", uid, "created", (json_int_t)created);
}

/* When this process first listed pv's record (now, if never), or -1 when
 * it cannot remember more. */
static int64_t efsr_first_seen(berth_efs_records_t *r, const char *pv)
{
  int64_t now = berth_clock_realtime_ms(NULL) / 1000, at = -1;
  json_t *v;

  pthread_mutex_lock(&r->lock);
  v = json_object_get(r->seen, pv);
  if (v != NULL)
    at = json_integer_value(v);
  else if (json_object_size(r->seen) < EFSR_MEMORY_MAX &&
           json_object_set_new(r->seen, pv, json_integer(now)) == 0)
    at = now;
  pthread_mutex_unlock(&r->lock);
  return at;
}

/* The cursor of fs_id (a copy, NULL for the first page); false when out
 * of memory. */
static bool efsr_cursor_get(berth_efs_records_t *r, const char *fs_id,
                            char **out)
{
  const char *t;
  bool ok = true;

  pthread_mutex_lock(&r->lock);
  t = json_string_value(json_object_get(r->cursors, fs_id));
  *out = NULL;
  if (t != NULL && (*out = strdup(t)) == NULL)
    ok = false;
  pthread_mutex_unlock(&r->lock);
  return ok;
}

/* Keep next for fs_id (NULL: start again from the first page). */
static void efsr_cursor_set(berth_efs_records_t *r, const char *fs_id,
                            const char *next)
{
  pthread_mutex_lock(&r->lock);
  if (next == NULL ||
      json_object_set_new(r->cursors, fs_id, json_string(next)) != 0)
    json_object_del(r->cursors, fs_id);
  pthread_mutex_unlock(&r->lock);
}

static berth_status_t efsr_list(berth_aws_t *aws, const char *cluster_tag,
                                berth_efs_records_t *r, const char *fs_id,
                                berth_records_request_t *req,
                                berth_error_t *err)
{
  berth_efs_access_point_list_t l;
  json_t *out = json_array(), *rec;
  char *token = NULL;
  const char *pv;
  berth_status_t st = BERTH_OK;
  size_t i;
  int page;

  memset(&l, 0, sizeof(l));
  if (out == NULL || !efsr_cursor_get(r, fs_id, &token)) {
    st = berth_error_set(err, BERTH_ENOMEM, "efs records: out of memory");
    goto done;
  }
  if (cluster_tag == NULL || req->max == 0)
    goto done;
  page = req->max > BERTH_EFS_RECORDS_PAGE_MAX ? BERTH_EFS_RECORDS_PAGE_MAX
                                               : (int)req->max;
  st = berth_efs_describe_access_points(aws, fs_id, NULL, page, token, &l, err);
  if (st != BERTH_OK) {
    /* A token EFS no longer takes, or any other failure: the next
     * listing starts from the first page. */
    efsr_cursor_set(r, fs_id, NULL);
    goto done;
  }
  efsr_cursor_set(r, fs_id, l.next_token);
  for (i = 0; i < l.count && json_array_size(out) < req->max; i++) {
    rec = berth__efs_record(&l.items[i], cluster_tag, -1);
    if (rec == NULL)
      continue;
    pv = json_string_value(json_object_get(
        json_object_get(json_object_get(rec, "pv"), "metadata"), "name"));
    if (json_object_set_new(rec, "created",
                            json_integer(efsr_first_seen(r, pv))) != 0 ||
        json_array_append_new(out, rec) != 0) {
      st = berth_error_set(err, BERTH_ENOMEM, "efs records: out of memory");
      goto done;
    }
  }

done:
  if (st == BERTH_OK) {
    req->records = out;
    out = NULL;
  }
  json_decref(out);
  free(token);
  berth_efs_access_point_list_cleanup(&l);
  return st;
}

/* The access point of pv on fs_id still carrying its record, into id
 * (BERTH_ENOTFOUND when none), reading the file system's pages. */
static berth_status_t efsr_find(berth_aws_t *aws, const char *fs_id,
                                const char *pv, char *id, size_t size,
                                berth_error_t *err)
{
  berth_efs_access_point_list_t l;
  char *next = NULL;
  berth_status_t st = BERTH_ENOTFOUND;
  berth_status_t cst;
  int pages = 0;
  size_t i;

  do {
    memset(&l, 0, sizeof(l));
    cst =
        berth_efs_describe_access_points(aws, fs_id, NULL, 100, next, &l, err);
    free(next);
    next = NULL;
    if (cst != BERTH_OK)
      return cst;
    for (i = 0; i < l.count && st == BERTH_ENOTFOUND; i++) {
      if (efsr_is(efsr_tag(&l.items[i], EFSR_TAG_PV), pv) &&
          efsr_tag(&l.items[i], BERTH_EFS_TAG_PROVISIONING) != NULL &&
          l.items[i].access_point_id != NULL) {
        snprintf(id, size, "%s", l.items[i].access_point_id);
        st = BERTH_OK;
      }
    }
    if (st == BERTH_ENOTFOUND && l.next_token != NULL &&
        (next = strdup(l.next_token)) == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "efs records: out of memory");
    berth_efs_access_point_list_cleanup(&l);
  } while (st == BERTH_ENOTFOUND && next != NULL &&
           ++pages < EFSR_FORGET_PAGES);
  free(next);
  return st;
}

/* Remove the record tag of pv's access point. */
static berth_status_t efsr_forget(berth_aws_t *aws, const char *cluster_tag,
                                  berth_efs_records_t *r, const char *fs_id,
                                  const char *pv, berth_error_t *err)
{
  const char *keys[] = {BERTH_EFS_TAG_PROVISIONING};
  const char *made;
  char id[128];
  berth_status_t st;

  /* Without a cluster id no record was written. */
  if (cluster_tag == NULL)
    return BERTH_OK;
  id[0] = '\0';
  pthread_mutex_lock(&r->lock);
  made = json_string_value(json_object_get(r->made, pv));
  if (made != NULL)
    snprintf(id, sizeof(id), "%s", made);
  pthread_mutex_unlock(&r->lock);
  st =
      id[0] != '\0' ? BERTH_OK : efsr_find(aws, fs_id, pv, id, sizeof(id), err);
  if (st == BERTH_OK)
    st = berth_efs_untag_resource(aws, id, keys, 1, err);
  /* No such access point (any more): nothing to forget. */
  if (st == BERTH_ENOTFOUND)
    st = BERTH_OK;
  if (st == BERTH_OK) {
    pthread_mutex_lock(&r->lock);
    json_object_del(r->made, pv);
    json_object_del(r->seen, pv);
    pthread_mutex_unlock(&r->lock);
  }
  return st;
}

berth_status_t berth__efs_records(berth_aws_t *aws, const char *cluster_tag,
                                  berth_efs_records_t *r, const char *fs_id,
                                  berth_records_request_t *req,
                                  berth_error_t *err)
{
  if (fs_id == NULL)
    return berth_error_set(err, BERTH_EINVAL, "efs records: no file system");
  if (req->forget != NULL)
    return efsr_forget(aws, cluster_tag, r, fs_id, req->forget, err);
  return efsr_list(aws, cluster_tag, r, fs_id, req, err);
}
