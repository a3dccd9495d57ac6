#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""deploy/: every kustomization renders with `kubectl kustomize`, its key
fields are what berth needs (least-privilege RBAC, two leader-elected
replicas, probes, scrape annotations, resources, a locked-down security
context, a PodDisruptionBudget; the overlays' classes, identity and
sidecar), and the objects of the kinds the bed's API server serves are
applied to it, first with --dry-run=server, then for real, and read back.

    test_berthctl_deploy.py DEPLOY-DIR BERTH-PROVISIONER   (under bed.py run k8s)

Every overlay that runs berth-provisioner runs as it stands: its
Deployment's container arguments and environment (fieldRefs, the
ConfigMaps it names, $(VAR) expanded as the kubelet does) go through
`berth-provisioner --check-config`, which must accept them and name
exactly the provisioners the overlay's StorageClasses use.

Objects of a kind the bed's API server does not serve (from discovery)
are checked here field by field and counted as "not served" in the log;
the bed's real kube-apiserver serves every kind deploy/ uses.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_provisioner_lib import Failure, check, log  # noqa: E402

DEPLOY = None
PROVISIONER = None

# The verbs berth-provisioner uses, per (group, resource): any other verb
# in the ClusterRole is a privilege too many (and any missing one a bug).
PROVISIONER_RULES = {
    ("", "persistentvolumes"): {"get", "list", "watch", "create", "delete", "patch"},
    # update: the reschedule (the selected node removed), as the library.
    ("", "persistentvolumeclaims"): {"get", "list", "watch", "patch", "update"},
    ("storage.k8s.io", "storageclasses"): {"get", "list", "watch"},
    ("", "events"): {"create", "patch"},
    ("", "nodes"): {"get"},
}
LEASE_RULES = {("coordination.k8s.io", "leases"): {"get", "create", "update"}}
AWS_RULES = {
    ("storage.k8s.io", "volumeattachments"): {"get", "list", "watch", "patch"},
    ("storage.k8s.io", "volumeattachments/status"): {"patch"},
    ("", "nodes"): {"get", "list", "watch"},
    ("storage.k8s.io", "csinodes"): {"get", "list", "watch"},
    ("", "persistentvolumeclaims/status"): {"patch"},
    # The snapshotter (the csi-snapshotter sidecar's role, less secrets).
    ("snapshot.storage.k8s.io", "volumesnapshotcontents"): {"get", "list", "watch", "patch"},
    ("snapshot.storage.k8s.io", "volumesnapshotcontents/status"): {"patch"},
    ("snapshot.storage.k8s.io", "volumesnapshotclasses"): {"get", "list", "watch"},
    ("snapshot.storage.k8s.io", "volumesnapshots"): {"get", "list", "watch"},
}


def sh(*args, stdin=None, ok=True):
    r = subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=120)
    if ok and r.returncode != 0:
        raise Failure("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


def json_docs(text):
    """Concatenated JSON documents, as kubectl prints several objects."""
    dec = json.JSONDecoder()
    docs = []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)


def render(path):
    """kubectl kustomize, as JSON: kubectl itself converts, offline
    (label --local removing a label nobody has changes nothing), so that
    the test needs no YAML library."""
    out = sh("kubectl", "kustomize", os.path.join(DEPLOY, path)).stdout
    conv = sh("kubectl", "label", "--local", "-f", "-", "berth.io/no-such-label-",
              "-o", "json", stdin=out).stdout
    docs = json_docs(conv)
    check(docs, "%s renders nothing" % path)
    return docs


def as_stream(docs):
    """Objects as kubectl -f reads them: one JSON document after another
    (a v1 List would skip kubectl's schema validation of each)."""
    return "\n".join(json.dumps(d) for d in docs) + "\n"


def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and
             (name is None or d["metadata"]["name"] == name)]
    check(len(found) == 1, "want one %s %s, found %d" % (kind, name or "", len(found)))
    return found[0]


