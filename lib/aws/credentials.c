/* SPDX-License-Identifier: Apache-2.0 */
/* The credential provider chain, see include/berth/aws.h.
 *
 * The order is the SDKs' default chain (botocore's
 * credentials.create_credential_resolver, the Go SDK v2's
 * config.resolveCredentialChain): environment, web identity, shared
 * files (with role_arn / source_profile), container endpoint, IMDS. The
 * first source that is configured is chosen once, on the first get, and
 * kept; its temporary credentials are cached and refreshed within the
 * refresh window before they expire. */
#include "aws_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_FILE_LIMIT (64 * 1024)
#define MAX_ROLE_CHAIN 8

typedef enum source {
  SRC_UNKNOWN = 0, /* not chosen yet */
  SRC_STATIC,
  SRC_ENV,
  SRC_WEB_IDENTITY,
  SRC_PROFILE,
  SRC_CONTAINER,
  SRC_IMDS
} source_t;

struct berth_aws_creds_provider {
  pthread_mutex_t lock;
  berth__aws_config_t cfg;
  source_t source;
  berth_aws_credentials_t cached;
  bool have_cached;
  uint64_t fetches;
  berth__aws_transport_t *sts; /* made on first STS use */
  char *sts_region;            /* env/profile region for STS, or NULL */
};

void berth_aws_credentials_cleanup(berth_aws_credentials_t *c)
{
  if (c == NULL)
    return;
  berth__aws_free_secret(c->access_key_id);
  berth__aws_free_secret(c->secret_access_key);
  berth__aws_free_secret(c->session_token);
  memset(c, 0, sizeof(*c));
}

berth_status_t berth_aws_credentials_copy(const berth_aws_credentials_t *src,
                                          berth_aws_credentials_t *dst)
{
  berth_aws_credentials_t c;

  memset(&c, 0, sizeof(c));
  c.expiration_ms = src->expiration_ms;
  c.source = src->source;
  if (src->access_key_id != NULL &&
      (c.access_key_id = strdup(src->access_key_id)) == NULL)
    goto oom;
  if (src->secret_access_key != NULL &&
      (c.secret_access_key = strdup(src->secret_access_key)) == NULL)
    goto oom;
  if (src->session_token != NULL &&
      (c.session_token = strdup(src->session_token)) == NULL)
    goto oom;
  *dst = c;
  return BERTH_OK;

oom:
  berth_aws_credentials_cleanup(&c);
  return BERTH_ENOMEM;
}

