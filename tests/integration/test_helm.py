#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""deploy/helm/berth with the real helm (scripts/tools/build helm):

  - `helm lint`, alone and with every values file in examples/;
  - `helm template` of every example: the objects are what the values say
    (the backends' --provisioner flags and StorageClasses, RBAC generated
    from what is enabled, the IRSA annotation, the ServiceMonitor and
    PrometheusRule behind their flags), and the Deployment's container runs
    as it stands (its arguments and environment through
    `berth-provisioner --check-config`, as deploy/'s overlays are checked);
  - examples/nfs-subdir.yaml, a values file written for
    nfs-subdir-external-provisioner's chart, gives the same StorageClass
    and environment that chart gives;
  - the chart's alerts are deploy/monitoring's;
  - `helm install` into the bed's API server, then the installed
    Deployment's container, run here as its pod would run it (the bed has
    no kubelet: same arguments and environment, the bed's kubeconfig
    instead of the in-cluster token), provisions a claim of the installed
    StorageClass on the bed's NFS export;
  - with --uninstall, `helm uninstall` then removes it all (helm's
    release storage sends its DeleteOptions as protobuf, which the real
    kube-apiserver decodes).

    test_helm.py [--uninstall] HELM CHART-DIR DEPLOY-DIR BERTH-PROVISIONER
                                                   (under bed.py run k8s nfs)
