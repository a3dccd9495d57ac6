# SPDX-License-Identifier: Apache-2.0
"""In-process controllers: what kube-controller-manager (and, for
WaitForFirstConsumer, kube-scheduler) do for storage.

They react to store changes: the store calls Controllers.on_event under its
lock for every write; on_event only updates small indexes and queues keys,
and one worker thread syncs the queued keys through the Registry (so the
controllers' writes are validated and watched like any client's). No
polling. Add a controller by writing a sync function and routing keys to it
in on_event (attach/detach and resize controllers are meant to go here).

PersistentVolume controller (pkg/controller/volume/persistentvolume):
  - unbound claim: bind to a PV pre-bound to it (spec.claimRef), else to the
    smallest Available PV without claimRef that matches (class, access modes,
    size, volumeMode, selector); else, if its StorageClass names a
    provisioner other than kubernetes.io/no-provisioner, set the
    volume.kubernetes.io/storage-provisioner and
    volume.beta.kubernetes.io/storage-provisioner annotations and emit
    ExternalProvisioning; WaitForFirstConsumer classes wait (event
    WaitForFirstConsumer) for volume.kubernetes.io/selected-node.
  - bind: PV claimRef (uid, resourceVersion), pv.kubernetes.io/bound-by-controller
    on the PV only when the controller chose it, PV phase Bound; claim
    spec.volumeName, pv.kubernetes.io/bind-completed, bound-by-controller on
    the claim when the controller set volumeName, claim phase Bound with the
    PV's accessModes and capacity (capacity only when becoming Bound).
  - PV whose claim is gone (claimRef uid no longer exists): Released; with
    reclaimPolicy Delete and no pv.kubernetes.io/provisioned-by annotation:
    Failed (no in-tree deleter), as the real controller.
  - bound claim whose PV is gone: Lost (event ClaimLost).
Scheduler's volume binding (the part berth needs): a pod with spec.nodeName
that uses an unbound claim of a WaitForFirstConsumer class gets a matching
Available PV (node affinity checked) or the selected-node annotation.
Storage object in-use protection: kubernetes.io/pvc-protection is removed
from a deleted claim no running pod uses, kubernetes.io/pv-protection from a
deleted PV that is not Bound.
Namespace controller: a deleted namespace (phase Terminating) has all its
objects deleted, then its "kubernetes" finalizer removed, then it goes.
"""

import collections
import sys
import threading
import time
import traceback

from . import errors, quantity, resources, selector, strategy

PVC = "/persistentvolumeclaims"
PV = "/persistentvolumes"
PODS = "/pods"
SC = "storage.k8s.io/storageclasses"
NS = "/namespaces"
NODES = "/nodes"
ANN_PROV = "volume.kubernetes.io/storage-provisioner"
ANN_PROV_BETA = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED = "volume.kubernetes.io/selected-node"
ANN_BOUND_BY = "pv.kubernetes.io/bound-by-controller"
ANN_BIND_DONE = "pv.kubernetes.io/bind-completed"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
NO_PROVISIONER = "kubernetes.io/no-provisioner"
COMPONENT = "persistentvolume-controller"


def _g(o, *path):
    for p in path:
        if not isinstance(o, dict):
            return None
        o = o.get(p)
    return o


def _claims_of_pod(pod):
    out = []
    for v in _g(pod, "spec", "volumes") or []:
        c = _g(v, "persistentVolumeClaim", "claimName")
        if c:
            out.append(c)
        # Generic ephemeral volumes own a claim named <pod>-<volume>.
        if _g(v, "ephemeral"):
            out.append("%s-%s" % (pod["metadata"]["name"], v.get("name")))
    return out


def _pod_running(pod):
    return _g(pod, "status", "phase") not in ("Succeeded", "Failed")


