# SPDX-License-Identifier: Apache-2.0
"""EC2 Query API (version 2016-11-15): volumes, attachments,
modifications, tags, instances, availability zones (snapshots are in
ec2_snapshots.py).

Requests are form parameters (Action=...&Version=...&VolumeId.1=...);
answers are XML in the 2016-11-15 namespace, errors are
<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>.
Shapes and error codes follow the EC2 API reference and botocore's model
(tests/aws/test_emulator.py parses every answer with botocore).
"""

import base64
import fnmatch
import json
import re
from xml.sax.saxutils import escape

from .core import ApiError, hex_id, iso

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

VOLUME_TYPES = {
    # type: (min size, max size)
    "gp2": (1, 16384), "gp3": (1, 16384), "io1": (4, 16384),
    "io2": (4, 65536), "st1": (125, 16384), "sc1": (125, 16384),
    "standard": (1, 1024),
}

VOL_RE = re.compile(r"^vol-([0-9a-f]{8}|[0-9a-f]{17})$")
INST_RE = re.compile(r"^i-([0-9a-f]{8}|[0-9a-f]{17})$")
DEVICE_RE = re.compile(r"^/dev/(sd[b-z]|xvd[b-z][a-z]?|sd[b-z][a-z]?)$")


# --- parameters ---------------------------------------------------------------

def plist(params, prefix):
    """Values of Prefix.1, Prefix.2, ... in order."""
    out = []
    i = 1
    while "%s.%d" % (prefix, i) in params:
        out.append(params["%s.%d" % (prefix, i)])
        i += 1
    return out


def filters(params):
    """[(name, [values])] from Filter.N.Name / Filter.N.Value.M."""
    out = []
    i = 1
    while "Filter.%d.Name" % i in params:
        out.append((params["Filter.%d.Name" % i],
                    plist(params, "Filter.%d.Value" % i)))
        i += 1
    return out


def tags_param(params, prefix):
    """{key: value} from Prefix.N.Key / Prefix.N.Value."""
    out = {}
    i = 1
    while "%s.%d.Key" % (prefix, i) in params:
        key = params["%s.%d.Key" % (prefix, i)]
        if key.startswith("aws:"):
            raise ApiError("InvalidParameterValue",
                           "Tag keys starting with 'aws:' are reserved for "
                           "internal use")
        if len(key) > 128 or len(params.get("%s.%d.Value" % (prefix, i), "")) > 256:
            raise ApiError("InvalidParameterValue", "Tag key or value too long")
        out[key] = params.get("%s.%d.Value" % (prefix, i), "")
        i += 1
    return out


def int_param(params, name, lo=None, hi=None, required=False):
    if name not in params:
        if required:
            raise ApiError("MissingParameter",
                           "The request must contain the parameter %s" % name)
        return None
    try:
        v = int(params[name])
    except ValueError:
        raise ApiError("InvalidParameterValue",
                       "Value (%s) for parameter %s is invalid." %
                       (params[name], name))
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ApiError("InvalidParameterValue",
                       "Value (%d) for parameter %s is invalid. Must be "
                       "between %s and %s." % (v, name, lo, hi))
    return v


def bool_param(params, name):
    v = params.get(name)
    if v is None:
        return None
    if v.lower() not in ("true", "false"):
        raise ApiError("InvalidParameterValue",
                       "Value (%s) for parameter %s is invalid." % (v, name))
    return v.lower() == "true"


def check_volume_id(vid):
    if not VOL_RE.match(vid):
        raise ApiError("InvalidVolumeID.Malformed",
                       "Invalid id: \"%s\" (expecting \"vol-...\")" % vid)


def check_instance_id(iid):
    if not INST_RE.match(iid):
        raise ApiError("InvalidInstanceID.Malformed",
                       "Invalid id: \"%s\"" % iid)


def page_token(last):
    return base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode()


def page(items, key, params):
    """One page of items (sorted by key) from MaxResults and NextToken."""
    limit = params.get("MaxResults")
    token = params.get("NextToken")
    items = sorted(items, key=key)
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
        except Exception:
            raise ApiError("InvalidParameterValue", "Invalid NextToken")
        items = [x for x in items if key(x) > after]
    if limit is None:
        return items, None
    n = int(limit)
    if len(items) > n:
        return items[:n], page_token(key(items[n - 1]))
    return items, None


