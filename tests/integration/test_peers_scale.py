#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers against the bed's dnsmasq: a 12-member StatefulSet seen from
web-3, then scaled to 15 and down to 10 (dnsmasq restarted on the same port
each time). Checks the ordinal order, on-start with all 12 peers on
standard input, one on-change per settled change with the right
BERTH_ADDED/BERTH_REMOVED, every renderer against tests/data/peers/expected,
files rewritten only on change, the HTTP endpoint, and SIGTERM."""

import json
import os
import tempfile
import time

from test_peers_lib import (Peers, Recorder, ZONE, bed_ctl, check, expected,
                            main, member, members, poll, quiet_for, read)

RENDERS = [("zookeeper", "zoo/zoo.cfg.dynamic", "zookeeper.cfg"),
           ("etcd", "etcd.yaml", "etcd.yaml"),
           ("mongo", "mongo.json", "mongo.json"),
           ("cassandra", "cassandra.yaml", "cassandra.yaml"),
           ("elasticsearch", "elasticsearch.yml", "elasticsearch.yml"),
           ("json", "peers.json", "peers.json"),
           ("lines", "lines.txt", "lines.txt")]


def common_args(rec, out):
    args = ["-service", "web", "-ns", "default", "-domain", "cluster.local",
            "--hostname", "web-3", "-on-start", rec.argv(),
            "-on-change", rec.argv(), "--interval", "100ms",
            "--debounce", "200ms", "--http-endpoint", "127.0.0.1:0"]
    for kind, path, _ in RENDERS:
        args += ["--render", "%s:%s" % (kind, os.path.join(out, path))]
    return args


def check_renders(out):
    for kind, path, want in RENDERS:
        got = read(os.path.join(out, path))
        check(got == expected(want), "%s render differs from %s:\n%s" %
              (kind, want, got))
    check(read(os.path.join(out, "zoo", "myid")) == "4\n", "zookeeper myid")


def check_start(rec):
    run = rec.wait_runs(1, 10)
    check(run["stdin"] == members(range(12)),
          "on-start stdin, in ordinal order: %r" % run["stdin"])
    env = run["env"]
    want = {"BERTH_EVENT": "on-start", "BERTH_SELF": member(3),
            "BERTH_ORDINAL": "3", "BERTH_PEER_COUNT": "12",
            "BERTH_PRIMARY": member(0), "BERTH_REMOVED": "",
            "BERTH_ADDED": ",".join(members(range(12))),
            "BERTH_PEERS": ",".join(members(range(12))),
            "BERTH_SERVICE": "web", "BERTH_NAMESPACE": "default",
            "BERTH_DOMAIN": "cluster.local"}
    for k, v in want.items():
        check(env.get(k) == v, "%s=%r, want %r" % (k, env.get(k), v))


def check_http(p, port, count, changes, runs):
    # The recorder's files appear before the hook has exited.
    poll(lambda: p.metric(port, "berth_peers_hook_runs_total") == runs, 5,
         "hook_runs_total %d" % runs)
    status, body = p.get("/readyz", port)
    check(status == 200, "/readyz %d %s" % (status, body))
    check(p.get("/healthz", port)[0] == 200, "/healthz")
    check(p.get("/nope", port)[0] == 404, "/nope is not 404")
    status, body = p.get("/peers", port)
    doc = json.loads(body)
    check(status == 200 and doc["count"] == count and doc["ready"] is True and
          doc["self_seen"] is True and doc["primary"] == member(0),
          "/peers: %s" % body)
    check([m["name"] for m in doc["peers"]] == members(range(count)),
          "/peers order")
    check(p.metric(port, "berth_peers_members") == count, "members metric")
    check(p.metric(port, "berth_peers_ready") == 1, "ready metric")
    check(p.metric(port, "berth_peers_changes_total") == changes,
          "changes_total")
    check(p.metric(port, "berth_peers_hook_failures_total") == 0,
          "hook_failures_total")
    check(p.metric(port, "berth_peers_dns_queries_total") > 0, "dns queries")
    check(p.metric(port, "berth_peers_last_change_timestamp_seconds") >
          1.7e9, "last change time")


def check_query_rate(p, port):
    """A steady membership costs one SRV query per interval: addresses are
    asked again only when their TTL (5 s in the bed) runs out, not on every
    poll (which would be 13 queries per poll here)."""
    q0 = p.metric(port, "berth_peers_dns_queries_total")
    t0 = time.monotonic()
    quiet_for(lambda: False, 1.0, "")
    q1 = p.metric(port, "berth_peers_dns_queries_total")
    polls = (time.monotonic() - t0) / 0.1
    # The property is the ceiling (no address query per poll); a loaded
    # machine polls less often than every 0.1 s, so the floor is only
    # that it polled at all.
    check(1 <= q1 - q0 <= polls + 1 + 12,
          "%d DNS queries in %.0f polls" % (q1 - q0, polls))


def check_change(rec, n, stdin, added, removed):
    run = rec.wait_runs(n, 10)
    env = run["env"]
    check(env["BERTH_EVENT"] == "on-change", "run %d event %r" %
          (n, env["BERTH_EVENT"]))
    check(run["stdin"] == stdin, "run %d stdin %r" % (n, run["stdin"]))
    check(env["BERTH_ADDED"] == ",".join(added),
          "run %d BERTH_ADDED=%r" % (n, env["BERTH_ADDED"]))
    check(env["BERTH_REMOVED"] == ",".join(removed),
          "run %d BERTH_REMOVED=%r" % (n, env["BERTH_REMOVED"]))
    check(env["BERTH_PEER_COUNT"] == str(len(stdin)), "peer count")
    # Exactly once per settled change.
    quiet_for(lambda: rec.count() > n, 1.0, "a second hook run after run %d"
              % n)


def test_scale_12_15_10(binary, running):
    bed_ctl("scale", "web", "12")
    rec = Recorder()
    out = tempfile.mkdtemp(prefix="berth-peers-render-")
    os.mkdir(os.path.join(out, "zoo"))
    p = Peers(binary, common_args(rec, out))
    running.append(p)
    check_start(rec)
    check_renders(out)
    port = p.http_port()
    check_http(p, port, 12, 1, 1)
    seeds = os.stat(os.path.join(out, "cassandra.yaml"))
    check_query_rate(p, port)

    bed_ctl("scale", "web", "15")
    check_change(rec, 2, members(range(15)), members(range(12, 15)), [])
    doc = json.loads(read(os.path.join(out, "peers.json")))
    check(doc["count"] == 15, "json render after scale to 15")
    check("initial-cluster-state: existing\n" in
          read(os.path.join(out, "etcd.yaml")), "etcd state after a change")

    bed_ctl("scale", "web", "10")
    check_change(rec, 3, members(range(10)), [], members(range(10, 15)))
    check(read(os.path.join(out, "lines.txt")) ==
          "".join(m + "\n" for m in members(range(10))), "lines after 10")
    check_http(p, port, 10, 3, 3)
    # The seeds never changed: the file was never rewritten.
    now = os.stat(os.path.join(out, "cassandra.yaml"))
    check((now.st_ino, now.st_mtime_ns) == (seeds.st_ino, seeds.st_mtime_ns),
          "cassandra.yaml rewritten without a change")
    check(not [f for f in os.listdir(out) if ".tmp" in f], "temp files left")
    check(len(p.matching(r'msg="membership changed"')) == 3,
          "membership changes logged: %d" % len(p.matching(r'membership changed')))
    p.terminate(within=1.0)


def test_peer_finder_style(binary, running):
    """Go-style flags, -on-change only (it runs at the start, as in
    peer-finder), -addresses: the peers as addresses on standard input."""
    bed_ctl("scale", "web", "3")
    rec = Recorder()
    p = Peers(binary, ["-service=web", "-ns=default", "-domain=cluster.local",
                       "-on-change=" + rec.argv(), "-addresses",
                       "-interval=100ms"],
              env={"HOSTNAME": "web-0"})
    running.append(p)
    run = rec.wait_runs(1, 10)
    check(run["stdin"] == ["10.244.0.10", "10.244.0.11", "10.244.0.12"],
          "-addresses stdin %r" % run["stdin"])
    check(run["env"]["BERTH_EVENT"] == "on-start", "first run is the start")
    check(run["env"]["BERTH_SELF"] == member(0), "self from $HOSTNAME")
    bed_ctl("scale", "web", "4")
    run = rec.wait_runs(2, 10)
    check(run["env"]["BERTH_ADDED"] == member(3), "added web-3")
    check(run["stdin"][-1] == "10.244.0.13", "stdin %r" % run["stdin"])
    p.terminate(within=1.0)


if __name__ == "__main__":
    main([test_scale_12_15_10, test_peer_finder_style])