def _node_affinity_ok(pv, node_name, node_labels):
    terms = _g(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms")
    if not terms:
        return True
    labels = dict(node_labels or {})
    labels.setdefault("kubernetes.io/hostname", node_name)
    for t in terms:
        ok = True
        for e in t.get("matchExpressions") or []:
            k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
            have = labels.get(k)
            if (op == "In" and have not in vals) or (op == "NotIn" and have in vals) or \
                    (op == "Exists" and k not in labels) or (op == "DoesNotExist" and k in labels):
                ok = False
        for f in t.get("matchFields") or []:
            if f.get("key") == "metadata.name":
                if (f.get("operator") == "In") != (node_name in (f.get("values") or [])):
                    ok = False
        if ok:
            return True
    return False


class Controllers:
    def __init__(self, registry, log=None):
        self.reg = registry
        self.store = registry.store
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.cond = threading.Condition(threading.Lock())
        self.queue = collections.deque()
        self.queued = set()
        self.pods_by_claim = collections.defaultdict(dict)   # (ns, claim) -> {pod: nodeName}
        self.prebound = collections.defaultdict(set)         # (ns, claim) -> {pv}
        self.unclaimed = collections.defaultdict(set)        # class -> {pv without claimRef}
        self.pending_by_class = collections.defaultdict(set)  # class -> {(ns, claim)} unbound
        self.emitted = {}
        self.busy = False
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="controllers", daemon=True)

    def start(self):
        self.store.listeners.append(self.on_event)
        self.thread.start()

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    # --- event routing (called under the store lock: keep it cheap) --------

    def _enqueue(self, key):
        with self.cond:
            if key not in self.queued:
                self.queued.add(key)
                self.queue.append(key)
                self.cond.notify()

    def on_event(self, ev):
        s = ev.storage
        new = ev.entry.obj if ev.type != "DELETED" else None
        old = ev.old.obj if ev.old is not None else None
        ns, name = ev.key
        if s == PVC:
            cls = _g(new or old, "spec", "storageClassName") or ""
            if new is not None and not _g(new, "spec", "volumeName") and \
                    not new["metadata"].get("deletionTimestamp"):
                self.pending_by_class[cls].add((ns, name))
            else:
                self.pending_by_class[cls].discard((ns, name))
            self._enqueue(("claim", ns, name))
            vol = _g(new or old, "spec", "volumeName")
            if ev.type == "DELETED" and vol:
                self._enqueue(("volume", "", vol))
            if ev.type == "DELETED":
                for pv in self.prebound.get((ns, name), ()):
                    self._enqueue(("volume", "", pv))
        elif s == PV:
            for o in (old, new):
                if o is None:
                    continue
                ref = _g(o, "spec", "claimRef")
                if ref:
                    k = (ref.get("namespace", ""), ref.get("name", ""))
                    if o is new:
                        self.prebound[k].add(name)
                    else:
                        self.prebound[k].discard(name)
                        if not self.prebound[k]:
                            del self.prebound[k]
                cls = _g(o, "spec", "storageClassName") or ""
                if o is old:
                    self.unclaimed[cls].discard(name)
                elif not ref and not o["metadata"].get("deletionTimestamp"):
                    self.unclaimed[cls].add(name)
            self._enqueue(("volume", "", name))
            ref = _g(new or old, "spec", "claimRef")
            if ref:
                self._enqueue(("claim", ref.get("namespace", ""), ref.get("name", "")))
            elif new is not None and self.pending_by_class.get(_g(new, "spec", "storageClassName") or ""):
                self._enqueue(("class-match", "", _g(new, "spec", "storageClassName") or ""))
        elif s == PODS:
            claims = set()
            for o in (old, new):
                if o is None:
                    continue
                for c in _claims_of_pod(o):
                    claims.add(c)
                    d = self.pods_by_claim[(ns, c)]
                    if o is new and _pod_running(o):
                        d[name] = _g(o, "spec", "nodeName") or ""
                    else:
                        d.pop(name, None)
                    if not d:
                        del self.pods_by_claim[(ns, c)]
            for c in claims:
                self._enqueue(("claim", ns, c))
        elif s == SC:
            self._enqueue(("class", "", name))
        elif s == NS:
            if new is not None and new["metadata"].get("deletionTimestamp"):
                self._enqueue(("namespace", "", name))
        if ns and ev.type == "DELETED" and s != NS:
            nse = self.store.get(NS, "", ns)
            if nse is not None and nse.obj["metadata"].get("deletionTimestamp"):
                self._enqueue(("namespace", "", ns))

    # --- worker ------------------------------------------------------------

    def _run(self):
        while True:
            with self.cond:
                while not self.queue and not self.stopped:
                    self.busy = False
                    self.cond.notify_all()
                    self.cond.wait()
                if self.stopped:
                    return
                key = self.queue.popleft()
                self.queued.discard(key)
                self.busy = True
            try:
                getattr(self, "sync_" + key[0].replace("-", "_"))(key[1], key[2])
            except errors.APIError as e:
                self.log("controllers: %s %s/%s: %s" % (key[0], key[1], key[2], e.message))
            except Exception:
                self.log("controllers: %s %s/%s failed:\n%s" % (key[0], key[1], key[2],
                                                                traceback.format_exc()))

    def wait_idle(self, timeout=10.0):
        """For tests and the admin endpoint: wait until the queue is empty."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.queue or self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    # --- helpers -----------------------------------------------------------

    def event(self, obj, etype, reason, message):
        md = obj["metadata"]
        key = (md.get("uid"), reason, message)
        if key in self.emitted:
            return
        if len(self.emitted) > 100000:
            self.emitted.clear()
        self.emitted[key] = True
        ns = md.get("namespace") or "default"
        ts = strategy.now_ts()
        ev = {"metadata": {"name": "%s.%x" % (md["name"], time.time_ns()), "namespace": ns},
              "involvedObject": {"kind": obj.get("kind"), "namespace": md.get("namespace"),
                                 "name": md["name"], "uid": md.get("uid"),
                                 "apiVersion": obj.get("apiVersion"),
                                 "resourceVersion": md.get("resourceVersion")},
              "reason": reason, "message": message,
              "source": {"component": COMPONENT},
              "firstTimestamp": ts, "lastTimestamp": ts, "count": 1, "type": etype,
              "eventTime": None, "reportingComponent": COMPONENT, "reportingInstance": ""}
        if not md.get("namespace"):
            del ev["involvedObject"]["namespace"]
        try:
            self.reg.create(resources.lookup("", "v1", "events"), ns, ev)
        except errors.APIError as e:
            if e.code != 404:   # namespace gone
                raise

    def _class(self, name):
        if not name:
            return None
        e = self.store.get(SC, "", name)
        return e.obj if e else None

    # --- PersistentVolumeClaim ---------------------------------------------

    def sync_claim(self, ns, name):
        e = self.store.get(PVC, ns, name)
        if e is None:
            return
        claim = e.obj
        md = claim["metadata"]
        if md.get("deletionTimestamp"):
            with self.store.lock:
                in_use = bool(self.pods_by_claim.get((ns, name)))
            if strategy.PVC_PROTECTION in (md.get("finalizers") or []) and not in_use:
                self.reg.mutate(PVC, ns, name, lambda o: _drop_finalizer(o, strategy.PVC_PROTECTION))
            return
        vol = _g(claim, "spec", "volumeName")
        if vol:
            return self._sync_bound_claim(e, vol)
        # Unbound: a PV pre-bound to this claim?
        with self.store.lock:
            prebound = sorted(self.prebound.get((ns, name), ()))
        for pvname in prebound:
            pv = self.store.get(PV, "", pvname)
            if pv is None:
                continue
            ref = pv.obj["spec"]["claimRef"]
            if ref.get("uid") and ref["uid"] != md["uid"]:
                continue
            return self._bind(pv, e)
        cls_name = _g(claim, "spec", "storageClassName")
        cls = self._class(cls_name)
        wffc = cls is not None and cls.get("volumeBindingMode") == "WaitForFirstConsumer"
        if not wffc:
            pv = self._find_match(claim, None, None)
            if pv is not None:
                return self._bind(pv, e, by_controller=True)
        if not cls_name:
            self.event(claim, "Normal", "FailedBinding",
                       "no persistent volumes available for this claim and no storage class is set")
            return
        if cls is None:
            self.event(claim, "Warning", "ProvisioningFailed",
                       'storageclass.storage.k8s.io "%s" not found' % cls_name)
            return
        anns = md.get("annotations") or {}
        if wffc and ANN_SELECTED not in anns:
            with self.store.lock:
                nodes = sorted(self.pods_by_claim.get((ns, name), {}).values())
            node = next((n for n in nodes if n), None)
            if node is None:
                self.event(claim, "Normal", "WaitForFirstConsumer",
                           "waiting for first consumer to be created before binding")
                return
            nodee = self.store.get(NODES, "", node)
            pv = self._find_match(claim, node, nodee.obj["metadata"].get("labels") if nodee else {})
            if pv is not None:
                return self._bind(pv, e, by_controller=True)
            if cls.get("provisioner") == NO_PROVISIONER:
                return
            self.reg.mutate(PVC, ns, name, lambda o: _set_ann(o, ANN_SELECTED, node))
            return
        prov = cls.get("provisioner")
        if not prov or prov == NO_PROVISIONER:
            return
        if anns.get(ANN_PROV) != prov or anns.get(ANN_PROV_BETA) != prov:
            def f(o):
                _set_ann(o, ANN_PROV, prov)
                _set_ann(o, ANN_PROV_BETA, prov)
            self.reg.mutate(PVC, ns, name, f)
        self.event(claim, "Normal", "ExternalProvisioning",
                   "Waiting for a volume to be created either by the external provisioner '%s' "
                   "or manually by the system administrator. If volume creation is delayed, "
                   "please verify that the provisioner is running and correctly registered." % prov)

    def _sync_bound_claim(self, e, vol):
        claim = e.obj
        md = claim["metadata"]
        pv = self.store.get(PV, "", vol)
        if pv is None:
            if _g(claim, "status", "phase") == "Bound" or \
                    (md.get("annotations") or {}).get(ANN_BIND_DONE):
                if _g(claim, "status", "phase") != "Lost":
                    self.reg.mutate(PVC, md["namespace"], md["name"],
                                    lambda o: _set_phase(o, "Lost"), sub="status")
                    self.event(claim, "Warning", "ClaimLost",
                               "Bound claim has lost reference to PersistentVolume. "
                               "Data on the volume is lost!")
            else:
                self.event(claim, "Warning", "FailedBinding", 'volume "%s" not found' % vol)
            return
        ref = _g(pv.obj, "spec", "claimRef")
        if ref is None or (ref.get("namespace") == md["namespace"] and ref.get("name") == md["name"]
                           and ref.get("uid") in (None, "", md["uid"])):
            return self._bind(pv, e, by_controller=ref is None)
        if (md.get("annotations") or {}).get(ANN_BIND_DONE) and _g(claim, "status", "phase") != "Lost":
            self.reg.mutate(PVC, md["namespace"], md["name"], lambda o: _set_phase(o, "Lost"),
                            sub="status")
            self.event(claim, "Warning", "ClaimMisbound",
                       "Two claims are bound to the same volume, this one is bound incorrectly")

    def _find_match(self, claim, node, node_labels):
        spec = claim.get("spec") or {}
        cls = spec.get("storageClassName") or ""
        try:
            want = quantity.value(_g(spec, "resources", "requests", "storage") or "0")
        except quantity.QuantityError:
            return None
        modes = set(spec.get("accessModes") or [])
        best = None
        with self.store.lock:
            candidates = sorted(self.unclaimed.get(cls, ()))
        for pvname in candidates:
            pv = self.store.get(PV, "", pvname)
            if pv is None:
                continue
            p = pv.obj
            ps = p.get("spec") or {}
            if ps.get("claimRef") or p["metadata"].get("deletionTimestamp") or \
                    _g(p, "status", "phase") not in ("Available", "Pending"):
                continue
            if not modes.issubset(set(ps.get("accessModes") or [])):
                continue
            if (ps.get("volumeMode") or "Filesystem") != (spec.get("volumeMode") or "Filesystem"):
                continue
            try:
                cap = quantity.value(_g(ps, "capacity", "storage") or "0")
            except quantity.QuantityError:
                continue
            if cap < want:
                continue
            if spec.get("selector") and not selector.match_label_selector_obj(
                    spec["selector"], p["metadata"].get("labels")):
                continue
            if node is None and _g(ps, "nodeAffinity", "required"):
                pass
            elif node is not None and not _node_affinity_ok(p, node, node_labels):
                continue
            if best is None or cap < best[0]:
                best = (cap, pv)
        return best[1] if best else None

    def sync_class_match(self, _, cls):
        with self.store.lock:
            if not self.unclaimed.get(cls):
                return
            pending = sorted(self.pending_by_class.get(cls, ()))
        for ns, name in pending:
            self._enqueue(("claim", ns, name))

    def sync_class(self, _, cls):
        with self.store.lock:
            pending = sorted(self.pending_by_class.get(cls, ()))
        for ns, name in pending:
            self._enqueue(("claim", ns, name))

    def _bind(self, pv, claim_e, by_controller=False):
        claim = claim_e.obj
        cmd = claim["metadata"]
        ns, cname, pvname = cmd["namespace"], cmd["name"], pv.obj["metadata"]["name"]
        ref = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": cname,
               "uid": cmd["uid"], "apiVersion": "v1", "resourceVersion": cmd["resourceVersion"]}

        def bind_pv(o):
            cur = _g(o, "spec", "claimRef") or {}
            if cur.get("uid") == cmd["uid"] and cur.get("name") == cname and \
                    cur.get("namespace") == ns and (not by_controller or
                                                    (o["metadata"].get("annotations") or {}).get(ANN_BOUND_BY)):
                return False
            if cur and cur.get("uid") not in (None, "", cmd["uid"]):
                return False
            if not cur or cur.get("name") != cname or cur.get("namespace") != ns:
                by = True
            else:
                by = by_controller
            o["spec"]["claimRef"] = dict(ref)
            if by:
                _set_ann(o, ANN_BOUND_BY, "yes")
        pv = self.reg.mutate(PV, "", pvname, bind_pv)
        if pv is None or _g(pv.obj, "spec", "claimRef", "uid") != cmd["uid"]:
            return
        if _g(pv.obj, "status", "phase") != "Bound":
            self.reg.mutate(PV, "", pvname, lambda o: _set_phase(o, "Bound"), sub="status")

        def bind_claim(o):
            changed = False
            if _g(o, "spec", "volumeName") != pvname:
                o["spec"]["volumeName"] = pvname
                if ANN_BOUND_BY not in (o["metadata"].get("annotations") or {}):
                    _set_ann(o, ANN_BOUND_BY, "yes")
                changed = True
            if ANN_BIND_DONE not in (o["metadata"].get("annotations") or {}):
                _set_ann(o, ANN_BIND_DONE, "yes")
                changed = True
            return changed or False
        c = self.reg.mutate(PVC, ns, cname, bind_claim)
        if c is None:
            return

        def claim_status(o):
            st = o.setdefault("status", {})
            changed = False
            if st.get("accessModes") != _g(pv.obj, "spec", "accessModes"):
                st["accessModes"] = _g(pv.obj, "spec", "accessModes")
                changed = True
            if st.get("phase") != "Bound":
                st["capacity"] = _g(pv.obj, "spec", "capacity")
                st["phase"] = "Bound"
                changed = True
            return changed
        self.reg.mutate(PVC, ns, cname, claim_status, sub="status")

    # --- PersistentVolume --------------------------------------------------

    def sync_volume(self, _, name):
        e = self.store.get(PV, "", name)
        if e is None:
            return
        pv = e.obj
        md = pv["metadata"]
        phase = _g(pv, "status", "phase")
        ref = _g(pv, "spec", "claimRef")
        if md.get("deletionTimestamp") and strategy.PV_PROTECTION in (md.get("finalizers") or []) \
                and phase != "Bound":
            self.reg.mutate(PV, "", name, lambda o: _drop_finalizer(o, strategy.PV_PROTECTION))
            return
        if not ref or not ref.get("uid"):
            if phase != "Available":
                self.reg.mutate(PV, "", name, lambda o: _set_phase(o, "Available"), sub="status")
            if ref:
                self._enqueue(("claim", ref.get("namespace", ""), ref.get("name", "")))
            return
        ce = self.store.get(PVC, ref.get("namespace", ""), ref.get("name", ""))
        if ce is None or ce.obj["metadata"].get("uid") != ref.get("uid"):
            if phase in ("Released", "Failed"):
                return
            self.reg.mutate(PV, "", name, lambda o: _set_phase(o, "Released"), sub="status")
            policy = _g(pv, "spec", "persistentVolumeReclaimPolicy")
            anns = md.get("annotations") or {}
            if policy == "Delete" and ANN_PROVISIONED_BY not in anns and \
                    not anns.get(ANN_PROV) and not _g(pv, "spec", "csi"):
                msg = ('error getting deleter volume plugin for volume "%s": no deletable '
                       'volume plugin matched' % name)
                self.reg.mutate(PV, "", name, lambda o: _set_phase(o, "Failed", msg), sub="status")
                self.event(pv, "Warning", "VolumeFailedDelete", msg)
            elif policy == "Recycle":
                msg = "No recycler plugin found for the volume!"
                self.reg.mutate(PV, "", name, lambda o: _set_phase(o, "Failed", msg), sub="status")
                self.event(pv, "Warning", "VolumeFailedRecycle", msg)
            return
        claim = ce.obj
        if _g(claim, "spec", "volumeName") in (None, "", name):
            if _g(claim, "spec", "volumeName") != name:
                self._enqueue(("claim", ref["namespace"], ref["name"]))
            elif phase != "Bound":
                self.reg.mutate(PV, "", name, lambda o: _set_phase(o, "Bound"), sub="status")

    # --- Namespace ---------------------------------------------------------

    def sync_namespace(self, _, name):
        e = self.store.get(NS, "", name)
        if e is None or not e.obj["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        seen = set()
        for r in resources.RESOURCES:
            if not r.namespaced or r.storage in seen:
                continue
            seen.add(r.storage)
            entries, _ = self.store.list(r.storage, name)
            for x in entries:
                remaining += 1
                if not x.obj["metadata"].get("deletionTimestamp"):
                    try:
                        self.reg.delete(r, name, x.obj["metadata"]["name"])
                    except errors.APIError as err:
                        if err.code != 404:
                            raise
        for r in list(seen):
            if self.store.list(r, name)[0]:
                return
        res = resources.lookup("", "v1", "namespaces")

        def finalize(o):
            fins = _g(o, "spec", "finalizers") or []
            if "kubernetes" not in fins:
                return False
            o["spec"]["finalizers"] = [f for f in fins if f != "kubernetes"]
            if not o["spec"]["finalizers"]:
                del o["spec"]["finalizers"]
        self.reg.mutate(res.storage, "", name, finalize, sub="finalize")


def _set_ann(o, k, v):
    o["metadata"].setdefault("annotations", {})[k] = v


def _drop_finalizer(o, f):
    fins = o["metadata"].get("finalizers") or []
    if f not in fins:
        return False
    o["metadata"]["finalizers"] = [x for x in fins if x != f]


def _set_phase(o, phase, message=None):
    if not isinstance(o.get("status"), dict):
        o["status"] = {}
    st = o["status"]
    if st.get("phase") == phase and (message is None or st.get("message") == message):
        return False
    st["phase"] = phase
    if message is not None:
        st["message"] = message
    elif "message" in st and phase in ("Available", "Bound"):
        del st["message"]
