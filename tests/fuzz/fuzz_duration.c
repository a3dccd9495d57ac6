/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the one duration parser (berth_duration_parse), checked
 * against exact arithmetic: an independent reading of the grammar, each
 * part in whole nanoseconds (rounded down, as Go), the sum rounded up to
 * milliseconds, and the maximum. The first byte picks the maximum. */
#include <string.h>

#include "berth/duration.h"
#include "bignum.h"
#include "fuzz.h"

#define ORACLE_MAX_LEN 256

/* The value in ns as a bignum, or 0 when s is not a duration. */
static int read_duration(const char *s, big_t *total)
{
  static const struct {
    const char *u;
    uint32_t ns_hi; /* ns = ns_hi * 1000 + ns_lo */
    uint32_t ns_lo;
  } units[] = {
      {"ns", 0, 1},        {"us", 1, 0},          {"\xc2\xb5s", 1, 0},
      {"\xce\xbcs", 1, 0}, {"ms", 1000, 0},       {"s", 1000000, 0},
      {"m", 60000000, 0},  {"h", 3600000000u, 0},
  };
  const char *start = s;

  big_set_u64(total, 0);
  if (*s == '\0')
    return 0;
  while (*s != '\0') {
    const char *part_start = s;
    big_t part;
    size_t nfrac = 0;
    size_t i;
    int digits = 0;
    int unit = -1;

    big_set_u64(&part, 0);
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
      big_mul_small(&part, 10);
      big_add_small(&part, (uint32_t)(*s - '0'));
    }
    if (*s == '.') {
      for (s++; *s >= '0' && *s <= '9'; s++, digits++, nfrac++) {
        big_mul_small(&part, 10);
        big_add_small(&part, (uint32_t)(*s - '0'));
      }
    }
    if (digits == 0)
      return 0;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      size_t n = strlen(units[i].u);

      if (strncmp(s, units[i].u, n) == 0) {
        unit = (int)i;
        s += n;
        break;
      }
    }
    /* A lone number (the whole value) is seconds. */
    if (unit < 0 && *s == '\0' && part_start == start)
      unit = 5;
    if (unit < 0)
      return 0;
    if (units[unit].ns_hi != 0) {
      big_mul_small(&part, units[unit].ns_hi);
      big_mul_small(&part, 1000);
    }
    for (i = 0; i < nfrac; i++)
      big_div_small(&part, 10);
    big_add(total, &part);
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int64_t maxes[] = {0, 86400000, 365LL * 86400000, 1000, 1};
  int64_t max_ms;
  int64_t got = -1;
  char *s;
  berth_error_t err;
  berth_status_t st;
  big_t ns;

  if (size == 0)
    return 0;
  max_ms = maxes[data[0] % (sizeof(maxes) / sizeof(maxes[0]))];
  s = fuzz_strndup(data + 1, size - 1);
  if (s == NULL)
    return 0;
  berth_error_clear(&err);
  st = berth_duration_parse("--flag", s, max_ms, &got, &err);
  FUZZ_CHECK(st == BERTH_OK || st == BERTH_EPARSE, "status %d", (int)st);
  if (st == BERTH_OK) {
    int64_t limit = max_ms > 0 ? max_ms : BERTH_DURATION_MAX_MS;

    FUZZ_CHECK(got >= 0 && got <= limit, "'%s' -> %lld ms", s, (long long)got);
  } else {
    FUZZ_CHECK(strstr(err.message, "--flag") != NULL, "message '%s'",
               err.message);
    FUZZ_CHECK(got == -1, "output set on failure");
  }
  if (strlen(s) == size - 1 && size - 1 <= ORACLE_MAX_LEN) {
    if (!read_duration(s, &ns)) {
      FUZZ_CHECK(st != BERTH_OK, "'%s' is not a duration, read as %lld ms", s,
                 (long long)got);
    } else {
      uint64_t want_ns;
      uint64_t want_ms;
      int64_t limit = max_ms > 0 ? max_ms : BERTH_DURATION_MAX_MS;

      if (!big_to_u64(&ns, &want_ns) || want_ns > (uint64_t)limit * 1000000u) {
        FUZZ_CHECK(st != BERTH_OK, "'%s' exceeds the maximum, read as %lld", s,
                   (long long)got);
      } else {
        want_ms = want_ns / 1000000u + (want_ns % 1000000u != 0);
        if (want_ms > (uint64_t)limit) {
          FUZZ_CHECK(st != BERTH_OK, "'%s' rounds past the maximum", s);
        } else {
          FUZZ_CHECK(st == BERTH_OK, "'%s' refused: %s", s, err.message);
          FUZZ_CHECK((uint64_t)got == want_ms, "'%s': %lld ms, exactly %llu", s,
                     (long long)got, (unsigned long long)want_ms);
        }
      }
    }
  }
  free(s);
  return 0;
}
