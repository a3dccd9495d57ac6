#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers --source endpoints on the bed's real control plane.

A StatefulSet "web" (podManagementPolicy Parallel) is made in a namespace
of its own per test; the real scheduler places its pods on a registered
Node, and since no kubelet runs, the test sets each pod's status (phase
Running, podIP, the Ready condition) as a kubelet would. The real
EndpointSlice controller turns them into endpoints; berth-peers watches
those through the fault proxy, with the token of the ServiceAccount
"berth-peers" bound to the Role of deploy/overlays/peers/endpoints-rbac.yaml
(nothing more), and its hooks record what they were given:

  rbac        without the Role (a user with no grants): exit 1 at start with
              an error naming the Role; with it, the first hook runs
  scale       scale 3 -> 5 -> 2: each change reaches on-change (BERTH_PEERS,
              addresses from the slices); a pod scaled away is first
              terminating (conditions in the json render, not in
              BERTH_READY_PEERS), then gone
  notready    a pod going NotReady and back: without --ready-only it stays a
              member and leaves BERTH_READY_PEERS; with --ready-only it
              leaves the members and comes back
  service     the Service deleted (its slices go) and made again: no hook
              runs with a membership that lacks this member, and changes
              after the re-creation arrive
  faults      the watch closed by the proxy, a 410 from the proxy, and a
              real 410 (etcd compacted while the watch was refused): each
              change made meanwhile arrives (relist)

    test_peers_k8s_endpoints.py BERTH-PEERS DEPLOY-DIR   (under bed.py run k8s)
"""

import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_peers_lib import Peers, Recorder, check, poll, quiet_for  # noqa: E402
from test_provisioner_lib import (API, admin, clear_faults, env, fault,  # noqa: E402
                                  kubectl, register_node)

NODE = "peers-node"
ROLE = "berth-peers-endpointslices"
DEPLOY = None
COUNTER = [0]


def fqdn(ns, i):
    return "web-%d.web.%s.svc.cluster.local" % (i, ns)


def fqdns(ns, ordinals):
    return [fqdn(ns, i) for i in ordinals]


class Cluster:
    """One test's namespace with the Service, the RBAC and a StatefulSet."""

    def __init__(self, replicas):
        COUNTER[0] += 1
        self.ns = "peers-%d-%d" % (os.getpid() % 10000, COUNTER[0])
        self.api = API()
        kubectl("create", "namespace", self.ns)
        kubectl("apply", "-n", self.ns, "-f",
                os.path.join(DEPLOY, "overlays", "peers", "endpoints-rbac.yaml"))
        self.service()
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
               "metadata": {"name": "web", "namespace": self.ns},
               "spec": {"serviceName": "web", "replicas": replicas,
                        "podManagementPolicy": "Parallel",
                        "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"nodeSelector": {"kubernetes.io/hostname": NODE},
                                              "containers": [{"name": "web",
                                                              "image": "nginx"}]}}}}
        kubectl("apply", "-f", "-", stdin=json.dumps(sts))
        self.kubeconfig = self.sa_kubeconfig()

    def service(self):
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": self.ns},
               "spec": {"clusterIP": "None", "selector": {"app": "web"},
                        "ports": [{"name": "http", "port": 80}]}}
        kubectl("apply", "-f", "-", stdin=json.dumps(svc))

    def sa_kubeconfig(self):
        """A kubeconfig with the ServiceAccount berth-peers' token."""
        token = kubectl("create", "token", "-n", self.ns, "berth-peers").stdout.strip()
        return write_kubeconfig(token)

    def pod(self, i):
        return self.api.get("/api/v1/namespaces/%s/pods/web-%d" % (self.ns, i))

    def set_ready(self, i, ready=True):
        """What a kubelet would report: Running, an address, Ready."""
        def scheduled():
            p = self.pod(i)
            return p if p and p["spec"].get("nodeName") else None
        poll(scheduled, 30, "web-%d scheduled by the real scheduler" % i)
        ip = "10.250.%d.%d" % (COUNTER[0] % 250, i + 10)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        st = "True" if ready else "False"
        status = {"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                             "hostIP": "127.0.0.1",
                             "conditions": [{"type": t, "status": st if t in
                                             ("Ready", "ContainersReady") else "True",
                                             "lastTransitionTime": now}
                                            for t in ("PodScheduled", "Initialized",
                                                      "ContainersReady", "Ready")]}}
        self.api.request("PATCH", "/api/v1/namespaces/%s/pods/web-%d/status" % (self.ns, i),
                         status, "application/merge-patch+json")
        return ip

    def slice_hosts(self, ready_only=False):
        out = set()
        sl = self.api.get("/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices"
                          "?labelSelector=kubernetes.io/service-name%%3Dweb" % self.ns)
        for s in sl["items"]:
            for e in s.get("endpoints") or []:
                if not ready_only or e.get("conditions", {}).get("ready"):
                    out.add(e.get("hostname"))
        return out

    def scale(self, n):
        kubectl("scale", "-n", self.ns, "statefulset/web", "--replicas=%d" % n)

    def force_delete(self, i):
        kubectl("delete", "pod", "-n", self.ns, "web-%d" % i, "--grace-period=0",
                "--force", "--ignore-not-found")

    def peers(self, binary, running, rec, extra=(), kubeconfig=None, render=None):
        args = ["-service=web", "-ns", self.ns, "-domain", "cluster.local",
                "--hostname", "web-0", "--source", "endpoints",
                "-kubeconfig", kubeconfig or self.kubeconfig,
                "-on-change", rec.argv()] + list(extra)
        if render:
            args += ["--render", "json:" + render]
        p = Peers(binary, args)
        running.append(p)
        return p

    def close(self):
        kubectl("delete", "namespace", self.ns, "--wait=false", check_rc=False)


