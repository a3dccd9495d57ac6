# SPDX-License-Identifier: Apache-2.0
"""Upper bounds on wall-clock time in the Python tests (the C tests'
test_timing.h): kept only where the bound is the property under test,
measured from the event that matters, and scaled by BERTH_TIME_SCALE,
which tests/CMakeLists.txt sets for every test (3 in sanitizer builds).
Lower bounds are never scaled."""

import os


def scale():
    try:
        return max(1.0, float(os.environ.get("BERTH_TIME_SCALE", "1")))
    except ValueError:
        return 1.0


def bound(seconds):
    """seconds, scaled."""
    return seconds * scale()
