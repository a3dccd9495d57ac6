#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner saves nothing once it no longer leads, even when a
backend call was in flight (the AWS emulator keeps the new disk
"creating", so the EBS backend sits polling DescribeVolumes):

  1. SIGTERM with --drain-timeout 0 while the call is blocked: the drain
     ends at once and the replica stops leading; the disk is then made
     available, the backend call returns, and the replica must not save
     the PV (no PV pvc-<uid>, no "provisioned volume" in its log). It
     exits 0 and releases the Lease.
  2. The Lease written to another holder while the call is blocked: the
     replica exits 1 at once; the disk made available afterwards, nothing
     is saved.
  3. A new leader provisions both claims with the disks already made (the
     ClientToken and the tags find them): one disk per claim, PVs as
     created naming their claims.
  4. The PV already saved (by a leader before, say) while the call was in
     flight: the save's 409 AlreadyExists means saved: no
     ProvisioningFailed, the claim Bound and no longer guarded.

    test_provisioner_ebs_inflight.py BERTH-PROVISIONER
        (under bed.py run k8s nfs aws)
"""

import json
import sys
import time

from test_provisioner_ebs_lib import (DRIVER, EBS, aws_admin, aws_faults, check_disks,
                                      ebs_class, ebs_provisioner, volumes)
from test_provisioner_lib import (API, Created, check, check_created_pv, claim, create,
                                  events_for, kubectl, log, phase, poll, run, wait_bound,
                                  wait_unguarded)

LEASE = "berth.io-ebs"


def holder(api):
    return ((api.lease(LEASE) or {}).get("spec") or {}).get("holderIdentity") or ""


def replica(binary, name):
    p = ebs_provisioner(binary, name)
    p.args += ["--leader-election-identity", name, "--drain-timeout", "0s"]
    return p


def blocked_on(name):
    """The claim's disk exists and stays creating: the backend call is in
    flight, polling."""
    return poll(lambda: [v for v in volumes("kubernetes.io/created-for/pvc/name", name)
                         if v["State"] == "creating"], 30,
                "a disk stuck creating for %s" % name)[0]


def nothing_saved(api, p, name):
    c = api.claim(name)
    pv = "pvc-" + c["metadata"]["uid"]
    check(api.pv(pv) is None, "%s saved PV %s after it stopped leading" % (p.name, pv))
    check(phase(c) == "Pending", "%s: %s" % (name, phase(c)))
    check('msg="provisioned volume" claim=default/%s ' % name not in p.log_text(),
          "%s logged %s as provisioned:\n%s" % (p.name, name, p.tail(20)))


def main(binary, procs):
    api = API()
    create(ebs_class("slow", {"type": "gp3", "encrypted": "true"}))
    created = Created(api)
    modes = ("ReadWriteOnce",)
    aws_faults(stuck_creating=True)

    # 1. SIGTERM, drain 0, the backend call blocked.
    a = replica(binary, "replica-a")
    procs.append(a)
    a.start()
    poll(lambda: holder(api) == "replica-a", 20, "replica-a to lead")
    create(claim("one", "slow", modes=modes))
    disk1 = blocked_on("one")
    a.proc.send_signal(15)
    # Logged once the replica has stopped leading (after the drain), with
    # the call still in flight.
    poll(lambda: "drain timed out; work in flight will not be saved" in a.log_text(), 10,
         "replica-a to stop leading")
    check(a.alive(), "replica-a exited with its backend call in flight")
    aws_admin("POST", "/unstick")
    rc = a.wait(30)
    check(rc == 0, "replica-a: SIGTERM exit %s, want 0" % rc)
    nothing_saved(api, a, "one")
    check(holder(api) == "", "replica-a did not release the Lease: %r" % holder(api))
    log("SIGTERM mid-call: the call returned after the drain, nothing saved, exit 0")

    # 2. The Lease lost with the backend call blocked.
    b = replica(binary, "replica-b")
    procs.append(b)
    b.start()
    poll(lambda: holder(api) == "replica-b", 20, "replica-b to lead")
    wait_bound(api, ["one"], 30)
    create(claim("two", "slow", modes=modes))
    disk2 = blocked_on("two")

    def steal():
        lease = api.lease(LEASE)
        lease["spec"]["holderIdentity"] = "intruder"
        lease["spec"]["leaseDurationSeconds"] = 2
        lease["spec"]["renewTime"] = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        return kubectl("replace", "-f", "-", stdin=json.dumps(lease),
                       check_rc=False).returncode == 0
    poll(steal, 10, "the Lease written to another holder")
    rc = b.wait(15)
    check(rc == 1, "replica-b lost its Lease: exit %s, want 1" % rc)
    aws_admin("POST", "/unstick")
    poll(lambda: all(v["State"] == "available" for v in volumes()), 10, "disks available")
    nothing_saved(api, b, "two")
    log("Lease lost mid-call: exit 1, nothing saved")

    # 3. A new leader finishes with the disks already made.
    aws_faults(stuck_creating=False)
    c = replica(binary, "replica-c")
    procs.append(c)
    c.start()
    wait_bound(api, ["two"], 30)
    disks = {v["VolumeId"] for v in volumes()}
    check(disks == {disk1["VolumeId"], disk2["VolumeId"]},
          "disks %s, want the two made before" % sorted(disks))
    for name in ("one", "two"):
        cl = api.claim(name)
        check_created_pv(created, "pvc-" + cl["metadata"]["uid"], cl)
    check(check_disks(api) == 2, "the class's parameters on both disks")
    check(EBS in api.pv("pvc-" + api.claim("two")["metadata"]["uid"])["metadata"]
          ["annotations"].get("pv.kubernetes.io/provisioned-by", ""), "provisioned-by")
    log("replica-c provisioned both with the disks made before: %s" % sorted(disks))

    # 4. The PV is there before the save: 409 is success.
    aws_faults(stuck_creating=True)
    create(claim("three", "slow", modes=modes))
    disk3 = blocked_on("three")
    c3 = api.claim("three")
    pv3 = "pvc-" + c3["metadata"]["uid"]
    create({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": pv3,
                         "annotations": {"pv.kubernetes.io/provisioned-by": EBS}},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": list(modes),
                     "persistentVolumeReclaimPolicy": "Delete",
                     "storageClassName": "slow",
                     "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default",
                                  "name": "three", "uid": c3["metadata"]["uid"]},
                     "csi": {"driver": DRIVER, "volumeHandle": disk3["VolumeId"],
                             "fsType": "ext4"}}})
    aws_admin("POST", "/unstick")
    poll(lambda: 'msg="provisioned volume" claim=default/three ' in c.log_text() or
         events_for(api, "three", "ProvisioningFailed"), 30,
         "replica-c to save three's PV")
    failed = events_for(api, "three", "ProvisioningFailed")
    check(not failed, "a 409 on the PV create taken as a failure: %s"
          % [e.get("message") for e in failed])
    wait_bound(api, ["three"], 30)
    wait_unguarded(api)
    log("PV saved before the call returned: the 409 taken as saved, claim Bound")


if __name__ == "__main__":
    sys.exit(run(main))
