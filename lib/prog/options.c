/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: the daemons' option helpers, see include/berth/prog.h. */
#include "berth/prog.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "berth/duration.h"
#include "berth/version.h"

bool berth_prog_fail(const berth_prog_t *p, const char *fmt, ...)
{
  va_list ap;

  fprintf(p->err, "%s: ", p->name);
  va_start(ap, fmt);
  vfprintf(p->err, fmt, ap);
  va_end(ap);
  fputc('\n', p->err);
  return false;
}

void berth_prog_version(const berth_prog_t *p)
{
  fprintf(p->out, "%s %s (commit %s)\n", p->name, BERTH_VERSION,
          berth_build_commit());
}

const char *berth_prog_env(const char *name)
{
  const char *v = getenv(name);

  return v != NULL && v[0] != '\0' ? v : NULL;
}

berth_status_t berth_prog_bool_parse(const char *s, bool *out)
{
  /* src/strconv/atob.go: exactly these spellings, nothing else. */
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  size_t i;

  if (s == NULL)
    return BERTH_EPARSE;
  for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (strcmp(s, yes[i]) == 0) {
      *out = true;
      return BERTH_OK;
    }
    if (strcmp(s, no[i]) == 0) {
      *out = false;
      return BERTH_OK;
    }
  }
  return BERTH_EPARSE;
}

bool berth_prog_duration(const berth_prog_t *p, const char *flag,
                         const char *value, int64_t max_ms, int64_t *out_ms)
{
  berth_error_t err;

  berth_error_clear(&err);
  if (berth_duration_parse(flag, value, max_ms, out_ms, &err) == BERTH_OK)
    return true;
  return berth_prog_fail(p, "%s", err.message);
}

bool berth_prog_number(const berth_prog_t *p, const char *flag,
                       const char *value, double min, double max, double *out)
{
  char *end;
  double d = strtod(value, &end);

  /* The negated test also refuses NaN, which compares false to anything. */
  if (end == value || *end != '\0' || !(d >= min && d <= max))
    return berth_prog_fail(p, "%s: '%s' is not a number in [%g, %g]", flag,
                           value, min, max);
  *out = d;
  return true;
}

berth_log_level_t berth_prog_klog_level(long long v)
{
  if (v <= 2)
    return BERTH_LOG_INFO;
  return v <= 4 ? BERTH_LOG_DEBUG : BERTH_LOG_TRACE;
}
