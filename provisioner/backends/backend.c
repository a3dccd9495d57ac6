/* SPDX-License-Identifier: Apache-2.0 */
/* The backend vtable's dispatch and the helpers backends share, see
 * backend.h. */
#include "backends/backend.h"

#include "berth/buf.h"

#include <stdio.h>
#include <string.h>

const char *berth_backend_name(const berth_backend_t *be)
{
  return be != NULL ? be->ops->name : "(none)";
}

berth_status_t berth_backend_validate(berth_backend_t *be,
                                      const json_t *parameters,
                                      berth_error_t *err)
{
  if (be == NULL)
    return berth_error_set(err, BERTH_EINVAL, "validate: no backend");
  return be->ops->validate(be, parameters, err);
}

berth_status_t berth_backend_provision(berth_backend_t *be,
                                       const berth_provision_request_t *req,
                                       berth_provision_result_t *out,
                                       berth_error_t *err)
{
  if (be == NULL || req == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "provision: no backend, request or result");
  return be->ops->provision(be, req, out, err);
}

berth_status_t berth_backend_delete(berth_backend_t *be,
                                    const berth_delete_request_t *req,
                                    berth_delete_outcome_t *out,
                                    berth_error_t *err)
{
  berth_delete_outcome_t outcome = BERTH_DELETE_DELETED;
  berth_status_t st;

  if (be == NULL || req == NULL || req->pv == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "delete: no backend, request or PV");
  st = be->ops->delete_volume(be, req, &outcome, err);
  if (st == BERTH_OK && out != NULL)
    *out = outcome;
  return st;
}

berth_status_t berth_backend_usage(berth_backend_t *be, const json_t *pv,
                                   const json_t *parameters, berth_usage_t *out,
                                   berth_error_t *err)
{
  if (be == NULL || pv == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "usage: no backend, PV or out");
  if (be->ops->usage == NULL)
    return berth_error_set(err, BERTH_EPERM,
                           "%s: usage is not measurable from the controller",
                           be->ops->name);
  return be->ops->usage(be, pv, parameters, out, err);
}

bool berth_backend_can_measure_usage(const berth_backend_t *be)
{
  return be != NULL && be->ops->usage != NULL;
}

berth_status_t berth_backend_check_claim(berth_backend_t *be,
                                         const berth_provision_request_t *req,
                                         berth_error_t *err)
{
  if (be == NULL || req == NULL)
    return berth_error_set(err, BERTH_EINVAL, "check: no backend or request");
  if (be->ops->check_claim == NULL)
    return BERTH_OK;
  return be->ops->check_claim(be, req, err);
}

unsigned berth_backend_ops_caps(const berth_backend_ops_t *ops)
{
  unsigned caps = ops->caps;

  if (ops->expand != NULL)
    caps |= BERTH_BACKEND_CAP_EXPAND;
  if (ops->usage != NULL)
    caps |= BERTH_BACKEND_CAP_USAGE;
  return caps;
}

unsigned berth_backend_caps(const berth_backend_t *be)
{
  return be != NULL ? berth_backend_ops_caps(be->ops) : 0;
}

bool berth_backend_can_expand(const berth_backend_t *be)
{
  return be != NULL && be->ops->expand != NULL;
}

bool berth_backend_can_record(const berth_backend_t *be)
{
  return be != NULL && be->ops->records != NULL;
}

berth_status_t berth_backend_records(berth_backend_t *be,
                                     berth_records_request_t *req,
                                     berth_error_t *err)
{
  if (be == NULL || req == NULL)
    return berth_error_set(err, BERTH_EINVAL, "records: no backend or request");
  req->records = NULL;
  if (be->ops->records == NULL)
    return berth_error_set(err, BERTH_EPERM, "the %s backend keeps no records",
                           be->ops->name);
  return be->ops->records(be, req, err);
}

berth_status_t berth_backend_expand(berth_backend_t *be, const json_t *pv,
                                    uint64_t new_bytes, uint64_t *out_bytes,
                                    berth_error_t *err)
{
  if (be == NULL || pv == NULL || out_bytes == NULL)
    return berth_error_set(err, BERTH_EINVAL, "expand: no backend, PV or out");
  if (be->ops->expand == NULL)
    return berth_error_set(err, BERTH_EPERM,
                           "the %s backend cannot expand volumes",
                           be->ops->name);
  return be->ops->expand(be, pv, new_bytes, out_bytes, err);
}

void berth_backend_destroy(berth_backend_t *be)
{
  if (be != NULL)
    be->ops->destroy(be);
}

