# SPDX-License-Identifier: Apache-2.0
"""Per-kind behaviour: defaulting, status/spec separation, validation and
admission, as the real API server's registry strategies and admission
plugins do it (as far as berth needs).

Each hook gets the registry (`reg`) for look-ups:

    prepare_create(reg, obj)                 defaults; status reset
    prepare_update(reg, new, old, sub)       sub is None or "status"
    validate(reg, obj, old) -> [Cause]       old is None on create
    admit(reg, res, obj, old)                raise APIError (403 etc.)
"""

import base64
import copy
import ipaddress
import itertools
import re
import threading
import time

from . import errors, quantity
from .errors import Cause

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric "
                 "character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric "
             "characters or '-', and must start and end with an alphanumeric character "
             "(e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
PV_SOURCES = ("gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs",
              "nfs", "rbd", "iscsi", "cinder", "cephfs", "fc", "flocker", "flexVolume",
              "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
              "portworxVolume", "scaleIO", "local", "storageos", "csi")
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_CLASS_ANNS = ("storageclass.kubernetes.io/is-default-class",
                      "storageclass.beta.kubernetes.io/is-default-class")


def now_ts():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def now_micro():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def _g(o, *path):
    for p in path:
        if not isinstance(o, dict):
            return None
        o = o.get(p)
    return o


def validate_name(name, label=False, field="metadata.name"):
    if label:
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            return [Cause("Invalid", field, LABEL_MSG if DNS1123_LABEL.match(name[:63])
                          is None else "must be no more than 63 characters", name)]
    elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return [Cause("Invalid", field, SUBDOMAIN_MSG, name)]
    return []


def _canon(obj, paths, causes):
    for path in paths:
        parent = obj
        for p in path[:-1]:
            parent = parent.get(p) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), dict):
            errs = []
            quantity.canonicalize_map(parent[path[-1]], ".".join(path), errs)
            causes.extend(Cause("Invalid", f, m) for f, m in errs)


class QuantityInvalid(Exception):
    pass


# --- PersistentVolumeClaim ---------------------------------------------------

def _pvc_canon(obj):
    causes = []
    _canon(obj, [("spec", "resources", "requests"), ("spec", "resources", "limits"),
                 ("status", "capacity"), ("status", "allocatedResources")], causes)
    return causes


def pvc_prepare_create(reg, obj):
    obj["status"] = {"phase": "Pending"}
    spec = obj.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")


def pvc_prepare_update(reg, new, old, sub):
    if sub == "status":
        new["spec"] = copy.deepcopy(old.get("spec"))
    else:
        new["status"] = copy.deepcopy(old.get("status"))
        new.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")


def _storage_req(obj):
    return _g(obj, "spec", "resources", "requests", "storage")


def pvc_validate(reg, obj, old):
    causes = _pvc_canon(obj)
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes") or []
    if not modes and not spec.get("dataSource"):
        causes.append(Cause("Required", "spec.accessModes", "at least 1 access mode is required"))
    for i, m in enumerate(modes):
        if m not in ACCESS_MODES:
            causes.append(Cause("NotSupported", "spec.accessModes", 'supported values: "%s"'
                                % '", "'.join(ACCESS_MODES), m))
    req = _storage_req(obj)
    if req is None:
        causes.append(Cause("Required", "spec.resources[storage]"))
    else:
        try:
            if quantity.value(req) <= 0:
                causes.append(Cause("Invalid", "spec.resources[storage]", "must be greater than zero", req))
        except quantity.QuantityError:
            pass
    if old is None or causes:
        return causes
    # Update: the spec is immutable but for a few fields.
    os_, ns_ = copy.deepcopy(old.get("spec") or {}), copy.deepcopy(spec)
    if not os_.get("volumeName"):
        os_.pop("volumeName", None)
        ns_.pop("volumeName", None)
    if os_.get("storageClassName") is None:
        os_.pop("storageClassName", None)
        ns_.pop("storageClassName", None)
    os_.pop("volumeAttributesClassName", None)
    ns_.pop("volumeAttributesClassName", None)
    bound = _g(old, "status", "phase") == "Bound"
    if bound:
        for s in (os_, ns_):
            s.setdefault("resources", {}).setdefault("requests", {}).pop("storage", None)
    if os_ != ns_:
        causes.append(Cause("Forbidden", "spec", "spec is immutable after creation except "
                            "resources.requests and volumeAttributesClassName for bound claims"))
    oreq = _storage_req(old)
    try:
        if oreq and req and quantity.value(req) < quantity.value(oreq):
            causes.append(Cause("Forbidden", "spec.resources.requests.storage",
                                "field can not be less than previous value"))
    except quantity.QuantityError:
        pass
    return causes


