#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An HTTPS server for berth's HTTP client tests (Python 3 stdlib only).

    https_server.py --cert C --key K --ca CA --ready FILE

Listens on 127.0.0.1 on two ports picked by the kernel: a plain TLS port
and a mutual-TLS port that requires a client certificate signed by CA.
Once both listen, writes {"port": P, "mtls_port": M} to FILE (atomically),
which is how the bed learns the ports without a race. HTTP/1.1 with
keep-alive; exits on SIGTERM or SIGINT.

Endpoints (both ports):
  /echo              method, path, headers, body and connection id as JSON
  /status/N          answer with code N (429 and 503 add Retry-After: 2)
  /stream?lines=N&delay_ms=D[&stall=1]
                     chunked, one JSON line per chunk, D ms apart; with
                     stall=1 the response never ends (for idle time-outs)
  /truncated         chunked, two lines, then closes mid-chunk
  /hang              reads the request, never answers
  /reset             closes the connection with a TCP RST (SO_LINGER 0)
  /big?bytes=N[&chunked=1]
                     N bytes of "x", with Content-Length or chunked
  /conn              the id of this TCP connection, to prove keep-alive
"""

import argparse
import http.server
import itertools
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

_conn_ids = itertools.count(1)
_conn_lock = threading.Lock()


def _next_conn_id():
    with _conn_lock:
        return next(_conn_ids)


class _Gone(Exception):
    """The handler closed the socket itself (/reset, /truncated)."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "berth-test-https/1"

    def setup(self):
        super().setup()
        self.conn_id = _next_conn_id()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s conn=%d %s\n" % (self.address_string(),
                                              self.conn_id, fmt % args))

    # --- helpers ---------------------------------------------------------

    def _send(self, code, body, ctype="application/json", extra=None):
        if isinstance(body, (dict, list)):
            body = (json.dumps(body) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _start_chunked(self, ctype="application/json"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _wait_for_close(self, limit=120.0):
        """Block until the client closes (or limit seconds pass)."""
        self.connection.settimeout(limit)
        try:
            while self.connection.recv(4096):
                pass
        except (OSError, ssl.SSLError):
            pass
        self.close_connection = True

    def _drop(self, rst):
        """Close the socket now, with an RST when rst is true."""
        sock = self.connection
        if rst:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        # detach() hands over the descriptor without a TLS close_notify, so
        # the client sees the connection end in the middle of things.
        fd = sock.detach()
        os.close(fd)
        raise _Gone()

    # --- dispatch ----------------------------------------------------------

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)

        def qint(name, default):
            return int(q.get(name, [default])[0])

        path = url.path
        body = self._read_body()
        if path == "/echo":
            self._send(200, {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
                "conn": self.conn_id,
            })
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            extra = {"Retry-After": "2"} if code in (429, 503) else None
            self._send(code, {"code": code}, extra=extra)
        elif path == "/conn":
            self._send(200, {"conn": self.conn_id})
        elif path == "/stream":
            lines, delay = qint("lines", 3), qint("delay_ms", 0)
            self._start_chunked()
            for i in range(lines):
                if i > 0 and delay > 0:
                    time.sleep(delay / 1000.0)
                self._chunk(b'{"n":%d}\n' % i)
            if q.get("stall"):
                self._wait_for_close()
                return
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/truncated":
            self._start_chunked()
            self._chunk(b'{"n":0}\n')
            self._chunk(b'{"n":1}\n')
            # Announce 256 bytes, send 7, and go away.
            self.wfile.write(b"100\r\npartial")
            self.wfile.flush()
            self._drop(rst=False)
        elif path == "/hang":
            self._wait_for_close()
        elif path == "/reset":
            self._drop(rst=True)
        elif path == "/big":
            n = qint("bytes", 0)
            if q.get("chunked"):
                self._start_chunked("application/octet-stream")
                left = n
                while left > 0:
                    k = min(left, 65536)
                    self._chunk(b"x" * k)
                    left -= k
                self.wfile.write(b"0\r\n\r\n")
            else:
                self._send(200, b"x" * n, ctype="application/octet-stream")
        else:
            self._send(404, {"error": "no such endpoint", "path": path})

    def _handle(self):
        try:
            self._dispatch()
        except _Gone:
            # The socket is gone: let the framework's clean-up find nothing.
            self.close_connection = True
            self.wfile = _Null()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Null:
    closed = False

    def write(self, data):
        return len(data)

    def flush(self):
        pass

    def close(self):
        pass


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, addr, context):
        self.context = context
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # client that never completes one cannot stall the accept loop.
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write("%s handshake failed: %s\n" % (client_address[0], e))
            return
        try:
            tls.settimeout(120)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--ready", required=True)
    a = p.parse_args()

    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    plain.load_cert_chain(a.cert, a.key)
    mtls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    mtls.load_cert_chain(a.cert, a.key)
    mtls.load_verify_locations(a.ca)
    mtls.verify_mode = ssl.CERT_REQUIRED

    servers = [TLSServer(("127.0.0.1", 0), plain),
               TLSServer(("127.0.0.1", 0), mtls)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=s.serve_forever, daemon=True)
               for s in servers]
    for t in threads:
        t.start()

    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": servers[0].server_address[1],
                   "mtls_port": servers[1].server_address[1]}, f)
    os.replace(tmp, a.ready)
    sys.stderr.write("listening on %s\n" % open(a.ready).read())
    sys.stderr.flush()

    while not stop.wait(1.0):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
