# SPDX-License-Identifier: Apache-2.0
"""The "k8s" component of berth's test bed: the real Kubernetes control
plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, built
by tests/kube/build.sh) on 127.0.0.1, and the fault proxy in front of it.

Started in this order, all on ports picked at run time, all stopped with
the bed:
  etcd                     data in WORKDIR/etcd
  kube-apiserver           a CA and serving certificate made at run time
                           (openssl), service-account signing keys, a
                           static token file, --authorization-mode=Node,RBAC,
                           the default admission plugins
  kube-controller-manager  the controllers in CONTROLLERS (each with its
                           own service account), no node-lifecycle
  kube-scheduler
  k8s_proxy.py             the fault proxy (faults, request log, admin API)
There is no kubelet: `bed.py ctl k8s node` registers Nodes (Ready, with
allocatable resources and no not-ready taint) and their CSINodes.

Environment:
    KUBECONFIG                   WORKDIR/kubeconfig: the admin token, through
                                 the proxy (context "berth-test",
                                 namespace default)
    BERTH_K8S_URL                https://127.0.0.1:PORT (the proxy)
    BERTH_K8S_TOKEN_FILE         the admin bearer token (ca.crt and
                                 namespace beside it, as in a pod)
    BERTH_K8S_CA                 the CA certificate (PEM)
    BERTH_K8S_ADMIN_URL          http://127.0.0.1:PORT (the proxy's admin API)
    BERTH_K8S_ADMIN_KUBECONFIG   WORKDIR/admin.kubeconfig: the admin token,
                                 straight to kube-apiserver (no faults)
    BERTH_K8S_APISERVER_URL      https://127.0.0.1:PORT (kube-apiserver)
    BERTH_K8S_TOKENS             the static token file (token,user,uid,groups)
    BERTH_K8S_USER_TOKEN_FILE    a token of user "berth-user", no groups and
                                 no RBAC grants (for authorization tests)
    BERTH_K8S_REAL               "1": the real control plane runs
    KUBECACHEDIR                 WORKDIR/kubecache

    bed.py ctl k8s fault JSON         add a fault rule (tests/bed/README.md)
    bed.py ctl k8s clear              remove every fault rule
    bed.py ctl k8s compact            compact etcd's history
    bed.py ctl k8s requests [VERB]    print the request counters
    bed.py ctl k8s node NAME [zone=Z] [instance=I] [label=K=V ...]
                                      register a Ready Node and its CSINode
"""

import base64
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import bedlib

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
BUILD = os.path.join(TESTS, "kube", "build.sh")
READY_TIMEOUT = 120.0

# kube-controller-manager's controllers: what berth relies on (binder,
# expander, attach/detach, protection), what makes namespaces, service
# accounts and their tokens work, the garbage collector, the workloads the
# examples apply, and EndpointSlices. Not node-lifecycle: there is no
# kubelet to keep nodes fresh.
CONTROLLERS = [
    "persistentvolume-binder-controller",
    "persistentvolume-expander-controller",
    "persistentvolume-attach-detach-controller",
    "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller",
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
    "endpointslice-controller",
    "endpoints-controller",
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
]