def rules_of(role):
    got = {}
    for r in role.get("rules", []):
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                verbs = set(r.get("verbs", []))
                check("*" not in verbs and g != "*" and res != "*",
                      "%s: a wildcard in %s" % (role["metadata"]["name"], r))
                got.setdefault((g, res), set()).update(verbs)
    return got


def check_base(docs, overlay):
    kinds = sorted({d["kind"] for d in docs})
    for k in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
              "RoleBinding", "Deployment", "PodDisruptionBudget"):
        check(k in kinds, "%s: no %s (kinds: %s)" % (overlay, k, kinds))
    ns = one(docs, "Namespace")["metadata"]["name"]
    check(ns == "berth", "%s: namespace %s" % (overlay, ns))
    check(one(docs, "Namespace")["metadata"]["labels"].get(
        "pod-security.kubernetes.io/enforce") == "restricted", "%s: Pod Security" % overlay)
    sa = one(docs, "ServiceAccount", "berth-provisioner")
    check(sa["metadata"]["namespace"] == ns, "%s: ServiceAccount namespace" % overlay)
    # RBAC: the provisioner's ClusterRole is exactly what it uses; Leases
    # only through a Role in berth's namespace.
    cr = rules_of(one(docs, "ClusterRole", "berth-provisioner"))
    check(cr == PROVISIONER_RULES, "%s: ClusterRole rules %s, want %s"
          % (overlay, cr, PROVISIONER_RULES))
    role = one(docs, "Role")
    check(role["metadata"]["namespace"] == ns and rules_of(role) == LEASE_RULES,
          "%s: Role %s" % (overlay, role))
    for kind in ("ClusterRoleBinding", "RoleBinding"):
        for b in [d for d in docs if d["kind"] == kind]:
            subj = b["subjects"]
            check(subj == [{"kind": "ServiceAccount", "name": "berth-provisioner",
                            "namespace": ns}], "%s: %s subjects %s" % (overlay, kind, subj))
            check(any(d["kind"] == b["roleRef"]["kind"] and
                      d["metadata"]["name"] == b["roleRef"]["name"] for d in docs),
                  "%s: %s names a missing role" % (overlay, kind))
    # The Deployment.
    dep = one(docs, "Deployment", "berth-provisioner")
    spec = dep["spec"]
    tmpl = spec["template"]
    pod = tmpl["spec"]
    check(dep["metadata"]["namespace"] == ns and spec["replicas"] == 2,
          "%s: Deployment namespace/replicas" % overlay)
    check(pod["serviceAccountName"] == "berth-provisioner", "%s: serviceAccountName" % overlay)
    sel = spec["selector"]["matchLabels"]
    check(all(tmpl["metadata"]["labels"].get(k) == v for k, v in sel.items()),
          "%s: selector %s does not match the template" % (overlay, sel))
    ann = tmpl["metadata"]["annotations"]
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "8080"
          and ann.get("prometheus.io/path") == "/metrics", "%s: scrape annotations %s"
          % (overlay, ann))
    psc = pod["securityContext"]
    check(psc.get("runAsNonRoot") is True and
          psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          "%s: pod securityContext %s" % (overlay, psc))
    c = one([dict(x, kind="Container", metadata={"name": x["name"]})
             for x in pod["containers"]], "Container", "provisioner")
    args = c["args"]
    check("--leader-elect=true" in args and "--leader-election-namespace=$(POD_NAMESPACE)" in args
          and "--http-endpoint=:8080" in args, "%s: args %s" % (overlay, args))
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz" and
          c["readinessProbe"]["httpGet"]["path"] == "/readyz", "%s: probes" % overlay)
    res = c["resources"]
    check(res["requests"].get("cpu") and res["requests"].get("memory") and
          res["limits"].get("memory"), "%s: resources %s" % (overlay, res))
    sc = c["securityContext"]
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
          and sc.get("capabilities", {}).get("drop") == ["ALL"] and sc.get("runAsNonRoot") is True
          and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          "%s: container securityContext %s" % (overlay, sc))
    check(c["image"].startswith("berth:"), "%s: image %s" % (overlay, c["image"]))
    pdb = one(docs, "PodDisruptionBudget")
    check(pdb["spec"].get("minAvailable") == 1 and pdb["spec"]["selector"]["matchLabels"] == sel,
          "%s: PodDisruptionBudget %s" % (overlay, pdb["spec"]))
    return dep, c


