/* SPDX-License-Identifier: Apache-2.0 */
/* coordination.k8s.io/v1 Leases, see include/berth/k8s_lease.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/k8s_lease.h"
#include "k8s_int.h"

static berth_status_t opt_time(const json_t *spec, const char *field,
                               int64_t *out, berth_error_t *err)
{
  const char *s = json_string_value(json_object_get(spec, field));

  *out = 0;
  if (s == NULL)
    return BERTH_OK;
  if (berth__k8s_parse_time(s, out) != BERTH_OK)
    return berth_error_set(err, BERTH_EPARSE,
                           "lease: spec.%s: not an RFC 3339 time", field);
  return BERTH_OK;
}

/* An optional int32 field (the API's type for both counts) into *out, 0
 * when absent. Anything else is refused, so that a hostile server's
 * 2^63-1 cannot overflow the arithmetic done on it (seconds * 1000). */
static berth_status_t opt_int32(const json_t *spec, const char *field,
                                long long *out, berth_error_t *err)
{
  const json_t *v = json_object_get(spec, field);

  *out = 0;
  if (v == NULL || json_is_null(v))
    return BERTH_OK;
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      json_integer_value(v) > INT32_MAX)
    return berth_error_set(err, BERTH_EPARSE,
                           "lease: spec.%s: not an int32 >= 0", field);
  *out = json_integer_value(v);
  return BERTH_OK;
}

berth_status_t berth_k8s_lease_from_json(const json_t *obj,
                                         berth_k8s_lease_t *out,
                                         berth_error_t *err)
{
  berth_k8s_lease_t l;
  json_t *spec = json_object_get(obj, "spec");
  const char *s;
  berth_status_t st;

  memset(&l, 0, sizeof(l));
  s = json_string_value(json_object_get(spec, "holderIdentity"));
  berth_strlcpy(l.holder_identity, s != NULL ? s : "",
                sizeof(l.holder_identity));
  if ((st = opt_int32(spec, "leaseDurationSeconds", &l.lease_duration_seconds,
                      err)) != BERTH_OK ||
      (st = opt_int32(spec, "leaseTransitions", &l.lease_transitions, err)) !=
          BERTH_OK ||
      (st = opt_time(spec, "acquireTime", &l.acquire_time_ms, err)) !=
          BERTH_OK ||
      (st = opt_time(spec, "renewTime", &l.renew_time_ms, err)) != BERTH_OK)
    return st;
  s = berth_k8s_obj_resource_version(obj);
  berth_strlcpy(l.resource_version, s != NULL ? s : "",
                sizeof(l.resource_version));
  s = berth_k8s_obj_uid(obj);
  berth_strlcpy(l.uid, s != NULL ? s : "", sizeof(l.uid));
  *out = l;
  return BERTH_OK;
}

/* The Lease object for in, named ns/name. */
static json_t *to_json(const char *ns, const char *name,
                       const berth_k8s_lease_t *in, bool with_version)
{
  char t[40];
  json_t *spec = json_object();
  json_t *obj;

  if (spec == NULL)
    return NULL;
  if (in->holder_identity[0] != '\0')
    json_object_set_new(spec, "holderIdentity",
                        json_string(in->holder_identity));
  if (in->lease_duration_seconds > 0)
    json_object_set_new(spec, "leaseDurationSeconds",
                        json_integer(in->lease_duration_seconds));
  if (in->acquire_time_ms > 0) {
    berth__k8s_format_microtime(in->acquire_time_ms, t, sizeof(t));
    json_object_set_new(spec, "acquireTime", json_string(t));
  }
  if (in->renew_time_ms > 0) {
    berth__k8s_format_microtime(in->renew_time_ms, t, sizeof(t));
    json_object_set_new(spec, "renewTime", json_string(t));
  }
  json_object_set_new(spec, "leaseTransitions",
                      json_integer(in->lease_transitions));
  obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion",
                  "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                  name, "namespace", ns, "spec", spec);
  if (obj != NULL && with_version && in->resource_version[0] != '\0')
    json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                        json_string(in->resource_version));
  return obj;
}

static berth_status_t finish(berth_status_t st, json_t *got,
                             berth_k8s_lease_t *out, berth_error_t *err)
{
  if (st == BERTH_OK && out != NULL)
    st = berth_k8s_lease_from_json(got, out, err);
  json_decref(got);
  return st;
}

berth_status_t berth_k8s_lease_get(berth_k8s_client_t *c, const char *ns,
                                   const char *name, berth_k8s_lease_t *out,
                                   berth_error_t *err)
{
  json_t *got = NULL;
  berth_status_t st;

  st = berth_k8s_get(c, &berth_k8s_res_leases, ns, name, &got, err);
  return finish(st, got, out, err);
}

