#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers --source endpoints benchmark: how long from an EndpointSlice
update to the hook running, how much memory berth-peers keeps, and how
many API requests it makes at rest.

Run it inside the test bed's real control plane (bench/peers/run-endpoints
does):

    tests/bed/bed.py run k8s -- bench/peers/bench_endpoints.py BERTH-PEERS [N]

A StatefulSet "web" of 3 pods (Parallel) is scheduled by the real
scheduler onto a registered Node; the script sets the pods' status as a
kubelet would (Running, podIP, Ready), and the real EndpointSlice
controller makes the endpoints. BERTH-PEERS runs as web-0 with
--source endpoints --ready-only (through the bed's fault proxy, no fault
set), an on-change hook that only writes the time. Then N (20) changes:
web-2 NotReady, Ready, and so on. For each, t0 is the moment this
script's own watch of the EndpointSlices (straight to kube-apiserver)
receives the slice update; the latency is the hook's own timestamp minus
t0 (that watcher is a Python thread on a busy machine: it can hear of the
event a few ms after berth-peers, hence small negative figures). The
latency from the moment the pod status PATCH was sent, which includes
the EndpointSlice controller's work, is printed too. At rest (no change for REST seconds, 30), the requests berth-peers
sent are counted by the proxy. Prints median, worst and best, VmRSS and
VmHWM, and the requests per minute at rest.
"""

import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

from test_provisioner_lib import API, admin, env, kubectl, register_node  # noqa: E402

NS = "bench-peers"
NODE = "bench-node"
REST = 30


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            sys.exit("bench: timed out waiting for %s" % what)
        time.sleep(0.002)


def set_ready(api, i, ready):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    st = "True" if ready else "False"
    ip = "10.251.0.%d" % (i + 10)
    body = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "hostIP": "127.0.0.1",
                       "conditions": [{"type": t, "status": st if t in
                                       ("Ready", "ContainersReady") else "True",
                                       "lastTransitionTime": now}
                                      for t in ("PodScheduled", "Initialized",
                                                "ContainersReady", "Ready")]}}
    api.request("PATCH", "/api/v1/namespaces/%s/pods/web-%d/status" % (NS, i),
                body, "application/merge-patch+json")


class SliceWatch:
    """A watch of the Service's EndpointSlices straight to kube-apiserver
    (no proxy): the arrival time of each event whose slice shows web-2
    ready or not."""

    def __init__(self):
        url = env("BERTH_K8S_APISERVER_URL")
        with open(env("BERTH_K8S_TOKEN_FILE")) as f:
            token = f.read().strip()
        ctx = ssl.create_default_context(cafile=env("BERTH_K8S_CA"))
        req = urllib.request.Request(
            url + "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices"
            "?watch=1&labelSelector=kubernetes.io/service-name%%3Dweb" % NS,
            headers={"Authorization": "Bearer " + token})
        self.resp = urllib.request.urlopen(req, context=ctx, timeout=600)
        self.events = []  # (time, web-2 ready)
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.resp:
            t = time.time()
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            for e in ev.get("object", {}).get("endpoints") or []:
                if e.get("hostname") == "web-2":
                    with self.lock:
                        self.events.append((t, bool(e.get("conditions", {}).get("ready"))))

    def first_after(self, since, ready):
        with self.lock:
            for t, r in self.events:
                if t >= since and r == ready:
                    return t
        return None


def hook_times(path):
    try:
        with open(path) as f:
            return [int(x) / 1e9 for x in f.read().split()]
    except OSError:
        return []


def memory(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = v.strip()
    return out


def requests_since(seq):
    q = admin("GET", "/requests?since=%d&limit=100000&path=endpointslices" % seq)
    return [i for i in q["items"] if "berth-peers" in (i.get("user") or "")]


def last_seq():
    q = admin("GET", "/requests?limit=1")
    return q["items"][-1]["seq"] if q["items"] else 0


def setup(api):
    kubectl("create", "namespace", NS)
    kubectl("apply", "-n", NS, "-f", os.path.join(HERE, "..", "..", "deploy", "overlays",
                                                 "peers", "endpoints-rbac.yaml"))
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "web", "namespace": NS},
           "spec": {"clusterIP": "None", "selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80}]}}
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "web", "namespace": NS},
           "spec": {"serviceName": "web", "replicas": 3, "podManagementPolicy": "Parallel",
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"nodeSelector": {"kubernetes.io/hostname": NODE},
                                          "containers": [{"name": "web", "image": "nginx"}]}}}}
    for o in (svc, sts):
        kubectl("apply", "-f", "-", stdin=json.dumps(o))
    for i in range(3):
        wait(lambda: (api.get("/api/v1/namespaces/%s/pods/web-%d" % (NS, i)) or
                      {}).get("spec", {}).get("nodeName"), 60, "web-%d scheduled" % i)
        set_ready(api, i, True)
    token = kubectl("create", "token", "-n", NS, "berth-peers",
                    "--duration=1h").stdout.strip()
    fd, path = tempfile.mkstemp(prefix="bench-kubeconfig-")
    with os.fdopen(fd, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n"
                "    server: %s\n    certificate-authority: %s\nusers:\n- name: u\n"
                "  user:\n    token: %s\ncontexts:\n- name: c\n  context:\n"
                "    cluster: b\n    user: u\ncurrent-context: c\n"
                % (env("BERTH_K8S_URL"), env("BERTH_K8S_CA"), token))
    return path


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bench_endpoints.py BERTH-PEERS [CHANGES]")
    binary = sys.argv[1]
    changes = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    register_node(NODE)
    api = API()
    kubeconfig = setup(api)
    watch = SliceWatch()
    stamps = os.path.join(tempfile.mkdtemp(prefix="berth-bench-"), "stamps")
    hook = "/bin/sh -c 'date +%%s%%N >> \"$0\"' %s" % stamps
    p = subprocess.Popen([binary, "-service", "web", "-ns", NS, "-domain", "cluster.local",
                          "--hostname", "web-0", "--source", "endpoints", "--ready-only",
                          "-kubeconfig", kubeconfig, "-on-change", hook,
                          "--log-level", "error"])
    try:
        wait(lambda: len(hook_times(stamps)) == 1, 30, "the first run")
        lat = []
        lat_patch = []
        ready = True
        for i in range(changes):
            ready = not ready
            since = time.time()
            set_ready(api, 2, ready)
            wait(lambda: len(hook_times(stamps)) > i + 1, 30, "the hook")
            t0 = wait(lambda: watch.first_after(since, ready), 10, "the slice event")
            lat.append(hook_times(stamps)[i + 1] - t0)
            lat_patch.append(hook_times(stamps)[i + 1] - since)
        mem = memory(p.pid)
        seq = last_seq()
        t_rest = time.monotonic()
        time.sleep(REST)  # a measurement window, not synchronisation
        rest = requests_since(seq)
        rest_s = time.monotonic() - t_rest
    finally:
        p.terminate()
        p.wait()
        kubectl("delete", "namespace", NS, "--wait=false")
    ms = sorted(x * 1000 for x in lat)
    print("berth-peers bench (--source endpoints --ready-only): %s" % binary)
    print("changes: %d (web-2 NotReady/Ready), t0: the slice event at a watch "
          "of kube-apiserver" % changes)
    print("slice update->hook latency ms: median %.1f  worst %.1f  best %.1f" %
          (statistics.median(ms), ms[-1], ms[0]))
    print("all (ms): %s" % " ".join("%.1f" % x for x in ms))
    mp = sorted(x * 1000 for x in lat_patch)
    print("pod status PATCH->hook ms (with the EndpointSlice controller): "
          "median %.1f  worst %.1f  best %.1f" % (statistics.median(mp), mp[-1], mp[0]))
    print("resident memory: VmRSS %s  VmHWM %s" % (mem.get("VmRSS"), mem.get("VmHWM")))
    print("API requests at rest: %d in %.0f s (%.2f per minute): %s" %
          (len(rest), rest_s, len(rest) * 60.0 / rest_s,
           ", ".join(sorted({"%s %s" % (r.get("verb"), r.get("code")) for r in rest}))))


if __name__ == "__main__":
    main()