def pvc_admit(reg, res, obj, old):
    md = obj["metadata"]
    if old is None:
        spec = obj.setdefault("spec", {})
        if spec.get("storageClassName") is None:       # DefaultStorageClass
            d = reg.default_storage_class()
            if d is not None:
                spec["storageClassName"] = d
        if reg.options.storage_protection:             # StorageObjectInUseProtection
            fins = md.setdefault("finalizers", [])
            if PVC_PROTECTION not in fins:
                fins.append(PVC_PROTECTION)
        return
    oreq, nreq = _storage_req(old), _storage_req(obj)
    try:
        grows = oreq and nreq and quantity.value(nreq) > quantity.value(oreq)
    except quantity.QuantityError:
        grows = False
    if grows:                                          # PersistentVolumeClaimResize
        if _g(old, "status", "phase") != "Bound":
            raise errors.forbidden(res, md["name"], "Only bound persistent volume claims can be expanded")
        sc = reg.store.get("storage.k8s.io/storageclasses", "", (obj.get("spec") or {}).get("storageClassName") or "")
        if sc is None or not sc.obj.get("allowVolumeExpansion"):
            raise errors.forbidden(res, md["name"], "only dynamically provisioned pvc can be resized "
                                   "and the storageclass that provisions the pvc must support resize")


# --- PersistentVolume --------------------------------------------------------

def pv_prepare_create(reg, obj):
    obj["status"] = {"phase": "Pending", "lastPhaseTransitionTime": now_ts()}
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")


def pv_prepare_update(reg, new, old, sub):
    if sub == "status":
        new["spec"] = copy.deepcopy(old.get("spec"))
        if _g(new, "status", "phase") != _g(old, "status", "phase"):
            new.setdefault("status", {})["lastPhaseTransitionTime"] = now_ts()
    else:
        new["status"] = copy.deepcopy(old.get("status"))
        new.setdefault("spec", {}).setdefault("persistentVolumeReclaimPolicy", "Retain")
        new["spec"].setdefault("volumeMode", "Filesystem")


def pv_validate(reg, obj, old):
    causes = []
    _canon(obj, [("spec", "capacity")], causes)
    spec = obj.get("spec") or {}
    if not spec.get("accessModes"):
        causes.append(Cause("Required", "spec.accessModes"))
    for m in spec.get("accessModes") or []:
        if m not in ACCESS_MODES:
            causes.append(Cause("NotSupported", "spec.accessModes", 'supported values: "%s"'
                                % '", "'.join(ACCESS_MODES), m))
    if _g(spec, "capacity", "storage") is None:
        causes.append(Cause("Required", "spec.capacity"))
    srcs = [s for s in PV_SOURCES if s in spec]
    if not srcs:
        causes.append(Cause("Required", "spec", "must specify a volume type"))
    elif len(srcs) > 1:
        causes.append(Cause("Forbidden", "spec." + srcs[1], "may not specify more than 1 volume type"))
    pol = spec.get("persistentVolumeReclaimPolicy")
    if pol not in ("Retain", "Delete", "Recycle"):
        causes.append(Cause("NotSupported", "spec.persistentVolumeReclaimPolicy",
                            'supported values: "Delete", "Recycle", "Retain"', pol))
    if old is not None and not causes:
        ospec = old.get("spec") or {}
        if {s: ospec.get(s) for s in PV_SOURCES if s in ospec} != {s: spec.get(s) for s in srcs}:
            causes.append(Cause("Forbidden", "spec.persistentvolumesource",
                                "spec.persistentvolumesource is immutable after creation"))
        if ospec.get("volumeMode") != spec.get("volumeMode"):
            causes.append(Cause("Invalid", "spec.volumeMode", "field is immutable", spec.get("volumeMode")))
    return causes


