# SPDX-License-Identifier: Apache-2.0
"""Fault switches, the request log and the admin endpoint.

The admin endpoint is plain HTTP on 127.0.0.1 (BERTH_K8S_ADMIN_URL); see
README.md for its API. Faults are rules; each matches requests by `verb`
(a Kubernetes verb or a list of them), `resource` (plural), `namespace`
and `path` (a regular expression searched in the URL path), and applies to
the next `count` matching requests (no count: until cleared).
"""

import collections
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KINDS = ("throttle", "error", "latency", "conflict", "watch-gone", "watch-drop")
UPDATE_VERBS = ("update", "patch")


class FaultError(ValueError):
    pass


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.ids = itertools.count(1)

    def add(self, spec):
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise FaultError("a fault needs \"kind\", one of %s" % ", ".join(KINDS))
        r = dict(spec)
        r["id"] = next(self.ids)
        r.setdefault("hits", 0)
        for k in ("count", "after", "ms", "code", "retryAfter"):
            if k in r and r[k] is not None and not isinstance(r[k], (int, float)):
                raise FaultError("%s must be a number" % k)
        if r["kind"] == "watch-drop" and "after" not in r:
            raise FaultError("watch-drop needs \"after\" (events per stream)")
        if r["kind"] == "latency" and "ms" not in r:
            raise FaultError("latency needs \"ms\"")
        if r["kind"] == "error":
            r.setdefault("code", 500)
            if not 500 <= int(r["code"]) <= 599:
                raise FaultError("error code must be 5xx")
        if r["kind"] == "throttle":
            r.setdefault("retryAfter", 1)
        if "path" in r:
            try:
                re.compile(r["path"])
            except re.error as e:
                raise FaultError("bad path pattern: %s" % e)
        with self.lock:
            self.rules.append(r)
        return r

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def clear(self, rid=None):
        with self.lock:
            if rid is None:
                n = len(self.rules)
                self.rules = []
            else:
                before = len(self.rules)
                self.rules = [r for r in self.rules if r["id"] != rid]
                n = before - len(self.rules)
            return n

    @staticmethod
    def _matches(r, info):
        verbs = r.get("verb")
        if verbs:
            if isinstance(verbs, str):
                verbs = [verbs]
            if info.get("verb") not in verbs:
                return False
        if r["kind"] == "conflict" and info.get("verb") not in UPDATE_VERBS:
            return False
        if r["kind"] in ("watch-gone", "watch-drop") and info.get("verb") != "watch":
            return False
        if r.get("resource") and r["resource"] != info.get("resource"):
            return False
        if r.get("namespace") and r["namespace"] != info.get("namespace"):
            return False
        if r.get("path") and not re.search(r["path"], info.get("path", "")):
            return False
        return True

    def take(self, kind, info):
        """The first rule of `kind` matching info, its count used once."""
        with self.lock:
            for r in self.rules:
                if r["kind"] == kind and self._matches(r, info):
                    r["hits"] += 1
                    if r.get("count") is not None:
                        r["count"] -= 1
                        if r["count"] <= 0:
                            self.rules.remove(r)
                    return dict(r)
        return None


class RequestLog:
    def __init__(self, keep=20000):
        self.lock = threading.Lock()
        self.items = collections.deque(maxlen=keep)
        self.seq = 0
        self.total = 0
        self.by_verb = collections.Counter()
        self.by_code = collections.Counter()
        self.by_resource = collections.Counter()

    def add(self, entry):
        with self.lock:
            self.seq += 1
            self.total += 1
            entry["seq"] = self.seq
            self.items.append(entry)
            v = entry.get("verb") or "other"
            self.by_verb[v] += 1
            self.by_code[str(entry.get("code"))] += 1
            if entry.get("resource"):
                self.by_resource["%s %s" % (v, entry["resource"])] += 1

    def reset(self):
        with self.lock:
            self.items.clear()
            self.total = 0
            self.by_verb.clear()
            self.by_code.clear()
            self.by_resource.clear()

    def query(self, q):
        def one(k):
            return (q.get(k) or [None])[0]
        verb, res, path, user = one("verb"), one("resource"), one("path"), one("user")
        since = int(one("since") or 0)
        limit = int(one("limit") or 200)
        with self.lock:
            items = [dict(i) for i in self.items if i["seq"] > since and
                     (not verb or i.get("verb") == verb) and
                     (not res or i.get("resource") == res) and
                     (not user or i.get("user") == user) and
                     (not path or re.search(path, i.get("path", "")))]
            mv = collections.Counter(i.get("verb") or "other" for i in items)
            mc = collections.Counter(str(i.get("code")) for i in items)
            out = {"total": self.total, "byVerb": dict(self.by_verb),
                   "byCode": dict(self.by_code), "byResource": dict(self.by_resource),
                   "matched": len(items), "matchedByVerb": dict(mv), "matchedByCode": dict(mc),
                   "items": items[-limit:] if limit else []}
        return out


class AdminHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-apiserver-admin"

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def _reply(self, code, obj):
        body = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw.strip():
            return {}
        return json.loads(raw)

    def _handle(self, method):
        app = self.server.app
        u = urlsplit(self.path)
        parts = [p for p in u.path.split("/") if p]
        q = parse_qs(u.query)
        try:
            body = self._body() if method in ("POST", "PUT") else None
        except ValueError as e:
            return self._reply(400, {"error": "bad JSON: %s" % e})
        try:
            head = parts[0] if parts else ""
            if head == "healthz" and method == "GET":
                return self._reply(200, {"ok": True})
            if head == "faults":
                if method == "GET":
                    return self._reply(200, {"faults": app.faults.list()})
                if method == "POST":
                    specs = body if isinstance(body, list) else [body]
                    added = [app.faults.add(s) for s in specs]
                    return self._reply(201, {"faults": added})
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
                keep = int((body or {}).get("keep", 0))
                app.store.compact(keep)
                return self._reply(200, {"compacted": app.store.compacted, "resourceVersion": app.store.rv})
            if head == "settings":
                if method in ("POST", "PUT"):
                    app.apply_settings(body or {})
                return self._reply(200, app.settings())
            if head == "watches" and len(parts) > 1 and parts[1] == "close" and method == "POST":
                n = app.close_watches()
                return self._reply(200, {"closed": n})
            if head == "tokens" and method == "POST":
                # {"token": T, "user": U}: T authenticates as U from now on
                # (service-account users are then authorized by RBAC).
                tok, user = str(body["token"]), str(body["user"])
                if not tok or "," in tok or not user:
                    return self._reply(400, {"error": "token and user are required"})
                app.tokens[tok] = user
                return self._reply(201, {"user": user})
            if head == "state" and method == "GET":
                return self._reply(200, app.state())
            if head == "idle" and method == "POST":
                t = float((body or {}).get("timeout", 10))
                return self._reply(200, {"idle": app.controllers.wait_idle(t)})
            return self._reply(404, {"error": "no such admin endpoint: %s %s" % (method, u.path)})
        except FaultError as e:
            return self._reply(400, {"error": str(e)})
        except (TypeError, ValueError, KeyError) as e:
            return self._reply(400, {"error": "bad request: %s" % e})

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


def sleep_ms(ms):
    if ms and ms > 0:
        time.sleep(ms / 1000.0)