/* Credentials from three strings (token may be NULL or ""). */
static berth_status_t make_static(const char *ak, const char *sk,
                                  const char *token, const char *source,
                                  berth_aws_credentials_t *out,
                                  berth_error_t *err)
{
  berth_aws_credentials_t c;

  memset(&c, 0, sizeof(c));
  c.source = source;
  c.access_key_id = strdup(ak);
  c.secret_access_key = strdup(sk);
  if (token != NULL && *token != '\0')
    c.session_token = strdup(token);
  if (c.access_key_id == NULL || c.secret_access_key == NULL ||
      (token != NULL && *token != '\0' && c.session_token == NULL)) {
    berth_aws_credentials_cleanup(&c);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  *out = c;
  return BERTH_OK;
}

/* --- STS plumbing ------------------------------------------------------- */

static berth_status_t sts_endpoint(berth_aws_creds_provider_t *p,
                                   berth_aws_endpoint_t *ep, berth_error_t *err)
{
  berth_status_t st;

  if (p->sts == NULL) {
    st = berth__aws_transport_create(&p->cfg, &p->sts, err);
    if (st != BERTH_OK)
      return st;
  }
  /* Without a region, the global endpoint (as the SDKs do). */
  return berth__aws_endpoint_from_config(
      &p->cfg, BERTH_AWS_STS,
      p->sts_region != NULL ? p->sts_region : "aws-global", ep, err);
}

static char *session_name(berth_aws_creds_provider_t *p, const char *given)
{
  if (given != NULL && *given != '\0')
    return strdup(given);
  return berth_strdup_printf("berth-%lld",
                             (long long)berth_clock_realtime_ms(p->cfg.clock));
}

static berth_status_t web_identity(berth_aws_creds_provider_t *p,
                                   const char *role_arn, const char *token_file,
                                   const char *session,
                                   berth_aws_credentials_t *out,
                                   berth_error_t *err)
{
  berth_aws_endpoint_t ep;
  char *token = NULL;
  char *name = NULL;
  berth_status_t st;

  st = berth__aws_read_file(token_file, TOKEN_FILE_LIMIT, &token);
  if (st != BERTH_OK)
    return berth_error_set(err, st == BERTH_ENOMEM ? st : BERTH_EUNAUTHORIZED,
                           "web identity: cannot read the token file %s: %s",
                           token_file, berth_strerror(st));
  if (*token == '\0') {
    st =
        berth_error_set(err, BERTH_EUNAUTHORIZED,
                        "web identity: the token file %s is empty", token_file);
    goto done;
  }
  name = session_name(p, session);
  if (name == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  st = sts_endpoint(p, &ep, err);
  if (st == BERTH_OK)
    st = berth__aws_sts_web_identity(p->sts, &ep, role_arn, name, token, out,
                                     err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "web identity");

done:
  free(name);
  berth__aws_free_secret(token);
  return st;
}

/* --- shared files -------------------------------------------------------- */

static berth_status_t profile_fetch(berth_aws_creds_provider_t *p,
                                    const char *name, int depth,
                                    berth_aws_credentials_t *out,
                                    berth_error_t *err);

static berth_status_t env_fetch(berth_aws_creds_provider_t *p,
                                berth_aws_credentials_t *out,
                                berth_error_t *err)
{
  const char *ak = berth__aws_env(&p->cfg, BERTH__AWS_ENV_ACCESS_KEY_ID);
  const char *sk = berth__aws_env(&p->cfg, BERTH__AWS_ENV_SECRET_ACCESS_KEY);

  if (ak == NULL || sk == NULL)
    return berth_error_set(
        err, ak == NULL && sk == NULL ? BERTH_ENOTFOUND : BERTH_EINVAL,
        "environment: %s is set but %s is not",
        ak != NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
        ak != NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
  return make_static(ak, sk,
                     berth__aws_env(&p->cfg, BERTH__AWS_ENV_SESSION_TOKEN),
                     "environment", out, err);
}

/* The credentials a role profile's source gives. */
static berth_status_t role_source(berth_aws_creds_provider_t *p,
                                  const berth__aws_profile_t *prof, int depth,
                                  berth_aws_credentials_t *out,
                                  berth_error_t *err)
{
  const char *source = berth__aws_profile_get(prof, "source_profile");
  const char *cs = berth__aws_profile_get(prof, "credential_source");
  const char *ak = berth__aws_profile_get(prof, "aws_access_key_id");
  const char *sk = berth__aws_profile_get(prof, "aws_secret_access_key");

  if (source != NULL && cs != NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "profile %s: source_profile and credential_source "
                           "are exclusive",
                           prof->name);
  if (source != NULL) {
    /* A profile may name itself as source when it has static keys. */
    if (strcmp(source, prof->name) == 0) {
      if (ak == NULL || sk == NULL)
        return berth_error_set(err, BERTH_EINVAL,
                               "profile %s: source_profile names itself but "
                               "has no static keys",
                               prof->name);
      return make_static(ak, sk,
                         berth__aws_profile_get(prof, "aws_session_token"),
                         "profile", out, err);
    }
    return profile_fetch(p, source, depth + 1, out, err);
  }
  if (cs != NULL) {
    if (strcmp(cs, "Environment") == 0)
      return env_fetch(p, out, err);
    if (strcmp(cs, "Ec2InstanceMetadata") == 0)
      return berth__aws_imds_credentials(&p->cfg, out, err);
    if (strcmp(cs, "EcsContainer") == 0)
      return berth__aws_container_credentials(&p->cfg, out, err);
    return berth_error_set(err, BERTH_EINVAL,
                           "profile %s: unknown credential_source \"%.40s\" "
                           "(Environment, Ec2InstanceMetadata or "
                           "EcsContainer)",
                           prof->name, cs);
  }
  return berth_error_set(err, BERTH_EINVAL,
                         "profile %s: role_arn needs source_profile, "
                         "credential_source or web_identity_token_file",
                         prof->name);
}

static berth_status_t profile_fetch(berth_aws_creds_provider_t *p,
                                    const char *name, int depth,
                                    berth_aws_credentials_t *out,
                                    berth_error_t *err)
{
  berth__aws_profile_t prof;
  berth_aws_credentials_t src;
  const char *role_arn, *ak, *sk, *wif;
  berth_status_t st;

  memset(&src, 0, sizeof(src));
  if (depth > MAX_ROLE_CHAIN)
    return berth_error_set(err, BERTH_EINVAL,
                           "profile %s: source_profile chain longer than %d "
                           "or cyclic",
                           name, MAX_ROLE_CHAIN);
  st = berth__aws_profile_load(&p->cfg, name, &prof, err);
  if (st != BERTH_OK)
    return st;
  if (!prof.found) {
    st = berth_error_set(err, BERTH_ENOTFOUND,
                         "profile %s not found in the shared config or "
                         "credentials file",
                         name);
    goto done;
  }
  role_arn = berth__aws_profile_get(&prof, "role_arn");
  ak = berth__aws_profile_get(&prof, "aws_access_key_id");
  sk = berth__aws_profile_get(&prof, "aws_secret_access_key");
  wif = berth__aws_profile_get(&prof, "web_identity_token_file");
  if (role_arn != NULL && wif != NULL) {
    st = web_identity(p, role_arn, wif,
                      berth__aws_profile_get(&prof, "role_session_name"), out,
                      err);
  } else if (role_arn != NULL) {
    berth_aws_endpoint_t ep;
    const char *dur = berth__aws_profile_get(&prof, "duration_seconds");
    long long duration = 0;
    char *sname = NULL;

    if (dur != NULL &&
        berth_str_to_ll(dur, 900, 43200, &duration) != BERTH_OK) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "profile %s: duration_seconds must be 900..43200",
                           name);
      goto done;
    }
    st = role_source(p, &prof, depth, &src, err);
    if (st == BERTH_OK)
      st = sts_endpoint(p, &ep, err);
    if (st == BERTH_OK) {
      sname =
          session_name(p, berth__aws_profile_get(&prof, "role_session_name"));
      if (sname == NULL)
        st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    }
    if (st == BERTH_OK)
      st = berth__aws_sts_assume_role(
          p->sts, &ep, &src, role_arn, sname,
          berth__aws_profile_get(&prof, "external_id"), (int)duration, out,
          err);
    free(sname);
    if (st != BERTH_OK) {
      char prefix[160];
      snprintf(prefix, sizeof(prefix), "profile %s", name);
      berth_error_prefix(err, prefix);
    }
  } else if (ak != NULL && sk != NULL) {
    st = make_static(ak, sk, berth__aws_profile_get(&prof, "aws_session_token"),
                     "profile", out, err);
  } else if (ak != NULL || sk != NULL) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "profile %s: aws_access_key_id and "
                         "aws_secret_access_key must both be set",
                         name);
  } else {
    st = berth_error_set(err, BERTH_ENOTFOUND, "profile %s has no credentials",
                         name);
  }

