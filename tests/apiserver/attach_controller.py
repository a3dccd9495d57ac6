# SPDX-License-Identifier: Apache-2.0
"""The attach/detach controller (kube-controller-manager's, as far as the
tests need it): a VolumeAttachment for every (CSI PV, node) pair that a
running pod with spec.nodeName uses through a bound claim, and none for a
pair that no pod uses any more.

As in kube, only nodes annotated
volumes.kubernetes.io/controller-managed-attach-detach=true (kubelet sets it)
are managed: VolumeAttachments for other nodes are neither made nor
deleted, so tests may create their own.

Names are kube's: csi-<sha256(pv name + attacher + node name)>. A
VolumeAttachment that is no longer wanted is deleted (the attacher's
finalizer holds it until the volume is detached). The desired set is
recomputed from the store whenever a pod, claim, PV or VolumeAttachment
changes; the work runs on the controller's own thread.
"""

import hashlib
import sys
import threading
import traceback

from . import errors, resources

PVC = "/persistentvolumeclaims"
PV = "/persistentvolumes"
PODS = "/pods"
VA = "storage.k8s.io/volumeattachments"
NODES = "/nodes"
ANN_MANAGED = "volumes.kubernetes.io/controller-managed-attach-detach"


def _g(o, *path):
    for p in path:
        if not isinstance(o, dict):
            return None
        o = o.get(p)
    return o


def va_name(pv, attacher, node):
    return "csi-" + hashlib.sha256((pv + attacher + node).encode()).hexdigest()


class AttachController:
    def __init__(self, registry, log=None):
        self.reg = registry
        self.store = registry.store
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.cond = threading.Condition(threading.Lock())
        self.dirty = False
        self.stopped = False
        self.res = resources.lookup("storage.k8s.io", "v1", "volumeattachments")
        self.thread = threading.Thread(target=self._run, name="attach-detach",
                                       daemon=True)

    def start(self):
        self.store.listeners.append(self.on_event)
        self.thread.start()

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def on_event(self, ev):
        # Called under the store lock: only mark the state dirty.
        if ev.storage in (PVC, PV, PODS, VA, NODES):
            with self.cond:
                self.dirty = True
                self.cond.notify()

    def _run(self):
        while True:
            with self.cond:
                while not self.dirty and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
                self.dirty = False
            try:
                self.sync()
            except errors.APIError as e:
                self.log("attach-detach: %s" % e.message)
            except Exception:
                self.log("attach-detach failed:\n%s" % traceback.format_exc())

    def managed(self, node):
        e = self.store.get(NODES, "", node)
        return e is not None and \
            _g(e.obj, "metadata", "annotations", ANN_MANAGED) == "true"

    def desired(self):
        """{va name: (pv, attacher, node)} from the running pods."""
        want = {}
        pods, _ = self.store.list(PODS)
        for e in pods:
            pod = e.obj
            node = _g(pod, "spec", "nodeName")
            if not node or not self.managed(node) or _g(pod, "status", "phase") in ("Succeeded", "Failed") or \
                    _g(pod, "metadata", "deletionTimestamp"):
                continue
            ns = pod["metadata"].get("namespace", "")
            for v in _g(pod, "spec", "volumes") or []:
                cn = _g(v, "persistentVolumeClaim", "claimName")
                ce = self.store.get(PVC, ns, cn) if cn else None
                pvn = _g(ce.obj, "spec", "volumeName") if ce else None
                pe = self.store.get(PV, "", pvn) if pvn else None
                drv = _g(pe.obj, "spec", "csi", "driver") if pe else None
                if drv and _g(ce.obj, "status", "phase") == "Bound":
                    want[va_name(pvn, drv, node)] = (pvn, drv, node)
        return want

    def sync(self):
        want = self.desired()
        have, _ = self.store.list(VA)
        names = set()
        for e in have:
            name = e.obj["metadata"]["name"]
            names.add(name)
            if name not in want and not e.obj["metadata"].get("deletionTimestamp") and \
                    self.managed(_g(e.obj, "spec", "nodeName") or ""):
                try:
                    self.reg.delete(self.res, "", name)
                except errors.APIError as err:
                    if err.code != 404:
                        raise
        for name, (pv, drv, node) in sorted(want.items()):
            if name in names:
                continue
            body = {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                    "metadata": {"name": name},
                    "spec": {"attacher": drv, "nodeName": node,
                             "source": {"persistentVolumeName": pv}}}
            try:
                self.reg.create(self.res, "", body)
            except errors.APIError as err:
                if err.code != 409:
                    raise