"""

import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_berthctl_deploy as deploy  # noqa: E402
from test_provisioner_lib import (API, Failure, Provisioner, check, claim,  # noqa: E402
                                  kubectl, log, wait_bound)

HELM = CHART = DEPLOY = None

ATTACHER_RULES = {("storage.k8s.io", "volumeattachments"), ("storage.k8s.io", "csinodes"),
                  ("storage.k8s.io", "volumeattachments/status"),
                  ("", "persistentvolumeclaims/status"),
                  ("snapshot.storage.k8s.io", "volumesnapshotcontents"),
                  ("snapshot.storage.k8s.io", "volumesnapshotcontents/status")}


def helm(*args, ok=True):
    r = subprocess.run([HELM] + list(args), capture_output=True, text=True, timeout=180)
    if ok and r.returncode != 0:
        raise Failure("helm %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                r.stderr.strip()))
    return r


def template(values=None, *sets):
    args = ["template", "b", CHART, "--namespace", "berth"]
    if values:
        args += ["-f", values]
    for s in sets:
        args += ["--set", s]
    docs = [d for d in yaml.safe_load_all(helm(*args).stdout) if d]
    check(docs, "helm template %s: nothing" % values)
    return docs


def provisioner_flags(docs):
    dep = deploy.one(docs, "Deployment")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    return [a.split("=", 1)[1] for a in c["args"] if a.startswith("--provisioner=")]


def check_example(path, values):
    name = os.path.basename(path)
    docs = template(path)
    flags = provisioner_flags(docs)
    want = []
    if values.get("nfs", {}).get("enabled", True):
        want.append(values.get("storageClass", {}).get("provisionerName", "berth.io/nfs") + "=nfs")
    if values.get("ebs", {}).get("enabled"):
        want.append("berth.io/ebs=ebs")
    if values.get("efs", {}).get("enabled"):
        want.append("berth.io/efs=efs")
    check(flags == want, "%s: --provisioner %s, want %s" % (name, flags, want))
    deploy.check_runs(docs, name)
    # RBAC from what is enabled: the attacher's, resizer's and snapshotter's
    # only with EBS.
    rules = deploy.rules_of(deploy.one(docs, "ClusterRole"))
    has = ATTACHER_RULES <= set(rules)
    ebs = bool(values.get("ebs", {}).get("enabled"))
    check(has == ebs, "%s: attacher RBAC %s with ebs %s" % (name, has, ebs))
    for k, v in deploy.PROVISIONER_RULES.items():
        check(v <= rules.get(k, set()), "%s: ClusterRole lacks %s %s" % (name, k, v))
    sa = deploy.one(docs, "ServiceAccount")
    arn = values.get("aws", {}).get("roleArn")
    got = (sa["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn")
    check(got == (arn if (ebs or values.get("efs", {}).get("enabled")) else None),
          "%s: IRSA annotation %s" % (name, got))
    mon = values.get("metrics", {})
    for kind, key in (("ServiceMonitor", "serviceMonitor"), ("PrometheusRule", "prometheusRule")):
        n = len([d for d in docs if d["kind"] == kind])
        check(n == (1 if mon.get(key, {}).get("enabled") else 0), "%s: %d %s" % (name, n, kind))
    log("%s: %d objects, serves %s" % (name, len(docs), ", ".join(flags)))
    return docs


def check_nfs_subdir(docs):
    """What nfs-subdir-external-provisioner's chart renders for these
    values: class nfs-client of provisioner
    cluster.local/nfs-subdir-external-provisioner with archiveOnDelete and
    pathPattern, its mount options, NFS_SERVER/NFS_PATH, leader election."""
    sc = deploy.one(docs, "StorageClass", "nfs-client")
    check(sc["provisioner"] == "cluster.local/nfs-subdir-external-provisioner" and
          sc["reclaimPolicy"] == "Delete" and sc["allowVolumeExpansion"] is True and
          sc["parameters"] == {"archiveOnDelete": "true",
                               "pathPattern": "${.PVC.namespace}-${.PVC.name}"} and
          sc["mountOptions"] == ["nfsvers=4.1"], "nfs-subdir: StorageClass %s" % sc)
    dep = deploy.one(docs, "Deployment")
    check(dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"]["type"] == "Recreate",
          "nfs-subdir: replicas/strategy %s" % dep["spec"])
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c["env"]}
    check(env.get("NFS_SERVER") == "nfs.example.com" and env.get("NFS_PATH") == "/exported/path",
          "nfs-subdir: env %s" % env)
    check("--leader-elect=true" in c["args"], "nfs-subdir: leader election %s" % c["args"])


def check_rules():
    mine = yaml.safe_load(open(os.path.join(DEPLOY, "monitoring", "rules.yaml")))
    chart = yaml.safe_load(open(os.path.join(CHART, "files", "rules.yaml")))
    check(mine == chart, "the chart's files/rules.yaml differs from deploy/monitoring/rules.yaml")
    pr = yaml.safe_load(open(os.path.join(DEPLOY, "monitoring", "prometheusrule.yaml")))
    check(pr["spec"] == mine, "deploy/monitoring/prometheusrule.yaml differs from rules.yaml")
    docs = template(None, "metrics.prometheusRule.enabled=true")
    check(deploy.one(docs, "PrometheusRule")["spec"] == mine, "the chart's PrometheusRule")


def install_and_provision(binary, procs, uninstall):
    """helm install with the bed's export, run the installed Deployment's
    container as its pod would, and see a claim Bound."""
    url = os.environ["BERTH_NFS_URL"]
    helm("install", "b", CHART, "--namespace", "berth", "--create-namespace",
         "--set", "nfs.url=" + url, "--set", "storageClass.name=helm-nfs",
         "--set", "replicaCount=1", "--set", "leaderElection.leaseDuration=4s",
         "--set", "leaderElection.renewDeadline=3s", "--set", "leaderElection.retryPeriod=500ms")
    status = json.loads(helm("status", "b", "--namespace", "berth", "-o", "json").stdout)
    check(status["info"]["status"] == "deployed", "helm status: %s" % status["info"])
    docs = [json.loads(kubectl("get", "-n", "berth", "deployment", "b-berth", "-o", "json").stdout),
            json.loads(kubectl("get", "storageclass", "helm-nfs", "-o", "json").stdout)]
    for kind in ("serviceaccount", "role", "rolebinding"):
        kubectl("get", "-n", "berth", kind, "-o", "name")
    kubectl("get", "clusterrole", "b-berth")
    dep = docs[0]
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = deploy.container_env(docs, dep, c)
    args = [deploy.expand(a, env) for a in c["args"]]
    args = [a for a in args if not a.startswith("--http-endpoint")]
    p = Provisioner(binary, "helm", args + ["--kubeconfig", os.environ["KUBECONFIG"]],
                    environ={k: v for k, v in env.items() if k.startswith("NFS_")})
    procs.append(p.start())
    api = API()
    kubectl("apply", "-f", "-", stdin=json.dumps(claim("from-helm", "helm-nfs")))
    wait_bound(api, ["from-helm"], 60)
    lease = json.loads(kubectl("get", "-n", "berth", "lease", "-o", "json").stdout)["items"]
    check(any(le["spec"].get("holderIdentity", "").startswith("b-berth") for le in lease),
          "the Lease's holder: %s" % [le["spec"] for le in lease])
    log("helm install: the installed provisioner bound from-helm")
    p.stop()
    if not uninstall:
        return
    helm("uninstall", "b", "--namespace", "berth")
    r = kubectl("get", "storageclass", "helm-nfs", check_rc=False)
    check(r.returncode != 0, "helm uninstall left the StorageClass")


def main(argv):
    global HELM, CHART, DEPLOY
    uninstall = "--uninstall" in argv
    argv = [a for a in argv if a != "--uninstall"]
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    HELM, CHART, DEPLOY, deploy.PROVISIONER = argv[1:5]
    procs = []
    try:
        check(os.access(HELM, os.X_OK), "no helm at %s: run scripts/setup" % HELM)
        helm("lint", "--strict", CHART)
        examples = sorted(os.listdir(os.path.join(CHART, "examples")))
        check(len(examples) >= 5, "examples: %s" % examples)
        for e in examples:
            path = os.path.join(CHART, "examples", e)
            helm("lint", "--strict", CHART, "-f", path)
            docs = check_example(path, yaml.safe_load(open(path)) or {})
            if e == "nfs-subdir.yaml":
                check_nfs_subdir(docs)
        r = helm("template", "b", CHART, "--set", "nfs.enabled=false", ok=False)
        check(r.returncode != 0 and "enable at least one backend" in r.stderr,
              "no backend: %s" % r.stderr)
        r = helm("template", "b", CHART, "--set", "leaderElection.enabled=false", ok=False)
        check(r.returncode != 0 and "needs leaderElection.enabled" in r.stderr,
              "two replicas without election: %s" % r.stderr)
        check_rules()
        install_and_provision(deploy.PROVISIONER, procs, uninstall)
        for p in procs:
            errs = p.sanitizer_errors()
            check(not errs, "%s: sanitizer reports:\n%s" % (p.name, "\n".join(errs[:10])))
        log("PASS")
        return 0
    except Exception as e:  # noqa: BLE001
        log("FAIL: %s: %s" % (type(e).__name__, e))
        for p in procs:
            log("%s log:\n%s" % (p.name, p.tail()))
        return 1
    finally:
        for p in procs:
            if p.alive():
                p.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
