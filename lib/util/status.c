/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes and error detail, see include/berth/status.h. */
#include "berth/status.h"

#include "berth/buf.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  const char *text;
} status_entry_t;

/* Indexed by berth_status_t; order must match the enum. */
static const status_entry_t status_table[BERTH_STATUS_MAX_] = {
    {"BERTH_OK", "success"},
    {"BERTH_ENOMEM", "out of memory"},
    {"BERTH_EINVAL", "invalid argument"},
    {"BERTH_ENOTFOUND", "not found"},
    {"BERTH_EEXIST", "already exists"},
    {"BERTH_ECONFLICT", "conflict"},
    {"BERTH_ETRANSPORT", "transport error"},
    {"BERTH_ETIMEOUT", "timed out"},
    {"BERTH_ETLS", "TLS error"},
    {"BERTH_EPARSE", "parse error"},
    {"BERTH_EHTTP", "unexpected HTTP status"},
    {"BERTH_ETOOBIG", "too big"},
    {"BERTH_EUNAUTHORIZED", "unauthorized"},
    {"BERTH_EFORBIDDEN", "forbidden"},
    {"BERTH_ETHROTTLED", "throttled"},
    {"BERTH_EUNAVAILABLE", "service unavailable"},
    {"BERTH_EGONE", "gone"},
    {"BERTH_EIO", "I/O error"},
    {"BERTH_EPERM", "operation not permitted"},
    {"BERTH_ECANCELED", "canceled"},
    {"BERTH_EDNS", "DNS error"},
    {"BERTH_EINTERNAL", "internal error"},
};

const char *berth_strerror(berth_status_t status)
{
  if ((unsigned)status >= BERTH_STATUS_MAX_)
    return "unknown status";
  return status_table[status].text;
}

const char *berth_status_name(berth_status_t status)
{
  if ((unsigned)status >= BERTH_STATUS_MAX_)
    return "BERTH_UNKNOWN";
  return status_table[status].name;
}

void berth_error_clear(berth_error_t *err)
{
  if (err == NULL)
    return;
  memset(err, 0, sizeof(*err));
}

berth_status_t berth_error_vset(berth_error_t *err, berth_status_t status,
                                const char *fmt, va_list ap)
{
  if (err == NULL)
    return status;
  err->status = status;
  if (fmt == NULL)
    snprintf(err->message, sizeof(err->message), "%s", berth_strerror(status));
  else
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
  return status;
}

berth_status_t berth_error_set(berth_error_t *err, berth_status_t status,
                               const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  berth_error_vset(err, status, fmt, ap);
  va_end(ap);
  return status;
}

void berth_error_set_reason(berth_error_t *err, const char *reason)
{
  if (err == NULL || reason == NULL)
    return;
  snprintf(err->reason, sizeof(err->reason), "%s", reason);
}

void berth_error_prefix(berth_error_t *err, const char *prefix)
{
  char tmp[sizeof(err->message)];
  size_t n;

  if (err == NULL || prefix == NULL)
    return;
  /* Build "<prefix>: <message>" by hand: snprintf of a buffer into one of
   * the same size trips -Wformat-truncation, and truncation is intended. */
  n = berth_strlcpy(tmp, prefix, sizeof(tmp));
  if (n < sizeof(tmp))
    n += berth_strlcpy(tmp + n, ": ", sizeof(tmp) - n);
  if (n < sizeof(tmp))
    berth_strlcpy(tmp + n, err->message, sizeof(tmp) - n);
  memcpy(err->message, tmp, sizeof(tmp));
}
