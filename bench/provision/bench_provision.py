#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/provision: N claims created at once; figures from the outside.

    bench_provision.py BERTH-PROVISIONER N [PROVISIONER FLAGS...]

Runs under tests/bed/bed.py run k8s nfs (see run.sh). The claims are
POSTed by 16 threads straight to the API server (kubectl would be the
bottleneck); a watch on claims stamps each one's Bound time as it is seen.
Prints key=value lines:

  mode                    burst (default: claims POSTed while it runs) or
                          backlog (BENCH_MODE=backlog: all claims waiting
                          before the provisioner starts; times count from
                          its start)
  claims                  N
  create_s                time to POST all claims
  elapsed_s               first POST to last claim Bound
  claims_per_s            N / elapsed_s
  bound_p50_ms, _p99_ms   claim POSTed -> seen Bound (client clock)
  api_requests_per_claim  requests the provisioner made (the fault
                          proxy's request counter: everything but the
                          bench's own POSTs and watch), per claim
  requests_per_claim      the same without watches (long-lived, one per
                          informer), as issue 19 counts: Events included
  events_per_claim        of them, Events (create and patch)
  pv_requests_per_claim   of them, PersistentVolumes (create, get, ...)
  claim_requests_per_claim  of them, PersistentVolumeClaims (patch, ...)
  other_requests          of them, the rest (lists at start, the Lease)
  events_shed, events_folded  the provisioner's correlator (its metrics)
  events_at_last_bound    its Event counters by outcome (and pending)
                          when the last claim was Bound; the bench then
                          waits for the Event queue to empty before it
                          counts the requests
  events_drained_s        how long after the last Bound that took
  claims_per_s_with_events  N / (elapsed_s + events_drained_s): the pace
                          including every Event sent
  api_requests_by_verb    the requests by verb and resource
  api_codes               every request's HTTP code (the bench's too)
  peak_rss_kib            the provisioner's VmHWM at the end
  directories             directories on the export (must be N)
"""

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
from test_provisioner_lib import admin, apply, storage_class, v3_url  # noqa: E402

URL = os.environ["BERTH_K8S_URL"]
TOKEN = open(os.environ["BERTH_K8S_TOKEN_FILE"]).read().strip()
CTX = ssl.create_default_context(cafile=os.environ["BERTH_K8S_CA"])
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"


def request(method, path, body=None):
    req = urllib.request.Request(URL + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + TOKEN,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=CTX, timeout=60) as r:
        return json.load(r)


def claim(name):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"storageClassName": "bench", "accessModes": ["ReadWriteMany"],
                     "resources": {"requests": {"storage": "1Gi"}}}}


class Watcher(threading.Thread):
    """Stamp each claim's Bound time as the watch shows it."""

    def __init__(self, rv, n):
        threading.Thread.__init__(self, daemon=True)
        self.rv, self.n, self.bound = rv, n, {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            req = urllib.request.Request(
                URL + PVCS + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + self.rv,
                headers={"Authorization": "Bearer " + TOKEN})
            with urllib.request.urlopen(req, context=CTX, timeout=600) as r:
                for line in r:
                    ev = json.loads(line)
                    o = ev["object"]
                    self.rv = o["metadata"].get("resourceVersion", self.rv)
                    if ev["type"] in ("ADDED", "MODIFIED") and \
                            (o.get("status") or {}).get("phase") == "Bound":
                        self.bound.setdefault(o["metadata"]["name"], time.monotonic())
                        if len(self.bound) >= self.n:
                            self.done.set()
                            return


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def events_metrics(log_name):
    """The provisioner's berth_provisioner_events_total by outcome."""
    out = {}
    port = [l.split("port=")[1].split()[0] for l in open(log_name)
            if "http endpoint" in l and "port=" in l][0]
    body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port,
                                  timeout=10).read().decode()
    for line in body.splitlines():
        if line.startswith("berth_provisioner_events_total{"):
            k, v = line.rsplit(" ", 1)
            out[k.split('"')[1]] = int(float(v))
        elif line.startswith("berth_provisioner_events_pending "):
            out["pending"] = int(float(line.rsplit(" ", 1)[1]))
    return out