def container_env(docs, dep, c):
    """The container's environment as the kubelet makes it: envFrom
    ConfigMaps first, then env (values and the fieldRefs berth uses)."""
    ns = dep["metadata"]["namespace"]
    env = {}
    for ef in c.get("envFrom", []):
        cm = one(docs, "ConfigMap", ef["configMapRef"]["name"])
        check(cm["metadata"].get("namespace") == ns, "ConfigMap %s in namespace %s"
              % (cm["metadata"]["name"], cm["metadata"].get("namespace")))
        env.update(cm.get("data", {}))
    fields = {"metadata.name": dep["metadata"]["name"] + "-5d8f7c9b4-x2x7q",
              "metadata.namespace": ns}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            env[e["name"]] = fields[e["valueFrom"]["fieldRef"]["fieldPath"]]
    return env


def expand(arg, env):
    """$(VAR) as the kubelet expands it in args ($$ is a literal $)."""
    out, i = "", 0
    while i < len(arg):
        if arg.startswith("$$", i):
            out, i = out + "$", i + 2
        elif arg.startswith("$(", i) and ")" in arg[i:]:
            j = arg.index(")", i)
            name = arg[i + 2:j]
            out += env.get(name, arg[i:j + 1])
            i = j + 1
        else:
            out, i = out + arg[i], i + 1
    return out


