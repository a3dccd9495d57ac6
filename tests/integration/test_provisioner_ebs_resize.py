#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner's EBS resizer (as external-resizer), through kubectl:
a Bound gp3 claim in a class with allowVolumeExpansion grown from 2Gi to
5Gi -> ModifyVolume in the emulator (the disk is 5 GiB), the PV's
capacity 5Gi, the claim's condition FileSystemResizePending with
status.allocatedResources 5Gi and allocatedResourceStatuses
NodeResizePending (what kubelet waits for), and a FileSystemResizeRequired
Event; growing it again works the same way. The request goes through the
real kube-apiserver's resize admission and the real expand controller,
which leaves CSI volumes to the external resizer (its ExternalExpanding
Event) - berth.

    test_provisioner_ebs_resize.py BERTH-PROVISIONER (under bed.py run k8s nfs aws)
"""

import json
import sys

from test_provisioner_ebs_lib import check_disks, ebs_class, ebs_provisioner, volumes
from test_provisioner_lib import (API, check, claim, create, events_for, kubectl, log,
                                  poll, run, wait_bound)


def grow(name, size):
    kubectl("patch", "pvc", name, "--type=merge", "-p",
            json.dumps({"spec": {"resources": {"requests": {"storage": size}}}}))


def resized(api, name, gib):
    pvn = api.claim(name)["spec"]["volumeName"]
    pv = api.pv(pvn)
    disk = [v for v in volumes() if v["VolumeId"] == pv["spec"]["csi"]["volumeHandle"]]
    st = api.claim(name).get("status", {})
    conds = [c["type"] for c in st.get("conditions") or []]
    return disk and disk[0]["Size"] == gib and \
        pv["spec"]["capacity"]["storage"] == "%dGi" % gib and \
        "FileSystemResizePending" in conds and \
        (st.get("allocatedResources") or {}).get("storage") == "%dGi" % gib and \
        (st.get("allocatedResourceStatuses") or {}).get("storage") == "NodeResizePending"


def main(binary, procs):
    api = API()
    create(ebs_class("grow", {"type": "gp3"}, allowVolumeExpansion=True))
    p = ebs_provisioner(binary)
    procs.append(p)
    p.start()
    create(claim("data", "grow", size="2Gi", modes=("ReadWriteOnce",)))
    wait_bound(api, ["data"], 30)
    check(check_disks(api) == 1, "the class's parameters on the disk")
    log("Bound at 2Gi")
    grow("data", "5Gi")
    e = poll(lambda: [x for x in events_for(api, "data", "ExternalExpanding")
                      if x.get("source", {}).get("component") == "volume_expand"], 30,
             "the expand controller's ExternalExpanding Event")
    log("kube-controller-manager's expand controller: %s" % e[0]["message"])
    poll(lambda: resized(api, "data", 5), 30,
         "disk, PV and claim at 5Gi with FileSystemResizePending", interval=0.1)
    poll(lambda: events_for(api, "data", "FileSystemResizeRequired"), 20,
         "a FileSystemResizeRequired Event")
    log("grown to 5Gi: disk, PV capacity, FileSystemResizePending")
    grow("data", "7Gi")
    poll(lambda: resized(api, "data", 7), 30, "everything at 7Gi", interval=0.1)
    log("grown again to 7Gi")


if __name__ == "__main__":
    sys.exit(run(main))
