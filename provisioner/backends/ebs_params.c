/* The EBS backend's class parameters, sizes and templates: pure functions,
 * no I/O (see backends/ebs.h). The limits are EC2's per volume type
 * (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-volume-types.html)
 * and the IOPS rules aws-ebs-csi-driver applies (pkg/cloud/cloud.go). */
#include "backends/ebs.h"

#include "berth/buf.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

typedef struct vtype {
  const char *name;
  int64_t min_gib;
  int64_t min_iops; /* 0: IOPS cannot be set */
  int64_t max_iops;
  int64_t max_iops_per_gib;
} vtype_t;

static const vtype_t vtypes[] = {
    {"gp2", 1, 0, 0, 0},        {"gp3", 1, 3000, 16000, 500},
    {"io1", 4, 100, 64000, 50}, {"io2", 4, 100, 64000, 500},
    {"st1", 125, 0, 0, 0},      {"sc1", 125, 0, 0, 0},
    {"standard", 1, 0, 0, 0},
};

static const vtype_t *find_type(const char *name)
{
  size_t i;

  for (i = 0; i < sizeof(vtypes) / sizeof(vtypes[0]); i++)
    if (strcmp(vtypes[i].name, name) == 0)
      return &vtypes[i];
  return NULL;
}

#define TAG_PREFIX "tagSpecification_"

static const char *const known[] = {"type",
                                    "iops",
                                    "iopsPerGB",
                                    "allowAutoIOPSPerGBIncrease",
                                    "throughput",
                                    "encrypted",
                                    "kmsKeyId",
                                    "blockExpress",
                                    "csi.storage.k8s.io/fstype",
                                    NULL};

static bool is_tag_key(const char *k)
{
  const char *d = k + strlen(TAG_PREFIX);

  if (strncmp(k, TAG_PREFIX, strlen(TAG_PREFIX)) != 0 || *d == '\0')
    return false;
  for (; *d != '\0'; d++)
    if (*d < '0' || *d > '9')
      return false;
  return true;
}

static bool is_known(const char *k)
{
  size_t i;

  for (i = 0; known[i] != NULL; i++)
    if (berth_str_case_eq(known[i], k))
      return true;
  return is_tag_key(k);
}

static berth_status_t get_int(const char *key, const char *v, long long max,
                              int64_t *out, berth_error_t *err)
{
  long long n;

  if (berth_str_to_ll(v, 1, max, &n) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not a whole number "
                           "from 1 to %lld",
                           key, v, max);
  *out = n;
  return BERTH_OK;
}

static berth_status_t get_bool(const char *key, const char *v, bool *out,
                               berth_error_t *err)
{
  if (berth_str_case_eq(v, "true"))
    *out = true;
  else if (berth_str_case_eq(v, "false"))
    *out = false;
  else
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not true or false",
                           key, v);
  return BERTH_OK;
}

static berth_status_t one_param(const char *k, const char *v,
                                berth_ebs_params_t *p, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  char buf[512];

  if (strcmp(k, "type") == 0) {
    if (find_type(v) == NULL)
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter type: \"%.40s\" is not one of gp2, "
                           "gp3, io1, io2, st1, sc1, standard",
                           v);
    p->type = v;
  } else if (strcmp(k, "iops") == 0) {
    st = get_int(k, v, 256000, &p->iops, err);
  } else if (strcmp(k, "iopsPerGB") == 0) {
    st = get_int(k, v, 500, &p->iops_per_gb, err);
  } else if (strcmp(k, "allowAutoIOPSPerGBIncrease") == 0) {
    st = get_bool(k, v, &p->allow_iops_increase, err);
  } else if (strcmp(k, "throughput") == 0) {
    st = get_int(k, v, 2000, &p->throughput, err);
  } else if (strcmp(k, "encrypted") == 0) {
    st = get_bool(k, v, &p->encrypted, err);
  } else if (strcmp(k, "kmsKeyId") == 0) {
    p->kms_key_id = v[0] != '\0' ? v : NULL;
  } else if (strcmp(k, "blockExpress") == 0) {
    st = get_bool(k, v, &p->block_express, err);
  } else if (berth_str_case_eq(k, "csi.storage.k8s.io/fstype")) {
    if (strcmp(v, "ext2") != 0 && strcmp(v, "ext3") != 0 &&
        strcmp(v, "ext4") != 0 && strcmp(v, "xfs") != 0 &&
        strcmp(v, "ntfs") != 0)
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not one of ext2, "
                           "ext3, ext4, xfs, ntfs",
                           k, v);
    p->fstype = v;
  } else if (is_tag_key(k)) {
    const char *eq = strchr(v, '=');
    if (eq == NULL || eq == v)
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.60s\" is not key=value", k,
                           v);
    else if (strncmp(v, "aws:", 4) == 0)
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: tag keys may not start with "
                           "aws:",
                           k);
    else if (p->n_tag_specs >= BERTH_EBS_MAX_EXTRA_TAGS)
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: more than %d tagSpecification_N parameters",
                           BERTH_EBS_MAX_EXTRA_TAGS);
    else
      st = berth_ebs_expand(eq + 1, NULL, NULL, NULL, buf, sizeof(buf), err);
    if (st == BERTH_OK)
      p->tag_specs[p->n_tag_specs++] = v;
    else
      berth_error_prefix(err, k);
  }
  return st;
}

