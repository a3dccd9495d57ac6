# SPDX-License-Identifier: Apache-2.0
"""Helpers for the migration suite (test_migrate_*.py): the volumes each
old tool left behind, written exactly as that tool writes them, so that the
suite can switch their classes to berth and see them adopted.

  - nfs-subdir-external-provisioner: a directory <export>/<ns>-<pvc>-<pv>
    and an nfs PV (server, path <share>/<dir>), annotated
    pv.kubernetes.io/provisioned-by: k8s-sigs.io/nfs-subdir-external-provisioner,
    no finalizer of its own (its library runs without AddFinalizer);
  - aws-ebs-csi-driver (through the CSI external-provisioner): a disk
    tagged CSIVolumeName, a csi PV (driver ebs.csi.aws.com, volumeHandle
    vol-..., fsType, the provisioner identity attribute), node affinity on
    the zone, provisioned-by ebs.csi.aws.com, the finalizers
    kubernetes.io/pv-protection and
    external-provisioner.volume.kubernetes.io/finalizer;
  - aws-efs-csi-driver (efs-ap): an access point, a csi PV (driver
    efs.csi.aws.com, volumeHandle fs-...::fsap-...), provisioned-by
    efs.csi.aws.com, the same finalizers.
"""

import os

import botocore.session

from test_provisioner_lib import create, env, poll, phase

NFS_SUBDIR = "k8s-sigs.io/nfs-subdir-external-provisioner"
EBS_CSI = "ebs.csi.aws.com"
EFS_CSI = "efs.csi.aws.com"
PV_PROTECTION = "kubernetes.io/pv-protection"
CSI_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"


def aws(service):
    s = botocore.session.get_session()
    return s.create_client(service, region_name=env("AWS_REGION"),
                           endpoint_url=env("AWS_ENDPOINT_URL"),
                           aws_access_key_id=env("AWS_ACCESS_KEY_ID"),
                           aws_secret_access_key=env("AWS_SECRET_ACCESS_KEY"))


def old_claim(api, name, cls, size="1Gi", modes=("ReadWriteMany",), ns="default"):
    """A claim made while the old tool served cls: Pending, annotated for
    the old provisioner by the PV controller. Its uid."""
    create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"storageClassName": cls, "accessModes": list(modes),
                     "resources": {"requests": {"storage": size}}}})
    return poll(lambda: (api.claim(name, ns) or {}).get("metadata", {}).get("uid"),
                20, "claim %s's uid" % name)


def _pv(name, claim_name, uid, cls, size, modes, provisioner, source,
        finalizers=(), ns="default", extra_ann=None, affinity=None):
    ann = {"pv.kubernetes.io/provisioned-by": provisioner}
    ann.update(extra_ann or {})
    md = {"name": name, "annotations": ann}
    if finalizers:
        md["finalizers"] = list(finalizers)
    spec = {"capacity": {"storage": size}, "accessModes": list(modes),
            "persistentVolumeReclaimPolicy": "Delete", "storageClassName": cls,
            "volumeMode": "Filesystem",
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "name": claim_name, "namespace": ns, "uid": uid}}
    spec.update(source)
    if affinity:
        spec["nodeAffinity"] = affinity
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": md, "spec": spec}


def wait_pv_bound(api, pv_name, claim_name, ns="default"):
    poll(lambda: phase(api.pv(pv_name)) == "Bound" and
         phase(api.claim(claim_name, ns)) == "Bound", 30,
         "old PV %s bound to %s" % (pv_name, claim_name))