def check_runs(docs, overlay):
    """The Deployment's container, run through --check-config as the pod
    would run it: it must start, serving exactly the provisioners of the
    overlay's StorageClasses, with the Lease in the pod's namespace."""
    dep = one(docs, "Deployment")
    c = [x for x in dep["spec"]["template"]["spec"]["containers"]
         if x["name"] == "provisioner"][0]
    env = container_env(docs, dep, c)
    args = [expand(a, env) for a in c.get("args", [])]
    check(c["command"] == ["berth-provisioner"], "%s: command %s" % (overlay, c["command"]))
    run_env = dict(env, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            run_env[k] = os.environ[k]
    r = subprocess.run([PROVISIONER, "--check-config"] + args, env=run_env,
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "%s: the pod would exit %d: %s" % (overlay, r.returncode,
                                                               r.stderr.strip()))
    lines = r.stdout.splitlines()
    check(lines and lines[-1] == "config ok", "%s: --check-config said %s" % (overlay, lines))
    served = {ln.split()[1].split("=")[0] for ln in lines if ln.startswith("provisioner ")}
    classes = {d["provisioner"] for d in docs if d["kind"] == "StorageClass"}
    check(served == classes, "%s: serves %s, its classes name %s" % (overlay, served, classes))
    check("leader-election lease berth/" in r.stdout, "%s: Lease: %s" % (overlay, r.stdout))
    log("%s: runs: %s" % (overlay, "; ".join(lines)))
    return lines


def check_nfs(docs, overlay="nfs"):
    dep, c = check_base(docs, overlay)
    check("--provisioner=berth.io/nfs=nfs" in c["args"], "%s: args %s" % (overlay, c["args"]))
    cm_name = c["envFrom"][0]["configMapRef"]["name"]
    cm = one(docs, "ConfigMap", cm_name)
    check(set(cm["data"]) == {"NFS_SERVER", "NFS_PATH"}, "%s: ConfigMap %s" % (overlay, cm["data"]))
    sc = one(docs, "StorageClass", "berth-nfs")
    check(sc["provisioner"] == "berth.io/nfs" and sc["reclaimPolicy"] == "Delete" and
          sc["parameters"]["archiveOnDelete"] == "true", "%s: StorageClass %s" % (overlay, sc))
    lines = check_runs(docs, overlay)
    check("nfs-export nfs.example.com:/export" in lines, "%s: export %s" % (overlay, lines))


def check_all(docs):
    check_nfs(docs, "all")
    check_aws(docs, "all")
    dep = one(docs, "Deployment", "berth-provisioner")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    flags = [a for a in c["args"] if a.startswith("--provisioner")]
    check(flags == ["--provisioner=berth.io/nfs=nfs", "--provisioner=berth.io/ebs=ebs",
                    "--provisioner=berth.io/efs=efs"], "all: provisioners %s" % flags)
    check(len(one(docs, "ClusterRole", "berth-attacher-resizer")["rules"]) > 0, "all: RBAC")


def check_aws(docs, overlay="aws"):
    check_base(docs, overlay)
    check_runs(docs, overlay)
    dep = one(docs, "Deployment", "berth-provisioner")
    env = container_env(docs, dep, dep["spec"]["template"]["spec"]["containers"][0])
    check(env.get("AWS_REGION"), "%s: no AWS_REGION in %s" % (overlay, env))
    ebs = one(docs, "StorageClass", "berth-ebs-gp3")
    check(ebs["provisioner"] == "berth.io/ebs" and ebs["parameters"]["type"] == "gp3" and
          ebs["volumeBindingMode"] == "WaitForFirstConsumer", "aws: ebs class %s" % ebs)
    efs = one(docs, "StorageClass", "berth-efs")
    check(efs["provisioner"] == "berth.io/efs" and
          efs["parameters"]["provisioningMode"] == "efs-ap", "aws: efs class %s" % efs)
    sa = one(docs, "ServiceAccount", "berth-provisioner")
    check(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::"),
          "aws: IRSA annotation %s" % sa["metadata"])
    got = rules_of(one(docs, "ClusterRole", "berth-attacher-resizer"))
    check(got == AWS_RULES, "aws: attacher/resizer rules %s, want %s" % (got, AWS_RULES))


def check_peers(docs):
    # The DNS source needs no RBAC; --source endpoints exactly this Role.
    check(not any(d["kind"] in ("ClusterRole", "ClusterRoleBinding") for d in docs),
          "peers: berth-peers needs no cluster-wide RBAC")
    role = one(docs, "Role", "berth-peers-endpointslices")
    check(rules_of(role) == {("discovery.k8s.io", "endpointslices"):
                             {"get", "list", "watch"}},
          "peers: endpoints Role rules %s" % rules_of(role))
    rb = one(docs, "RoleBinding", "berth-peers-endpointslices")
    check(rb["roleRef"]["name"] == "berth-peers-endpointslices" and
          rb["subjects"] == [{"kind": "ServiceAccount", "name": "berth-peers"}],
          "peers: RoleBinding %s" % rb)
    one(docs, "ServiceAccount", "berth-peers")
    svc = one(docs, "Service", "web")
    check(svc["spec"]["clusterIP"] == "None" and svc["spec"]["publishNotReadyAddresses"],
          "peers: the Service must be headless and publish not-ready addresses")
    sts = one(docs, "StatefulSet", "web")
    tmpl = sts["spec"]["template"]
    cs = {c["name"]: c for c in tmpl["spec"]["containers"]}
    check(set(cs) == {"web", "peers"}, "peers: containers %s" % list(cs))
    p = cs["peers"]
    check(p["command"] == ["berth-peers"] and "-service=$(BERTH_SERVICE)" in p["args"],
          "peers: sidecar args %s" % p["args"])
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in p["env"]}
    check(env == {"POD_NAMESPACE": "metadata.namespace",
                  "BERTH_SERVICE": "metadata.labels['berth.io/service']"}, "peers: env %s" % env)
    check(tmpl["metadata"]["labels"]["berth.io/service"] == sts["spec"]["serviceName"],
          "peers: berth.io/service label")
    check(p["securityContext"]["readOnlyRootFilesystem"] and
          p["securityContext"]["capabilities"]["drop"] == ["ALL"], "peers: securityContext")
    check(p["livenessProbe"]["httpGet"]["path"] == "/healthz", "peers: probe")
    check(any(v["name"] == "peers" for v in tmpl["spec"]["volumes"]), "peers: volume")
    check(tmpl["metadata"]["annotations"]["prometheus.io/port"] == "9102", "peers: scrape")


