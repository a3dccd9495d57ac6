/* SPDX-License-Identifier: Apache-2.0 */
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

/* io2: every new io2 volume is Block Express now (256,000 IOPS, 1,000
 * IOPS per GiB), which is why upstream made blockExpress a no-op. */
static const vtype_t vtypes[] = {
    {"gp2", 1, 0, 0, 0},        {"gp3", 1, 3000, 16000, 500},
    {"io1", 4, 100, 64000, 50}, {"io2", 4, 100, 256000, 1000},
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

/* Upstream matches this prefix on the key as written (not lower-cased). */
#define TAG_PREFIX "tagSpecification"
#define FSTYPE_KEY "csi.storage.k8s.io/fstype"

/* The keys, in the case the documentation writes them; matched without
 * regard to case. Keep in step with one_param and the README. */
typedef enum key_id {
  K_TYPE,
  K_IOPS,
  K_IOPS_PER_GB,
  K_ALLOW_INCREASE,
  K_ALLOW_ON_MODIFY,
  K_THROUGHPUT,
  K_ENCRYPTED,
  K_KMS,
  K_BLOCK_EXPRESS,
  K_FSTYPE_OLD,
  K_BLOCK_SIZE,
  K_INODE_SIZE,
  K_BYTES_PER_INODE,
  K_NUMBER_OF_INODES,
  K_BIGALLOC,
  K_CLUSTER_SIZE,
  K_EXT4_ENCRYPTION,
  K_INIT_RATE,
  K_BLOCK_ATTACH,
  K_OUTPOST,
  K_N_
} key_id_t;

static const char *const param_keys[K_N_] = {
    "type",
    "iops",
    "iopsPerGB",
    "allowAutoIOPSPerGBIncrease",
    "allowAutoIOPSIncreaseOnModify",
    "throughput",
    "encrypted",
    "kmsKeyId",
    "blockExpress",
    "fsType",
    "blockSize",
    "inodeSize",
    "bytesPerInode",
    "numberOfInodes",
    "ext4BigAlloc",
    "ext4ClusterSize",
    "ext4EncryptionSupport",
    "volumeInitializationRate",
    "blockAttachUntilInitialized",
    "outpostArn",
};

static int key_index(const char *k)
{
  int i;

  for (i = 0; i < K_N_; i++)
    if (berth_str_case_eq(param_keys[i], k))
      return i;
  return -1;
}

static bool is_tag_key(const char *k)
{
  return strncmp(k, TAG_PREFIX, strlen(TAG_PREFIX)) == 0;
}

static berth_status_t get_int(const char *key, const char *v, long long min,
                              long long max, int64_t *out, berth_error_t *err)
{
  long long n;

  if (berth_str_to_ll(v, min, max, &n) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not a whole number "
                           "from %lld to %lld",
                           key, v, min, max);
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

/* mkfs option values: letters and digits only, as the driver requires
 * (they end up on mkfs's command line on the node). */
static berth_status_t get_alnum(const char *key, const char *v,
                                const char **out, berth_error_t *err)
{
  size_t i, n = strlen(v);

  for (i = 0; i < n; i++) {
    char c = v[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
          (c >= 'A' && c <= 'Z')))
      break;
  }
  if (n == 0 || n > 32 || i < n)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not letters and "
                           "digits",
                           key, v);
  *out = v;
  return BERTH_OK;
}

static berth_status_t get_fstype(const char *key, const char *v,
                                 const char **out, berth_error_t *err)
{
  if (strcmp(v, "ext2") != 0 && strcmp(v, "ext3") != 0 &&
      strcmp(v, "ext4") != 0 && strcmp(v, "xfs") != 0 && strcmp(v, "ntfs") != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not one of ext2, "
                           "ext3, ext4, xfs, ntfs",
                           key, v);
  *out = v;
  return BERTH_OK;
}

/* An Outpost's ARN: arn:<partition>:outposts:<region>:<account>:outpost/
 * op-<hex>. */
static bool outpost_arn_ok(const char *v)
{
  const char *o = strstr(v, ":outpost/op-");

  return strncmp(v, "arn:", 4) == 0 && strstr(v, ":outposts:") != NULL &&
         o != NULL && strlen(v) < 200 &&
         strspn(o + 12, "0123456789abcdef") == strlen(o + 12) && o[12] != '\0';
}

