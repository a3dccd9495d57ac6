#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""examples/: every manifest applies to the bed's API server and reads back
as written (class provisioners and parameters, berth-peers' arguments,
volumeClaimTemplates' classes, claims that name a class of the examples),
and each migration pair differs in exactly the `provisioner:` line.

    test_examples.py [--case NAME]... [--peers BERTH-PEERS]   (under bed.py run k8s)
        the cases (wordpress-nfs, wordpress-efs, aws-ebs, mongodb,
        mongodb-render, zookeeper, migrate, demo) run alone with --case;
        with --peers, berth-peers is also started with each example's exact
        arguments (paths moved to a temporary directory) and must not
        refuse them.
    test_examples.py --bound PROVISIONER
        (under bed.py run k8s nfs) WordPress on NFS: berth-provisioner makes
        its claims Bound volumes, directories on the export; deleting the
        example archives them.

The bed has no kubelet and no workload controllers: pods do not run and
StatefulSets make no claims; what is checked is what the API server keeps.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from checklib import Failure, check, poll

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EX = os.path.join(ROOT, "examples")
T0 = time.monotonic()


def log(msg):
    print("[%6.2fs] %s" % (time.monotonic() - T0, msg), flush=True)


def kubectl(*args, check_rc=True):
    r = subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise Failure("kubectl %s: rc=%d\n%s%s" % (" ".join(args), r.returncode,
                                                   r.stdout, r.stderr))
    return r


def get(kind, name, ns=None):
    args = ["get", kind, name, "-o", "json"]
    if ns:
        args += ["-n", ns]
    return json.loads(kubectl(*args).stdout)


def namespace(ns):
    kubectl("create", "namespace", ns)


def apply(ns, path):
    kubectl("apply", "-n", ns, "-f", path)


def classes():
    items = json.loads(kubectl("get", "storageclass", "-o", "json").stdout)["items"]
    return {c["metadata"]["name"]: c for c in items}


def container(pod_spec, name, init=False):
    for c in pod_spec.get("initContainers" if init else "containers", []):
        if c["name"] == name:
            return c
    raise Failure("no %scontainer %s" % ("init " if init else "", name))


def claims_need(ns, known):
    """Every claim in ns names a class that exists."""
    items = json.loads(kubectl("get", "pvc", "-n", ns, "-o", "json").stdout)["items"]
    for c in items:
        sc = c["spec"].get("storageClassName")
        check(sc in known, "%s/%s: class %s is not one of %s"
              % (ns, c["metadata"]["name"], sc, sorted(known)))
    return items


def deployments_claims(ns):
    """Every Deployment's claim volumes exist in ns."""
    deps = json.loads(kubectl("get", "deploy", "-n", ns, "-o", "json").stdout)["items"]
    have = {c["metadata"]["name"] for c in
            json.loads(kubectl("get", "pvc", "-n", ns, "-o", "json").stdout)["items"]}
    n = 0
    for d in deps:
        for v in d["spec"]["template"]["spec"].get("volumes", []):
            if "persistentVolumeClaim" in v:
                cn = v["persistentVolumeClaim"]["claimName"]
                check(cn in have, "deploy %s: claim %s not in %s" % (d["metadata"]["name"], cn, ns))
                n += 1
    return len(deps), n


def wordpress(ns, path, cls, provisioner, params):
    namespace(ns)
    apply(ns, path)
    sc = classes()[cls]
    check(sc["provisioner"] == provisioner, "%s: provisioner %s" % (cls, sc["provisioner"]))
    for k, v in params.items():
        check(sc.get("parameters", {}).get(k) == v,
              "%s: parameter %s=%r, want %r" % (cls, k, sc.get("parameters", {}).get(k), v))
    items = claims_need(ns, classes())
    check(sorted(c["metadata"]["name"] for c in items) == ["mysql-pv-claim", "wp-pv-claim"],
          "%s claims: %s" % (ns, [c["metadata"]["name"] for c in items]))
    check(all(c["spec"]["storageClassName"] == cls for c in items), "%s: claims' class" % ns)
    deps, vols = deployments_claims(ns)
    check((deps, vols) == (2, 2), "%s: %d deployments, %d claim volumes" % (ns, deps, vols))
    # The real PV controller marks the claims for the class's provisioner;
    # a claim it saw before its class (one apply) waits for its periodic
    # resync (--pvclaimbinder-sync-period, 15 s).
    for c in items:
        cur = get("pvc", c["metadata"]["name"], ns)
        ann = cur["metadata"].get("annotations", {})
        poll(lambda: get("pvc", c["metadata"]["name"], ns)["metadata"].get("annotations", {})
             .get("volume.kubernetes.io/storage-provisioner") == provisioner
             or get("pvc", c["metadata"]["name"], ns)["status"].get("phase") == "Bound",
             40, "%s/%s annotated for %s (have %s)" % (ns, c["metadata"]["name"],
                                                       provisioner, ann))
    log("%s: class %s (%s), 2 claims, 2 Deployments, applied and read back"
        % (path[len(ROOT) + 1:], cls, provisioner))


def peers_accepts(binary, args, hostname):
    """binary + the manifest's args parse: berth-peers gets as far as its
    "starting" line (printed once the options are parsed and the identity,
    hooks and resolver are set up), with the identity and mode the args
    ask for; then SIGTERM stops it with exit 0. A flag it rejects makes it
    exit 2 before that line, however slowly. DNS goes to a port where
    nothing answers."""
    if binary is None:
        return
    tmp = tempfile.mkdtemp(prefix="examples-")
    p = None
    try:
        a = []
        for x in args:
            if x.startswith(":") and x[1:].isdigit():
                x = "127.0.0.1:%d" % free_port()
            for d in ("/config/", "/peers/"):
                x = x.replace(d, tmp + "/")
            a.append(x)
        env = dict(os.environ, POD_NAMESPACE="default", HOSTNAME=hostname)
        out_path = os.path.join(tmp, "out.log")
        with open(out_path, "w") as out:
            p = subprocess.Popen([binary, *a, "--dns-server", "127.0.0.1:9"], env=env,
                                 stdout=out, stderr=subprocess.STDOUT)

        def output():
            with open(out_path) as f:
                return f.read()

        def started():
            if p.poll() is not None:
                raise Failure("berth-peers %s: exited %d before starting:\n%s"
                              % (" ".join(args), p.returncode, output()))
            return re.search(r'msg=starting .*', output()) or \
                re.search(r'msg="starting".*', output())
        line = poll(started, 30, "berth-peers %s to start" % " ".join(args)).group(0)
        flags = {x.lstrip("-").split("=", 1)[0] for x in args
                 if x.startswith("-")}
        # As peer-finder: -on-start with nothing else to do (no -on-change,
        # --render or --http-endpoint) runs the hook once and exits (an
        # init container); berth-peers calls that mode on-start.
        if "once" in flags:
            mode = "once"
        elif "on-start" in flags and not flags & {"on-change", "render",
                                                  "http-endpoint"}:
            mode = "on-start"
        else:
            mode = "sidecar"
        check(" self=%s." % hostname in line and " mode=%s" % mode in line and
              " namespace_from=" in line,
              "berth-peers %s: started as %r, want self %s, mode %s"
              % (" ".join(args), line, hostname, mode))
        p.terminate()
        rc = p.wait(timeout=30)
        check(rc == 0, "berth-peers %s: SIGTERM exit %d, want 0:\n%s"
              % (" ".join(args), rc, output()))
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# The manifests the cases checked, relative to examples/.
DONE = set()


def mark(*paths):
    for p in paths:
        DONE.add(os.path.relpath(p, EX))


def files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".yaml"))