berth_status_t berth_ebs_params_parse(const json_t *parameters,
                                      berth_ebs_params_t *out,
                                      berth_error_t *err)
{
  berth_ebs_params_t p;
  const vtype_t *t;
  const char *k;
  json_t *v;
  berth_status_t st = BERTH_OK;

  memset(&p, 0, sizeof(p));
  p.type = "gp3";
  p.fstype = "ext4";
  if (parameters != NULL && !json_is_object(parameters))
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: the class's parameters are not an object");
  json_object_foreach((json_t *)parameters, k, v)
  {
    if (!is_known(k)) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: unknown parameter \"%.60s\" (known: type, "
                           "iops, iopsPerGB, allowAutoIOPSPerGBIncrease, "
                           "throughput, encrypted, kmsKeyId, blockExpress, "
                           "tagSpecification_N, csi.storage.k8s.io/fstype)",
                           k);
      goto done;
    }
    if (!json_is_string(v)) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s is not a string", k);
      goto done;
    }
    st = one_param(k, json_string_value(v), &p, err);
    if (st != BERTH_OK)
      goto done;
  }
  t = find_type(p.type);
  if (p.iops != 0 && p.iops_per_gb != 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: parameters iops and iopsPerGB are exclusive");
  } else if ((p.iops != 0 || p.iops_per_gb != 0) && t->min_iops == 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: parameter %s: volume type %s has no "
                         "provisioned IOPS",
                         p.iops != 0 ? "iops" : "iopsPerGB", p.type);
  } else if (p.throughput != 0 && strcmp(p.type, "gp3") != 0) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: parameter throughput: only gp3 volumes have "
                         "provisioned throughput, not %s",
                         p.type);
  } else if (p.kms_key_id != NULL && !p.encrypted) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: parameter kmsKeyId needs encrypted: \"true\"");
  }
done:
  if (st == BERTH_OK)
    *out = p;
  return st;
}

int64_t berth_ebs_size_gib(const berth_ebs_params_t *p, uint64_t bytes)
{
  const uint64_t gib = 1024ull * 1024 * 1024;
  const vtype_t *t = find_type(p->type);
  int64_t n = (int64_t)((bytes + gib - 1) / gib);

  if (n < 1)
    n = 1;
  if (t != NULL && n < t->min_gib)
    n = t->min_gib;
  return n;
}

int64_t berth_ebs_iops(const berth_ebs_params_t *p, int64_t size_gib)
{
  const vtype_t *t = find_type(p->type);
  int64_t iops, max;

  if (t == NULL || t->min_iops == 0)
    return 0;
  if (p->iops != 0)
    return p->iops;
  if (p->iops_per_gb == 0)
    return 0;
  max = t->max_iops;
  if (p->block_express && strcmp(t->name, "io2") == 0)
    max = 256000;
  iops = p->iops_per_gb * size_gib;
  if (iops < t->min_iops && p->allow_iops_increase)
    iops = t->min_iops;
  if (iops > max)
    iops = max;
  return iops;
}

/* One template name between "{{" and "}}", white space trimmed. */
static const char *template_value(const char *name, size_t len,
                                  const char *pvc_name,
                                  const char *pvc_namespace,
                                  const char *pv_name, bool *ok)
{
  *ok = true;
  if (len == 8 && memcmp(name, ".PVCName", 8) == 0)
    return pvc_name;
  if (len == 13 && memcmp(name, ".PVCNamespace", 13) == 0)
    return pvc_namespace;
  if (len == 7 && memcmp(name, ".PVName", 7) == 0)
    return pv_name;
  *ok = false;
  return NULL;
}

berth_status_t berth_ebs_expand(const char *tmpl, const char *pvc_name,
                                const char *pvc_namespace, const char *pv_name,
                                char *out, size_t size, berth_error_t *err)
{
  size_t o = 0;
  const char *s = tmpl;

  while (*s != '\0') {
    const char *val = NULL;
    size_t n;
    if (s[0] == '{' && s[1] == '{') {
      const char *b = s + 2, *e = strstr(b, "}}");
      bool ok;
      if (e == NULL)
        return berth_error_set(err, BERTH_EINVAL,
                               "unterminated {{ in \"%.60s\"", tmpl);
      while (b < e && *b == ' ')
        b++;
      n = (size_t)(e - b);
      while (n > 0 && b[n - 1] == ' ')
        n--;
      val = template_value(b, n, pvc_name, pvc_namespace, pv_name, &ok);
      if (!ok)
        return berth_error_set(err, BERTH_EINVAL,
                               "unknown template {{ %.*s }} (known: .PVCName, "
                               ".PVCNamespace, .PVName)",
                               (int)(n > 40 ? 40 : n), b);
      if (val == NULL)
        val = "";
      n = strlen(val);
      s = e + 2;
    } else {
      val = s;
      n = 1;
      s++;
    }
    if (o + n >= size)
      return berth_error_set(err, BERTH_EINVAL, "tag value too long: \"%.60s\"",
                             tmpl);
    memcpy(out + o, val, n);
    o += n;
  }
  if (size == 0)
    return berth_error_set(err, BERTH_EINVAL, "no room");
  out[o] = '\0';
  return BERTH_OK;
}

const char *berth_ebs_node_zone(const json_t *node)
{
  static const char *const keys[] = {BERTH_EBS_TOPOLOGY_KEY,
                                     "topology.kubernetes.io/zone",
                                     "failure-domain.beta.kubernetes.io/zone"};
  json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
  size_t i;

  for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    const char *z = json_string_value(json_object_get(labels, keys[i]));
    if (z != NULL && z[0] != '\0')
      return z;
  }
  return NULL;
}

void berth_ebs_client_token(const char *pv_name, char out[65])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;

  /* aws-ebs-csi-driver: hex(sha256(volume name)), so a disk made by it
   * for the same PV name is found again too. */
  if (EVP_Digest(pv_name, strlen(pv_name), md, &len, EVP_sha256(), NULL) != 1)
    len = 0;
  for (i = 0; i < len && i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[2 * i] = '\0';
}