static berth_status_t tag_param(const char *k, const char *v,
                                berth_ebs_params_t *p, berth_error_t *err)
{
  const char *eq = strchr(v, '=');
  char buf[512];
  berth_status_t st;

  if (eq == NULL || eq == v)
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: parameter %s: \"%.60s\" is not key=value", k, v);
  else if (strncmp(v, "aws:", 4) == 0)
    st = berth_error_set(
        err, BERTH_EINVAL,
        "ebs: parameter %s: tag keys may not start with aws:", k);
  else if (p->n_tag_specs >= BERTH_EBS_MAX_EXTRA_TAGS)
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: more than %d tagSpecification parameters",
                         BERTH_EBS_MAX_EXTRA_TAGS);
  else
    st = berth_ebs_expand(eq + 1, NULL, NULL, NULL, buf, sizeof(buf), err);
  if (st == BERTH_OK)
    p->tag_specs[p->n_tag_specs++] = v;
  else
    berth_error_prefix(err, k);
  return st;
}

static berth_status_t one_param(key_id_t id, const char *k, const char *v,
                                berth_ebs_params_t *p, berth_error_t *err)
{
  berth_status_t st = BERTH_OK;

  switch (id) {
  case K_TYPE:
    if (find_type(v) == NULL)
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.40s\" is not one of gp2, "
                           "gp3, io1, io2, st1, sc1, standard",
                           k, v);
    p->type = v;
    break;
  case K_IOPS:
    st = get_int(k, v, 1, 256000, &p->iops, err);
    break;
  case K_IOPS_PER_GB:
    st = get_int(k, v, 1, 1000, &p->iops_per_gb, err);
    break;
  case K_ALLOW_INCREASE:
    st = get_bool(k, v, &p->allow_iops_increase, err);
    break;
  case K_ALLOW_ON_MODIFY:
    st = get_bool(k, v, &p->allow_iops_increase_on_modify, err);
    break;
  case K_THROUGHPUT:
    st = get_int(k, v, 1, 2000, &p->throughput, err);
    break;
  case K_ENCRYPTED:
    st = get_bool(k, v, &p->encrypted, err);
    break;
  case K_KMS:
    p->kms_key_id = v[0] != '\0' ? v : NULL;
    break;
  case K_BLOCK_EXPRESS: {
    /* Deprecated upstream (v1.47): every io2 volume is Block Express;
     * the value is still checked. */
    bool ignored;
    st = get_bool(k, v, &ignored, err);
    break;
  }
  case K_FSTYPE_OLD:
    st = get_fstype(k, v, &p->fstype, err);
    break;
  case K_BLOCK_SIZE:
    st = get_alnum(k, v, &p->block_size, err);
    break;
  case K_INODE_SIZE:
    st = get_alnum(k, v, &p->inode_size, err);
    break;
  case K_BYTES_PER_INODE:
    st = get_alnum(k, v, &p->bytes_per_inode, err);
    break;
  case K_NUMBER_OF_INODES:
    st = get_alnum(k, v, &p->number_of_inodes, err);
    break;
  case K_BIGALLOC:
    st = get_bool(k, v, &p->ext4_bigalloc, err);
    break;
  case K_CLUSTER_SIZE:
    st = get_alnum(k, v, &p->ext4_cluster_size, err);
    break;
  case K_EXT4_ENCRYPTION:
    st = get_bool(k, v, &p->ext4_encryption, err);
    break;
  case K_INIT_RATE:
    /* EC2's range for a volume initialization rate, MiB/s. */
    st = get_int(k, v, 100, 300, &p->volume_initialization_rate, err);
    break;
  case K_BLOCK_ATTACH:
    st = get_bool(k, v, &p->block_attach_until_initialized, err);
    break;
  case K_OUTPOST:
    if (!outpost_arn_ok(v))
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: \"%.60s\" is not an Outpost "
                           "ARN (arn:aws:outposts:<region>:<account>:outpost/"
                           "op-...)",
                           k, v);
    p->outpost_arn = v;
    break;
  case K_N_:
    st = berth_error_set(err, BERTH_EINTERNAL, "ebs: bad key");
    break;
  }
  return st;
}

