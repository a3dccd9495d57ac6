/* SPDX-License-Identifier: Apache-2.0 */
/* Resource types, API paths and small object accessors. See
 * include/berth/k8s.h. Paths follow the API conventions:
 *
 *   /api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
 *   /apis/<group>/<version>[/namespaces/<ns>]/<resource>[/...]
 */
#include <stdio.h>

#include "berth/buf.h"
#include "k8s_int.h"

const berth_k8s_resource_t berth_k8s_res_namespaces = {"", "v1", "namespaces",
                                                       "Namespace", false};
const berth_k8s_resource_t berth_k8s_res_nodes = {"", "v1", "nodes", "Node",
                                                  false};
const berth_k8s_resource_t berth_k8s_res_pods = {"", "v1", "pods", "Pod", true};
const berth_k8s_resource_t berth_k8s_res_services = {"", "v1", "services",
                                                     "Service", true};
const berth_k8s_resource_t berth_k8s_res_endpoints = {"", "v1", "endpoints",
                                                      "Endpoints", true};
const berth_k8s_resource_t berth_k8s_res_events = {"", "v1", "events", "Event",
                                                   true};
const berth_k8s_resource_t berth_k8s_res_secrets = {"", "v1", "secrets",
                                                    "Secret", true};
const berth_k8s_resource_t berth_k8s_res_configmaps = {"", "v1", "configmaps",
                                                       "ConfigMap", true};
const berth_k8s_resource_t berth_k8s_res_persistentvolumes = {
    "", "v1", "persistentvolumes", "PersistentVolume", false};
const berth_k8s_resource_t berth_k8s_res_persistentvolumeclaims = {
    "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
const berth_k8s_resource_t berth_k8s_res_storageclasses = {
    "storage.k8s.io", "v1", "storageclasses", "StorageClass", false};
const berth_k8s_resource_t berth_k8s_res_volumeattachments = {
    "storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", false};
const berth_k8s_resource_t berth_k8s_res_csinodes = {
    "storage.k8s.io", "v1", "csinodes", "CSINode", false};
const berth_k8s_resource_t berth_k8s_res_leases = {"coordination.k8s.io", "v1",
                                                   "leases", "Lease", true};

void berth_k8s_resource_api_version(const berth_k8s_resource_t *res, char *out,
                                    size_t outsize)
{
  if (res->group == NULL || res->group[0] == '\0')
    snprintf(out, outsize, "%s", res->version);
  else
    snprintf(out, outsize, "%s/%s", res->group, res->version);
}

berth_status_t berth__k8s_path(berth_buf_t *out,
                               const berth_k8s_resource_t *res, const char *ns,
                               const char *name, const char *subresource)
{
  berth_status_t st;

  if (res->group == NULL || res->group[0] == '\0')
    st = berth_buf_appendf(out, "/api/%s", res->version);
  else
    st = berth_buf_appendf(out, "/apis/%s/%s", res->group, res->version);
  if (st == BERTH_OK && res->namespaced && ns != NULL) {
    st = berth_buf_append_str(out, "/namespaces/");
    if (st == BERTH_OK)
      st = berth__k8s_append_escaped(out, ns);
  }
  if (st == BERTH_OK)
    st = berth_buf_appendf(out, "/%s", res->resource);
  if (st == BERTH_OK && name != NULL) {
    st = berth_buf_append_byte(out, '/');
    if (st == BERTH_OK)
      st = berth__k8s_append_escaped(out, name);
  }
  if (st == BERTH_OK && subresource != NULL)
    st = berth_buf_appendf(out, "/%s", subresource);
  return st;
}

/* ---- Object helpers ---------------------------------------------------- */

static const char *meta_str(const json_t *obj, const char *key)
{
  return json_string_value(
      json_object_get(json_object_get(obj, "metadata"), key));
}

const char *berth_k8s_obj_namespace(const json_t *obj)
{
  return meta_str(obj, "namespace");
}

const char *berth_k8s_obj_name(const json_t *obj)
{
  return meta_str(obj, "name");
}

const char *berth_k8s_obj_uid(const json_t *obj)
{
  return meta_str(obj, "uid");
}

const char *berth_k8s_obj_resource_version(const json_t *obj)
{
  return meta_str(obj, "resourceVersion");
}

const char *berth_k8s_obj_label(const json_t *obj, const char *key)
{
  return json_string_value(json_object_get(
      json_object_get(json_object_get(obj, "metadata"), "labels"), key));
}

const char *berth_k8s_obj_annotation(const json_t *obj, const char *key)
{
  return json_string_value(json_object_get(
      json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}
