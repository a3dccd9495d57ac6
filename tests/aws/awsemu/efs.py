# SPDX-License-Identifier: Apache-2.0
"""EFS REST-JSON API (version 2015-02-01): access points, file systems,
mount targets.

  POST   /2015-02-01/access-points                  CreateAccessPoint (200)
  GET    /2015-02-01/access-points?...              DescribeAccessPoints
  DELETE /2015-02-01/access-points/{AccessPointId}  DeleteAccessPoint (204)
  GET    /2015-02-01/file-systems?...               DescribeFileSystems
  GET    /2015-02-01/mount-targets?...              DescribeMountTargets
  DELETE /2015-02-01/resource-tags/{ResourceId}?tagKeys=...  UntagResource

Errors: HTTP status from botocore's model, header x-amzn-ErrorType, body
{"ErrorCode": ..., "Message": ...}.
"""

import json
import re
from urllib.parse import parse_qs, unquote

from .core import ApiError, hex_id

AP_RE = re.compile(r"^fsap-[0-9a-f]{8,40}$")
FS_RE = re.compile(r"^fs-[0-9a-f]{8,40}$")
MAX_ACCESS_POINTS = 1000


def ap_state(emu, ap):
    if emu.now() < ap["ready"]:
        return "creating"
    return "available"


def ap_view(emu, ap):
    out = {
        "ClientToken": ap["token"],
        "Tags": [{"Key": k, "Value": v} for k, v in ap["tags"].items()],
        "AccessPointId": ap["id"],
        "AccessPointArn": "arn:aws:elasticfilesystem:%s:%s:access-point/%s" %
                          (emu.region, emu.account, ap["id"]),
        "FileSystemId": ap["fs"],
        "RootDirectory": ap["root"],
        "OwnerId": emu.account,
        "LifeCycleState": ap_state(emu, ap),
    }
    if "Name" in ap["tags"]:
        out["Name"] = ap["tags"]["Name"]
    if ap["posix"] is not None:
        out["PosixUser"] = ap["posix"]
    return out


def fs_view(emu, fs):
    mts = [m for m in emu.mount_targets.values() if m["fs"] == fs["id"]]
    return {
        "OwnerId": emu.account, "CreationToken": fs["token"],
        "FileSystemId": fs["id"],
        "FileSystemArn": "arn:aws:elasticfilesystem:%s:%s:file-system/%s" %
                         (emu.region, emu.account, fs["id"]),
        "CreationTime": int(fs["created"]), "LifeCycleState": "available",
        "Name": fs["name"], "NumberOfMountTargets": len(mts),
        "SizeInBytes": {"Value": 6144, "ValueInStandard": 6144},
        "PerformanceMode": "generalPurpose", "Encrypted": True,
        "KmsKeyId": "arn:aws:kms:%s:%s:key/aws-efs-default" % (emu.region,
                                                               emu.account),
        "ThroughputMode": "bursting",
        "Tags": [{"Key": k, "Value": v} for k, v in fs["tags"].items()],
    }


def mt_view(emu, mt):
    return {
        "OwnerId": emu.account, "MountTargetId": mt["id"],
        "FileSystemId": mt["fs"], "SubnetId": mt["subnet"],
        "LifeCycleState": "available", "IpAddress": mt["ip"],
        "NetworkInterfaceId": mt["eni"],
        "AvailabilityZoneId": "use1-az%d" % (emu.zones.index(mt["zone"]) + 1
                                             if mt["zone"] in emu.zones else 9),
        "AvailabilityZoneName": mt["zone"], "VpcId": "vpc-0123456789abcdef0",
    }


def error_body(code, message):
    return json.dumps({"ErrorCode": code, "Message": message})


def bad(message):
    return ApiError("BadRequest", message, 400)


def query_params(query):
    out = {}
    for k, vs in parse_qs(query, keep_blank_values=True,
                          strict_parsing=False).items():
        out[k] = vs[-1]
    return out


def int_q(q, name, lo, hi):
    if name not in q:
        return None
    try:
        v = int(q[name])
    except ValueError:
        raise bad("%s must be an integer" % name)
    if not lo <= v <= hi:
        raise bad("%s must be between %d and %d" % (name, lo, hi))
    return v


def paginate(items, q, limit_name, token_name, next_name, default):
    limit = int_q(q, limit_name, 1, 1000) or default
    start = 0
    if q.get(token_name):
        try:
            start = int(q[token_name])
        except ValueError:
            raise bad("invalid %s" % token_name)
    chunk = items[start:start + limit]
    nxt = str(start + limit) if start + limit < len(items) else None
    return chunk, nxt


