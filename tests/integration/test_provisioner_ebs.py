#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner's EBS backend end to end, through kubectl, against the
AWS emulator:

  - a gp3 class with iops, throughput, tagSpecification_N templates and
    fsType under WaitForFirstConsumer: a pod on a node in us-east-1b ->
    Bound; the PV is a csi volume (ebs.csi.aws.com, vol-..., xfs) with a
    nodeAffinity for us-east-1b; the disk in the emulator has that zone,
    type, IOPS, throughput, size and the claim's tags;
  - an Immediate gp2 claim -> Bound in one of the nodes' zones (stable
    per claim name: us-east-1a for "imm");
  - encrypted classes (a KMS key named, and EC2's default key) and an io1
    class with iopsPerGB raised to the type's minimum;
  - every parameter of every class checked on the disk the emulator made
    (test_provisioner_ebs_lib.check_disk: an oracle of its own), so that a
    parameter parsed but not passed to CreateVolume fails;
  - an unknown parameter -> a ProvisioningFailed Event naming it, no disk;
  - claims deleted -> PVs and disks deleted.

    test_provisioner_ebs.py BERTH-PROVISIONER   (under bed.py run k8s nfs aws)
"""

import sys

from test_provisioner_ebs_lib import (DRIVER, aws_state, check_disk, check_disks,
                                      ebs_class, ebs_provisioner, node, pod, volumes)
from test_provisioner_lib import (API, check, claim, create, delete_pods, events_for,
                                  kubectl, log, phase, poll, run, wait_bound)

GIB = 1024 ** 3
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def main(binary, procs):
    api = API()
    node("node-a", "us-east-1a")
    node("node-b", "us-east-1b")
    create(ebs_class("fast", {"type": "gp3", "iops": "4000", "throughput": "250",
                              "tagSpecification_1": "team=storage",
                              "tagSpecification_2":
                                  "claim={{ .PVCNamespace }}/{{ .PVCName }}",
                              "tagSpecification_3": "pv={{.PVName}}",
                              "csi.storage.k8s.io/fstype": "xfs",
                              "encrypted": "true", "kmsKeyId": KMS_KEY},
                     binding="WaitForFirstConsumer"),
           ebs_class("plain", {"type": "gp2"}),
           ebs_class("secret", {"encrypted": "true", "csi.storage.k8s.io/fstype": "ext3"}),
           ebs_class("perf", {"type": "io1", "iopsPerGB": "10",
                              "allowAutoIOPSPerGBIncrease": "true",
                              "tagSpecification_1": "owner={{ .PVCNamespace }}"}),
           ebs_class("bad", {"type": "gp3", "colour": "blue"}))
    p = ebs_provisioner(binary)
    procs.append(p)
    p.start()
    modes = ("ReadWriteOnce",)
    create(claim("data", "fast", size="10Gi", modes=modes),
           claim("imm", "plain", size="1500Mi", modes=modes),
           claim("bad1", "bad", modes=modes),
           claim("enc", "secret", size="3Gi", modes=modes),
           claim("io", "perf", size="4Gi", modes=modes))

    # Immediate: Bound in a node's zone (the claim name picks it: a), size
    # rounded up to whole GiB.
    wait_bound(api, ["imm"], 30)
    pv = api.pv(api.claim("imm")["spec"]["volumeName"])
    vid = pv["spec"]["csi"]["volumeHandle"]
    v = [x for x in volumes() if x["VolumeId"] == vid]
    check(len(v) == 1, "imm: disk %s in the emulator" % vid)
    check(v[0]["AvailabilityZone"] == "us-east-1a" and v[0]["VolumeType"] == "gp2"
          and v[0]["Size"] == 2, "imm disk: %s" % v[0])
    check(pv["spec"]["capacity"]["storage"] in ("2Gi", str(2 * GIB)),
          "imm capacity: %s" % pv["spec"]["capacity"])
    log("Immediate gp2 claim Bound: %s in %s" % (vid, v[0]["AvailabilityZone"]))
    wait_bound(api, ["enc", "io"], 30)
    enc = check_disk(api.pv(api.claim("enc")["spec"]["volumeName"]),
                     api.get("/apis/storage.k8s.io/v1/storageclasses/secret"), api.claim("enc"))
    check(enc["Encrypted"] and enc["KmsKeyId"], "enc: not encrypted: %s" % enc)
    io = check_disk(api.pv(api.claim("io")["spec"]["volumeName"]),
                    api.get("/apis/storage.k8s.io/v1/storageclasses/perf"), api.claim("io"))
    check(io["Iops"] == 100 and io["VolumeType"] == "io1", "io: %s" % io)
    log("encrypted (EC2's default key) and io1 (iopsPerGB raised to 100) disks as classed")

    e = poll(lambda: [x for x in events_for(api, "bad1", "ProvisioningFailed")
                      if "colour" in x.get("message", "")], 30,
             "ProvisioningFailed naming 'colour' on bad1")
    log("unknown parameter refused: %s" % e[0]["message"])
    check(not volumes("kubernetes.io/created-for/pvc/name", "bad1"),
          "no disk for bad1")

    # WaitForFirstConsumer: nothing until a pod lands on node-b.
    check(phase(api.claim("data")) == "Pending" and
          not volumes("kubernetes.io/created-for/pvc/name", "data"),
          "data provisioned before a consumer")
    create(pod("use-data", "node-b", "data"))
    wait_bound(api, ["data"], 30)
    pv_name = api.claim("data")["spec"]["volumeName"]
    pv = api.pv(pv_name)
    csi = pv["spec"]["csi"]
    check(csi["driver"] == DRIVER and csi["volumeHandle"].startswith("vol-") and
          csi["fsType"] == "xfs", "PV csi source: %s" % csi)
    aff = str(pv["spec"].get("nodeAffinity"))
    check("us-east-1b" in aff and "topology.ebs.csi.aws.com/zone" in aff,
          "nodeAffinity: %s" % aff)
    check(pv["metadata"]["annotations"].get("pv.kubernetes.io/provisioned-by") ==
          "berth.io/ebs", "provisioned-by")
    v = volumes("CSIVolumeName", pv_name)
    check(len(v) == 1, "one disk tagged for %s: %s" % (pv_name, v))
    v = v[0]
    check(v["VolumeId"] == csi["volumeHandle"], "volume id")
    check(v["AvailabilityZone"] == "us-east-1b", "zone %s" % v["AvailabilityZone"])
    check(v["VolumeType"] == "gp3" and v["Iops"] == 4000 and
          v["Throughput"] == 250 and v["Size"] == 10, "disk: %s" % v)
    want = {"CSIVolumeName": pv_name,
            "kubernetes.io/created-for/pvc/name": "data",
            "kubernetes.io/created-for/pvc/namespace": "default",
            "kubernetes.io/created-for/pv/name": pv_name,
            "ebs.csi.aws.com/cluster": "true",
            "kubernetes.io/cluster/bed": "owned",
            "team": "storage", "claim": "default/data", "pv": pv_name}
    for k, val in want.items():
        check(v["Tags"].get(k) == val, "tag %s=%r, want %r" % (k, v["Tags"].get(k), val))
    check(v["Encrypted"] and v["KmsKeyId"] == KMS_KEY, "data: encryption %s %s"
          % (v["Encrypted"], v["KmsKeyId"]))
    log("gp3 claim Bound: %s in us-east-1b with %d tags" % (v["VolumeId"], len(v["Tags"])))
    n = check_disks(api)
    check(n == 4, "the oracle checked %d disks, want 4 (data, imm, enc, io)" % n)
    log("every parameter of every class found on its %d disks" % n)

    # Deletion: the PVs and the disks go.
    ids = [v["VolumeId"], vid, enc["VolumeId"], io["VolumeId"]]
    delete_pods("use-data")
    kubectl("delete", "pvc", "data", "imm", "bad1", "enc", "io", "--wait=false")

    def gone():
        st = aws_state()
        live = {x["VolumeId"] for x in st["volumes"]}
        return not (set(ids) & live) and not [x for x in api.pvs()
                                               if x["metadata"]["name"] == pv_name]
    poll(gone, 40, "the disks %s and the PVs deleted" % ids, interval=0.2)
    check(set(ids) <= set(aws_state()["deleted_volumes"]), "deleted_volumes")
    check(not volumes(), "no data volume left: %s" % volumes())
    log("claims deleted: disks %s deleted" % ids)


if __name__ == "__main__":
    sys.exit(run(main))
