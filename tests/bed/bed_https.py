# SPDX-License-Identifier: Apache-2.0
"""The "https" component of berth's test bed: an HTTPS server for the HTTP
client's tests (tests/bed/https_server.py), with its own PKI.

At start it makes, with the openssl CLI, in the component's workdir:
  ca.pem/ca.key          a self-signed test CA
  server.pem/server.key  a server certificate for 127.0.0.1 and localhost
  client.pem/client.key  a client certificate (mutual TLS)
  wrong-ca.pem           an unrelated CA that trusts nothing here

Exports:
  BERTH_HTTPS_URL          https://127.0.0.1:PORT (server-only TLS)
  BERTH_HTTPS_MTLS_URL     https://127.0.0.1:PORT (client certificate required)
  BERTH_HTTPS_CA           the CA's PEM file
  BERTH_HTTPS_CLIENT_CERT  the client certificate's PEM file
  BERTH_HTTPS_CLIENT_KEY   the client key's PEM file
  BERTH_HTTPS_WRONG_CA     a CA PEM that did not sign the server's certificate
"""

import json
import os
import subprocess

import bedlib

HERE = os.path.dirname(os.path.abspath(__file__))
DAYS = "7"


def _openssl(workdir, *args):
    try:
        r = subprocess.run(["openssl"] + list(args), cwd=workdir,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
    except FileNotFoundError:
        raise bedlib.BedError("the openssl CLI is missing: install the Debian "
                              "package 'openssl' (or run scripts/setup)")
    if r.returncode != 0:
        raise bedlib.BedError("openssl %s failed: %s" %
                              (args[0], r.stderr.decode(errors="replace")))


def _make_ca(workdir, name, cn):
    _openssl(workdir, "req", "-x509", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".pem", "-days", DAYS,
             "-subj", "/CN=" + cn,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def _make_leaf(workdir, name, cn, ext):
    extfile = os.path.join(workdir, name + ".ext")
    with open(extfile, "w") as f:
        f.write(ext)
    _openssl(workdir, "req", "-newkey", "ec",
             "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + cn)
    _openssl(workdir, "x509", "-req", "-in", name + ".csr",
             "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", name + ".pem", "-days", DAYS, "-extfile", extfile)


def make_pki(workdir):
    _make_ca(workdir, "ca", "berth test CA")
    _make_ca(workdir, "wrong-ca", "berth unrelated CA")
    _make_leaf(workdir, "server", "127.0.0.1",
               "basicConstraints=critical,CA:FALSE\n"
               "keyUsage=critical,digitalSignature\n"
               "extendedKeyUsage=serverAuth\n"
               "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _make_leaf(workdir, "client", "berth-test-client",
               "basicConstraints=critical,CA:FALSE\n"
               "keyUsage=critical,digitalSignature\n"
               "extendedKeyUsage=clientAuth\n")


def start(workdir):
    make_pki(workdir)
    ready = os.path.join(workdir, "ports.json")
    log = os.path.join(workdir, "https.log")
    path = lambda n: os.path.join(workdir, n)  # noqa: E731
    # The server binds port 0 and writes the ports it got to `ready`, so
    # no other process can take a port between our choice and its bind.
    proc = bedlib.spawn(["/usr/bin/python3", os.path.join(HERE, "https_server.py"),
                         "--cert", path("server.pem"), "--key", path("server.key"),
                         "--ca", path("ca.pem"), "--ready", ready], log)
    try:
        bedlib.wait_until(lambda: os.path.exists(ready), 15,
                          "https server", proc=proc, logfile=log)
        # The file is written after both sockets listen.
        with open(ready) as f:
            ports = json.load(f)
    except BaseException:
        bedlib.kill_pid(proc.pid)
        raise
    return {
        "env": {
            "BERTH_HTTPS_URL": "https://127.0.0.1:%d" % ports["port"],
            "BERTH_HTTPS_MTLS_URL": "https://127.0.0.1:%d" % ports["mtls_port"],
            "BERTH_HTTPS_CA": path("ca.pem"),
            "BERTH_HTTPS_CLIENT_CERT": path("client.pem"),
            "BERTH_HTTPS_CLIENT_KEY": path("client.key"),
            "BERTH_HTTPS_WRONG_CA": path("wrong-ca.pem"),
        },
        "pids": [proc.pid],
        "info": {"port": ports["port"], "mtls_port": ports["mtls_port"],
                 "log": log},
    }