def case_wordpress_nfs(peers_bin):
    d = os.path.join(EX, "wordpress-nfs")
    wordpress("wp-nfs", d, "berth-nfs", "berth.io/nfs",
              {"pathPattern": "${.PVC.namespace}/${.PVC.name}", "archiveOnDelete": "true"})
    mark(*files(d))


def case_wordpress_efs(peers_bin):
    d = os.path.join(EX, "wordpress-efs")
    wordpress("wp-efs", d, "berth-efs-dir", "berth.io/efs",
              {"provisioningMode": "efs-dir", "fileSystemId": "fs-0123456789abcdef0"})
    mark(*files(d))
    ap = os.path.join(d, "efs-ap", "storageclass.yaml")
    kubectl("apply", "-f", ap)
    sc = classes()["berth-efs-ap"]
    check(sc["provisioner"] == "berth.io/efs", "berth-efs-ap provisioner")
    p = sc["parameters"]
    check(p.get("provisioningMode") == "efs-ap" and p.get("fileSystemId", "").startswith("fs-")
          and p.get("directoryPerms") == "700", "berth-efs-ap parameters: %s" % p)
    mark(ap)
    log("wordpress-efs/efs-ap: class berth-efs-ap (efs-ap, %s)" % p["fileSystemId"])


def case_aws_ebs(peers_bin):
    d = os.path.join(EX, "aws-ebs")
    namespace("ebs")
    apply("ebs", d)
    sc = classes()["gp2"]
    check(sc["provisioner"] == "berth.io/ebs", "gp2 provisioner %s" % sc["provisioner"])
    check(sc["parameters"].get("type") == "gp2", "gp2 type")
    check(sc["volumeBindingMode"] == "WaitForFirstConsumer", "gp2 binding mode")
    claims_need("ebs", classes())
    pod = get("pod", "ebs-app", "ebs")
    check(pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "ebs-claim",
          "ebs-app's claim")
    mark(*files(d))
    log("aws-ebs: class gp2 (berth.io/ebs, type gp2, WaitForFirstConsumer), claim, pod")


