# SPDX-License-Identifier: Apache-2.0
"""Decoding of Kubernetes protobuf request bodies, for the few objects that
kubectl's typed clients write: `kubectl create configmap|secret|namespace|
serviceaccount|service` send application/vnd.kubernetes.protobuf and cannot
fall back to JSON. Field numbers are those of k8s.io/api/core/v1 and
k8s.io/apimachinery/pkg/apis/meta/v1 generated.proto. Empty values
(gogo-protobuf writes every non-pointer field) are dropped, as JSON's
omitempty would. Responses are always JSON (client-go decodes by the
response's Content-Type).
"""

import base64
import struct
from datetime import datetime, timezone

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(b, i):
    shift = n = 0
    while True:
        if i >= len(b):
            raise ProtobufError("truncated varint")
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        if not c & 0x80:
            return n, i
        shift += 7


def fields(b):
    """Yield (field number, wire type, value) of a message."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        no, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
            if i > len(b):
                raise ProtobufError("truncated field %d" % no)
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ProtobufError("unsupported wire type %d" % wt)
        yield no, wt, v


def _int(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _time(b):
    secs = nanos = 0
    for no, _, v in fields(b):
        if no == 1:
            secs = _int(v)
        elif no == 2:
            nanos = v
    if secs == 0 and nanos == 0:
        return None
    return datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_string(b):
    typ, iv, sv = 0, 0, ""
    for no, _, v in fields(b):
        if no == 1:
            typ = v
        elif no == 2:
            iv = _int(v)
        elif no == 3:
            sv = v.decode()
    return sv if typ == 1 else iv


OWNER_REF = {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"),
             5: ("apiVersion", "str"), 6: ("controller", "bool"),
             7: ("blockOwnerDeletion", "bool")}
OBJECT_META = {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
               5: ("uid", "str"), 6: ("resourceVersion", "str"), 7: ("generation", "int"),
               8: ("creationTimestamp", "time"), 9: ("deletionTimestamp", "time"),
               10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", "map"),
               12: ("annotations", "map"), 13: ("ownerReferences", [OWNER_REF]),
               14: ("finalizers", ["str"])}
OBJECT_REF = {1: ("kind", "str"), 2: ("namespace", "str"), 3: ("name", "str"),
              4: ("uid", "str"), 5: ("apiVersion", "str"), 6: ("resourceVersion", "str"),
              7: ("fieldPath", "str")}
SERVICE_PORT = {1: ("name", "str"), 2: ("protocol", "str"), 3: ("port", "int"),
                4: ("targetPort", "intstr"), 5: ("nodePort", "int"), 6: ("appProtocol", "str")}
SERVICE_SPEC = {1: ("ports", [SERVICE_PORT]), 2: ("selector", "map"), 3: ("clusterIP", "str"),
                4: ("type", "str"), 5: ("externalIPs", ["str"]), 7: ("sessionAffinity", "str"),
                8: ("loadBalancerIP", "str"), 9: ("loadBalancerSourceRanges", ["str"]),
                10: ("externalName", "str"), 11: ("externalTrafficPolicy", "str"),
                12: ("healthCheckNodePort", "int"), 13: ("publishNotReadyAddresses", "bool"),
                17: ("ipFamilyPolicy", "str"), 18: ("clusterIPs", ["str"]),
                19: ("ipFamilies", ["str"]), 20: ("allocateLoadBalancerNodePorts", "bool"),
                21: ("loadBalancerClass", "str"), 22: ("internalTrafficPolicy", "str")}
KINDS = {
    ("v1", "ConfigMap"): {1: ("metadata", OBJECT_META), 2: ("data", "map"),
                          3: ("binaryData", "mapbytes"), 4: ("immutable", "bool")},
    ("v1", "Secret"): {1: ("metadata", OBJECT_META), 2: ("data", "mapbytes"), 3: ("type", "str"),
                       4: ("stringData", "map"), 5: ("immutable", "bool")},
    ("v1", "Namespace"): {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("finalizers", ["str"])}),
                          3: ("status", {1: ("phase", "str")})},
    ("v1", "ServiceAccount"): {1: ("metadata", OBJECT_META), 2: ("secrets", [OBJECT_REF]),
                               3: ("imagePullSecrets", [{1: ("name", "str")}]),
                               4: ("automountServiceAccountToken", "bool")},
    ("v1", "Service"): {1: ("metadata", OBJECT_META), 2: ("spec", SERVICE_SPEC),
                        3: ("status", {})},
}


def _map_entry(b, as_bytes):
    k, v = "", b"" if as_bytes else ""
    for no, _, x in fields(b):
        if no == 1:
            k = x.decode()
        elif no == 2:
            v = x
    if as_bytes:
        return k, base64.b64encode(v).decode()
    return k, v.decode() if isinstance(v, bytes) else v


def _scalar(typ, wt, v):
    if typ == "str":
        return v.decode()
    if typ == "int":
        return _int(v)
    if typ == "bool":
        return bool(v)
    if typ == "time":
        return _time(v)
    if typ == "intstr":
        return _int_or_string(v)
    if isinstance(typ, dict):
        return message(v, typ)
    raise ProtobufError("unknown type %r" % typ)


def _empty(v):
    return v in (None, "", 0, False, [], {})


def message(b, schema):
    out = {}
    for no, wt, v in fields(b):
        spec = schema.get(no)
        if spec is None:
            continue
        name, typ = spec
        if typ in ("map", "mapbytes"):
            k, val = _map_entry(v, typ == "mapbytes")
            out.setdefault(name, {})[k] = val
        elif isinstance(typ, list):
            out.setdefault(name, []).append(_scalar(typ[0], wt, v))
        else:
            out[name] = _scalar(typ, wt, v)
    return {k: v for k, v in out.items() if not _empty(v) or k in ("port", "targetPort")}


def decode(body):
    """Return the JSON-shaped object of a protobuf request body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic number")
    api_version = kind = ""
    raw = b""
    for no, _, v in fields(body[len(MAGIC):]):
        if no == 1:
            for n2, _, x in fields(v):
                if n2 == 1:
                    api_version = x.decode()
                elif n2 == 2:
                    kind = x.decode()
        elif no == 2:
            raw = v
    schema = KINDS.get((api_version, kind))
    if schema is None:
        raise ProtobufError("protobuf bodies of %s %s are not supported by this server; "
                            "send JSON" % (api_version, kind))
    obj = {"kind": kind, "apiVersion": api_version}
    obj.update(message(raw, schema))
    obj.setdefault("metadata", {})
    return obj
