/* SPDX-License-Identifier: Apache-2.0 */
/* One strict duration parser for the three programs, see
 * include/berth/duration.h. Go's time.ParseDuration is the model
 * (src/time/format.go): the same units, the same "<number><unit>..."
 * shape, values summed in integer nanoseconds with every step checked.
 * Unlike Go it takes no sign (a negative timeout or interval means
 * nothing to berth) and a lone number means seconds. */
#include "berth/duration.h"

#include <string.h>

#include "util_int.h"

#define NS_PER_MS 1000000ULL

typedef struct {
  const char *name;
  uint64_t ns;
} unit_t;

/* Longer names first, so that "ms" wins over "m". */
static const unit_t units[] = {
    {"ns", 1ULL},
    {"us", 1000ULL},
    {"\xc2\xb5s", 1000ULL}, /* U+00B5 MICRO SIGN */
    {"\xce\xbcs", 1000ULL}, /* U+03BC GREEK SMALL LETTER MU */
    {"ms", NS_PER_MS},
    {"s", 1000ULL * NS_PER_MS},
    {"m", 60ULL * 1000 * NS_PER_MS},
    {"h", 3600ULL * 1000 * NS_PER_MS},
};

/* The unit at *s, moving *s past it; NULL when there is none. */
static const unit_t *unit_at(const char **s)
{
  size_t i;

  for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    size_t n = strlen(units[i].name);

    if (strncmp(*s, units[i].name, n) == 0) {
      *s += n;
      return &units[i];
    }
  }
  return NULL;
}

/* d * unit, in whole nanoseconds (rounded down, as Go does), added to
 * *total_ns; false past limit_ns. */
static bool add_part(const berth__decimal_t *d, uint64_t unit_ns,
                     uint64_t limit_ns, uint64_t *total_ns)
{
  uint64_t whole;
  uint64_t frac;
  bool frac_inexact;

  if (!berth__decimal_whole(d, &whole) ||
      (whole != 0 && unit_ns > limit_ns / whole))
    return false;
  whole *= unit_ns;
  berth__decimal_frac_mul(d, unit_ns, &frac, &frac_inexact);
  if (frac > limit_ns - whole || whole + frac > limit_ns - *total_ns)
    return false;
  *total_ns += whole + frac;
  return true;
}

berth_status_t berth_duration_parse(const char *flag, const char *s,
                                    int64_t max_ms, int64_t *out_ms,
                                    berth_error_t *err)
{
  const char *p = s;
  const char *why = NULL; /* NULL: not a duration; else it is too long */
  uint64_t limit_ns;
  uint64_t total_ns = 0;
  uint64_t ms;
  berth_status_t st = BERTH_EPARSE;
  char shown[80];

  if (max_ms <= 0 || max_ms > BERTH_DURATION_MAX_MS)
    max_ms = BERTH_DURATION_MAX_MS;
  limit_ns = (uint64_t)max_ms * NS_PER_MS;
  if (s == NULL || *s == '\0')
    goto done;
  while (*p != '\0') {
    berth__decimal_t d;
    const unit_t *unit;
    const char *num = p;

    if (!berth__decimal_scan(&p, &d))
      goto done;
    unit = unit_at(&p);
    /* A number alone is seconds, only when it is the whole value. */
    if (unit == NULL && num == s && *p == '\0')
      unit = &units[5];
    if (unit == NULL)
      goto done;
    if (!add_part(&d, unit->ns, limit_ns, &total_ns)) {
      why = "too long";
      goto done;
    }
  }
  ms = total_ns / NS_PER_MS + (total_ns % NS_PER_MS != 0);
  if (ms > (uint64_t)max_ms) {
    why = "too long";
    goto done;
  }
  *out_ms = (int64_t)ms;
  st = BERTH_OK;

done:
  if (st != BERTH_OK) {
    berth__str_escape(s != NULL ? s : "", shown, sizeof(shown));
    if (why == NULL)
      berth_error_set(err, BERTH_EPARSE,
                      "%s: '%s' is not a duration (digits and a unit: "
                      "500ms, 15s, 1m30s, 2h; no sign or spaces)",
                      flag, shown);
    else
      berth_error_set(err, BERTH_EPARSE,
                      "%s: '%s' is longer than the maximum of %lld ms", flag,
                      shown, (long long)max_ms);
  }
  return st;
}