def case_mongodb(peers_bin):
    d = os.path.join(EX, "mongodb")
    namespace("mongo")
    apply("mongo", d)
    svc = get("service", "mongo", "mongo")
    check(svc["spec"]["clusterIP"] == "None", "mongo: Service not headless")
    check(svc["spec"].get("publishNotReadyAddresses") is True,
          "mongo: members must be in DNS during their init containers")
    sts = get("statefulset", "mongo", "mongo")
    check(sts["spec"]["serviceName"] == "mongo", "mongo serviceName")
    spec = sts["spec"]["template"]["spec"]
    install = container(spec, "install", init=True)
    check(install["command"] == ["berth-peers", "install", "/work-dir"],
          "mongo install command %s" % install["command"])
    check(install["image"].startswith("berth:"), "mongo install image %s" % install["image"])
    boot = container(spec, "bootstrap", init=True)
    check(boot["image"].startswith("mongo:"), "bootstrap runs in %s" % boot["image"])
    check(boot["command"] == ["/work-dir/berth-peers"], "bootstrap command %s" % boot["command"])
    check(boot["args"] == ["-on-start=/work-dir/on-start.sh", "-service=mongo"],
          "bootstrap args %s" % boot["args"])
    peers_accepts(peers_bin, boot["args"], "mongo-0")
    mounts = {m["mountPath"]: m for m in boot["volumeMounts"]}
    check(mounts["/work-dir/on-start.sh"].get("subPath") == "on-start.sh",
          "on-start.sh not mounted from the ConfigMap")
    check(container(spec, "mongod")["args"][:2] == ["--replSet", "rs0"],
          "mongod's set name")
    env = {e["name"]: e.get("value") for e in boot["env"]}
    check(env.get("REPLICA_SET") == "rs0", "bootstrap REPLICA_SET %s" % env)
    cm = get("configmap", "mongo-init", "mongo")
    check(sorted(cm["data"]) == ["on-start.sh"], "mongo-init keys")
    check("rs.initiate" in cm["data"]["on-start.sh"] and "rs.add" in cm["data"]["on-start.sh"],
          "on-start.sh initiates and adds")
    vct = sts["spec"]["volumeClaimTemplates"]
    check([v["spec"]["storageClassName"] for v in vct] == ["berth-nfs"], "mongo vct class")
    mark(*files(d))
    log("mongodb: install + bootstrap init containers, berth-peers %s in the mongo image"
        % " ".join(boot["args"]))


def case_mongodb_render(peers_bin):
    # The no-shell option: a berth-peers sidecar renders the document.
    d = os.path.join(EX, "mongodb", "render")
    namespace("mongo-render")
    apply("mongo-render", d)
    svc = get("service", "mongo", "mongo-render")
    check(svc["spec"]["clusterIP"] == "None", "mongo: Service not headless")
    sts = get("statefulset", "mongo", "mongo-render")
    check(sts["spec"]["serviceName"] == "mongo", "mongo serviceName")
    spec = sts["spec"]["template"]["spec"]
    peers = container(spec, "peers")
    check(peers["command"] == ["berth-peers"], "mongo peers command %s" % peers["command"])
    check(peers["args"][:3] == ["-service=mongo", "--render", "mongo,name=rs0:/config/rs.json"],
          "mongo peers args %s" % peers["args"])
    check(peers["securityContext"]["runAsUser"] == 65532, "mongo peers user")
    peers_accepts(peers_bin, peers["args"], "mongo-0")
    check(container(spec, "mongod")["args"][:2] == ["--replSet", "rs0"],
          "mongod's set name is not the rendered one")
    rs = container(spec, "rs-config")
    check(rs["command"] == ["/bin/sh", "/scripts/init-rs.sh"], "rs-config command")
    cm = get("configmap", "mongo-scripts", "mongo-render")
    check(sorted(cm["data"]) == ["init-rs.sh", "reconfig.sh"], "mongo-scripts keys")
    check("/config/rs.json" in cm["data"]["init-rs.sh"], "init-rs.sh reads /config/rs.json")
    vct = sts["spec"]["volumeClaimTemplates"]
    check([v["spec"]["storageClassName"] for v in vct] == ["berth-nfs"], "mongo vct class")
    mark(*files(d))
    log("mongodb/render: headless Service, StatefulSet, berth-peers sidecar %s, "
        "volumeClaimTemplates on berth-nfs" % " ".join(peers["args"]))