done:
  berth_aws_credentials_cleanup(&src);
  berth__aws_profile_cleanup(&prof);
  return st;
}

/* --- the chain ------------------------------------------------------------ */

/* Does the named profile hold a credential source? */
static berth_status_t profile_has_credentials(berth_aws_creds_provider_t *p,
                                              bool *yes, bool *found,
                                              berth_error_t *err)
{
  berth__aws_profile_t prof;
  berth_status_t st;

  st = berth__aws_profile_load(&p->cfg, berth__aws_profile_name(&p->cfg, NULL),
                               &prof, err);
  if (st != BERTH_OK)
    return st;
  *found = prof.found;
  *yes =
      prof.found && (berth__aws_profile_get(&prof, "aws_access_key_id") ||
                     berth__aws_profile_get(&prof, "aws_secret_access_key") ||
                     berth__aws_profile_get(&prof, "role_arn"));
  berth__aws_profile_cleanup(&prof);
  return BERTH_OK;
}

static berth_status_t choose_source(berth_aws_creds_provider_t *p,
                                    berth_error_t *err)
{
  const berth__aws_config_t *c = &p->cfg;
  bool has = false, found = false, named = false;
  berth_status_t st;

  if (berth__aws_env(c, BERTH__AWS_ENV_ACCESS_KEY_ID) != NULL ||
      berth__aws_env(c, BERTH__AWS_ENV_SECRET_ACCESS_KEY) != NULL) {
    p->source = SRC_ENV;
    return BERTH_OK;
  }
  if (berth__aws_env(c, BERTH__AWS_ENV_ROLE_ARN) != NULL &&
      berth__aws_env(c, BERTH__AWS_ENV_WEB_IDENTITY_TOKEN_FILE) != NULL) {
    p->source = SRC_WEB_IDENTITY;
    return BERTH_OK;
  }
  st = profile_has_credentials(p, &has, &found, err);
  if (st != BERTH_OK)
    return st;
  berth__aws_profile_name(c, &named);
  if (has) {
    p->source = SRC_PROFILE;
    return BERTH_OK;
  }
  if (named && !found)
    return berth_error_set(err, BERTH_ENOTFOUND,
                           "profile %s not found in the shared config or "
                           "credentials file",
                           berth__aws_profile_name(c, NULL));
  if (berth__aws_env(c, BERTH__AWS_ENV_CONTAINER_FULL_URI) != NULL ||
      berth__aws_env(c, BERTH__AWS_ENV_CONTAINER_RELATIVE_URI) != NULL) {
    p->source = SRC_CONTAINER;
    return BERTH_OK;
  }
  if (!c->no_imds) {
    p->source = SRC_IMDS;
    return BERTH_OK;
  }
  return berth_error_set(err, BERTH_ENOTFOUND,
                         "no AWS credentials: none in the environment, no web "
                         "identity, no profile, no container endpoint, and "
                         "IMDS is disabled");
}

