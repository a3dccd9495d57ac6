/* SPDX-License-Identifier: Apache-2.0 */
/* Endpoint resolution for EC2, EFS and STS, see include/berth/aws.h.
 *
 * A hand-written equivalent of the SDKs' endpoint rule sets
 * (botocore/data/<service>/<version>/endpoint-rule-set-1.json) for the
 * partitions AWS publishes (partitions.json): the host is
 * "<prefix>.<region>.<dnsSuffix>", with "-fips" prefixes and the
 * dual-stack suffixes as the rule sets say. The botocore endpoint tests
 * (shared testdata, endpoint-tests-botocore/) check every case. */
#include "aws_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct partition {
  const char *prefix;      /* region prefix, "" for the default */
  const char *suffix;      /* DNS suffix */
  const char *dual_suffix; /* dual-stack DNS suffix, NULL: none */
  bool gov;                /* aws-us-gov: some FIPS hosts differ */
} partition_t;

/* Longest prefixes first. */
static const partition_t partitions[] = {
    {"us-isob-", "sc2s.sgov.gov", NULL, false},
    {"us-isof-", "csp.hci.ic.gov", NULL, false},
    {"us-iso-", "c2s.ic.gov", NULL, false},
    {"eu-isoe-", "cloud.adc-e.uk", NULL, false},
    {"us-gov-", "amazonaws.com", "api.aws", true},
    {"eusc-", "amazonaws.eu", NULL, false},
    {"cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn", false},
    {"", "amazonaws.com", "api.aws", false},
};

/* The regions whose STS calls go to the global endpoint under
 * AWS_STS_REGIONAL_ENDPOINTS=legacy (the rule set's list). */
static const char *const sts_legacy_regions[] = {
    "ap-northeast-1", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "aws-global", "ca-central-1",
    "eu-central-1",   "eu-north-1", "eu-west-1",
    "eu-west-2",      "eu-west-3",  "sa-east-1",
    "us-east-1",      "us-east-2",  "us-west-1",
    "us-west-2",      NULL};

static const partition_t *partition_of(const char *region)
{
  size_t i;

  for (i = 0; i < sizeof(partitions) / sizeof(partitions[0]); i++)
    if (strncmp(region, partitions[i].prefix, strlen(partitions[i].prefix)) ==
        0)
      return &partitions[i];
  return &partitions[sizeof(partitions) / sizeof(partitions[0]) - 1];
}

