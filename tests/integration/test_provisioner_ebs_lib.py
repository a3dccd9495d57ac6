"""Helpers for the EBS backend's integration tests: the AWS emulator's
admin API (tests/aws/README.md), nodes with zones (registered by the bed),
pods the real scheduler places, classes that name
the EBS provisioner. Runs under `tests/bed/bed.py run k8s nfs aws`."""

import json
import urllib.request

from test_provisioner_lib import Provisioner, env, pod, register_node, storage_class  # noqa: F401

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
                       environ={"BERTH_CLUSTER_ID": "bed"})