def match(values, actual):
    """EC2 filter values match with * and ? wildcards."""
    if actual is None:
        return False
    if isinstance(actual, bool):
        actual = "true" if actual else "false"
    actual = str(actual)
    return any(fnmatch.fnmatchcase(actual, v) for v in values)


# --- views ----------------------------------------------------------------------

def volume_state(emu, v):
    now = emu.now()
    if v["deleting_since"] is not None:
        return "deleting"
    if v["ready"] is None or now < v["ready"]:
        return "creating"
    live = [a for a in v["attachments"] if attachment_state(emu, a) != "detached"]
    return "in-use" if live else "available"


def attachment_state(emu, a):
    now = emu.now()
    if a["detach_ready"] is not None:
        return "detaching" if now < a["detach_ready"] else "detached"
    if a["ready"] is None or now < a["ready"]:
        return "attaching"
    return "attached"


def tidy(emu):
    """Drop finished detachments and finished deletions."""
    now = emu.now()
    for vid in list(emu.volumes):
        v = emu.volumes[vid]
        v["attachments"] = [a for a in v["attachments"]
                            if attachment_state(emu, a) != "detached"]
        if (v["deleting_since"] is not None and
                now >= v["deleting_since"] + emu.config["delete_delay_ms"] / 1000):
            del emu.volumes[vid]
            emu.deleted.append(vid)
    # Modifications advance: apply targets when optimizing starts.
    for vid, mods in emu.modifications.items():
        for m in mods:
            if modification_state(emu, m) != "modifying" and not m["applied"]:
                v = emu.volumes.get(vid)
                if v is not None:
                    v["size"] = m["target"]["size"]
                    v["type"] = m["target"]["type"]
                    v["iops"] = m["target"]["iops"]
                    v["throughput"] = m["target"]["throughput"]
                m["applied"] = True


def modification_state(emu, m):
    now = emu.now()
    c = emu.config
    if now < m["start"] + c["modify_delay_ms"] / 1000:
        return "modifying"
    if now < m["start"] + (c["modify_delay_ms"] + c["optimize_delay_ms"]) / 1000:
        return "optimizing"
    return "completed"


def volume_view(emu, v):
    return {
        "VolumeId": v["id"], "Size": v["size"], "AvailabilityZone": v["zone"],
        "State": volume_state(emu, v), "VolumeType": v["type"],
        "Iops": v["iops"], "Throughput": v["throughput"],
        "Encrypted": v["encrypted"], "KmsKeyId": v["kms"],
        "SnapshotId": v["snapshot"], "Tags": dict(v["tags"]),
        "CreateTime": iso(v["created"]), "Root": v["root"],
        "MultiAttachEnabled": v["multi_attach"],
        "OutpostArn": v.get("outpost"),
        "Attachments": [{"InstanceId": a["instance"], "Device": a["device"],
                         "State": attachment_state(emu, a)}
                        for a in v["attachments"]],
    }


def modification_view(emu, m):
    return {"VolumeId": m["volume"], "ModificationState":
            modification_state(emu, m), "TargetSize": m["target"]["size"],
            "OriginalSize": m["original"]["size"]}


