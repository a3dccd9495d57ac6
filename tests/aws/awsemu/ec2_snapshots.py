# SPDX-License-Identifier: Apache-2.0
"""EC2 Query API (2016-11-15): EBS snapshots.

CreateSnapshot, DescribeSnapshots and DeleteSnapshot as the EC2 API
reference documents them: a new snapshot is "pending" and becomes
"completed" after config snapshot_delay_ms (or stays pending while the
fault stuck_snapshot is on); it copies its volume's size and encryption;
tags come from TagSpecification.N (ResourceType=snapshot). CreateVolume
with SnapshotId (ec2.create_volume) asks snapshot_for_volume here.
Errors are the documented codes: InvalidVolume.NotFound,
InvalidSnapshot.NotFound, InvalidSnapshotID.Malformed, IncorrectState,
SnapshotLimitExceeded (config snapshot_limit, 0 for none).
"""

import re

from .core import ApiError, hex_id, iso
from . import ec2

SNAP_RE = re.compile(r"^snap-([0-9a-f]{8}|[0-9a-f]{17})$")


def check_snapshot_id(sid):
    if not SNAP_RE.match(sid):
        raise ApiError("InvalidSnapshotID.Malformed",
                       "Invalid id: \"%s\" (expecting \"snap-...\")" % sid)


def get_snapshot(emu, sid):
    check_snapshot_id(sid)
    s = emu.snapshots.get(sid)
    if s is None:
        raise ApiError("InvalidSnapshot.NotFound",
                       "The snapshot '%s' does not exist." % sid)
    return s


def snapshot_state(emu, s):
    if s["ready"] is None or emu.now() < s["ready"]:
        return "pending"
    return "completed"


def snapshot_view(emu, s):
    return {"SnapshotId": s["id"], "VolumeId": s["volume"],
            "State": snapshot_state(emu, s), "VolumeSize": s["size"],
            "Encrypted": s["encrypted"], "KmsKeyId": s["kms"],
            "Description": s["description"], "Tags": dict(s["tags"]),
            "StartTime": iso(s["start"]), "OutpostArn": s["outpost"]}


def snapshot_fields(emu, s, state=None):
    x = ec2.x
    state = state or snapshot_state(emu, s)
    out = [x("snapshotId", s["id"]), x("volumeId", s["volume"]),
           x("status", state), x("startTime", iso(s["start"])),
           x("progress", "100%" if state == "completed" else "0%"),
           x("ownerId", emu.account), x("volumeSize", s["size"]),
           "<description>%s</description>" % ec2.escape(s["description"]),
           x("encrypted", s["encrypted"]), x("kmsKeyId", s["kms"]),
           x("outpostArn", s["outpost"]), x("storageTier", "standard")]
    if state == "completed":
        out.append(x("completionTime", iso(s["ready"])))
    if s["tags"]:
        out.append(ec2.tag_set(s["tags"]))
    return "".join(out)


def snapshot_tags(params):
    tags = {}
    i = 1
    while "TagSpecification.%d.ResourceType" % i in params:
        rtype = params["TagSpecification.%d.ResourceType" % i]
        if rtype != "snapshot":
            raise ApiError("InvalidParameterValue",
                           "'%s' is not a valid taggable resource type for "
                           "this operation." % rtype)
        tags.update(ec2.tags_param(params, "TagSpecification.%d.Tag" % i))
        i += 1
    if len(tags) > 50:
        raise ApiError("TagLimitExceeded", "The maximum number of tags (50) "
                                           "has been reached.")
    return tags