def nfs_subdir_volume(api, claim_name, cls, server, share, ns="default"):
    """What nfs-subdir-external-provisioner leaves for a claim: the
    directory (with a file in it) and the PV. (pv name, directory)."""
    uid = old_claim(api, claim_name, cls, ns=ns)
    pv_name = "pvc-" + uid
    d = "%s-%s-%s" % (ns, claim_name, pv_name)
    os.makedirs(os.path.join(env("BERTH_NFS_EXPORT_DIR"), d), mode=0o777)
    with open(os.path.join(env("BERTH_NFS_EXPORT_DIR"), d, "data"), "w") as f:
        f.write("written by the old tool's pod\n")
    create(_pv(pv_name, claim_name, uid, cls, "1Gi", ("ReadWriteMany",), NFS_SUBDIR,
               {"nfs": {"server": server, "path": share.rstrip("/") + "/" + d}}, ns=ns))
    wait_pv_bound(api, pv_name, claim_name, ns)
    return pv_name, d


def ebs_csi_volume(api, claim_name, cls, zone, ns="default"):
    """What aws-ebs-csi-driver leaves for a claim: a gp3 disk and the PV.
    (pv name, volume id)."""
    uid = old_claim(api, claim_name, cls, size="4Gi", modes=("ReadWriteOnce",), ns=ns)
    pv_name = "pvc-" + uid
    ec2 = aws("ec2")
    vol = ec2.create_volume(AvailabilityZone=zone, Size=4, VolumeType="gp3",
                            ClientToken=pv_name,
                            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                                {"Key": "CSIVolumeName", "Value": pv_name},
                                {"Key": "ebs.csi.aws.com/cluster", "Value": "true"},
                                {"Key": "kubernetes.io/created-for/pvc/name", "Value": claim_name},
                                {"Key": "kubernetes.io/created-for/pvc/namespace", "Value": ns},
                                {"Key": "kubernetes.io/created-for/pv/name", "Value": pv_name}]}])
    vid = vol["VolumeId"]
    affinity = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}}
    create(_pv(pv_name, claim_name, uid, cls, "4Gi", ("ReadWriteOnce",), EBS_CSI,
               {"csi": {"driver": EBS_CSI, "volumeHandle": vid, "fsType": "ext4",
                        "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity":
                                             "1733400000000-8081-ebs.csi.aws.com"}}},
               finalizers=(PV_PROTECTION, CSI_FINALIZER), ns=ns,
               extra_ann={"volume.kubernetes.io/provisioner-deletion-secret-name": "",
                          "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
               affinity=affinity))
    wait_pv_bound(api, pv_name, claim_name, ns)
    return pv_name, vid


def efs_csi_volume(api, claim_name, cls, fs_id, ns="default"):
    """What aws-efs-csi-driver (efs-ap) leaves for a claim: an access point
    and the PV. (pv name, access point id)."""
    uid = old_claim(api, claim_name, cls, size="5Gi", ns=ns)
    pv_name = "pvc-" + uid
    efs = aws("efs")
    ap = efs.create_access_point(
        ClientToken=pv_name, FileSystemId=fs_id,
        PosixUser={"Uid": 50000, "Gid": 50000},
        RootDirectory={"Path": "/dynamic_provisioning/" + pv_name,
                       "CreationInfo": {"OwnerUid": 50000, "OwnerGid": 50000,
                                        "Permissions": "700"}},
        Tags=[{"Key": "efs.csi.aws.com/cluster", "Value": "true"}])
    apid = ap["AccessPointId"]
    create(_pv(pv_name, claim_name, uid, cls, "5Gi", ("ReadWriteMany",), EFS_CSI,
               {"csi": {"driver": EFS_CSI, "volumeHandle": "%s::%s" % (fs_id, apid),
                        "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity":
                                             "1733400000000-8081-efs.csi.aws.com"}}},
               finalizers=(PV_PROTECTION, CSI_FINALIZER), ns=ns))
    wait_pv_bound(api, pv_name, claim_name, ns)
    return pv_name, apid


__all__ = ["NFS_SUBDIR", "EBS_CSI", "EFS_CSI", "aws", "old_claim",
           "nfs_subdir_volume", "ebs_csi_volume", "efs_csi_volume"]
