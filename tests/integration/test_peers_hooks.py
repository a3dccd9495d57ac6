#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers hooks in the field: a failing on-start retried with backoff
(not a crash), a failing on-change retried with the same BERTH_ADDED, a
hanging hook killed at --hook-timeout and retried, and SIGTERM during a
hanging hook (berth-peers and the hook both gone within a second)."""

import os
import re
import time

from test_timing import bound
from test_peers_lib import (Peers, Recorder, bed_ctl, check, main, member,
                            poll, quiet_for)

BASE = ["-service", "web", "-ns", "default", "-domain", "cluster.local",
        "--hostname", "web-0", "--interval", "100ms",
        "--http-endpoint", "127.0.0.1:0"]


def gone(pid):
    """True when pid no longer exists (berth-peers reaped it)."""
    return not os.path.exists("/proc/%d" % pid)


def test_failing_hooks_are_retried(binary, running):
    bed_ctl("scale", "web", "2")
    start = Recorder("fail-first-2")
    change = Recorder("fail-first-1")
    p = Peers(binary, BASE + ["-on-start", start.argv(), "-on-change",
                              change.argv(), "--hook-backoff", "100ms"])
    running.append(p)
    port = p.http_port()
    start.wait_runs(3, 10)
    p.wait_log(r'msg="hook succeeded" hook=on-start', 5)
    failed = p.matching(r'msg="hook failed; will retry" hook=on-start')
    check(len(failed) == 2, "two failures logged: %r" % failed)
    check('error="on-start exited with status 1"' in failed[0], failed[0])
    delays = [int(re.search(r"retry_in_ms=(\d+)", l).group(1)) for l in failed]
    check(50 <= delays[0] <= 100 and 100 <= delays[1] <= 200,
          "backoff delays %r" % delays)
    check(len(p.matching(r'stream=stderr line="recorder failing run 1"')) ==
          1, "hook stderr streamed into the log")
    poll(lambda: p.get("/readyz", port)[0] == 200, 5, "ready after on-start")
    check(p.metric(port, "berth_peers_hook_failures_total") == 2, "failures")

    bed_ctl("scale", "web", "3")
    first = change.wait_runs(1, 10)
    second = change.wait_runs(2, 10)
    for run in (first, second):
        check(run["env"]["BERTH_ADDED"] == member(2), "added %r" %
              run["env"]["BERTH_ADDED"])
    quiet_for(lambda: change.count() > 2, 0.5, "a run after the success")
    check(p.metric(port, "berth_peers_hook_runs_total") == 5, "runs")
    # What any program exports: its build and its process.
    check(p.metric(port, "process_open_fds") > 0 and
          p.metric(port, "process_resident_memory_bytes") > 0, "process_* metrics")
    _, body = p.get("/metrics", port)
    check('berth_build_info{program="berth-peers",' in body, "build_info:\n" + body)
    check(p.metric(port, "berth_peers_hook_failures_total") == 3, "failures")
    p.terminate(within=1.0)


def test_hanging_hook_is_killed(binary, running):
    bed_ctl("scale", "web", "2")
    rec = Recorder("hang-first-1")
    p = Peers(binary, BASE + ["-on-start", rec.argv(), "--hook-timeout",
                              "500ms", "--hook-backoff", "100ms"])
    running.append(p)
    hung = rec.wait_runs(1, 10)
    t0 = time.monotonic()
    line = p.wait_log(r'msg="hook failed; will retry" hook=on-start', 5)[0]
    took = time.monotonic() - t0
    check("on-start: on-start ran over its timeout of 500 ms and was killed"
          in line, line)
    # The lower bound is berth's own measure from the spawn (duration_ms):
    # the recorder writes its first line some time after the spawn, so the
    # test's clock cannot tell an early kill on a loaded machine.
    ran = int(re.search(r"duration_ms=(\d+)", line).group(1))
    check(500 <= ran <= bound(2500), "killed after %d ms, want about 500" % ran)
    check(took <= bound(2.5), "killed %.2f s after the hook started" % took)
    check(gone(hung["pid"]), "the hung hook (pid %d) is still there" %
          hung["pid"])
    rec.wait_runs(2, 5)
    p.wait_log(r'msg="hook succeeded" hook=on-start', 5)
    p.terminate(within=1.0)


def test_sigterm_during_hook(binary, running):
    bed_ctl("scale", "web", "2")
    rec = Recorder("hang-first-1")
    p = Peers(binary, BASE + ["-on-start", rec.argv()])
    running.append(p)
    hung = rec.wait_runs(1, 10)
    p.terminate(within=1.0)
    check(gone(hung["pid"]), "the hook outlived berth-peers")


if __name__ == "__main__":
    main([test_failing_hooks_are_retried, test_hanging_hook_is_killed,
          test_sigterm_during_hook])