def pv_admit(reg, res, obj, old):
    if old is None and reg.options.storage_protection:
        fins = obj["metadata"].setdefault("finalizers", [])
        if PV_PROTECTION not in fins:
            fins.append(PV_PROTECTION)


# --- StorageClass ------------------------------------------------------------

def sc_prepare(reg, obj, old=None, sub=None):
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def sc_validate(reg, obj, old):
    causes = []
    if not obj.get("provisioner"):
        causes.append(Cause("Required", "provisioner"))
    if obj.get("reclaimPolicy") not in ("Delete", "Retain"):
        causes.append(Cause("NotSupported", "reclaimPolicy", 'supported values: "Delete", "Retain"',
                            obj.get("reclaimPolicy")))
    if obj.get("volumeBindingMode") not in ("Immediate", "WaitForFirstConsumer"):
        causes.append(Cause("NotSupported", "volumeBindingMode",
                            'supported values: "Immediate", "WaitForFirstConsumer"',
                            obj.get("volumeBindingMode")))
    if old is not None:
        if (old.get("parameters") or {}) != (obj.get("parameters") or {}):
            causes.append(Cause("Forbidden", "parameters", "updates to parameters are forbidden."))
        if old.get("provisioner") != obj.get("provisioner"):
            causes.append(Cause("Forbidden", "provisioner", "updates to provisioner are forbidden."))
        if old.get("reclaimPolicy") != obj.get("reclaimPolicy"):
            causes.append(Cause("Forbidden", "reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        if old.get("volumeBindingMode") != obj.get("volumeBindingMode"):
            causes.append(Cause("Invalid", "volumeBindingMode", "field is immutable",
                                obj.get("volumeBindingMode")))
    return causes


# --- Pod ---------------------------------------------------------------------

def _container_defaults(c):
    img = c.get("image") or ""
    tag = img.rsplit("/", 1)[-1]
    latest = "@" not in img and (":" not in tag or tag.endswith(":latest"))
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})


def pod_prepare_create(reg, obj):
    spec = obj.setdefault("spec", {})
    for k, v in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                 ("schedulerName", "default-scheduler"), ("terminationGracePeriodSeconds", 30),
                 ("securityContext", {}), ("enableServiceLinks", True),
                 ("preemptionPolicy", "PreemptLowerPriority"), ("priority", 0)):
        spec.setdefault(k, v)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            _container_defaults(c)
    st = {"phase": "Pending", "qosClass": "BestEffort"}
    if spec.get("nodeName"):
        st["conditions"] = [{"type": "PodScheduled", "status": "True",
                             "lastProbeTime": None, "lastTransitionTime": now_ts()}]
    obj["status"] = st


def pod_prepare_update(reg, new, old, sub):
    if sub == "status":
        new["spec"] = copy.deepcopy(old.get("spec"))
    else:
        new["status"] = copy.deepcopy(old.get("status"))
        for c in (_g(new, "spec", "containers") or []) + (_g(new, "spec", "initContainers") or []):
            if isinstance(c, dict):
                _container_defaults(c)


POD_UPDATE_MSG = ("pod updates may not change fields other than `spec.containers[*].image`,"
                  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                  "`spec.tolerations` (only additions to existing tolerations),"
                  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                  "previously negative)")


