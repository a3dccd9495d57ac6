#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner as a drop-in for aws-ebs-csi-driver, aws-efs-csi-driver
and nfs-subdir-external-provisioner: no silent wrong volume, every accepted
parameter has its effect, checked at the AWS emulator (the CreateVolume it
received and stored) or on the PV:

  - every EBS parameter key written lower-case, Upper-first and MiXeD (the
    driver lower-cases keys) with a non-default value: the disk or the PV
    shows it;
  - claims with a dataSource / dataSourceRef: ProvisioningFailed naming it
    (nfs, efs: no data source; ebs: a VolumeSnapshot that does not exist),
    nothing made; an NFS clone of an unbound claim refused;
  - volumeMode Block: refused on nfs and efs, Bound on ebs (no fsType);
  - ReadWriteMany on ebs: refused for a file system (InvalidArgument),
    Multi-Attach io2 disk for Block;
  - Immediate binding: allowedTopologies' zone, else the nodes' zones
    spread by claim name (a StatefulSet's claims in distinct zones);
  - WaitForFirstConsumer with a zone out of capacity: the selected node is
    removed from the claim (reschedule); another node: Bound there;
  - unknown parameters: the Event names the key and the tool it belongs to;
  - --extra-tags on every disk; EFS reuseAccessPoint and the default
    directories of efs-ap and efs-dir (/<PV name>).

    test_provisioner_dropin.py BERTH-PROVISIONER   (under bed.py run k8s nfs aws)
"""

import hashlib
import sys

from test_provisioner_ebs_lib import (EBS, aws_faults, aws_state, ebs_class,
                                      node, volumes)
from test_provisioner_lib import (API, Provisioner, check, claim, create,
                                  env, events_for, export_dir, kubectl,
                                  listing, log, phase, poll, run,
                                  storage_class, v4_url, wait_bound)

EFS = "berth.io/efs"
NFS = "berth.io/nfs"
FS = "fs-0123456789abcdef0"
OUTPOST = "arn:aws:outposts:us-east-1:123456789012:outpost/op-0123456789abcdef0"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SEL = "volume.kubernetes.io/selected-node"
RWO = ("ReadWriteOnce",)


def spellings(key):
    """lower, Upper-first, MiXeD."""
    mixed = "".join(c.upper() if i % 2 == 0 else c.lower()
                    for i, c in enumerate(key))
    return [("lower", key.lower()), ("upper", key[0].upper() + key[1:]),
            ("mixed", mixed)]


def attrs(pv):
    return pv["spec"]["csi"].get("volumeAttributes") or {}


# Each EBS key: a non-default value, parameters it needs beside it (always
# lower-case, so that the spelled key is the one under test), and what the
# disk (v: the emulator's view) or the PV must then show.
EBS_KEYS = [
    ("type", "io2", {"iops": "1000"}, lambda v, pv: v["VolumeType"] == "io2"),
    ("iops", "5000", {}, lambda v, pv: v["Iops"] == 5000),
    ("iopsPerGB", "400", {}, lambda v, pv: v["Iops"] == 4000),
    ("allowAutoIOPSPerGBIncrease", "true", {"iopspergb": "100"},
     lambda v, pv: v["Iops"] == 3000),
    ("allowAutoIOPSIncreaseOnModify", "true", {"iopspergb": "400"},
     lambda v, pv: v["Tags"].get("ebs.csi.aws.com/AllowAutoIOPSIncreaseOnModify")
     == "true" and v["Tags"].get("ebs.csi.aws.com/IOPSPerGb") == "400"),
    ("throughput", "300", {}, lambda v, pv: v["Throughput"] == 300),
    ("encrypted", "true", {}, lambda v, pv: v["Encrypted"] is True),
    ("kmsKeyId", KMS, {}, lambda v, pv: v["Encrypted"] is True and v["KmsKeyId"] == KMS),
    ("fsType", "xfs", {}, lambda v, pv: pv["spec"]["csi"]["fsType"] == "xfs"),
    ("blockSize", "2048", {}, lambda v, pv: attrs(pv).get("blocksize") == "2048"),
    ("inodeSize", "512", {}, lambda v, pv: attrs(pv).get("inodesize") == "512"),
    ("bytesPerInode", "8192", {}, lambda v, pv: attrs(pv).get("bytesperinode") == "8192"),
    ("numberOfInodes", "4096", {}, lambda v, pv: attrs(pv).get("numberofinodes") == "4096"),
    ("ext4BigAlloc", "true", {}, lambda v, pv: attrs(pv).get("ext4bigalloc") == "true"),
    ("ext4ClusterSize", "16384", {"ext4bigalloc": "true"},
     lambda v, pv: attrs(pv).get("ext4clustersize") == "16384"),
    ("ext4EncryptionSupport", "true", {},
     lambda v, pv: attrs(pv).get("ext4encryptionsupport") == "true"),
    ("outpostArn", OUTPOST, {}, lambda v, pv: v.get("OutpostArn") == OUTPOST),
    # Checked values, no effect on a volume without a snapshot (berth
    # refuses data sources), as upstream: the claim is Bound.
    ("volumeInitializationRate", "200", {}, lambda v, pv: True),
    ("blockAttachUntilInitialized", "true", {}, lambda v, pv: True),
    ("blockExpress", "true", {"type": "io2", "iops": "1000"},
     lambda v, pv: v["VolumeType"] == "io2"),
]


def failed_with(api, name, *words):
    return [e for e in events_for(api, name, "ProvisioningFailed")
            if all(w in e.get("message", "") for w in words)]


def wait_failed(api, name, *words):
    e = poll(lambda: failed_with(api, name, *words), 30,
             "ProvisioningFailed on %s naming %s" % (name, words))
    return e[0]["message"]


def disk_of(api, name):
    pv = api.pv(api.claim(name)["spec"]["volumeName"])
    vid = pv["spec"]["csi"]["volumeHandle"]
    v = [x for x in volumes() if x["VolumeId"] == vid]
    check(len(v) == 1, "%s: disk %s in the emulator" % (name, vid))
    return v[0], pv


def block_claim(name, cls, modes=RWO, size="4Gi"):
    c = claim(name, cls, size=size, modes=modes)
    c["spec"]["volumeMode"] = "Block"
    return c


def check_key_matrix(api):
    classes, claims, want = [], [], {}
    for key, value, extra, _ in EBS_KEYS:
        for tag, spelled in spellings(key):
            name = ("k-%s-%s" % (key, tag)).lower()
            params = dict(extra)
            params[spelled] = value
            classes.append(ebs_class(name, params))
            claims.append(claim(name, name, size="10Gi", modes=RWO))
            want[name] = key
    create(*classes)
    create(*claims)
    wait_bound(api, list(want), 90)
    checks = {k: f for k, _, _, f in EBS_KEYS}
    for name, key in sorted(want.items()):
        v, pv = disk_of(api, name)
        check(checks[key](v, pv), "%s: key %s has no effect: disk %s, PV csi %s" %
              (name, key, v, pv["spec"]["csi"]))
    log("%d EBS keys x 3 spellings: every disk or PV shows its key" % len(EBS_KEYS))


def check_data_sources(api):
    snap = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
            "name": "snap-1"}
    cs = []
    for name, cls in (("ds-ebs", "plain"), ("ds-nfs", "nfs"), ("ds-efs", "ap")):
        c = claim(name, cls, modes=RWO)
        c["spec"]["dataSource"] = dict(snap)
        cs.append(c)
    c = claim("dsr-ebs", "plain", modes=RWO)
    c["spec"]["dataSourceRef"] = dict(snap)
    cs.append(c)
    c = claim("clone-nfs", "nfs", modes=RWO)
    c["spec"]["dataSource"] = {"kind": "PersistentVolumeClaim", "name": "ds-nfs"}
    cs.append(c)
    create(*cs)
    # clone-nfs names a claim: NFS clones claims, and refuses this one
    # while its source is not Bound (test_provisioner_clone).
    for name, words in (("ds-ebs", ("spec.dataSource",)),
                        ("ds-nfs", ("spec.dataSource",)),
                        ("ds-efs", ("spec.dataSource",)),
                        ("dsr-ebs", ("spec.dataSourceRef",)),
                        ("clone-nfs", ("ds-nfs", "must have a status of Bound"))):
        msg = wait_failed(api, name, *words)
        check(phase(api.claim(name)) == "Pending", "%s not Bound" % name)
        check(not volumes("kubernetes.io/created-for/pvc/name", name),
              "%s: no disk" % name)
        log("%s refused: %s" % (name, msg))
    check(not [x for x in aws_state()["access_points"]
               if x.get("Tags") and {t["Key"]: t["Value"] for t in x["Tags"]}
               .get("kubernetes.io/created-for/pvc/name") == "ds-efs"],
          "ds-efs: no access point")


def check_block_and_modes(api):
    create(block_claim("blk-nfs", "nfs"), block_claim("blk-efs", "ap"),
           block_claim("blk-ebs", "plain"),
           claim("rwx-ebs", "plain", modes=("ReadWriteMany",)),
           claim("rox-ebs", "plain", modes=("ReadOnlyMany",)),
           block_claim("rwx-gp3", "plain", modes=("ReadWriteMany",)),
           block_claim("rwx-io2", "multi", modes=("ReadWriteMany",)),
           block_claim("blk-fmt", "fmt"))
    wait_failed(api, "blk-nfs", "volumeMode Block")
    wait_failed(api, "blk-efs", "volumeMode Block")
    wait_failed(api, "rwx-ebs", "InvalidArgument", "ReadWriteMany")
    wait_failed(api, "rox-ebs", "InvalidArgument", "ReadOnlyMany")
    wait_failed(api, "rwx-gp3", "io1 or io2")
    wait_failed(api, "blk-fmt", "blockSize", "Block")
    wait_bound(api, ["blk-ebs", "rwx-io2"], 30)
    v, pv = disk_of(api, "blk-ebs")
    check(pv["spec"]["volumeMode"] == "Block" and "fsType" not in pv["spec"]["csi"],
          "Block PV: %s" % pv["spec"])
    check(not v["MultiAttachEnabled"], "RWO Block: no Multi-Attach")
    v, pv = disk_of(api, "rwx-io2")
    check(v["MultiAttachEnabled"] is True and v["VolumeType"] == "io2",
          "RWX Block io2: Multi-Attach: %s" % v)
    for name in ("blk-nfs", "blk-efs", "rwx-ebs", "rox-ebs", "rwx-gp3", "blk-fmt"):
        check(phase(api.claim(name)) == "Pending", "%s not Bound" % name)
        check(not volumes("kubernetes.io/created-for/pvc/name", name),
              "%s: no disk" % name)
    log("Block refused on nfs/efs, Bound on ebs; RWX fs refused, RWX Block io2 "
        "Multi-Attach")


def check_topology(api):
    create(claim("topo-c", "only-c", modes=RWO),
           claim("data-db-0", "plain", modes=RWO),
           claim("data-db-1", "plain", modes=RWO),
           claim("data-db-2", "plain", modes=RWO))
    wait_bound(api, ["topo-c", "data-db-0", "data-db-1", "data-db-2"], 30)
    v, pv = disk_of(api, "topo-c")
    check(v["AvailabilityZone"] == "us-east-1c", "allowedTopologies zone: %s" %
          v["AvailabilityZone"])
    check("us-east-1c" in str(pv["spec"]["nodeAffinity"]), "nodeAffinity")
    zones = {disk_of(api, "data-db-%d" % i)[0]["AvailabilityZone"] for i in range(3)}
    check(zones == {"us-east-1a", "us-east-1b", "us-east-1c"},
          "a StatefulSet's claims spread over the nodes' zones: %s" % zones)
    log("Immediate: allowedTopologies -> us-east-1c; no topology -> %s" % sorted(zones))


def check_reschedule(api):
    aws_faults(zone_errors={"us-east-1b": "InsufficientVolumeCapacity"})
    create(claim("rs", "wffc", modes=RWO))
    kubectl("annotate", "pvc", "rs", SEL + "=node-b")
    msg = wait_failed(api, "rs", "InsufficientVolumeCapacity")
    poll(lambda: SEL not in (api.claim("rs")["metadata"].get("annotations") or {}),
         30, "the selected node removed from rs")
    check(not volumes("kubernetes.io/created-for/pvc/name", "rs"), "rs: no disk")
    log("zone b out of capacity: %s; selected-node removed" % msg)
    kubectl("annotate", "pvc", "rs", SEL + "=node-c")
    wait_bound(api, ["rs"], 30)
    v, _ = disk_of(api, "rs")
    check(v["AvailabilityZone"] == "us-east-1c", "rs in %s" % v["AvailabilityZone"])
    aws_faults(zone_errors={})
    log("the scheduler's next choice (node-c): Bound in us-east-1c")


def check_foreign_keys(api):
    create(claim("fk-nfs", "nfs-with-ebs-key", modes=RWO),
           claim("fk-ebs", "ebs-with-nfs-key", modes=RWO),
           claim("fk-az", "efs-az", modes=RWO),
           claim("fk-case", "efs-case", modes=RWO),
           claim("fk-secret", "ebs-secret", modes=RWO),
           claim("fk-zone", "ebs-zone", modes=RWO))
    for name, words in (("fk-nfs", ('"type"', "aws-ebs-csi-driver")),
                        ("fk-ebs", ('"archiveOnDelete"', "nfs-subdir-external-provisioner")),
                        ("fk-az", ('"az"', "cross-account")),
                        ("fk-case", ('"DirectoryPerms"', "case-sensitive", "directoryPerms")),
                        ("fk-secret", ("provisioner-secret-name", "secret")),
                        ("fk-zone", ('"zone"', "allowedTopologies"))):
        log("%s: %s" % (name, wait_failed(api, name, *words)))


def check_efs(api):
    create(claim("reuse", "reuse", modes=RWO), claim("apdef", "ap", modes=RWO),
           claim("dirdef", "dir", modes=RWO))
    wait_bound(api, ["reuse", "apdef", "dirdef"], 30)
    aps = aws_state()["access_points"]
    pv = api.pv(api.claim("reuse")["spec"]["volumeName"])
    ap_id = pv["spec"]["csi"]["volumeHandle"].partition("::")[2]
    ap = [a for a in aps if a["AccessPointId"] == ap_id][0]
    check(ap["ClientToken"] == hashlib.sha256(b"reuse").hexdigest(),
          "reuseAccessPoint: ClientToken from the claim's name: %s" % ap["ClientToken"])
    pv = api.pv(api.claim("apdef")["spec"]["volumeName"])
    ap_id = pv["spec"]["csi"]["volumeHandle"].partition("::")[2]
    ap = [a for a in aps if a["AccessPointId"] == ap_id][0]
    check(ap["RootDirectory"]["Path"] == "/" + pv["metadata"]["name"],
          "efs-ap default directory /<PV name>: %s" % ap["RootDirectory"])
    pv = api.pv(api.claim("dirdef")["spec"]["volumeName"])
    name = pv["metadata"]["name"]
    check(pv["spec"]["nfs"]["path"].endswith("/efsroot/" + name),
          "efs-dir default directory <basePath>/<PV name>: %s" % pv["spec"]["nfs"])
    check("efsroot/" + name in listing(export_dir()), "efs-dir directory on the export")
    log("EFS: reuseAccessPoint token, /<PV name> defaults for efs-ap and efs-dir")


def main(binary, procs):
    api = API()
    topo_c = [{"matchLabelExpressions": [{"key": "topology.ebs.csi.aws.com/zone",
                                          "values": ["us-east-1c"]}]}]
    nfs_url = env("BERTH_NFS_URL")
    for name, zone in (("node-a", "us-east-1a"), ("node-b", "us-east-1b"),
                       ("node-c", "us-east-1c")):
        node(name, zone)
    create(ebs_class("plain", {}),
           ebs_class("multi", {"type": "io2", "iops": "2000"}),
           ebs_class("fmt", {"blockSize": "4096"}),
           ebs_class("only-c", {}, allowedTopologies=topo_c),
           ebs_class("wffc", {}, binding="WaitForFirstConsumer"),
           ebs_class("ebs-with-nfs-key", {"archiveOnDelete": "false"}),
           ebs_class("ebs-secret", {"csi.storage.k8s.io/provisioner-secret-name": "x"}),
           ebs_class("ebs-zone", {"zone": "us-east-1a"}),
           storage_class("nfs", {"url": nfs_url}, provisioner=NFS),
           storage_class("nfs-with-ebs-key", {"url": nfs_url, "type": "gp3"},
                         provisioner=NFS),
           storage_class("ap", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                "directoryPerms": "700"}, provisioner=EFS),
           storage_class("reuse", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                   "directoryPerms": "700", "reuseAccessPoint": "true"},
                         provisioner=EFS),
           storage_class("dir", {"provisioningMode": "efs-dir", "url": v4_url(),
                                 "basePath": "efsroot"}, provisioner=EFS),
           storage_class("efs-az", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                    "directoryPerms": "700", "az": "us-east-1a"},
                         provisioner=EFS),
           storage_class("efs-case", {"provisioningMode": "efs-ap", "fileSystemId": FS,
                                      "DirectoryPerms": "700"}, provisioner=EFS))
    p = Provisioner(binary, "p",
                    ["--provisioner", EBS + "=ebs", "--provisioner", EFS + "=efs",
                     "--provisioner", NFS + "=nfs",
                     "--extra-tags", "team=db,cost-centre=42"] + Provisioner.FAST_LEASE,
                    environ={"BERTH_CLUSTER_ID": "bed"})
    procs.append(p)
    p.start()

    check_key_matrix(api)
    v, _ = disk_of(api, "k-type-lower")
    check(v["Tags"].get("team") == "db" and v["Tags"].get("cost-centre") == "42",
          "--extra-tags on the disk: %s" % v["Tags"])
    check(v["Tags"].get("KubernetesCluster") == "bed" and
          v["Tags"].get("Name", "").startswith("bed-dynamic-pvc-"),
          "cluster tags as the driver's: %s" % v["Tags"])
    log("--extra-tags and the cluster's tags on every disk")
    check_data_sources(api)
    check_block_and_modes(api)
    check_topology(api)
    check_reschedule(api)
    check_foreign_keys(api)
    check_efs(api)


if __name__ == "__main__":
    sys.exit(run(main))
