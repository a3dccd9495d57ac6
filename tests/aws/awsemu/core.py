# SPDX-License-Identifier: Apache-2.0
"""The emulator's shared state: account, credentials, faults, counters.

One Emulator object is shared by all servers; its lock (an RLock) guards
every read and write of state. Times are real (time.time()); state
machines (volumes creating -> available, attachments attaching ->
attached, modifications) are computed from timestamps when read, so
nothing runs in the background.
"""

import json
import os
import random
import secrets
import threading
import time
import uuid


class ApiError(Exception):
    """An AWS error answer: code, message and HTTP status."""

    def __init__(self, code, message, status=400):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def hex_id(prefix, n=17):
    return prefix + secrets.token_hex((n + 1) // 2)[:n]


def iso(t, millis=True):
    """EC2/STS timestamps: 2013-10-09T05:41:37.000Z."""
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    if millis:
        s += ".%03dZ" % int((t - int(t)) * 1000)
    else:
        s += "Z"
    return s


DEFAULT_CONFIG = {
    # State machine timings, in milliseconds.
    "create_delay_ms": 300,     # creating -> available
    "attach_delay_ms": 200,     # attaching -> attached
    "detach_delay_ms": 200,     # detaching -> gone (volume available)
    "delete_delay_ms": 0,       # deleting -> gone
    "modify_delay_ms": 200,     # modifying -> optimizing
    "optimize_delay_ms": 300,   # optimizing -> completed
    "ap_create_delay_ms": 0,    # access point creating -> available
    # Lifetime of credentials issued by STS, IMDS and the container
    # endpoint, in seconds.
    "credential_ttl_s": 3600,
    # Accepted clock skew of X-Amz-Date, in seconds (AWS: 5 minutes).
    "max_skew_s": 300,
    # Paging: the page size DescribeVolumes uses when MaxResults is absent
    # (0: everything in one page, as EC2 does).
    "default_page_size": 0,
    # Snapshots: pending -> completed, and how many may exist (0: no limit;
    # past it CreateSnapshot answers SnapshotLimitExceeded).
    "snapshot_delay_ms": 300,
    "snapshot_limit": 0,
}

DEFAULT_FAULTS = {
    "throttle_rate": 0.0,   # fraction of API requests answered with throttling
    "error_rate": 0.0,      # fraction answered with a 5xx
    "latency_ms": 0,        # added to every API request
    "throttle_next": 0,     # throttle exactly the next N API requests
    "error_next": 0,        # 5xx for exactly the next N API requests
    "stuck_creating": False,  # new volumes stay "creating"
    "stuck_attaching": False, # new attachments stay "attaching"
    "stuck_snapshot": False,  # new snapshots stay "pending"
    "zone_errors": {},      # zone -> EC2 error code CreateVolume answers there
    "services": [],         # restrict faults to these ("ec2", "efs", "sts")
    "actions": [],          # restrict faults to these actions
    "imds_hop_limit": False,  # IMDS token PUT never answers (hop limit 1)
    "imds_disabled": False,   # IMDS token PUT answers 403
    "imds_no_role": False,    # no instance profile
    "seed": None,
}


class Emulator:
    def __init__(self, region="us-east-1", account="123456789012",
                 web_identity_token=None, container_token=None):
        self.lock = threading.RLock()
        self.region = region
        self.account = account
        self.zones = [region + z for z in ("a", "b", "c")]
        self.access_key_id = "AKIA" + secrets.token_hex(8).upper()
        self.secret_access_key = secrets.token_urlsafe(30)
        self.web_identity_token = web_identity_token
        self.container_token = container_token
        self.imds_tokens = {}   # token -> expiry
        self.imds_role = "berth-node-role"
        self.reset()

    # --- lifecycle ---------------------------------------------------------

    def reset(self):
        """Back to the initial state (credentials and tokens kept)."""
        with self.lock:
            self.config = dict(DEFAULT_CONFIG)
            self.faults = dict(DEFAULT_FAULTS)
            self.rng = random.Random()
            self.temp_creds = {}     # akid -> {secret, token, expires, arn}
            self.counters = {}
            self.volumes = {}        # id -> dict
            self.volume_tokens = {}  # ClientToken -> (id, fingerprint)
            self.modifications = {}  # volume id -> list of dicts (newest last)
            self.instances = {}
            self.filesystems = {}
            self.mount_targets = {}
            self.access_points = {}
            self.ap_tokens = {}
            self.deleted = []        # ids of deleted volumes, in order
            self.snapshots = {}      # id -> dict (ec2_snapshots.py)
            self.deleted_snapshots = []  # ids of deleted snapshots, in order
            for i, zone in enumerate(self.zones):
                self.add_instance("i-%017x" % (0xb0 + i), zone)
            self.add_filesystem("fs-0123456789abcdef0", "berth-efs")

    def now(self):
        return time.time()

    def add_instance(self, instance_id, zone, instance_type="m5.large",
                     private_ip=None):
        with self.lock:
            n = len(self.instances) + 1
            ip = private_ip or "10.0.%d.%d" % (self.zones.index(zone)
                                               if zone in self.zones else 9,
                                               10 + n)
            root = self._new_volume(zone, 8, "gp3", root=True)
            inst = {
                "id": instance_id, "zone": zone, "type": instance_type,
                "ip": ip, "dns": "ip-%s.ec2.internal" % ip.replace(".", "-"),
                "launch": self.now(), "root_device": "/dev/xvda",
                "tags": {}, "state": "running",
            }
            self.instances[instance_id] = inst
            root["attachments"].append({
                "instance": instance_id, "device": "/dev/xvda",
                "time": self.now(), "ready": self.now(), "detach_ready": None,
                "delete_on_termination": True})
            return inst

    def add_filesystem(self, fs_id, name, zones=None, ip_addresses=None):
        with self.lock:
            fs = {"id": fs_id, "name": name, "created": self.now(),
                  "token": "berth-" + fs_id, "tags": {"Name": name}}
            self.filesystems[fs_id] = fs
            for i, zone in enumerate(zones or self.zones):
                mt_id = "fsmt-%017x" % (len(self.mount_targets) + 0x100)
                ip = (ip_addresses[i] if ip_addresses and i < len(ip_addresses)
                      else "10.0.%d.200" % i)
                self.mount_targets[mt_id] = {
                    "id": mt_id, "fs": fs_id, "zone": zone, "ip": ip,
                    "subnet": "subnet-%017x" % (0x500 + i),
                    "eni": "eni-%017x" % (0x600 + len(self.mount_targets)),
                }
            return fs

    def _new_volume(self, zone, size, vtype, root=False):
        vol = {
            "id": hex_id("vol-"), "zone": zone, "size": size, "type": vtype,
            "iops": 3000 if vtype == "gp3" else (100 if vtype == "gp2" else None),
            "throughput": 125 if vtype == "gp3" else None,
            "encrypted": False, "kms": None, "snapshot": None,
            "multi_attach": False, "created": self.now(),
            "ready": self.now(), "tags": {}, "attachments": [],
            "deleting_since": None, "root": root,
        }
        self.volumes[vol["id"]] = vol
        return vol

    # --- credentials --------------------------------------------------------

    def secret_for(self, akid):
        """(secret, session token or None, expires or None) for a key id."""
        with self.lock:
            if akid == self.access_key_id:
                return self.secret_access_key, None, None
            c = self.temp_creds.get(akid)
            if c is None:
                return None
            return c["secret"], c["token"], c["expires"]

    def issue_credentials(self, kind, arn):
        """New temporary credentials; counted under credentials.<kind>."""
        with self.lock:
            akid = "ASIA" + secrets.token_hex(8).upper()
            creds = {"akid": akid, "secret": secrets.token_urlsafe(30),
                     "token": "FwoG" + secrets.token_urlsafe(120),
                     "expires": self.now() + self.config["credential_ttl_s"],
                     "arn": arn}
            self.temp_creds[akid] = creds
            self.count("credentials", kind)
            return dict(creds)

    # --- faults and counters ------------------------------------------------

    def count(self, group, key, n=1):
        with self.lock:
            g = self.counters.setdefault(group, {})
            g[key] = g.get(key, 0) + n

    def fault_for(self, service, action):
        """None, "throttle" or "error" for one API request."""
        with self.lock:
            f = self.faults
            if f["services"] and service not in f["services"]:
                return None
            if f["actions"] and action not in f["actions"]:
                return None
            if f["throttle_next"] > 0:
                f["throttle_next"] -= 1
                return "throttle"
            if f["error_next"] > 0:
                f["error_next"] -= 1
                return "error"
            r = self.rng.random()
            if r < f["throttle_rate"]:
                return "throttle"
            if r < f["throttle_rate"] + f["error_rate"]:
                return "error"
            return None

    def set_faults(self, changes):
        with self.lock:
            for k, v in changes.items():
                if k not in DEFAULT_FAULTS:
                    raise ApiError("BadRequest", "unknown fault %r" % k)
                self.faults[k] = v
            if changes.get("seed") is not None:
                self.rng.seed(changes["seed"])

    def set_config(self, changes):
        with self.lock:
            for k, v in changes.items():
                if k not in DEFAULT_CONFIG:
                    raise ApiError("BadRequest", "unknown setting %r" % k)
                self.config[k] = v

    def new_request_id(self):
        return str(uuid.uuid4())

    def snapshot(self):
        """The whole state as JSON-able data, for the admin API."""
        from . import ec2, ec2_snapshots, efs  # noqa: circular at import time
        with self.lock:
            return {
                "region": self.region,
                "volumes": [ec2.volume_view(self, v)
                            for v in sorted(self.volumes.values(),
                                            key=lambda v: v["created"])],
                "deleted_volumes": list(self.deleted),
                "snapshots": [ec2_snapshots.snapshot_view(self, s)
                              for s in sorted(self.snapshots.values(),
                                              key=lambda s: s["start"])],
                "deleted_snapshots": list(self.deleted_snapshots),
                "modifications": {k: [ec2.modification_view(self, m)
                                      for m in ms]
                                  for k, ms in self.modifications.items()},
                "instances": [dict(i) for i in self.instances.values()],
                "filesystems": list(self.filesystems.values()),
                "mount_targets": list(self.mount_targets.values()),
                "access_points": [efs.ap_view(self, a)
                                  for a in self.access_points.values()],
                "faults": dict(self.faults),
                "config": dict(self.config),
            }


def dumps(obj):
    return json.dumps(obj, indent=1, sort_keys=True, default=str)


def env_bool(name):
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
