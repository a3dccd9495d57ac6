# SPDX-License-Identifier: Apache-2.0
"""A CA and a server certificate made at run time with the openssl CLI, and
the kubeconfig that trusts them."""

import base64
import os
import secrets
import subprocess


def _run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), p.stdout.decode(errors="replace")))


def make_certs(d):
    """Write ca.crt, ca.key, server.crt, server.key in d (once); return paths."""
    os.makedirs(d, exist_ok=True)
    ca_crt, ca_key = os.path.join(d, "ca.crt"), os.path.join(d, "ca.key")
    crt, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    if all(os.path.exists(p) for p in (ca_crt, ca_key, crt, key)):
        return ca_crt, crt, key
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run(["openssl", "req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt",
          "-days", "30", "-subj", "/CN=berth-test-ca",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"], d)
    _run(["openssl", "req", "-new"] + ec + ["-keyout", "server.key", "-out", "server.csr",
          "-subj", "/CN=kube-apiserver"], d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,"
                "DNS:kubernetes.default,DNS:kubernetes.default.svc\n")
    _run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", "server.crt", "-days", "30", "-sha256",
          "-extfile", "server.ext"], d)
    os.chmod(ca_key, 0o600)
    os.chmod(key, 0o600)
    return ca_crt, crt, key


def load_or_make_token(path):
    """The admin token: the first field of the first line of the token file
    (kube-apiserver --token-auth-file CSV: token,user,uid,"groups")."""
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write('%s,admin,admin-uid,"system:masters"\n' % secrets.token_hex(24))
        os.chmod(path, 0o600)
    tokens = {}
    first = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(",")
            tok = parts[0].strip()
            user = parts[1].strip() if len(parts) > 1 else "user"
            tokens[tok] = user
            first = first or tok
    return first, tokens


def write_kubeconfig(path, url, ca_crt, token, name="berth-test"):
    with open(ca_crt, "rb") as f:
        ca_b64 = base64.b64encode(f.read()).decode()
    text = ("apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: %(n)s\n"
            "  cluster:\n"
            "    server: %(url)s\n"
            "    certificate-authority-data: %(ca)s\n"
            "users:\n"
            "- name: %(n)s-admin\n"
            "  user:\n"
            "    token: %(tok)s\n"
            "contexts:\n"
            "- name: %(n)s\n"
            "  context:\n"
            "    cluster: %(n)s\n"
            "    user: %(n)s-admin\n"
            "    namespace: default\n"
            "current-context: %(n)s\n"
            "preferences: {}\n") % {"n": name, "url": url, "ca": ca_b64, "tok": token}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
