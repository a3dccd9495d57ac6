#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berthctl against the EBS backend: berth-provisioner makes a disk for a
claim in the AWS emulator; `berthctl volumes -o json` shows its id, state
and zone (DescribeVolumes); `berthctl attach PV --node N --yes` attaches
it to the node's instance (in-use in the emulator) and `berthctl detach`
makes it available again; a disk berth tagged whose PV is gone shows in
`berthctl orphans`.

    test_berthctl_aws.py [--case NAME]... BERTHCTL BERTH-PROVISIONER
        (under bed.py run k8s nfs aws); the cases (volumes, efs, attach,
        orphans) share one setup and run alone with --case.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_provisioner_ebs_lib import (EBS, aws_admin, check_disks, ebs_class,  # noqa: E402
                                      node, volumes)
from test_provisioner_lib import (API, Failure, Provisioner, check,  # noqa: E402
                                  claim, create, log, poll, storage_class,
                                  v4_url, wait_bound)

EFS = "berth.io/efs"
FS = "fs-0123456789abcdef0"

BERTHCTL = None
INSTANCE = "i-0bbbbbbbbbbbbbbb1"


def ctl(*args, rc=0, timeout=30):
    r = subprocess.run([BERTHCTL] + list(args), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if rc is not None and r.returncode != rc:
        raise Failure("berthctl %s: exit %d, want %d\n--- stdout\n%s--- stderr\n%s"
                      % (" ".join(args), r.returncode, rc, r.stdout, r.stderr))
    check("runtime error:" not in r.stderr and "Sanitizer" not in r.stderr,
          "berthctl %s: sanitizer report:\n%s" % (" ".join(args), r.stderr))
    return r.stdout, r.stderr


def disk(vol_id):
    d = [v for v in volumes() if v["VolumeId"] == vol_id]
    return d[0] if d else None


class Bed:
    """What setup made, for the cases: the API and the volumes' names."""

    def __init__(self, api):
        self.api = api
        self.pv = api.claim("data")["spec"]["volumeName"]
        self.vol_id = api.pv(self.pv)["spec"]["csi"]["volumeHandle"]


def setup(binary, procs):
    """An instance and its node, the classes, berth-provisioner serving
    EBS and EFS, and the claims the cases read, all Bound."""
    api = API()
    aws_admin("POST", "/instances", {"instance_id": INSTANCE, "zone": "us-east-1a"})
    node("node-c", "us-east-1a", INSTANCE)
    create(ebs_class("gp3", {"type": "gp3"}),
           ebs_class("keep", {"type": "gp2"}, reclaim="Retain"),
           storage_class("ap", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                "directoryPerms": "700"}, provisioner=EFS),
           storage_class("dir", {"provisioningMode": "efs-dir", "url": v4_url(),
                                 "basePath": "efs",
                                 "subPathPattern": "${.PVC.namespace}-${.PVC.name}"}, provisioner=EFS))
    p = Provisioner(binary, "p", ["--provisioner", EBS + "=ebs",
                                  "--provisioner", EFS + "=efs"] +
                    Provisioner.FAST_LEASE, environ={"BERTH_CLUSTER_ID": "bed"})
    procs.append(p)
    p.start()
    create(claim("data", "gp3", modes=("ReadWriteOnce",)),
           claim("gone", "keep", modes=("ReadWriteOnce",)),
           claim("efsap", "ap"), claim("efsdir", "dir"))
    wait_bound(api, ["data", "gone", "efsap", "efsdir"], 30)
    check(check_disks(api) == 2, "the classes' parameters on the disks")
    bed = Bed(api)
    poll(lambda: (disk(bed.vol_id) or {}).get("State") == "available", 20,
         "disk %s available" % bed.vol_id)
    return bed


def test_volumes(bed):
    """volumes -o json: the disk's id, state and zone (DescribeVolumes)."""
    pv, vol_id = bed.pv, bed.vol_id
    out, _ = ctl("volumes", "-o", "json")
    text = json.dumps(json.loads(out))
    for want in (vol_id, "available", "us-east-1a", "gp3"):
        check(want in text, "volumes -o json: no %r in\n%s" % (want, out))
    out, _ = ctl("volumes", "-o", "wide")
    check(vol_id in out and "exists" in out, "volumes -o wide: " + out)
    out, _ = ctl("describe", "volume", pv)
    check(vol_id in out and "us-east-1a" in out, "describe volume: " + out)
    log("volumes: %s available in us-east-1a" % vol_id)


