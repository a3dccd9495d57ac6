/* SPDX-License-Identifier: Apache-2.0 */
/* Durations on the command line ("500ms", "15s", "1m30s", "2h"), one strict
 * parser for the three programs.
 *
 * The grammar is Go's time.ParseDuration without its sign: one or more
 * <number><unit>, where a number is digits with an optional fraction
 * ("1.5h", ".5s", "5.s") and a unit is ns, us, µs, μs, ms, s, m or h. A
 * number alone is seconds ("30"), as berth's flags have always taken it;
 * "0" is zero. Nothing else is a duration: no sign, no white space, no
 * exponent, no NaN or infinity. The value is computed in integers, never
 * in floating point, and a value beyond the caller's maximum is refused
 * rather than wrapped or clamped. */
#ifndef BERTH_DURATION_H
#define BERTH_DURATION_H

#include <stdint.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest duration Go represents (2^63-1 ns, about 292 years), in
 * milliseconds: the default maximum. */
#define BERTH_DURATION_MAX_MS (INT64_MAX / 1000000)

/* Parse s into milliseconds in [0, max_ms] (max_ms <= 0 means
 * BERTH_DURATION_MAX_MS). As in Go, each part is taken in whole
 * nanoseconds (a finer fraction is dropped: "0.5ns" is 0); the sum then
 * rounds up to whole milliseconds, so that "1us" is 1 ms, not 0 (which
 * many flags read as "off"). On failure returns BERTH_EPARSE and fills err with
 * a message that names flag (e.g. "--min-age") and the value; *out_ms is set
 * only on success. */
berth_status_t berth_duration_parse(const char *flag, const char *s,
                                    int64_t max_ms, int64_t *out_ms,
                                    berth_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_DURATION_H */
