# SPDX-License-Identifier: Apache-2.0
"""Helpers for the berth-provisioner integration tests (Python 3 stdlib).

Each test_provisioner_*.py runs under `tests/bed/bed.py run k8s nfs -- ...`
with the berth-provisioner binary as its first argument. Objects are made
and deleted with the real kubectl; state is read back through the API
server (kubectl or, for tight polling loops, the REST API directly) and the
export directory on disk. Everything waits by polling with a deadline;
nothing sleeps to synchronise.
"""

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from checklib import Failure, check, poll  # noqa: F401 - re-exported

PROVISIONER = "berth.io/nfs"
CLAIM_FINALIZER = "provisioner.berth.io/provisioning"
PV_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"


def log(msg):
    print("%7.2f %s" % (time.monotonic() - START, msg), flush=True)


START = time.monotonic()


def env(name):
    v = os.environ.get(name)
    if not v:
        raise Failure("%s is not set: run under tests/bed/bed.py run k8s nfs" % name)
    return v


# --- kubectl and the REST API ------------------------------------------------

def kubectl(*args, stdin=None, check_rc=True, timeout=60):
    r = subprocess.run(["kubectl"] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise Failure("kubectl %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                   r.stderr.strip()))
    return r


def apply(*objs):
    """kubectl apply a list of objects (JSON is YAML)."""
    doc = {"apiVersion": "v1", "kind": "List", "items": list(objs)}
    kubectl("apply", "--validate=false", "-f", "-", stdin=json.dumps(doc))


def create(*objs):
    doc = {"apiVersion": "v1", "kind": "List", "items": list(objs)}
    kubectl("create", "--validate=false", "-f", "-", stdin=json.dumps(doc), timeout=300)


class API:
    """A tiny REST client for reads (lists), with the bed's token and CA."""

    def __init__(self):
        self.url = env("BERTH_K8S_URL")
        with open(env("BERTH_K8S_TOKEN_FILE")) as f:
            self.token = f.read().strip()
        self.ctx = ssl.create_default_context(cafile=env("BERTH_K8S_CA"))

    def request(self, method, path, body=None, ctype="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + self.token,
                                              "Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise Failure("%s %s: %d %s" % (method, path, e.code, e.read()[:300]))

    def get(self, path):
        return self.request("GET", path)

    def claims(self, ns="default"):
        return self.get("/api/v1/namespaces/%s/persistentvolumeclaims" % ns)["items"]

    def claim(self, name, ns="default"):
        return self.get("/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, name))

    def pvs(self):
        return self.get("/api/v1/persistentvolumes")["items"]

    def pv(self, name):
        return self.get("/api/v1/persistentvolumes/" + name)

    def events(self, ns="default"):
        return self.get("/api/v1/namespaces/%s/events" % ns)["items"]

    def lease(self, name, ns="default"):
        return self.get("/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s" % (ns, name))


class Created:
    """Every object of a resource as it was first written, read from a
    watch that starts (from a list's resourceVersion) before the test
    makes anything: the PV berth created, not what a controller completed
    later (the PV controller fills a claimRef's uid in, for one)."""

    def __init__(self, api, path="/api/v1/persistentvolumes"):
        self.api, self.path = api, path
        self.lock = threading.Lock()
        self.first = {}
        self.error = None
        self.rv = api.get(path)["metadata"]["resourceVersion"]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            url = "%s%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=1800&" \
                  "resourceVersion=%s" % (self.api.url, self.path, self.rv)
            req = urllib.request.Request(url, headers={"Authorization": "Bearer " +
                                                       self.api.token})
            try:
                with urllib.request.urlopen(req, context=self.api.ctx, timeout=3600) as r:
                    for line in r:
                        ev = json.loads(line)
                        obj = ev["object"]
                        if ev["type"] == "ERROR":
                            self.error = "watch ERROR: %s" % obj.get("message")
                            return
                        self.rv = obj["metadata"]["resourceVersion"]
                        if ev["type"] == "ADDED":
                            with self.lock:
                                self.first.setdefault(obj["metadata"]["name"], obj)
            except (OSError, ValueError) as e:
                # A stream the server ended: watch on from the last version.
                if isinstance(e, urllib.error.HTTPError):
                    self.error = "watch: HTTP %d" % e.code
                    return
                time.sleep(0.1)  # not a synchronisation: no hot loop when the server is gone

    def get(self, name, timeout=10):
        """The object named name as created (Failure when the watch never
        saw it)."""
        def seen():
            check(self.error is None, "watching %s: %s" % (self.path, self.error))
            with self.lock:
                return self.first.get(name)
        return poll(seen, timeout, "%s in the watch of %s" % (name, self.path))


def check_created_pv(created, pv_name, claim_obj):
    """The PV as berth created it is bound to claim_obj: name, namespace and
    uid in its claimRef, named pvc-<uid>."""
    pv = created.get(pv_name)
    ref = pv["spec"].get("claimRef") or {}
    md = claim_obj["metadata"]
    check(ref.get("kind") == "PersistentVolumeClaim" and ref.get("name") == md["name"] and
          ref.get("namespace") == md["namespace"] and ref.get("uid") == md["uid"] and
          pv_name == "pvc-" + md["uid"],
          "PV %s as berth created it: claimRef %s, want %s/%s uid %s"
          % (pv_name, ref, md["namespace"], md["name"], md["uid"]))
    return pv


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(env("BERTH_K8S_ADMIN_URL") + path, data=data,
                                 method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def fault(**spec):
    return admin("POST", "/faults", spec)


def clear_faults():
    admin("DELETE", "/faults")


# --- the control plane's nodes and pods ----------------------------------------

def real_control_plane():
    """True under the bed's real control plane (component k8s)."""
    return os.environ.get("BERTH_K8S_REAL") == "1"


def register_node(name, zone=None, instance=None, labels=None):
    """A Ready Node (and its CSINode) as a kubelet would register it: the
    bed does it (tests/bed/bed_k8s.py), since no kubelet runs."""
    argv = [sys.executable, env("BERTH_BED"), "ctl", "k8s", "node", name]
    if zone:
        argv.append("zone=" + zone)
    if instance:
        argv.append("instance=" + instance)
    for k, v in (labels or {}).items():
        argv.append("label=%s=%s" % (k, v))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Failure("registering node %s: %s" % (name, r.stderr.strip()))


def pod(name, node_name, claim_names, ns="default"):
    """A pod using the claims that the real scheduler places on node_name
    (a nodeSelector on its hostname label: a pod created with spec.nodeName
    bypasses the scheduler, and then no WaitForFirstConsumer claim of it is
    ever given a selected-node)."""
    if isinstance(claim_names, str):
        claim_names = [claim_names]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": node_name},
                     "containers": [{"name": "c", "image": "busybox"}],
                     "volumes": [{"name": "v%d" % i,
                                  "persistentVolumeClaim": {"claimName": c}}
                                 for i, c in enumerate(claim_names)]}}


def delete_pods(*names, ns="default"):
    """Delete pods at once: with no kubelet to finish a graceful deletion,
    a scheduled pod would stay Terminating (an admin's --force)."""
    kubectl("delete", "pod", "-n", ns, "--grace-period=0", "--force",
            "--ignore-not-found", *names)


# --- objects -------------------------------------------------------------------

def storage_class(name, params, reclaim="Delete", binding="Immediate", **extra):
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
          "metadata": {"name": name}, "provisioner": PROVISIONER,
          "reclaimPolicy": reclaim, "volumeBindingMode": binding,
          "parameters": params}
    sc.update(extra)
    return sc


def claim(name, cls, ns="default", size="1Gi", annotations=None, labels=None,
          modes=("ReadWriteMany",)):
    md = {"name": name, "namespace": ns}
    if annotations:
        md["annotations"] = annotations
    if labels:
        md["labels"] = labels
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": md,
            "spec": {"storageClassName": cls, "accessModes": list(modes),
                     "resources": {"requests": {"storage": size}}}}


def phase(obj):
    return (obj or {}).get("status", {}).get("phase")


def bound(api, names, ns="default"):
    """The subset of names whose claims are Bound."""
    want = set(names)
    return {c["metadata"]["name"] for c in api.claims(ns)
            if c["metadata"]["name"] in want and phase(c) == "Bound"}


def wait_bound(api, names, timeout, ns="default"):
    names = list(names)
    poll(lambda: len(bound(api, names, ns)) == len(names), timeout,
         "%d claims Bound (have %d)" % (len(names), len(bound(api, names, ns))),
         interval=0.2)


def guarded(api, ns="default"):
    """Claims that still hold our finalizer."""
    return [c["metadata"]["name"] for c in api.claims(ns)
            if CLAIM_FINALIZER in (c["metadata"].get("finalizers") or [])]


def wait_unguarded(api, ns="default", timeout=20):
    """Our finalizer goes right after the PV is saved, which may be after
    the PV controller has bound the claim: wait for it."""
    poll(lambda: not guarded(api, ns), timeout,
         "no claim guarded by %s (%s)" % (CLAIM_FINALIZER, guarded(api, ns)[:5]))


def events_for(api, name, reason, ns="default"):
    return [e for e in api.events(ns)
            if e.get("involvedObject", {}).get("name") == name and e.get("reason") == reason]


# --- the export ----------------------------------------------------------------

def export_dir():
    return env("BERTH_NFS_EXPORT_DIR")


def volume_dirs(root=None):
    """The export's top-level entries but .berth (berth's own journal of
    volumes being provisioned)."""
    return set(os.listdir(root or export_dir())) - {".berth"}


def journal(root=None):
    """The records in the export's journal (PV names): volumes whose
    provisioning began and whose PV is not known to be saved."""
    d = os.path.join(root or export_dir(), ".berth", "inflight")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def listing(root=None):
    """Every path below root (relative), with symlinks not followed."""
    root = root or export_dir()
    out = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def v3_url(path="/export"):
    """The bed's NFSv3 URL with another export path."""
    return env("BERTH_NFS_URL").replace("/export?", path + "?", 1)


def v4_url(path="/export"):
    return env("BERTH_NFS4_URL").replace("/export?", path + "?", 1)


# --- the provisioner -------------------------------------------------------------

class Provisioner:
    """One berth-provisioner process, its log in a file."""

    FAST_LEASE = ["--lease-duration", "4s", "--renew-deadline", "3s",
                  "--retry-period", "500ms"]

    def __init__(self, binary, name="p", args=(), environ=None, workdir=None):
        self.binary = binary
        self.name = name
        self.args = list(args)
        self.environ = environ
        self.workdir = workdir or tempfile.mkdtemp(prefix="berth-prov-")
        self.proc = None
        self.logfile = os.path.join(self.workdir, "%s.log" % name)
        self.starts = 0

    def start(self):
        argv = [self.binary, "--http-endpoint", "127.0.0.1:0"] + self.args
        if not any(a.startswith("--provisioner") for a in self.args) and \
                not (self.environ or {}).get("PROVISIONER_NAME"):
            argv += ["--provisioner", PROVISIONER + "=nfs"]
        e = dict(os.environ)
        e.update(self.environ or {})
        self.starts += 1
        log_f = open(self.logfile, "a")
        log_f.write("--- start %d: %s\n" % (self.starts, " ".join(argv)))
        log_f.flush()
        self.proc = subprocess.Popen(argv, stdout=log_f, stderr=subprocess.STDOUT, env=e)
        log_f.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.proc.send_signal(sig)
        return self.wait()

    def wait(self, timeout=60):
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("%s did not exit within %d s" % (self.name, timeout))

    def stop(self, timeout=60):
        """SIGTERM and wait: the exit status."""
        return self.kill(signal.SIGTERM) if self.alive() else \
            (self.proc.returncode if self.proc else None)

    def log_text(self):
        try:
            with open(self.logfile) as f:
                return f.read()
        except OSError:
            return ""

    def current_log(self):
        """The log of the current (last) start."""
        text = self.log_text()
        i = text.rfind("--- start ")
        return text[i:] if i >= 0 else text

    def port(self):
        m = re.findall(r'msg="http endpoint listening".* port=(\d+)', self.current_log())
        return int(m[-1]) if m else None

    def http(self, path):
        port = poll(self.port, 20, "%s's HTTP port" % self.name)
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.read().decode()

    def metrics(self):
        """The /metrics exposition as {'name{labels}': value}."""
        out = {}
        for line in self.http("/metrics").splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def sanitizer_errors(self):
        return [l for l in self.log_text().splitlines()
                if "ERROR: AddressSanitizer" in l or "runtime error:" in l or
                "ERROR: LeakSanitizer" in l]

    def tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])


def run(main):
    """Run a test's main(binary); print PASS/FAIL; exit status."""
    if len(sys.argv) < 2:
        print("usage: %s BERTH-PROVISIONER" % sys.argv[0], file=sys.stderr)
        return 2
    procs = []
    try:
        main(sys.argv[1], procs)
        for p in procs:
            if p.alive():
                # SIGTERM drains and exits 0: anything else is a failure
                # (a crash at shutdown, a hang, a leak reported at exit).
                rc = p.stop()
                check(rc == 0, "%s: exit status %s on SIGTERM, want 0:\n%s"
                      % (p.name, rc, p.tail(20)))
            errs = p.sanitizer_errors()
            check(not errs, "%s: sanitizer reports:\n%s" % (p.name, "\n".join(errs[:10])))
        log("PASS")
        return 0
    except Exception as e:  # noqa: BLE001 - report everything the same way
        log("FAIL: %s: %s" % (type(e).__name__, e))
        for p in procs:
            print("---- %s log (last lines) ----\n%s" % (p.name, p.tail(60)), flush=True)
        return 1
    finally:
        for p in procs:
            if p.alive():
                p.kill()
