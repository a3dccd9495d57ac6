# SPDX-License-Identifier: Apache-2.0
"""Server-side printing: meta.k8s.io/v1 Table objects for `kubectl get`.

Columns follow the real API server's printers (pkg/printers/internalversion)
for the resources berth cares about; every other resource gets NAME and
AGE. Columns with priority 1 show only with `-o wide`.
"""

import time
from datetime import datetime, timezone

_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
          "ReadWriteOncePod": "RWOP"}


def _parse_ts(s):
    try:
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
        except (AttributeError, TypeError, ValueError):
            return None


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd%dh" % (h // 24, h % 24) if h % 24 else "%dd" % (h // 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    return "%dy%dd" % (h // 24 // 365, (h // 24) % 365)


def age(ts, now):
    t = _parse_ts(ts)
    return "<unknown>" if t is None else human_duration(now - t)


def _g(o, *path, default=None):
    for p in path:
        if not isinstance(o, dict):
            return default
        o = o.get(p)
    return default if o is None else o


def _modes(ms):
    return ",".join(_MODES.get(m, m) for m in (ms or []))


def _name(o, now):
    return o["metadata"]["name"]


def _age(o, now):
    return age(o["metadata"].get("creationTimestamp"), now)


def _pvc_status(o, now):
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    return _g(o, "status", "phase", default="")


def _pv_status(o, now):
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    return _g(o, "status", "phase", default="")


def _pv_claim(o, now):
    ref = _g(o, "spec", "claimRef")
    if not ref:
        return ""
    return "%s/%s" % (ref.get("namespace", ""), ref.get("name", ""))


def _pod_ready(o, now):
    cs = _g(o, "status", "containerStatuses", default=[])
    ready = sum(1 for c in cs if c.get("ready"))
    return "%d/%d" % (ready, len(_g(o, "spec", "containers", default=[])))


def _pod_status(o, now):
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    reason = _g(o, "status", "reason")
    if reason:
        return reason
    for c in _g(o, "status", "containerStatuses", default=[]):
        w = _g(c, "state", "waiting", "reason")
        if w:
            return w
    return _g(o, "status", "phase", default="Pending")


def _pod_restarts(o, now):
    return sum(int(c.get("restartCount") or 0)
               for c in _g(o, "status", "containerStatuses", default=[]))


def _sc_name(o, now):
    n = o["metadata"]["name"]
    anns = o["metadata"].get("annotations") or {}
    if anns.get("storageclass.kubernetes.io/is-default-class") == "true" or \
            anns.get("storageclass.beta.kubernetes.io/is-default-class") == "true":
        n += " (default)"
    return n


def _svc_ports(o, now):
    out = []
    for p in _g(o, "spec", "ports", default=[]):
        s = "%s/%s" % (p.get("port"), p.get("protocol", "TCP"))
        if p.get("nodePort"):
            s = "%s:%s/%s" % (p.get("port"), p["nodePort"], p.get("protocol", "TCP"))
        out.append(s)
    return ",".join(out) or "<none>"


def _selector(o, now):
    sel = _g(o, "spec", "selector", default={})
    return ",".join("%s=%s" % kv for kv in sorted(sel.items())) or "<none>"


def _ep_list(o, now):
    out = []
    for s in o.get("subsets") or []:
        ports = s.get("ports") or [{}]
        for a in s.get("addresses") or []:
            for p in ports:
                out.append("%s:%s" % (a.get("ip"), p.get("port")) if p.get("port") else a.get("ip"))
    if not out:
        return "<none>"
    if len(out) > 3:
        return ",".join(out[:3]) + " + %d more..." % (len(out) - 3)
    return ",".join(out)


def _node_status(o, now):
    st = "Unknown"
    for c in _g(o, "status", "conditions", default=[]):
        if c.get("type") == "Ready":
            st = "Ready" if c.get("status") == "True" else "NotReady"
    if _g(o, "spec", "unschedulable"):
        st += ",SchedulingDisabled"
    return st


