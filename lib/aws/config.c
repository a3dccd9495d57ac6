/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS configuration snapshot, see lib/aws/aws_int.h: options and the
 * environment variables the SDKs read, copied once. */
#include "aws_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BERTH__AWS_ENV_NAME(id, name) name,
static const char *const env_names[BERTH__AWS_ENV_COUNT_] = {
    BERTH__AWS_ENV_LIST(BERTH__AWS_ENV_NAME)};
#undef BERTH__AWS_ENV_NAME

static char *dup_or_null(const char *s)
{
  return s != NULL ? strdup(s) : NULL;
}

static const char *lookup(const berth_aws_options_t *opts, const char *name)
{
  if (opts != NULL && opts->getenv != NULL)
    return opts->getenv(opts->getenv_ctx, name);
  return getenv(name);
}

berth_status_t berth__aws_config_load(const berth_aws_options_t *opts,
                                      berth__aws_config_t *cfg)
{
  berth_aws_options_t defaults;
  berth_status_t st = BERTH_OK;
  size_t i;

  memset(cfg, 0, sizeof(*cfg));
  if (opts == NULL) {
    berth_aws_options_init(&defaults);
    opts = &defaults;
  }
  for (i = 0; i < BERTH__AWS_ENV_COUNT_; i++) {
    const char *v = lookup(opts, env_names[i]);
    if (v != NULL && *v != '\0') {
      cfg->env[i] = strdup(v);
      if (cfg->env[i] == NULL)
        st = BERTH_ENOMEM;
    }
  }
  if (opts->region != NULL && *opts->region != '\0' &&
      (cfg->region = strdup(opts->region)) == NULL)
    st = BERTH_ENOMEM;
  if (opts->profile != NULL && *opts->profile != '\0' &&
      (cfg->profile = strdup(opts->profile)) == NULL)
    st = BERTH_ENOMEM;
  if (opts->ca_file != NULL && (cfg->ca_file = strdup(opts->ca_file)) == NULL)
    st = BERTH_ENOMEM;
  if (opts->user_agent != NULL &&
      (cfg->user_agent = strdup(opts->user_agent)) == NULL)
    st = BERTH_ENOMEM;
  cfg->clock = opts->clock != NULL ? opts->clock : berth_clock_system();
  cfg->rand = opts->rand != NULL ? opts->rand : berth_rand_system();
  cfg->connect_timeout_ms = opts->connect_timeout_ms;
  cfg->timeout_ms = opts->timeout_ms;
  cfg->metadata_timeout_ms = opts->metadata_timeout_ms > 0
                                 ? opts->metadata_timeout_ms
                                 : BERTH_AWS_DEFAULT_METADATA_TIMEOUT_MS;
  cfg->max_attempts = opts->max_attempts > 0 ? opts->max_attempts
                                             : BERTH_AWS_DEFAULT_MAX_ATTEMPTS;
  cfg->retry_base_ms = opts->retry_base_ms > 0
                           ? opts->retry_base_ms
                           : BERTH_AWS_DEFAULT_RETRY_BASE_MS;
  cfg->retry_cap_ms = opts->retry_cap_ms > 0 ? opts->retry_cap_ms
                                             : BERTH_AWS_DEFAULT_RETRY_CAP_MS;
  cfg->retry_quota = opts->retry_quota != 0 ? opts->retry_quota
                                            : BERTH_AWS_DEFAULT_RETRY_QUOTA;
  cfg->refresh_window_ms = opts->refresh_window_ms > 0
                               ? opts->refresh_window_ms
                               : BERTH_AWS_DEFAULT_REFRESH_WINDOW_MS;
  cfg->no_imds =
      opts->no_imds || berth__aws_env_true(cfg, BERTH__AWS_ENV_IMDS_DISABLED);
  if (st != BERTH_OK)
    berth__aws_config_cleanup(cfg);
  return st;
}

berth_status_t berth__aws_config_copy(const berth__aws_config_t *src,
                                      berth__aws_config_t *dst)
{
  berth_status_t st = BERTH_OK;
  size_t i;

  *dst = *src;
  for (i = 0; i < BERTH__AWS_ENV_COUNT_; i++) {
    dst->env[i] = dup_or_null(src->env[i]);
    if (src->env[i] != NULL && dst->env[i] == NULL)
      st = BERTH_ENOMEM;
  }
  dst->region = dup_or_null(src->region);
  dst->profile = dup_or_null(src->profile);
  dst->ca_file = dup_or_null(src->ca_file);
  dst->user_agent = dup_or_null(src->user_agent);
  if ((src->region != NULL && dst->region == NULL) ||
      (src->profile != NULL && dst->profile == NULL) ||
      (src->ca_file != NULL && dst->ca_file == NULL) ||
      (src->user_agent != NULL && dst->user_agent == NULL))
    st = BERTH_ENOMEM;
  if (st != BERTH_OK)
    berth__aws_config_cleanup(dst);
  return st;
}

void berth__aws_config_cleanup(berth__aws_config_t *cfg)
{
  size_t i;

  if (cfg == NULL)
    return;
  for (i = 0; i < BERTH__AWS_ENV_COUNT_; i++)
    berth__aws_free_secret(cfg->env[i]);
  free(cfg->region);
  free(cfg->profile);
  free(cfg->ca_file);
  free(cfg->user_agent);
  memset(cfg, 0, sizeof(*cfg));
}

const char *berth__aws_env(const berth__aws_config_t *cfg, int id)
{
  if (id < 0 || id >= BERTH__AWS_ENV_COUNT_)
    return NULL;
  return cfg->env[id];
}

bool berth__aws_env_true(const berth__aws_config_t *cfg, int id)
{
  const char *v = berth__aws_env(cfg, id);

  return v != NULL && strcasecmp(v, "true") == 0;
}

const char *berth__aws_profile_name(const berth__aws_config_t *cfg,
                                    bool *explicit_out)
{
  const char *name = cfg->profile;

  if (name == NULL)
    name = berth__aws_env(cfg, BERTH__AWS_ENV_PROFILE);
  if (name == NULL)
    name = berth__aws_env(cfg, BERTH__AWS_ENV_DEFAULT_PROFILE);
  if (explicit_out != NULL)
    *explicit_out = name != NULL;
  return name != NULL ? name : "default";
}

void berth_aws_options_init(berth_aws_options_t *opts)
{
  memset(opts, 0, sizeof(*opts));
}
