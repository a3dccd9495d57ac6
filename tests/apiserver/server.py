# SPDX-License-Identifier: Apache-2.0
"""HTTPS, routing, authentication, content negotiation and watch streams.

Paths (as the real API server):
    /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>    discovery
    /version, /healthz, /livez, /readyz                             (no token needed)
    /openapi/v3, /openapi/v3/<api/v1|apis/<g>/<v>>                  minimal OpenAPI v3
    <gv>/<resource>[/<name>[/<subresource>]]                        cluster-scoped,
                                                                    and all-namespaces lists
    <gv>/namespaces/<ns>/<resource>[/<name>[/<subresource>]]        namespaced
    <gv>/watch/...                                                  deprecated watch paths

Every request but the health ones needs `Authorization: Bearer <token>`
(a token of the token file); otherwise 401 with a Status. JSON only:
request bodies in application/json (or the PATCH types), responses in
application/json, as Table (meta.k8s.io/v1 or v1beta1) or
PartialObjectMetadata(List) when the Accept header asks for them.
"""

import json
import re
import select
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import VERSION, errors, faults as faultsmod, protobuf, rbac, resources, tables
from .errors import APIError
from .store import Expired, dumps

PATCH_TYPES = {"application/json-patch+json": "json",
               "application/merge-patch+json": "merge",
               "application/strategic-merge-patch+json": "strategic",
               "application/apply-patch+yaml": "apply",
               "application/apply-patch+cbor": None}


class RequestInfo(dict):
    pass


def _truthy(v):
    return v is not None and v.lower() in ("1", "true", "yes")


def negotiate(accept):
    """Return ("json"|"table"|"partial", table_version)."""
    if not accept:
        return "json", None
    fallback = None
    for rng in accept.split(","):
        parts = [p.strip() for p in rng.split(";")]
        mt = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if mt in ("application/json", "*/*", "application/*"):
            as_ = params.get("as")
            g = params.get("g")
            if as_ == "Table" and g == "meta.k8s.io":
                return "table", params.get("v", "v1")
            if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList") and g == "meta.k8s.io":
                return "partial", params.get("v", "v1")
            if as_ is None:
                return "json", None
        elif mt in ("application/yaml", "application/vnd.kubernetes.protobuf"):
            fallback = ("json", None)
    return fallback or ("json", None)


