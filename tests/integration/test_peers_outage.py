#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers when DNS is not there yet or goes away: the Service absent at
first and then created; dnsmasq stopped and restarted on the same port
(twice). No hang (queries go on and the endpoint answers), no crash, one
log line per outage, recovery with the change made during the outage, and
SIGTERM honoured within a second even while DNS is down."""

import json
import socket

from test_peers_lib import (Peers, Recorder, bed_ctl, check, main, poll,
                            quiet_for)

DB = "db.default.svc.cluster.local"


def db(i):
    return "db-%d.%s" % (i, DB)


FAILING = r'msg="DNS look-up failing'
RECOVERED = r'msg="DNS look-up recovered"'


def outage(p, port):
    """Stop dnsmasq; check that berth-peers keeps asking, logs the outage
    once, and keeps its last membership. (A restart of dnsmasq by `scale`
    may have made an outage of its own before: count from here.)"""
    before = len(p.matching(FAILING))
    q0 = p.metric(port, "berth_peers_dns_queries_total")
    f0 = p.metric(port, "berth_peers_dns_failures_total")
    bed_ctl("down")
    p.wait_log(FAILING, 5, count=before + 1)
    poll(lambda: p.metric(port, "berth_peers_dns_failures_total") >= f0 + 5,
         10, "five failed queries during the outage")
    check(p.metric(port, "berth_peers_dns_queries_total") >= q0 + 5,
          "queries went on")
    check(len(p.matching(FAILING)) == before + 1, "outage logged %d times" %
          (len(p.matching(FAILING)) - before))
    check(p.get("/healthz", port)[0] == 200, "/healthz during the outage")
    check(p.get("/readyz", port)[0] == 200, "still ready on the last "
          "membership")
    check(p.proc.poll() is None, "berth-peers exited during the outage")


def up(p):
    """Start dnsmasq again; wait for the recovery to be logged."""
    before = len(p.matching(RECOVERED))
    bed_ctl("up")
    p.wait_log(RECOVERED, 5, count=before + 1)


def test_absent_present_down_up(binary, running):
    rec = Recorder()
    p = Peers(binary, ["-service", "db", "-ns", "default", "-domain",
                       "cluster.local", "--hostname", "db-1", "-on-start",
                       rec.argv(), "-on-change", rec.argv(), "--interval",
                       "100ms", "--http-endpoint", "127.0.0.1:0"])
    running.append(p)
    port = p.http_port()
    p.wait_log(r'msg="service has no SRV records yet; waiting" '
               r'service=db\.default', 5)
    quiet_for(lambda: rec.count() > 0, 0.5, "a hook before the Service exists")
    check(p.get("/readyz", port)[0] == 503, "/readyz before the Service")
    doc = json.loads(p.get("/peers", port)[1])
    check(doc["self"] == db(1) and doc["count"] == 0 and
          doc["ready"] is False, "/peers before the Service: %r" % doc)
    check(p.metric(port, "berth_peers_dns_failures_total") == 0,
          "NXDOMAIN counted as a failure")

    bed_ctl("scale", "db", "2")
    run = rec.wait_runs(1, 5)
    check(run["stdin"] == [db(0), db(1)], "stdin %r" % run["stdin"])
    poll(lambda: p.get("/readyz", port)[0] == 200, 5, "/readyz 200")
    check(len(p.matching(r'no SRV records yet')) == 1, "absence logged once")

    outage(p, port)
    bed_ctl("scale", "db", "3")  # served when dnsmasq comes back
    quiet_for(lambda: rec.count() > 1, 0.3, "a hook during the outage")
    up(p)
    run = rec.wait_runs(2, 5)
    check(run["env"]["BERTH_ADDED"] == db(2), "added %r" %
          run["env"]["BERTH_ADDED"])
    check(run["env"]["BERTH_REMOVED"] == "", "removed during outage")

    outage(p, port)
    up(p)
    quiet_for(lambda: rec.count() > 2, 0.5, "a hook after an unchanged outage")
    # SIGTERM while DNS is down.
    before = len(p.matching(FAILING))
    bed_ctl("down")
    p.wait_log(FAILING, 5, count=before + 1)
    p.terminate(within=1.0)
    bed_ctl("up")


def test_silent_dns(binary, running):
    """A server that drops every query: each DNS call ends at its deadline,
    the failure is logged once, and SIGTERM is still honoured at once."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    try:
        p = Peers(binary, ["-service", "db", "-ns", "default", "-domain",
                           "cluster.local", "--hostname", "db-0", "--once",
                           "--interval", "100ms", "--dns-server",
                           "127.0.0.1:%d" % sink.getsockname()[1]])
        running.append(p)
        line = p.wait_log(FAILING, 5)[0]
        check("timed out" in line.lower() or "timeout" in line.lower(),
              "a timeout: %s" % line)
        p.terminate(within=1.0)
        check(len(p.matching(FAILING)) == 1, "one outage line")
    finally:
        sink.close()


if __name__ == "__main__":
    main([test_absent_present_down_up, test_silent_dns])
