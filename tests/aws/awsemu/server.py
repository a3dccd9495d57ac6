# SPDX-License-Identifier: Apache-2.0
"""The emulator's HTTP servers: the AWS API (EC2, EFS, STS on one port, as
behind AWS_ENDPOINT_URL), IMDSv2, the container-credentials endpoint and
the admin API, each a ThreadingHTTPServer on 127.0.0.1."""

import json
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import ec2, efs, sigcheck, sts
from .core import ApiError, dumps, iso

MAX_BODY = 1024 * 1024


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, emu):
        super().__init__(("127.0.0.1", 0), handler)
        self.emu = emu
        self.closing = False


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-aws-emulator/1"

    def log_message(self, fmt, *args):  # one line per request to the log
        sys.stderr.write("%s %s\n" % (self.server.name, fmt % args))

    @property
    def emu(self):
        return self.server.emu

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ApiError("BadRequest", "body too large", 413)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, ctype, body, extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class ApiHandler(Base):
    """EC2 (POST / with Action=...), STS (POST / with an STS Action) and EFS
    (/2015-02-01/...)."""

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def dispatch(self):
        emu = self.emu
        service, action = "ec2", "?"
        try:
            body = self.read_body()
            parts = urlsplit(self.path)
            if parts.path.startswith("/2015-02-01/"):
                service = "efs"
                action = efs.action_of(self.command, parts.path) or "?"
            else:
                params = {}
                if self.command == "POST":
                    ctype = self.headers.get("Content-Type", "")
                    if not ctype.startswith("application/x-www-form-urlencoded"):
                        raise ApiError("InvalidParameterValue",
                                       "Content-Type must be "
                                       "application/x-www-form-urlencoded")
                    text = body.decode("utf-8", "strict")
                else:
                    text = parts.query
                for k, vs in parse_qs(text, keep_blank_values=True).items():
                    params[k] = vs[-1]
                if parts.path != "/":
                    raise ApiError("InvalidAction", "unknown path %s" %
                                   parts.path, 404)
                if sts.is_sts(params):
                    service = "sts"
                action = params.get("Action", "?")
            emu.count("requests", "%s.%s" % (service, action))
            emu.count("requests", "total")
            latency = emu.faults.get("latency_ms") or 0
            if latency:
                time.sleep(latency / 1000)
            signing = {"ec2": "ec2", "efs": "elasticfilesystem",
                       "sts": "sts"}[service]
            caller = None
            if not (service == "sts" and action in sts.UNSIGNED and
                    "Authorization" not in self.headers):
                try:
                    caller = sigcheck.verify(emu, signing, self.command,
                                             self.path, self.headers.items(),
                                             body)
                except ApiError:
                    emu.count("errors", "signature")
                    raise
            fault = emu.fault_for(service, action)
            if fault == "throttle":
                emu.count("faults", "throttled")
                raise {"ec2": ApiError("RequestLimitExceeded",
                                       "Request limit exceeded.", 503),
                       "efs": ApiError("ThrottlingException",
                                       "Rate exceeded", 429),
                       "sts": ApiError("Throttling", "Rate exceeded", 400),
                       }[service]
            if fault == "error":
                emu.count("faults", "server_errors")
                raise {"ec2": ApiError("InternalError", "An internal error "
                                       "has occurred", 500),
                       "efs": ApiError("InternalServerError", "An internal "
                                       "error has occurred", 500),
                       "sts": ApiError("InternalFailure", "An internal error "
                                       "has occurred", 500)}[service]
            if service == "efs":
                status, ctype, out = efs.handle(emu, self.command, parts.path,
                                                parts.query, body)
            elif service == "sts":
                status, ctype, out = 200, "text/xml", sts.handle(emu, params,
                                                                 caller)
            else:
                status, ctype, out = ec2.handle(emu, params)
            emu.count("ok", "%s.%s" % (service, action))
            self.send(status, ctype, out,
                      [("x-amzn-RequestId", emu.new_request_id())])
        except ApiError as e:
            emu.count("errors", "%s.%s" % (service, e.code))
            if service == "efs":
                self.send(e.status, "application/json",
                          efs.error_body(e.code, e.message),
                          [("x-amzn-ErrorType", e.code),
                           ("x-amzn-RequestId", emu.new_request_id())])
            elif service == "sts":
                self.send(e.status, "text/xml",
                          sts.error_xml(emu, e.code, e.message,
                                        sender=e.status < 500))
            else:
                self.send(e.status, "text/xml;charset=UTF-8",
                          ec2.error_xml(emu, e.code, e.message))
        except Exception:
            traceback.print_exc()
            self.send(500, "text/plain", "emulator bug\n")


