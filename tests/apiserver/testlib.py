# SPDX-License-Identifier: Apache-2.0
"""A small Kubernetes API client for the apiserver tests (stdlib only).

Reads the test bed's environment: BERTH_K8S_URL, BERTH_K8S_TOKEN_FILE,
BERTH_K8S_CA, BERTH_K8S_ADMIN_URL.
"""

import http.client
import json
import os
import ssl
import threading
import time
import urllib.parse
import urllib.request


def env(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit("%s is not set: run under tests/bed/bed.py run k8s -- ..." % name)
    return v


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Client:
    """One keep-alive HTTPS connection (not thread-safe: one per thread)."""

    def __init__(self, token=None):
        u = urllib.parse.urlsplit(env("BERTH_K8S_URL"))
        self.host, self.port = u.hostname, u.port
        if token is None:
            with open(env("BERTH_K8S_TOKEN_FILE")) as f:
                token = f.read().strip()
        self.token = token
        self.ctx = ssl.create_default_context(cafile=env("BERTH_K8S_CA"))
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)

    def request(self, method, path, body=None, ctype="application/json", headers=None):
        hdrs = {"Accept": "application/json"}
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs["Content-Type"] = ctype
        hdrs.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                r = self.conn.getresponse()
                return Response(r.status, dict(r.getheaders()), r.read())
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, ptype="merge", **kw):
        ct = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
              "strategic": "application/strategic-merge-patch+json"}[ptype]
        return self.request("PATCH", path, body, ctype=ct, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Watch:
    """A watch stream read in a thread; events collect in .events."""

    def __init__(self, path, token=None):
        self.events = []
        self.done = False
        self.status = None
        self.cond = threading.Condition()
        c = Client(token)
        self.conn = http.client.HTTPSConnection(c.host, c.port, context=c.ctx, timeout=120)
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + c.token,
                                                "Accept": "application/json"})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                ev = json.loads(line)
                with self.cond:
                    self.events.append(ev)
                    self.cond.notify_all()
        except Exception:  # closed under us, or the stream ended badly
            pass
        finally:
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def wait_for(self, pred, timeout=10.0):
        """Wait until pred(events) is true; return the events."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self.events):
                left = deadline - time.monotonic()
                if left <= 0 or (self.done and not pred(self.events)):
                    if self.done and pred(self.events):
                        break
                    raise AssertionError("watch: condition not met in %.1fs (done=%s); events: %s"
                                         % (timeout, self.done,
                                            [(e["type"], e["object"].get("metadata", {}).get("name"))
                                             for e in self.events][-20:]))
                self.cond.wait(min(left, 0.5))
            return list(self.events)

    def wait_done(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("watch did not end in %.1fs" % timeout)
                self.cond.wait(left)
        return list(self.events)

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except (OSError, AttributeError):
            pass
        self.conn.close()


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(env("BERTH_K8S_ADMIN_URL") + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def eventually(fn, timeout=30.0, what="condition"):
    """Poll fn() (every 20 ms) until it returns a true value; return it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except AssertionError as e:
            last = e
        else:
            if last:
                return last
        time.sleep(0.02)
    raise AssertionError("%s not met in %.1fs (last: %r)" % (what, timeout, last))


def pvc(name, ns="default", size="1Gi", cls=None, modes=("ReadWriteOnce",), labels=None):
    o = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": name, "namespace": ns},
         "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}}
    if cls is not None:
        o["spec"]["storageClassName"] = cls
    if labels:
        o["metadata"]["labels"] = labels
    return o


def pv(name, size="1Gi", cls="", claim=None, modes=("ReadWriteOnce",), policy="Retain", anns=None):
    o = {"apiVersion": "v1", "kind": "PersistentVolume",
         "metadata": {"name": name},
         "spec": {"capacity": {"storage": size}, "accessModes": list(modes),
                  "persistentVolumeReclaimPolicy": policy, "storageClassName": cls,
                  "nfs": {"server": "127.0.0.1", "path": "/exports/" + name}}}
    if claim:
        o["spec"]["claimRef"] = {"namespace": claim[0], "name": claim[1]}
    if anns:
        o["metadata"]["annotations"] = anns
    return o


def storage_class(name, provisioner="berth.example.com/nfs", mode="Immediate", expand=False):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name}, "provisioner": provisioner,
            "volumeBindingMode": mode, "allowVolumeExpansion": expand}
