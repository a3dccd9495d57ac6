#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner's EBS backend under AWS faults and crashes:

  - 30% throttling and 5% 5xx on every AWS call: 100 claims -> 100/100 Bound
    and exactly 100 disks in the emulator, one per PV;
  - SIGKILL while the new disk is still "creating" (after CreateVolume,
    before the PV): after a restart the claim is Bound to that disk and no
    second disk exists;
  - SIGKILL while CreateVolume itself is in flight (emulator latency): the
    restarted provisioner's CreateVolume carries the same ClientToken and
    gets the same disk;
  - a claim deleted while its disk is still "creating" (no finalizer holds
    the claim back): once the disk is available the PV is saved for the
    deleted claim, released, and the disk deleted: no disk and no PV left
    for it;
  - the sweep: SIGKILL while a disk is "creating" (after CreateVolume,
    before the PV), the claim deleted while the provisioner is dead, a
    restart with a short --sweep-interval and --sweep-grace: the disk is
    removed, while every disk with a PV (their record tag forgotten once
    the PV was saved), a disk kept by a Retain PV deleted since, and
    another cluster's leftover stay.

    test_provisioner_ebs_chaos.py BERTH-PROVISIONER (under bed.py run k8s nfs aws)
"""

import sys

import botocore.session

from test_provisioner_ebs_lib import (CLUSTER, aws_admin, aws_faults, check_disks,
                                      ebs_class, ebs_provisioner, volumes)
from test_provisioner_lib import (API, check, claim, create, env, kubectl, log, poll,
                                  run, wait_bound)

N = 100
TAG_PVC = "kubernetes.io/created-for/pvc/name"
RECORD = "berth.io/provisioning"


def ec2():
    s = botocore.session.get_session()
    return s.create_client("ec2", region_name=env("AWS_REGION"),
                           endpoint_url=env("AWS_ENDPOINT_URL"),
                           aws_access_key_id=env("AWS_ACCESS_KEY_ID"),
                           aws_secret_access_key=env("AWS_SECRET_ACCESS_KEY"))


def recorded():
    """This cluster's disks that still carry the sweep's record tag."""
    return [v["VolumeId"] for v in volumes()
            if RECORD in v["Tags"] and "kubernetes.io/cluster/" + CLUSTER in v["Tags"]]


def one_disk_for(api, name):
    """The claim is Bound to the only disk tagged for it."""
    vs = volumes(TAG_PVC, name)
    check(len(vs) == 1, "%s: %d disks, want 1: %s" %
          (name, len(vs), [v["VolumeId"] for v in vs]))
    pv = api.pv(api.claim(name)["spec"]["volumeName"])
    check(pv["spec"]["csi"]["volumeHandle"] == vs[0]["VolumeId"],
          "%s: PV handle %s, disk %s" % (name, pv["spec"]["csi"]["volumeHandle"],
                                         vs[0]["VolumeId"]))
    return vs[0]


def main(binary, procs):
    api = API()
    create(ebs_class("storm", {"type": "gp3"}))
    p = ebs_provisioner(binary)
    procs.append(p)
    p.start()
    modes = ("ReadWriteOnce",)

    # The storm.
    aws_faults(throttle_rate=0.3, error_rate=0.05, seed=5)
    names = ["s%03d" % i for i in range(N)]
    create(*[claim(n, "storm", modes=modes) for n in names])
    wait_bound(api, names, 90)
    c = aws_admin("GET", "/counters")
    aws_faults(throttle_rate=0, error_rate=0)
    vs = volumes()
    check(len(vs) == N, "%d disks in the emulator, want %d" % (len(vs), N))
    handles = {api.pv(api.claim(n)["spec"]["volumeName"])["spec"]["csi"]["volumeHandle"]
               for n in names}
    check(handles == {v["VolumeId"] for v in vs}, "PV handles == disks")
    check(check_disks(api) == N, "the class's parameters on every disk")
    log("storm: %d/%d Bound, %d disks; faults %s" % (N, N, len(vs), c.get("faults")))

    # Crash after CreateVolume, while the disk is creating.
    aws_faults(stuck_creating=True)
    create(claim("crash1", "storm", modes=modes))
    poll(lambda: volumes(TAG_PVC, "crash1"), 20, "a disk for crash1", interval=0.05)
    p.kill()
    log("SIGKILL with crash1's disk creating")
    aws_faults(stuck_creating=False)
    aws_admin("POST", "/unstick", {})
    p.start()
    wait_bound(api, ["crash1"], 30)
    v = one_disk_for(api, "crash1")
    log("crash1 Bound to %s, the only disk for it" % v["VolumeId"])

    # Crash while CreateVolume is in flight: the emulator makes the disk
    # after the client is gone.
    aws_admin("POST", "/counters/reset", {})
    aws_faults(latency_ms=800)
    create(claim("crash2", "storm", modes=modes))

    def create_sent():
        reqs = aws_admin("GET", "/counters").get("requests", {})
        return reqs.get("ec2.CreateVolume", 0) >= 1
    poll(create_sent, 20, "CreateVolume for crash2 sent", interval=0.02)
    p.kill()
    log("SIGKILL with CreateVolume in flight")
    p.start()
    wait_bound(api, ["crash2"], 40)
    aws_faults(latency_ms=0)
    v = one_disk_for(api, "crash2")
    check(len(volumes()) == N + 2, "%d disks, want %d" % (len(volumes()), N + 2))
    ec2 = aws_admin("GET", "/counters").get("ec2", {})
    log("crash2 Bound to %s, the only disk for it; %d disks in all; "
        "emulator ec2 counters %s" % (v["VolumeId"], N + 2, ec2))

    # The claim deleted while its disk is creating.
    aws_faults(stuck_creating=True)
    create(claim("gone1", "storm", modes=modes))
    poll(lambda: volumes(TAG_PVC, "gone1"), 20, "a disk for gone1", interval=0.05)
    kubectl("delete", "pvc", "gone1", "--wait=false")
    poll(lambda: api.claim("gone1") is None, 30, "gone1 to go")
    aws_faults(stuck_creating=False)
    aws_admin("POST", "/unstick", {})

    def left():
        pvs = [pv["metadata"]["name"] for pv in api.pvs()
               if (pv["spec"].get("claimRef") or {}).get("name") == "gone1"]
        return [x["VolumeId"] for x in volumes(TAG_PVC, "gone1")], pvs
    poll(lambda: left() == ([], []), 60, "no disk and no PV left for gone1 (%s)" % (left(),))
    check(len(volumes()) == N + 2, "%d disks, want %d" % (len(volumes()), N + 2))
    log("gone1 deleted while its disk was creating: its disk and PV are gone")
    sweep(api, p)


def sweep(api, p):
    """A disk whose claim and PV are both gone goes; nothing else does."""
    base = len(volumes())
    # Forgetting a record once the PV is saved is best effort: under the
    # storm's faults some may be left, for the sweep to forget (below).
    left_by_storm = len(recorded())

    # Retain: the PV deleted by hand, the disk kept, with no record.
    create(ebs_class("keep", {"type": "gp3"}, reclaim="Retain"))
    create(claim("kept", "keep", modes=("ReadWriteOnce",)))
    wait_bound(api, ["kept"], 30)
    kept = one_disk_for(api, "kept")["VolumeId"]
    pv = api.claim("kept")["spec"]["volumeName"]
    poll(lambda: RECORD not in volumes(TAG_PVC, "kept")[0]["Tags"], 30,
         "kept's record forgotten once its PV was saved")
    kubectl("delete", "pvc", "kept", "--wait=false")
    poll(lambda: (api.pv(pv) or {}).get("status", {}).get("phase") == "Released",
         30, "kept's PV Released")
    kubectl("delete", "pv", pv, "--wait=false")
    poll(lambda: api.pv(pv) is None, 30, "kept's PV gone")

    # Another cluster's leftover, record and all.
    foreign = ec2().create_volume(
        AvailabilityZone="us-east-1a", Size=1, VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [
            {"Key": "CSIVolumeName", "Value": "pvc-0f0f0f0f-0000-4000-8000-000000000000"},
            {"Key": TAG_PVC, "Value": "theirs"},
            {"Key": "kubernetes.io/created-for/pvc/namespace", "Value": "default"},
            {"Key": "ebs.csi.aws.com/cluster", "Value": "true"},
            {"Key": "kubernetes.io/cluster/another", "Value": "owned"},
            {"Key": RECORD, "Value": "0f0f0f0f-0000-4000-8000-000000000000"}]}])["VolumeId"]

    # The kill between CreateVolume and the PV, the claim deleted meanwhile.
    aws_faults(stuck_creating=True)
    create(claim("lost1", "storm", modes=("ReadWriteOnce",)))
    poll(lambda: volumes(TAG_PVC, "lost1"), 20, "a disk for lost1", interval=0.05)
    lost = volumes(TAG_PVC, "lost1")[0]
    check(RECORD in lost["Tags"], "lost1's disk carries the record tag: %s" % lost["Tags"])
    p.kill()
    log("SIGKILL with lost1's disk creating")
    kubectl("delete", "pvc", "lost1", "--wait=false")
    poll(lambda: api.claim("lost1") is None, 30, "lost1 to go")
    aws_faults(stuck_creating=False)
    aws_admin("POST", "/unstick", {})
    p.args += ["--sweep-interval", "1s", "--sweep-grace", "2s"]
    p.start()

    def lost_left():
        return [v["VolumeId"] for v in volumes(TAG_PVC, "lost1")]
    poll(lambda: lost_left() == [], 60, "the sweep to remove lost1's disk (%s)" % (lost_left(),))
    # The sweep forgets the records of disks whose PV exists.
    poll(lambda: recorded() == [], 30, "no record tag left on disks with PVs (%s)"
         % (recorded(),))
    # The log line follows the delete (and the record's forget).
    def swept():
        return p.log_text().count(
            'msg="sweep: removed storage whose claim and PV are both gone"')
    poll(lambda: swept() >= 1, 30, "the sweep's log line")
    check(swept() == 1, "the sweep removed %d, want 1" % swept())
    ids = {v["VolumeId"] for v in volumes()}
    check(kept in ids, "the Retain disk %s was kept" % kept)
    check(foreign in ids, "another cluster's disk %s was kept" % foreign)
    check(len(ids) == base + 2, "%d disks, want %d" % (len(ids), base + 2))
    check(not [pv for pv in api.pvs()
               if (pv["spec"].get("claimRef") or {}).get("name") == "lost1"],
          "no PV for lost1")
    log("sweep: lost1's disk removed after the kill; %d disks with PVs (%d records "
        "left by the storm, forgotten by the sweep), the Retain disk and another "
        "cluster's kept" % (base, left_by_storm))


if __name__ == "__main__":
    sys.exit(run(main))