def parse_path(path, method, q):
    """Return a RequestInfo for a resource request, or None."""
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
    info = RequestInfo(group=group, version=version, path=path, namespace=None)
    watch = False
    if rest and rest[0] == "watch":
        watch = True
        rest = rest[1:]
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        info["namespace"] = rest[1]
        rest = rest[2:]
    if not rest or len(rest) > 3:
        return RequestInfo(info, bad=True)
    info["resource"] = rest[0]
    info["name"] = rest[1] if len(rest) > 1 else None
    info["subresource"] = rest[2] if len(rest) > 2 else None
    if rest[0] == "namespaces" and len(rest) > 1:
        info["namespace"] = rest[1]
    watch = watch or _truthy(q.get("watch"))
    verb = {"GET": "get" if info["name"] else ("watch" if watch else "list"),
            "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if info["name"] else "deletecollection"}.get(method)
    if method == "GET" and watch:
        verb = "watch"
    info["verb"] = verb
    return info


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-apiserver"
    timeout = 600

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            BaseHTTPRequestHandler.log_message(self, fmt, *args)

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_OPTIONS(self):
        self._dispatch("OPTIONS")

    # --- plumbing ----------------------------------------------------------

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            out = []
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out.append(self.rfile.read(n))
                self.rfile.readline()
            return b"".join(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_bytes(self, code, body, ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self._audit)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # Headers and body in one write: two small writes meet Nagle's
        # algorithm and the peer's delayed ACK (40 ms per request).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self._code = code
        self._log_request()
        self.flush_headers()

    def send_obj(self, code, obj, headers=None):
        self.send_bytes(code, dumps(obj), headers=headers)

    def send_error_status(self, err):
        self.send_obj(err.code, err.status(), err.headers)

    def _dispatch(self, method):
        app = self.server.app
        t0 = time.monotonic()
        self._code = 0
        self._audit = "%016x" % (int(t0 * 1e9) & 0xFFFFFFFFFFFFFFFF)
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        info = RequestInfo(path=u.path, method=method, query=u.query)
        self._info, self._t0, self._user = None, t0, None
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        self._info = info
        user = None
        try:
            if u.path in ("/healthz", "/livez", "/readyz") and method in ("GET", "HEAD"):
                info["verb"] = "health"
                self.send_bytes(200, b"ok", "text/plain; charset=utf-8")
                return
            user = self._user = app.authenticate(self.headers.get("Authorization"))
            if user is None:
                raise errors.unauthorized()
            ri = parse_path(u.path, method, q)
            if ri is not None:
                info.update(ri)
                info["method"] = method
            else:
                info["verb"] = "get" if method == "GET" else method.lower()
            app.apply_faults(info)
            if ri is not None and not ri.get("bad") and \
                    not rbac.allowed(app.store, user, info):
                raise errors.APIError(403, "Forbidden", rbac.forbidden_message(user, info),
                                      {"name": info.get("name") or "",
                                       "group": info.get("group") or "",
                                       "kind": info.get("resource") or ""})
            if ri is None:
                self._non_resource(method, u.path)
            elif ri.get("bad"):
                raise errors.path_not_found()
            else:
                self._resource(ri, method, q, body)
        except APIError as e:
            try:
                self.send_error_status(e)
            except OSError:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # a bug: report it as the API server would
            traceback.print_exc()
            try:
                self.send_error_status(errors.internal("%s: %s" % (type(e).__name__, e)))
            except OSError:
                self.close_connection = True
        finally:
            self._log_request()

    def _log_request(self):
        """Record the request once, before its response is written, so that
        a client that got the response finds its request in the log."""
        info = self._info
        if info is None:
            return
        self._info = None
        info["code"] = self._code
        info["user"] = self._user
        info["ms"] = round((time.monotonic() - self._t0) * 1000, 2)
        info["time"] = time.time()
        self.server.app.requests.add({k: v for k, v in info.items() if v is not None and k != "bad"})

    # --- non-resource paths ------------------------------------------------

    def _non_resource(self, method, path):
        app = self.server.app
        if method not in ("GET", "HEAD"):
            raise errors.method_not_allowed()
        p = path.rstrip("/") or "/"
        if p == "/version":
            return self.send_obj(200, VERSION)
        if p == "/api":
            return self.send_obj(200, resources.api_versions(app.address))
        if p == "/apis":
            return self.send_obj(200, resources.api_group_list())
        if p == "/openapi/v3":
            return self.send_obj(200, resources.openapi_v3_index())
        if p.startswith("/openapi/v3/"):
            doc = resources.openapi_v3_doc(p[len("/openapi/v3/"):])
            if doc is not None:
                return self.send_obj(200, doc)
            raise errors.path_not_found()
        m = re.match(r"^/api/([^/]+)$", p)
        if m:
            d = resources.api_resource_list("", m.group(1))
            if d:
                return self.send_obj(200, d)
        m = re.match(r"^/apis/([^/]+)$", p)
        if m:
            d = resources.api_group(m.group(1))
            if d:
                return self.send_obj(200, d)
        m = re.match(r"^/apis/([^/]+)/([^/]+)$", p)
        if m:
            d = resources.api_resource_list(m.group(1), m.group(2))
            if d:
                return self.send_obj(200, d)
        if p == "/":
            paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3",
                     "/readyz", "/version"] + ["/apis/%s/%s" % (g, vs[0]) for g, vs in resources.GROUPS]
            return self.send_obj(200, {"paths": sorted(paths)})
        raise errors.path_not_found()

    # --- resources ---------------------------------------------------------

    def _decode(self, body, method):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if method == "PATCH":
            if ctype not in PATCH_TYPES or PATCH_TYPES[ctype] is None:
                raise errors.unsupported_media(ctype)
        elif ctype == "application/vnd.kubernetes.protobuf":
            try:
                return protobuf.decode(body), None
            except protobuf.ProtobufError as e:
                raise errors.APIError(415, "UnsupportedMediaType", str(e), {})
        elif ctype not in ("application/json", "application/yaml", "*/*", ""):
            raise errors.unsupported_media(ctype)
        try:
            return json.loads(body.decode("utf-8") if body else "null"), PATCH_TYPES.get(ctype)
        except (ValueError, UnicodeDecodeError) as e:
            if ctype == "application/apply-patch+yaml":
                raise errors.unsupported_media("application/apply-patch+yaml with YAML "
                                               "(not JSON) content")
            raise errors.bad_request("couldn't get version/kind; json parse error: %s" % e)

    def _resource(self, ri, method, q, body):
        app = self.server.app
        reg = app.registry
        res = resources.lookup(ri["group"], ri["version"], ri["resource"])
        if res is None:
            raise errors.path_not_found()
        ns, name, sub = ri.get("namespace"), ri.get("name"), ri.get("subresource")
        if res.namespaced and res.kind != "Namespace":
            if name and ns is None:
                raise errors.path_not_found()
        elif ns is not None and res.kind != "Namespace":
            raise errors.path_not_found()
        if res.kind == "Namespace":
            ns = None
        if sub and sub not in res.subresources:
            raise errors.path_not_found()
        dry = "All" in (q.get("dryRun") or "")
        verb = ri["verb"]
        fmt, tver = negotiate(self.headers.get("Accept"))
        if verb == "watch":
            return self._watch(res, ns, q, fmt, tver)
        if verb == "list":
            return self._list(res, ns, q, fmt, tver)
        if verb == "get":
            if method == "HEAD" or sub in (None, "status"):
                e = reg.get(res, ns, name)
                return self._send_entry(200, res, e, fmt, tver, q)
            raise errors.method_not_allowed()
        if verb == "create":
            obj, _ = self._decode(body, method)
            if sub == "binding" and res.kind == "Pod":
                reg.bind_pod(ns, name, obj)
                return self.send_obj(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                           "status": "Success", "code": 201})
            if name:
                raise errors.method_not_allowed()
            if res.namespaced and ns is None:
                raise errors.method_not_allowed()
            e = reg.create(res, ns, obj, dry)
            return self._send_entry(201, res, e, fmt, tver, q)
        if verb == "update":
            if not name or sub == "binding":
                raise errors.method_not_allowed()
            obj, _ = self._decode(body, method)
            e, created = reg.update(res, ns, name, obj, sub, dry)
            return self._send_entry(201 if created else 200, res, e, fmt, tver, q)
        if verb == "patch":
            if not name or sub == "binding":
                raise errors.method_not_allowed()
            obj, ptype = self._decode(body, method)
            if ptype == "json" and not isinstance(obj, list):
                raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
            if ptype in ("merge", "strategic", "apply") and not isinstance(obj, dict):
                raise errors.bad_request("json: cannot unmarshal into Go value of type map[string]interface {}")
            e, created = reg.patch(res, ns, name, ptype, obj, sub, dry)
            return self._send_entry(201 if created else 200, res, e, fmt, tver, q)
        if verb == "delete":
            if sub:
                raise errors.method_not_allowed()
            opts = self._delete_options(body, q)
            dry = dry or "All" in (opts.get("dryRun") or [])
            e = reg.delete(res, ns, name, opts, dry)
            return self._send_entry(200, res, e, fmt, tver, q)
        if verb == "deletecollection":
            opts = self._delete_options(body, q)
            out = reg.delete_collection(res, ns, q.get("labelSelector"), q.get("fieldSelector"),
                                        opts, dry)
            return self._send_list(res, out, app.store.rv, None, None, "json", None, q)
        raise errors.method_not_allowed()

    def _delete_options(self, body, q):
        opts = {}
        if body and body.strip():
            try:
                opts = json.loads(body)
            except ValueError as e:
                raise errors.bad_request("couldn't decode DeleteOptions: %s" % e)
            if not isinstance(opts, dict):
                raise errors.bad_request("DeleteOptions must be an object")
        for k in ("gracePeriodSeconds", "propagationPolicy"):
            if k in q:
                opts[k] = q[k]
        if "dryRun" in q:
            opts["dryRun"] = [q["dryRun"]]
        return opts

    # --- output ------------------------------------------------------------

    def _table(self, res, entries, rv, token, q, tver, with_defs=True):
        include = q.get("includeObject") or "Metadata"
        now = time.time()
        t = {"kind": "Table", "apiVersion": "meta.k8s.io/" + (tver or "v1"),
             "metadata": {"resourceVersion": str(rv)}}
        if token:
            t["metadata"]["continue"] = token
        t["columnDefinitions"] = tables.column_definitions(res.kind) if with_defs else []
        t["rows"] = [tables.row(res.kind, self.server.app.registry.to_wire(res, e.obj), include, now)
                     for e in entries]
        return t

    def _send_entry(self, code, res, e, fmt, tver, q):
        reg = self.server.app.registry
        if fmt == "table":
            return self.send_obj(code, self._table(res, [e], e.obj["metadata"].get("resourceVersion", ""),
                                                   None, q, tver))
        if fmt == "partial":
            return self.send_obj(code, {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                        "metadata": e.obj["metadata"]})
        return self.send_bytes(code, reg.wire_bytes(res, e))

    def _list(self, res, ns, q, fmt, tver):
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise errors.bad_request("invalid limit")
        entries, rv, token, remaining = self.server.app.registry.list(
            res, ns, q.get("labelSelector"), q.get("fieldSelector"), max(limit, 0), q.get("continue"))
        self._send_list(res, entries, rv, token, remaining, fmt, tver, q)

    def _send_list(self, res, entries, rv, token, remaining, fmt, tver, q):
        if fmt == "table":
            return self.send_obj(200, self._table(res, entries, rv, token, q, tver))
        md = {"resourceVersion": str(rv)}
        if token:
            md["continue"] = token
        if remaining is not None:
            md["remainingItemCount"] = remaining
        if fmt == "partial":
            return self.send_obj(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                       "metadata": md,
                                       "items": [{"kind": "PartialObjectMetadata",
                                                  "apiVersion": "meta.k8s.io/v1",
                                                  "metadata": e.obj["metadata"]} for e in entries]})
        reg = self.server.app.registry
        head = dumps({"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": md})
        parts = [head[:-1], b',"items":[', b",".join(reg.wire_bytes(res, e) for e in entries), b"]}"]
        self.send_bytes(200, b"".join(parts))

    # --- watch -------------------------------------------------------------

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _client_gone(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            self.connection.settimeout(0.05)
            try:
                data = self.connection.recv(1)
            except (ssl.SSLWantReadError, socket.timeout, BlockingIOError):
                return False
            finally:
                self.connection.settimeout(self.timeout)
            return data == b""
        except (OSError, ValueError):
            return True

    def _watch(self, res, ns, q, fmt, tver):
        app = self.server.app
        reg = app.registry
        match = reg.matcher(res, q.get("labelSelector"), q.get("fieldSelector"))
        rv_s = q.get("resourceVersion") or ""
        send_initial = _truthy(q.get("sendInitialEvents"))
        bookmarks = _truthy(q.get("allowWatchBookmarks"))
        try:
            tmo = float(q.get("timeoutSeconds") or app.watch_timeout)
        except ValueError:
            raise errors.bad_request("invalid timeoutSeconds")
        tmo = min(tmo, app.watch_timeout) if tmo > 0 else app.watch_timeout
        info = {"verb": "watch", "resource": res.plural, "namespace": ns, "path": self.path}
        gone = app.faults.take("watch-gone", info)
        drop = app.faults.take("watch-drop", info)
        expired = None
        if gone is not None:
            expired = "too old resource version: %s (%d)" % (rv_s or "0", app.store.rv)
            if gone.get("http"):
                raise errors.expired(expired)
            w = None
        else:
            from_rv = None
            if rv_s not in ("", "0") and not send_initial:
                try:
                    from_rv = int(rv_s)
                except ValueError:
                    raise errors.bad_request("invalid resourceVersion: %s" % rv_s)
            try:
                w, initial = app.store.watch(res.storage, ns, from_rv)
            except Expired as e:
                w, expired = None, str(e)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", self._audit)
        self._code = 200
        self._log_request()
        self.end_headers()
        if w is None:
            err = errors.expired(expired).status()
            self._chunk(b'{"type":"ERROR","object":' + dumps(err) + b"}\n")
            self._chunk(b"")
            return
        app.track_watch(self, True)
        self._stop_watch = False
        sent = 0
        first_table = [True]

        def encode(typ, entry=None, obj=None):
            if fmt == "table" and entry is not None:
                o = self._table(res, [entry], entry.obj["metadata"].get("resourceVersion", ""),
                                None, q, tver, with_defs=first_table[0])
                first_table[0] = False
                return b'{"type":"' + typ.encode() + b'","object":' + dumps(o) + b"}\n"
            if fmt == "partial" and entry is not None:
                o = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                     "metadata": entry.obj["metadata"]}
                return b'{"type":"' + typ.encode() + b'","object":' + dumps(o) + b"}\n"
            raw = reg.wire_bytes(res, entry) if entry is not None else dumps(obj)
            return b'{"type":"' + typ.encode() + b'","object":' + raw + b"}\n"

        def bookmark(rv, initial_end=False):
            md = {"resourceVersion": str(rv)}
            if initial_end:
                md["annotations"] = {"k8s.io/initial-events-end": "true"}
            return encode("BOOKMARK", obj={"kind": res.kind, "apiVersion": res.api_version,
                                           "metadata": md})

        def over():
            return drop is not None and sent >= int(drop["after"])

        try:
            deadline = time.monotonic() + tmo
            if initial:
                for e in initial:
                    if match is None or match(e.obj):
                        self._chunk(encode("ADDED", e))
                        sent += 1
                        if over():
                            return self._drop(drop)
            if send_initial and bookmarks:
                rv = app.store.idle(w) or app.store.rv
                self._chunk(bookmark(rv, True))
            next_bm = time.monotonic() + app.bookmark_interval
            while not self._stop_watch:
                now = time.monotonic()
                if now >= deadline:
                    break
                ev = w.get(min(deadline - now, 1.0, max(next_bm - now, 0.01) if bookmarks else 1.0))
                if ev is None:
                    if w.closed or self._stop_watch:
                        break
                    if bookmarks and time.monotonic() >= next_bm:
                        rv = app.store.idle(w)
                        if rv is not None:
                            self._chunk(bookmark(rv))
                        next_bm = time.monotonic() + app.bookmark_interval
                    elif self._client_gone():
                        break
                    continue
                typ = ev.type
                if match is not None:
                    newm = typ != "DELETED" and match(ev.entry.obj)
                    oldm = ev.old is not None and match(ev.old.obj)
                    if typ == "MODIFIED":
                        typ = "MODIFIED" if newm and oldm else "ADDED" if newm else \
                            "DELETED" if oldm else None
                    elif typ == "ADDED":
                        typ = typ if newm else None
                    else:
                        typ = typ if oldm else None
                    if typ is None:
                        continue
                self._chunk(encode(typ, ev.entry))
                sent += 1
                if over():
                    return self._drop(drop)
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            w.close()
            app.track_watch(self, False)

    def _drop(self, rule):
        if rule.get("abort"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            self._chunk(b"")

    def stop_watch(self):
        self._stop_watch = True


class APIHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, addr, app, ssl_ctx):
        self.app = app
        self.ssl_ctx = ssl_ctx
        ThreadingHTTPServer.__init__(self, addr, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the request's thread, not the accept loop.
        if self.ssl_ctx is not None:
            try:
                request.settimeout(10)
                request = self.ssl_ctx.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                try:
                    request.close()
                except OSError:
                    pass
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.app.verbose:
            ThreadingHTTPServer.handle_error(self, request, client_address)


class App:
    """Everything one server process holds."""

    def __init__(self, store, registry, controllers, tokens, verbose=False,
                 watch_timeout=1800.0, bookmark_interval=5.0):
        self.store = store
        self.registry = registry
        self.controllers = controllers
        self.tokens = tokens                  # token -> user name
        self.verbose = verbose
        self.watch_timeout = watch_timeout
        self.bookmark_interval = bookmark_interval
        self.latency_ms = 0
        self.faults = faultsmod.Faults()
        self.requests = faultsmod.RequestLog()
        self.address = "127.0.0.1:0"
        self._watches = set()
        self._wlock = threading.Lock()

    def authenticate(self, header):
        if not header:
            return None
        parts = header.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        return self.tokens.get(parts[1].strip())

    def apply_faults(self, info):
        if info.get("verb") == "health":
            return
        if self.latency_ms:
            faultsmod.sleep_ms(self.latency_ms)
        r = self.faults.take("latency", info)
        if r is not None:
            faultsmod.sleep_ms(r["ms"])
        r = self.faults.take("throttle", info)
        if r is not None:
            raise errors.too_many_requests(r.get("retryAfter", 1))
        r = self.faults.take("error", info)
        if r is not None:
            raise errors.server_error(int(r.get("code", 500)))
        if info.get("verb") in faultsmod.UPDATE_VERBS and info.get("resource"):
            r = self.faults.take("conflict", info)
            if r is not None:
                res = resources.lookup(info.get("group", ""), info.get("version", ""), info["resource"])
                if res is not None:
                    raise errors.conflict(res, info.get("name") or "")

    def track_watch(self, h, on):
        with self._wlock:
            (self._watches.add if on else self._watches.discard)(h)

    def close_watches(self):
        with self._wlock:
            hs = list(self._watches)
        for h in hs:
            h.stop_watch()
        return len(hs)

    def settings(self):
        return {"historySize": self.store.history_size,
                "bookmarkIntervalSeconds": self.bookmark_interval,
                "watchTimeoutSeconds": self.watch_timeout,
                "latencyMs": self.latency_ms,
                "storageProtection": self.registry.options.storage_protection}

    def apply_settings(self, s):
        if "historySize" in s:
            self.store.set_history_size(int(s["historySize"]))
        if "bookmarkIntervalSeconds" in s:
            self.bookmark_interval = max(0.05, float(s["bookmarkIntervalSeconds"]))
        if "watchTimeoutSeconds" in s:
            self.watch_timeout = max(1.0, float(s["watchTimeoutSeconds"]))
        if "latencyMs" in s:
            self.latency_ms = max(0, float(s["latencyMs"]))
        if "storageProtection" in s:
            self.registry.options.storage_protection = bool(s["storageProtection"])

    def state(self):
        with self.store.lock:
            counts = {k: len(v) for k, v in self.store.tables.items() if v}
            return {"resourceVersion": self.store.rv, "compacted": self.store.compacted,
                    "historyLength": len(self.store.history),
                    "historySize": self.store.history_size,
                    "objects": counts, "watches": len(self._watches)}
