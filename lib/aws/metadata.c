/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials and region from the instance metadata service (IMDSv2) and
 * from the container credentials endpoint (ECS, EKS Pod Identity). See
 * lib/aws/aws_int.h.
 *
 * IMDSv2 ("Use the Instance Metadata Service to access instance
 * metadata", EC2 user guide): PUT /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds gives a session token, sent as
 * X-aws-ec2-metadata-token on each GET. The PUT's answer carries an IP
 * hop limit (HttpPutResponseHopLimit, 1 by default before 2024 AMIs), so
 * from a container behind one more hop it never arrives: a time-out there
 * is reported as that likely cause. berth does not fall back to IMDSv1.
 *
 * Container endpoint ("Container credential provider", AWS SDKs and Tools
 * Reference Guide): GET AWS_CONTAINER_CREDENTIALS_FULL_URI (or
 * http://169.254.170.2 + _RELATIVE_URI) with the Authorization header
 * taken from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read each time:
 * EKS Pod Identity rotates it) or AWS_CONTAINER_AUTHORIZATION_TOKEN. */
#include "aws_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "berth/json.h"

#define IMDS_TOKEN_TTL "21600"
#define TOKEN_FILE_LIMIT (16 * 1024)

berth_status_t berth__aws_parse_json_credentials(const char *body, size_t len,
                                                 const char *source,
                                                 berth_aws_credentials_t *out,
                                                 berth_error_t *err)
{
  json_t *doc = NULL;
  const char *code, *ak, *sk, *tok, *exp;
  berth_aws_credentials_t c;
  berth_status_t st;

  memset(&c, 0, sizeof(c));
  st = berth_json_parse(body, len, &doc, NULL);
  if (st != BERTH_OK || !json_is_object(doc)) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "credentials are not a JSON "
                         "object");
    goto done;
  }
  code = json_string_value(json_object_get(doc, "Code"));
  if (code != NULL && strcmp(code, "Success") != 0) {
    const char *msg = json_string_value(json_object_get(doc, "Message"));
    st = berth_error_set(err, BERTH_EUNAVAILABLE,
                         "credentials not available: Code %.64s%s%.200s", code,
                         msg != NULL ? ": " : "", msg != NULL ? msg : "");
    goto done;
  }
  ak = json_string_value(json_object_get(doc, "AccessKeyId"));
  sk = json_string_value(json_object_get(doc, "SecretAccessKey"));
  tok = json_string_value(json_object_get(doc, "Token"));
  exp = json_string_value(json_object_get(doc, "Expiration"));
  if (ak == NULL || *ak == '\0' || sk == NULL || *sk == '\0') {
    st = berth_error_set(err, BERTH_EPARSE,
                         "credentials without AccessKeyId "
                         "or SecretAccessKey");
    goto done;
  }
  if (exp != NULL && berth__aws_parse_time(exp, &c.expiration_ms) != BERTH_OK) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "credentials: bad Expiration \"%.40s\"", exp);
    goto done;
  }
  c.access_key_id = strdup(ak);
  c.secret_access_key = strdup(sk);
  c.session_token = tok != NULL && *tok != '\0' ? strdup(tok) : NULL;
  if (c.access_key_id == NULL || c.secret_access_key == NULL ||
      (tok != NULL && *tok != '\0' && c.session_token == NULL)) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  c.source = source;
  *out = c;
  memset(&c, 0, sizeof(c));