def write_kubeconfig(token):
    cfg = """apiVersion: v1
kind: Config
clusters:
- name: bed
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: u
  user:
    token: %s
contexts:
- name: c
  context:
    cluster: bed
    user: u
current-context: c
""" % (env("BERTH_K8S_URL"), env("BERTH_K8S_CA"), token)
    fd, path = tempfile.mkstemp(prefix="berth-peers-kubeconfig-")
    with os.fdopen(fd, "w") as f:
        f.write(cfg)
    return path


def runs_with(rec, pred, timeout, what, start=1):
    """Poll until a hook run numbered >= start satisfies pred(run)."""
    def found():
        for n in range(start, rec.count() + 1):
            try:
                r = rec.run(n)
            except OSError:
                return None
            if pred(r):
                return (n, r)
        return None
    return poll(found, timeout, what)


def peers_of(r):
    return [x for x in r["env"].get("BERTH_PEERS", "").split(",") if x]


def ready_of(r):
    return [x for x in r["env"].get("BERTH_READY_PEERS", "").split(",") if x]


def all_ready(c, ordinals):
    ips = {}
    for i in ordinals:
        ips[i] = c.set_ready(i)
    poll(lambda: c.slice_hosts(True) >= {"web-%d" % i for i in ordinals}, 30,
         "the EndpointSlice controller to list %s ready" % list(ordinals))
    return ips


# --- the tests -----------------------------------------------------------------

def test_rbac(binary, running):
    c = Cluster(1)
    try:
        all_ready(c, [0])
        rec = Recorder()
        with open(env("BERTH_K8S_USER_TOKEN_FILE")) as f:
            nobody = write_kubeconfig(f.read().strip())
        p = c.peers(binary, running, rec, kubeconfig=nobody)
        rc = p.wait_exit(20)
        check(rc == 1, "exit status %d without the Role, want 1" % rc)
        err = p.matching("cannot start")
        check(err and ROLE in err[0] and "endpointslices.discovery.k8s.io" in err[0]
              and "deploy/overlays/peers" in err[0],
              "no error naming the Role: %s" % p.log()[-5:])
        check(rec.count() == 0, "a hook ran without access")
        p2 = c.peers(binary, running, rec)
        r = rec.wait_runs(1, 20)
        check(peers_of(r) == [fqdn(c.ns, 0)], "first run %s" % r["env"])
        p2.terminate()
    finally:
        c.close()


def test_scale(binary, running):
    c = Cluster(3)
    try:
        ips = all_ready(c, [0, 1, 2])
        rec = Recorder()
        out = tempfile.mkdtemp(prefix="berth-peers-render-")
        render = os.path.join(out, "peers.json")
        p = c.peers(binary, running, rec, ["-addresses"], render=render)
        r = rec.wait_runs(1, 20)
        check(peers_of(r) == fqdns(c.ns, [0, 1, 2]), "first run %s" % r["env"])
        check(r["stdin"] == [ips[0], ips[1], ips[2]],
              "addresses from the slices: %s, want %s" % (r["stdin"], ips))
        check(ready_of(r) == fqdns(c.ns, [0, 1, 2]), "ready %s" % r["env"])
        c.scale(5)
        ips.update(all_ready(c, [3, 4]))
        n, r = runs_with(rec, lambda r: peers_of(r) == fqdns(c.ns, range(5)), 20,
                         "a run with 5 members")
        check(r["env"]["BERTH_ADDED"] in (",".join(fqdns(c.ns, [3, 4])), fqdn(c.ns, 4)),
              "added %s" % r["env"]["BERTH_ADDED"])
        c.scale(2)

        # No kubelet: the pods scaled away stay Terminating until deleted.
        def terminating():
            try:
                doc = json.load(open(render))
            except (OSError, ValueError):
                return None
            t = [m["host"] for m in doc["peers"]
                 if m.get("conditions", {}).get("terminating")]
            return t if sorted(t) == ["web-2", "web-3", "web-4"] else None
        poll(terminating, 20, "web-2..4 terminating in the json render")
        n, r = runs_with(rec, lambda r: ready_of(r) == fqdns(c.ns, [0, 1]) and
                         peers_of(r) == fqdns(c.ns, range(5)), 20,
                         "a run where web-2..4 are members but not ready", n)
        for i in (2, 3, 4):
            c.force_delete(i)
        n, r = runs_with(rec, lambda r: peers_of(r) == fqdns(c.ns, [0, 1]), 20,
                         "a run with web-0, web-1 only", n)
        check(r["env"]["BERTH_PEER_COUNT"] == "2", "count %s" % r["env"])
        p.terminate()
    finally:
        c.close()


