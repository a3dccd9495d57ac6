#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner as the CSI snapshotter sidecar of ebs.csi.aws.com and
as the restoring provisioner, on the bed's real control plane with the
standard snapshot CRDs and kubernetes-csi's real snapshot-controller
(component "snapshot"), through kubectl:

  take    a Bound EBS claim -> VolumeSnapshot (class with tagSpecification
          and deletionPolicy Delete) -> the snapshot-controller makes the
          VolumeSnapshotContent -> berth's CreateSnapshot in the emulator
          with the driver's tags -> readyToUse once the snapshot is
          completed, restoreSize and snapshotHandle on both objects;
  restore a claim whose dataSource is the VolumeSnapshot gets a disk made
          from the snapshot (SnapshotId, size >= the snapshot's) in its
          class's zone, another than the source disk's (snapshots are
          regional); a claim smaller than the snapshot is refused with a
          ProvisioningFailed Event; a VolumeSnapshotClass parameter berth
          cannot honour (fastSnapshotRestoreAvailabilityZones) is refused
          with status.error and an Event on the content;
  chaos   the emulator throttles CreateSnapshot/DescribeSnapshots (fault
          switches), the API refuses the first status write after
          CreateSnapshot (409, fault proxy), and berth-provisioner is
          SIGKILLed while the snapshot is pending (stuck_snapshot), then
          restarted: one snapshot, ready;
  delete  claims, VolumeSnapshots: DeleteSnapshot (Delete policy), the
          contents go; Retain keeps its EC2 snapshot, also when its
          content is deleted by hand.
  orphans `berthctl orphans` lists the retained snapshot once no content
          names it (not before), and `--delete` removes it.
Nothing leaks: every disk and every snapshot in the emulator is gone at
the end.

    test_provisioner_ebs_snapshot.py BERTHCTL BERTH-PROVISIONER (under bed.py run k8s aws snapshot)
"""

import json
import subprocess
import sys

from test_provisioner_ebs_lib import (CLUSTER, aws_admin, aws_faults, aws_state,
                                      ebs_class, ebs_provisioner, volumes)
from test_provisioner_lib import (API, check, claim, create, events_for, fault,
                                  kubectl, log, poll, run, wait_bound)

GROUP = "snapshot.storage.k8s.io"
GIB = 1024 ** 3


def snap_class(name, params, policy="Delete"):
    return {"apiVersion": GROUP + "/v1", "kind": "VolumeSnapshotClass",
            "metadata": {"name": name}, "driver": "ebs.csi.aws.com",
            "deletionPolicy": policy, "parameters": params}


def volume_snapshot(name, pvc, cls):
    return {"apiVersion": GROUP + "/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"volumeSnapshotClassName": cls,
                     "source": {"persistentVolumeClaimName": pvc}}}


def restore_claim(name, cls, snap, size):
    c = claim(name, cls, size=size, modes=("ReadWriteOnce",))
    c["spec"]["dataSource"] = {"apiGroup": GROUP, "kind": "VolumeSnapshot",
                               "name": snap}
    return c


def get(kind, name, ns=True):
    args = ["get", kind, name, "-o", "json"]
    if ns:
        args += ["-n", "default"]
    out = kubectl(*args, check_rc=False)
    if out.returncode != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def snapshots():
    return aws_state()["snapshots"]


def ready(name):
    vs = get("volumesnapshot", name) or {}
    return (vs.get("status") or {}).get("readyToUse") is True


def content_of(name):
    vs = get("volumesnapshot", name) or {}
    bound = (vs.get("status") or {}).get("boundVolumeSnapshotContentName")
    return get("volumesnapshotcontent", bound, ns=False) if bound else None


def take(name, pvc, cls):
    create(volume_snapshot(name, pvc, cls))
    poll(lambda: ready(name), 40, "VolumeSnapshot %s readyToUse" % name,
         interval=0.2)
    c = content_of(name)
    st = c["status"]
    s = [x for x in snapshots() if x["SnapshotId"] == st["snapshotHandle"]]
    check(len(s) == 1 and s[0]["State"] == "completed",
          "the content's snapshotHandle %s is a completed EC2 snapshot"
          % st["snapshotHandle"])
    return c, s[0]


def main(binary, procs):
    api = API()
    aws_admin("POST", "/config", {"snapshot_delay_ms": 500})
    create(ebs_class("disk", {"type": "gp3"},
                     allowedTopologies=[{"matchLabelExpressions": [{
                         "key": "topology.ebs.csi.aws.com/zone",
                         "values": ["us-east-1b"]}]}]))
    create(ebs_class("disk-c", {"type": "gp3"},
                     allowedTopologies=[{"matchLabelExpressions": [{
                         "key": "topology.ebs.csi.aws.com/zone",
                         "values": ["us-east-1c"]}]}]))
    create(snap_class("snap", {"tagSpecification_1":
                               "owner={{ .VolumeSnapshotNamespace }}/"
                               "{{ .VolumeSnapshotName }}"}))
    create(snap_class("keep", {}, policy="Retain"))
    create(snap_class("fsr", {"fastSnapshotRestoreAvailabilityZones": "us-east-1a"}))
    p = ebs_provisioner(binary)
    procs.append(p)
    p.start()
    create(claim("src", "disk", size="3Gi", modes=("ReadWriteOnce",)))
    wait_bound(api, ["src"], 30)
    src_vol = api.pv(api.claim("src")["spec"]["volumeName"])["spec"]["csi"]["volumeHandle"]

    # take: the driver's tags, status on the content and the snapshot.
    content, s = take("snap1", "src", "snap")
    uid = content["spec"]["volumeSnapshotRef"]["uid"]
    want_tags = {"CSIVolumeSnapshotName": "snapshot-" + uid,
                 "ebs.csi.aws.com/cluster": "true",
                 "kubernetes.io/cluster/" + CLUSTER: "owned",
                 "Name": CLUSTER + "-dynamic-snapshot-" + uid,
                 "owner": "default/snap1"}
    check(s["Tags"] == want_tags, "snapshot tags %s, want %s" % (s["Tags"], want_tags))
    check(s["VolumeId"] == src_vol, "snapshot of the claim's disk")
    check(content["status"]["restoreSize"] == 3 * GIB,
          "restoreSize %s" % content["status"]["restoreSize"])
    check(content["status"].get("creationTime", 0) > 0, "creationTime set")
    check("snapshot.storage.kubernetes.io/volumesnapshot-being-created" not in
          (content["metadata"].get("annotations") or {}),
          "the being-created annotation is gone once the snapshot is cut")
    log("snapshot %s of %s ready, tags as the driver's" % (s["SnapshotId"], src_vol))

    # restore: a larger claim in another zone (EBS snapshots are
    # regional), a smaller one refused.
    create(restore_claim("copy", "disk-c", "snap1", "4Gi"))
    create(restore_claim("tiny", "disk", "snap1", "1Gi"))
    wait_bound(api, ["copy"], 30)
    copy_vol = api.pv(api.claim("copy")["spec"]["volumeName"])["spec"]["csi"]["volumeHandle"]
    d = [v for v in volumes() if v["VolumeId"] == copy_vol][0]
    check(d["SnapshotId"] == s["SnapshotId"] and d["Size"] == 4 and
          d["AvailabilityZone"] == "us-east-1c",
          "restored disk %s: snapshot %s, 4 GiB in us-east-1c" % (d, s["SnapshotId"]))
    e = poll(lambda: [x for x in events_for(api, "tiny", "ProvisioningFailed")
                      if "less than the size" in x["message"]], 30,
             "a ProvisioningFailed Event for the claim smaller than the snapshot")
    log("restored into %s; 1Gi refused: %s" % (copy_vol, e[0]["message"]))
    check(api.claim("tiny")["status"]["phase"] == "Pending", "tiny stays Pending")

    # A class parameter berth cannot honour: status.error and an Event.
    create(volume_snapshot("fsr1", "src", "fsr"))
    poll(lambda: "fast snapshot restore" in json.dumps(
        ((content_of("fsr1") or {}).get("status") or {}).get("error") or {}), 30,
         "status.error on the fsr content")
    check(not ready("fsr1"), "fsr1 is not ready")
    check(len(snapshots()) == 1, "no EC2 snapshot for a refused class")
    fsr_content = content_of("fsr1")["metadata"]["name"]
    kubectl("delete", "volumesnapshot", "fsr1")
    poll(lambda: get("volumesnapshotcontent", fsr_content, ns=False) is None,
         30, "the fsr content gone")

    # chaos: throttled, the status after CreateSnapshot refused once (a
    # retry must find the snapshot by its name tag), and SIGKILL while the
    # snapshot is pending.
    aws_faults(stuck_snapshot=True, throttle_rate=0.3,
               actions=["CreateSnapshot", "DescribeSnapshots"], seed=7)
    fault(kind="conflict", verb="patch",
          path=r"/volumesnapshotcontents/[^/]+/status$", count=1)
    create(volume_snapshot("snap2", "src", "snap"))
    poll(lambda: len(snapshots()) == 2, 30, "the second snapshot pending")
    poll(lambda: ((content_of("snap2") or {}).get("status") or {}).get(
        "snapshotHandle"), 30, "snap2's content with its handle")
    check(not ready("snap2") and content_of("snap2")["status"].get(
        "readyToUse") is not True, "snap2 ready while its snapshot is pending")
    p.kill()
    p.wait()
    aws_admin("POST", "/unstick", {})
    aws_faults(stuck_snapshot=False)
    p.start()
    poll(lambda: ready("snap2"), 40, "snap2 ready after the restart", interval=0.2)
    aws_faults(throttle_rate=0.0, actions=[])
    check(len(snapshots()) == 2, "one EC2 snapshot per VolumeSnapshot after "
          "throttling and a SIGKILL: %d" % len(snapshots()))
    log("snap2 ready after throttling and a SIGKILL while pending")

    # Retain: the EC2 snapshot outlives the VolumeSnapshot and its content.
    _, kept = take("kept", "src", "keep")

    # delete: everything but the retained snapshot goes.
    kubectl("delete", "pvc", "copy", "tiny", "--wait=false")
    kubectl("delete", "volumesnapshot", "snap1", "snap2", "kept",
            "--wait=false")
    poll(lambda: [x["SnapshotId"] for x in snapshots()] == [kept["SnapshotId"]],
         40, "only the retained snapshot left", interval=0.2)
    poll(lambda: not json.loads(kubectl("get", "volumesnapshots", "-o",
                                        "json").stdout)["items"], 30,
         "the VolumeSnapshots gone")

    def contents():
        return json.loads(kubectl("get", "volumesnapshotcontents", "-o",
                                  "json").stdout)["items"]
    poll(lambda: [c["spec"]["deletionPolicy"] for c in contents()] == ["Retain"],
         30, "only the retained content left")
    contents = contents()
    out, _ = ctl("orphans")
    check(kept["SnapshotId"] not in out, "berthctl orphans lists %s while its "
          "content names it:\n%s" % (kept["SnapshotId"], out))
    kubectl("delete", "volumesnapshotcontent", contents[0]["metadata"]["name"])
    check([x["SnapshotId"] for x in snapshots()] == [kept["SnapshotId"]],
          "Retain keeps the EC2 snapshot when its content goes")
    # berthctl orphans: a snapshot berth made that no content names.
    out, _ = ctl("orphans")
    log("berthctl orphans:\n" + out)
    check(kept["SnapshotId"] in out, "berthctl orphans: " + out)
    ctl("orphans", "--delete", "--yes", "--min-age", "0s")
    check(not snapshots(), "berthctl orphans --delete removed the snapshot")
    kubectl("delete", "pvc", "src", "--wait=false")
    poll(lambda: not volumes(), 40, "every disk deleted", interval=0.2)
    log("deleted: no disk and no snapshot left")


def ctl(*args, rc=0, timeout=30):
    r = subprocess.run([BERTHCTL] + list(args), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    check(r.returncode == rc, "berthctl %s: exit %d, want %d\n--- stdout\n%s"
          "--- stderr\n%s" % (" ".join(args), r.returncode, rc, r.stdout, r.stderr))
    check("runtime error:" not in r.stderr and "Sanitizer" not in r.stderr,
          "berthctl %s: sanitizer report:\n%s" % (" ".join(args), r.stderr))
    return r.stdout, r.stderr


BERTHCTL = None

if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    BERTHCTL = sys.argv[1]
    sys.argv = [sys.argv[0], sys.argv[2]]
    sys.exit(run(main))
