/* SPDX-License-Identifier: Apache-2.0 */
/* berth-provisioner: a VolumeSnapshotClass's parameters and the tags of a
 * new EBS snapshot, as aws-ebs-csi-driver's CreateSnapshot reads and sets
 * them (its docs/snapshot.md and docs/tagging.md); see snapshot.h. */
#include "snapshot.h"

#include "berth/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SNAP_TAG_PREFIX "tagspecification"
#define SNAP_KEY_VS_NAME "csi.storage.k8s.io/volumesnapshot/name"
#define SNAP_KEY_VS_NAMESPACE "csi.storage.k8s.io/volumesnapshot/namespace"
#define SNAP_KEY_VSC_NAME "csi.storage.k8s.io/volumesnapshotcontent/name"

static bool key_is(const char *key, const char *want)
{
  return berth_str_case_eq(key, want);
}

static bool is_tag_key(const char *key)
{
  return strncasecmp(key, SNAP_TAG_PREFIX, strlen(SNAP_TAG_PREFIX)) == 0;
}

/* Expand {{ .VolumeSnapshotName }}, {{ .VolumeSnapshotNamespace }} and
 * {{ .VolumeSnapshotContentName }} in tmpl into out (vars may be NULL to
 * check only). */
static berth_status_t expand(const char *tmpl, const char *vs_name,
                             const char *vs_ns, const char *vsc_name, char *out,
                             size_t size, berth_error_t *err)
{
  static const char *const names[] = {"VolumeSnapshotName",
                                      "VolumeSnapshotNamespace",
                                      "VolumeSnapshotContentName"};
  const char *vals[3] = {vs_name, vs_ns, vsc_name};
  size_t o = 0;
  const char *p = tmpl;

  while (*p != '\0') {
    const char *v = NULL;
    size_t i, n;
    if (strncmp(p, "{{", 2) == 0) {
      const char *q = p + 2, *end = strstr(p, "}}");
      while (*q == ' ')
        q++;
      if (end == NULL || *q != '.')
        return berth_error_set(err, BERTH_EINVAL,
                               "tagSpecification value \"%.80s\": a template "
                               "must be {{ .Name }}",
                               tmpl);
      q++;
      for (i = 0; i < 3 && v == NULL; i++) {
        n = strlen(names[i]);
        if (strncmp(q, names[i], n) == 0 &&
            strspn(q + n, " ") == (size_t)(end - q - n)) {
          v = vals[i] != NULL ? vals[i] : "";
        }
      }
      if (v == NULL)
        return berth_error_set(err, BERTH_EINVAL,
                               "tagSpecification value \"%.80s\": unknown "
                               "template (VolumeSnapshotName, "
                               "VolumeSnapshotNamespace, "
                               "VolumeSnapshotContentName)",
                               tmpl);
      n = strlen(v);
      if (o + n >= size)
        return berth_error_set(err, BERTH_EINVAL,
                               "tagSpecification value too long");
      memcpy(out + o, v, n);
      o += n;
      p = end + 2;
      continue;
    }
    if (o + 1 >= size)
      return berth_error_set(err, BERTH_EINVAL,
                             "tagSpecification value too long");
    out[o++] = *p++;
  }
  out[o] = '\0';
  return BERTH_OK;
}

static berth_status_t check_tag(const char *key, const char *value,
                                berth_error_t *err)
{
  const char *eq = value != NULL ? strchr(value, '=') : NULL;
  char buf[512];

  if (eq == NULL || eq == value || eq - value > 127)
    return berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshotClass parameter %s: \"%.80s\" is "
                           "not key=value",
                           key, value != NULL ? value : "");
  if (strncasecmp(value, "aws:", 4) == 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshotClass parameter %s: tag keys "
                           "starting with aws: are reserved",
                           key);
  return expand(eq + 1, NULL, NULL, NULL, buf, sizeof(buf), err);
}

berth_status_t prov_snapshot_class_check(const json_t *parameters,
                                         berth_error_t *err)
{
  const char *key;
  json_t *v;
  berth_status_t st = BERTH_OK;

  json_object_foreach((json_t *)parameters, key, v)
  {
    const char *val = json_string_value(v);
    if (key_is(key, SNAP_KEY_VS_NAME) || key_is(key, SNAP_KEY_VS_NAMESPACE) ||
        key_is(key, SNAP_KEY_VSC_NAME))
      continue;
    if (is_tag_key(key))
      st = check_tag(key, val, err);
    else if (key_is(key, "outpostArn")) {
      if (val == NULL || strncmp(val, "arn:", 4) != 0)
        st = berth_error_set(err, BERTH_EINVAL,
                             "VolumeSnapshotClass parameter outpostArn: "
                             "\"%.80s\" is not an ARN",
                             val != NULL ? val : "");
    } else if (key_is(key, "fastSnapshotRestoreAvailabilityZones"))
      st = berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshotClass parameter %s: berth does "
                           "not enable fast snapshot restore",
                           key);
    else if (strncasecmp(key, "lock", 4) == 0)
      st = berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshotClass parameter %s: berth does "
                           "not lock snapshots",
                           key);
    else
      st = berth_error_set(err, BERTH_EINVAL,
                           "VolumeSnapshotClass parameter %s is not a "
                           "parameter of ebs.csi.aws.com",
                           key);
    if (st != BERTH_OK)
      break;
  }
  return st;
}

static int set_str(json_t *o, const char *k, const char *v)
{
  return json_object_set_new(o, k, json_string(v != NULL ? v : ""));
}

berth_status_t
prov_snapshot_tags(const char *snapshot_name, const char *cluster_id,
                   const json_t *extra_tags, const json_t *parameters,
                   const char *vs_name, const char *vs_namespace,
                   const char *content_name, json_t **out, berth_error_t *err)
{
  json_t *tags = json_object(), *v;
  const char *key;
  char buf[512], k[160];
  int rc = tags == NULL;
  berth_status_t st = BERTH_OK;

  rc |= set_str(tags, PROV_SNAP_TAG_NAME, snapshot_name);
  rc |= set_str(tags, "ebs.csi.aws.com/cluster", "true");
  if (cluster_id != NULL && cluster_id[0] != '\0') {
    snprintf(k, sizeof(k), "kubernetes.io/cluster/%s", cluster_id);
    rc |= set_str(tags, k, "owned");
    snprintf(buf, sizeof(buf), "%s-dynamic-%s", cluster_id, snapshot_name);
    rc |= set_str(tags, "Name", buf);
  }
  json_object_foreach((json_t *)extra_tags, key, v) rc |=
      set_str(tags, key, json_string_value(v));
  json_object_foreach((json_t *)parameters, key, v)
  {
    const char *val = json_string_value(v), *eq;
    if (!is_tag_key(key) || rc != 0)
      continue;
    st = check_tag(key, val, err);
    if (st != BERTH_OK)
      break;
    eq = strchr(val, '=');
    snprintf(k, sizeof(k), "%.*s", (int)(eq - val), val);
    st = expand(eq + 1, vs_name, vs_namespace, content_name, buf, sizeof(buf),
                err);
    if (st != BERTH_OK)
      break;
    rc |= set_str(tags, k, buf);
  }
  if (st == BERTH_OK && rc != 0)
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (st != BERTH_OK) {
    json_decref(tags);
    return st;
  }
  *out = tags;
  return BERTH_OK;
}