def _bin_dir():
    try:
        d = subprocess.run(["/bin/bash", BUILD, "--dir"], check=True,
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        raise bedlib.BedError("k8s: %s --dir: %s" % (BUILD, e))
    if not os.path.exists(os.path.join(d, "stamp")):
        raise bedlib.BedError("k8s: the control plane is not built in %s: run scripts/setup "
                              "(or tests/kube/build.sh)" % d)
    return os.path.join(d, "bin")


def _kcm_rate():
    """kube-controller-manager's client rate limit: its default (20 requests
    a second per controller, as on most clusters), or BERTH_BED_KCM_QPS
    (burst twice that) for the benchmarks, where the PV binder's 20 qps
    (about 4 claims bound a second) would otherwise be what they measure."""
    qps = os.environ.get("BERTH_BED_KCM_QPS")
    if not qps:
        return []
    if not qps.isdigit() or int(qps) < 1:
        raise bedlib.BedError("BERTH_BED_KCM_QPS must be a positive integer: %r" % qps)
    return ["--kube-api-qps", qps, "--kube-api-burst", str(2 * int(qps))]


def _openssl(argv, cwd):
    p = subprocess.run(["openssl"] + argv, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise bedlib.BedError("openssl %s: %s" % (" ".join(argv),
                                                  p.stdout.decode(errors="replace")))


def make_pki(d):
    """A CA, kube-apiserver's serving certificate and the service-account
    signing key pair, EC P-256, made with the openssl CLI."""
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "30",
              "-subj", "/CN=berth-bed-ca",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"], d)
    _openssl(["req", "-new"] + ec + ["-keyout", "server.key", "-out", "server.csr",
              "-subj", "/CN=kube-apiserver"], d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,"
                "DNS:kubernetes.default,DNS:kubernetes.default.svc,"
                "DNS:kubernetes.default.svc.cluster.local\n")
    _openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
              "-CAcreateserial", "-out", "server.crt", "-days", "30", "-sha256",
              "-extfile", "server.ext"], d)
    _openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"], d)
    _openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], d)
    for k in ("ca.key", "server.key", "sa.key"):
        os.chmod(os.path.join(d, k), 0o600)


def write_kubeconfig(path, url, ca_crt, token, name="berth-test"):
    with open(ca_crt, "rb") as f:
        ca_b64 = base64.b64encode(f.read()).decode()
    text = ("apiVersion: v1\nkind: Config\nclusters:\n- name: %(n)s\n  cluster:\n"
            "    server: %(url)s\n    certificate-authority-data: %(ca)s\n"
            "users:\n- name: %(n)s-admin\n  user:\n    token: %(tok)s\n"
            "contexts:\n- name: %(n)s\n  context:\n    cluster: %(n)s\n"
            "    user: %(n)s-admin\n    namespace: default\n"
            "current-context: %(n)s\npreferences: {}\n") % {
                "n": name, "url": url, "ca": ca_b64, "tok": token}
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _get(url, ca=None, token=None, timeout=2):
    if ca:
        ctx = ssl.create_default_context(cafile=ca)
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, context=ctx if url.startswith("https") else None,
                                timeout=timeout) as r:
        return r.status, r.read()


def _ok(url, ca=None, token=None):
    try:
        return _get(url, ca, token)[0] == 200
    except urllib.error.HTTPError:
        return False


def _exists(url, ca, token):
    try:
        return _get(url, ca, token)[0] == 200
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return False
        raise


