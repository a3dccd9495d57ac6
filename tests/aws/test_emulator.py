#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The emulator's fidelity, proven with botocore: real SDK clients (EC2,
EFS, STS) call it and parse every answer with AWS's own service models;
signatures botocore makes must verify, and broken ones must not.

Run under the test bed: tests/bed/bed.py run aws -- python3 THIS_FILE
"""

import datetime
import json
import os
import sys
import time
import unittest
import urllib.error
import warnings
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ENV = os.environ
REGION = ENV.get("AWS_REGION", "us-east-1")
FS = "fs-0123456789abcdef0"
# One session: loading the service models once keeps the test fast.
SESSION = botocore.session.Session()


def admin(method, path, body=None):
    req = urllib.request.Request(
        ENV["BERTH_AWS_ADMIN_URL"] + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def client(service, ak=None, sk=None, token=None, retries=1):
    """A botocore client; retries is the total number of attempts."""
    s = SESSION
    return s.create_client(
        service, region_name=REGION, endpoint_url=ENV["AWS_ENDPOINT_URL"],
        aws_access_key_id=ak or ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sk or ENV["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": retries,
                               "mode": "standard"}))


def code_of(e):
    return e.response["Error"]["Code"]


def wait_for(pred, what, timeout=10):
    """Poll pred until true (state machines advance with time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Base(unittest.TestCase):
    def setUp(self):
        admin("POST", "/reset", {})
        admin("POST", "/config", {"create_delay_ms": 0, "attach_delay_ms": 0,
                                  "detach_delay_ms": 0, "modify_delay_ms": 0,
                                  "optimize_delay_ms": 0})
        self.ec2 = client("ec2")
        self.efs = client("efs")
        self.sts = client("sts")


class TestEc2(Base):
    def test_volume_lifecycle(self):
        admin("POST", "/config", {"create_delay_ms": 150,
                                  "attach_delay_ms": 150,
                                  "detach_delay_ms": 150})
        v = self.ec2.create_volume(
            AvailabilityZone=REGION + "a", Size=10, VolumeType="gp3",
            Iops=4000, Throughput=250, Encrypted=True, ClientToken="tok-1",
            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                {"Key": "CSIVolumeName", "Value": "pvc-1"},
                {"Key": "kubernetes.io/created-for/pvc/name", "Value": "data"}]}])
        self.assertEqual(v["State"], "creating")
        self.assertEqual(v["Iops"], 4000)
        self.assertEqual(v["Throughput"], 250)
        self.assertTrue(v["Encrypted"])
        self.assertIsInstance(v["CreateTime"], datetime.datetime)
        vid = v["VolumeId"]
        # Same token, same arguments: the same volume.
        again = self.ec2.create_volume(
            AvailabilityZone=REGION + "a", Size=10, VolumeType="gp3",
            Iops=4000, Throughput=250, Encrypted=True, ClientToken="tok-1",
            TagSpecifications=[{"ResourceType": "volume", "Tags": [
                {"Key": "CSIVolumeName", "Value": "pvc-1"},
                {"Key": "kubernetes.io/created-for/pvc/name", "Value": "data"}]}])
        self.assertEqual(again["VolumeId"], vid)
        with self.assertRaises(ClientError) as cm:
            self.ec2.create_volume(AvailabilityZone=REGION + "a", Size=11,
                                   ClientToken="tok-1")
        self.assertEqual(code_of(cm.exception), "IdempotentParameterMismatch")
        wait_for(lambda: self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
                 ["State"] == "available", "available")
        vol = self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
        self.assertEqual({t["Key"]: t["Value"] for t in vol["Tags"]},
                         {"CSIVolumeName": "pvc-1",
                          "kubernetes.io/created-for/pvc/name": "data"})

        inst = self.ec2.describe_instances(Filters=[
            {"Name": "availability-zone", "Values": [REGION + "a"]}])
        iid = inst["Reservations"][0]["Instances"][0]["InstanceId"]
        a = self.ec2.attach_volume(VolumeId=vid, InstanceId=iid,
                                   Device="/dev/xvdba")
        self.assertEqual(a["State"], "attaching")
        self.assertEqual(self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
                         ["State"], "in-use")
        with self.assertRaises(ClientError) as cm:
            self.ec2.delete_volume(VolumeId=vid)
        self.assertEqual(code_of(cm.exception), "VolumeInUse")
        wait_for(lambda: self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
                 ["Attachments"][0]["State"] == "attached", "attached")
        i = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0] \
            ["Instances"][0]
        self.assertIn(("/dev/xvdba", vid),
                      [(m["DeviceName"], m["Ebs"]["VolumeId"])
                       for m in i["BlockDeviceMappings"]])
        self.assertEqual(i["Placement"]["AvailabilityZone"], REGION + "a")
        d = self.ec2.detach_volume(VolumeId=vid, InstanceId=iid)
        self.assertEqual(d["State"], "detaching")
        wait_for(lambda: self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
                 ["State"] == "available", "detached")
        self.ec2.delete_volume(VolumeId=vid)
        with self.assertRaises(ClientError) as cm:
            self.ec2.describe_volumes(VolumeIds=[vid])
        self.assertEqual(code_of(cm.exception), "InvalidVolume.NotFound")
        with self.assertRaises(ClientError) as cm:
            self.ec2.delete_volume(VolumeId=vid)
        self.assertEqual(code_of(cm.exception), "InvalidVolume.NotFound")

    def test_attach_errors(self):
        v = self.ec2.create_volume(AvailabilityZone=REGION + "b", Size=1)
        insts = {i["Placement"]["AvailabilityZone"]: i["InstanceId"]
                 for r in self.ec2.describe_instances()["Reservations"]
                 for i in r["Instances"]}
        with self.assertRaises(ClientError) as cm:
            self.ec2.attach_volume(VolumeId=v["VolumeId"],
                                   InstanceId=insts[REGION + "a"],
                                   Device="/dev/xvdbb")
        self.assertEqual(code_of(cm.exception), "InvalidVolume.ZoneMismatch")
        with self.assertRaises(ClientError) as cm:
            self.ec2.attach_volume(VolumeId=v["VolumeId"],
                                   InstanceId=insts[REGION + "b"],
                                   Device="/dev/xvda")
        self.assertEqual(code_of(cm.exception), "InvalidParameterValue")
        with self.assertRaises(ClientError) as cm:
            self.ec2.attach_volume(VolumeId=v["VolumeId"],
                                   InstanceId="i-0000000000000dead",
                                   Device="/dev/xvdbb")
        self.assertEqual(code_of(cm.exception), "InvalidInstanceID.NotFound")
        with self.assertRaises(ClientError) as cm:
            self.ec2.describe_volumes(VolumeIds=["vol-nope"])
        self.assertEqual(code_of(cm.exception), "InvalidVolumeID.Malformed")

    def test_filters_and_paging(self):
        ids = set()
        for n in range(12):
            v = self.ec2.create_volume(
                AvailabilityZone=REGION + "c", Size=1 + n,
                TagSpecifications=[{"ResourceType": "volume", "Tags": [
                    {"Key": "berth.test/group", "Value": "paging"}]}])
            ids.add(v["VolumeId"])
        got = []
        token = None
        pages = 0
        while True:
            kw = {"Filters": [{"Name": "tag:berth.test/group",
                               "Values": ["pag*"]}], "MaxResults": 5}
            if token:
                kw["NextToken"] = token
            r = self.ec2.describe_volumes(**kw)
            got += [v["VolumeId"] for v in r["Volumes"]]
            pages += 1
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(set(got), ids)
        r = self.ec2.describe_volumes(Filters=[{"Name": "size",
                                                "Values": ["3", "4"]}])
        self.assertEqual(sorted(v["Size"] for v in r["Volumes"]), [3, 4])
        with self.assertRaises(ClientError) as cm:
            self.ec2.describe_volumes(Filters=[{"Name": "bogus",
                                                "Values": ["x"]}])
        self.assertEqual(code_of(cm.exception), "InvalidParameterValue")

    def test_snapshots(self):
        """CreateSnapshot (pending -> completed, tags), DescribeSnapshots
        (ids, owners, tag filters, paging), CreateVolume from a snapshot
        (size, encryption), DeleteSnapshot, and their documented errors."""
        admin("POST", "/config", {"snapshot_delay_ms": 300})
        v = self.ec2.create_volume(AvailabilityZone=REGION + "a", Size=3,
                                   Encrypted=True)
        vid = v["VolumeId"]
        wait_for(lambda: self.ec2.describe_volumes(VolumeIds=[vid])[
            "Volumes"][0]["State"] == "available", "the volume")
        tags = [{"Key": "CSIVolumeSnapshotName", "Value": "snapshot-1"}]
        s = self.ec2.create_snapshot(VolumeId=vid, Description="d",
                                     TagSpecifications=[{
                                         "ResourceType": "snapshot",
                                         "Tags": tags}])
        sid = s["SnapshotId"]
        self.assertEqual(s["State"], "pending")
        self.assertEqual((s["VolumeSize"], s["Encrypted"]), (3, True))
        self.assertEqual(s["Tags"], tags)
        # A pending snapshot makes no volume.
        with self.assertRaises(ClientError) as cm:
            self.ec2.create_volume(AvailabilityZone=REGION + "b",
                                   SnapshotId=sid)
        self.assertEqual(code_of(cm.exception), "IncorrectState")
        wait_for(lambda: self.ec2.describe_snapshots(SnapshotIds=[sid])[
            "Snapshots"][0]["State"] == "completed", "the snapshot")
        got = self.ec2.describe_snapshots(OwnerIds=["self"], Filters=[
            {"Name": "tag:CSIVolumeSnapshotName", "Values": ["snapshot-1"]}])
        self.assertEqual([x["SnapshotId"] for x in got["Snapshots"]], [sid])
        self.assertEqual(self.ec2.describe_snapshots(OwnerIds=["amazon"])[
            "Snapshots"], [])
        # Snapshots are regional: a volume in another zone, at least as
        # large, encrypted like the snapshot.
        with self.assertRaises(ClientError) as cm:
            self.ec2.create_volume(AvailabilityZone=REGION + "b", Size=2,
                                   SnapshotId=sid)
        self.assertEqual(code_of(cm.exception), "InvalidParameterValue")
        r = self.ec2.create_volume(AvailabilityZone=REGION + "b",
                                   SnapshotId=sid)
        self.assertEqual((r["Size"], r["Encrypted"], r["SnapshotId"]),
                         (3, True, sid))
        r = self.ec2.create_volume(AvailabilityZone=REGION + "c", Size=5,
                                   SnapshotId=sid)
        self.assertEqual(r["Size"], 5)
        # Paging over many snapshots.
        admin("POST", "/config", {"snapshot_delay_ms": 0})
        ids = {sid}
        for _ in range(11):
            ids.add(self.ec2.create_snapshot(VolumeId=vid)["SnapshotId"])
        got, token, pages = [], None, 0
        while True:
            kw = {"MaxResults": 5, "OwnerIds": ["self"]}
            if token:
                kw["NextToken"] = token
            r = self.ec2.describe_snapshots(**kw)
            got += [x["SnapshotId"] for x in r["Snapshots"]]
            pages += 1
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual((pages, set(got)), (3, ids))
        self.ec2.delete_snapshot(SnapshotId=sid)
        self.assertIn(sid, admin("GET", "/state")["deleted_snapshots"])
        for call, code in [
                (lambda: self.ec2.delete_snapshot(SnapshotId=sid),
                 "InvalidSnapshot.NotFound"),
                (lambda: self.ec2.describe_snapshots(SnapshotIds=[sid]),
                 "InvalidSnapshot.NotFound"),
                (lambda: self.ec2.describe_snapshots(SnapshotIds=["snap-x"]),
                 "InvalidSnapshotID.Malformed"),
                (lambda: self.ec2.create_volume(
                    AvailabilityZone=REGION + "a", SnapshotId=sid),
                 "InvalidSnapshot.NotFound"),
                (lambda: self.ec2.create_snapshot(
                    VolumeId="vol-0123456789abcdef0"),
                 "InvalidVolume.NotFound"),
                (lambda: self.ec2.create_snapshot(
                    VolumeId=vid, TagSpecifications=[{
                        "ResourceType": "volume", "Tags": tags}]),
                 "InvalidParameterValue")]:
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertEqual(code_of(cm.exception), code)
        admin("POST", "/config", {"create_delay_ms": 60000})
        creating = self.ec2.create_volume(AvailabilityZone=REGION + "a",
                                          Size=1)["VolumeId"]
        with self.assertRaises(ClientError) as cm:
            self.ec2.create_snapshot(VolumeId=creating)
        self.assertEqual(code_of(cm.exception), "IncorrectState")
        admin("POST", "/config", {"snapshot_limit": len(ids) - 1})
        with self.assertRaises(ClientError) as cm:
            self.ec2.create_snapshot(VolumeId=vid)
        self.assertEqual(code_of(cm.exception), "SnapshotLimitExceeded")

    def test_modify_and_tags(self):
        admin("POST", "/config", {"modify_delay_ms": 100,
                                  "optimize_delay_ms": 100})
        vid = self.ec2.create_volume(AvailabilityZone=REGION + "a", Size=5,
                                     VolumeType="gp2")["VolumeId"]
        m = self.ec2.modify_volume(VolumeId=vid, Size=20, VolumeType="gp3")
        self.assertEqual(m["VolumeModification"]["ModificationState"],
                         "modifying")
        self.assertEqual(m["VolumeModification"]["TargetSize"], 20)
        with self.assertRaises(ClientError) as cm:
            self.ec2.modify_volume(VolumeId=vid, Size=30)
        self.assertEqual(code_of(cm.exception), "IncorrectModificationState")
        wait_for(lambda: self.ec2.describe_volumes_modifications(
            VolumeIds=[vid])["VolumesModifications"][0]["ModificationState"]
            == "completed", "completed")
        vol = self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
        self.assertEqual((vol["Size"], vol["VolumeType"]), (20, "gp3"))
        with self.assertRaises(ClientError) as cm:
            self.ec2.modify_volume(VolumeId=vid, Size=10)
        self.assertEqual(code_of(cm.exception), "InvalidParameterValue")
        self.ec2.create_tags(Resources=[vid], Tags=[{"Key": "a", "Value": "1"}])
        vol = self.ec2.describe_volumes(VolumeIds=[vid])["Volumes"][0]
        self.assertEqual(vol["Tags"], [{"Key": "a", "Value": "1"}])

    def test_signature_errors(self):
        bad = client("ec2", sk=ENV["AWS_SECRET_ACCESS_KEY"] + "x")
        with self.assertRaises(ClientError) as cm:
            bad.describe_volumes()
        self.assertEqual(code_of(cm.exception), "SignatureDoesNotMatch")
        unknown = client("ec2", ak="AKIAUNKNOWNKEY000000")
        with self.assertRaises(ClientError) as cm:
            unknown.describe_volumes()
        self.assertEqual(code_of(cm.exception), "AuthFailure")
        # A request signed ten minutes ago.
        body = b"Action=DescribeVolumes&Version=2016-11-15"
        url = ENV["AWS_ENDPOINT_URL"] + "/"
        req = AWSRequest(method="POST", url=url, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        old = (datetime.datetime.utcnow() -
               datetime.timedelta(minutes=10)).strftime("%Y%m%dT%H%M%SZ")
        req.context["timestamp"] = old
        signer = SigV4Auth(Credentials(ENV["AWS_ACCESS_KEY_ID"],
                                       ENV["AWS_SECRET_ACCESS_KEY"]),
                           "ec2", REGION)
        req.headers["X-Amz-Date"] = old
        req.headers["Host"] = url.split("/")[2]
        canonical = signer.canonical_request(req)
        sig = signer.signature(signer.string_to_sign(req, canonical), req)
        req.headers["Authorization"] = (
            "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, "
            "Signature=%s" % (signer.scope(req),
                              signer.signed_headers(
                                  signer.headers_to_sign(req)), sig))
        r = urllib.request.Request(url, data=body, method="POST",
                                   headers=dict(req.headers.items()))
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(r, timeout=10)
        self.assertIn(b"<Code>RequestExpired</Code>", cm.exception.read())

    def test_throttling_and_retries(self):
        admin("POST", "/faults", {"throttle_next": 2})
        admin("POST", "/counters/reset", {})
        c = client("ec2", retries=5)
        c.describe_volumes()
        counters = admin("GET", "/counters")
        self.assertEqual(counters["faults"]["throttled"], 2)
        self.assertEqual(counters["ok"]["ec2.DescribeVolumes"], 1)
        admin("POST", "/faults", {"error_next": 1})
        with self.assertRaises(ClientError) as cm:
            self.ec2.describe_volumes()
        self.assertEqual(code_of(cm.exception), "InternalError")
        self.assertEqual(cm.exception.response["ResponseMetadata"]
                         ["HTTPStatusCode"], 500)


class TestEfs(Base):
    def test_access_points(self):
        kw = dict(ClientToken="pvc-123", FileSystemId=FS,
                  PosixUser={"Uid": 1000, "Gid": 1000},
                  RootDirectory={"Path": "/dynamic/pvc-123", "CreationInfo": {
                      "OwnerUid": 1000, "OwnerGid": 1000,
                      "Permissions": "0700"}},
                  Tags=[{"Key": "efs.csi.aws.com/cluster", "Value": "true"}])
        ap = self.efs.create_access_point(**kw)
        self.assertEqual(ap["LifeCycleState"], "available")
        self.assertEqual(ap["FileSystemId"], FS)
        self.assertTrue(ap["AccessPointArn"].endswith(ap["AccessPointId"]))
        again = self.efs.create_access_point(**kw)
        self.assertEqual(again["AccessPointId"], ap["AccessPointId"])
        with self.assertRaises(ClientError) as cm:
            self.efs.create_access_point(**dict(kw, PosixUser={"Uid": 1,
                                                               "Gid": 1}))
        self.assertEqual(code_of(cm.exception), "AccessPointAlreadyExists")
        listed = self.efs.describe_access_points(FileSystemId=FS)
        self.assertEqual([a["AccessPointId"] for a in listed["AccessPoints"]],
                         [ap["AccessPointId"]])
        one = self.efs.describe_access_points(AccessPointId=ap["AccessPointId"])
        self.assertEqual(one["AccessPoints"][0]["RootDirectory"]["Path"],
                         "/dynamic/pvc-123")
        self.efs.delete_access_point(AccessPointId=ap["AccessPointId"])
        with self.assertRaises(ClientError) as cm:
            self.efs.delete_access_point(AccessPointId=ap["AccessPointId"])
        self.assertEqual(code_of(cm.exception), "AccessPointNotFound")
        with self.assertRaises(ClientError) as cm:
            self.efs.create_access_point(ClientToken="x",
                                         FileSystemId="fs-00000000")
        self.assertEqual(code_of(cm.exception), "FileSystemNotFound")

    def test_paging(self):
        for n in range(5):
            self.efs.create_access_point(ClientToken="t%d" % n,
                                         FileSystemId=FS)
        seen, token = [], None
        while True:
            kw = {"FileSystemId": FS, "MaxResults": 2}
            if token:
                kw["NextToken"] = token
            r = self.efs.describe_access_points(**kw)
            seen += [a["AccessPointId"] for a in r["AccessPoints"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(len(set(seen)), 5)

    def test_file_systems_and_mount_targets(self):
        fss = self.efs.describe_file_systems()["FileSystems"]
        self.assertEqual([f["FileSystemId"] for f in fss], [FS])
        self.assertIsInstance(fss[0]["CreationTime"], datetime.datetime)
        mts = self.efs.describe_mount_targets(FileSystemId=FS)["MountTargets"]
        self.assertEqual(sorted(m["AvailabilityZoneName"] for m in mts),
                         [REGION + z for z in "abc"])
        with self.assertRaises(ClientError) as cm:
            self.efs.describe_file_systems(FileSystemId="fs-00000000")
        self.assertEqual(code_of(cm.exception), "FileSystemNotFound")

    def test_signature_and_throttling(self):
        bad = client("efs", sk="wrong")
        with self.assertRaises(ClientError) as cm:
            bad.describe_file_systems()
        self.assertEqual(code_of(cm.exception), "InvalidSignatureException")
        admin("POST", "/faults", {"throttle_next": 1})
        with self.assertRaises(ClientError) as cm:
            self.efs.describe_file_systems()
        self.assertEqual(code_of(cm.exception), "ThrottlingException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]
                         ["HTTPStatusCode"], 429)


class TestCredentials(Base):
    def test_web_identity_and_assume_role(self):
        with open(ENV["BERTH_AWS_WEB_IDENTITY_TOKEN_FILE"]) as f:
            token = f.read().strip()
        r = self.sts.assume_role_with_web_identity(
            RoleArn=ENV["BERTH_AWS_ROLE_ARN"], RoleSessionName="berth-test",
            WebIdentityToken=token)
        c = r["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        self.assertIsInstance(c["Expiration"], datetime.datetime)
        with self.assertRaises(ClientError) as cm:
            self.sts.assume_role_with_web_identity(
                RoleArn=ENV["BERTH_AWS_ROLE_ARN"], RoleSessionName="x1",
                WebIdentityToken="not-the-token")
        self.assertEqual(code_of(cm.exception), "InvalidIdentityToken")
        temp = client("sts", c["AccessKeyId"], c["SecretAccessKey"],
                      c["SessionToken"])
        who = temp.get_caller_identity()
        self.assertEqual(who["Arn"], ENV["BERTH_AWS_ROLE_ARN"])
        # The temporary key without its token is refused.
        with self.assertRaises(ClientError) as cm:
            client("ec2", c["AccessKeyId"], c["SecretAccessKey"]).describe_volumes()
        self.assertEqual(code_of(cm.exception), "AuthFailure")
        r2 = temp.assume_role(RoleArn="arn:aws:iam::123456789012:role/next",
                              RoleSessionName="chained")
        self.assertTrue(r2["Credentials"]["AccessKeyId"].startswith("ASIA"))
        admin("POST", "/expire-credentials", {})
        with self.assertRaises(ClientError) as cm:
            temp.get_caller_identity()
        self.assertEqual(code_of(cm.exception), "ExpiredToken")

    def test_imds_and_container(self):
        base = ENV["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
        req = urllib.request.Request(base + "/latest/meta-data/placement/region")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(cm.exception.code, 401)
        put = urllib.request.Request(base + "/latest/api/token", method="PUT",
                                     headers={"X-aws-ec2-metadata-token-ttl-"
                                              "seconds": "60"})
        token = urllib.request.urlopen(put, timeout=5).read().decode()
        get = lambda p: urllib.request.urlopen(urllib.request.Request(  # noqa
            base + p, headers={"X-aws-ec2-metadata-token": token}),
            timeout=5).read().decode()
        self.assertEqual(get("/latest/meta-data/placement/region"), REGION)
        role = get("/latest/meta-data/iam/security-credentials/")
        creds = json.loads(get("/latest/meta-data/iam/security-credentials/" +
                               role))
        self.assertEqual(creds["Code"], "Success")
        client("ec2", creds["AccessKeyId"], creds["SecretAccessKey"],
               creds["Token"]).describe_volumes()
        with open(ENV["BERTH_AWS_CONTAINER_TOKEN_FILE"]) as f:
            ct = f.read().strip()
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(ENV["BERTH_AWS_CONTAINER_URL"], timeout=5)
        self.assertEqual(cm.exception.code, 401)
        r = urllib.request.urlopen(urllib.request.Request(
            ENV["BERTH_AWS_CONTAINER_URL"], headers={"Authorization": ct}),
            timeout=5)
        creds = json.loads(r.read())
        client("efs", creds["AccessKeyId"], creds["SecretAccessKey"],
               creds["Token"]).describe_file_systems()
        counters = admin("GET", "/counters")
        self.assertEqual(counters["credentials"]["imds"], 1)
        self.assertEqual(counters["credentials"]["container"], 1)


if __name__ == "__main__":
    # botocore's pooled connections outlive the clients: not our concern.
    warnings.simplefilter("ignore", ResourceWarning)
    for var in ("AWS_ENDPOINT_URL", "BERTH_AWS_ADMIN_URL"):
        if var not in ENV:
            print("FAIL: %s is not set: run under tests/bed/bed.py run aws --"
                  % var, file=sys.stderr)
            sys.exit(1)
    unittest.main(verbosity=2, warnings="ignore")
