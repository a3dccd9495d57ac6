/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes Status objects to berth_error_t, see include/berth/k8s.h.
 *
 * API errors arrive as a meta/v1 Status (API conventions, "Response Status
 * Kind"): code, reason (a StatusReason such as NotFound, AlreadyExists,
 * Conflict, Expired), message, and details (name, kind, causes,
 * retryAfterSeconds). The reason is more precise than the HTTP code: 409 is
 * both AlreadyExists and Conflict, 410 is Gone or Expired. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "berth/http.h"
#include "berth/json.h"
#include "k8s_int.h"

static const struct {
  const char *reason;
  berth_status_t status;
} reason_map[] = {
    {"NotFound", BERTH_ENOTFOUND},
    {"AlreadyExists", BERTH_EEXIST},
    {"Conflict", BERTH_ECONFLICT},
    {"Gone", BERTH_EGONE},
    {"Expired", BERTH_EGONE},
    {"Invalid", BERTH_EINVAL},
    {"BadRequest", BERTH_EINVAL},
    {"Unauthorized", BERTH_EUNAUTHORIZED},
    {"Forbidden", BERTH_EFORBIDDEN},
    {"TooManyRequests", BERTH_ETHROTTLED},
    {"RequestEntityTooLarge", BERTH_ETOOBIG},
    {"Timeout", BERTH_EUNAVAILABLE},
    {"ServerTimeout", BERTH_EUNAVAILABLE},
    {"InternalError", BERTH_EUNAVAILABLE},
    {"ServiceUnavailable", BERTH_EUNAVAILABLE},
};

static berth_status_t status_for(long code, const char *reason)
{
  size_t i;

  if (reason != NULL) {
    for (i = 0; i < sizeof(reason_map) / sizeof(reason_map[0]); i++)
      if (strcmp(reason, reason_map[i].reason) == 0)
        return reason_map[i].status;
  }
  if (code == 400 || code == 422)
    return BERTH_EINVAL;
  if (code == 0)
    return BERTH_EHTTP;
  return berth_http_status_to_berth(code);
}

/* Append the causes ("field: message; ...") when the message lacks them. */
static void append_causes(const json_t *details, berth_buf_t *msg)
{
  json_t *causes = json_object_get(details, "causes");
  json_t *cause;
  size_t i;
  const char *field;
  const char *text;

  if (!json_is_array(causes))
    return;
  json_array_foreach(causes, i, cause)
  {
    field = json_string_value(json_object_get(cause, "field"));
    text = json_string_value(json_object_get(cause, "message"));
    if (text == NULL || strstr(berth_buf_str(msg), text) != NULL)
      continue;
    berth_buf_appendf(msg, "%s%s%s%s", msg->len > 0 ? "; " : "",
                      field != NULL ? field : "", field != NULL ? ": " : "",
                      text);
  }
}

berth_status_t berth_k8s_status_decode_json(long http_code,
                                            const json_t *status,
                                            int64_t *retry_after_ms,
                                            berth_error_t *err)
{
  const char *reason = NULL;
  const char *message = NULL;
  const char *outcome = NULL;
  json_t *details = NULL;
  json_t *code;
  json_t *retry;
  long c = http_code;
  berth_buf_t msg;
  berth_status_t st;

  berth_buf_init(&msg);
  if (retry_after_ms != NULL)
    *retry_after_ms = -1;
  if (json_is_object(status)) {
    reason = json_string_value(json_object_get(status, "reason"));
    message = json_string_value(json_object_get(status, "message"));
    outcome = json_string_value(json_object_get(status, "status"));
    details = json_object_get(status, "details");
    code = json_object_get(status, "code");
    if (c == 0 && json_is_integer(code))
      c = (long)json_integer_value(code);
    retry = json_object_get(details, "retryAfterSeconds");
    if (retry_after_ms != NULL && json_is_integer(retry) &&
        json_integer_value(retry) >= 0)
      *retry_after_ms = json_integer_value(retry) > INT64_MAX / 1000
                            ? INT64_MAX / 1000 * 1000
                            : (int64_t)json_integer_value(retry) * 1000;
  }
  if (c >= 200 && c < 300 &&
      (outcome == NULL || strcmp(outcome, "Failure") != 0)) {
    st = BERTH_OK;
    goto done;
  }
  if (reason != NULL && reason[0] == '\0')
    reason = NULL;
  st = status_for(c, reason);
  if (message != NULL && message[0] != '\0')
    berth_buf_append_str(&msg, message);
  if (json_is_object(details))
    append_causes(details, &msg);
  if (msg.len == 0)
    berth_buf_appendf(&msg, "%s (HTTP %ld)",
                      reason != NULL ? reason : "unknown error", c);
  berth_error_set(err, st, "%s", berth_buf_str(&msg));
  if (err != NULL) {
    err->http_code = c;
    err->reason[0] = '\0';
    berth_error_set_reason(err, reason);
  }

done:
  berth_buf_cleanup(&msg);
  return st;
}

/* A short, printable summary of a body that is not a Status. */
static void summarise(const char *body, size_t len, char *out, size_t outsize)
{
  size_t i;
  size_t k = 0;
  bool space = false;

  for (i = 0; i < len && k + 1 < outsize && k < 200; i++) {
    unsigned char ch = (unsigned char)body[i];
    if (isspace(ch)) {
      space = k > 0;
      continue;
    }
    if (space && k + 2 < outsize)
      out[k++] = ' ';
    space = false;
    out[k++] = isprint(ch) ? (char)ch : '?';
  }
  out[k] = '\0';
}

berth_status_t berth_k8s_status_decode(long http_code, const char *body,
                                       size_t len, int64_t *retry_after_ms,
                                       berth_error_t *err)
{
  json_t *doc = NULL;
  const char *kind;
  char text[256];
  berth_status_t st;

  if (retry_after_ms != NULL)
    *retry_after_ms = -1;
  if (body != NULL && len > 0)
    doc = json_loadb(body, len, 0, NULL);
  kind = json_string_value(json_object_get(doc, "kind"));
  if (doc != NULL && kind != NULL && strcmp(kind, "Status") == 0) {
    st = berth_k8s_status_decode_json(http_code, doc, retry_after_ms, err);
    goto done;
  }
  if (http_code >= 200 && http_code < 300) {
    st = BERTH_OK;
    goto done;
  }
  st = status_for(http_code, NULL);
  summarise(body != NULL ? body : "", body != NULL ? len : 0, text,
            sizeof(text));
  berth_error_set(err, st, "HTTP %ld%s%s", http_code, text[0] ? ": " : "",
                  text);
  if (err != NULL) {
    err->http_code = http_code;
    err->reason[0] = '\0';
  }

done:
  json_decref(doc);
  return st;
}