static berth_status_t fetch(berth_aws_creds_provider_t *p,
                            berth_aws_credentials_t *out, berth_error_t *err)
{
  const berth__aws_config_t *c = &p->cfg;

  p->fetches++;
  switch (p->source) {
  case SRC_ENV:
    return env_fetch(p, out, err);
  case SRC_WEB_IDENTITY:
    return web_identity(
        p, berth__aws_env(c, BERTH__AWS_ENV_ROLE_ARN),
        berth__aws_env(c, BERTH__AWS_ENV_WEB_IDENTITY_TOKEN_FILE),
        berth__aws_env(c, BERTH__AWS_ENV_ROLE_SESSION_NAME), out, err);
  case SRC_PROFILE:
    return profile_fetch(p, berth__aws_profile_name(c, NULL), 0, out, err);
  case SRC_CONTAINER:
    return berth__aws_container_credentials(c, out, err);
  case SRC_IMDS:
    return berth__aws_imds_credentials(c, out, err);
  default:
    return berth_error_set(err, BERTH_EINTERNAL, "no credential source");
  }
}

static berth_status_t provider_new(const berth_aws_options_t *opts,
                                   berth_aws_creds_provider_t **out,
                                   berth_error_t *err)
{
  berth_aws_creds_provider_t *p;
  berth_status_t st;

  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  pthread_mutex_init(&p->lock, NULL);
  st = berth__aws_config_load(opts, &p->cfg);
  if (st != BERTH_OK) {
    berth_aws_creds_provider_destroy(p);
    return berth_error_set(err, st, "out of memory");
  }
  *out = p;
  return BERTH_OK;
}

