# SPDX-License-Identifier: Apache-2.0
"""Helpers for the berth-peers integration tests (Python 3 stdlib only).

Each test_peers_*.py script runs under `tests/bed/bed.py run dns -- ...`
with the berth-peers binary as its first argument. Everything waits by
polling with a deadline; nothing sleeps to synchronise.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from checklib import Failure, check  # noqa: F401 - re-exported
from checklib import poll as checklib_poll
from test_timing import bound

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "peers")
RECORDER = os.path.join(HERE, "test_peers_recorder.sh")
ZONE = "web.default.svc.cluster.local"


def poll(pred, timeout, what):
    """checklib's poll, every 20 ms."""
    return checklib_poll(pred, timeout, what, interval=0.02)


def quiet_for(pred, seconds, what):
    """Check that pred() stays false for `seconds` (an absence, which only
    a period of watching can show)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check(not pred(), "unexpected: %s" % what)
        time.sleep(0.02)


def member(i):
    return "web-%d.%s" % (i, ZONE)


def members(ordinals):
    return [member(i) for i in ordinals]


def bed_ctl(*args):
    """Change the bed's DNS: `bed.py ctl dns ARGS...`."""
    subprocess.run([sys.executable, os.environ["BERTH_BED"], "ctl", "dns"] +
                   list(args), check=True, stdout=subprocess.DEVNULL)


def set_records(model):
    """Replace the bed's whole DNS model (see tests/bed/bed_dns.py)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(model, f)
    try:
        bed_ctl("set-file", f.name)
    finally:
        os.unlink(f.name)


class Recorder:
    """A directory that test_peers_recorder.sh records hook runs into."""

    def __init__(self, mode="ok"):
        self.dir = tempfile.mkdtemp(prefix="berth-peers-hook-")
        self.mode = mode

    def argv(self):
        """The hook command line (split by berth-peers, no shell)."""
        return "/bin/sh %s %s %s" % (RECORDER, self.dir, self.mode)

    def count(self):
        try:
            with open(os.path.join(self.dir, "count")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return 0

    def run(self, n):
        """Run n (from 1): {"stdin": [lines], "env": {k: v}, "pid": int}."""
        base = os.path.join(self.dir, "run.%d." % n)
        with open(base + "stdin") as f:
            stdin = f.read().splitlines()
        with open(base + "env") as f:
            env = dict(line.split("=", 1) for line in f.read().splitlines())
        with open(base + "pid") as f:
            pid = int(f.read())
        return {"stdin": stdin, "env": env, "pid": pid}

    def wait_runs(self, n, timeout):
        poll(lambda: self.count() >= n and
             os.path.exists(os.path.join(self.dir, "run.%d.env" % n)),
             timeout, "hook run %d (have %d)" % (n, self.count()))
        return self.run(n)


class Peers:
    """A running berth-peers whose log lines are collected as they come."""

    def __init__(self, binary, args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        self.argv = [binary] + args
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=e)
        self.lines = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)

    def log(self):
        with self.lock:
            return list(self.lines)

    def matching(self, pattern):
        rx = re.compile(pattern)
        return [l for l in self.log() if rx.search(l)]

    def wait_log(self, pattern, timeout, count=1):
        poll(lambda: len(self.matching(pattern)) >= count, timeout,
             "%d log line(s) matching %r" % (count, pattern))
        return self.matching(pattern)

    def http_port(self, timeout=5):
        line = self.wait_log(r'msg="http endpoint listening"', timeout)[0]
        return int(re.search(r"port=(\d+)", line).group(1))

    def get(self, path, port):
        """GET http://127.0.0.1:port/path: (status, body text)."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                        timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, port, name):
        _, body = self.get("/metrics", port)
        m = re.search(r"^%s (\S+)$" % re.escape(name), body, re.M)
        check(m is not None, "metric %s missing from:\n%s" % (name, body))
        return float(m.group(1))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("berth-peers still running after %.1f s" % timeout)

    def terminate(self, within=1.0):
        """SIGTERM; check it exits 0 within `within` seconds (scaled: see
        test_timing.py), measured from the signal."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(bound(within) + 2.0)
        took = time.monotonic() - t0
        self.reader.join(timeout=2)
        check(took <= bound(within), "SIGTERM took %.2f s (want <= %.1f)"
              % (took, bound(within)))
        check(rc == 0, "exit status %d after SIGTERM" % rc)
        return took

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def expected(name):
    with open(os.path.join(DATA, "expected", name)) as f:
        return f.read()


def read(path):
    with open(path) as f:
        return f.read()


def main(tests):
    """Run each test function with the berth-peers path; report; exit."""
    if len(sys.argv) != 2:
        print("usage: %s BERTH-PEERS" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    binary = sys.argv[1]
    failed = 0
    t_all = time.monotonic()
    for t in tests:
        t0 = time.monotonic()
        running = []
        try:
            t(binary, running)
            print("ok - %s (%.1f s)" % (t.__name__, time.monotonic() - t0))
        except Exception as e:  # report every test, then fail
            failed += 1
            print("FAIL - %s: %s: %s" % (t.__name__, type(e).__name__, e))
            for p in running:
                print("--- log of %s" % " ".join(p.argv))
                print("\n".join(p.log()[-40:]))
        finally:
            for p in running:
                p.kill()
        sys.stdout.flush()
    print("%d of %d failed (%.1f s)" % (failed, len(tests),
                                        time.monotonic() - t_all))
    sys.exit(1 if failed else 0)
