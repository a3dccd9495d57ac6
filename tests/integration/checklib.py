# SPDX-License-Identifier: Apache-2.0
"""The Python tests' checks, in one place: Failure (a check failed),
check(cond, msg) and poll(pred, timeout, what), which waits for a
condition with a deadline (never a sleep as synchronisation). The test
libraries (test_provisioner_lib.py, test_peers_lib.py) and the scripts
import them from here."""

import time


class Failure(Exception):
    """A check failed; the message says what was expected and seen."""


def check(cond, msg):
    """Raise Failure(msg) unless cond is true."""
    if not cond:
        raise Failure(msg)


def poll(pred, timeout, what, interval=0.05):
    """Call pred() every interval seconds until it returns a true value,
    which is returned; raise Failure after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)
