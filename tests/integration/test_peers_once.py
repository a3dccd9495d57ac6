#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers as an init container (--once): success, --timeout with a
clear message when this member never appears or the Service is missing,
--min-peers, and the ordered-start barrier --wait-for-lower-ordinals
(blocks while a lower ordinal is missing, releases when it appears)."""

import json
import time

from test_timing import bound
from test_peers_lib import (ZONE, Peers, Recorder, bed_ctl, check, main,
                            member, members, poll, quiet_for, set_records)

BASE = ["-service", "web", "-ns", "default", "-domain", "cluster.local",
        "--interval", "100ms", "--once"]


def test_once_runs_on_start_and_exits(binary, running):
    bed_ctl("scale", "web", "3")
    rec = Recorder()
    p = Peers(binary, BASE + ["--hostname", "web-1", "-on-start", rec.argv()])
    running.append(p)
    check(p.wait_exit(10) == 0, "exit status")
    check(rec.count() == 1, "on-start runs: %d" % rec.count())
    check(rec.run(1)["stdin"] == members(range(3)), "stdin")


def test_once_timeout_when_self_missing(binary, running):
    bed_ctl("scale", "web", "3")
    rec = Recorder()
    t0 = time.monotonic()
    p = Peers(binary, BASE + ["--hostname", "web-7", "--timeout", "1s",
                              "-on-start", rec.argv()])
    running.append(p)
    rc = p.wait_exit(10)
    took = time.monotonic() - t0
    check(rc == 1, "exit status %d, want 1" % rc)
    # From the start, as --timeout counts: at least 1 s, and not much more.
    check(1.0 <= took < bound(4.0), "gave up after %.2f s, want about 1 s" % took)
    line = p.matching(r'level=error msg="gave up: --timeout passed"')
    check(len(line) == 1, "one error line: %r" % p.log()[-3:])
    check("this member %s is not in DNS yet" % member(7) in line[0],
          "the reason names the missing member: %s" % line[0])
    check(rec.count() == 0, "on-start ran without self")


def test_once_timeout_when_service_missing(binary, running):
    p = Peers(binary, ["-service", "nosuch", "-ns", "default", "-domain",
                       "cluster.local", "--hostname", "nosuch-0", "--once",
                       "--timeout", "500ms", "--interval", "100ms"])
    running.append(p)
    check(p.wait_exit(10) == 1, "exit status")
    line = p.matching(r'msg="gave up')
    check(line and "service nosuch.default.svc.cluster.local has no SRV "
          "records" in line[0], "reason: %r" % line)


def test_min_peers(binary, running):
    bed_ctl("scale", "web", "2")
    rec = Recorder()
    p = Peers(binary, BASE + ["--hostname", "web-0", "--min-peers", "3",
                              "-on-start", rec.argv()])
    running.append(p)
    p.wait_log(r'msg=waiting reason="2 of the 3 peers wanted', 5)
    quiet_for(lambda: p.proc.poll() is not None, 0.3, "exit before 3 peers")
    bed_ctl("scale", "web", "3")
    check(p.wait_exit(10) == 0, "exit status")
    check(rec.run(1)["stdin"] == members(range(3)), "stdin")


def test_wait_for_lower_ordinals(binary, running):
    # Members 0 and 3 only, as with podManagementPolicy: Parallel when 1
    # and 2 are slow to start.
    records = []
    for i in (0, 3):
        records += [{"type": "SRV", "name": ZONE, "target": member(i),
                     "port": 80},
                    {"type": "A", "name": member(i),
                     "address": "10.244.0.%d" % (10 + i)}]
    set_records({"zone": "cluster.local", "services": [],
                 "records": records})
    rec = Recorder()
    p = Peers(binary, BASE + ["--hostname", "web-3",
                              "--wait-for-lower-ordinals",
                              "-on-start", rec.argv()])
    running.append(p)
    p.wait_log(r'lower ordinal web-1\.%s is not in DNS yet' % ZONE, 5)
    quiet_for(lambda: p.proc.poll() is not None or rec.count() > 0, 0.5,
              "on-start before web-1 and web-2")
    bed_ctl("scale", "web", "4")
    check(p.wait_exit(10) == 0, "exit status")
    check(rec.run(1)["stdin"] == members(range(4)), "stdin %r" %
          rec.run(1)["stdin"])
    # web-0 never waits.
    p0 = Peers(binary, BASE + ["--hostname", "web-0",
                               "--wait-for-lower-ordinals"])
    running.append(p0)
    check(p0.wait_exit(10) == 0, "web-0 exit status")


def test_named_port_and_json_logs(binary, running):
    bed_ctl("scale", "web", "2")
    p = Peers(binary, BASE + ["--hostname", "web-0", "--port-name", "http",
                              "--log-format", "json"])
    running.append(p)
    check(p.wait_exit(10) == 0, "exit status")
    events = [json.loads(line) for line in p.log()]
    check(events and all("msg" in e and "time" in e for e in events),
          "JSON log lines: %r" % p.log())
    start = [e for e in events if e["msg"] == "starting"]
    check(start[0]["service"] == "_http._tcp." + ZONE, "SRV name %r" %
          start[0]["service"])
    changed = [e for e in events if e["msg"] == "membership changed"]
    check(changed[0]["count"] == "2", "members via the named port")
    p = Peers(binary, BASE + ["--hostname", "web-0", "--port-name", "nosuch",
                              "--timeout", "300ms"])
    running.append(p)
    check(p.wait_exit(10) == 1, "exit status with an unknown port name")
    check(p.matching(r"service _nosuch\._tcp\.%s has no SRV records" %
                     ZONE.replace(".", r"\.")), "reason: %r" % p.log()[-1:])


if __name__ == "__main__":
    main([test_once_runs_on_start_and_exits,
          test_once_timeout_when_self_missing,
          test_once_timeout_when_service_missing, test_min_peers,
          test_wait_for_lower_ordinals, test_named_port_and_json_logs])
