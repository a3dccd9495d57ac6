# SPDX-License-Identifier: Apache-2.0
"""The "snapshot" component of berth's test bed: the standard volume
snapshot support of a real cluster on the bed's control plane (component
"k8s", which must be named too, before it): the snapshot CRDs
(VolumeSnapshotClass, VolumeSnapshotContent, VolumeSnapshot of
snapshot.storage.k8s.io/v1) applied with kubectl and waited for until
Established, and kubernetes-csi's snapshot-controller, both from
tests/snapshotter/build.sh's cache (scripts/setup builds it).

No CSI snapshotter sidecar runs: berth-provisioner does its job for
ebs.csi.aws.com.

Exports:
  BERTH_SNAPSHOT_CONTROLLER_LOG   the controller's log
"""

import glob
import os
import subprocess

import bedlib

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(HERE), "snapshotter", "build.sh")
READY_TIMEOUT = 60


def _cache():
    d = subprocess.run(["/bin/bash", BUILD, "--dir"], check=True, text=True,
                       stdout=subprocess.PIPE).stdout.strip()
    if not os.path.exists(os.path.join(d, "stamp")):
        raise bedlib.BedError("snapshot: the snapshot-controller is not built "
                              "in %s: run scripts/setup (or "
                              "tests/snapshotter/build.sh)" % d)
    return d


def _metrics_ok(port):
    import urllib.request
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                    timeout=2) as r:
            return r.status == 200
    except Exception:  # noqa: BLE001 - not up yet
        return False


def start(workdir):
    cache = _cache()
    kube = os.path.join(os.path.dirname(workdir), "k8s")
    kubeconfig = os.path.join(kube, "admin.kubeconfig")
    if not os.path.exists(kubeconfig):
        raise bedlib.BedError("snapshot: needs the k8s component, started "
                              "before it (bed.py run k8s snapshot ...)")
    crds = sorted(glob.glob(os.path.join(cache, "crd", "*.yaml")))
    kubectl = ["kubectl", "--kubeconfig", kubeconfig]
    subprocess.run(kubectl + ["apply", "--server-side"] +
                   sum((["-f", c] for c in crds), []),
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(kubectl + ["wait", "--for", "condition=Established",
                              "--timeout", "%ds" % READY_TIMEOUT] +
                   ["crd/volumesnapshotclasses.snapshot.storage.k8s.io",
                    "crd/volumesnapshotcontents.snapshot.storage.k8s.io",
                    "crd/volumesnapshots.snapshot.storage.k8s.io"],
                   check=True, stdout=subprocess.DEVNULL)
    port = bedlib.free_port()
    log = os.path.join(workdir, "snapshot-controller.log")
    proc = bedlib.spawn([os.path.join(cache, "bin", "snapshot-controller"),
                         "--kubeconfig", kubeconfig,
                         "--leader-election=false",
                         "--http-endpoint", "127.0.0.1:%d" % port,
                         # The bed's tests want answers in seconds.
                         "--retry-interval-start", "100ms",
                         "--retry-interval-max", "2s",
                         "--v", "4"], log, cwd=workdir)
    try:
        bedlib.wait_until(lambda: _metrics_ok(port), READY_TIMEOUT,
                          "snapshot-controller", proc, log)
    except BaseException:
        bedlib.kill_pid(proc.pid)
        raise
    return {"env": {"BERTH_SNAPSHOT_CONTROLLER_LOG": log},
            "pids": [proc.pid], "info": {"port": port, "cache": cache}}
