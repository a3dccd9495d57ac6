#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Migration: the volumes the old tools made are adopted and reclaimed.

Each tool's own example class (written from its docs: nfs-subdir's
nfs-client with archiveOnDelete "false", aws-ebs-csi-driver's ebs-sc
(WaitForFirstConsumer), aws-efs-csi-driver's efs-sc (efs-ap)) serves
claims while the old tool runs: their PVs and storage are written exactly
as each tool writes them (test_migrate_lib.py). Then each class's
provisioner: line is switched to berth (the class deleted and made again,
as StorageClasses are immutable):

  1. berth without --adopt-provisioner: a deleted old claim's PV stays
     Released and its directory stays (the leak the flag is for), while
     berth serves new claims of the same class;
  2. berth with --adopt-provisioner for the three old names (and the
     drivers' controller environment on EKS: IRSA's AWS_ROLE_ARN and
     AWS_WEB_IDENTITY_TOKEN_FILE, no keys): the Released
     PV is reclaimed (directory deleted, as archiveOnDelete "false" says),
     a Bound old PV gets the PV finalizer (as the sig-storage library does
     for volumes it takes over), and deleting the other old claims deletes
     the EBS disk and the EFS access point and their PVs (with the CSI
     external-provisioner's finalizer removed, so nothing stays
     Terminating);
  3. pv.kubernetes.io/migrated-to naming berth's provisioner (an in-tree
     kubernetes.io/aws-ebs PV): reclaimed as berth's.

    test_migrate_adopt.py BERTH-PROVISIONER   (under bed.py run k8s nfs aws)
