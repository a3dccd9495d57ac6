# SPDX-License-Identifier: Apache-2.0
"""Start the API server (see __main__.py)."""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

from . import attach_controller, certs, controllers, registry, resources, server, store, strategy

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def build(history=1000, storage_protection=True, verbose=False, watch_timeout=1800.0,
          bookmark_interval=5.0, tokens=None):
    st = store.Store(history=history)
    opts = registry.Options()
    opts.storage_protection = storage_protection
    reg = registry.Registry(st, opts)
    ctl = controllers.Controllers(reg)
    app = server.App(st, reg, ctl, tokens or {}, verbose=verbose,
                     watch_timeout=watch_timeout, bookmark_interval=bookmark_interval)
    nsres = resources.lookup("", "v1", "namespaces")
    for n in DEFAULT_NAMESPACES:
        reg.create(nsres, None, {"metadata": {"name": n}})
    ctl.start()
    app.attach_controller = attach_controller.AttachController(reg)
    app.attach_controller.start()
    return app


def main(argv=None):
    p = argparse.ArgumentParser(prog="apiserver", description="berth's test Kubernetes API server")
    p.add_argument("--workdir", required=True, help="state directory (certificates, kubeconfig)")
    p.add_argument("--port", type=int, default=0, help="HTTPS port on 127.0.0.1 (0: any)")
    p.add_argument("--admin-port", type=int, default=0, help="admin HTTP port on 127.0.0.1 (0: any)")
    p.add_argument("--history", type=int, default=1000, help="watch history length (events)")
    p.add_argument("--bookmark-interval", type=float, default=5.0, help="seconds between BOOKMARKs")
    p.add_argument("--watch-timeout", type=float, default=1800.0, help="longest watch, seconds")
    p.add_argument("--no-storage-protection", action="store_true",
                   help="do not add kubernetes.io/pvc-protection and pv-protection finalizers")
    p.add_argument("--token-file", help="token CSV (token,user,uid,\"groups\"); made if missing")
    p.add_argument("--verbose", action="store_true", help="log every request")
    a = p.parse_args(argv)

    wd = os.path.abspath(a.workdir)
    os.makedirs(wd, exist_ok=True)
    ca, crt, key = certs.make_certs(os.path.join(wd, "pki"))
    token, tokens = certs.load_or_make_token(a.token_file or os.path.join(wd, "tokens.csv"))

    app = build(a.history, not a.no_storage_protection, a.verbose, a.watch_timeout,
                a.bookmark_interval, tokens)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(crt, key)
    ctx.set_alpn_protocols(["http/1.1"])
    httpd = server.APIHTTPServer(("127.0.0.1", a.port), app, ctx)
    port = httpd.server_address[1]
    app.address = "127.0.0.1:%d" % port
    from .faults import AdminServer
    admin = AdminServer(("127.0.0.1", a.admin_port), app)
    url = "https://127.0.0.1:%d" % port
    admin_url = "http://127.0.0.1:%d" % admin.server_address[1]

    sa = os.path.join(wd, "serviceaccount")
    os.makedirs(sa, exist_ok=True)
    with open(os.path.join(sa, "token"), "w") as f:
        f.write(token)
    with open(ca) as src, open(os.path.join(sa, "ca.crt"), "w") as dst:
        dst.write(src.read())
    with open(os.path.join(sa, "namespace"), "w") as f:
        f.write("default")
    kubeconfig = os.path.join(wd, "kubeconfig")
    certs.write_kubeconfig(kubeconfig, url, ca, token)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    threading.Thread(target=admin.serve_forever, name="admin", daemon=True).start()
    threading.Thread(target=httpd.serve_forever, name="https", daemon=True).start()
    ready = {"url": url, "admin_url": admin_url, "kubeconfig": kubeconfig,
             "token_file": os.path.join(sa, "token"), "ca": ca, "pid": os.getpid(),
             "serviceaccount_dir": sa}
    tmp = os.path.join(wd, "ready.json.tmp")
    with open(tmp, "w") as f:
        json.dump(ready, f, indent=1)
    os.replace(tmp, os.path.join(wd, "ready.json"))
    print("apiserver: listening on %s (admin %s), kubeconfig %s" % (url, admin_url, kubeconfig),
          file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except SystemExit:
        pass
    finally:
        app.close_watches()
        app.controllers.stop()
        app.attach_controller.stop()
    print("apiserver: stopped", file=sys.stderr, flush=True)
    os._exit(0)
