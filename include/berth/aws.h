/* SPDX-License-Identifier: Apache-2.0 */
/* berth: AWS client core: configuration, the credential chain, endpoints,
 * and signed calls with retries.
 *
 * A berth_aws_t is what the provisioner, attacher and berthctl hold: the
 * region, one endpoint per service, a credential provider chain and a pool
 * of HTTP connections. berth_aws_send() signs a request with SigV4
 * (include/berth/sigv4.h), sends it, and retries throttling errors,
 * 5xx answers and transport failures with full-jitter exponential backoff,
 * drawing on a retry quota (the SDKs' "standard" retry mode token bucket:
 * a retry costs 5 tokens, one after a time-out 10, a success gives one
 * back) so that when a service is overloaded the client stops adding
 * retries to the storm. The typed EC2 and EFS calls are in aws_ec2.h and
 * aws_efs.h.
 *
 * Configuration comes from the environment, as in the AWS SDKs and CLI:
 *
 *   region:      options.region, AWS_REGION, AWS_DEFAULT_REGION, the
 *                profile's "region", then IMDS (placement/region)
 *   profile:     options.profile, AWS_PROFILE, AWS_DEFAULT_PROFILE,
 *                "default"; files AWS_SHARED_CREDENTIALS_FILE (default
 *                ~/.aws/credentials) and AWS_CONFIG_FILE (~/.aws/config)
 *   endpoints:   AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_EFS,
 *                AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the
 *                standard endpoint of the region's partition (FIPS with
 *                AWS_USE_FIPS_ENDPOINT=true, dual-stack with
 *                AWS_USE_DUALSTACK_ENDPOINT=true);
 *                AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the
 *                AWS_ENDPOINT_URL* variables
 *   IMDS:        AWS_EC2_METADATA_SERVICE_ENDPOINT (default
 *                http://169.254.169.254), AWS_EC2_METADATA_DISABLED=true
 *
 * Credentials, in the SDKs' order (the first source that is configured is
 * used; a configured source that fails is an error, not a fall-through):
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN
 *   2. web identity (IRSA): AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE
 *      (AWS_ROLE_SESSION_NAME optional), through STS
 *      AssumeRoleWithWebIdentity; the token file is re-read at each refresh
 *   3. shared files: the profile's aws_access_key_id/aws_secret_access_key/
 *      aws_session_token; or role_arn with source_profile (chains of
 *      them), credential_source (Environment, Ec2InstanceMetadata,
 *      EcsContainer) or web_identity_token_file, through STS AssumeRole /
 *      AssumeRoleWithWebIdentity
 *   4. container (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_FULL_URI
 *      (http only to loopback or the ECS/EKS link-local addresses) with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN, or
 *      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on http://169.254.170.2
 *   5. IMDSv2: PUT /latest/api/token, then the instance role's credentials
 *      from /latest/meta-data/iam/security-credentials/<role>
 *
 * Temporary credentials are refreshed when they are within the refresh
 * window (5 minutes) of their expiry; if a refresh fails while the old
 * ones are still valid, the old ones are used.
 *
 * Secrets: no function logs; error messages never contain a secret key,
 * session token, web identity token or signature.
 *
 * Threads: a berth_aws_t and a credential provider may be used from
 * several threads at once. */
#ifndef BERTH_AWS_H
#define BERTH_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/clock.h"
#include "berth/http.h"
#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when an option is 0. */
#define BERTH_AWS_DEFAULT_MAX_ATTEMPTS 5
#define BERTH_AWS_DEFAULT_RETRY_BASE_MS 100
#define BERTH_AWS_DEFAULT_RETRY_CAP_MS 20000
#define BERTH_AWS_DEFAULT_RETRY_QUOTA 500
#define BERTH_AWS_RETRY_COST 5
#define BERTH_AWS_RETRY_TIMEOUT_COST 10
#define BERTH_AWS_DEFAULT_REFRESH_WINDOW_MS (5 * 60 * 1000)
#define BERTH_AWS_DEFAULT_METADATA_TIMEOUT_MS 1000
#define BERTH_AWS_DEFAULT_IMDS_ENDPOINT "http://169.254.169.254"
#define BERTH_AWS_DEFAULT_CONTAINER_HOST "http://169.254.170.2"

