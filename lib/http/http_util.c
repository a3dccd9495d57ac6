/* SPDX-License-Identifier: Apache-2.0 */
/* Pure helpers of the HTTP client: status mapping, Retry-After parsing,
 * header matching and URL descriptions. See include/berth/http.h. */
#include "berth/http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "http_int.h"

berth_status_t berth_http_status_to_berth(long code)
{
  if (code >= 200 && code <= 299)
    return BERTH_OK;
  switch (code) {
  case 401:
    return BERTH_EUNAUTHORIZED;
  case 403:
    return BERTH_EFORBIDDEN;
  case 404:
    return BERTH_ENOTFOUND;
  case 409:
    return BERTH_ECONFLICT;
  case 410:
    return BERTH_EGONE;
  case 413:
    return BERTH_ETOOBIG;
  case 429:
    return BERTH_ETHROTTLED;
  default:
    break;
  }
  if (code >= 500 && code <= 599)
    return BERTH_EUNAVAILABLE;
  return BERTH_EHTTP;
}

berth_status_t berth_http_parse_retry_after(const char *value, int64_t now_ms,
                                            int64_t *out_ms)
{
  char buf[64];
  const char *p;
  size_t len;
  long long secs;
  time_t when;
  int64_t ms;
  berth_status_t st = BERTH_EPARSE;

  if (value == NULL)
    goto done;
  /* Trim into a local copy; a longer value is no valid Retry-After. */
  p = value;
  while (isspace((unsigned char)*p))
    p++;
  len = strlen(p);
  while (len > 0 && isspace((unsigned char)p[len - 1]))
    len--;
  if (len == 0 || len >= sizeof(buf))
    goto done;
  memcpy(buf, p, len);
  buf[len] = '\0';

  if (isdigit((unsigned char)buf[0])) {
    /* delay-seconds = 1*DIGIT (RFC 9110 section 10.2.3). */
    if (berth_str_to_ll(buf, 0, INT64_MAX / 1000, &secs) != BERTH_OK)
      goto done;
    *out_ms = (int64_t)secs * 1000;
    st = BERTH_OK;
    goto done;
  }
  /* Every HTTP-date form (IMF-fixdate, obsolete RFC 850, asctime) starts
   * with a day name; requiring a letter keeps curl_getdate's more lenient
   * grammar from accepting "-5" or "1.5". */
  if (!isalpha((unsigned char)buf[0]))
    goto done;
  when = curl_getdate(buf, NULL);
  if (when == (time_t)-1 || (int64_t)when > INT64_MAX / 1000 ||
      (int64_t)when < INT64_MIN / 1000)
    goto done;
  ms = (int64_t)when * 1000 - now_ms;
  *out_ms = ms > 0 ? ms : 0;
  st = BERTH_OK;

done:
  return st;
}

bool berth__http_header_match(const char *line, size_t len, const char *name,
                              const char **value, size_t *value_len)
{
  size_t n = strlen(name);
  const char *v;
  const char *end = line + len;

  if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
    return false;
  v = line + n + 1;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && isspace((unsigned char)end[-1]))
    end--;
  *value = v;
  *value_len = (size_t)(end - v);
  return true;
}

berth_status_t berth__http_url_for_message(const char *url, char *out,
                                           size_t outsize)
{
  CURLU *u = NULL;
  char *scheme = NULL;
  char *host = NULL;
  char *port = NULL;
  char *path = NULL;
  berth_status_t st = BERTH_EINVAL;

  berth_strlcpy(out, "(invalid URL)", outsize);
  if (url == NULL)
    goto done;
  u = curl_url();
  if (u == NULL) {
    st = BERTH_ENOMEM;
    goto done;
  }
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
    goto done;
  /* An absent port or path is not an error. */
  if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
    port = NULL;
  if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
    path = NULL;
  snprintf(out, outsize, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
           port ? port : "", path ? path : "/");
  st = BERTH_OK;

done:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_url_cleanup(u);
  return st;
}