def main():
    binary, n, flags = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    apply(storage_class("bench", {"url": v3_url(), "archiveOnDelete": "false"}))
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-provisioner.log"), "w")
    argv = [binary, "--provisioner", "berth.io/nfs=nfs", "--http-endpoint", "127.0.0.1:0",
            "--usage-interval", "0"] + flags
    print("provisioner_flags=%s" % " ".join(argv[1:]))
    backlog = os.environ.get("BENCH_MODE") == "backlog"
    print("mode=%s" % ("backlog" if backlog else "burst"))
    rv = request("GET", PVCS)["metadata"]["resourceVersion"]
    w = Watcher(rv, n)
    w.start()
    created = {}
    names = ["bench-%04d" % i for i in range(n)]
    lock = threading.Lock()

    def poster(part):
        for name in part:
            t = time.monotonic()
            request("POST", PVCS, claim(name))
            with lock:
                created[name] = t

    def post_all():
        t = time.monotonic()
        threads = [threading.Thread(target=poster, args=(names[i::16],)) for i in range(16)]
        for x in threads:
            x.start()
        for x in threads:
            x.join()
        return time.monotonic() - t

    if backlog:
        # Every claim waits before the provisioner starts: its own pace.
        create_s = post_all()
        admin("POST", "/idle", {"timeout": 60})
    admin("DELETE", "/requests")
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "controller running" not in open(log.name).read():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the provisioner did not start")
            time.sleep(0.05)
        if backlog:
            created = dict.fromkeys(names, t0)
        else:
            t0 = time.monotonic()
            create_s = post_all()
        if not w.done.wait(600):
            raise SystemExit("only %d/%d Bound after 600 s" % (len(w.bound), n))
        elapsed = max(w.bound.values()) - t0
        lat = [(w.bound[x] - created[x]) * 1000 for x in names]
        with open("/proc/%d/status" % proc.pid) as f:
            hwm = [l.split()[1] for l in f if l.startswith("VmHWM")][0]
        try:
            metrics = events_metrics(log.name)
        except OSError as e:
            metrics = {"error": str(e)}
        # The Events still queued when the last claim is Bound are part of
        # what the claims cost: wait until the queue is empty (SIGTERM then
        # flushes the few being sent), then count.
        drained = time.monotonic() + 600
        while time.monotonic() < drained:
            try:
                if events_metrics(log.name).get("pending", 1) == 0:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        events_drained_s = time.monotonic() - t0 - elapsed
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
        reqs = admin("GET", "/requests?limit=0")
        by = dict(reqs["byResource"])
        ours = {"create persistentvolumeclaims": 0 if backlog else n,
                "watch persistentvolumeclaims": 0 if backlog else 1}
        for k, v in ours.items():
            by[k] = by.get(k, 0) - v
        by = {k: v for k, v in by.items() if v > 0}
        total = sum(by.values())
        nowatch = {k: v for k, v in by.items() if not k.startswith("watch ")}

        def of(res):
            return sum(v for k, v in nowatch.items() if k.split(" ", 1)[1] == res)

        dirs = len(os.listdir(os.environ["BERTH_NFS_EXPORT_DIR"]))
        print("claims=%d" % n)
        print("create_s=%.2f" % create_s)
        print("elapsed_s=%.2f" % elapsed)
        print("claims_per_s=%.1f" % (n / elapsed))
        print("bound_p50_ms=%.0f" % percentile(lat, 50))
        print("bound_p99_ms=%.0f" % percentile(lat, 99))
        print("api_requests_per_claim=%.2f" % (total / float(n)))
        print("requests_per_claim=%.2f" % (sum(nowatch.values()) / float(n)))
        print("events_per_claim=%.2f" % (of("events") / float(n)))
        print("pv_requests_per_claim=%.2f" % (of("persistentvolumes") / float(n)))
        print("claim_requests_per_claim=%.2f" % (of("persistentvolumeclaims") / float(n)))
        print("other_requests=%d" % (sum(nowatch.values()) - of("events") -
                                      of("persistentvolumes") - of("persistentvolumeclaims")))
        print("events_shed=%s" % metrics.get("shed", "?"))
        print("events_folded=%s" % metrics.get("folded", "?"))
        print("events_at_last_bound=%s" % json.dumps(metrics))
        print("events_drained_s=%.1f" % events_drained_s)
        print("claims_per_s_with_events=%.1f" % (n / (elapsed + events_drained_s)))
        print("api_requests_by_verb=%s" % json.dumps(dict(sorted(by.items()))))
        print("api_codes=%s" % json.dumps(reqs["byCode"]))
        print("peak_rss_kib=%s" % hwm)
        print("directories=%d" % dirs)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