typedef struct berth_aws berth_aws_t;
typedef struct berth_aws_creds_provider berth_aws_creds_provider_t;

/* Look up an environment variable; NULL when unset. */
typedef const char *(*berth_aws_getenv_fn)(void *ctx, const char *name);

/* The services berth calls. */
typedef enum berth_aws_service {
  BERTH_AWS_EC2 = 0,
  BERTH_AWS_EFS,
  BERTH_AWS_STS,
  BERTH_AWS_SERVICE_MAX_
} berth_aws_service_t;

/* Options for berth_aws_create() and berth_aws_creds_chain_create().
 * Zero-initialise (or berth_aws_options_init()) and set what you need.
 * Strings are borrowed for the duration of the create call. */
typedef struct berth_aws_options {
  /* The region; NULL to discover it (see above). */
  const char *region;
  /* The shared-file profile; NULL for AWS_PROFILE or "default". */
  const char *profile;
  /* Environment lookup; NULL uses getenv(3). Tests pass a table. */
  berth_aws_getenv_fn getenv;
  void *getenv_ctx;
  /* Clock (signing time, credential expiry, backoff sleeps) and random
   * source (jitter, client tokens); NULL for the system's. */
  const berth_clock_t *clock;
  const berth_rand_t *rand;
  /* Time limits of API calls (0: the HTTP client's defaults) and of IMDS
   * and container-endpoint calls (0: 1000 ms; IMDS is link-local, and a
   * hop limit of 1 makes the token PUT from a container time out). */
  long connect_timeout_ms;
  long timeout_ms;
  long metadata_timeout_ms;
  /* Attempts per call, the first included (0: 5; 1: no retries). */
  int max_attempts;
  /* Full-jitter backoff: a retry waits a random time in
   * [0, min(cap, base * 2^retry)] (0: 100 ms and 20 s). */
  int64_t retry_base_ms;
  int64_t retry_cap_ms;
  /* Capacity of the retry quota (0: 500; negative: unlimited). */
  int retry_quota;
  /* Refresh temporary credentials this long before they expire (0: 5
   * minutes). */
  int64_t refresh_window_ms;
  /* CA bundle for https endpoints (NULL: the system's). */
  const char *ca_file;
  /* User-Agent (NULL: "berth/<version>"). */
  const char *user_agent;
  /* Never use IMDS (credentials or region), as with
   * AWS_EC2_METADATA_DISABLED=true. */
  bool no_imds;
} berth_aws_options_t;

/* A set of credentials. The strings are owned; clean up with
 * berth_aws_credentials_cleanup(), which wipes them. */
typedef struct berth_aws_credentials {
  char *access_key_id;
  char *secret_access_key;
  char *session_token;   /* NULL when none */
  int64_t expiration_ms; /* ms since the epoch; 0 when they never expire */
  /* Where they came from (static string): "environment", "web-identity",
   * "profile", "assume-role", "container", "imds" or "static". */
  const char *source;
} berth_aws_credentials_t;

/* A tag to send: both strings borrowed. */
typedef struct berth_aws_kv {
  const char *key;
  const char *value;
} berth_aws_kv_t;

/* A tag received: both strings owned. */
typedef struct berth_aws_tag {
  char *key;
  char *value;
} berth_aws_tag_t;

/* Counters of a client, for tests and metrics. */
typedef struct berth_aws_stats {
  uint64_t calls;            /* berth_aws_send() calls */
  uint64_t attempts;         /* HTTP requests sent */
  uint64_t retries;          /* attempts after the first */
  uint64_t throttled;        /* answers with a throttling error code */
  uint64_t server_errors;    /* 5xx answers */
  uint64_t transport_errors; /* connect/reset/time-out failures */
  uint64_t quota_refusals;   /* retries not made because the quota was empty */
  int retry_quota;           /* tokens left in the retry quota */
} berth_aws_stats_t;