/* The mkfs options each file system cannot take (the driver's
 * FileSystemConfigs). */
static berth_status_t check_fs_options(const berth_ebs_params_t *p,
                                       berth_error_t *err)
{
  bool ext23 = strcmp(p->fstype, "ext2") == 0 || strcmp(p->fstype, "ext3") == 0;
  bool xfs = strcmp(p->fstype, "xfs") == 0;
  bool ntfs = strcmp(p->fstype, "ntfs") == 0;
  const char *bad = NULL;

  if (ntfs && (p->block_size != NULL || p->inode_size != NULL))
    bad = p->block_size != NULL ? "blockSize" : "inodeSize";
  else if ((xfs || ntfs) && p->bytes_per_inode != NULL)
    bad = "bytesPerInode";
  else if ((xfs || ntfs) && p->number_of_inodes != NULL)
    bad = "numberOfInodes";
  else if ((ext23 || xfs || ntfs) && p->ext4_bigalloc)
    bad = "ext4BigAlloc";
  else if ((ext23 || xfs || ntfs) && p->ext4_cluster_size != NULL)
    bad = "ext4ClusterSize";
  else if ((ext23 || xfs || ntfs) && p->ext4_encryption)
    bad = "ext4EncryptionSupport";
  if (bad != NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s cannot be used with fstype %s",
                           bad, p->fstype);
  if (p->ext4_cluster_size != NULL && !p->ext4_bigalloc)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter ext4ClusterSize needs "
                           "ext4BigAlloc: \"true\"");
  return BERTH_OK;
}

/* The rules between parameters, once all are read. */
static berth_status_t check_combination(berth_ebs_params_t *p, bool enc_set,
                                        berth_error_t *err)
{
  const vtype_t *t = find_type(p->type);

  if (p->iops != 0 && p->iops_per_gb != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameters iops and iopsPerGB are exclusive");
  if ((p->iops != 0 || p->iops_per_gb != 0) && t->min_iops == 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s: volume type %s has no "
                           "provisioned IOPS",
                           p->iops != 0 ? "iops" : "iopsPerGB", p->type);
  if (p->throughput != 0 && strcmp(p->type, "gp3") != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter throughput: only gp3 volumes have "
                           "provisioned throughput, not %s",
                           p->type);
  if (p->kms_key_id != NULL) {
    /* A key means encryption (EC2 encrypts with it); an explicit
     * encrypted: "false" beside it is a contradiction, not a choice. */
    if (enc_set && !p->encrypted)
      return berth_error_set(err, BERTH_EINVAL,
                             "ebs: parameter kmsKeyId contradicts encrypted: "
                             "\"false\"");
    p->encrypted = true;
  }
  return check_fs_options(p, err);
}

berth_status_t berth_ebs_params_parse(const json_t *parameters,
                                      berth_ebs_params_t *out,
                                      berth_error_t *err)
{
  const char *seen[K_N_];
  const char *fstype_new = NULL;
  berth_ebs_params_t p;
  bool enc_set = false;
  const char *k;
  json_t *v;
  berth_status_t st = BERTH_OK;

  memset(&p, 0, sizeof(p));
  memset(seen, 0, sizeof(seen));
  p.type = "gp3";
  if (parameters != NULL && !json_is_object(parameters))
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: the class's parameters are not an object");
  json_object_foreach((json_t *)parameters, k, v)
  {
    int id = key_index(k);
    const char *val = json_string_value(v);

    if (id < 0 && strcmp(k, FSTYPE_KEY) != 0 && !is_tag_key(k)) {
      const char *other = berth_backend_foreign_key("ebs", k);
      char quoted[80];
      berth_backend_quote(k, strlen(k), quoted, sizeof(quoted));
      st = berth_error_set(
          err, BERTH_EINVAL,
          "ebs: unknown parameter %s%s%s (known, in any case: type, iops, "
          "iopsPerGB, allowAutoIOPSPerGBIncrease, "
          "allowAutoIOPSIncreaseOnModify, throughput, encrypted, kmsKeyId, "
          "blockExpress, fsType, blockSize, inodeSize, bytesPerInode, "
          "numberOfInodes, ext4BigAlloc, ext4ClusterSize, "
          "ext4EncryptionSupport, volumeInitializationRate, "
          "blockAttachUntilInitialized, outpostArn; exactly: "
          "tagSpecification_N, " FSTYPE_KEY ")",
          quoted, other != NULL ? ": " : "", other != NULL ? other : "");
      goto done;
    }
    if (!json_is_string(v) || json_string_length(v) != strlen(val)) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "ebs: parameter %s is not a string without NUL "
                           "bytes",
                           k);
      goto done;
    }
    if (id >= 0) {
      /* Two spellings of one key: upstream keeps whichever its map
       * iteration meets last; refuse rather than guess. */
      if (seen[id] != NULL) {
        st = berth_error_set(err, BERTH_EINVAL,
                             "ebs: parameters %s and %s are the same key "
                             "(keys are case-insensitive)",
                             seen[id], k);
        goto done;
      }
      seen[id] = k;
      enc_set = enc_set || id == K_ENCRYPTED;
      st = one_param((key_id_t)id, k, val, &p, err);
    } else if (strcmp(k, FSTYPE_KEY) == 0) {
      st = get_fstype(k, val, &fstype_new, err);
    } else {
      st = tag_param(k, val, &p, err);
    }
    if (st != BERTH_OK)
      goto done;
  }
  if (fstype_new != NULL && p.fstype != NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "ebs: fstype given twice, as %s and " FSTYPE_KEY,
                         seen[K_FSTYPE_OLD]);
    goto done;
  }
  if (fstype_new != NULL)
    p.fstype = fstype_new;
  if (p.fstype == NULL)
    p.fstype = "ext4";
  st = check_combination(&p, enc_set, err);
