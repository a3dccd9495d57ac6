#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner's EFS backend end to end, through kubectl, against the
AWS emulator and the bed's ganesha:

  - efs-ap: claims -> Bound to csi PVs (efs.csi.aws.com, fs-...::fsap-...);
    one access point per claim in the emulator, with the claim's tags, a
    distinct POSIX gid from gidRangeStart..gidRangeEnd, and a root
    directory from basePath and subPathPattern; a claim beyond the gid
    range -> ProvisioningFailed; claims deleted -> access points deleted;
  - efs-dir against ganesha (the class's url): a claim -> Bound to a plain
    nfs PV, its directory made under basePath on the export; deleted ->
    the directory goes;
  - bad classes (no provisioningMode, a '..' basePath) -> ProvisioningFailed.

    test_provisioner_efs.py BERTH-PROVISIONER   (under bed.py run k8s nfs aws)
"""

import sys

from test_provisioner_ebs_lib import aws_state
from test_provisioner_lib import (API, Provisioner, check, claim, create,
                                  events_for, kubectl, listing, log, phase,
                                  poll, run, storage_class, v4_url, wait_bound)

EFS = "berth.io/efs"
FS = "fs-0123456789abcdef0"


def efs_class(name, params):
    return storage_class(name, params, provisioner=EFS)


def aps():
    return aws_state()["access_points"]


def failed(api, name, word):
    return [e for e in events_for(api, name, "ProvisioningFailed")
            if word in e.get("message", "")]


def main(binary, procs):
    api = API()
    create(efs_class("ap", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                            "directoryPerms": "700", "gidRangeStart": "1000",
                            "gidRangeEnd": "1001", "basePath": "/dynamic",
                            "subPathPattern": "${.PVC.namespace}/${.PVC.name}",
                            "ensureUniqueDirectory": "false"}),
           efs_class("dir", {"provisioningMode": "efs-dir", "url": v4_url(),
                             "basePath": "efs",
                             "subPathPattern": "${.PVC.namespace}-${.PVC.name}"}),
           efs_class("nomode", {"fileSystemId": FS}),
           efs_class("escape", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                "directoryPerms": "700", "basePath": "/a/../.."}))
    p = Provisioner(binary, "p", ["--provisioner", EFS + "=efs"] + Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    create(claim("a1", "ap"), claim("a2", "ap"), claim("w", "dir"),
           claim("bad1", "nomode"), claim("bad2", "escape"))

    wait_bound(api, ["a1", "a2"], 30)
    seen = {}
    for n in ("a1", "a2"):
        pv = api.pv(api.claim(n)["spec"]["volumeName"])
        csi = pv["spec"]["csi"]
        check(csi["driver"] == "efs.csi.aws.com", "driver: %s" % csi)
        fs, _, ap_id = csi["volumeHandle"].partition("::")
        check(fs == FS and ap_id.startswith("fsap-"), "handle %s" % csi["volumeHandle"])
        ap = [a for a in aps() if a["AccessPointId"] == ap_id]
        check(len(ap) == 1, "%s: access point %s in the emulator" % (n, ap_id))
        ap = ap[0]
        tags = {t["Key"]: t["Value"] for t in ap["Tags"]}
        check(tags.get("kubernetes.io/created-for/pvc/name") == n and
              tags.get("CSIVolumeName") == pv["metadata"]["name"], "tags %s" % tags)
        check(ap["RootDirectory"]["Path"] == "/dynamic/default/%s" % n,
              "root %s" % ap["RootDirectory"])
        check(ap["RootDirectory"]["CreationInfo"]["Permissions"] in ("700", "0700"),
              "perms %s" % ap["RootDirectory"])
        check(ap["ClientToken"] == pv["metadata"]["name"], "token")
        seen[n] = ap["PosixUser"]["Gid"]
    check(sorted(seen.values()) == [1000, 1001], "gids %s" % seen)
    log("efs-ap: a1, a2 Bound, access points with gids %s" % seen)

    # The range is full now.
    create(claim("a3", "ap"))
    e = poll(lambda: failed(api, "a3", "gid"), 30, "ProvisioningFailed on a3 (gids)")
    check(phase(api.claim("a3")) == "Pending", "a3 Pending")
    log("gid range full: %s" % e[0]["message"])

    e = poll(lambda: failed(api, "bad1", "provisioningMode"), 30, "bad1 refused")
    log("no provisioningMode: %s" % e[0]["message"])
    e = poll(lambda: failed(api, "bad2", "basePath"), 30, "bad2 refused")
    log("escaping basePath: %s" % e[0]["message"])

    wait_bound(api, ["w"], 30)
    pv = api.pv(api.claim("w")["spec"]["volumeName"])
    check("nfs" in pv["spec"] and "csi" not in pv["spec"], "efs-dir PV: %s" % pv["spec"])
    check("efs/default-w" in listing(), "export: %s" % listing())
    log("efs-dir: w Bound to nfs %s:%s" % (pv["spec"]["nfs"]["server"],
                                          pv["spec"]["nfs"]["path"]))

    # Deleting a1 frees its gid: a3 gets it.
    kubectl("delete", "pvc", "a1", "w", "--wait=false")
    wait_bound(api, ["a3"], 40)
    log("a1 deleted: a3 Bound")
    poll(lambda: "efs/default-w" not in listing(), 30, "w's directory removed")
    kubectl("delete", "pvc", "a2", "a3", "bad1", "bad2", "--wait=false")
    poll(lambda: not aps(), 30, "every access point deleted (%s)" %
         [a["AccessPointId"] for a in aps()], interval=0.2)
    poll(lambda: not [x for x in api.pvs()], 30, "every PV deleted")
    log("claims deleted: access points, directories and PVs gone")


if __name__ == "__main__":
    sys.exit(run(main))