static bool valid_region(const char *r)
{
  const char *p;

  if (*r == '\0' || strlen(r) > 63)
    return false;
  for (p = r; *p != '\0'; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
      return false;
  return true;
}

const char *berth_aws_service_name(berth_aws_service_t service)
{
  switch (service) {
  case BERTH_AWS_EC2:
    return "EC2";
  case BERTH_AWS_EFS:
    return "EFS";
  case BERTH_AWS_STS:
    return "STS";
  default:
    return "?";
  }
}

static const char *signing_name(berth_aws_service_t service)
{
  switch (service) {
  case BERTH_AWS_EC2:
    return "ec2";
  case BERTH_AWS_EFS:
    return "elasticfilesystem";
  default:
    return "sts";
  }
}

berth_status_t berth_aws_endpoint_resolve(berth_aws_service_t service,
                                          const berth_aws_endpoint_params_t *p,
                                          berth_aws_endpoint_t *out,
                                          berth_error_t *err)
{
  berth_aws_endpoint_t ep;
  const partition_t *part;
  const char *region = p->region;
  const char *host_prefix;
  const char *suffix;
  char prefix[64];
  int n;

  memset(&ep, 0, sizeof(ep));
  if (service < 0 || service >= BERTH_AWS_SERVICE_MAX_)
    return berth_error_set(err, BERTH_EINVAL, "aws: unknown service");
  ep.signing_name = signing_name(service);
  if (p->custom_url != NULL && *p->custom_url != '\0') {
    if (p->use_fips)
      return berth_error_set(err, BERTH_EINVAL,
                             "Invalid Configuration: FIPS and custom endpoint "
                             "are not supported");
    if (p->use_dualstack)
      return berth_error_set(err, BERTH_EINVAL,
                             "Invalid Configuration: Dualstack and custom "
                             "endpoint are not supported");
    if (berth_strlcpy(ep.url, p->custom_url, sizeof(ep.url)) >= sizeof(ep.url))
      return berth_error_set(err, BERTH_EINVAL, "aws: endpoint URL too long");
    /* No trailing slash: paths are appended. */
    n = (int)strlen(ep.url);
    while (n > 0 && ep.url[n - 1] == '/')
      ep.url[--n] = '\0';
    berth_strlcpy(ep.signing_region,
                  region != NULL && *region != '\0' ? region : "us-east-1",
                  sizeof(ep.signing_region));
    *out = ep;
    return BERTH_OK;
  }
  if (region == NULL || *region == '\0')
    return berth_error_set(err, BERTH_EINVAL,
                           "Invalid Configuration: Missing Region");
  if (!valid_region(region))
    return berth_error_set(err, BERTH_EINVAL, "aws: invalid region \"%.64s\"",
                           region);
  part = partition_of(region);
  berth_strlcpy(ep.signing_region, region, sizeof(ep.signing_region));

  if (service == BERTH_AWS_STS && !p->use_fips && !p->use_dualstack) {
    bool global = strcmp(region, "aws-global") == 0;
    size_t i;

    for (i = 0; !global && p->sts_global && sts_legacy_regions[i] != NULL; i++)
      global = strcmp(region, sts_legacy_regions[i]) == 0;
    if (global) {
      berth_strlcpy(ep.url, "https://sts.amazonaws.com", sizeof(ep.url));
      berth_strlcpy(ep.signing_region, "us-east-1", sizeof(ep.signing_region));
      *out = ep;
      return BERTH_OK;
    }
  }
  if (p->use_dualstack && part->dual_suffix == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "DualStack is enabled but this partition does not "
                           "support DualStack");
  switch (service) {
  case BERTH_AWS_EC2:
    host_prefix = "ec2";
    break;
  case BERTH_AWS_EFS:
    /* Dual-stack EFS is "efs", otherwise "elasticfilesystem". */
    host_prefix = p->use_dualstack ? "efs" : "elasticfilesystem";
    break;
  default:
    host_prefix = "sts";
    break;
  }
  /* In GovCloud, EC2 and STS are FIPS endpoints already (no "-fips"),
   * except on dual-stack. */
  if (p->use_fips &&
      !(part->gov && !p->use_dualstack && service != BERTH_AWS_EFS))
    snprintf(prefix, sizeof(prefix), "%s-fips", host_prefix);
  else
    snprintf(prefix, sizeof(prefix), "%s", host_prefix);
  suffix = p->use_dualstack ? part->dual_suffix : part->suffix;
  n = snprintf(ep.url, sizeof(ep.url), "https://%s.%s.%s", prefix, region,
               suffix);
  if (n < 0 || (size_t)n >= sizeof(ep.url))
    return berth_error_set(err, BERTH_EINVAL, "aws: endpoint URL too long");
  *out = ep;
  return BERTH_OK;
}

berth_status_t berth__aws_endpoint_from_config(const berth__aws_config_t *cfg,
                                               berth_aws_service_t service,
                                               const char *region,
                                               berth_aws_endpoint_t *out,
                                               berth_error_t *err)
{
  berth_aws_endpoint_params_t p;
  static const int per_service[] = {BERTH__AWS_ENV_ENDPOINT_URL_EC2,
                                    BERTH__AWS_ENV_ENDPOINT_URL_EFS,
                                    BERTH__AWS_ENV_ENDPOINT_URL_STS};
  const char *sts_mode;
  berth_status_t st;

  memset(&p, 0, sizeof(p));
  p.region = region;
  p.use_fips = berth__aws_env_true(cfg, BERTH__AWS_ENV_USE_FIPS);
  p.use_dualstack = berth__aws_env_true(cfg, BERTH__AWS_ENV_USE_DUALSTACK);
  sts_mode = berth__aws_env(cfg, BERTH__AWS_ENV_STS_REGIONAL_ENDPOINTS);
  p.sts_global = sts_mode != NULL && strcasecmp(sts_mode, "legacy") == 0;
  if (!berth__aws_env_true(cfg, BERTH__AWS_ENV_IGNORE_ENDPOINT_URLS) &&
      service >= 0 && service < BERTH_AWS_SERVICE_MAX_) {
    p.custom_url = berth__aws_env(cfg, per_service[service]);
    if (p.custom_url == NULL)
      p.custom_url = berth__aws_env(cfg, BERTH__AWS_ENV_ENDPOINT_URL);
  }
  st = berth_aws_endpoint_resolve(service, &p, out, err);
  if (st == BERTH_OK && p.custom_url != NULL) {
    char scheme[8], host[256], path[256];
    if (berth__aws_url_split(out->url, scheme, sizeof(scheme), host,
                             sizeof(host), path, sizeof(path)) != BERTH_OK)
      st = berth_error_set(err, BERTH_EINVAL,
                           "aws: %s endpoint URL is not an http(s) URL "
                           "without query or user information",
                           berth_aws_service_name(service));
  }
  if (st != BERTH_OK)
    berth_error_prefix(err, berth_aws_service_name(service));
  return st;
}