berth_status_t berth_k8s_lease_create(berth_k8s_client_t *c, const char *ns,
                                      const char *name,
                                      const berth_k8s_lease_t *in,
                                      berth_k8s_lease_t *out,
                                      berth_error_t *err)
{
  json_t *obj;
  json_t *got = NULL;
  berth_status_t st;

  if (ns == NULL)
    ns = berth_k8s_client_namespace(c);
  obj = to_json(ns, name, in, false);
  if (obj == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_create(c, &berth_k8s_res_leases, ns, obj, &got, err);
  json_decref(obj);
  return finish(st, got, out, err);
}

berth_status_t berth_k8s_lease_update(berth_k8s_client_t *c, const char *ns,
                                      const char *name,
                                      const berth_k8s_lease_t *in,
                                      berth_k8s_lease_t *out,
                                      berth_error_t *err)
{
  json_t *obj;
  json_t *got = NULL;
  berth_status_t st;

  if (ns == NULL)
    ns = berth_k8s_client_namespace(c);
  if (in->resource_version[0] == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "lease %s/%s: an update needs the resourceVersion "
                           "it was read at",
                           ns, name);
  obj = to_json(ns, name, in, true);
  if (obj == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_update(c, &berth_k8s_res_leases, ns, obj, &got, err);
  json_decref(obj);
  return finish(st, got, out, err);
}

/* ---- the Endpoints lock ------------------------------------------------- */

/* client-go's resourcelock "endpoints": the LeaderElectionRecord as JSON in
 * this annotation of an Endpoints object (times are metav1.Time, RFC 3339
 * to the second). */
#define EP_LEADER_ANNOTATION "control-plane.alpha.kubernetes.io/leader"

static berth_status_t ep_from_json(const json_t *obj, berth_k8s_lease_t *out,
                                   berth_error_t *err)
{
  const char *rec = berth_k8s_obj_annotation(obj, EP_LEADER_ANNOTATION);
  json_t *spec = NULL;
  json_t *fake = NULL;
  json_error_t jerr;
  berth_status_t st;

  if (rec != NULL) {
    spec = json_loads(rec, 0, &jerr);
    if (spec == NULL || !json_is_object(spec)) {
      json_decref(spec);
      return berth_error_set(err, BERTH_EPARSE,
                             "endpoints lock: %s is not a JSON object",
                             EP_LEADER_ANNOTATION);
    }
    /* Lease and record name the transitions differently. */
    json_object_set(spec, "leaseTransitions",
                    json_object_get(spec, "leaderTransitions"));
  }
  fake = json_pack("{s:O, s:o}", "metadata", json_object_get(obj, "metadata"),
                   "spec", spec != NULL ? spec : json_object());
  if (fake == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = berth_k8s_lease_from_json(fake, out, err);
  json_decref(fake);
  return st;
}

/* The Endpoints object holding in's record. */
static json_t *ep_to_json(const char *ns, const char *name,
                          const berth_k8s_lease_t *in, bool with_version)
{
  char acq[40] = "", ren[40] = "";
  json_t *rec, *obj;
  char *text;

  berth__k8s_format_time(in->acquire_time_ms, acq, sizeof(acq));
  berth__k8s_format_time(in->renew_time_ms, ren, sizeof(ren));
  rec = json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity",
                  in->holder_identity, "leaseDurationSeconds",
                  (json_int_t)in->lease_duration_seconds, "acquireTime", acq,
                  "renewTime", ren, "leaderTransitions",
                  (json_int_t)in->lease_transitions);
  text = rec != NULL ? json_dumps(rec, JSON_COMPACT) : NULL;
  json_decref(rec);
  if (text == NULL)
    return NULL;
  obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}}", "apiVersion", "v1",
                  "kind", "Endpoints", "metadata", "name", name, "namespace",
                  ns, "annotations", EP_LEADER_ANNOTATION, text);
  free(text);
  if (obj != NULL && with_version && in->resource_version[0] != '\0')
    json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                        json_string(in->resource_version));
  return obj;
}

static berth_status_t ep_finish(berth_status_t st, json_t *got,
                                berth_k8s_lease_t *out, berth_error_t *err)
{
  if (st == BERTH_OK && out != NULL)
    st = ep_from_json(got, out, err);
  json_decref(got);
  return st;
}

berth_status_t berth_k8s_endpoints_lock_get(berth_k8s_client_t *c,
                                            const char *ns, const char *name,
                                            berth_k8s_lease_t *out,
                                            berth_error_t *err)
{
  json_t *got = NULL;
  berth_status_t st;

  st = berth_k8s_get(c, &berth_k8s_res_endpoints, ns, name, &got, err);
  return ep_finish(st, got, out, err);
}

berth_status_t berth_k8s_endpoints_lock_write(berth_k8s_client_t *c,
                                              const char *ns, const char *name,
                                              const berth_k8s_lease_t *in,
                                              bool create,
                                              berth_k8s_lease_t *out,
                                              berth_error_t *err)
{
  json_t *obj;
  json_t *got = NULL;
  berth_status_t st;

  if (ns == NULL)
    ns = berth_k8s_client_namespace(c);
  if (!create && in->resource_version[0] == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "endpoints lock %s/%s: an update needs the "
                           "resourceVersion it was read at",
                           ns, name);
  obj = ep_to_json(ns, name, in, !create);
  if (obj == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  st = create
           ? berth_k8s_create(c, &berth_k8s_res_endpoints, ns, obj, &got, err)
           : berth_k8s_update(c, &berth_k8s_res_endpoints, ns, obj, &got, err);
  json_decref(obj);
  return ep_finish(st, got, out, err);
}
