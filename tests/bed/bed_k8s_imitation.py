# SPDX-License-Identifier: Apache-2.0
"""The "k8s-imitation" component of berth's test bed: berth's own small Kubernetes API
server (tests/apiserver/, Python 3 standard library) on 127.0.0.1.

It serves HTTPS with a CA and server certificate made at run time (SAN
127.0.0.1 and localhost), authenticates a bearer token, and writes a
kubeconfig that the real kubectl uses unmodified. An admin endpoint (plain
HTTP) switches faults on and counts requests: see tests/apiserver/README.md.

Environment:
    KUBECONFIG             WORKDIR/server/kubeconfig (cluster with
                           certificate-authority-data, user with token,
                           context "berth-test", namespace default)
    BERTH_K8S_URL          https://127.0.0.1:PORT
    BERTH_K8S_TOKEN_FILE   a file holding the bearer token (as a service
                           account token; the CA and "namespace" are beside it)
    BERTH_K8S_CA           the CA certificate (PEM)
    BERTH_K8S_ADMIN_URL    http://127.0.0.1:PORT (faults, request log)
    KUBECACHEDIR           WORKDIR/kubecache, so kubectl's discovery cache
                           goes away with the bed

    bed.py ctl k8s-imitation fault JSON          add a fault rule, e.g.
                                       '{"kind":"throttle","count":3}'
    bed.py ctl k8s-imitation clear               remove every fault rule
    bed.py ctl k8s-imitation compact             drop the watch history (410 for older)
    bed.py ctl k8s-imitation requests [VERB]     print the request counters
"""

import json
import os
import ssl
import sys
import urllib.request

import bedlib

READY_TIMEOUT = 20.0
HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


def _ready(workdir):
    path = os.path.join(workdir, "server", "ready.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _https_ok(info):
    ctx = ssl.create_default_context(cafile=info["ca"])
    req = urllib.request.Request(info["url"] + "/readyz")
    with urllib.request.urlopen(req, context=ctx, timeout=2) as r:
        return r.status == 200


def start(workdir):
    logfile = os.path.join(workdir, "apiserver.log")
    env = dict(os.environ)
    env["PYTHONPATH"] = TESTS
    env.pop("PYTHONSTARTUP", None)
    proc = bedlib.spawn(["/usr/bin/python3", "-m", "apiserver", "--workdir",
                         os.path.join(workdir, "server")], logfile, env=env, cwd=TESTS)
    try:
        bedlib.wait_until(lambda: _ready(workdir) is not None, READY_TIMEOUT,
                          "k8s API server", proc, logfile)
        info = _ready(workdir)
        bedlib.wait_until(lambda: _https_ok(info), READY_TIMEOUT, "k8s API server (HTTPS)",
                          proc, logfile)
    except BaseException:
        bedlib.kill_pid(proc.pid)
        raise
    cache = os.path.join(workdir, "kubecache")
    os.makedirs(cache, exist_ok=True)
    return {"env": {"KUBECONFIG": info["kubeconfig"],
                    "BERTH_K8S_URL": info["url"],
                    "BERTH_K8S_TOKEN_FILE": info["token_file"],
                    "BERTH_K8S_CA": info["ca"],
                    "BERTH_K8S_ADMIN_URL": info["admin_url"],
                    "KUBECACHEDIR": cache},
            "pids": [proc.pid],
            "info": info}


def _admin(state, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(state["env"]["BERTH_K8S_ADMIN_URL"] + path, data=data,
                                 method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise bedlib.BedError("admin %s %s: %s %s" % (method, path, e.code, e.read().decode()))
    except OSError as e:
        raise bedlib.BedError("admin %s %s: %s" % (method, path, e))


def ctl(workdir, state, args):
    if not args:
        raise bedlib.BedError("k8s ctl: fault JSON | clear | compact | requests [VERB]")
    verb = args[0]
    if verb == "fault" and len(args) == 2:
        try:
            spec = json.loads(args[1])
        except ValueError as e:
            raise bedlib.BedError("k8s ctl fault: bad JSON: %s" % e)
        out = _admin(state, "POST", "/faults", spec)
    elif verb == "clear":
        out = _admin(state, "DELETE", "/faults")
    elif verb == "compact":
        out = _admin(state, "POST", "/compact", {"keep": 0})
    elif verb == "requests":
        q = "?limit=0" + ("&verb=" + args[1] if len(args) > 1 else "")
        out = _admin(state, "GET", "/requests" + q)
    else:
        raise bedlib.BedError("k8s ctl: unknown command %r" % " ".join(args))
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return None