void berth_provision_result_init(berth_provision_result_t *res)
{
  memset(res, 0, sizeof(*res));
}

void berth_provision_result_cleanup(berth_provision_result_t *res)
{
  if (res == NULL)
    return;
  json_decref(res->source);
  json_decref(res->annotations);
  json_decref(res->node_affinity);
  memset(res, 0, sizeof(*res));
}

unsigned berth_access_mode_parse(const char *name)
{
  static const struct {
    const char *name;
    unsigned bit;
  } modes[] = {
      {"ReadWriteOnce", BERTH_ACCESS_RWO},
      {"ReadOnlyMany", BERTH_ACCESS_ROX},
      {"ReadWriteMany", BERTH_ACCESS_RWX},
      {"ReadWriteOncePod", BERTH_ACCESS_RWOP},
  };
  size_t i;

  for (i = 0; name != NULL && i < sizeof(modes) / sizeof(modes[0]); i++) {
    if (strcmp(name, modes[i].name) == 0)
      return modes[i].bit;
  }
  return 0;
}

/* StorageClass parameters of the tools berth replaces, by tool, so that a
 * key refused by one backend can be named as another tool's. */
static const char *const bbe_nfs_subdir_keys[] = {
    "archiveOnDelete",
    "onDelete",
    "pathPattern",
    NULL,
};
static const char *const bbe_ebs_keys[] = {
    "type",
    "iops",
    "iopsPerGB",
    "allowAutoIOPSPerGBIncrease",
    "throughput",
    "encrypted",
    "kmsKeyId",
    "blockExpress",
    "blockSize",
    "inodeSize",
    "bytesPerInode",
    "numberOfInodes",
    "ext4BigAlloc",
    "ext4ClusterSize",
    "ext4EncryptionSupport",
    "allowAutoIOPSIncreaseOnModify",
    "volumeInitializationRate",
    "blockAttachUntilInitialized",
    "outpostArn",
    "fsType",
    "csi.storage.k8s.io/fstype",
    NULL,
};
static const char *const bbe_efs_keys[] = {
    "provisioningMode",
    "fileSystemId",
    "directoryPerms",
    "gidRangeStart",
    "gidRangeEnd",
    "basePath",
    "subPathPattern",
    "ensureUniqueDirectory",
    "reuseAccessPoint",
    "az",
    NULL,
};

/* The known key that key spells in another case, or NULL. */
static const char *bbe_case_twin(const char *key, const char *const *known)
{
  for (; *known != NULL; known++) {
    if (berth_str_case_eq(key, *known))
      return *known;
  }
  return NULL;
}
/* The in-tree kubernetes.io/aws-ebs plugin's zone keys, gone in CSI. */
static const char *const bbe_intree_keys[] = {"zone", "zones", NULL};

static bool bbe_in(const char *key, const char *const *list)
{
  for (; *list != NULL; list++) {
    if (berth_str_case_eq(key, *list))
      return true;
  }
  return false;
}

const char *berth_backend_foreign_key(const char *backend, const char *key)
{
  bool ebs = strcmp(backend, "ebs") == 0;
  bool efs = strncmp(backend, "efs", 3) == 0;
  bool nfs = strncmp(backend, "nfs", 3) == 0;

  if (key == NULL)
    return NULL;
  if (efs && strcmp(key, "az") == 0)
    return "aws-efs-csi-driver uses it only to pick the mount target of a "
           "cross-account mount (awsRoleArn secret), which berth does not "
           "support";
  if (berth_str_has_prefix(key, "csi.storage.k8s.io/") &&
      strstr(key, "secret") != NULL)
    return "a CSI external-provisioner secret parameter; berth does not "
           "take secrets from the class (it uses its own credentials)";
  if (!ebs && (bbe_in(key, bbe_ebs_keys) ||
               berth_str_has_prefix(key, "tagSpecification_")))
    return "a parameter of aws-ebs-csi-driver, for an EBS provisioner of "
           "berth, not this one";
  if (!efs && bbe_in(key, bbe_efs_keys))
    return "a parameter of aws-efs-csi-driver, for an EFS provisioner of "
           "berth, not this one";
  if (!nfs && !efs && bbe_in(key, bbe_nfs_subdir_keys))
    return "a parameter of nfs-subdir-external-provisioner, for an NFS "
           "provisioner of berth, not this one";
  if (bbe_in(key, bbe_intree_keys))
    return "a parameter of the in-tree kubernetes.io/aws-ebs plugin that no "
           "CSI driver takes; use the class's allowedTopologies";
  return NULL;
}