def get_fs(emu, fs_id):
    if not FS_RE.match(fs_id or ""):
        raise bad("invalid FileSystemId %r" % fs_id)
    fs = emu.filesystems.get(fs_id)
    if fs is None:
        raise ApiError("FileSystemNotFound",
                       "File system '%s' does not exist." % fs_id, 404)
    return fs


def get_ap(emu, ap_id):
    if not AP_RE.match(ap_id or ""):
        raise bad("invalid AccessPointId %r" % ap_id)
    ap = emu.access_points.get(ap_id)
    if ap is None:
        raise ApiError("AccessPointNotFound",
                       "Access point '%s' does not exist." % ap_id, 404)
    return ap


def check_posix(p):
    if p is None:
        return None
    if not isinstance(p, dict) or "Uid" not in p or "Gid" not in p:
        raise bad("PosixUser needs Uid and Gid")
    for k in ("Uid", "Gid"):
        if not isinstance(p[k], int) or not 0 <= p[k] <= 4294967295:
            raise bad("PosixUser.%s must be 0..4294967295" % k)
    out = {"Uid": p["Uid"], "Gid": p["Gid"]}
    if p.get("SecondaryGids"):
        out["SecondaryGids"] = list(p["SecondaryGids"])
    return out


def check_root(r):
    if r is None:
        return {"Path": "/"}
    if not isinstance(r, dict):
        raise bad("RootDirectory must be an object")
    path = r.get("Path", "/")
    if (not isinstance(path, str) or not path.startswith("/") or
            len(path) > 100 or "/../" in path + "/" or "//" in path):
        raise bad("RootDirectory.Path must be an absolute path of at most "
                  "100 characters without '..' or '//'")
    out = {"Path": path}
    ci = r.get("CreationInfo")
    if ci is not None:
        if not all(k in ci for k in ("OwnerUid", "OwnerGid", "Permissions")):
            raise bad("CreationInfo needs OwnerUid, OwnerGid and Permissions")
        if not re.match(r"^[0-7]{3,4}$", str(ci["Permissions"])):
            raise bad("CreationInfo.Permissions must be octal, e.g. 0755")
        out["CreationInfo"] = {"OwnerUid": ci["OwnerUid"],
                               "OwnerGid": ci["OwnerGid"],
                               "Permissions": ci["Permissions"]}
    return out


def create_access_point(emu, body):
    try:
        req = json.loads(body or b"{}")
    except ValueError:
        raise bad("the body is not JSON")
    if not isinstance(req, dict):
        raise bad("the body is not a JSON object")
    token = req.get("ClientToken")
    if not token or not isinstance(token, str) or len(token) > 64:
        raise bad("ClientToken is required (1..64 characters)")
    fs = get_fs(emu, req.get("FileSystemId"))
    posix = check_posix(req.get("PosixUser"))
    root = check_root(req.get("RootDirectory"))
    tags = {}
    for t in req.get("Tags") or []:
        if not isinstance(t, dict) or "Key" not in t or "Value" not in t:
            raise bad("Tags must be {Key, Value} objects")
        tags[t["Key"]] = t["Value"]
    fingerprint = json.dumps({"fs": fs["id"], "posix": posix, "root": root,
                              "tags": tags}, sort_keys=True)
    prev = emu.ap_tokens.get(token)
    if prev is not None:
        ap_id, fp = prev
        ap = emu.access_points.get(ap_id)
        if fp == fingerprint and ap is not None:
            emu.count("efs", "CreateAccessPoint.idempotent")
            return 200, ap_view(emu, ap)
        raise ApiError("AccessPointAlreadyExists",
                       "Access point with client token %s already exists "
                       "(%s)" % (token, ap_id), 409)
    if sum(1 for a in emu.access_points.values()
           if a["fs"] == fs["id"]) >= MAX_ACCESS_POINTS:
        raise ApiError("AccessPointLimitExceeded",
                       "You have reached the maximum number of access points "
                       "(%d) for file system %s." % (MAX_ACCESS_POINTS,
                                                     fs["id"]), 403)
    ap = {"id": hex_id("fsap-"), "fs": fs["id"], "token": token,
          "posix": posix, "root": root, "tags": tags,
          "ready": emu.now() + emu.config["ap_create_delay_ms"] / 1000}
    emu.access_points[ap["id"]] = ap
    emu.ap_tokens[token] = (ap["id"], fingerprint)
    return 200, ap_view(emu, ap)


