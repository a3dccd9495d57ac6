#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth's AWS emulator and moto's server, asked the same questions about
EC2 volumes and EFS access points (the calls berth's backends make), with
botocore. The emulator must give the answer AWS documents (the reference
named beside each case); moto's answer is printed beside it, and where it
differs that is listed as moto's (see tests/aws/README.md, "moto").

    test_moto_compare.py          (under tests/bed/bed.py run aws moto)
"""

import os
import sys
import time

import botocore.exceptions
import botocore.session

REGION = "us-east-1"


def clients(url, key, secret):
    s = botocore.session.get_session()
    mk = lambda n: s.create_client(n, region_name=REGION, endpoint_url=url,  # noqa: E731
                                   aws_access_key_id=key, aws_secret_access_key=secret)
    return mk("ec2"), mk("efs")


def answer(f):
    """"OK" or the AWS error code a call gets."""
    try:
        f()
        return "OK"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    except Exception as e:  # noqa: BLE001 - a reply botocore cannot parse
        return "unparseable (%s)" % type(e).__name__


def cases(ec2, efs):
    """(question, documented answer, reference, call)."""
    tok = "berth-cmp-%d" % os.getpid()
    first = {}

    def create_first():
        first["id"] = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1,
                                        VolumeType="gp3", ClientToken=tok)["VolumeId"]

    def same_token_same_volume():
        v = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, VolumeType="gp3",
                              ClientToken=tok)["VolumeId"]
        if v != first["id"]:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "SecondVolume(%s)" % v}}, "CreateVolume")

    def wait(f, what):
        deadline = time.monotonic() + 10
        while not f():
            if time.monotonic() > deadline:
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "Timeout(%s)" % what}}, "Describe")
            time.sleep(0.05)

    def snapshot_first():
        wait(lambda: ec2.describe_volumes(VolumeIds=[first["id"]])["Volumes"][0][
            "State"] == "available", "volume available")
        first["snap"] = ec2.create_snapshot(
            VolumeId=first["id"], TagSpecifications=[{
                "ResourceType": "snapshot",
                "Tags": [{"Key": "CSIVolumeSnapshotName", "Value": tok}]}])["SnapshotId"]
        wait(lambda: ec2.describe_snapshots(SnapshotIds=[first["snap"]])["Snapshots"][0][
            "State"] == "completed", "snapshot completed")

    def find_by_tag():
        got = ec2.describe_snapshots(OwnerIds=["self"], Filters=[
            {"Name": "tag:CSIVolumeSnapshotName", "Values": [tok]}])["Snapshots"]
        if [x["SnapshotId"] for x in got] != [first["snap"]]:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "Found(%s)" % [x["SnapshotId"] for x in got]}},
                "DescribeSnapshots")

    def restore():
        v = ec2.create_volume(AvailabilityZone="us-east-1b", SnapshotId=first["snap"])
        if v["Size"] != 1 or v.get("SnapshotId") != first["snap"]:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "Restored(%s)" % v["Size"]}}, "CreateVolume")

    def page_by_tag():
        tags = [{"Key": "berth-cmp-page", "Value": tok},
                {"Key": "berth.io/provisioning", "Value": tok}]
        made = set()
        for _ in range(6):
            made.add(ec2.create_volume(
                AvailabilityZone="us-east-1a", Size=1, VolumeType="gp3",
                TagSpecifications=[{"ResourceType": "volume", "Tags": tags}])["VolumeId"])
        ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, VolumeType="gp3",
                          TagSpecifications=[{"ResourceType": "volume", "Tags": tags[:1]}])
        seen, token, pages = [], None, 0
        while True:
            kw = {"NextToken": token} if token else {}
            r = ec2.describe_volumes(Filters=[
                {"Name": "tag-key", "Values": ["berth.io/provisioning"]},
                {"Name": "tag:berth-cmp-page", "Values": [tok]}], MaxResults=5, **kw)
            if len(r["Volumes"]) > 5:
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "PageOf(%d)" % len(r["Volumes"])}}, "DescribeVolumes")
            seen += [v["VolumeId"] for v in r["Volumes"]]
            token, pages = r.get("NextToken"), pages + 1
            if not token or pages > 10:
                break
        if sorted(seen) != sorted(made):
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "Listed(%d of %d)" % (len(set(seen) & made), len(made))}},
                "DescribeVolumes")

    def delete_one_tag():
        vid = ec2.create_volume(
            AvailabilityZone="us-east-1a", Size=1, VolumeType="gp3",
            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                {"Key": "berth-cmp-page", "Value": tok},
                {"Key": "berth.io/provisioning", "Value": tok}]}])["VolumeId"]
        ec2.delete_tags(Resources=[vid], Tags=[{"Key": "berth.io/provisioning"}])
        got = {t["Key"]: t["Value"] for t in
               ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0].get("Tags", [])}
        if "berth.io/provisioning" in got or got.get("berth-cmp-page") != tok:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "Tags(%s)" % sorted(got)}}, "DeleteTags")

    return [
        ("DescribeVolumes of a missing volume", "InvalidVolume.NotFound",
         "EC2 API error codes", lambda: ec2.describe_volumes(VolumeIds=["vol-0123456789abcdef0"])),
        ("DeleteVolume of a missing volume", "InvalidVolume.NotFound",
         "EC2 API error codes", lambda: ec2.delete_volume(VolumeId="vol-0123456789abcdef0")),
        ("CreateVolume gp3 with 20000 IOPS on 1 GiB (500 IOPS/GiB at most)",
         "InvalidParameterValue", "EBS volume types, gp3; CreateVolume Iops",
         lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1,
                                   VolumeType="gp3", Iops=20000)),
        ("CreateVolume with a ClientToken", "OK", "EC2 idempotency", create_first),
        ("CreateVolume again, same token and parameters: the same volume", "OK",
         "EC2 idempotency", same_token_same_volume),
        ("CreateVolume again, same token, other parameters", "IdempotentParameterMismatch",
         "EC2 idempotency", lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=2,
                                                      VolumeType="gp3", ClientToken=tok)),
        ("DetachVolume of an available volume", "IncorrectState", "EC2 API error codes",
         lambda: ec2.detach_volume(VolumeId=first["id"])),
        ("AttachVolume to a missing instance", "InvalidInstanceID.NotFound",
         "EC2 API error codes", lambda: ec2.attach_volume(
             VolumeId=first["id"], InstanceId="i-0123456789abcdef0", Device="/dev/xvdba")),
        ("CreateAccessPoint on a missing file system", "FileSystemNotFound",
         "EFS API CreateAccessPoint, Errors", lambda: efs.create_access_point(
             ClientToken=tok, FileSystemId="fs-0000000000000000f")),
        ("DescribeAccessPoints of a missing access point", "AccessPointNotFound",
         "EFS API DescribeAccessPoints, Errors",
         lambda: efs.describe_access_points(AccessPointId="fsap-0123456789abcdef0")),
        ("CreateSnapshot of a missing volume", "InvalidVolume.NotFound",
         "EC2 API CreateSnapshot; error codes",
         lambda: ec2.create_snapshot(VolumeId="vol-0123456789abcdef0")),
        ("CreateSnapshot with tags, then completed", "OK",
         "EC2 API CreateSnapshot, TagSpecification.N", snapshot_first),
        ("DescribeSnapshots by tag:CSIVolumeSnapshotName", "OK",
         "EC2 API DescribeSnapshots, Filter.N tag:<key>", find_by_tag),
        ("DescribeSnapshots of a missing snapshot", "InvalidSnapshot.NotFound",
         "EC2 API error codes", lambda: ec2.describe_snapshots(
             SnapshotIds=["snap-0123456789abcdef0"])),
        ("CreateVolume from a snapshot, another zone, default size", "OK",
         "EBS User Guide, create a volume from a snapshot (snapshots are regional)",
         restore),
        ("CreateVolume from a missing snapshot", "InvalidSnapshot.NotFound",
         "EC2 API error codes", lambda: ec2.create_volume(
             AvailabilityZone="us-east-1a", SnapshotId="snap-0123456789abcdef0")),
        ("DeleteSnapshot", "OK", "EC2 API DeleteSnapshot",
         lambda: ec2.delete_snapshot(SnapshotId=first["snap"])),
        ("DeleteSnapshot of a missing snapshot", "InvalidSnapshot.NotFound",
         "EC2 API error codes", lambda: ec2.delete_snapshot(SnapshotId=first["snap"])),
        ("DeleteAccessPoint of a missing access point", "AccessPointNotFound",
         "EFS API DeleteAccessPoint, Errors",
         lambda: efs.delete_access_point(AccessPointId="fsap-0123456789abcdef0")),
        ("DescribeVolumes by tag-key and tag:<key>, pages of 5: each match once",
         "OK", "EC2 API DescribeVolumes, Filter.N, MaxResults, NextToken", page_by_tag),
        ("DeleteTags of one key: the volume's other tags stay", "OK",
         "EC2 API DeleteTags", delete_one_tag),
        ("UntagResource of a missing access point", "AccessPointNotFound",
         "EFS API UntagResource, Errors",
         lambda: efs.untag_resource(ResourceId="fsap-0123456789abcdef0",
                                    TagKeys=["berth.io/provisioning"])),
    ]


def main():
    env = os.environ
    emu = clients(env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"],
                  env["AWS_SECRET_ACCESS_KEY"])
    moto = clients(env["BERTH_MOTO_URL"], "testing", "testing")
    bad, differ = [], []
    for (q, want, ref, f), (_, _, _, g) in zip(cases(*emu), cases(*moto)):
        got_e, got_m = answer(f), answer(g)
        print("%-68s AWS: %-27s emulator: %-27s moto: %s" % (q, want, got_e, got_m))
        if got_e != want:
            bad.append("%s: emulator says %s, AWS (%s) %s" % (q, got_e, ref, want))
        if got_m != want:
            differ.append(q)
    print("moto differs from AWS's documented answer in %d of %d: %s" %
          (len(differ), len(cases(*moto)), "; ".join(differ)))
    for b in bad:
        print("FAIL: " + b)
    print("%d passed, %d failed" % (len(cases(*emu)) - len(bad), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