def pod_validate(reg, obj, old):
    causes = []
    cs = _g(obj, "spec", "containers")
    if not cs:
        causes.append(Cause("Required", "spec.containers"))
    for i, c in enumerate(cs or []):
        if not isinstance(c, dict) or not c.get("name"):
            causes.append(Cause("Required", "spec.containers[%d].name" % i))
        elif not c.get("image") and old is None:
            causes.append(Cause("Required", "spec.containers[%d].image" % i))
    if old is not None and not causes:
        a, b = copy.deepcopy(old.get("spec") or {}), copy.deepcopy(obj.get("spec") or {})
        for s in (a, b):
            for key in ("containers", "initContainers"):
                for c in s.get(key) or []:
                    c.pop("image", None)
            s.pop("activeDeadlineSeconds", None)
            s.pop("terminationGracePeriodSeconds", None)
        ta, tb = a.pop("tolerations", None) or [], b.pop("tolerations", None) or []
        if a != b or any(t not in tb for t in ta):
            causes.append(Cause("Forbidden", "spec", POD_UPDATE_MSG))
    return causes


# --- Service -----------------------------------------------------------------

_ip_lock = threading.Lock()
_ip_counter = itertools.count(10)


def _next_cluster_ip():
    with _ip_lock:
        n = next(_ip_counter)
    return str(ipaddress.IPv4Address("10.96.0.0") + n)


def svc_prepare_create(reg, obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec.get("type") != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = _next_cluster_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            if "port" in p:
                p.setdefault("targetPort", p["port"])
    obj["status"] = {"loadBalancer": {}}


def svc_prepare_update(reg, new, old, sub):
    if sub == "status":
        new["spec"] = copy.deepcopy(old.get("spec"))
        return
    new["status"] = copy.deepcopy(old.get("status"))
    spec, ospec = new.setdefault("spec", {}), old.get("spec") or {}
    for k in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "type",
              "sessionAffinity", "internalTrafficPolicy"):
        if not spec.get(k) and ospec.get(k):
            spec[k] = copy.deepcopy(ospec[k])
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            if "port" in p:
                p.setdefault("targetPort", p["port"])


def svc_validate(reg, obj, old):
    if old is not None and _g(old, "spec", "clusterIP") != _g(obj, "spec", "clusterIP"):
        return [Cause("Invalid", "spec.clusterIPs[0]", "may not change once set",
                      _g(obj, "spec", "clusterIP"))]
    return []


# --- Namespace ---------------------------------------------------------------

def ns_prepare_create(reg, obj):
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def ns_prepare_update(reg, new, old, sub):
    if sub == "status":
        new["spec"] = copy.deepcopy(old.get("spec"))
    elif sub == "finalize":
        new["status"] = copy.deepcopy(old.get("status"))
    else:
        new["spec"] = copy.deepcopy(old.get("spec"))
        new["status"] = copy.deepcopy(old.get("status"))
    new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = new["metadata"]["name"]


# --- Secret, ConfigMap -------------------------------------------------------

def secret_prepare(reg, obj, old=None, sub=None):
    obj.setdefault("type", "Opaque")
    sd = obj.pop("stringData", None)
    if isinstance(sd, dict):
        data = obj.setdefault("data", {})
        for k, v in sd.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


def immutable_data_validate(reg, obj, old):
    if old is not None and old.get("immutable"):
        causes = []
        for k in ("data", "binaryData", "stringData"):
            if old.get(k) != obj.get(k):
                causes.append(Cause("Forbidden", k, "field is immutable when `immutable` is set"))
        if not obj.get("immutable"):
            causes.append(Cause("Forbidden", "immutable", "field is immutable when `immutable` is set"))
        return causes
    return []


# --- VolumeAttachment --------------------------------------------------------

def va_prepare_create(reg, obj):
    obj.pop("status", None)


def va_prepare_update(reg, new, old, sub):
    if sub == "status":
        new["spec"] = copy.deepcopy(old.get("spec"))
    else:
        new["status"] = copy.deepcopy(old.get("status"))
        if new["status"] is None:
            new.pop("status")