def create_snapshot(emu, params):
    ec2.dry_run(params)
    vid = params.get("VolumeId")
    if not vid:
        raise ApiError("MissingParameter", "The request must contain the "
                                           "parameter VolumeId")
    v = ec2.get_volume(emu, vid)
    state = ec2.volume_state(emu, v)
    if state not in ("available", "in-use"):
        raise ApiError("IncorrectState", "The volume '%s' is in the '%s' "
                       "state and cannot be snapshotted." % (vid, state))
    tags = snapshot_tags(params)
    limit = emu.config["snapshot_limit"]
    if limit and len(emu.snapshots) >= limit:
        raise ApiError("SnapshotLimitExceeded",
                       "The maximum number of snapshots (%d) has been "
                       "reached." % limit)
    now = emu.now()
    s = {"id": hex_id("snap-"), "volume": vid, "size": v["size"],
         "encrypted": v["encrypted"], "kms": v["kms"],
         "description": params.get("Description", ""), "tags": tags,
         "start": now, "outpost": params.get("OutpostArn") or v.get("outpost"),
         "ready": None if emu.faults["stuck_snapshot"] else
         now + emu.config["snapshot_delay_ms"] / 1000}
    emu.snapshots[s["id"]] = s
    # A new snapshot is always "pending" in CreateSnapshot's answer.
    return ec2.respond(emu, "CreateSnapshot",
                       snapshot_fields(emu, s, "pending"))


def owned(emu, params):
    """OwnerId.N: "self" or the account id (or amazon, which owns none of
    these snapshots)."""
    owners = ec2.plist(params, "Owner")
    return not owners or any(o in ("self", emu.account) for o in owners)


SNAPSHOT_FILTERS = {
    "snapshot-id": lambda e, s: [s["id"]],
    "volume-id": lambda e, s: [s["volume"]],
    "status": lambda e, s: [snapshot_state(e, s)],
    "volume-size": lambda e, s: [s["size"]],
    "encrypted": lambda e, s: [s["encrypted"]],
    "owner-id": lambda e, s: [e.account],
    "description": lambda e, s: [s["description"]],
    "progress": lambda e, s: ["100%" if snapshot_state(e, s) == "completed"
                              else "0%"],
    "tag-key": lambda e, s: list(s["tags"]),
    "tag-value": lambda e, s: list(s["tags"].values()),
}


def describe_snapshots(emu, params):
    ec2.dry_run(params)
    ids = ec2.plist(params, "SnapshotId")
    ec2.check_max_results(params, 5, 1000, bool(ids))
    if ids:
        items = [get_snapshot(emu, sid) for sid in ids]
    else:
        items = list(emu.snapshots.values()) if owned(emu, params) else []
    items = ec2.apply_filters(emu, items, SNAPSHOT_FILTERS, params)
    items, token = ec2.page(items, lambda s: s["id"], params)
    body = "<snapshotSet>%s</snapshotSet>" % "".join(
        "<item>%s</item>" % snapshot_fields(emu, s) for s in items) if items \
        else "<snapshotSet/>"
    return ec2.respond(emu, "DescribeSnapshots", body + ec2.x("nextToken", token))


def delete_snapshot(emu, params):
    ec2.dry_run(params)
    sid = params.get("SnapshotId")
    if not sid:
        raise ApiError("MissingParameter", "The request must contain the "
                                           "parameter SnapshotId")
    get_snapshot(emu, sid)
    del emu.snapshots[sid]
    emu.deleted_snapshots.append(sid)
    return ec2.respond(emu, "DeleteSnapshot", "<return>true</return>")


def snapshot_for_volume(emu, sid, size):
    """(size, encrypted, kms) of a volume CreateVolume makes from snapshot
    sid: the snapshot must be completed; the size defaults to the
    snapshot's and may not be smaller; a volume of an encrypted snapshot is
    encrypted with its key (EBS User Guide, "Create a volume from a
    snapshot")."""
    s = get_snapshot(emu, sid)
    state = snapshot_state(emu, s)
    if state != "completed":
        raise ApiError("IncorrectState", "Snapshot '%s' is in the '%s' state "
                       "and cannot be used to create a volume." % (sid, state))
    if size is None:
        size = s["size"]
    if size < s["size"]:
        raise ApiError("InvalidParameterValue",
                       "Volume of size %dGiB is smaller than snapshot '%s', "
                       "expect size >= %dGiB" % (size, sid, s["size"]))
    return size, s["encrypted"], s["kms"]


ACTIONS = {
    "CreateSnapshot": create_snapshot,
    "DescribeSnapshots": describe_snapshots,
    "DeleteSnapshot": delete_snapshot,
}