"""

import os
import sys

from test_migrate_lib import (EBS_CSI, EFS_CSI, NFS_SUBDIR, aws, ebs_csi_volume,
                              efs_csi_volume, nfs_subdir_volume, old_claim)
from test_provisioner_ebs_lib import aws_admin, aws_state, node, pod, volumes
from test_provisioner_lib import (API, PV_FINALIZER, Provisioner, check, claim,
                                  create, env, export_dir, kubectl, log, phase,
                                  poll, run, wait_bound)

NFS = "berth.io/nfs"
EBS = "berth.io/ebs"
EFS = "berth.io/efs"
FS = "fs-0123456789abcdef0"
ZONE = "us-east-1a"


def nfs_client_class(provisioner):
    # nfs-subdir-external-provisioner's deploy/class.yaml, as its README shows.
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "nfs-client"}, "provisioner": provisioner,
            "parameters": {"archiveOnDelete": "false"}}


def ebs_sc_class(provisioner):
    # aws-ebs-csi-driver's examples/kubernetes/dynamic-provisioning.
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "ebs-sc"}, "provisioner": provisioner,
            "volumeBindingMode": "WaitForFirstConsumer"}


def efs_sc_class(provisioner):
    # aws-efs-csi-driver's examples/kubernetes/dynamic_provisioning.
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "efs-sc"}, "provisioner": provisioner,
            "parameters": {"provisioningMode": "efs-ap", "fileSystemId": FS,
                           "directoryPerms": "700"}}


def switch(new_class):
    """The one-line change: the class again, naming berth."""
    kubectl("delete", "storageclass", new_class["metadata"]["name"])
    create(new_class)


def irsa_env():
    """The environment the EBS and EFS CSI controllers get on EKS (IRSA:
    the pod identity webhook's variables, no keys), which berth's
    Deployment gets from the same ServiceAccount annotation."""
    return {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_ROLE_ARN": env("BERTH_AWS_ROLE_ARN"),
            "AWS_WEB_IDENTITY_TOKEN_FILE": env("BERTH_AWS_WEB_IDENTITY_TOKEN_FILE"),
            "AWS_REGION": env("AWS_REGION"), "AWS_DEFAULT_REGION": env("AWS_REGION"),
            "AWS_STS_REGIONAL_ENDPOINTS": "regional"}


def berth(binary, adopt):
    args = ["--provisioner", NFS + "=nfs", "--provisioner", EBS + "=ebs",
            "--provisioner", EFS + "=efs"] + Provisioner.FAST_LEASE
    environ = {"NFS_SERVER": "127.0.0.1", "NFS_PATH": "/export", "BERTH_CLUSTER_ID": "bed"}
    for a in adopt:
        args += ["--adopt-provisioner", a]
    if adopt:
        environ.update(irsa_env())
    return Provisioner(binary, "berth-adopt" if adopt else "berth", args, environ=environ)


def main(binary, procs):
    api = API()
    root = export_dir()
    node("node-a", ZONE)
    create(nfs_client_class(NFS_SUBDIR), ebs_sc_class(EBS_CSI), efs_sc_class(EFS_CSI))
    o1, d1 = nfs_subdir_volume(api, "old-1", "nfs-client", "127.0.0.1", "/export")
    o2, d2 = nfs_subdir_volume(api, "old-2", "nfs-client", "127.0.0.1", "/export")
    e1, vid = ebs_csi_volume(api, "old-ebs", "ebs-sc", ZONE)
    f1, apid = efs_csi_volume(api, "old-efs", "efs-sc", FS)
    # An in-tree volume handed by CSI migration to ebs.csi.aws.com (the
    # real PV controller writes migrated-to with the CSI driver's name,
    # whatever it said), which berth adopts.
    uid = old_claim(api, "old-intree", "ebs-sc", size="4Gi", modes=("ReadWriteOnce",))
    intree_vid = aws("ec2").create_volume(AvailabilityZone=ZONE, Size=4,
                                          VolumeType="gp2")["VolumeId"]
    create({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "pvc-" + uid, "annotations": {
                "pv.kubernetes.io/provisioned-by": "kubernetes.io/aws-ebs",
                "pv.kubernetes.io/migrated-to": EBS_CSI}},
            "spec": {"capacity": {"storage": "4Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "ebs-sc",
                     "awsElasticBlockStore": {"volumeID": "aws://%s/%s" % (ZONE, intree_vid),
                                              "fsType": "ext4"},
                     "claimRef": {"name": "old-intree", "namespace": "default", "uid": uid}}})
    poll(lambda: phase(api.claim("old-intree")) == "Bound", 30, "old-intree Bound")
    log("old volumes in place: nfs %s %s, ebs %s (%s), efs %s (%s), in-tree %s"
        % (d1, d2, e1, vid, f1, apid, intree_vid))

    for c in (nfs_client_class(NFS), ebs_sc_class(EBS), efs_sc_class(EFS)):
        switch(c)

    # 1. Without adoption: the old PV leaks.
    p = berth(binary, [])
    procs.append(p)
    p.start()
    kubectl("delete", "pvc", "old-1", "--wait=false")
    poll(lambda: phase(api.pv(o1)) == "Released", 30, "old PV %s Released" % o1)
    create(claim("new-1", "nfs-client"))
    wait_bound(api, ["new-1"], 30)
    n1 = api.claim("new-1")["spec"]["volumeName"]
    kubectl("delete", "pvc", "new-1", "--wait=false")
    poll(lambda: api.pv(n1) is None, 30, "berth's own PV %s reclaimed" % n1)
    check(phase(api.pv(o1)) == "Released" and os.path.isdir(os.path.join(root, d1)),
          "without --adopt-provisioner the old PV should stay Released with its "
          "directory: %s, %s" % (phase(api.pv(o1)), os.listdir(root)))
    log("without --adopt-provisioner: %s stays Released, %s stays" % (o1, d1))
    check(p.stop() == 0, "berth exit status")

    # 2. With adoption.
    p = berth(binary, [NFS_SUBDIR, EBS_CSI, EFS_CSI])
    procs.append(p)
    p.start()
    poll(lambda: api.pv(o1) is None, 30, "adopted PV %s reclaimed" % o1)
    check(not os.path.exists(os.path.join(root, d1)),
          "the adopted volume's directory should be deleted (archiveOnDelete false): %s"
          % os.listdir(root))
    log("adopted: Released %s reclaimed, %s deleted" % (o1, d1))
    poll(lambda: PV_FINALIZER in (api.pv(o2)["metadata"].get("finalizers") or []), 20,
         "the PV finalizer on the Bound adopted PV %s" % o2)
    kubectl("delete", "pvc", "old-2", "old-ebs", "old-efs", "old-intree", "--wait=false")
    for pv in (o2, e1, f1, "pvc-" + uid):
        poll(lambda pv=pv: api.pv(pv) is None, 60, "adopted PV %s gone" % pv)
    check(not os.path.exists(os.path.join(root, d2)), "%s left: %s" % (d2, os.listdir(root)))
    left = {v["VolumeId"] for v in volumes()}
    check(vid not in left, "the old EBS disk %s was not deleted" % vid)
    check(intree_vid not in left, "the migrated in-tree disk %s was not deleted" % intree_vid)
    check(apid not in {a["AccessPointId"] for a in aws_state()["access_points"]},
          "the old access point %s was not deleted" % apid)
    check(aws_admin("GET", "/counters")["credentials"].get("sts_web_identity", 0) > 0,
          "berth did not use the IRSA web identity: %s"
          % aws_admin("GET", "/counters")["credentials"])
    log("adopted: nfs %s, ebs %s, efs %s and migrated-to %s reclaimed"
        % (d2, vid, apid, intree_vid))

    # New claims of the switched classes are berth's, as before.
    create(claim("new-ebs", "ebs-sc", size="4Gi", modes=("ReadWriteOnce",)),
           pod("app", "node-a", "new-ebs"), claim("new-efs", "efs-sc"))
    wait_bound(api, ["new-ebs", "new-efs"], 30)
    for n in ("new-ebs", "new-efs"):
        pv = api.pv(api.claim(n)["spec"]["volumeName"])
        check(pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] in (EBS, EFS),
              "%s: provisioned-by %s" % (n, pv["metadata"]["annotations"]))


if __name__ == "__main__":
    sys.exit(run(main))
