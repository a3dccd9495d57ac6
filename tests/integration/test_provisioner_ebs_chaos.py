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
    for it.

    test_provisioner_ebs_chaos.py BERTH-PROVISIONER (under bed.py run k8s nfs aws)
"""

import sys

from test_provisioner_ebs_lib import (aws_admin, aws_faults, check_disks, ebs_class,
                                      ebs_provisioner, volumes)
from test_provisioner_lib import (API, check, claim, create, kubectl, log, poll, run,
                                  wait_bound)

N = 100
TAG_PVC = "kubernetes.io/created-for/pvc/name"


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


if __name__ == "__main__":
    sys.exit(run(main))