def va_validate(reg, obj, old):
    causes = []
    spec = obj.get("spec") or {}
    for f in ("attacher", "nodeName"):
        if not spec.get(f):
            causes.append(Cause("Required", "spec." + f))
    src = spec.get("source") or {}
    if bool(src.get("persistentVolumeName")) == bool(src.get("inlineVolumeSpec")):
        causes.append(Cause("Required", "spec.source", "must specify exactly one of "
                            "persistentVolumeName and inlineVolumeSpec"))
    if old is not None and old.get("spec") != obj.get("spec"):
        causes.append(Cause("Invalid", "spec", "field is immutable", "{...}"))
    return causes


# --- generic status handling --------------------------------------------------

def generic_status_update(reg, new, old, sub):
    if sub == "status":
        keep = copy.deepcopy(old)
        keep["status"] = new.get("status")
        keep["metadata"]["resourceVersion"] = new["metadata"].get("resourceVersion")
        new.clear()
        new.update(keep)
    else:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)


class Strategy:
    def __init__(self, prepare_create=None, prepare_update=None, validate=None,
                 admit=None, name_is_label=False):
        self.prepare_create = prepare_create
        self.prepare_update = prepare_update
        self.validate = validate
        self.admit = admit
        self.name_is_label = name_is_label


STRATEGIES = {
    "PersistentVolumeClaim": Strategy(pvc_prepare_create, pvc_prepare_update, pvc_validate, pvc_admit),
    "PersistentVolume": Strategy(pv_prepare_create, pv_prepare_update, pv_validate, pv_admit),
    "StorageClass": Strategy(sc_prepare, lambda r, n, o, s: sc_prepare(r, n), sc_validate),
    "Pod": Strategy(pod_prepare_create, pod_prepare_update, pod_validate),
    "Service": Strategy(svc_prepare_create, svc_prepare_update, svc_validate, name_is_label=True),
    "Namespace": Strategy(ns_prepare_create, ns_prepare_update, name_is_label=True),
    "Secret": Strategy(secret_prepare, lambda r, n, o, s: secret_prepare(r, n), immutable_data_validate),
    "ConfigMap": Strategy(None, None, immutable_data_validate),
    "VolumeAttachment": Strategy(va_prepare_create, va_prepare_update, va_validate),
}
DEFAULT = Strategy()


def get(kind):
    return STRATEGIES.get(kind, DEFAULT)


def prepare_update(reg, res, new, old, sub):
    """Status/spec separation: the main resource keeps the old status and
    /status keeps everything but the status (ResetObjectMetaForStatus)."""
    st = get(res.kind)
    if sub == "status":
        md = copy.deepcopy(old["metadata"])
        md["resourceVersion"] = new["metadata"].get("resourceVersion")
        new["metadata"] = md
    if st.prepare_update is not None:
        st.prepare_update(reg, new, old, sub)
    elif res.status:
        generic_status_update(reg, new, old, sub)


# --- events.k8s.io/v1 <-> core/v1 Event ---------------------------------------

_EV_MAP = [("involvedObject", "regarding"), ("related", "related"), ("message", "note"),
           ("reportingComponent", "reportingController"),
           ("reportingInstance", "reportingInstance"), ("source", "deprecatedSource"),
           ("firstTimestamp", "deprecatedFirstTimestamp"),
           ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"),
           ("eventTime", "eventTime"), ("series", "series"), ("action", "action"),
           ("reason", "reason"), ("type", "type")]


def event_to_new(core):
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": core.get("metadata")}
    for old, new in _EV_MAP:
        if core.get(old) not in (None, "", {}):
            out[new] = core[old]
    out.setdefault("eventTime", None)
    return out


def event_to_core(new):
    out = {"kind": "Event", "apiVersion": "v1", "metadata": new.get("metadata") or {}}
    for old, n in _EV_MAP:
        if new.get(n) not in (None, ""):
            out[old] = new[n]
    out.setdefault("involvedObject", {})
    out.setdefault("source", {})
    out.setdefault("firstTimestamp", None)
    out.setdefault("lastTimestamp", None)
    return out
