/* SPDX-License-Identifier: Apache-2.0 */
/* AWS error codes: classification and parsing of error bodies, see
 * include/berth/aws.h.
 *
 * Body formats:
 *   EC2 (Query, XML):  <Response><Errors><Error><Code/><Message/></Error>
 *                      </Errors><RequestID/></Response>
 *   STS (Query, XML):  <ErrorResponse><Error><Type/><Code/><Message/>
 *                      </Error><RequestId/></ErrorResponse>
 *   REST-JSON (EFS):   {"ErrorCode": "...", "Message": "..."}, or the
 *                      generic {"__type": "prefix#Code", "message": ...}
 *                      / {"code": ...} that botocore also accepts. */
#include "aws_int.h"

#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "berth/json.h"
#include "berth/log.h"

/* The throttling codes of botocore's and the Go SDK's standard retry
 * mode. */
static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    NULL};

bool berth_aws_error_is_throttling(const char *code)
{
  size_t i;

  if (code == NULL)
    return false;
  for (i = 0; throttling_codes[i] != NULL; i++)
    if (strcmp(code, throttling_codes[i]) == 0)
      return true;
  return false;
}

static bool in(const char *code, const char *const *list)
{
  size_t i;

  for (i = 0; list[i] != NULL; i++)
    if (strcmp(code, list[i]) == 0)
      return true;
  return false;
}

berth_status_t berth_aws_error_status(const char *code, long http_code)
{
  static const char *const unauthorized[] = {
      "AuthFailure",
      "SignatureDoesNotMatch",
      "InvalidClientTokenId",
      "UnrecognizedClientException",
      "IncompleteSignature",
      "IncompleteSignatureException",
      "MissingAuthenticationToken",
      "MissingAuthenticationTokenException",
      "InvalidSignatureException",
      "RequestExpired",
      "ExpiredToken",
      "ExpiredTokenException",
      "InvalidIdentityToken",
      "InvalidAccessKeyId",
      "RequestTimeTooSkewed",
      "AuthFailure.ServiceLinkedRoleCreationNotPermitted",
      NULL};
  static const char *const forbidden[] = {"UnauthorizedOperation",
                                          "AccessDenied",
                                          "AccessDeniedException",
                                          "OptInRequired",
                                          "Blocked",
                                          "PendingVerification",
                                          "IncorrectFileSystemLifeCycleState",
                                          NULL};
  static const char *const conflict[] = {"IdempotentParameterMismatch",
                                         "IncorrectState",
                                         "VolumeInUse",
                                         "IncorrectModificationState",
                                         "IncorrectInstanceState",
                                         "ConcurrentTagAccess",
                                         "InvalidAttachment.Conflict",
                                         "ConflictException",
                                         "IncorrectMountTargetState",
                                         NULL};
  static const char *const invalid[] = {"InvalidParameterValue",
                                        "InvalidParameter",
                                        "MissingParameter",
                                        "InvalidParameterCombination",
                                        "ValidationError",
                                        "ValidationException",
                                        "BadRequest",
                                        "UnknownParameter",
                                        "InvalidAction",
                                        "InvalidQueryParameter",
                                        "MalformedQueryString",
                                        "InvalidRequest",
                                        "UnsupportedOperation",
                                        "InvalidVolume.ZoneMismatch",
                                        "InvalidZone.NotFound",
                                        "UnsupportedAvailabilityZone",
                                        NULL};
  static const char *const unavailable[] = {
      "InternalError",         "InternalFailure",
      "ServiceUnavailable",    "Unavailable",
      "InternalServerError",   "InsufficientVolumeCapacity",
      "RequestTimeout",        "RequestTimeoutException",
      "IDPCommunicationError", NULL};
  size_t n;

  if (code == NULL || *code == '\0')
    return berth_http_status_to_berth(http_code) == BERTH_OK
               ? BERTH_EHTTP
               : berth_http_status_to_berth(http_code);
  n = strlen(code);
  /* The specific lists first: InvalidZone.NotFound is a bad argument. */
  if (berth_aws_error_is_throttling(code))
    return BERTH_ETHROTTLED;
  if (in(code, unauthorized))
    return BERTH_EUNAUTHORIZED;
  if (in(code, forbidden))
    return BERTH_EFORBIDDEN;
  if (in(code, conflict))
    return BERTH_ECONFLICT;
  if (in(code, invalid))
    return BERTH_EINVAL;
  if (in(code, unavailable))
    return BERTH_EUNAVAILABLE;
  if (n >= 8 && strcmp(code + n - 8, "NotFound") == 0)
    return BERTH_ENOTFOUND;
  if (n >= 13 && strcmp(code + n - 13, "AlreadyExists") == 0)
    return BERTH_EEXIST;
  if (n >= 9 && (strcmp(code + n - 9, "Malformed") == 0 ||
                 strstr(code, ".Malformed") != NULL))
    return BERTH_EINVAL;
  if (n >= 13 && strcmp(code + n - 13, "LimitExceeded") == 0)
    return BERTH_EPERM;
  if (strstr(code, "LimitExceeded") != NULL)
    return BERTH_EPERM;
  if (http_code >= 500)
    return BERTH_EUNAVAILABLE;
  return berth_http_status_to_berth(http_code) == BERTH_OK
             ? BERTH_EHTTP
             : berth_http_status_to_berth(http_code);
}