def case_zookeeper(peers_bin):
    d = os.path.join(EX, "zookeeper")
    namespace("zk")
    apply("zk", d)
    check(get("service", "zookeeper", "zk")["spec"]["clusterIP"] == "None", "zk: not headless")
    sts = get("statefulset", "zookeeper", "zk")
    check(sts["spec"]["podManagementPolicy"] == "Parallel", "zk podManagementPolicy")
    spec = sts["spec"]["template"]["spec"]
    init = container(spec, "peers", init=True)
    check(init["command"] == ["berth-peers"], "zk init command")
    a = init["args"]
    check("-service=zookeeper" in a and "--once" in a, "zk init args %s" % a)
    check(a[a.index("--min-peers") + 1] == str(sts["spec"]["replicas"]),
          "--min-peers is not the replica count")
    check(a[a.index("--render") + 1] == "zookeeper,port=2888:/peers/servers.cfg",
          "zk render %s" % a)
    peers_accepts(peers_bin, a, "zookeeper-0")
    zk = container(spec, "zookeeper")
    check("/peers/myid" in " ".join(zk["command"]) and
          "/peers/servers.cfg" in " ".join(zk["command"]), "zookeeper does not read the renders")
    vct = sts["spec"]["volumeClaimTemplates"]
    check([v["spec"]["storageClassName"] for v in vct] == ["berth-nfs"], "zk vct class")
    mark(*files(d))
    log("zookeeper: init container berth-peers %s" % " ".join(a))


def case_migrate(peers_bin):
    for name, old, new in (("nfs-subdir", "k8s-sigs.io/nfs-subdir-external-provisioner",
                            "berth.io/nfs"),
                           ("aws-ebs-csi", "ebs.csi.aws.com", "berth.io/ebs")):
        d = os.path.join(EX, "migrate", name)
        before, after = os.path.join(d, "before.yaml"), os.path.join(d, "after.yaml")

        def body(p):
            return [ln for ln in open(p).read().splitlines() if not ln.lstrip().startswith("#")]
        b, a = body(before), body(after)
        diff = [(x, y) for x, y in zip(b, a) if x != y]
        check(len(b) == len(a) and diff == [("provisioner: " + old, "provisioner: " + new)],
              "migrate/%s: before/after differ in %s" % (name, diff))
        kubectl("apply", "-f", before)
        cname = get("-f", before)["metadata"]["name"]
        check(classes()[cname]["provisioner"] == old, "%s before" % cname)
        # provisioner is immutable: the class is replaced, as the comment says.
        r = kubectl("apply", "-f", after, check_rc=False)
        check(r.returncode != 0 and "field is immutable" in r.stderr.lower(),
              "changing provisioner in place: rc=%d %s" % (r.returncode, r.stderr))
        kubectl("delete", "storageclass", cname)
        kubectl("apply", "-f", after)
        sc = classes()[cname]
        check(sc["provisioner"] == new, "%s after: %s" % (cname, sc["provisioner"]))
        kubectl("delete", "storageclass", cname)
        mark(before, after)
        log("migrate/%s: one line changes: provisioner %s -> %s" % (name, old, new))


def case_demo(peers_bin):
    # scripts/demo's classes (berth-nfs, as deploy/ and the NFS examples
    # name it, and berth-gp3), replacing wordpress-nfs's berth-nfs.
    d = os.path.join(EX, "demo")
    kubectl("delete", "storageclass", "berth-nfs", "--ignore-not-found")
    namespace("demo")
    apply("demo", d)
    claims_need("demo", classes())
    mark(*files(d))


