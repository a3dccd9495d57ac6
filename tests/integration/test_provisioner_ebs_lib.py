# SPDX-License-Identifier: Apache-2.0
"""Helpers for the EBS backend's integration tests: the AWS emulator's
admin API (tests/aws/README.md), nodes with zones (registered by the bed),
pods the real scheduler places, classes that name
the EBS provisioner. Runs under `tests/bed/bed.py run k8s nfs aws`."""

import json
import re
import urllib.request

from test_provisioner_lib import (Failure, Provisioner, check, env, pod,  # noqa: F401
                                  register_node, storage_class)

EBS = "berth.io/ebs"
DRIVER = "ebs.csi.aws.com"


def aws_admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(env("BERTH_AWS_ADMIN_URL") + path, data=data,
                                 method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def aws_state():
    return aws_admin("GET", "/state")


def aws_faults(**spec):
    return aws_admin("POST", "/faults", spec)


def volumes(tag=None, value=None):
    """The emulator's data volumes (no instance root disks), optionally
    those whose tag has value."""
    out = [v for v in aws_state()["volumes"] if not v.get("Root")]
    if tag is not None:
        out = [v for v in out if v["Tags"].get(tag) == value]
    return out


def node(name, zone, instance=None):
    """Register a Ready node in zone (with its EC2 instance as
    spec.providerID) through the bed: no kubelet runs to do it."""
    register_node(name, zone=zone, instance=instance)


def ebs_class(name, params, binding="Immediate", **extra):
    return storage_class(name, params, binding=binding, provisioner=EBS, **extra)


def ebs_provisioner(binary, name="p"):
    return Provisioner(binary, name, ["--provisioner", EBS + "=ebs"] +
                       Provisioner.FAST_LEASE,
                       environ={"BERTH_CLUSTER_ID": CLUSTER})


# --- the oracle: a class's parameters against the disk the emulator made -------
# Written from aws-ebs-csi-driver's documented parameters and EC2's rules,
# not from berth's code: every parameter of the class is checked on the
# disk (what EC2 recorded for CreateVolume), so a parameter berth parses
# but does not pass on fails here. A parameter the oracle does not know
# fails too: teach it here when berth learns one.

GIB = 1024 ** 3
# type: (smallest size in GiB, smallest and largest IOPS or None)
EBS_TYPES = {"gp2": (1, None), "gp3": (1, (3000, 16000)), "io1": (4, (100, 64000)),
             "io2": (4, (100, 64000)), "st1": (125, None), "sc1": (125, None),
             "standard": (1, None)}
CLUSTER = "bed"


def _bool(params, key):
    return params.get(key, "false").lower() == "true"


def expected_disk(params, requested_bytes):
    """What EC2 must record for a claim of requested_bytes on a class with
    params: {Size, VolumeType, Iops, Throughput, Encrypted, KmsKeyId}
    (KmsKeyId None: EC2's default key when Encrypted)."""
    known = {"type", "iops", "iopsPerGB", "allowAutoIOPSPerGBIncrease", "throughput",
             "encrypted", "kmsKeyId", "blockExpress", "csi.storage.k8s.io/fstype"}
    extra = [k for k in params if k not in known and not k.startswith("tagSpecification_")]
    if extra:
        raise Failure("the EBS oracle does not know the parameters %s: teach "
                      "expected_disk() in test_provisioner_ebs_lib.py" % extra)
    vtype = params.get("type", "gp3")
    min_gib, iops_range = EBS_TYPES[vtype]
    size = max(min_gib, -(-requested_bytes // GIB), 1)
    iops = None
    if "iops" in params:
        iops = int(params["iops"])
    elif "iopsPerGB" in params:
        iops = int(params["iopsPerGB"]) * size
        lo, hi = iops_range
        if vtype == "io2" and _bool(params, "blockExpress"):
            hi = 256000
        if iops < lo and _bool(params, "allowAutoIOPSPerGBIncrease"):
            iops = lo
        iops = min(iops, hi)
    if iops is None:  # EC2's defaults for a CreateVolume without Iops
        iops = {"gp3": 3000, "gp2": max(100, min(16000, 3 * size))}.get(vtype)
    throughput = int(params["throughput"]) if "throughput" in params else (
        125 if vtype == "gp3" else None)
    return {"Size": size, "VolumeType": vtype, "Iops": iops, "Throughput": throughput,
            "Encrypted": _bool(params, "encrypted"), "KmsKeyId": params.get("kmsKeyId")}


def check_disk(pv, sclass, claim_obj):
    """Every parameter of sclass against the emulator's disk behind pv (a PV
    berth made for claim_obj) and the PV's csi source. The disk."""
    params = sclass.get("parameters") or {}
    name = pv["metadata"]["name"]
    csi = pv["spec"]["csi"]
    disks = [v for v in volumes() if v["VolumeId"] == csi["volumeHandle"]]
    check(len(disks) == 1, "PV %s: no disk %s in the emulator" % (name, csi["volumeHandle"]))
    disk = disks[0]
    req = claim_obj["spec"]["resources"]["requests"]["storage"]
    want = expected_disk(params, parse_quantity(req))
    for k, v in want.items():
        if k == "KmsKeyId" and v is None:
            ok = disk[k] is None if not want["Encrypted"] else \
                (disk[k] or "").endswith("key/aws-ebs-default")
        else:
            ok = disk[k] == v
        check(ok, "class %s, PV %s: disk %s is %r, the class says %r (disk: %s)"
              % (sclass["metadata"]["name"], name, k, disk[k], v, disk))
    check(csi["fsType"] == params.get("csi.storage.k8s.io/fstype", "ext4"),
          "PV %s fsType %s" % (name, csi["fsType"]))
    md = claim_obj["metadata"]
    tags = {"CSIVolumeName": name, "kubernetes.io/created-for/pvc/name": md["name"],
            "kubernetes.io/created-for/pvc/namespace": md["namespace"],
            "kubernetes.io/created-for/pv/name": name, "ebs.csi.aws.com/cluster": "true",
            "kubernetes.io/cluster/" + CLUSTER: "owned"}
    for k, v in params.items():
        if k.startswith("tagSpecification_"):
            tk, _, tv = v.partition("=")
            tv = re.sub(r"\{\{\s*\.PVCName\s*\}\}", md["name"], tv)
            tv = re.sub(r"\{\{\s*\.PVCNamespace\s*\}\}", md["namespace"], tv)
            tv = re.sub(r"\{\{\s*\.PVName\s*\}\}", name, tv)
            tags[tk] = tv
    for k, v in tags.items():
        check(disk["Tags"].get(k) == v, "PV %s: disk tag %s=%r, want %r"
              % (name, k, disk["Tags"].get(k), v))
    return disk


def check_disks(api, classes=None):
    """check_disk for every EBS PV berth made (classes: their names, to
    limit the check)."""
    n = 0
    for pv in api.pvs():
        ann = pv["metadata"].get("annotations") or {}
        cls = pv["spec"].get("storageClassName")
        if ann.get("pv.kubernetes.io/provisioned-by") != EBS or \
                (classes is not None and cls not in classes):
            continue
        ref = pv["spec"]["claimRef"]
        sc = api.get("/apis/storage.k8s.io/v1/storageclasses/" + cls)
        c = api.claim(ref["name"], ref["namespace"])
        if sc is None or c is None:
            continue
        check_disk(pv, sc, c)
        n += 1
    return n


def parse_quantity(q):
    """A Kubernetes quantity in bytes (the suffixes claims use)."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?", q)
    if m is None:
        raise Failure("quantity %r" % q)
    mult = {None: 1, "Ki": 1024, "Mi": 1024 ** 2, "Gi": GIB, "Ti": 1024 ** 4,
            "k": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4}[m.group(2)]
    return int(m.group(1)) * mult