class ImdsHandler(Base):
    """IMDSv2: PUT /latest/api/token, then GETs with the token."""

    def do_PUT(self):
        emu = self.emu
        self.read_body()
        if self.path != "/latest/api/token":
            return self.send(404, "text/plain", "Not Found")
        emu.count("imds", "token_requests")
        if emu.faults["imds_hop_limit"]:
            # The answer would be dropped one hop short of a container:
            # never answer (until the client gives up or we shut down).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not self.server.closing:
                time.sleep(0.05)
            self.close_connection = True
            return
        if emu.faults["imds_disabled"]:
            return self.send(403, "text/plain", "Forbidden")
        if "X-Forwarded-For" in self.headers:
            return self.send(403, "text/plain", "Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.send(400, "text/plain", "Bad Request")
        token = "AQAEA" + __import__("secrets").token_urlsafe(40)
        with emu.lock:
            emu.imds_tokens[token] = time.time() + int(ttl)
        self.send(200, "text/plain", token,
                  [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])

    def do_GET(self):
        emu = self.emu
        token = self.headers.get("X-aws-ec2-metadata-token")
        with emu.lock:
            ok = token is not None and emu.imds_tokens.get(token, 0) > time.time()
        if not ok:
            emu.count("imds", "unauthorized")
            return self.send(401, "text/plain", "Unauthorized")
        emu.count("imds", "gets")
        inst = sorted(emu.instances.values(), key=lambda i: i["id"])[0]
        path = self.path
        base = "/latest/meta-data/iam/security-credentials/"
        if path == "/latest/meta-data/placement/region":
            return self.send(200, "text/plain", emu.region)
        if path == "/latest/meta-data/placement/availability-zone":
            return self.send(200, "text/plain", inst["zone"])
        if path == "/latest/meta-data/instance-id":
            return self.send(200, "text/plain", inst["id"])
        if path == "/latest/dynamic/instance-identity/document":
            return self.send(200, "application/json", json.dumps({
                "accountId": emu.account, "region": emu.region,
                "availabilityZone": inst["zone"], "instanceId": inst["id"],
                "instanceType": inst["type"], "privateIp": inst["ip"]}))
        if path in (base, base.rstrip("/")):
            if emu.faults["imds_no_role"]:
                return self.send(404, "text/plain", "Not Found")
            return self.send(200, "text/plain", emu.imds_role)
        if path == base + emu.imds_role and not emu.faults["imds_no_role"]:
            c = emu.issue_credentials(
                "imds", "arn:aws:iam::%s:role/%s" % (emu.account,
                                                     emu.imds_role))
            return self.send(200, "text/plain", json.dumps({
                "Code": "Success", "LastUpdated": iso(time.time(), False),
                "Type": "AWS-HMAC", "AccessKeyId": c["akid"],
                "SecretAccessKey": c["secret"], "Token": c["token"],
                "Expiration": iso(c["expires"], False)}, indent=2))
        return self.send(404, "text/plain", "Not Found")


class ContainerHandler(Base):
    """The ECS / EKS Pod Identity agent: GET any path with the
    Authorization token."""

    def do_GET(self):
        emu = self.emu
        emu.count("container", "requests")
        want = emu.container_token
        got = self.headers.get("Authorization")
        if want is not None and got != want:
            emu.count("container", "unauthorized")
            return self.send(401 if got is None else 403, "application/json",
                             json.dumps({"code": "AccessDeniedException",
                                         "message": "invalid authorization "
                                                    "token"}))
        c = emu.issue_credentials(
            "container", "arn:aws:iam::%s:role/berth-pod-role" % emu.account)
        self.send(200, "application/json", json.dumps({
            "AccessKeyId": c["akid"], "SecretAccessKey": c["secret"],
            "Token": c["token"], "Expiration": iso(c["expires"], False),
            "AccountId": emu.account}))


class AdminHandler(Base):
    """JSON admin API: see tests/aws/README.md."""

    def reply(self, obj, status=200):
        self.send(status, "application/json", dumps(obj) + "\n")

    def do_GET(self):
        emu = self.emu
        path = urlsplit(self.path).path
        if path == "/health":
            return self.reply({"ok": True})
        if path == "/counters":
            with emu.lock:
                return self.reply(emu.counters)
        if path == "/state":
            with emu.lock:
                ec2.tidy(emu)
                return self.reply(emu.snapshot())
        if path == "/faults":
            return self.reply(emu.faults)
        if path == "/config":
            return self.reply(emu.config)
        return self.reply({"error": "no such admin path"}, 404)

    def do_POST(self):
        emu = self.emu
        path = urlsplit(self.path).path
        try:
            raw = self.read_body()
            body = json.loads(raw) if raw else {}
            if path == "/faults":
                emu.set_faults(body)
                return self.reply(emu.faults)
            if path == "/config":
                emu.set_config(body)
                return self.reply(emu.config)
            if path == "/counters/reset":
                with emu.lock:
                    emu.counters = {}
                return self.reply({"ok": True})
            if path == "/reset":
                emu.reset()
                return self.reply({"ok": True})
            if path == "/instances":
                inst = emu.add_instance(body["instance_id"], body["zone"],
                                        body.get("instance_type", "m5.large"),
                                        body.get("private_ip"))
                return self.reply(inst)
            if path == "/filesystems":
                fs = emu.add_filesystem(body["file_system_id"],
                                        body.get("name", "efs"),
                                        body.get("zones"),
                                        body.get("ip_addresses"))
                return self.reply(fs)
            if path == "/unstick":
                with emu.lock:
                    now = time.time()
                    for v in emu.volumes.values():
                        if v["ready"] is None:
                            v["ready"] = now
                        for a in v["attachments"]:
                            if a["ready"] is None:
                                a["ready"] = now
                    for sn in emu.snapshots.values():
                        if sn["ready"] is None:
                            sn["ready"] = now
                return self.reply({"ok": True})
            if path == "/tokens":
                with emu.lock:
                    if "web_identity" in body:
                        emu.web_identity_token = body["web_identity"]
                    if "container" in body:
                        emu.container_token = body["container"]
                return self.reply({"ok": True})
            if path == "/expire-credentials":
                with emu.lock:
                    for c in emu.temp_creds.values():
                        c["expires"] = time.time() - 1
                return self.reply({"ok": True})
            return self.reply({"error": "no such admin path"}, 404)
        except (KeyError, ValueError, ApiError) as e:
            return self.reply({"error": str(e)}, 400)