def describe_access_points(emu, q):
    ap_id = q.get("AccessPointId")
    fs_id = q.get("FileSystemId")
    if ap_id and fs_id:
        raise bad("give AccessPointId or FileSystemId, not both")
    if ap_id:
        items = [get_ap(emu, ap_id)]
    elif fs_id:
        get_fs(emu, fs_id)
        items = [a for a in emu.access_points.values() if a["fs"] == fs_id]
    else:
        items = list(emu.access_points.values())
    items.sort(key=lambda a: a["id"])
    chunk, nxt = paginate(items, q, "MaxResults", "NextToken", None, 100)
    out = {"AccessPoints": [ap_view(emu, a) for a in chunk]}
    if nxt is not None:
        out["NextToken"] = nxt
    return 200, out


def delete_access_point(emu, ap_id):
    get_ap(emu, ap_id)
    del emu.access_points[ap_id]
    return 204, None


def describe_file_systems(emu, q):
    fs_id = q.get("FileSystemId")
    token = q.get("CreationToken")
    if fs_id:
        items = [get_fs(emu, fs_id)]
    else:
        items = sorted(emu.filesystems.values(), key=lambda f: f["id"])
    if token:
        items = [f for f in items if f["token"] == token]
    chunk, nxt = paginate(items, q, "MaxItems", "Marker", None, 100)
    out = {"FileSystems": [fs_view(emu, f) for f in chunk]}
    if q.get("Marker"):
        out["Marker"] = q["Marker"]
    if nxt is not None:
        out["NextMarker"] = nxt
    return 200, out


def describe_mount_targets(emu, q):
    fs_id = q.get("FileSystemId")
    mt_id = q.get("MountTargetId")
    ap_id = q.get("AccessPointId")
    if sum(1 for v in (fs_id, mt_id, ap_id) if v) != 1:
        raise bad("give exactly one of FileSystemId, MountTargetId and "
                  "AccessPointId")
    if mt_id:
        mt = emu.mount_targets.get(mt_id)
        if mt is None:
            raise ApiError("MountTargetNotFound", "Mount target '%s' does "
                                                  "not exist." % mt_id, 404)
        items = [mt]
    else:
        if ap_id:
            fs_id = get_ap(emu, ap_id)["fs"]
        get_fs(emu, fs_id)
        items = sorted((m for m in emu.mount_targets.values()
                        if m["fs"] == fs_id), key=lambda m: m["id"])
    chunk, nxt = paginate(items, q, "MaxItems", "Marker", None, 10)
    out = {"MountTargets": [mt_view(emu, m) for m in chunk]}
    if q.get("Marker"):
        out["Marker"] = q["Marker"]
    if nxt is not None:
        out["NextMarker"] = nxt
    return 200, out


def untag_resource(emu, rid, query):
    """UntagResource: the tagKeys (repeated) off an access point or a file
    system; a key it does not carry is no error."""
    keys = parse_qs(query, keep_blank_values=True).get("tagKeys", [])
    if not keys:
        raise bad("tagKeys is required")
    if rid.startswith("fsap-"):
        obj = get_ap(emu, rid)
    else:
        obj = get_fs(emu, rid)
    for k in keys:
        obj["tags"].pop(k, None)
    return 200, None


def action_of(method, path):
    """The EFS action for a request, or None."""
    if path == "/2015-02-01/access-points":
        return {"POST": "CreateAccessPoint",
                "GET": "DescribeAccessPoints"}.get(method)
    if path.startswith("/2015-02-01/access-points/"):
        return "DeleteAccessPoint" if method == "DELETE" else None
    if path.startswith("/2015-02-01/resource-tags/") and method == "DELETE":
        return "UntagResource"
    if path == "/2015-02-01/file-systems" and method == "GET":
        return "DescribeFileSystems"
    if path == "/2015-02-01/mount-targets" and method == "GET":
        return "DescribeMountTargets"
    return None


def handle(emu, method, path, query, body):
    """Answer one EFS request: (status, content type, body)."""
    action = action_of(method, path)
    if action is None:
        raise ApiError("UnknownOperationException",
                       "no EFS operation %s %s" % (method, path), 404)
    q = query_params(query)
    with emu.lock:
        if action == "CreateAccessPoint":
            status, out = create_access_point(emu, body)
        elif action == "DescribeAccessPoints":
            status, out = describe_access_points(emu, q)
        elif action == "DeleteAccessPoint":
            status, out = delete_access_point(
                emu, unquote(path[len("/2015-02-01/access-points/"):]))
        elif action == "DescribeFileSystems":
            status, out = describe_file_systems(emu, q)
        elif action == "UntagResource":
            status, out = untag_resource(
                emu, unquote(path[len("/2015-02-01/resource-tags/"):]), query)
        else:
            status, out = describe_mount_targets(emu, q)
    if out is None:
        return status, None, b""
    return status, "application/json", json.dumps(out)
