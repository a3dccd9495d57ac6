#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fault-injecting proxy in front of the bed's real kube-apiserver.

berth and the tests talk HTTPS to this proxy (BERTH_K8S_URL); it forwards
every request unchanged (bearer token included, so the real server
authenticates and authorizes it) to kube-apiserver, and streams the answer
back, watches included. Between the two it can inject the faults that the
tests switch on through a plain-HTTP admin endpoint (BERTH_K8S_ADMIN_URL):
429 with Retry-After, 5xx, latency, 409 on updates, watches dropped after
N events or answered with 410, and it counts requests by verb, resource
and code (the rules and the log: k8s_faults.py; the admin API:
tests/bed/README.md). History loss is real: `POST /compact` compacts etcd.

    k8s_proxy.py --listen PORT --admin PORT --upstream https://127.0.0.1:PORT
                 --ca CA --cert CRT --key KEY --tokens CSV --etcd URL
                 [--metrics URL ...] --ready FILE

Python 3 standard library only; ends on SIGTERM.
"""

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from k8s_faults import FaultError, Faults, RequestLog, UPDATE_VERBS  # noqa: E402

# Hop-by-hop headers (RFC 9110 section 7.6.1) are the proxy's own business.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
       "trailer", "upgrade", "host", "content-length"}
HEALTH = ("/healthz", "/livez", "/readyz")


def parse_path(path, method, q):
    """Kubernetes request info (verb, resource, namespace, name,
    subresource) of an API path, as kube-apiserver's RequestInfoFactory
    derives it; None for non-resource paths."""
    parts = [unquote(p) for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return None
    if parts[0] == "api":
        if len(parts) < 3:
            return None
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 4:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    info = {"group": group, "version": version, "namespace": None}
    watch = False
    if rest and rest[0] == "watch":
        watch = True
        rest = rest[1:]
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        info["namespace"] = rest[1]
        rest = rest[2:]
    if not rest:
        return None
    info["resource"] = rest[0]
    info["name"] = rest[1] if len(rest) > 1 else None
    info["subresource"] = rest[2] if len(rest) > 2 else None
    if rest[0] == "namespaces" and len(rest) > 1:
        info["namespace"] = rest[1]
    watch = watch or (q.get("watch") or "").lower() in ("1", "true")
    verb = {"GET": "get" if info["name"] else ("watch" if watch else "list"),
            "HEAD": "get",
            "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if info["name"] else "deletecollection"}.get(method)
    if method == "GET" and watch:
        verb = "watch"
    info["verb"] = verb
    return info


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details is not None:
        s["details"] = details
    return s


SERVER_ERRORS = {
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, "
                     "but may still be processing the request"),
}


def _kind_of(info):
    return {"resource": info.get("resource"), "group": info.get("group") or ""}


class Upstream:
    """Where the real kube-apiserver is and how to reach it."""

    def __init__(self, url, ca):
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = ssl.create_default_context(cafile=ca)

    def connect(self):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=None)


class App:
    def __init__(self, upstream, tokens, etcd, metrics):
        self.upstream = upstream
        self.tokens = tokens
        self.etcd = etcd.rstrip("/")
        self.metrics = metrics
        self.faults = Faults()
        self.requests = RequestLog()
        self.latency_ms = 0.0
        self.watch_timeout = None
        self.compacted = 0
        self._watches = set()
        self._wlock = threading.Lock()

    def user_of(self, header):
        """The user name a bearer token stands for, for the request log:
        the token file's, or a service account token's subject."""
        if not header or not header.lower().startswith("bearer "):
            return None
        tok = header[7:].strip()
        if tok in self.tokens:
            return self.tokens[tok]
        parts = tok.split(".")
        if len(parts) == 3:
            try:
                pad = "=" * (-len(parts[1]) % 4)
                return json.loads(base64.urlsafe_b64decode(parts[1] + pad)).get("sub")
            except (ValueError, TypeError):
                return None
        return None

    def track(self, h, on):
        with self._wlock:
            (self._watches.add if on else self._watches.discard)(h)

    def close_watches(self):
        with self._wlock:
            hs = list(self._watches)
        for h in hs:
            h.stop_watch()
        return len(hs)

    def etcd_call(self, path, body):
        req = urllib.request.Request(self.etcd + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def revision(self):
        out = self.etcd_call("/v3/kv/range", {"key": base64.b64encode(b"/").decode(),
                                              "limit": 1})
        return int(out["header"]["revision"])

    def compact(self, keep):
        """Compact etcd's history for real: a list or watch from a version
        older than the compacted one is 410 Gone wherever it is served
        from etcd (kube-apiserver's watch cache still holds its own recent
        window, as on any cluster)."""
        rev = self.revision() - max(0, int(keep))
        if rev > self.compacted:
            self.etcd_call("/v3/kv/compaction", {"revision": rev, "physical": True})
            self.compacted = rev
        return {"compacted": self.compacted, "resourceVersion": self.revision()}

    def controllers_idle(self, timeout):
        """True once every work queue of kube-controller-manager (and the
        scheduler) is empty three polls in a row, read from their metrics."""
        deadline = time.monotonic() + timeout
        quiet = 0
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        while time.monotonic() < deadline:
            busy = False
            for url in self.metrics:
                try:
                    with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
                        text = r.read().decode()
                except OSError:
                    busy = True
                    continue
                for line in text.splitlines():
                    if line.startswith(("workqueue_depth{", "scheduler_pending_pods{")):
                        if float(line.rsplit(None, 1)[1]) > 0:
                            busy = True
                            break
            quiet = 0 if busy else quiet + 1
            if quiet >= 3:
                return True
            time.sleep(0.1)
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-bed-proxy"
    timeout = 3600

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        self._conn = None
        self._stop = False
        self._up_sock = None

    def finish(self):
        try:
            BaseHTTPRequestHandler.finish(self)
        finally:
            if self._conn is not None:
                self._conn.close()

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_OPTIONS(self):
        self._dispatch("OPTIONS")

    # --- the request -----------------------------------------------------

    def _read_body(self):
        n = self.headers.get("Content-Length")
        if n is not None:
            return self.rfile.read(int(n))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(out)
                out.append(self.rfile.read(size))
                self.rfile.readline()
        return None

    def _log(self):
        info = self._info
        if info is None:
            return
        self._info = None
        info["code"] = self._code
        info["user"] = self._user
        info["ms"] = round((time.monotonic() - self._t0) * 1000, 2)
        info["time"] = time.time()
        self.server.app.requests.add({k: v for k, v in info.items() if v is not None})

    def _dispatch(self, method):
        app = self.server.app
        self._t0 = time.monotonic()
        self._code = 0
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        info = {"path": u.path, "method": method, "query": u.query}
        self._info = info
        self._user = app.user_of(self.headers.get("Authorization"))
        try:
            if u.path in HEALTH:
                info["verb"] = "health"
            else:
                ri = parse_path(u.path, method, q)
                if ri is not None:
                    info.update(ri)
                else:
                    info["verb"] = "get" if method == "GET" else method.lower()
            if not self._inject(info):
                self._forward(method, u, q, body, info)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout,
                http.client.HTTPException, OSError) as e:
            if self._code == 0:
                # The real server could not be reached: say so as it would.
                self._code = 503
                try:
                    self._send_status(status(503, "ServiceUnavailable",
                                             "bed proxy: kube-apiserver: %s" % e))
                except OSError:
                    pass
            self.close_connection = True
        finally:
            self._log()

    def _send_json(self, code, obj, headers=None):
        data = json.dumps(obj).encode() + b"\n"
        self._code = code
        self._log()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _send_status(self, s, headers=None):
        self._send_json(s["code"], s, headers)

    def _inject(self, info):
        """Apply the fault rules that match; True when one answered."""
        app = self.server.app
        if info.get("verb") == "health":
            return False
        if app.latency_ms:
            time.sleep(app.latency_ms / 1000.0)
        r = app.faults.take("latency", info)
        if r is not None:
            time.sleep(float(r["ms"]) / 1000.0)
        r = app.faults.take("throttle", info)
        if r is not None:
            ra = int(r.get("retryAfter", 1))
            self._send_status(status(429, "TooManyRequests",
                                     "Too many requests, please try again later.",
                                     {"retryAfterSeconds": ra}), {"Retry-After": str(ra)})
            return True
        r = app.faults.take("error", info)
        if r is not None:
            code = int(r.get("code", 500))
            reason, msg = SERVER_ERRORS.get(code, ("InternalError", "injected fault"))
            details = {"causes": [{"message": msg}]} if code == 500 else {}
            self._send_status(status(code, reason, msg, details))
            return True
        if info.get("verb") in UPDATE_VERBS and info.get("resource"):
            r = app.faults.take("conflict", info)
            if r is not None:
                res = info["resource"] + ("." + info["group"] if info.get("group") else "")
                d = dict(_kind_of(info), name=info.get("name") or "")
                d["kind"] = d.pop("resource")
                self._send_status(status(
                    409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": the object has been '
                    "modified; please apply your changes to the latest version and "
                    "try again" % (res, info.get("name") or ""), d))
                return True
        if info.get("verb") == "watch":
            r = app.faults.take("watch-gone", info)
            if r is not None:
                rv = (parse_qs(info.get("query") or "").get("resourceVersion") or ["0"])[-1]
                s = status(410, "Expired", "too old resource version: %s (%s)" %
                           (rv, app.compacted or rv))
                if r.get("http"):
                    self._send_status(s)
                else:
                    self._code = 200
                    self._log()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self._chunk(json.dumps({"type": "ERROR", "object": s}).encode() + b"\n")
                    self._chunk(b"")
                return True
        return False

    # --- forwarding --------------------------------------------------------

    def _upstream(self):
        if self._conn is None:
            self._conn = self.server.app.upstream.connect()
        return self._conn

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _forward(self, method, u, q, body, info):
        app = self.server.app
        path = self.path
        if info.get("verb") == "watch" and app.watch_timeout:
            t = q.get("timeoutSeconds")
            if not t or float(t) > app.watch_timeout:
                q = dict(q, timeoutSeconds=str(int(app.watch_timeout)))
                path = u.path + "?" + urlencode(q)
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP]
        for attempt in (0, 1):
            conn = self._upstream()
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", "%s:%d" % (app.upstream.host, app.upstream.port))
                for k, v in headers:
                    conn.putheader(k, v)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, http.client.CannotSendRequest):
                # A kept-alive connection the server closed: once more on
                # a new one (what the client's own transport would do).
                conn.close()
                self._conn = None
                if attempt:
                    raise
        self._code = resp.status
        self._log()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if resp.length is not None or method == "HEAD" or resp.status in (204, 304):
            data = resp.read() if method != "HEAD" else b""
            self.send_header("Content-Length", str(resp.length if method == "HEAD"
                                                   and resp.length is not None else len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
            if resp.will_close:
                conn.close()
                self._conn = None
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if info.get("verb") == "watch":
            self._stream_watch(resp, info)
        else:
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                self._chunk(data)
            self._chunk(b"")
            if resp.will_close:
                conn.close()
                self._conn = None

    def stop_watch(self):
        self._stop = True
        s = self._up_sock
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _stream_watch(self, resp, info):
        """Relay a watch event by event (JSON lines or protobuf frames),
        ending it after `after` events when a watch-drop rule says so."""
        app = self.server.app
        drop = app.faults.take("watch-drop", info)
        ctype = (resp.getheader("Content-Type") or "").lower()
        proto = "protobuf" in ctype
        # A kept-alive connection serves watch after watch: a close asked
        # for an earlier one must not end this one.
        self._stop = False
        self._up_sock = self._conn.sock
        app.track(self, True)
        sent = 0
        clean = True
        try:
            while not self._stop:
                try:
                    if proto:
                        head = resp.read(4)
                        if len(head) < 4:
                            break
                        n = int.from_bytes(head, "big")
                        ev = head + resp.read(n)
                    else:
                        ev = resp.readline()
                        if not ev:
                            break
                except (OSError, ValueError, http.client.HTTPException):
                    break
                if self._stop:
                    break
                self._chunk(ev)
                # Bookmarks are not events (the imitation never counted
                # them either); JSON is what berth and kubectl ask for.
                if not (not proto and ev.lstrip().startswith(b'{"type":"BOOKMARK"')):
                    sent += 1
                if drop is not None and sent >= int(drop["after"]):
                    if drop.get("abort"):
                        clean = False
                    break
        finally:
            app.track(self, False)
            # The upstream stream is abandoned mid-way: never reuse it.
            self._conn.close()
            self._conn = None
            self._up_sock = None
        if clean:
            self._chunk(b"")
        else:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, addr, app, ctx):
        self.app = app
        self.ctx = ctx
        ThreadingHTTPServer.__init__(self, addr, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the request's thread, not the accept loop.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


class AdminHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-bed-proxy-admin"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, code, obj):
        body = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method):
        app = self.server.app
        u = urlsplit(self.path)
        parts = [p for p in u.path.split("/") if p]
        q = parse_qs(u.query)
        try:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            return self._reply(400, {"error": "bad JSON: %s" % e})
        head = parts[0] if parts else ""
        try:
            if head == "healthz" and method == "GET":
                return self._reply(200, {"ok": True})
            if head == "faults":
                if method == "GET":
                    return self._reply(200, {"faults": app.faults.list()})
                if method == "POST":
                    specs = body if isinstance(body, list) else [body]
                    return self._reply(201, {"faults": [app.faults.add(s) for s in specs]})
                if method == "DELETE":
                    rid = int(parts[1]) if len(parts) > 1 else None
                    return self._reply(200, {"removed": app.faults.clear(rid)})
            if head == "requests":
                if method == "GET":
                    return self._reply(200, app.requests.query(q))
                if method == "DELETE":
                    app.requests.reset()
                    return self._reply(200, {"reset": True})
            if head == "compact" and method == "POST":
                return self._reply(200, app.compact(int((body or {}).get("keep", 0))))
            if head == "settings":
                if method in ("POST", "PUT"):
                    fixed = sorted(set(body or {}) - {"latencyMs", "watchTimeoutSeconds"})
                    if fixed:
                        return self._reply(400, {"error": "not adjustable on the real "
                                                 "kube-apiserver: %s" % ", ".join(fixed)})
                    if "latencyMs" in body:
                        app.latency_ms = max(0.0, float(body["latencyMs"]))
                    if "watchTimeoutSeconds" in body:
                        app.watch_timeout = max(1.0, float(body["watchTimeoutSeconds"]))
                return self._reply(200, {"latencyMs": app.latency_ms,
                                         "watchTimeoutSeconds": app.watch_timeout})
            if head == "watches" and parts[1:] == ["close"] and method == "POST":
                return self._reply(200, {"closed": app.close_watches()})
            if head == "state" and method == "GET":
                with app._wlock:
                    w = len(app._watches)
                return self._reply(200, {"resourceVersion": app.revision(),
                                         "compacted": app.compacted, "watches": w})
            if head == "idle" and method == "POST":
                t = float((body or {}).get("timeout", 10))
                return self._reply(200, {"idle": app.controllers_idle(t)})
            return self._reply(404, {"error": "no such admin endpoint: %s %s" % (method, u.path)})
        except FaultError as e:
            return self._reply(400, {"error": str(e)})
        except (TypeError, ValueError, KeyError) as e:
            return self._reply(400, {"error": "bad request: %s" % e})
        except OSError as e:
            return self._reply(502, {"error": "etcd or a controller: %s" % e})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")


class AdminServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, app):
        self.app = app
        ThreadingHTTPServer.__init__(self, addr, AdminHandler)


def load_tokens(path):
    """kube-apiserver's --token-auth-file (token,user,uid,"groups")."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) >= 2 and not line.startswith("#"):
                out[parts[0]] = parts[1]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--admin", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--etcd", required=True)
    p.add_argument("--metrics", action="append", default=[])
    p.add_argument("--ready", required=True)
    a = p.parse_args()
    app = App(Upstream(a.upstream, a.ca), load_tokens(a.tokens), a.etcd, a.metrics)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    api = ProxyServer(("127.0.0.1", a.listen), app, ctx)
    adm = AdminServer(("127.0.0.1", a.admin), app)
    for s in (api, adm):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"pid": os.getpid()}, f)
    os.replace(tmp, a.ready)
    done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