/* Zero an options struct. */
void berth_aws_options_init(berth_aws_options_t *opts);

/* Free and wipe what c owns, leaving it zeroed. Accepts NULL. */
void berth_aws_credentials_cleanup(berth_aws_credentials_t *c);

/* Deep-copy src into *dst (set only on success). */
berth_status_t berth_aws_credentials_copy(const berth_aws_credentials_t *src,
                                          berth_aws_credentials_t *dst);

/* --- credentials --------------------------------------------------------- */

/* Create the default credential chain (see the top of this file) and
 * store it in *out (set only on success; free with
 * berth_aws_creds_provider_destroy()). Nothing is fetched yet. */
berth_status_t berth_aws_creds_chain_create(const berth_aws_options_t *opts,
                                            berth_aws_creds_provider_t **out,
                                            berth_error_t *err);

/* Create a provider that always returns a copy of creds (source
 * "static"), e.g. for berthctl's --access-key. */
berth_status_t
berth_aws_creds_static_create(const berth_aws_credentials_t *creds,
                              berth_aws_creds_provider_t **out,
                              berth_error_t *err);

/* Return current credentials in *out (a new copy: clean it up), fetching
 * or refreshing them when needed. BERTH_ENOTFOUND when no source is
 * configured; otherwise the failing source's error, its name in the
 * message (e.g. "web identity: STS AssumeRoleWithWebIdentity:
 * InvalidIdentityToken: ..."). */
berth_status_t berth_aws_creds_get(berth_aws_creds_provider_t *p,
                                   berth_aws_credentials_t *out,
                                   berth_error_t *err);

/* Forget cached temporary credentials so that the next get fetches new
 * ones (after an ExpiredToken answer). */
void berth_aws_creds_invalidate(berth_aws_creds_provider_t *p);

/* The number of times the provider fetched credentials from their source
 * (for tests of caching and refresh). */
uint64_t berth_aws_creds_fetch_count(berth_aws_creds_provider_t *p);

/* Free a provider, wiping cached secrets. Accepts NULL. */
void berth_aws_creds_provider_destroy(berth_aws_creds_provider_t *p);

/* --- region and endpoints ------------------------------------------------ */

/* Find the region as described at the top of this file and return it as
 * a new string in *out (free() it). BERTH_ENOTFOUND when no source has
 * one. */
berth_status_t berth_aws_region_resolve(const berth_aws_options_t *opts,
                                        char **out, berth_error_t *err);

/* A resolved endpoint. */
typedef struct berth_aws_endpoint {
  char url[512];            /* "https://ec2.us-east-1.amazonaws.com" */
  char signing_region[64];  /* usually the region; us-east-1 for global STS */
  const char *signing_name; /* "ec2", "elasticfilesystem", "sts" (static) */
} berth_aws_endpoint_t;

/* Endpoint resolution flags (the endpoint rule set's parameters). */
typedef struct berth_aws_endpoint_params {
  const char *region; /* may be NULL only with custom_url */
  bool use_fips;
  bool use_dualstack;
  bool sts_global;        /* STS legacy global endpoint for the 16 legacy
                           * regions (AWS_STS_REGIONAL_ENDPOINTS=legacy) */
  const char *custom_url; /* an override, used as is */
} berth_aws_endpoint_params_t;

/* Resolve service's endpoint as the SDKs' endpoint rule sets do for the
 * aws, aws-cn, aws-us-gov, aws-iso* and aws-eusc partitions. BERTH_EINVAL
 * for a missing region or a custom URL combined with FIPS or dual-stack
 * (as the rule sets say). */
berth_status_t berth_aws_endpoint_resolve(berth_aws_service_t service,
                                          const berth_aws_endpoint_params_t *p,
                                          berth_aws_endpoint_t *out,
                                          berth_error_t *err);

/* The service's name in environment variables and messages: "EC2",
 * "EFS", "STS". */
const char *berth_aws_service_name(berth_aws_service_t service);

/* --- the client ---------------------------------------------------------- */