done:
  if (st == BERTH_OK)
    *out = p;
  return st;
}

berth_status_t berth_ebs_check_claim(const berth_ebs_params_t *p,
                                     unsigned access_modes, bool block,
                                     berth_error_t *err)
{
  const char *opt = NULL;

  /* The driver's controller supports SINGLE_NODE_WRITER and, for Block
   * volumes, MULTI_NODE_MULTI_WRITER; anything else is InvalidArgument
   * "Volume capabilities not supported". */
  if (access_modes & BERTH_ACCESS_ROX)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: InvalidArgument: volume capabilities not "
                           "supported: spec.accessModes ReadOnlyMany (an EBS "
                           "disk is attached read-write)");
  if ((access_modes & BERTH_ACCESS_RWX) && !block)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: InvalidArgument: volume capabilities not "
                           "supported: spec.accessModes ReadWriteMany needs "
                           "spec.volumeMode Block (EBS Multi-Attach)");
  if ((access_modes & BERTH_ACCESS_RWX) && strcmp(p->type, "io1") != 0 &&
      strcmp(p->type, "io2") != 0)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: spec.accessModes ReadWriteMany (Multi-Attach) "
                           "needs type io1 or io2, not %s",
                           p->type);
  if (!block)
    return BERTH_OK;
  if (p->block_size != NULL)
    opt = "blockSize";
  else if (p->inode_size != NULL)
    opt = "inodeSize";
  else if (p->bytes_per_inode != NULL)
    opt = "bytesPerInode";
  else if (p->number_of_inodes != NULL)
    opt = "numberOfInodes";
  else if (p->ext4_bigalloc)
    opt = "ext4BigAlloc";
  else if (p->ext4_cluster_size != NULL)
    opt = "ext4ClusterSize";
  else if (p->ext4_encryption)
    opt = "ext4EncryptionSupport";
  if (opt != NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "ebs: InvalidArgument: cannot use %s with "
                           "spec.volumeMode Block",
                           opt);
  return BERTH_OK;
}

json_t *berth_ebs_volume_attributes(const berth_ebs_params_t *p)
{
  json_t *a = json_object();
  int rc = 0;

  if (a == NULL)
    return NULL;
  if (p->block_size != NULL)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_BLOCK_SIZE,
                              json_string(p->block_size));
  if (p->inode_size != NULL)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_INODE_SIZE,
                              json_string(p->inode_size));
  if (p->bytes_per_inode != NULL)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_BYTES_PER_INODE,
                              json_string(p->bytes_per_inode));
  if (p->number_of_inodes != NULL)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_NUMBER_OF_INODES,
                              json_string(p->number_of_inodes));
  if (p->ext4_bigalloc)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_EXT4_BIGALLOC,
                              json_string("true"));
  if (p->ext4_cluster_size != NULL)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_EXT4_CLUSTER_SIZE,
                              json_string(p->ext4_cluster_size));
  if (p->ext4_encryption)
    rc |= json_object_set_new(a, BERTH_EBS_ATTR_EXT4_ENCRYPTION,
                              json_string("true"));
  if (rc != 0) {
    json_decref(a);
    return NULL;
  }
  return a;
}

