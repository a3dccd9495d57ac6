/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of lib/aws (berth__aws_* names). Not a
 * public header: tests may include it (tests/unit/test_aws_*.c) to reach
 * the pieces below directly. */
#ifndef BERTH_AWS_INT_H
#define BERTH_AWS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/aws.h"
#include "berth/buf.h"
#include "berth/clock.h"
#include "berth/http.h"
#include "berth/status.h"

/* --- configuration snapshot (config.c) ----------------------------------
 *
 * Everything the AWS code reads from the environment is read once, when a
 * client or provider is created, into a berth__aws_config_t: later calls
 * never touch the environment (which another thread could be changing)
 * and tests can inject all of it through options.getenv. */

/* The variables read, in this order (index with BERTH__AWS_ENV_*). */
#define BERTH__AWS_ENV_LIST(X)                                                 \
  X(ACCESS_KEY_ID, "AWS_ACCESS_KEY_ID")                                        \
  X(SECRET_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY")                                \
  X(SESSION_TOKEN, "AWS_SESSION_TOKEN")                                        \
  X(ROLE_ARN, "AWS_ROLE_ARN")                                                  \
  X(WEB_IDENTITY_TOKEN_FILE, "AWS_WEB_IDENTITY_TOKEN_FILE")                    \
  X(ROLE_SESSION_NAME, "AWS_ROLE_SESSION_NAME")                                \
  X(PROFILE, "AWS_PROFILE")                                                    \
  X(DEFAULT_PROFILE, "AWS_DEFAULT_PROFILE")                                    \
  X(SHARED_CREDENTIALS_FILE, "AWS_SHARED_CREDENTIALS_FILE")                    \
  X(CONFIG_FILE, "AWS_CONFIG_FILE")                                            \
  X(HOME, "HOME")                                                              \
  X(REGION, "AWS_REGION")                                                      \
  X(DEFAULT_REGION, "AWS_DEFAULT_REGION")                                      \
  X(CONTAINER_FULL_URI, "AWS_CONTAINER_CREDENTIALS_FULL_URI")                  \
  X(CONTAINER_RELATIVE_URI, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")          \
  X(CONTAINER_TOKEN, "AWS_CONTAINER_AUTHORIZATION_TOKEN")                      \
  X(CONTAINER_TOKEN_FILE, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")            \
  X(IMDS_ENDPOINT, "AWS_EC2_METADATA_SERVICE_ENDPOINT")                        \
  X(IMDS_ENDPOINT_MODE, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")              \
  X(IMDS_DISABLED, "AWS_EC2_METADATA_DISABLED")                                \
  X(ENDPOINT_URL, "AWS_ENDPOINT_URL")                                          \
  X(ENDPOINT_URL_EC2, "AWS_ENDPOINT_URL_EC2")                                  \
  X(ENDPOINT_URL_EFS, "AWS_ENDPOINT_URL_EFS")                                  \
  X(ENDPOINT_URL_STS, "AWS_ENDPOINT_URL_STS")                                  \
  X(IGNORE_ENDPOINT_URLS, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")               \
  X(USE_FIPS, "AWS_USE_FIPS_ENDPOINT")                                         \
  X(USE_DUALSTACK, "AWS_USE_DUALSTACK_ENDPOINT")                               \
  X(STS_REGIONAL_ENDPOINTS, "AWS_STS_REGIONAL_ENDPOINTS")

#define BERTH__AWS_ENV_ENUM(id, name) BERTH__AWS_ENV_##id,
enum { BERTH__AWS_ENV_LIST(BERTH__AWS_ENV_ENUM) BERTH__AWS_ENV_COUNT_ };
#undef BERTH__AWS_ENV_ENUM

typedef struct berth__aws_config {
  char *env[BERTH__AWS_ENV_COUNT_]; /* copies; NULL when unset or empty */
  char *region;                     /* options.region, copied */
  char *profile;                    /* options.profile, copied */
  char *ca_file;
  char *user_agent;
  const berth_clock_t *clock; /* never NULL */
  const berth_rand_t *rand;   /* never NULL */
  long connect_timeout_ms;
  long timeout_ms;
  long metadata_timeout_ms; /* defaults applied */
  int max_attempts;
  int64_t retry_base_ms;
  int64_t retry_cap_ms;
  int retry_quota; /* < 0: unlimited */
  int64_t refresh_window_ms;
  bool no_imds; /* options or AWS_EC2_METADATA_DISABLED */
} berth__aws_config_t;

/* Read opts (NULL for defaults) and the environment into cfg. */
berth_status_t berth__aws_config_load(const berth_aws_options_t *opts,
                                      berth__aws_config_t *cfg);

/* Deep-copy src into dst. */
berth_status_t berth__aws_config_copy(const berth__aws_config_t *src,
                                      berth__aws_config_t *dst);

/* Free (and wipe: it may hold AWS_SECRET_ACCESS_KEY) a snapshot. */
void berth__aws_config_cleanup(berth__aws_config_t *cfg);

/* A variable's value, or NULL when unset or empty. */
const char *berth__aws_env(const berth__aws_config_t *cfg, int id);

/* true when the variable is "true" (any case). */
bool berth__aws_env_true(const berth__aws_config_t *cfg, int id);

/* The profile name in force: options.profile, AWS_PROFILE,
 * AWS_DEFAULT_PROFILE, "default" (borrowed). *explicit_out (may be NULL)
 * says whether it was named rather than the default. */
const char *berth__aws_profile_name(const berth__aws_config_t *cfg,
                                    bool *explicit_out);

/* --- shared credentials and config files (profile.c) ------------------- */

typedef struct berth__aws_profile {
  char *name;
  size_t count;
  char **keys;   /* owned */
  char **values; /* owned, wiped on cleanup */
  bool found;    /* a section of this name exists in either file */
} berth__aws_profile_t;

/* Load profile `name` from the config file ("[profile name]", or
 * "[default]") and the credentials file ("[name]"), the credentials
 * file's values winning. A missing file is not an error; a profile in
 * neither gives found = false and BERTH_OK. Unreadable files give
 * BERTH_EIO. */
berth_status_t berth__aws_profile_load(const berth__aws_config_t *cfg,
                                       const char *name,
                                       berth__aws_profile_t *out,
                                       berth_error_t *err);

/* Parse INI text (one file) and merge section `section` into out. */
berth_status_t berth__aws_profile_parse(const char *text, const char *section,
                                        bool config_file,
                                        berth__aws_profile_t *out);

/* A key's value in the profile, or NULL. */
const char *berth__aws_profile_get(const berth__aws_profile_t *p,
                                   const char *key);

void berth__aws_profile_cleanup(berth__aws_profile_t *p);

/* --- small XML trees over expat (xml.c) -------------------------------- */

typedef struct berth__xml_node {
  char *name; /* local name: namespace URI and prefix removed */
  char *text; /* character data directly inside, not trimmed; never NULL */
  struct berth__xml_node *parent;
  struct berth__xml_node *child; /* first child */
  struct berth__xml_node *last;  /* last child */
  struct berth__xml_node *next;  /* next sibling */
} berth__xml_node_t;

/* Parse len bytes of XML into a new tree (*out, set only on success).
 * Limits: 64 levels, 1,000,000 nodes; DOCTYPE declarations (and with them
 * entity expansion attacks) are refused. BERTH_EPARSE with expat's line
 * and reason for malformed XML. */
berth_status_t berth__xml_parse(const char *data, size_t len,
                                berth__xml_node_t **out, berth_error_t *err);

/* Free a tree. Accepts NULL. */
void berth__xml_free(berth__xml_node_t *root);

/* The first child of n named name, or NULL. */
const berth__xml_node_t *berth__xml_child(const berth__xml_node_t *n,
                                          const char *name);

/* The next sibling after n with n's name, or NULL (to walk <item>s). */
const berth__xml_node_t *berth__xml_next(const berth__xml_node_t *n);

/* Follow a '/'-separated path of child names from n; NULL when absent. */
const berth__xml_node_t *berth__xml_path(const berth__xml_node_t *n,
                                         const char *path);

/* The text of the node at path below n, with leading and trailing white
 * space removed (in place), or NULL when absent. */
const char *berth__xml_text(const berth__xml_node_t *n, const char *path);

/* --- helpers (util.c) ----------------------------------------------------- */

/* Append "&name=value" (no '&' first) to a form or query, RFC 3986
 * encoded as SigV4 wants. */
berth_status_t berth__aws_form_add(berth_buf_t *form, const char *name,
                                   const char *value);
berth_status_t berth__aws_form_addf(berth_buf_t *form, const char *name,
                                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Parse an ISO 8601 / RFC 3339 UTC time ("2019-11-09T13:34:41Z", with
 * optional fraction, "Z" or "+00:00") into ms since the epoch. */
berth_status_t berth__aws_parse_time(const char *s, int64_t *out_ms);

/* Write a random UUID (version 4) into out (37 bytes) from r. */
void berth__aws_uuid(const berth_rand_t *r, char out[37]);

/* Read a whole (small) file into a new NUL-terminated string, trimmed;
 * for token files. BERTH_ENOTFOUND, BERTH_EIO or BERTH_ETOOBIG. */
berth_status_t berth__aws_read_file(const char *path, size_t limit, char **out);

/* Free s after wiping it. Accepts NULL. */
void berth__aws_free_secret(char *s);

/* Split an http(s) URL into scheme ("http"), the Host header's value
 * ("127.0.0.1:8080", "ec2.us-east-1.amazonaws.com") and the path
 * ("" or "/prefix", no trailing '/'). Each out buffer has its size.
 * BERTH_EPARSE for anything else. */
berth_status_t berth__aws_url_split(const char *url, char *scheme,
                                    size_t scheme_size, char *host,
                                    size_t host_size, char *path,
                                    size_t path_size);

/* --- transport: signing, retries, connection pool (client.c) ----------- */

typedef struct berth__aws_transport berth__aws_transport_t;

berth_status_t berth__aws_transport_create(const berth__aws_config_t *cfg,
                                           berth__aws_transport_t **out,
                                           berth_error_t *err);

void berth__aws_transport_destroy(berth__aws_transport_t *t);

/* Send req to ep, signed with creds (NULL: unsigned, for
 * AssumeRoleWithWebIdentity), with retries. As berth_aws_send(). */
berth_status_t berth__aws_transport_send(berth__aws_transport_t *t,
                                         const berth_aws_endpoint_t *ep,
                                         const berth_aws_credentials_t *creds,
                                         const berth_aws_request_t *req,
                                         berth_http_response_t *resp,
                                         berth_error_t *err);

void berth__aws_transport_stats(berth__aws_transport_t *t,
                                berth_aws_stats_t *out);

/* The client's random source (for client tokens). */
const berth_rand_t *berth__aws_rand(const berth_aws_t *aws);

/* Resolve the endpoint of service from cfg (overrides, FIPS, dual-stack)
 * for region (may be NULL only when an override applies). */
berth_status_t berth__aws_endpoint_from_config(const berth__aws_config_t *cfg,
                                               berth_aws_service_t service,
                                               const char *region,
                                               berth_aws_endpoint_t *out,
                                               berth_error_t *err);

/* --- STS (sts.c) ------------------------------------------------------- */

/* AssumeRoleWithWebIdentity (unsigned). */
berth_status_t berth__aws_sts_web_identity(
    berth__aws_transport_t *t, const berth_aws_endpoint_t *ep,
    const char *role_arn, const char *session_name, const char *token,
    berth_aws_credentials_t *out, berth_error_t *err);

/* AssumeRole, signed with creds. external_id may be NULL; duration_s 0
 * for the default. */
berth_status_t berth__aws_sts_assume_role(
    berth__aws_transport_t *t, const berth_aws_endpoint_t *ep,
    const berth_aws_credentials_t *creds, const char *role_arn,
    const char *session_name, const char *external_id, int duration_s,
    berth_aws_credentials_t *out, berth_error_t *err);

/* Parse the Credentials of an AssumeRole* response body. */
berth_status_t berth__aws_sts_parse_credentials(const char *body, size_t len,
                                                berth_aws_credentials_t *out,
                                                berth_error_t *err);

/* --- IMDS and container endpoints (metadata.c) -------------------------- */

/* Fetch the instance role's credentials through IMDSv2. */
berth_status_t berth__aws_imds_credentials(const berth__aws_config_t *cfg,
                                           berth_aws_credentials_t *out,
                                           berth_error_t *err);

/* Fetch the instance's region through IMDSv2 (new string in *out). */
berth_status_t berth__aws_imds_region(const berth__aws_config_t *cfg,
                                      char **out, berth_error_t *err);

/* Fetch credentials from the container endpoint. */
berth_status_t berth__aws_container_credentials(const berth__aws_config_t *cfg,
                                                berth_aws_credentials_t *out,
                                                berth_error_t *err);

/* true when url may be used as a container credentials FULL_URI: https,
 * or http to a loopback address or the ECS/EKS agent's addresses. */
bool berth__aws_container_uri_allowed(const char *url);

/* Parse the JSON credentials IMDS and container endpoints return. */
berth_status_t berth__aws_parse_json_credentials(const char *body, size_t len,
                                                 const char *source,
                                                 berth_aws_credentials_t *out,
                                                 berth_error_t *err);

#endif /* BERTH_AWS_INT_H */
