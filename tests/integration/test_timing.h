/* SPDX-License-Identifier: Apache-2.0 */
/* Upper bounds on wall-clock time in tests. A bound is kept only where the
 * bound itself is the property under test (a cancel noticed within its
 * poll interval, a timeout that fires), measured from the event that
 * matters, and scaled by BERTH_TIME_SCALE: tests/CMakeLists.txt sets it
 * for every test (3 in sanitizer builds, 1 otherwise; BERTH_TIME_SCALE
 * in the environment when configuring overrides it, for a loaded
 * machine). Lower bounds are never scaled. */
#ifndef BERTH_TEST_TIMING_H
#define BERTH_TEST_TIMING_H

#include <stdint.h>
#include <stdlib.h>

static inline double test_time_scale(void)
{
  const char *s = getenv("BERTH_TIME_SCALE");
  double v = s != NULL ? strtod(s, NULL) : 1.0;

  return v >= 1.0 ? v : 1.0;
}

/* ms, scaled. */
static inline int64_t test_bound_ms(int64_t ms)
{
  return (int64_t)((double)ms * test_time_scale());
}

#endif