def _node_roles(o, now):
    roles = sorted(k.split("/", 1)[1] for k in (o["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def _node_ip(kind):
    def f(o, now):
        for a in _g(o, "status", "addresses", default=[]):
            if a.get("type") == kind:
                return a.get("address")
        return "<none>"
    return f


def _ev_last(o, now):
    ts = o.get("lastTimestamp") or o.get("eventTime") or \
        o["metadata"].get("creationTimestamp")
    return age(ts, now)


def _ev_object(o, now):
    io = o.get("involvedObject") or {}
    return "%s/%s" % (str(io.get("kind", "")).lower(), io.get("name", ""))


def _va_attached(o, now):
    return "true" if _g(o, "status", "attached") else "false"


def _csinode_drivers(o, now):
    return len(_g(o, "spec", "drivers", default=[]))


def _data_count(o, now):
    return len(o.get("data") or {}) + len(o.get("binaryData") or {})


def C(name, fn, typ="string", priority=0, fmt="", desc=""):
    return (name, fn, typ, priority, fmt, desc)


NAME = C("Name", _name, fmt="name", desc="Name must be unique within a namespace.")
AGE = C("Age", _age, desc="CreationTimestamp is a timestamp representing the server time when this object was created.")

COLUMNS = {
    "PersistentVolumeClaim": [
        NAME, C("Status", _pvc_status), C("Volume", lambda o, n: _g(o, "spec", "volumeName", default="")),
        C("Capacity", lambda o, n: _g(o, "status", "capacity", "storage", default="")),
        C("Access Modes", lambda o, n: _modes(_g(o, "status", "accessModes"))),
        C("StorageClass", lambda o, n: _g(o, "spec", "storageClassName", default="<unset>")),
        C("VolumeAttributesClass", lambda o, n: _g(o, "spec", "volumeAttributesClassName", default="<unset>")),
        AGE, C("VolumeMode", lambda o, n: _g(o, "spec", "volumeMode", default=""), priority=1)],
    "PersistentVolume": [
        NAME, C("Capacity", lambda o, n: _g(o, "spec", "capacity", "storage", default="")),
        C("Access Modes", lambda o, n: _modes(_g(o, "spec", "accessModes"))),
        C("Reclaim Policy", lambda o, n: _g(o, "spec", "persistentVolumeReclaimPolicy", default="")),
        C("Status", _pv_status), C("Claim", _pv_claim),
        C("StorageClass", lambda o, n: _g(o, "spec", "storageClassName", default="")),
        C("VolumeAttributesClass", lambda o, n: _g(o, "spec", "volumeAttributesClassName", default="<unset>")),
        C("Reason", lambda o, n: _g(o, "status", "reason", default="")),
        AGE, C("VolumeMode", lambda o, n: _g(o, "spec", "volumeMode", default=""), priority=1)],
    "Pod": [
        NAME, C("Ready", _pod_ready), C("Status", _pod_status),
        C("Restarts", _pod_restarts, typ="string"), AGE,
        C("IP", lambda o, n: _g(o, "status", "podIP", default="<none>"), priority=1),
        C("Node", lambda o, n: _g(o, "spec", "nodeName", default="<none>"), priority=1),
        C("Nominated Node", lambda o, n: _g(o, "status", "nominatedNodeName", default="<none>"), priority=1),
        C("Readiness Gates", lambda o, n: "<none>", priority=1)],
    "StorageClass": [
        C("Name", _sc_name, fmt="name"), C("Provisioner", lambda o, n: o.get("provisioner", "")),
        C("ReclaimPolicy", lambda o, n: o.get("reclaimPolicy", "Delete")),
        C("VolumeBindingMode", lambda o, n: o.get("volumeBindingMode", "Immediate")),
        C("AllowVolumeExpansion", lambda o, n: bool(o.get("allowVolumeExpansion")), typ="boolean"),
        AGE],
    "Namespace": [NAME, C("Status", lambda o, n: _g(o, "status", "phase", default="")), AGE],
    "Node": [
        NAME, C("Status", _node_status), C("Roles", _node_roles), AGE,
        C("Version", lambda o, n: _g(o, "status", "nodeInfo", "kubeletVersion", default="")),
        C("Internal-IP", _node_ip("InternalIP"), priority=1),
        C("External-IP", _node_ip("ExternalIP"), priority=1),
        C("OS-Image", lambda o, n: _g(o, "status", "nodeInfo", "osImage", default="<unknown>"), priority=1),
        C("Kernel-Version", lambda o, n: _g(o, "status", "nodeInfo", "kernelVersion", default="<unknown>"), priority=1),
        C("Container-Runtime", lambda o, n: _g(o, "status", "nodeInfo", "containerRuntimeVersion", default="<unknown>"), priority=1)],
    "Service": [
        NAME, C("Type", lambda o, n: _g(o, "spec", "type", default="ClusterIP")),
        C("Cluster-IP", lambda o, n: _g(o, "spec", "clusterIP", default="<none>")),
        C("External-IP", lambda o, n: "<none>"), C("Port(s)", _svc_ports), AGE,
        C("Selector", _selector, priority=1)],
    "Endpoints": [NAME, C("Endpoints", _ep_list), AGE],
    "Event": [
        C("Last Seen", _ev_last), C("Type", lambda o, n: o.get("type", "")),
        C("Reason", lambda o, n: o.get("reason", "")), C("Object", _ev_object),
        C("Message", lambda o, n: (o.get("message") or "").strip()),
        C("Source", lambda o, n: _g(o, "source", "component", default=""), priority=1),
        C("Count", lambda o, n: o.get("count") or 1, typ="integer", priority=1),
        C("Name", _name, priority=1)],
    "VolumeAttachment": [
        NAME, C("Attacher", lambda o, n: _g(o, "spec", "attacher", default="")),
        C("PV", lambda o, n: _g(o, "spec", "source", "persistentVolumeName", default="")),
        C("Node", lambda o, n: _g(o, "spec", "nodeName", default="")),
        C("Attached", _va_attached, typ="boolean"), AGE],
    "CSINode": [NAME, C("Drivers", _csinode_drivers, typ="integer"), AGE],
    "Lease": [NAME, C("Holder", lambda o, n: _g(o, "spec", "holderIdentity", default="")), AGE],
    "Secret": [NAME, C("Type", lambda o, n: o.get("type", "")), C("Data", _data_count, typ="integer"), AGE],
    "ConfigMap": [NAME, C("Data", _data_count, typ="integer"), AGE],
}


def columns(kind):
    return COLUMNS.get(kind, [NAME, AGE])


def column_definitions(kind):
    return [{"name": n, "type": t, "format": f, "description": d, "priority": p}
            for (n, _, t, p, f, d) in columns(kind)]


def row(kind, obj, include="Metadata", now=None):
    now = time.time() if now is None else now
    cells = []
    for (_, fn, _, _, _, _) in columns(kind):
        try:
            cells.append(fn(obj, now))
        except Exception:  # a malformed object must not break the listing
            cells.append("<error>")
    r = {"cells": cells}
    if include == "Object":
        r["object"] = obj
    elif include != "None":
        r["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": obj["metadata"]}
    return r
