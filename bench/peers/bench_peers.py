#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers benchmark: how long from a DNS change to the hook running,
and how much memory berth-peers keeps.

Run it inside the test bed (bench/peers/run does):

    tests/bed/bed.py run dns -- bench/peers/bench_peers.py BERTH-PEERS [N]

It starts BERTH-PEERS as web-0 of the bed's StatefulSet "web" with its
default --interval and no --debounce, an on-change hook that only writes
the time, then makes N (20) changes, scaling web between 3 and 4 members
(the bed restarts dnsmasq on the same port with the new records). For
each change, t0 is the first moment dnsmasq serves the new SRV set (asked
every 2 ms by this script, while `ctl dns scale` runs), and the latency is
the hook's own timestamp minus t0. Prints the median and worst latency and
berth-peers' resident memory (VmRSS now, VmHWM the peak). Use a build
without sanitizers for the memory figure. Then, at rest, the DNS queries a
second berth-peers (with --http-endpoint, which the first one does not
load, so as not to change its memory) asks in REST seconds (30), from its
berth_peers_dns_queries_total.
"""

import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ZONE = "web.default.svc.cluster.local"
REST = 30


def srv_count(sock, qid):
    """The number of SRV records dnsmasq serves for ZONE now, or None. The
    socket is connected, so that a stopped dnsmasq shows at once as a
    refused connection rather than a lost packet."""
    qname = b"".join(bytes([len(l)]) + l.encode() for l in ZONE.split("."))
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + \
        b"\0" + struct.pack("!HH", 33, 1)
    try:
        sock.send(msg)
        while True:
            data = sock.recv(4096)
            if len(data) >= 12 and data[:2] == msg[:2]:
                return struct.unpack("!H", data[6:8])[0]
    except OSError:
        return None


def dns_socket(server):
    host, port = server.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.01)
    s.connect((host, int(port)))
    return s


def scale(n):
    subprocess.run([sys.executable, os.environ["BERTH_BED"], "ctl", "dns",
                    "scale", "web", str(n)], check=True)


def hook_times(path):
    try:
        with open(path) as f:
            return [int(l) / 1e9 for l in f.read().split()]
    except OSError:
        return []


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            sys.exit("bench: timed out waiting for %s" % what)
        time.sleep(0.002)


def one_change(server, n, stamps, runs_before):
    """Scale to n; return the latency in seconds. t0 is when the query
    that first saw the new records was sent (so the latency is never
    overstated by this script's own polling)."""
    t = threading.Thread(target=scale, args=(n,))
    t.start()
    t0 = None
    qid = 0
    with dns_socket(server) as sock:
        while t0 is None:
            qid = (qid + 1) & 0xFFFF
            sent = time.time()
            if srv_count(sock, qid) == n:
                t0 = sent
            else:
                time.sleep(0.001)
    t.join()
    wait(lambda: len(hook_times(stamps)) > runs_before, 10, "the hook")
    return hook_times(stamps)[runs_before] - t0


def memory(pid):
    """VmRSS and VmHWM, and the private (unshared) part of the RSS."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = v.strip()
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Pss", "Private_Clean", "Private_Dirty"):
                out[k] = v.strip()
    return out


def dns_queries(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        m = re.search(r"^berth_peers_dns_queries_total (\S+)$", r.read().decode(), re.M)
    return float(m.group(1))


def at_rest(binary):
    """DNS queries per minute of an idle berth-peers."""
    p = subprocess.Popen([binary, "-service", "web", "-ns", "default",
                          "-domain", "cluster.local", "--hostname", "web-0",
                          "--http-endpoint", "127.0.0.1:0"],
                         stderr=subprocess.PIPE, text=True)
    try:
        port = None
        while port is None:
            line = p.stderr.readline()
            if not line:
                sys.exit("bench: the second berth-peers ended")
            m = re.search(r'msg="http endpoint listening".* port=(\d+)', line)
            port = int(m.group(1)) if m else None
        wait(lambda: "membership changed" in p.stderr.readline(), 10, "a membership")
        q0, t0 = dns_queries(port), time.monotonic()
        time.sleep(REST)  # a measurement window, not synchronisation
        q1, t1 = dns_queries(port), time.monotonic()
    finally:
        p.terminate()
        p.wait()
    return (q1 - q0) * 60.0 / (t1 - t0)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bench_peers.py BERTH-PEERS [CHANGES]")
    binary = sys.argv[1]
    changes = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    server = os.environ["BERTH_DNS_SERVER"]
    stamps = os.path.join(tempfile.mkdtemp(prefix="berth-bench-"), "stamps")
    hook = "/bin/sh -c 'date +%%s%%N >> \"$0\"' %s" % stamps
    scale(3)
    p = subprocess.Popen([binary, "-service", "web", "-ns", "default",
                          "-domain", "cluster.local", "--hostname", "web-0",
                          "-on-change", hook, "--log-level", "error"])
    try:
        wait(lambda: len(hook_times(stamps)) == 1, 10, "the first run")
        lat = []
        for i in range(changes):
            lat.append(one_change(server, 4 if i % 2 == 0 else 3, stamps,
                                  i + 1))
        mem = memory(p.pid)
    finally:
        p.terminate()
        p.wait()
    ms = sorted(x * 1000 for x in lat)
    print("berth-peers bench: %s" % binary)
    print("changes: %d  interval: default  debounce: 0" % changes)
    print("change->hook latency ms: median %.1f  worst %.1f  best %.1f" %
          (statistics.median(ms), ms[-1], ms[0]))
    print("all (ms): %s" % " ".join("%.0f" % x for x in ms))
    print("resident memory: VmRSS %s  VmHWM %s  (RssAnon %s  RssFile %s  "
          "Pss %s  Private_Dirty %s)" % tuple(mem.get(k) for k in (
              "VmRSS", "VmHWM", "RssAnon", "RssFile", "Pss", "Private_Dirty")))
    print("DNS queries at rest: %.0f per minute" % at_rest(binary))


if __name__ == "__main__":
    main()
