/* SPDX-License-Identifier: Apache-2.0 */
/* STS AssumeRoleWithWebIdentity and AssumeRole (Query protocol, version
 * 2011-06-15), for the credential chain. See lib/aws/aws_int.h.
 *
 * AssumeRoleWithWebIdentity is sent unsigned, as the SDKs send it: the
 * web identity token is the credential. Answers look like
 *
 *   <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/
 *       doc/2011-06-15/">
 *     <AssumeRoleWithWebIdentityResult>
 *       <Credentials><AccessKeyId/><SecretAccessKey/><SessionToken/>
 *         <Expiration>2019-11-09T13:34:41Z</Expiration></Credentials>
 *       ...
 *
 * and likewise for AssumeRole. */
#include "aws_int.h"

#include <stdlib.h>
#include <string.h>

#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

berth_status_t berth__aws_sts_parse_credentials(const char *body, size_t len,
                                                berth_aws_credentials_t *out,
                                                berth_error_t *err)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *result = NULL;
  const berth__xml_node_t *c;
  const char *ak, *sk, *tok, *exp;
  berth_aws_credentials_t creds;
  berth_status_t st;

  memset(&creds, 0, sizeof(creds));
  st = berth__xml_parse(body, len, &root, err);
  if (st != BERTH_OK)
    return st;
  for (c = root->child; c != NULL; c = c->next) {
    size_t n = strlen(c->name);
    if (n > 6 && strcmp(c->name + n - 6, "Result") == 0) {
      result = c;
      break;
    }
  }
  c = berth__xml_child(result, "Credentials");
  ak = berth__xml_text(c, "AccessKeyId");
  sk = berth__xml_text(c, "SecretAccessKey");
  tok = berth__xml_text(c, "SessionToken");
  exp = berth__xml_text(c, "Expiration");
  if (ak == NULL || *ak == '\0' || sk == NULL || *sk == '\0' || tok == NULL ||
      *tok == '\0' || exp == NULL) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "STS answer without Credentials (AccessKeyId, "
                         "SecretAccessKey, SessionToken, Expiration)");
    goto done;
  }
  if (berth__aws_parse_time(exp, &creds.expiration_ms) != BERTH_OK) {
    st = berth_error_set(err, BERTH_EPARSE,
                         "STS credentials: bad Expiration \"%.40s\"", exp);
    goto done;
  }
  creds.access_key_id = strdup(ak);
  creds.secret_access_key = strdup(sk);
  creds.session_token = strdup(tok);
  if (creds.access_key_id == NULL || creds.secret_access_key == NULL ||
      creds.session_token == NULL) {
    st = berth_error_set(err, BERTH_ENOMEM, "out of memory");
    goto done;
  }
  *out = creds;
  memset(&creds, 0, sizeof(creds));

done:
  /* The tree holds the secret and token: wipe their text. */
  if (c != NULL) {
    const berth__xml_node_t *k;
    for (k = c->child; k != NULL; k = k->next)
      berth_memzero(k->text, strlen(k->text));
  }
  berth_aws_credentials_cleanup(&creds);
  berth__xml_free(root);
  return st;
}

static berth_status_t call(berth__aws_transport_t *t,
                           const berth_aws_endpoint_t *ep,
                           const berth_aws_credentials_t *creds,
                           const char *action, berth_buf_t *form,
                           berth_aws_credentials_t *out, const char *source,
                           berth_error_t *err)
{
  berth_aws_request_t req;
  berth_http_response_t resp;
  berth_status_t st;

  berth_http_response_init(&resp);
  memset(&req, 0, sizeof(req));
  req.service = BERTH_AWS_STS;
  req.action = action;
  req.method = "POST";
  req.path = "/";
  req.content_type = FORM_TYPE;
  req.body = form->data;
  req.body_len = form->len;
  st = berth__aws_transport_send(t, ep, creds, &req, &resp, err);
  if (st == BERTH_OK) {
    st = berth__aws_sts_parse_credentials(resp.body.data, resp.body.len, out,
                                          err);
    if (st == BERTH_OK)
      out->source = source;
    else
      berth_error_prefix(err, action);
  }
  if (resp.body.data != NULL)
    berth_memzero(resp.body.data, resp.body.len);
  berth_http_response_cleanup(&resp);
  return st;
}

berth_status_t berth__aws_sts_web_identity(
    berth__aws_transport_t *t, const berth_aws_endpoint_t *ep,
    const char *role_arn, const char *session_name, const char *token,
    berth_aws_credentials_t *out, berth_error_t *err)
{
  berth_buf_t form;
  berth_status_t st;

  berth_buf_init(&form);
  st = berth__aws_form_add(&form, "Action", "AssumeRoleWithWebIdentity");
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "Version", "2011-06-15");
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "RoleArn", role_arn);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "RoleSessionName", session_name);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "WebIdentityToken", token);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "out of memory");
  else
    st = call(t, ep, NULL, "STS AssumeRoleWithWebIdentity", &form, out,
              "web-identity", err);
  if (form.data != NULL)
    berth_memzero(form.data, form.len);
  berth_buf_cleanup(&form);
  return st;
}

berth_status_t berth__aws_sts_assume_role(
    berth__aws_transport_t *t, const berth_aws_endpoint_t *ep,
    const berth_aws_credentials_t *creds, const char *role_arn,
    const char *session_name, const char *external_id, int duration_s,
    berth_aws_credentials_t *out, berth_error_t *err)
{
  berth_buf_t form;
  berth_status_t st;

  berth_buf_init(&form);
  st = berth__aws_form_add(&form, "Action", "AssumeRole");
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "Version", "2011-06-15");
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "RoleArn", role_arn);
  if (st == BERTH_OK)
    st = berth__aws_form_add(&form, "RoleSessionName", session_name);
  if (st == BERTH_OK && external_id != NULL)
    st = berth__aws_form_add(&form, "ExternalId", external_id);
  if (st == BERTH_OK && duration_s > 0)
    st = berth__aws_form_addf(&form, "DurationSeconds", "%d", duration_s);
  if (st != BERTH_OK)
    st = berth_error_set(err, st, "out of memory");
  else
    st = call(t, ep, creds, "STS AssumeRole", &form, out, "assume-role", err);
  berth_buf_cleanup(&form);
  return st;
}