/* The region STS calls use: options, environment or profile, never IMDS
 * (which may be the very thing we cannot reach). */
static berth_status_t sts_region(berth_aws_creds_provider_t *p)
{
  const char *r = p->cfg.region;
  berth__aws_profile_t prof;

  if (r == NULL)
    r = berth__aws_env(&p->cfg, BERTH__AWS_ENV_REGION);
  if (r == NULL)
    r = berth__aws_env(&p->cfg, BERTH__AWS_ENV_DEFAULT_REGION);
  if (r != NULL) {
    p->sts_region = strdup(r);
    return p->sts_region != NULL ? BERTH_OK : BERTH_ENOMEM;
  }
  if (berth__aws_profile_load(&p->cfg, berth__aws_profile_name(&p->cfg, NULL),
                              &prof, NULL) == BERTH_OK) {
    r = berth__aws_profile_get(&prof, "region");
    if (r != NULL)
      p->sts_region = strdup(r);
    berth__aws_profile_cleanup(&prof);
  }
  return BERTH_OK;
}

berth_status_t berth_aws_creds_chain_create(const berth_aws_options_t *opts,
                                            berth_aws_creds_provider_t **out,
                                            berth_error_t *err)
{
  berth_aws_creds_provider_t *p = NULL;
  berth_status_t st;

  berth_error_clear(err);
  st = provider_new(opts, &p, err);
  if (st != BERTH_OK)
    return st;
  if (sts_region(p) != BERTH_OK) {
    berth_aws_creds_provider_destroy(p);
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  *out = p;
  return BERTH_OK;
}

berth_status_t
berth_aws_creds_static_create(const berth_aws_credentials_t *creds,
                              berth_aws_creds_provider_t **out,
                              berth_error_t *err)
{
  berth_aws_creds_provider_t *p = NULL;
  berth_status_t st;

  berth_error_clear(err);
  if (creds == NULL || creds->access_key_id == NULL ||
      creds->secret_access_key == NULL)
    return berth_error_set(err, BERTH_EINVAL,
                           "static credentials: missing "
                           "key id or secret");
  st = provider_new(NULL, &p, err);
  if (st != BERTH_OK)
    return st;
  st = berth_aws_credentials_copy(creds, &p->cached);
  if (st != BERTH_OK) {
    berth_aws_creds_provider_destroy(p);
    return berth_error_set(err, st, "out of memory");
  }
  p->cached.source = "static";
  p->cached.expiration_ms = 0;
  p->have_cached = true;
  p->source = SRC_STATIC;
  *out = p;
  return BERTH_OK;
}

berth_status_t berth_aws_creds_get(berth_aws_creds_provider_t *p,
                                   berth_aws_credentials_t *out,
                                   berth_error_t *err)
{
  berth_aws_credentials_t fresh;
  berth_status_t st = BERTH_OK;
  int64_t now;

  berth_error_clear(err);
  memset(&fresh, 0, sizeof(fresh));
  if (p == NULL || out == NULL)
    return berth_error_set(err, BERTH_EINVAL, "credentials: missing argument");
  pthread_mutex_lock(&p->lock);
  now = berth_clock_realtime_ms(p->cfg.clock);
  if (p->have_cached &&
      (p->cached.expiration_ms == 0 ||
       now < p->cached.expiration_ms - p->cfg.refresh_window_ms)) {
    st = berth_aws_credentials_copy(&p->cached, out);
    goto done;
  }
  if (p->source == SRC_STATIC) {
    st = berth_error_set(err, BERTH_EINTERNAL, "static credentials lost");
    goto done;
  }
  if (p->source == SRC_UNKNOWN) {
    st = choose_source(p, err);
    if (st != BERTH_OK)
      goto done;
  }
  st = fetch(p, &fresh, err);
  if (st == BERTH_OK) {
    berth_aws_credentials_cleanup(&p->cached);
    p->cached = fresh;
    memset(&fresh, 0, sizeof(fresh));
    p->have_cached = true;
  } else if (p->have_cached && p->cached.expiration_ms > now) {
    /* The refresh failed but what we have is still valid: use it until
     * it expires (the SDKs' advisory refresh). */
    berth_error_clear(err);
    st = BERTH_OK;
  } else {
    goto done;
  }
  st = berth_aws_credentials_copy(&p->cached, out);

done:
  if (st == BERTH_ENOMEM && err != NULL && err->message[0] == '\0')
    berth_error_set(err, st, "out of memory");
  berth_aws_credentials_cleanup(&fresh);
  pthread_mutex_unlock(&p->lock);
  return st;
}

void berth_aws_creds_invalidate(berth_aws_creds_provider_t *p)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->lock);
  if (p->source != SRC_STATIC && p->have_cached) {
    berth_aws_credentials_cleanup(&p->cached);
    p->have_cached = false;
  }
  pthread_mutex_unlock(&p->lock);
}