CASES = {"wordpress-nfs": case_wordpress_nfs, "wordpress-efs": case_wordpress_efs,
         "aws-ebs": case_aws_ebs, "mongodb": case_mongodb,
         "mongodb-render": case_mongodb_render, "zookeeper": case_zookeeper,
         "migrate": case_migrate, "demo": case_demo}


def check_all(peers_bin=None, only=()):
    """The cases named in only (all when empty); with all of them, every
    manifest under examples/ must have been checked by one."""
    for name in only or CASES:
        CASES[name](peers_bin)
    if only:
        return
    every = set()
    for dp, _, fs in os.walk(EX):
        every |= {os.path.relpath(os.path.join(dp, f), EX) for f in fs if f.endswith(".yaml")}
    check(every == DONE, "manifests not checked: %s" % sorted(every - DONE))
    log("all %d manifests under examples/ applied and checked" % len(every))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def phase(ns, name):
    return get("pvc", name, ns).get("status", {}).get("phase")


def check_bound(binary):
    ns = "wordpress"
    export = os.environ["BERTH_NFS_EXPORT_DIR"]
    port = free_port()
    logf = open(os.path.join(os.environ.get("BERTH_BED_DIR", "/tmp"), "provisioner.log"), "w")
    env = dict(os.environ, PROVISIONER_NAME="berth.io/nfs", NFS_URL=os.environ["BERTH_NFS_URL"])
    p = subprocess.Popen([binary, "--http-endpoint", "127.0.0.1:%d" % port],
                         env=env, stdout=logf, stderr=subprocess.STDOUT)
    try:
        def ready():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
                    return r.status == 200 and not r.read().startswith(b"standby")
            except OSError:
                check(p.poll() is None, "berth-provisioner exited rc=%s" % p.poll())
                return False
        poll(ready, 30, "berth-provisioner ready")
        log("berth-provisioner (PROVISIONER_NAME=berth.io/nfs, NFS_URL) ready")
        namespace(ns)
        apply(ns, os.path.join(EX, "wordpress-nfs"))
        names = ["mysql-pv-claim", "wp-pv-claim"]
        poll(lambda: all(phase(ns, n) == "Bound" for n in names), 60, "claims Bound")
        for n in names:
            pv = get("pv", get("pvc", n, ns)["spec"]["volumeName"])
            check(pv["spec"]["storageClassName"] == "berth-nfs", "%s: PV class" % n)
            check(pv["spec"]["mountOptions"] == ["nfsvers=4.1"], "%s: mountOptions" % n)
            path = pv["spec"]["nfs"]["path"]
            d = os.path.join(export, ns, n)
            check(os.path.isdir(d) and path.endswith("/%s/%s" % (ns, n)),
                  "%s: PV path %s, directory %s" % (n, path, d))
        log("wordpress-nfs: %s Bound, directories %s/{%s} on the export"
            % (", ".join(names), ns, ",".join(names)))
        pvs = [get("pvc", n, ns)["spec"]["volumeName"] for n in names]
        kubectl("delete", "-n", ns, "-f", os.path.join(EX, "wordpress-nfs"), "--wait=false")
        poll(lambda: kubectl("get", "pv", *pvs, "--ignore-not-found", "-o", "name")
             .stdout.strip() == "", 60, "the PVs to go")
        # A nested pathPattern's directory is archived at the export's root
        # as archived-<leaf> (provisioner/README.md, test_provisioner_delete).
        left = sorted(os.listdir(export))
        check(left == sorted(["archived-" + n for n in names] + [ns])
              and os.listdir(os.path.join(export, ns)) == [], "export after delete: %s" % left)
        log("deleted: PVs gone, directories archived: %s" % left)
    finally:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        logf.close()
    check(p.returncode == 0, "berth-provisioner exit status %s" % p.returncode)


def main(argv):
    args = argv[1:]
    only = []
    while len(args) >= 2 and args[0] == "--case":
        if args[1] not in CASES:
            print("unknown case %r (cases: %s)" % (args[1], ", ".join(CASES)),
                  file=sys.stderr)
            return 2
        only.append(args[1])
        args = args[2:]
    try:
        if len(args) == 2 and args[0] == "--bound" and not only:
            check_bound(args[1])
        elif not args:
            check_all(None, only)
        elif len(args) == 2 and args[0] == "--peers":
            check_all(args[1], only)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Failure as e:
        log("FAIL: %s" % e)
        return 1
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
