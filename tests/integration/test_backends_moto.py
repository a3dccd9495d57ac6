#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A second opinion on AWS: berth-provisioner's EBS and EFS backends
against moto's server (tests/bed/bed_moto.py) instead of berth's emulator,
on the real control plane, checked with botocore against moto:

  - EBS: a WaitForFirstConsumer gp3 claim (iops, throughput, encryption,
    tags) used by a pod the scheduler places on a node backed by a moto
    instance -> one disk in that node's zone with those attributes; the
    attach/detach controller's VolumeAttachment -> berth attaches it (moto
    says in-use on the instance, at the devicePath berth reported); grown
    from 8Gi to 10Gi -> ModifyVolume (moto's size 10); pod and claim gone ->
    detached and deleted;
  - EFS (efs-ap): a claim -> an access point on moto's file system with
    the claim's tags, the first gid of the range and the root directory
    and permissions of the class; the claim gone -> the access point gone.

    test_backends_moto.py BERTH-PROVISIONER    (under bed.py run k8s moto)
"""

import hashlib
import json
import os
import sys

import botocore.session

from test_provisioner_lib import (API, Provisioner, check, claim, create, delete_pods,
                                  env, kubectl, log, pod, poll, register_node, run,
                                  storage_class, wait_bound)

EBS, EFS, DRIVER = "berth.io/ebs", "berth.io/efs", "ebs.csi.aws.com"
REGION = "us-east-1"


def client(name):
    s = botocore.session.get_session()
    return s.create_client(name, region_name=REGION, endpoint_url=env("BERTH_MOTO_URL"),
                           aws_access_key_id="testing", aws_secret_access_key="testing")


def part_ebs(api, ec2):
    img = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    inst = ec2.run_instances(ImageId=img, MinCount=1, MaxCount=1, InstanceType="m5.large",
                             Placement={"AvailabilityZone": "us-east-1b"})
    iid = inst["Instances"][0]["InstanceId"]
    register_node("moto-node", zone="us-east-1b", instance=iid)
    create(storage_class("gp3", {"type": "gp3", "iops": "4000", "throughput": "250",
                                 "encrypted": "true", "tagSpecification_1": "team=storage"},
                         binding="WaitForFirstConsumer", provisioner=EBS,
                         allowVolumeExpansion=True))
    # 8 GiB: gp3 allows 500 IOPS per GiB, and berth caps what a class asks
    # at that (4,000 IOPS on 4 GiB would be capped to 3,000).
    create(claim("disk", "gp3", size="8Gi", modes=("ReadWriteOnce",)))
    create(pod("user", "moto-node", "disk"))
    wait_bound(api, ["disk"], 60)
    pv = api.pv(api.claim("disk")["spec"]["volumeName"])
    vid = pv["spec"]["csi"]["volumeHandle"]
    v = ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
    tags = {t["Key"]: t["Value"] for t in v.get("Tags", [])}
    check(v["AvailabilityZone"] == "us-east-1b" and v["VolumeType"] == "gp3" and
          v["Size"] == 8 and v["Iops"] == 4000 and v.get("Throughput") == 250 and
          v["Encrypted"], "moto's disk: %s" % json.dumps(v, default=str))
    check(tags.get("team") == "storage" and tags.get("CSIVolumeName") ==
          pv["metadata"]["name"] and tags.get("kubernetes.io/created-for/pvc/name") ==
          "disk", "moto's tags: %s" % tags)
    log("EBS: %s in us-east-1b, gp3 8 GiB 4000 iops 250 MiB/s, encrypted, tagged" % vid)

    name = "csi-" + hashlib.sha256((vid + DRIVER + "moto-node").encode()).hexdigest()

    def attached():
        va = api.get("/apis/storage.k8s.io/v1/volumeattachments/" + name)
        return va if va and (va.get("status") or {}).get("attached") else None
    va = poll(attached, 60, "VolumeAttachment %s attached" % name)
    dev = va["status"]["attachmentMetadata"]["devicePath"]
    v = ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
    att = v.get("Attachments") or []
    check(v["State"] == "in-use" and len(att) == 1 and att[0]["InstanceId"] == iid and
          att[0]["Device"] == dev, "moto after attach: %s %s (berth said %s)" %
          (v["State"], att, dev))
    log("EBS: attached to %s at %s" % (iid, dev))

    kubectl("patch", "pvc", "disk", "--type=merge", "-p",
            json.dumps({"spec": {"resources": {"requests": {"storage": "10Gi"}}}}))
    poll(lambda: ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["Size"] == 10, 60,
         "moto's disk grown to 10 GiB")
    poll(lambda: api.pv(pv["metadata"]["name"])["spec"]["capacity"]["storage"] == "10Gi",
         30, "PV capacity 10Gi")
    log("EBS: grown to 10 GiB")

    delete_pods("user")
    poll(lambda: ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]["State"] ==
         "available", 60, "moto's disk detached")
    kubectl("delete", "pvc", "disk", "--wait=false")

    def deleted():
        return not [x for x in ec2.describe_volumes()["Volumes"] if x["VolumeId"] == vid]
    poll(deleted, 60, "moto's disk deleted")
    log("EBS: detached and deleted")


def part_efs(api, efs):
    fs = efs.create_file_system(CreationToken="berth-moto", Encrypted=True)["FileSystemId"]
    create(storage_class("ap", {"provisioningMode": "efs-ap", "fileSystemId": fs,
                                "directoryPerms": "750", "gidRangeStart": "2000",
                                "gidRangeEnd": "2010", "basePath": "/dyn",
                                "subPathPattern": "${.PVC.namespace}-${.PVC.name}",
                                "ensureUniqueDirectory": "false"}, provisioner=EFS))
    create(claim("share", "ap"))
    wait_bound(api, ["share"], 60)
    pv = api.pv(api.claim("share")["spec"]["volumeName"])
    handle = pv["spec"]["csi"]["volumeHandle"]
    check(handle.startswith(fs + "::fsap-"), "volumeHandle %s" % handle)
    apid = handle.split("::", 1)[1]
    ap = efs.describe_access_points(AccessPointId=apid)["AccessPoints"][0]
    tags = {t["Key"]: t["Value"] for t in ap.get("Tags", [])}
    check(ap["FileSystemId"] == fs and ap["PosixUser"]["Gid"] == 2000 and
          ap["RootDirectory"]["Path"] == "/dyn/default-share" and
          ap["RootDirectory"]["CreationInfo"]["Permissions"] == "750",
          "moto's access point: %s" % json.dumps(ap, default=str))
    check(tags.get("efs.csi.aws.com/cluster") == "true" and
          tags.get("CSIVolumeName") == pv["metadata"]["name"] and
          tags.get("kubernetes.io/created-for/pvc/name") == "share",
          "access point tags: %s" % tags)
    log("EFS: access point %s on %s, gid 2000, /dyn/default-share 750, tags %s" %
        (apid, fs, sorted(tags)))
    kubectl("delete", "pvc", "share", "--wait=false")
    poll(lambda: not [a for a in efs.describe_access_points(FileSystemId=fs)["AccessPoints"]
                      if a["AccessPointId"] == apid], 60, "the access point deleted")
    log("EFS: access point deleted with the claim")


def main(binary, procs):
    api = API()
    ec2, efs = client("ec2"), client("efs")
    p = Provisioner(binary, "p", ["--provisioner", EBS + "=ebs", "--provisioner",
                                  EFS + "=efs"] + Provisioner.FAST_LEASE,
                    environ={"AWS_ENDPOINT_URL": env("BERTH_MOTO_URL"),
                             "AWS_ACCESS_KEY_ID": "testing",
                             "AWS_SECRET_ACCESS_KEY": "testing",
                             "AWS_REGION": REGION, "BERTH_CLUSTER_ID": "moto",
                             "AWS_EC2_METADATA_DISABLED": "true"})
    procs.append(p)
    p.start()
    part_ebs(api, ec2)
    part_efs(api, efs)


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(run(main))