def start(workdir):
    bindir = _bin_dir()
    p = lambda *n: os.path.join(workdir, *n)  # noqa: E731
    pki = p("pki")
    make_pki(pki)
    ca = os.path.join(pki, "ca.crt")
    tokens = {u: secrets.token_hex(24) for u in
              ("admin", "kcm", "scheduler", "user")}
    with open(p("tokens.csv"), "w") as f:
        f.write('%s,berth-admin,berth-admin,"system:masters"\n' % tokens["admin"])
        f.write("%s,system:kube-controller-manager,kcm\n" % tokens["kcm"])
        f.write("%s,system:kube-scheduler,scheduler\n" % tokens["scheduler"])
        f.write("%s,berth-user,berth-user\n" % tokens["user"])
    os.chmod(p("tokens.csv"), 0o600)
    sa = p("serviceaccount")
    os.makedirs(sa)
    for name, text in (("token", tokens["admin"]), ("namespace", "default")):
        with open(os.path.join(sa, name), "w") as f:
            f.write(text)
    with open(ca, "rb") as src, open(os.path.join(sa, "ca.crt"), "wb") as dst:
        dst.write(src.read())
    with open(p("user-token"), "w") as f:
        f.write(tokens["user"])

    ports = {k: bedlib.free_port() for k in
             ("etcd", "peer", "api", "proxy", "admin", "kcm", "sched")}
    api_url = "https://127.0.0.1:%d" % ports["api"]
    proxy_url = "https://127.0.0.1:%d" % ports["proxy"]
    etcd_url = "http://127.0.0.1:%d" % ports["etcd"]
    write_kubeconfig(p("kubeconfig"), proxy_url, ca, tokens["admin"])
    write_kubeconfig(p("admin.kubeconfig"), api_url, ca, tokens["admin"], "berth-admin")
    write_kubeconfig(p("kcm.kubeconfig"), api_url, ca, tokens["kcm"], "kcm")
    write_kubeconfig(p("scheduler.kubeconfig"), api_url, ca, tokens["scheduler"], "scheduler")
    procs = []

    def spawn(name, argv):
        log = p(name + ".log")
        proc = bedlib.spawn(argv, log, cwd=workdir)
        procs.append((name, proc, log))
        return proc, log

    try:
        peer = "http://127.0.0.1:%d" % ports["peer"]
        proc, log = spawn("etcd", [
            os.path.join(bindir, "etcd"), "--name", "bed", "--data-dir", p("etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "bed=" + peer, "--initial-cluster-state", "new",
            "--listen-metrics-urls", "", "--log-level", "warn",
            # A test bed's data is thrown away: durability costs only time.
            "--unsafe-no-fsync", "--snapshot-count", "100000"])
        bedlib.wait_until(lambda: _ok(etcd_url + "/health"), READY_TIMEOUT, "etcd", proc, log)

        proc, log = spawn("kube-apiserver", [
            os.path.join(bindir, "kube-apiserver"),
            "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--secure-port", str(ports["api"]),
            "--advertise-address", "127.0.0.1",
            # 127.0.0.1 cannot be an endpoint of the "kubernetes" Service.
            "--endpoint-reconciler-type", "none",
            "--tls-cert-file", os.path.join(pki, "server.crt"),
            "--tls-private-key-file", os.path.join(pki, "server.key"),
            "--client-ca-file", ca,
            "--token-auth-file", p("tokens.csv"),
            "--authorization-mode", "Node,RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", os.path.join(pki, "sa.pub"),
            "--service-account-signing-key-file", os.path.join(pki, "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16",
            "--cert-dir", p("apiserver-certs"),
            # ConfigMaps bypass the watch cache: their watches and lists
            # are served from etcd, so the proxy's /compact (etcd
            # compaction) loses their history for real, as a watch cache
            # that has rolled over does on a busy cluster. libberth's
            # client tests use ConfigMaps for that.
            "--watch-cache-sizes", "configmaps#0",
            "--profiling=false", "--v", "1"])
        bedlib.wait_until(lambda: _ok(api_url + "/readyz", ca, tokens["admin"]),
                          READY_TIMEOUT, "kube-apiserver", proc, log)

        always = "/healthz,/readyz,/livez,/metrics"
        kcm, kcm_log = spawn("kube-controller-manager", [
            os.path.join(bindir, "kube-controller-manager"),
            "--kubeconfig", p("kcm.kubeconfig"),
            "--bind-address", "127.0.0.1", "--secure-port", str(ports["kcm"]),
            "--authorization-always-allow-paths", always,
            "--leader-elect=false",
            "--controllers", ",".join(CONTROLLERS),
            "--use-service-account-credentials=true",
            "--service-account-private-key-file", os.path.join(pki, "sa.key"),
            "--root-ca-file", ca,
            "--cluster-name", "berth-bed",
            "--profiling=false", "--v", "1"] + _kcm_rate())
        sched, sched_log = spawn("kube-scheduler", [
            os.path.join(bindir, "kube-scheduler"),
            "--kubeconfig", p("scheduler.kubeconfig"),
            "--bind-address", "127.0.0.1", "--secure-port", str(ports["sched"]),
            "--authorization-always-allow-paths", always,
            "--leader-elect=false", "--profiling=false", "--v", "1"])
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONSTARTUP", None)
        proxy_ready = p("proxy.ready")
        kcm_metrics = "https://127.0.0.1:%d/metrics" % ports["kcm"]
        proxy = bedlib.spawn([
            "/usr/bin/python3", os.path.join(HERE, "k8s_proxy.py"),
            "--listen", str(ports["proxy"]), "--admin", str(ports["admin"]),
            "--upstream", api_url, "--ca", ca,
            "--cert", os.path.join(pki, "server.crt"),
            "--key", os.path.join(pki, "server.key"),
            "--tokens", p("tokens.csv"), "--etcd", etcd_url,
            "--metrics", kcm_metrics, "--ready", proxy_ready], p("proxy.log"),
            env=env, cwd=workdir)
        procs.append(("proxy", proxy, p("proxy.log")))
        bedlib.wait_until(lambda: os.path.exists(proxy_ready), READY_TIMEOUT,
                          "the k8s fault proxy", proxy, p("proxy.log"))
        bedlib.wait_until(lambda: _ok("https://127.0.0.1:%d/healthz" % ports["kcm"]),
                          READY_TIMEOUT, "kube-controller-manager", kcm, kcm_log)
        bedlib.wait_until(lambda: _ok("https://127.0.0.1:%d/healthz" % ports["sched"]),
                          READY_TIMEOUT, "kube-scheduler", sched, sched_log)
        # Pods need their namespace's default ServiceAccount: once the
        # controller made it in "default", the cluster is usable.
        bedlib.wait_until(lambda: _exists(
            api_url + "/api/v1/namespaces/default/serviceaccounts/default", ca,
            tokens["admin"]), READY_TIMEOUT, "the default ServiceAccount", kcm, kcm_log)
    except BaseException:
        for _, proc, _ in reversed(procs):
            bedlib.kill_pid(proc.pid)
        raise
    cache = p("kubecache")
    os.makedirs(cache, exist_ok=True)
    return {"env": {"KUBECONFIG": p("kubeconfig"),
                    "BERTH_K8S_URL": proxy_url,
                    "BERTH_K8S_TOKEN_FILE": os.path.join(sa, "token"),
                    "BERTH_K8S_CA": ca,
                    "BERTH_K8S_ADMIN_URL": "http://127.0.0.1:%d" % ports["admin"],
                    "BERTH_K8S_ADMIN_KUBECONFIG": p("admin.kubeconfig"),
                    "BERTH_K8S_APISERVER_URL": api_url,
                    "BERTH_K8S_TOKENS": p("tokens.csv"),
                    "BERTH_K8S_USER_TOKEN_FILE": p("user-token"),
                    "BERTH_K8S_REAL": "1",
                    "KUBECACHEDIR": cache},
            # Stopped in this order: the front first, etcd last.
            "pids": [pr.pid for _, pr, _ in reversed(procs)],
            "info": {"ports": ports, "bin": bindir, "etcd": etcd_url,
                     "apiserver": api_url, "token": tokens["admin"]}}


def _api(state, method, path, body=None, ctype="application/json"):
    """A request straight to kube-apiserver as the admin; the answer's JSON."""
    info = state["info"]
    ca = state["env"]["BERTH_K8S_CA"]
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(info["apiserver"] + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + info["token"],
                                          "Content-Type": ctype})
    ctx = ssl.create_default_context(cafile=ca)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise bedlib.BedError("k8s: %s %s: %s %s" % (method, path, e.code,
                                                     e.read().decode(errors="replace")))


def register_node(state, name, zone=None, instance=None, labels=None, drivers=None):
    """Register a Node as a kubelet would (no kubelet runs here): labels
    (kubernetes.io/hostname, topology.kubernetes.io/zone and the EBS CSI
    driver's zone key), spec.providerID aws:///ZONE/INSTANCE, status Ready
    with allocatable resources, the attach/detach controller in charge of
    its volumes; then clear the not-ready taint that admission
    (TaintNodesByCondition) puts on every new Node and that only the
    node-lifecycle controller, which is off, would remove; and its CSINode
    with the CSI drivers' node entries."""
    lab = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
           "kubernetes.io/arch": "amd64"}
    if zone:
        lab["topology.kubernetes.io/zone"] = zone
        lab["topology.ebs.csi.aws.com/zone"] = zone
    lab.update(labels or {})
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": lab, "annotations": {
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {}}
    if instance:
        node["spec"]["providerID"] = "aws:///%s/%s" % (zone or "", instance)
    _api(state, "POST", "/api/v1/nodes", node)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    res = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    st = {"status": {
        "capacity": res, "allocatable": res,
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "berth's test bed registered this node",
                        "lastHeartbeatTime": now, "lastTransitionTime": now}],
        "addresses": [{"type": "Hostname", "address": name}],
        "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                     "kubeletVersion": "v0.0.0-bed", "containerRuntimeVersion": "",
                     "kernelVersion": "", "osImage": "", "machineID": "",
                     "systemUUID": "", "bootID": "", "kubeProxyVersion": ""}}}
    _api(state, "PATCH", "/api/v1/nodes/%s/status" % name, st,
         "application/merge-patch+json")
    _api(state, "PATCH", "/api/v1/nodes/" + name, {"spec": {"taints": None}},
         "application/merge-patch+json")
    node_id = instance or name
    drv = drivers if drivers is not None else ["ebs.csi.aws.com", "efs.csi.aws.com"]
    keys = {"ebs.csi.aws.com": ["topology.ebs.csi.aws.com/zone",
                                "topology.kubernetes.io/zone"]}
    nobj = _api(state, "GET", "/api/v1/nodes/" + name)
    csinode = {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
               "metadata": {"name": name, "ownerReferences": [{
                   "apiVersion": "v1", "kind": "Node", "name": name,
                   "uid": nobj["metadata"]["uid"]}]},
               "spec": {"drivers": [dict({"name": d, "nodeID": node_id},
                                         **({"topologyKeys": keys[d]} if d in keys and zone
                                            else {}),
                                         **({"allocatable": {"count": 25}}
                                            if d == "ebs.csi.aws.com" else {}))
                                    for d in drv]}}
    _api(state, "POST", "/apis/storage.k8s.io/v1/csinodes", csinode)
    return nobj


def _admin(state, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(state["env"]["BERTH_K8S_ADMIN_URL"] + path, data=data,
                                 method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise bedlib.BedError("admin %s %s: %s %s" % (method, path, e.code, e.read().decode()))
    except OSError as e:
        raise bedlib.BedError("admin %s %s: %s" % (method, path, e))


def ctl(workdir, state, args):
    usage = ("k8s ctl: fault JSON | clear | compact | requests [VERB] | "
             "node NAME [zone=Z] [instance=I] [label=K=V ...] [drivers=A,B]")
    if not args:
        raise bedlib.BedError(usage)
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
    elif verb == "node" and len(args) >= 2:
        kw = {"labels": {}}
        for a in args[2:]:
            k, _, v = a.partition("=")
            if k == "label" and "=" in v:
                lk, _, lv = v.partition("=")
                kw["labels"][lk] = lv
            elif k in ("zone", "instance"):
                kw[k] = v
            elif k == "drivers":
                kw["drivers"] = [d for d in v.split(",") if d]
            else:
                raise bedlib.BedError(usage)
        out = register_node(state, args[1], **kw)
    else:
        raise bedlib.BedError("k8s ctl: unknown command %r" % " ".join(args))
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return None