def test_notready(binary, running):
    c = Cluster(3)
    try:
        all_ready(c, [0, 1, 2])
        rec, rec_ro = Recorder(), Recorder()
        p = c.peers(binary, running, rec)
        p_ro = c.peers(binary, running, rec_ro, ["--ready-only"])
        rec.wait_runs(1, 20)
        rec_ro.wait_runs(1, 20)
        c.set_ready(1, False)
        n, r = runs_with(rec, lambda r: ready_of(r) == fqdns(c.ns, [0, 2]), 20,
                         "web-1 out of BERTH_READY_PEERS")
        check(peers_of(r) == fqdns(c.ns, [0, 1, 2]),
              "without --ready-only web-1 stays a member: %s" % r["env"])
        m, r = runs_with(rec_ro, lambda r: peers_of(r) == fqdns(c.ns, [0, 2]), 20,
                         "--ready-only: web-1 no longer a member")
        check(r["env"]["BERTH_REMOVED"] == fqdn(c.ns, 1), "removed %s" % r["env"])
        c.set_ready(1, True)
        runs_with(rec, lambda r: ready_of(r) == fqdns(c.ns, [0, 1, 2]), 20,
                  "web-1 back in BERTH_READY_PEERS", n + 1)
        m, r = runs_with(rec_ro, lambda r: peers_of(r) == fqdns(c.ns, [0, 1, 2]), 20,
                         "--ready-only: web-1 a member again", m + 1)
        check(r["env"]["BERTH_ADDED"] == fqdn(c.ns, 1), "added %s" % r["env"])
        p.terminate()
        p_ro.terminate()
    finally:
        c.close()


def test_service(binary, running):
    c = Cluster(2)
    try:
        all_ready(c, [0, 1])
        rec = Recorder()
        p = c.peers(binary, running, rec, ["--ready-only", "--log-level", "debug"])
        rec.wait_runs(1, 20)
        kubectl("delete", "service", "-n", c.ns, "web")
        poll(lambda: not c.slice_hosts(), 30, "the Service's slices to go")
        # The slices' removal reached berth-peers (the membership lost this
        # member): it keeps the last one, as with DNS, and runs nothing.
        p.wait_log(r'msg="EndpointSlices read" members=0', 10)
        check(rec.count() == 1, "a hook ran while the Service was gone: %d runs"
              % rec.count())
        c.service()
        poll(lambda: c.slice_hosts(True) == {"web-0", "web-1"}, 30,
             "the new Service's slices")
        c.set_ready(1, False)
        runs_with(rec, lambda r: peers_of(r) == [fqdn(c.ns, 0)], 20,
                  "a change after the Service was made again", 2)
        p.terminate()
    finally:
        c.close()


def test_faults(binary, running):
    c = Cluster(3)
    try:
        all_ready(c, [0, 1, 2])
        rec = Recorder()
        p = c.peers(binary, running, rec, ["--ready-only"])
        rec.wait_runs(1, 20)
        want = [0, 1, 2]

        def flip(i):
            if i in want:
                want.remove(i)
                c.set_ready(i, False)
            else:
                want.append(i)
                want.sort()
                c.set_ready(i, True)
            runs_with(rec, lambda r: peers_of(r) == fqdns(c.ns, want), 20,
                      "a run with %s" % want, rec.count() + 1)

        def lists():
            q = admin("GET", "/requests?verb=list&resource=endpointslices&limit=0")
            return q["matched"]

        # A dropped watch: resumed, the next change arrives.
        check(admin("POST", "/watches/close")["closed"] >= 1, "no watch was open")
        flip(1)
        # A 410 from the proxy on the next watch: a relist.
        before = lists()
        fault(kind="watch-gone", resource="endpointslices", count=1)
        admin("POST", "/watches/close")
        poll(lambda: lists() > before, 20, "a relist after 410 Gone")
        flip(1)
        # A real 410: watches refused while a change is made and etcd is
        # compacted; the informer's next watch is from a compacted version.
        fault(kind="error", code=503, verb="watch", resource="endpointslices")
        admin("POST", "/watches/close")
        before = lists()
        want.remove(2)
        c.set_ready(2, False)
        poll(lambda: "web-2" not in c.slice_hosts(True), 20, "web-2 not ready in its slice")
        quiet_for(lambda: rec.count() > 3, 0.5, "a run while watches are refused")
        admin("POST", "/compact", {})
        clear_faults()
        runs_with(rec, lambda r: peers_of(r) == fqdns(c.ns, want), 30,
                  "the change made during the outage", 4)
        check(lists() > before, "no relist after the compaction")
        p.terminate()
    finally:
        clear_faults()
        c.close()


def main():
    global DEPLOY
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    DEPLOY = sys.argv.pop(2)
    register_node(NODE)
    from test_peers_lib import main as run
    run([test_rbac, test_scale, test_notready, test_service, test_faults])


if __name__ == "__main__":
    main()