berth_status_t berth_ebs_parse_extra_tags(const char *text, json_t **out,
                                          berth_error_t *err)
{
  json_t *o = json_object();
  const char *s = text != NULL ? text : "";
  berth_status_t st = BERTH_OK;

  if (o == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  while (*s != '\0') {
    size_t n = strcspn(s, ",");
    const char *eq = memchr(s, '=', n);
    char key[128], val[256];
    size_t kl = eq != NULL ? (size_t)(eq - s) : 0;
    size_t vl = eq != NULL ? n - kl - 1 : 0;

    if (eq == NULL || kl == 0 || kl >= sizeof(key) || vl >= sizeof(val)) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "--extra-tags: \"%.*s\" is not key=value (key 1 "
                           "to 127, value at most 255 characters)",
                           (int)(n > 60 ? 60 : n), s);
      break;
    }
    memcpy(key, s, kl);
    key[kl] = '\0';
    memcpy(val, eq + 1, vl);
    val[vl] = '\0';
    if (strncmp(key, "aws:", 4) == 0) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "--extra-tags: tag keys may not start with aws:");
      break;
    }
    if (json_object_set_new(o, key, json_string(val)) != 0) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      break;
    }
    s += n;
    if (*s == ',')
      s++;
  }
  if (st != BERTH_OK) {
    json_decref(o);
    return st;
  }
  *out = o;
  return BERTH_OK;
}

/* FNV-1a, 32 bits: a stable hash, the same in every replica and run. */
static uint32_t fnv1a(const char *s, size_t n)
{
  uint32_t h = 2166136261u;
  size_t i;

  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

const char *berth_ebs_pick_zone(const char *const *zones, size_t n,
                                const char *claim_name)
{
  size_t len = strlen(claim_name), digits = 0;
  unsigned long long ordinal = 0;
  uint32_t h;

  while (digits < len && digits < 9 && claim_name[len - 1 - digits] >= '0' &&
         claim_name[len - 1 - digits] <= '9')
    digits++;
  if (digits > 0 && digits < len && claim_name[len - 1 - digits] == '-') {
    size_t i;
    for (i = len - digits; i < len; i++)
      ordinal = ordinal * 10 + (unsigned)(claim_name[i] - '0');
    h = fnv1a(claim_name, len - digits - 1);
  } else {
    h = fnv1a(claim_name, len);
  }
  return zones[(h + ordinal) % n];
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

berth_status_t berth_ebs_iops(const berth_ebs_params_t *p, int64_t size_gib,
                              int64_t *out, berth_error_t *err)
{
  const vtype_t *t = find_type(p->type);
  int64_t iops, cap;

  *out = 0;
  if (t == NULL || t->min_iops == 0 || (p->iops == 0 && p->iops_per_gb == 0))
    return BERTH_OK;
  iops = p->iops != 0 ? p->iops : p->iops_per_gb * size_gib;
  if (iops < t->min_iops) {
    if (!p->allow_iops_increase)
      return berth_error_set(err, BERTH_EINVAL,
                             "ebs: %lld IOPS for a %lld GiB %s disk is below "
                             "the type's minimum of %lld (set "
                             "allowAutoIOPSPerGBIncrease: \"true\" to raise "
                             "it)",
                             (long long)iops, (long long)size_gib, t->name,
                             (long long)t->min_iops);
    iops = t->min_iops;
  }
  /* Capped at the type's maximum and its IOPS per GiB, never below the
   * type's minimum (a small gp3 disk still has its 3,000 IOPS). */
  cap = t->max_iops_per_gib * size_gib;
  if (cap < t->min_iops)
    cap = t->min_iops;
  if (cap > t->max_iops)
    cap = t->max_iops;
  if (iops > cap)
    iops = cap;
  *out = iops;
  return BERTH_OK;
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