/* Copy s into out, white space runs collapsed to one space, trimmed,
 * secrets in running text redacted (a server may echo what it got), and
 * only printable UTF-8 kept. */
static void copy_clean(char *out, size_t size, const char *s)
{
  berth_buf_t raw, red;
  size_t i = 0;
  size_t o = 0;
  bool space = false;

  if (size == 0)
    return;
  berth_buf_init(&raw);
  berth_buf_init(&red);
  for (; s != NULL && *s != '\0'; s++) {
    char c = *s;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      space = raw.len > 0;
      continue;
    }
    if (space && berth_buf_append_byte(&raw, ' ') != BERTH_OK)
      break;
    space = false;
    if (berth_buf_append_byte(&raw, c) != BERTH_OK)
      break;
  }
  if (berth_redact(berth_buf_str(&raw), &red) != BERTH_OK)
    berth_buf_reset(&red);
  /* Control bytes (a terminal escape, DEL) and bytes that are not UTF-8
   * become '?', and the copy ends on a whole character, so that code and
   * message are one printable line that logs and Events can carry. */
  for (i = 0; i < red.len;) {
    const unsigned char *u = (const unsigned char *)red.data + i;
    size_t n = *u < 0x20 || *u == 0x7f ? 0 : berth_utf8_len(u, red.len - i);

    if (o + (n == 0 ? 1 : n) + 1 > size)
      break;
    if (n == 0) {
      out[o++] = '?';
      i++;
    } else {
      memcpy(out + o, u, n);
      o += n;
      i += n;
    }
  }
  out[o] = '\0';
  berth_buf_cleanup(&raw);
  berth_buf_cleanup(&red);
}

static berth_status_t parse_xml_error(const char *body, size_t len, char *code,
                                      size_t code_size, char *message,
                                      size_t message_size)
{
  berth__xml_node_t *root = NULL;
  const berth__xml_node_t *e = NULL;
  const char *c, *m;
  berth_status_t st;

  st = berth__xml_parse(body, len, &root, NULL);
  if (st != BERTH_OK)
    return BERTH_EPARSE;
  if (strcmp(root->name, "Response") == 0)
    e = berth__xml_path(root, "Errors/Error");
  else if (strcmp(root->name, "ErrorResponse") == 0)
    e = berth__xml_child(root, "Error");
  else if (strcmp(root->name, "Error") == 0)
    e = root;
  c = e != NULL ? berth__xml_text(e, "Code") : NULL;
  m = e != NULL ? berth__xml_text(e, "Message") : NULL;
  if (c == NULL || *c == '\0') {
    st = BERTH_EPARSE;
  } else {
    copy_clean(code, code_size, c);
    copy_clean(message, message_size, m != NULL ? m : "");
  }
  berth__xml_free(root);
  return st;
}

static berth_status_t parse_json_error(const char *body, size_t len, char *code,
                                       size_t code_size, char *message,
                                       size_t message_size)
{
  static const char *const code_keys[] = {"ErrorCode", "__type", "code", "Code",
                                          NULL};
  static const char *const msg_keys[] = {"Message", "message", "errorMessage",
                                         NULL};
  json_t *doc = NULL;
  const char *c = NULL;
  const char *m = NULL;
  char tmp[128];
  size_t i;

  if (berth_json_parse(body, len, &doc, NULL) != BERTH_OK)
    return BERTH_EPARSE;
  if (!json_is_object(doc)) {
    json_decref(doc);
    return BERTH_EPARSE;
  }
  for (i = 0; c == NULL && code_keys[i] != NULL; i++)
    c = json_string_value(json_object_get(doc, code_keys[i]));
  for (i = 0; m == NULL && msg_keys[i] != NULL; i++)
    m = json_string_value(json_object_get(doc, msg_keys[i]));
  if (c == NULL || *c == '\0') {
    json_decref(doc);
    return BERTH_EPARSE;
  }
  /* "aws.protocoltests#FooError" and "FooError:http://..." forms. */
  if (strchr(c, '#') != NULL)
    c = strrchr(c, '#') + 1;
  berth_strlcpy(tmp, c, sizeof(tmp));
  if (strchr(tmp, ':') != NULL)
    *strchr(tmp, ':') = '\0';
  copy_clean(code, code_size, tmp);
  copy_clean(message, message_size, m != NULL ? m : "");
  json_decref(doc);
  return BERTH_OK;
}

berth_status_t berth_aws_parse_error(const char *body, size_t len, char *code,
                                     size_t code_size, char *message,
                                     size_t message_size)
{
  size_t i = 0;

  if (code_size > 0)
    code[0] = '\0';
  if (message_size > 0)
    message[0] = '\0';
  if (body == NULL)
    return BERTH_EPARSE;
  while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' ||
                     body[i] == '\t'))
    i++;
  if (i < len && body[i] == '<')
    return parse_xml_error(body, len, code, code_size, message, message_size);
  if (i < len && body[i] == '{')
    return parse_json_error(body, len, code, code_size, message, message_size);
  return BERTH_EPARSE;
}
