#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner's EFS backend and the sweep, against the AWS emulator:

  - an efs-ap claim Bound: its access point carries this cluster's tag and,
    once the PV is saved, no record tag (berth.io/provisioning);
  - SIGKILL while the new access point is still "creating" (after
    CreateAccessPoint, before the PV), the claim deleted while the
    provisioner is dead, a restart with a short --sweep-interval and
    --sweep-grace: the access point is deleted, while the Bound claim's,
    one kept by a Retain PV deleted since, and another cluster's leftover
    stay.

    test_provisioner_efs_chaos.py BERTH-PROVISIONER (under bed.py run k8s nfs aws)
"""

import sys

import botocore.session

from test_provisioner_ebs_lib import CLUSTER, aws_admin, aws_state
from test_provisioner_lib import (API, Provisioner, check, claim, create, env, kubectl,
                                  log, poll, run, storage_class, wait_bound)

EFS = "berth.io/efs"
FS = "fs-0123456789abcdef0"
RECORD = "berth.io/provisioning"
TAG_PVC = "kubernetes.io/created-for/pvc/name"
OURS = "kubernetes.io/cluster/" + CLUSTER


def efs_class(name, reclaim="Delete"):
    return storage_class(name, {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                "directoryPerms": "700"},
                         reclaim=reclaim, provisioner=EFS)


def aps(claim_name=None):
    """The emulator's access points (with their tags as a dict), optionally
    those made for claim_name."""
    out = []
    for a in aws_state()["access_points"]:
        a = dict(a, Tags={t["Key"]: t["Value"] for t in a["Tags"]})
        if claim_name is None or a["Tags"].get(TAG_PVC) == claim_name:
            out.append(a)
    return out


def recorded():
    """This cluster's access points that still carry the record tag."""
    return [a["AccessPointId"] for a in aps() if RECORD in a["Tags"] and OURS in a["Tags"]]


def efs_client():
    s = botocore.session.get_session()
    return s.create_client("efs", region_name=env("AWS_REGION"),
                           endpoint_url=env("AWS_ENDPOINT_URL"),
                           aws_access_key_id=env("AWS_ACCESS_KEY_ID"),
                           aws_secret_access_key=env("AWS_SECRET_ACCESS_KEY"))


def main(binary, procs):
    api = API()
    create(efs_class("ap"), efs_class("keep", reclaim="Retain"))
    p = Provisioner(binary, "p", ["--provisioner", EFS + "=efs"] + Provisioner.FAST_LEASE,
                    environ={"BERTH_CLUSTER_ID": CLUSTER})
    procs.append(p)
    p.start()

    create(claim("b1", "ap"), claim("kept", "keep"))
    wait_bound(api, ["b1", "kept"], 30)
    for n in ("b1", "kept"):
        a = aps(n)
        check(len(a) == 1, "%s: %d access points, want 1" % (n, len(a)))
        check(a[0]["Tags"].get(OURS) == "owned", "%s: cluster tag: %s" % (n, a[0]["Tags"]))
    poll(lambda: recorded() == [], 30, "records forgotten once the PVs were saved (%s)"
         % (recorded(),))
    b1 = aps("b1")[0]["AccessPointId"]
    kept = aps("kept")[0]["AccessPointId"]
    log("b1 and kept Bound; their access points carry %s and no record" % OURS)

    # Retain: the PV deleted by hand, the access point kept.
    pv = api.claim("kept")["spec"]["volumeName"]
    kubectl("delete", "pvc", "kept", "--wait=false")
    poll(lambda: (api.pv(pv) or {}).get("status", {}).get("phase") == "Released",
         30, "kept's PV Released")
    kubectl("delete", "pv", pv, "--wait=false")
    poll(lambda: api.pv(pv) is None, 30, "kept's PV gone")

    # Another cluster's leftover, record and all.
    uid = "0f0f0f0f-0000-4000-8000-000000000000"
    foreign = efs_client().create_access_point(
        ClientToken="pvc-" + uid, FileSystemId=FS,
        Tags=[{"Key": "CSIVolumeName", "Value": "pvc-" + uid},
              {"Key": TAG_PVC, "Value": "theirs"},
              {"Key": "kubernetes.io/created-for/pvc/namespace", "Value": "default"},
              {"Key": "efs.csi.aws.com/cluster", "Value": "true"},
              {"Key": "kubernetes.io/cluster/another", "Value": "owned"},
              {"Key": RECORD, "Value": uid}])["AccessPointId"]

    # The kill between CreateAccessPoint and the PV, the claim deleted
    # meanwhile: the access point stays "creating" until the emulator's
    # delay, so the provisioner is still waiting for it when killed.
    aws_admin("POST", "/config", {"ap_create_delay_ms": 600000})
    create(claim("lost1", "ap"))
    poll(lambda: aps("lost1"), 20, "an access point for lost1", interval=0.05)
    lost = aps("lost1")[0]
    check(lost["LifeCycleState"] == "creating" and lost["Tags"].get(RECORD),
          "lost1's access point creating, with its record: %s" % lost)
    p.kill()
    log("SIGKILL with lost1's access point creating")
    aws_admin("POST", "/config", {"ap_create_delay_ms": 0})
    kubectl("delete", "pvc", "lost1", "--wait=false")
    poll(lambda: api.claim("lost1") is None, 30, "lost1 to go")
    p.args += ["--sweep-interval", "1s", "--sweep-grace", "2s"]
    p.start()

    poll(lambda: aps("lost1") == [], 60, "the sweep to delete lost1's access point (%s)"
         % ([a["AccessPointId"] for a in aps("lost1")],))
    # The log line follows the delete (and the record's forget).
    def swept():
        return p.log_text().count(
            'msg="sweep: removed storage whose claim and PV are both gone"')
    poll(lambda: swept() >= 1, 30, "the sweep's log line")
    check(swept() == 1, "the sweep removed %d, want 1" % swept())
    ids = {a["AccessPointId"] for a in aps()}
    check(ids == {b1, kept, foreign}, "access points left: %s, want %s" %
          (sorted(ids), sorted({b1, kept, foreign})))
    check(not [x for x in api.pvs()
               if (x["spec"].get("claimRef") or {}).get("name") == "lost1"], "no PV for lost1")
    log("sweep: lost1's access point deleted after the kill; b1's, the Retain one and "
        "another cluster's kept")


if __name__ == "__main__":
    sys.exit(run(main))