def x(tag, value):
    """<tag>value</tag>, escaped; nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return "<%s>%s</%s>" % (tag, escape(str(value)), tag)


def tag_set(tags):
    if not tags:
        return "<tagSet/>"
    return "<tagSet>%s</tagSet>" % "".join(
        "<item>%s%s</item>" % (x("key", k), x("value", v))
        for k, v in sorted(tags.items()))


def attachment_xml(emu, a, vid, state=None):
    """An attachment; AttachVolume and DetachVolume answer with the state
    the change starts in (attaching, detaching), as EC2 does."""
    return ("%s%s%s%s%s%s" % (
        x("volumeId", vid), x("instanceId", a["instance"]),
        x("device", a["device"]),
        x("status", state or attachment_state(emu, a)),
        x("attachTime", iso(a["time"])),
        x("deleteOnTermination", a["delete_on_termination"])))


def volume_fields(emu, v, with_attachments=True, state=None):
    out = [x("volumeId", v["id"]), x("size", v["size"]),
           "<snapshotId>%s</snapshotId>" % escape(v["snapshot"] or ""),
           x("availabilityZone", v["zone"]),
           x("status", state or volume_state(emu, v)),
           x("createTime", iso(v["created"]))]
    if with_attachments:
        if v["attachments"]:
            out.append("<attachmentSet>%s</attachmentSet>" % "".join(
                "<item>%s</item>" % attachment_xml(emu, a, v["id"])
                for a in v["attachments"]))
        else:
            out.append("<attachmentSet/>")
    out += [x("volumeType", v["type"]), x("iops", v["iops"]),
            x("throughput", v["throughput"]), x("encrypted", v["encrypted"]),
            x("kmsKeyId", v["kms"]),
            x("multiAttachEnabled", v["multi_attach"])]
    if v.get("outpost"):
        out.append(x("outpostArn", v["outpost"]))
    if v["tags"]:
        out.append(tag_set(v["tags"]))
    return "".join(out)


def modification_xml(emu, m):
    state = modification_state(emu, m)
    progress = {"modifying": 0, "optimizing": 50, "completed": 100}[state]
    end = None
    if state == "completed":
        c = emu.config
        end = iso(m["start"] + (c["modify_delay_ms"] + c["optimize_delay_ms"]) / 1000)
    t, o = m["target"], m["original"]
    return "".join([
        x("volumeId", m["volume"]), x("modificationState", state),
        x("targetSize", t["size"]), x("targetIops", t["iops"]),
        x("targetVolumeType", t["type"]), x("targetThroughput", t["throughput"]),
        x("targetMultiAttachEnabled", False),
        x("originalSize", o["size"]), x("originalIops", o["iops"]),
        x("originalVolumeType", o["type"]),
        x("originalThroughput", o["throughput"]),
        x("originalMultiAttachEnabled", False),
        x("progress", progress), x("startTime", iso(m["start"])),
        x("endTime", end)])


def respond(emu, action, inner):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<%sResponse xmlns="%s">\n    <requestId>%s</requestId>\n%s\n'
            '</%sResponse>' % (action, NS, emu.new_request_id(), inner, action))


def error_xml(emu, code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            '<Code>%s</Code><Message>%s</Message></Error></Errors>'
            '<RequestID>%s</RequestID></Response>' %
            (escape(code), escape(message), emu.new_request_id()))


# --- actions --------------------------------------------------------------------

def get_volume(emu, vid):
    check_volume_id(vid)
    v = emu.volumes.get(vid)
    if v is None:
        raise ApiError("InvalidVolume.NotFound",
                       "The volume '%s' does not exist." % vid)
    return v


def get_instance(emu, iid):
    check_instance_id(iid)
    i = emu.instances.get(iid)
    if i is None:
        raise ApiError("InvalidInstanceID.NotFound",
                       "The instance ID '%s' does not exist" % iid)
    return i


def dry_run(params):
    if bool_param(params, "DryRun"):
        raise ApiError("DryRunOperation", "Request would have succeeded, but "
                                          "DryRun flag is set.", 412)


def create_volume(emu, params):
    dry_run(params)
    zone = params.get("AvailabilityZone")
    if not zone:
        raise ApiError("MissingParameter", "The request must contain the "
                                           "parameter AvailabilityZone")
    if zone not in emu.zones:
        raise ApiError("InvalidParameterValue",
                       "Invalid availability zone: [%s]" % zone)
    # A zone fault: EC2's answer when a zone cannot take the volume.
    code = (emu.faults.get("zone_errors") or {}).get(zone)
    if code:
        raise ApiError(code, "There is no capacity for the volume in the "
                             "Availability Zone %s (injected fault)." % zone
                       if code == "InsufficientVolumeCapacity" else
                       "The requested Availability Zone %s is not supported "
                       "for this request (injected fault)." % zone)
    vtype = params.get("VolumeType", "gp2")
    if vtype not in VOLUME_TYPES:
        raise ApiError("InvalidParameterValue",
                       "The parameter VolumeType must be one of: %s" %
                       ", ".join(sorted(VOLUME_TYPES)))
    snapshot = params.get("SnapshotId")
    size = int_param(params, "Size", required=snapshot is None)
    from_snap = None
    if snapshot:
        from_snap = ec2_snapshots.snapshot_for_volume(emu, snapshot, size)
        size = from_snap[0]
    lo, hi = VOLUME_TYPES[vtype]
    if not lo <= size <= hi:
        raise ApiError("InvalidParameterValue",
                       "Volume of %dGiB is too %s; minimum is %dGiB, maximum "
                       "is %dGiB for %s." % (size, "small" if size < lo else
                                             "large", lo, hi, vtype))
    iops = int_param(params, "Iops")
    throughput = int_param(params, "Throughput")
    if vtype in ("io1", "io2"):
        if iops is None:
            raise ApiError("MissingParameter", "The request must contain the "
                                               "parameter iops")
        # io1: 64,000 IOPS and 50 per GiB; io2 (all Block Express now):
        # 256,000 IOPS and 1,000 per GiB.
        ratio, top = (50, 64000) if vtype == "io1" else (1000, 256000)
        if not 100 <= iops <= min(top, ratio * size):
            raise ApiError("InvalidParameterValue",
                           "Iops to volume size ratio of %d is too high; "
                           "maximum is %d." % (iops // size, ratio)
                           if iops > 100 else
                           "The parameter iops must be at least 100")
    elif vtype == "gp3":
        if iops is not None and not 3000 <= iops <= 16000:
            raise ApiError("InvalidParameterValue",
                           "The parameter iops must be between 3000 and 16000")
        if throughput is not None and not 125 <= throughput <= 1000:
            raise ApiError("InvalidParameterValue",
                           "The parameter throughput must be between 125 and "
                           "1000")
    elif iops is not None:
        raise ApiError("InvalidParameterCombination",
                       "The parameter iops is not supported for %s volumes."
                       % vtype)
    if throughput is not None and vtype != "gp3":
        raise ApiError("InvalidParameterCombination",
                       "The parameter throughput is only supported for gp3")
    encrypted = bool_param(params, "Encrypted") or False
    kms = params.get("KmsKeyId")
    # A volume made from an encrypted snapshot is encrypted, with the
    # snapshot's key unless KmsKeyId names another.
    if from_snap is not None and from_snap[1]:
        encrypted = True
        kms = kms or from_snap[2]
    if kms and not encrypted:
        raise ApiError("InvalidParameterDependency",
                       "The parameter KmsKeyId requires the parameter "
                       "Encrypted to be set.")
    tags = {}
    i = 1
    while "TagSpecification.%d.ResourceType" % i in params:
        rtype = params["TagSpecification.%d.ResourceType" % i]
        if rtype != "volume":
            raise ApiError("InvalidParameterValue",
                           "'%s' is not a valid taggable resource type for "
                           "this operation." % rtype)
        tags.update(tags_param(params, "TagSpecification.%d.Tag" % i))
        i += 1
    token = params.get("ClientToken")
    fingerprint = json.dumps({k: v for k, v in sorted(params.items())
                              if k not in ("ClientToken", "Action", "Version",
                                           "DryRun")})
    if token:
        if len(token) > 64:
            raise ApiError("InvalidParameterValue",
                           "ClientToken must be 64 characters or fewer")
        prev = emu.volume_tokens.get(token)
        if prev is not None:
            vid, fp = prev
            if fp != fingerprint:
                raise ApiError("IdempotentParameterMismatch",
                               "Arguments on this idempotent request are "
                               "inconsistent with arguments used in previous "
                               "request(s).")
            emu.count("ec2", "CreateVolume.idempotent")
            v = emu.volumes.get(vid)
            if v is not None:
                return respond(emu, "CreateVolume", volume_fields(emu, v, False))
    v = emu._new_volume(zone, size, vtype)
    v["iops"] = iops if iops is not None else (
        3000 if vtype == "gp3" else (max(100, min(16000, 3 * size))
                                     if vtype == "gp2" else None))
    v["throughput"] = throughput if throughput is not None else (
        125 if vtype == "gp3" else None)
    v["encrypted"] = encrypted
    v["kms"] = kms or ("arn:aws:kms:%s:%s:key/aws-ebs-default" %
                       (emu.region, emu.account) if encrypted else None)
    v["snapshot"] = snapshot
    v["multi_attach"] = bool_param(params, "MultiAttachEnabled") or False
    if v["multi_attach"] and vtype not in ("io1", "io2"):
        del emu.volumes[v["id"]]
        raise ApiError("InvalidParameterCombination",
                       "Multi-Attach is supported only on io1 and io2 "
                       "volumes.")
    v["outpost"] = params.get("OutpostArn")
    v["tags"] = tags
    v["ready"] = (None if emu.faults["stuck_creating"] else
                  emu.now() + emu.config["create_delay_ms"] / 1000)
    if token:
        emu.volume_tokens[token] = (v["id"], fingerprint)
    # A new volume is always "creating" in CreateVolume's answer.
    return respond(emu, "CreateVolume", volume_fields(emu, v, False,
                                                      "creating"))


VOLUME_FILTERS = {
    "volume-id": lambda e, v: [v["id"]],
    "status": lambda e, v: [volume_state(e, v)],
    "availability-zone": lambda e, v: [v["zone"]],
    "size": lambda e, v: [v["size"]],
    "volume-type": lambda e, v: [v["type"]],
    "encrypted": lambda e, v: [v["encrypted"]],
    "snapshot-id": lambda e, v: [v["snapshot"] or ""],
    "multi-attach-enabled": lambda e, v: [v["multi_attach"]],
    "tag-key": lambda e, v: list(v["tags"]),
    "tag-value": lambda e, v: list(v["tags"].values()),
    "attachment.instance-id": lambda e, v: [a["instance"] for a in v["attachments"]],
    "attachment.device": lambda e, v: [a["device"] for a in v["attachments"]],
    "attachment.status": lambda e, v: [attachment_state(e, a) for a in v["attachments"]],
    "attachment.delete-on-termination": lambda e, v: [a["delete_on_termination"]
                                                      for a in v["attachments"]],
}


def filter_fn(table, name):
    if name.startswith("tag:"):
        key = name[4:]
        return lambda e, obj: [obj["tags"][key]] if key in obj["tags"] else []
    if name not in table:
        raise ApiError("InvalidParameterValue",
                       "The filter '%s' is invalid" % name)
    return table[name]


def apply_filters(emu, items, table, params):
    for name, values in filters(params):
        fn = filter_fn(table, name)
        items = [i for i in items if any(match(values, a) for a in fn(emu, i))]
    return items


def check_max_results(params, lo, hi, ids_given):
    n = int_param(params, "MaxResults")
    if n is None:
        return
    if ids_given:
        raise ApiError("InvalidParameterCombination",
                       "The parameter volumeSet cannot be used with the "
                       "parameter maxResults")
    if not lo <= n <= hi:
        raise ApiError("InvalidParameterValue",
                       "Value ( %d ) for parameter maxResults is invalid. "
                       "Expecting a value between %d and %d." % (n, lo, hi))


def describe_volumes(emu, params):
    dry_run(params)
    ids = plist(params, "VolumeId")
    check_max_results(params, 5, 500, bool(ids))
    if ids:
        items = [get_volume(emu, vid) for vid in ids]
    else:
        items = list(emu.volumes.values())
    items = apply_filters(emu, items, VOLUME_FILTERS, params)
    if "MaxResults" not in params and emu.config["default_page_size"] and not ids:
        params = dict(params, MaxResults=str(emu.config["default_page_size"]))
    items, token = page(items, lambda v: v["id"], params)
    body = "<volumeSet>%s</volumeSet>" % "".join(
        "<item>%s</item>" % volume_fields(emu, v) for v in items) if items \
        else "<volumeSet/>"
    return respond(emu, "DescribeVolumes", body + x("nextToken", token))


def delete_volume(emu, params):
    dry_run(params)
    v = get_volume(emu, params.get("VolumeId", ""))
    state = volume_state(emu, v)
    if state == "in-use":
        raise ApiError("VolumeInUse", "Volume %s is currently attached to %s"
                       % (v["id"], v["attachments"][0]["instance"]))
    if state == "deleting":
        raise ApiError("IncorrectState", "The volume '%s' is already being "
                                         "deleted." % v["id"])
    v["deleting_since"] = emu.now()
    tidy(emu)
    return respond(emu, "DeleteVolume", "<return>true</return>")


def attach_volume(emu, params):
    dry_run(params)
    for p in ("VolumeId", "InstanceId", "Device"):
        if not params.get(p):
            raise ApiError("MissingParameter", "The request must contain the "
                                               "parameter %s" % p)
    v = get_volume(emu, params["VolumeId"])
    inst = get_instance(emu, params["InstanceId"])
    device = params["Device"]
    if not DEVICE_RE.match(device):
        raise ApiError("InvalidParameterValue",
                       "Value (%s) for parameter device is invalid. %s is not "
                       "a valid EBS device name." % (device, device))
    state = volume_state(emu, v)
    if v["zone"] != inst["zone"]:
        raise ApiError("InvalidVolume.ZoneMismatch",
                       "The volume '%s' is not in the same availability zone "
                       "as instance '%s'" % (v["id"], inst["id"]))
    if state == "in-use" and not v["multi_attach"]:
        raise ApiError("VolumeInUse", "%s is already attached to an instance"
                       % v["id"])
    if state not in ("available", "in-use"):
        raise ApiError("IncorrectState", "%s is not 'available'." % v["id"])
    for other in emu.volumes.values():
        for a in other["attachments"]:
            if (a["instance"] == inst["id"] and a["device"] == device and
                    attachment_state(emu, a) != "detached"):
                raise ApiError("InvalidParameterValue",
                               "Invalid value '%s' for unixDevice. Attachment "
                               "point %s is already in use" % (device, device))
    now = emu.now()
    a = {"instance": inst["id"], "device": device, "time": now,
         "ready": None if emu.faults["stuck_attaching"] else
         now + emu.config["attach_delay_ms"] / 1000,
         "detach_ready": None, "delete_on_termination": False}
    v["attachments"].append(a)
    return respond(emu, "AttachVolume",
                   attachment_xml(emu, a, v["id"], "attaching"))


def detach_volume(emu, params):
    dry_run(params)
    v = get_volume(emu, params.get("VolumeId", ""))
    iid = params.get("InstanceId")
    device = params.get("Device")
    if iid:
        get_instance(emu, iid)
    live = [a for a in v["attachments"]
            if attachment_state(emu, a) in ("attaching", "attached")]
    if not live:
        raise ApiError("IncorrectState", "Volume '%s' is in the '%s' state." %
                       (v["id"], volume_state(emu, v)))
    if iid:
        live = [a for a in live if a["instance"] == iid]
    if device:
        live = [a for a in live if a["device"] == device]
    if not live:
        raise ApiError("InvalidAttachment.NotFound",
                       "Attachment point %s is not attached to %s" %
                       (device or "?", iid or "?"))
    if len(live) > 1:
        raise ApiError("InvalidParameterCombination",
                       "The volume is attached to several instances: name "
                       "one with InstanceId")
    a = live[0]
    a["detach_ready"] = emu.now() + emu.config["detach_delay_ms"] / 1000
    return respond(emu, "DetachVolume",
                   attachment_xml(emu, a, v["id"], "detaching"))


def modify_volume(emu, params):
    dry_run(params)
    v = get_volume(emu, params.get("VolumeId", ""))
    if volume_state(emu, v) not in ("available", "in-use"):
        raise ApiError("IncorrectState", "The volume '%s' is in the '%s' "
                       "state." % (v["id"], volume_state(emu, v)))
    for m in emu.modifications.get(v["id"], []):
        if modification_state(emu, m) in ("modifying", "optimizing"):
            raise ApiError("IncorrectModificationState",
                           "Volume %s is already being modified." % v["id"])
    size = int_param(params, "Size")
    vtype = params.get("VolumeType")
    iops = int_param(params, "Iops")
    throughput = int_param(params, "Throughput")
    if size is None and vtype is None and iops is None and throughput is None:
        raise ApiError("MissingParameter", "At least one of Size, VolumeType, "
                                           "Iops, Throughput is required")
    if vtype is not None and vtype not in VOLUME_TYPES:
        raise ApiError("InvalidParameterValue",
                       "The parameter VolumeType is invalid")
    if size is not None and size < v["size"]:
        raise ApiError("InvalidParameterValue",
                       "New size cannot be smaller than existing size")
    new_type = vtype or v["type"]
    new_size = size if size is not None else v["size"]
    lo, hi = VOLUME_TYPES[new_type]
    if new_size > hi:
        raise ApiError("InvalidParameterValue",
                       "Volume of %dGiB is too large; maximum is %dGiB." %
                       (new_size, hi))
    original = {"size": v["size"], "type": v["type"], "iops": v["iops"],
                "throughput": v["throughput"]}
    target = {"size": new_size, "type": new_type,
              "iops": iops if iops is not None else (
                  v["iops"] if new_type == v["type"] else
                  (3000 if new_type == "gp3" else None)),
              "throughput": throughput if throughput is not None else (
                  v["throughput"] if new_type == v["type"] else
                  (125 if new_type == "gp3" else None))}
    m = {"volume": v["id"], "start": emu.now(), "original": original,
         "target": target, "applied": False}
    emu.modifications.setdefault(v["id"], []).append(m)
    return respond(emu, "ModifyVolume", "<volumeModification>%s"
                   "</volumeModification>" % modification_xml(emu, m))


MOD_FILTERS = {
    "volume-id": lambda e, m: [m["volume"]],
    "modification-state": lambda e, m: [modification_state(e, m)],
    "target-size": lambda e, m: [m["target"]["size"]],
    "target-volume-type": lambda e, m: [m["target"]["type"]],
    "original-size": lambda e, m: [m["original"]["size"]],
}


def describe_volumes_modifications(emu, params):
    dry_run(params)
    ids = plist(params, "VolumeId")
    items = []
    if ids:
        for vid in ids:
            check_volume_id(vid)
            mods = emu.modifications.get(vid)
            if not mods:
                raise ApiError("InvalidVolumeModification.NotFound",
                               "Modification for volume '%s' does not exist."
                               % vid)
            items.append(mods[-1])
    else:
        items = [ms[-1] for ms in emu.modifications.values()]
    items = [dict(m, tags={}) for m in items]
    items = apply_filters(emu, items, MOD_FILTERS, params)
    items, token = page(items, lambda m: m["volume"], params)
    body = "<volumeModificationSet>%s</volumeModificationSet>" % "".join(
        "<item>%s</item>" % modification_xml(emu, m) for m in items) \
        if items else "<volumeModificationSet/>"
    return respond(emu, "DescribeVolumesModifications",
                   body + x("nextToken", token))


def create_tags(emu, params):
    dry_run(params)
    ids = plist(params, "ResourceId")
    tags = tags_param(params, "Tag")
    if not ids:
        raise ApiError("MissingParameter", "The request must contain the "
                                           "parameter resourceIdSet")
    if not tags:
        raise ApiError("MissingParameter", "The request must contain the "
                                           "parameter tagSet")
    targets = []
    for rid in ids:
        if rid.startswith("vol-"):
            targets.append(get_volume(emu, rid))
        elif rid.startswith("i-"):
            targets.append(get_instance(emu, rid))
        elif rid.startswith("snap-"):
            targets.append(ec2_snapshots.get_snapshot(emu, rid))
        else:
            raise ApiError("InvalidID", "The ID '%s' is not valid" % rid)
    for t in targets:
        merged = dict(t["tags"], **tags)
        if len(merged) > 50:
            raise ApiError("TagLimitExceeded", "The maximum number of tags "
                                               "(50) has been reached.")
    for t in targets:
        t["tags"].update(tags)
    return respond(emu, "CreateTags", "<return>true</return>")


def delete_tags(emu, params):
    """DeleteTags: Tag.N.Key, with Tag.N.Value only when that value; no
    Tag.N at all deletes every tag (EC2 API reference, DeleteTags)."""
    dry_run(params)
    ids = plist(params, "ResourceId")
    if not ids:
        raise ApiError("MissingParameter", "The request must contain the "
                                           "parameter resourceIdSet")
    keys = []
    i = 1
    while "Tag.%d.Key" % i in params:
        keys.append((params["Tag.%d.Key" % i], params.get("Tag.%d.Value" % i)))
        i += 1
    targets = []
    for rid in ids:
        if rid.startswith("vol-"):
            targets.append(get_volume(emu, rid))
        elif rid.startswith("i-"):
            targets.append(get_instance(emu, rid))
        elif rid.startswith("snap-"):
            targets.append(ec2_snapshots.get_snapshot(emu, rid))
        else:
            raise ApiError("InvalidID", "The ID '%s' is not valid" % rid)
    for t in targets:
        if not keys:
            t["tags"].clear()
        for k, v in keys:
            if k in t["tags"] and (v is None or t["tags"][k] == v):
                del t["tags"][k]
    return respond(emu, "DeleteTags", "<return>true</return>")


INSTANCE_FILTERS = {
    "instance-id": lambda e, i: [i["id"]],
    "availability-zone": lambda e, i: [i["zone"]],
    "instance-state-name": lambda e, i: [i["state"]],
    "instance-type": lambda e, i: [i["type"]],
    "private-dns-name": lambda e, i: [i["dns"]],
    "private-ip-address": lambda e, i: [i["ip"]],
    "tag-key": lambda e, i: list(i["tags"]),
    "block-device-mapping.volume-id": lambda e, i: [
        v["id"] for v in e.volumes.values()
        for a in v["attachments"] if a["instance"] == i["id"]],
    "block-device-mapping.device-name": lambda e, i: [
        a["device"] for v in e.volumes.values()
        for a in v["attachments"] if a["instance"] == i["id"]],
}


def instance_xml(emu, inst):
    mappings = []
    for v in sorted(emu.volumes.values(), key=lambda v: v["id"]):
        for a in v["attachments"]:
            if a["instance"] == inst["id"]:
                mappings.append("<item>%s<ebs>%s%s%s%s</ebs></item>" % (
                    x("deviceName", a["device"]), x("volumeId", v["id"]),
                    x("status", attachment_state(emu, a)),
                    x("attachTime", iso(a["time"])),
                    x("deleteOnTermination", a["delete_on_termination"])))
    state_code = {"pending": 0, "running": 16, "stopping": 64,
                  "stopped": 80}.get(inst["state"], 16)
    return "".join([
        x("instanceId", inst["id"]), x("imageId", "ami-0123456789abcdef0"),
        "<instanceState>%s%s</instanceState>" % (x("code", state_code),
                                                 x("name", inst["state"])),
        x("privateDnsName", inst["dns"]), x("dnsName", ""),
        x("instanceType", inst["type"]), x("launchTime", iso(inst["launch"])),
        "<placement>%s%s</placement>" % (x("availabilityZone", inst["zone"]),
                                         x("tenancy", "default")),
        x("privateIpAddress", inst["ip"]),
        x("subnetId", "subnet-%017x" % (0x500 + (emu.zones.index(inst["zone"])
                                                 if inst["zone"] in emu.zones
                                                 else 9))),
        x("vpcId", "vpc-0123456789abcdef0"), x("architecture", "x86_64"),
        x("rootDeviceType", "ebs"), x("rootDeviceName", inst["root_device"]),
        "<blockDeviceMapping>%s</blockDeviceMapping>" % "".join(mappings)
        if mappings else "<blockDeviceMapping/>",
        x("virtualizationType", "hvm"), x("hypervisor", "xen"),
        tag_set(inst["tags"]) if inst["tags"] else "",
    ])


def describe_instances(emu, params):
    dry_run(params)
    ids = plist(params, "InstanceId")
    check_max_results(params, 5, 1000, bool(ids))
    items = [get_instance(emu, i) for i in ids] if ids else \
        list(emu.instances.values())
    items = apply_filters(emu, items, INSTANCE_FILTERS, params)
    items, token = page(items, lambda i: i["id"], params)
    body = "".join(
        "<item>%s%s%s<groupSet/><instancesSet><item>%s</item></instancesSet>"
        "</item>" % (x("reservationId", "r-%017x" % (int(i["id"][2:], 16) + 1)),
                     x("ownerId", emu.account), x("requesterId", None),
                     instance_xml(emu, i))
        for i in items)
    return respond(emu, "DescribeInstances",
                   ("<reservationSet>%s</reservationSet>" % body if body
                    else "<reservationSet/>") + x("nextToken", token))


def describe_availability_zones(emu, params):
    body = "".join(
        "<item>%s%s%s%s%s</item>" % (
            x("zoneName", z), x("zoneState", "available"),
            x("regionName", emu.region),
            x("zoneId", "use1-az%d" % (i + 1)), x("zoneType", "availability-zone"))
        for i, z in enumerate(emu.zones))
    return respond(emu, "DescribeAvailabilityZones",
                   "<availabilityZoneInfo>%s</availabilityZoneInfo>" % body)


ACTIONS = {
    "CreateVolume": create_volume,
    "DescribeVolumes": describe_volumes,
    "DeleteVolume": delete_volume,
    "AttachVolume": attach_volume,
    "DetachVolume": detach_volume,
    "ModifyVolume": modify_volume,
    "DescribeVolumesModifications": describe_volumes_modifications,
    "CreateTags": create_tags,
    "DeleteTags": delete_tags,
    "DescribeInstances": describe_instances,
    "DescribeAvailabilityZones": describe_availability_zones,
}


from . import ec2_snapshots  # noqa: E402 - it uses this module's helpers

ACTIONS.update(ec2_snapshots.ACTIONS)


def handle(emu, params):
    """Answer one EC2 request: (status, content type, body)."""
    action = params.get("Action", "")
    fn = ACTIONS.get(action)
    if fn is None:
        raise ApiError("InvalidAction", "The action %s is not valid for this "
                                        "web service." % action)
    if params.get("Version") != "2016-11-15":
        raise ApiError("InvalidParameterValue",
                       "berth's emulator speaks EC2 API version 2016-11-15, "
                       "not %r" % params.get("Version"))
    with emu.lock:
        tidy(emu)
        body = fn(emu, params)
    return 200, "text/xml;charset=UTF-8", body