def test_efs(bed):
    """EFS: the access point (DescribeAccessPoints), the efs-dir
    directory."""
    api = bed.api
    ap_pv = api.claim("efsap")["spec"]["volumeName"]
    ap_id = api.pv(ap_pv)["spec"]["csi"]["volumeHandle"].partition("::")[2]
    dir_pv = api.claim("efsdir")["spec"]["volumeName"]
    vols = {v["metadata"]["name"]: v for v in
            json.loads(ctl("volumes", "-o", "json")[0]).get("items", [])}
    text = json.dumps(vols.get(ap_pv))
    check(ap_id in text and FS in text and "exists" in text,
          "volumes -o json, efs-ap: " + text)
    text = json.dumps(vols.get(dir_pv))
    check("exists" in text and "efs" in text, "volumes -o json, efs-dir: " + text)
    out, _ = ctl("describe", "volume", ap_pv)
    check(ap_id in out, "describe efs-ap volume: " + out)
    log("berthctl volumes -o wide:\n" + ctl("volumes", "-o", "wide")[0])
    log("berthctl describe volume (efs-ap):\n" + out)
    log("efs: access point %s, directory of %s exist" % (ap_id, dir_pv))


def test_attach_detach(bed):
    """attach asks first, attaches (idempotent), detach makes the disk
    available again."""
    pv, vol_id = bed.pv, bed.vol_id
    _, err = ctl("attach", pv, "--node", "node-c", rc=1)
    check("--yes" in err, "attach without --yes: " + err)
    check(disk(vol_id)["State"] == "available", "asked, yet attached")
    out, _ = ctl("attach", pv, "--node", "node-c", "--yes", timeout=60)
    d = disk(vol_id)
    check(d["State"] == "in-use" and
          [a["InstanceId"] for a in d["Attachments"]] == [INSTANCE],
          "after attach: %s %s" % (d["State"], d["Attachments"]))
    check("/dev/xvd" in out, "attach: " + out)
    log("attach: " + out.strip())
    out, _ = ctl("volumes", "-o", "json")
    check(INSTANCE in out, "volumes -o json, attached: " + out)
    ctl("attach", pv, "--node", "node-c", "--yes")  # idempotent
    ctl("detach", pv, "--node", "node-c", "--yes", timeout=60)
    d = disk(vol_id)
    check(d["State"] == "available" and not d["Attachments"],
          "after detach: %s %s" % (d["State"], d["Attachments"]))
    ctl("detach", pv, "--node", "node-c", "--yes")  # already detached
    log("attach/detach: in-use, then available")


def test_orphans(bed):
    """orphans: a disk berth tagged whose PV is gone (Retain class, PV
    removed), and not the disk of a PV."""
    api, vol_id = bed.api, bed.vol_id
    gone_pv = api.claim("gone")["spec"]["volumeName"]
    gone_id = api.pv(gone_pv)["spec"]["csi"]["volumeHandle"]
    api.request("DELETE", "/api/v1/namespaces/default/persistentvolumeclaims/gone")
    api.request("PATCH", "/api/v1/persistentvolumes/" + gone_pv,
                {"metadata": {"finalizers": None}},
                ctype="application/merge-patch+json")
    api.request("DELETE", "/api/v1/persistentvolumes/" + gone_pv)
    poll(lambda: not [x for x in api.pvs()
                      if x["metadata"]["name"] == gone_pv], 20, "PV %s gone" % gone_pv)
    check(disk(gone_id) is not None, "Retain: disk %s deleted" % gone_id)
    out, _ = ctl("orphans")
    log("berthctl orphans:\n" + out)
    check(gone_id in out and vol_id not in out, "orphans: " + out)
    out, _ = ctl("orphans", "-o", "json")
    check(gone_id in out, "orphans -o json: " + out)
    log("orphans: %s (PV %s gone)" % (gone_id, gone_pv))


CASES = {"volumes": test_volumes, "efs": test_efs,
         "attach": test_attach_detach, "orphans": test_orphans}


def main(binary, procs):
    bed = setup(binary, procs)
    for name in ONLY or list(CASES):
        CASES[name](bed)
        log("ok: %s" % name)


ONLY = []

if __name__ == "__main__":
    # --case NAME (repeatable) runs only those cases, after the setup.
    args = sys.argv[1:]
    while len(args) >= 2 and args[0] == "--case":
        if args[1] not in CASES:
            print("unknown case %r (cases: %s)" % (args[1], ", ".join(CASES)),
                  file=sys.stderr)
            sys.exit(2)
        ONLY.append(args[1])
        args = args[2:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    BERTHCTL = args[0]
    sys.argv = [sys.argv[0], args[1]]
    from test_provisioner_lib import run  # noqa: E402
    sys.exit(run(main))