done:
  if (doc != NULL) {
    /* Wipe the secret and token inside the parsed document. */
    static const char *const keys[] = {"SecretAccessKey", "Token", NULL};
    size_t i;
    for (i = 0; keys[i] != NULL; i++) {
      json_t *v = json_object_get(doc, keys[i]);
      if (json_is_string(v))
        berth_memzero((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(doc);
  }
  berth_aws_credentials_cleanup(&c);
  return st;
}

static berth_status_t metadata_client(const berth__aws_config_t *cfg,
                                      berth_http_client_t **out,
                                      berth_error_t *err)
{
  berth_http_options_t o;

  berth_http_options_init(&o);
  o.connect_timeout_ms = cfg->metadata_timeout_ms;
  o.timeout_ms = cfg->metadata_timeout_ms;
  o.max_body_bytes = 1024 * 1024;
  o.user_agent = cfg->user_agent;
  o.ca_file = cfg->ca_file;
  return berth_http_client_create(&o, out, err);
}

/* --- IMDSv2 -------------------------------------------------------------- */

typedef struct imds {
  berth_http_client_t *client;
  char base[256];
  char *token;
} imds_t;

static void imds_close(imds_t *m)
{
  berth_http_client_destroy(m->client);
  berth__aws_free_secret(m->token);
  memset(m, 0, sizeof(*m));
}

static berth_status_t imds_open(const berth__aws_config_t *cfg, imds_t *m,
                                berth_error_t *err)
{
  const char *ep = berth__aws_env(cfg, BERTH__AWS_ENV_IMDS_ENDPOINT);
  const char *mode = berth__aws_env(cfg, BERTH__AWS_ENV_IMDS_ENDPOINT_MODE);
  const char *hdr[] = {"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL,
                       NULL};
  berth_http_request_t req;
  berth_http_response_t resp;
  char url[300];
  size_t n;
  berth_status_t st;

  memset(m, 0, sizeof(*m));
  if (cfg->no_imds)
    return berth_error_set(err, BERTH_ENOTFOUND, "IMDS: disabled");
  if (ep == NULL)
    ep = mode != NULL && strcmp(mode, "IPv6") == 0
             ? "http://[fd00:ec2::254]"
             : BERTH_AWS_DEFAULT_IMDS_ENDPOINT;
  if (berth_strlcpy(m->base, ep, sizeof(m->base)) >= sizeof(m->base))
    return berth_error_set(err, BERTH_EINVAL, "IMDS: endpoint too long");
  n = strlen(m->base);
  while (n > 0 && m->base[n - 1] == '/')
    m->base[--n] = '\0';
  st = metadata_client(cfg, &m->client, err);
  if (st != BERTH_OK)
    return st;
  snprintf(url, sizeof(url), "%s/latest/api/token", m->base);
  memset(&req, 0, sizeof(req));
  req.method = "PUT";
  req.url = url;
  req.headers = hdr;
  req.body = "";
  berth_http_response_init(&resp);
  st = berth_http_do(m->client, &req, &resp, err);
  if (st == BERTH_ETIMEOUT) {
    st = berth_error_set(err, BERTH_ETIMEOUT,
                         "IMDS: the IMDSv2 token request (PUT %s) timed out; "
                         "from a container, the instance's metadata hop "
                         "limit (HttpPutResponseHopLimit) must be 2 or more",
                         url);
  } else if (st != BERTH_OK) {
    berth_error_prefix(err, "IMDS");
  } else if (resp.status != 200 || resp.body.len == 0) {
    st = berth_error_set(err,
                         resp.status == 403 ? BERTH_EFORBIDDEN
                         : berth_http_status_to_berth(resp.status) == BERTH_OK
                             ? BERTH_EHTTP
                             : berth_http_status_to_berth(resp.status),
                         "IMDS: token request answered HTTP %ld%s", resp.status,
                         resp.status == 403 ? " (metadata access disabled)"
                                            : "");
    if (err != NULL)
      err->http_code = resp.status;
  } else {
    m->token = berth_buf_detach(&resp.body);
    if (m->token == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    else
      berth_str_trim(m->token);
  }
  if (resp.body.data != NULL)
    berth_memzero(resp.body.data, resp.body.len);
  berth_http_response_cleanup(&resp);
  if (st != BERTH_OK)
    imds_close(m);
  return st;
}

/* GET path with the session token; the body goes to *out (new string). */
static berth_status_t imds_get(imds_t *m, const char *path, char **out,
                               berth_error_t *err)
{
  char *hdr;
  const char *hdrs[2];
  berth_http_request_t req;
  berth_http_response_t resp;
  char url[512];
  berth_status_t st;

  hdr = berth_strdup_printf("X-aws-ec2-metadata-token: %s", m->token);
  if (hdr == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  hdrs[0] = hdr;
  hdrs[1] = NULL;
  snprintf(url, sizeof(url), "%s%s", m->base, path);
  memset(&req, 0, sizeof(req));
  req.method = "GET";
  req.url = url;
  req.headers = hdrs;
  berth_http_response_init(&resp);
  st = berth_http_do(m->client, &req, &resp, err);
  berth__aws_free_secret(hdr);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "IMDS");
  } else if (resp.status != 200) {
    st = berth_http_status_to_berth(resp.status);
    if (st == BERTH_OK)
      st = BERTH_EHTTP;
    st = berth_error_set(err, st, "IMDS: GET %s answered HTTP %ld", path,
                         resp.status);
    if (err != NULL)
      err->http_code = resp.status;
  } else {
    *out = berth_buf_detach(&resp.body);
    if (*out == NULL)
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
  }
  if (resp.body.data != NULL)
    berth_memzero(resp.body.data, resp.body.len);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth__aws_imds_credentials(const berth__aws_config_t *cfg,
                                           berth_aws_credentials_t *out,
                                           berth_error_t *err)
{
  imds_t m;
  char *roles = NULL;
  char *body = NULL;
  char path[300];
  char *nl;
  berth_status_t st;

  st = imds_open(cfg, &m, err);
  if (st != BERTH_OK)
    return st;
  st = imds_get(&m, "/latest/meta-data/iam/security-credentials/", &roles, err);
  if (st == BERTH_ENOTFOUND) {
    st = berth_error_set(err, BERTH_ENOTFOUND,
                         "IMDS: the instance has no IAM role (instance "
                         "profile)");
    goto done;
  }
  if (st != BERTH_OK)
    goto done;
  berth_str_trim(roles);
  nl = strchr(roles, '\n');
  if (nl != NULL)
    *nl = '\0';
  berth_str_trim(roles);
  if (*roles == '\0' || strchr(roles, '/') != NULL || strlen(roles) > 128) {
    st = berth_error_set(err, BERTH_EPARSE, "IMDS: bad role name");
    goto done;
  }
  snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s",
           roles);
  st = imds_get(&m, path, &body, err);
  if (st != BERTH_OK)
    goto done;
  st = berth__aws_parse_json_credentials(body, strlen(body), "imds", out, err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "IMDS");

done:
  free(roles);
  berth__aws_free_secret(body);
  imds_close(&m);
  return st;
}

berth_status_t berth__aws_imds_region(const berth__aws_config_t *cfg,
                                      char **out, berth_error_t *err)
{
  imds_t m;
  char *body = NULL;
  berth_status_t st;

  st = imds_open(cfg, &m, err);
  if (st != BERTH_OK)
    return st;
  st = imds_get(&m, "/latest/meta-data/placement/region", &body, err);
  if (st == BERTH_OK) {
    berth_str_trim(body);
    if (*body == '\0' || strlen(body) > 63) {
      free(body);
      st = berth_error_set(err, BERTH_EPARSE, "IMDS: bad region");
    } else {
      *out = body;
    }
  }
  imds_close(&m);
  return st;
}

/* --- container endpoint -------------------------------------------------- */

bool berth__aws_container_uri_allowed(const char *url)
{
  static const char *const allowed[] = {"localhost",      "[::1]",
                                        "169.254.170.2",  "169.254.170.23",
                                        "[fd00:ec2::23]", NULL};
  char scheme[8], host[256], path[256];
  char *colon;
  size_t i;

  if (berth__aws_url_split(url, scheme, sizeof(scheme), host, sizeof(host),
                           path, sizeof(path)) != BERTH_OK)
    return false;
  if (strcmp(scheme, "https") == 0)
    return true;
  /* Drop the port (after the IPv6 bracket, if any). */
  colon = strrchr(host, ':');
  if (colon != NULL && (host[0] != '[' || colon > strchr(host, ']')))
    *colon = '\0';
  for (i = 0; allowed[i] != NULL; i++)
    if (strcmp(host, allowed[i]) == 0)
      return true;
  /* 127.0.0.0/8 */
  if (strncmp(host, "127.", 4) == 0) {
    unsigned a, b, c;
    char extra;
    return sscanf(host + 4, "%u.%u.%u%c", &a, &b, &c, &extra) == 3 && a < 256 &&
           b < 256 && c < 256;
  }
  return false;
}

berth_status_t berth__aws_container_credentials(const berth__aws_config_t *cfg,
                                                berth_aws_credentials_t *out,
                                                berth_error_t *err)
{
  const char *full = berth__aws_env(cfg, BERTH__AWS_ENV_CONTAINER_FULL_URI);
  const char *rel = berth__aws_env(cfg, BERTH__AWS_ENV_CONTAINER_RELATIVE_URI);
  const char *token_file =
      berth__aws_env(cfg, BERTH__AWS_ENV_CONTAINER_TOKEN_FILE);
  const char *token_env = berth__aws_env(cfg, BERTH__AWS_ENV_CONTAINER_TOKEN);
  berth_http_client_t *client = NULL;
  berth_http_request_t req;
  berth_http_response_t resp;
  char *url = NULL;
  char *token = NULL;
  char *hdr = NULL;
  const char *hdrs[2] = {NULL, NULL};
  berth_status_t st;

  berth_http_response_init(&resp);
  if (rel != NULL)
    url = berth_strdup_printf("%s%s%s", BERTH_AWS_DEFAULT_CONTAINER_HOST,
                              rel[0] == '/' ? "" : "/", rel);
  else if (full != NULL)
    url = strdup(full);
  else
    return berth_error_set(err, BERTH_ENOTFOUND, "container: not configured");
  if (url == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "out of memory");
  if (rel == NULL && !berth__aws_container_uri_allowed(url)) {
    st = berth_error_set(err, BERTH_EINVAL,
                         "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must "
                         "be https, or http to a loopback address, "
                         "169.254.170.2, 169.254.170.23 or fd00:ec2::23");
    goto done;
  }
  if (token_file != NULL) {
    st = berth__aws_read_file(token_file, TOKEN_FILE_LIMIT, &token);
    if (st != BERTH_OK) {
      st = berth_error_set(err, st == BERTH_ENOMEM ? st : BERTH_EUNAUTHORIZED,
                           "container: cannot read "
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s",
                           token_file, berth_strerror(st));
      goto done;
    }
  } else if (token_env != NULL) {
    token = strdup(token_env);
    if (token == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      goto done;
    }
  }
  if (token != NULL) {
    if (strpbrk(token, "\r\n") != NULL) {
      st = berth_error_set(err, BERTH_EINVAL,
                           "container: the authorization token contains a "
                           "line break");
      goto done;
    }
    hdr = berth_strdup_printf("Authorization: %s", token);
    if (hdr == NULL) {
      st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
      goto done;
    }
    hdrs[0] = hdr;
  }
  st = metadata_client(cfg, &client, err);
  if (st != BERTH_OK)
    goto done;
  memset(&req, 0, sizeof(req));
  req.method = "GET";
  req.url = url;
  req.headers = hdrs;
  st = berth_http_do(client, &req, &resp, err);
  if (st != BERTH_OK) {
    berth_error_prefix(err, "container");
    goto done;
  }
  if (resp.status != 200) {
    char code[64], msg[200];
    bool parsed =
        berth_aws_parse_error(resp.body.data, resp.body.len, code, sizeof(code),
                              msg, sizeof(msg)) == BERTH_OK;
    st = berth_http_status_to_berth(resp.status);
    if (st == BERTH_OK)
      st = BERTH_EHTTP;
    st = berth_error_set(err, st,
                         "container: endpoint answered HTTP %ld%s%s%s%s",
                         resp.status, parsed ? ": " : "", parsed ? code : "",
                         parsed ? ": " : "", parsed ? msg : "");
    if (err != NULL) {
      err->http_code = resp.status;
      if (parsed)
        berth_error_set_reason(err, code);
    }
    goto done;
  }
  st = berth__aws_parse_json_credentials(resp.body.data, resp.body.len,
                                         "container", out, err);
  if (st != BERTH_OK)
    berth_error_prefix(err, "container");

done:
  if (resp.body.data != NULL)
    berth_memzero(resp.body.data, resp.body.len);
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(client);
  berth__aws_free_secret(hdr);
  berth__aws_free_secret(token);
  free(url);
  return st;
}