bool berth_backend_error_reschedules(const berth_error_t *err)
{
  static const char *const codes[] = {
      BERTH_REASON_NODE_CHOICE,  "InsufficientVolumeCapacity", "Unsupported",
      "InvalidAvailabilityZone", "InvalidZone.NotFound",
  };
  size_t i;

  for (i = 0; err != NULL && i < sizeof(codes) / sizeof(codes[0]); i++) {
    if (strcmp(err->reason, codes[i]) == 0)
      return true;
  }
  return false;
}

static bool bbe_is_known(const char *key, const char *const *known)
{
  for (; *known != NULL; known++) {
    if (strcmp(key, *known) == 0)
      return true;
  }
  return false;
}

/* "a, b, c" from a NULL-terminated list, for messages. */
static void bbe_list(const char *const *known, berth_buf_t *out)
{
  for (; *known != NULL; known++)
    berth_buf_appendf(out, "%s%s", out->len > 0 ? ", " : "", *known);
}

berth_status_t berth_backend_check_parameters(const char *backend,
                                              const json_t *parameters,
                                              const char *const *known,
                                              berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  const char *key;
  json_t *value;
  berth_buf_t list;

  berth_buf_init(&list);
  if (parameters == NULL)
    goto done;
  if (!json_is_object(parameters)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "%s: StorageClass parameters must be an object",
                         backend);
    goto done;
  }
  json_object_foreach((json_t *)parameters, key, value)
  {
    if (!bbe_is_known(key, known)) {
      const char *other = berth_backend_foreign_key(backend, key);
      const char *twin = bbe_case_twin(key, known);
      char quoted[80], hint[160];

      bbe_list(known, &list);
      berth_backend_quote(key, strlen(key), quoted, sizeof(quoted));
      /* nfs-subdir and aws-efs-csi-driver read their keys exactly (Go map
       * lookups), so a key in another case would be ignored there; here
       * it is refused, with the spelling that works. */
      if (twin != NULL && other == NULL) {
        snprintf(hint, sizeof(hint),
                 "keys are case-sensitive, as in the tool this backend "
                 "replaces: write %s",
                 twin);
        other = hint;
      }
      st = berth_error_set(err, BERTH_EINVAL,
                           "%s: unknown StorageClass parameter %s%s%s "
                           "(known: %s)",
                           backend, quoted, other != NULL ? ": " : "",
                           other != NULL ? other : "", berth_buf_str(&list));
      goto done;
    }
    /* StorageClass parameters are map[string]string; a string holding a
     * NUL byte would be cut short by C, so refuse it. */
    if (!json_is_string(value) ||
        json_string_length(value) != strlen(json_string_value(value))) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "%s: StorageClass parameter \"%s\" must be a "
                           "string without NUL bytes",
                           backend, key);
      goto done;
    }
  }

done:
  berth_buf_cleanup(&list);
  return st;
}

const char *berth_backend_parameter(const json_t *parameters, const char *key)
{
  json_t *v;

  if (parameters == NULL)
    return NULL;
  v = json_object_get(parameters, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

void berth_backend_quote(const char *s, size_t len, char *out, size_t outsize)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t room = outsize - 5; /* kept for "...", the quote and the NUL */
  size_t o = 0;
  size_t i = 0;

  if (outsize < 8) { /* too small to say anything useful */
    if (outsize > 0)
      out[0] = '\0';
    return;
  }
  out[o++] = '"';
  while (i < len) {
    size_t n = berth_utf8_len(u + i, len - i);
    bool escape = n == 0 || u[i] < 0x20 || u[i] == 0x7f;
    size_t need = escape ? 4 : n + (u[i] == '"' || u[i] == '\\');

    /* Whole sequences only, so that the message stays valid UTF-8 (an
     * Event with invalid UTF-8 cannot be encoded as JSON). */
    if (o + need > room) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    if (escape) {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hex[u[i] >> 4];
      out[o++] = hex[u[i] & 15];
      i++;
      continue;
    }
    if (need > n)
      out[o++] = '\\';
    memcpy(out + o, s + i, n);
    o += n;
    i += n;
  }
  out[o++] = '"';
  out[o] = '\0';
}

const char *berth_delete_outcome_name(berth_delete_outcome_t o)
{
  switch (o) {
  case BERTH_DELETE_DELETED:
    return "deleted";
  case BERTH_DELETE_ARCHIVED:
    return "archived";
  case BERTH_DELETE_RETAINED:
    return "retained";
  case BERTH_DELETE_ABSENT:
    return "absent";
  }
  return "unknown";
}