/* Create a client: resolve the region and endpoints, create the
 * credential chain (nothing is fetched yet). *out is set only on success;
 * free with berth_aws_destroy(). BERTH_ENOTFOUND when no region can be
 * found. */
berth_status_t berth_aws_create(const berth_aws_options_t *opts,
                                berth_aws_t **out, berth_error_t *err);

/* Like berth_aws_create, with a given credential provider, which the
 * client takes over (destroys) whether or not the call succeeds. */
berth_status_t berth_aws_create_with_provider(const berth_aws_options_t *opts,
                                              berth_aws_creds_provider_t *p,
                                              berth_aws_t **out,
                                              berth_error_t *err);

/* Free a client. Accepts NULL. */
void berth_aws_destroy(berth_aws_t *aws);

/* The client's region (borrowed). */
const char *berth_aws_region(const berth_aws_t *aws);

/* The service's resolved endpoint (borrowed). */
const berth_aws_endpoint_t *berth_aws_endpoint(const berth_aws_t *aws,
                                               berth_aws_service_t service);

/* The client's credential provider (borrowed). */
berth_aws_creds_provider_t *berth_aws_provider(berth_aws_t *aws);

/* Copy the client's counters into *out. */
void berth_aws_get_stats(berth_aws_t *aws, berth_aws_stats_t *out);

/* One API request. Every pointer is borrowed for the call. */
typedef struct berth_aws_request {
  berth_aws_service_t service;
  /* The operation's name ("CreateVolume"), for messages. */
  const char *action;
  const char *method;       /* NULL: "POST" */
  const char *path;         /* encoded, below the endpoint's; NULL: "/" */
  const char *query;        /* encoded, without '?'; NULL for none */
  const char *content_type; /* NULL for none */
  const void *body;
  size_t body_len;
} berth_aws_request_t;

/* Sign req with current credentials, send it to the service's endpoint,
 * retry as described at the top, and leave the last answer in resp.
 * BERTH_OK for a 2xx answer. An AWS error answer gives the status its
 * code maps to (berth_aws_error_status()) and fills err: http_code, reason
 * = the AWS error code ("InvalidVolume.NotFound"), message = "<action>:
 * <code>: <AWS message>". An ExpiredToken answer makes the client fetch
 * new credentials and try once more. */
berth_status_t berth_aws_send(berth_aws_t *aws, const berth_aws_request_t *req,
                              berth_http_response_t *resp, berth_error_t *err);

/* --- errors -------------------------------------------------------------- */

/* true for the AWS throttling codes the SDKs retry: Throttling,
 * ThrottlingException, ThrottledException, RequestThrottledException,
 * TooManyRequestsException, ProvisionedThroughputExceededException,
 * TransactionInProgressException, RequestLimitExceeded,
 * BandwidthLimitExceeded, LimitExceededException, RequestThrottled,
 * SlowDown, PriorRequestNotComplete, EC2ThrottledException. */
bool berth_aws_error_is_throttling(const char *code);

/* Map an AWS error code (may be NULL) and HTTP status to a berth status:
 * *NotFound codes BERTH_ENOTFOUND; *AlreadyExists BERTH_EEXIST;
 * IdempotentParameterMismatch, IncorrectState, VolumeInUse and other
 * state conflicts BERTH_ECONFLICT; throttling BERTH_ETHROTTLED;
 * signature, token and key errors BERTH_EUNAUTHORIZED; permission errors
 * BERTH_EFORBIDDEN; parameter errors BERTH_EINVAL; other limits
 * BERTH_EPERM; otherwise by HTTP status (berth_http_status_to_berth()). */
berth_status_t berth_aws_error_status(const char *code, long http_code);

/* Parse an AWS error body (EC2 and STS XML, or REST-JSON) into code and
 * message (both NUL-terminated, truncated to fit, white space collapsed).
 * BERTH_EPARSE when body is not a recognisable error. */
berth_status_t berth_aws_parse_error(const char *body, size_t len, char *code,
                                     size_t code_size, char *message,
                                     size_t message_size);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_AWS_H */