uint64_t berth_aws_creds_fetch_count(berth_aws_creds_provider_t *p)
{
  uint64_t n;

  pthread_mutex_lock(&p->lock);
  n = p->fetches;
  pthread_mutex_unlock(&p->lock);
  return n;
}

void berth_aws_creds_provider_destroy(berth_aws_creds_provider_t *p)
{
  if (p == NULL)
    return;
  berth_aws_credentials_cleanup(&p->cached);
  berth__aws_transport_destroy(p->sts);
  free(p->sts_region);
  berth__aws_config_cleanup(&p->cfg);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

/* --- region -----------------------------------------------------------------
 */

berth_status_t berth_aws_region_resolve(const berth_aws_options_t *opts,
                                        char **out, berth_error_t *err)
{
  berth__aws_config_t cfg;
  berth__aws_profile_t prof;
  const char *r;
  char *found = NULL;
  berth_status_t st;

  berth_error_clear(err);
  st = berth__aws_config_load(opts, &cfg);
  if (st != BERTH_OK)
    return berth_error_set(err, st, "out of memory");
  r = cfg.region;
  if (r == NULL)
    r = berth__aws_env(&cfg, BERTH__AWS_ENV_REGION);
  if (r == NULL)
    r = berth__aws_env(&cfg, BERTH__AWS_ENV_DEFAULT_REGION);
  if (r != NULL) {
    found = strdup(r);
    st = found != NULL ? BERTH_OK : BERTH_ENOMEM;
    goto done;
  }
  st = berth__aws_profile_load(&cfg, berth__aws_profile_name(&cfg, NULL), &prof,
                               err);
  if (st != BERTH_OK)
    goto done;
  r = berth__aws_profile_get(&prof, "region");
  if (r != NULL)
    found = strdup(r);
  berth__aws_profile_cleanup(&prof);
  if (r != NULL) {
    st = found != NULL ? BERTH_OK : BERTH_ENOMEM;
    goto done;
  }
  if (!cfg.no_imds) {
    st = berth__aws_imds_region(&cfg, &found, err);
    if (st == BERTH_OK)
      goto done;
    berth_error_prefix(err, "no AWS region in options, AWS_REGION, "
                            "AWS_DEFAULT_REGION or the profile, and IMDS "
                            "failed");
    st = BERTH_ENOTFOUND;
    if (err != NULL)
      err->status = st;
    goto done;
  }
  st = berth_error_set(err, BERTH_ENOTFOUND,
                       "no AWS region: set AWS_REGION (or the profile's "
                       "region); IMDS is disabled");

done:
  if (st == BERTH_ENOMEM)
    berth_error_set(err, st, "out of memory");
  if (st == BERTH_OK)
    *out = found;
  else
    free(found);
  berth__aws_config_cleanup(&cfg);
  return st;
}