def served_kinds():
    """(apiVersion, kind) pairs the server serves, from discovery."""
    out = sh("kubectl", "api-resources", "-o", "wide", "--no-headers").stdout
    kinds = set()
    for line in out.splitlines():
        f = line.split()
        # NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS...
        for i, w in enumerate(f):
            if w in ("true", "false") and i >= 2:
                kinds.add((f[i - 1], f[i + 1]))
                break
    return kinds


def apply_served(name, docs, served, applied):
    ok = [d for d in docs if (d["apiVersion"], d["kind"]) in served]
    skipped = sorted({d["kind"] for d in docs if (d["apiVersion"], d["kind"]) not in served})
    doc = as_stream(ok)
    # Namespaces first, for real: a dry run of objects in a namespace that
    # does not exist yet fails.
    nss = [d for d in ok if d["kind"] == "Namespace"]
    if nss:
        sh("kubectl", "apply", "-f", "-", stdin=as_stream(nss))
    r = sh("kubectl", "apply", "--dry-run=server", "-f", "-", stdin=doc)
    check(r.stdout.count("(server dry run)") == len(ok),
          "%s: dry run: %s" % (name, r.stdout))
    r = sh("kubectl", "apply", "-f", "-", stdin=doc)
    applied.extend(ok)
    log("%s: %d objects applied (%s); checked here only, not served: %s"
        % (name, len(ok), ", ".join(sorted({d["kind"] for d in ok})), ", ".join(skipped) or "-"))


def get(*args):
    return json.loads(sh("kubectl", "get", "-o", "json", *args).stdout)


def read_back(name):
    """Key fields as the server stored them, right after name's apply
    (the next overlay's apply changes the objects they share)."""
    if name in ("base", "nfs", "aws", "all"):
        ns = get("namespace", "berth")
        check(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted",
              "%s: namespace berth as stored" % name)
        get("-n", "berth", "serviceaccount", "berth-provisioner")
    if name == "nfs":
        sc = get("storageclass", "berth-nfs")
        check(sc["provisioner"] == "berth.io/nfs" and
              sc["parameters"]["pathPattern"] == "${.PVC.namespace}/${.PVC.name}",
              "berth-nfs as stored: %s" % sc)
        cms = get("-n", "berth", "configmap")
        check(any(c.get("data", {}).get("NFS_PATH") == "/export" for c in cms["items"]),
              "nfs ConfigMap as stored")
    if name == "aws":
        sa = get("-n", "berth", "serviceaccount", "berth-provisioner")
        check(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
            ":role/berth-provisioner"), "aws ServiceAccount as stored: %s" % sa["metadata"])
        ebs = get("storageclass", "berth-ebs-gp3")
        check(ebs["volumeBindingMode"] == "WaitForFirstConsumer" and
              ebs["parameters"]["type"] == "gp3", "berth-ebs-gp3 as stored")
    if name == "peers":
        svc = get("service", "web")
        check(svc["spec"]["clusterIP"] == "None", "peers: Service web as stored: %s" % svc)


def main(argv):
    global DEPLOY
    global PROVISIONER
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    DEPLOY, PROVISIONER = argv[1], argv[2]
    try:
        overlays = sorted(os.listdir(os.path.join(DEPLOY, "overlays")))
        check(overlays == ["all", "aws", "nfs", "peers"], "overlays: %s" % overlays)
        rendered = {"base": render("base")}
        for o in overlays:
            rendered[o] = render(os.path.join("overlays", o))
        check_base(rendered["base"], "base")
        check_nfs(rendered["nfs"])
        check_aws(rendered["aws"])
        check_all(rendered["all"])
        check_peers(rendered["peers"])
        log("rendered and checked: base, %s" % ", ".join(overlays))
        served = served_kinds()
        check(("storage.k8s.io/v1", "StorageClass") in served, "discovery: %s" % served)
        applied = []
        for name in ["base"] + overlays:
            apply_served(name, rendered[name], served, applied)
            read_back(name)
        log("PASS")
        return 0
    except Exception as e:  # noqa: BLE001
        log("FAIL: %s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
