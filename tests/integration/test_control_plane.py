#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What berth relies on from the real Kubernetes control plane, proven on
the bed's (kube-apiserver, kube-controller-manager, kube-scheduler):

  A. `kubectl version` prints the real server's version, the release
     pinned in tests/kube/go.mod;
  B. the real PV binder binds the PV berth-provisioner made for a claim:
     the claim's spec.volumeName, pv.kubernetes.io/bind-completed and
     bound-by-controller, both phases Bound, the PV's claimRef uid;
  C. a WaitForFirstConsumer claim gets volume.kubernetes.io/selected-node
     from the real scheduler once a pod that uses it is created (no
     spec.nodeName: the scheduler chooses, here by a nodeSelector), berth
     provisions on that node, and the scheduler binds the pod there;
  D. berth-provisioner runs with the ServiceAccount token and RBAC of
     deploy/overlays/nfs (not an admin token): claims become Bound, and
     no request of that ServiceAccount is refused (403): a rule missing
     from deploy/ fails this test.

    test_control_plane.py BERTH-PROVISIONER DEPLOY-DIR KUBE-DIR
                                             (under bed.py run k8s nfs)
"""

import base64
import json
import os
import re
import subprocess
import sys

from test_provisioner_lib import (API, Provisioner, admin, check, claim, create,
                                  delete_pods, env, kubectl, log, phase, poll, pod,
                                  register_node, run, storage_class, v3_url,
                                  wait_bound)

SA_USER = "system:serviceaccount:berth:berth-provisioner"


def release(kube_dir):
    with open(os.path.join(kube_dir, "go.mod")) as f:
        m = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", f.read(), re.M)
    check(m is not None, "no k8s.io/kubernetes release in %s/go.mod" % kube_dir)
    return m.group(1)


def part_version(kube_dir):
    want = release(kube_dir)
    out = json.loads(kubectl("version", "-o", "json").stdout)
    got = out.get("serverVersion", {}).get("gitVersion")
    check(got == want, "kubectl version: server %r, want %r" % (got, want))
    text = kubectl("version").stdout
    check("Server Version: " + want in text, "kubectl version printed:\n%s" % text)
    log("A. kubectl version: Server Version %s" % got)


def part_binder(api):
    create(claim("bind-me", "now"))
    wait_bound(api, ["bind-me"], 60)
    c = api.claim("bind-me")
    pv = api.pv(c["spec"]["volumeName"])
    ann = c["metadata"].get("annotations", {})
    check(ann.get("pv.kubernetes.io/bind-completed") == "yes",
          "claim annotations %s" % ann)
    check(ann.get("pv.kubernetes.io/bound-by-controller") == "yes",
          "claim annotations %s" % ann)
    check(phase(pv) == "Bound", "PV phase %s" % phase(pv))
    ref = pv["spec"]["claimRef"]
    check(ref["uid"] == c["metadata"]["uid"] and ref["name"] == "bind-me",
          "claimRef %s" % ref)
    check(pv["metadata"]["annotations"].get("pv.kubernetes.io/provisioned-by") ==
          "berth.io/nfs", "PV annotations %s" % pv["metadata"]["annotations"])
    log("B. the real binder bound %s to berth's %s (bind-completed)" %
        ("bind-me", pv["metadata"]["name"]))


def part_wffc(api):
    create(claim("later", "wait"))
    # Nothing happens before a consumer exists: the PV controller says so.
    poll(lambda: [e for e in api.events() if e["involvedObject"]["name"] == "later"
                  and e["reason"] == "WaitForFirstConsumer"], 30,
         "the binder's WaitForFirstConsumer event")
    check(phase(api.claim("later")) == "Pending", "claim not Pending before a pod")
    check("volume.kubernetes.io/selected-node" not in
          (api.claim("later")["metadata"].get("annotations") or {}),
          "selected-node before any pod")
    create(pod("consumer", "node-b", "later"))
    sel = poll(lambda: (api.claim("later")["metadata"].get("annotations") or {})
               .get("volume.kubernetes.io/selected-node"), 30,
               "selected-node from the scheduler")
    check(sel == "node-b", "selected-node %r, want node-b" % sel)
    wait_bound(api, ["later"], 60)
    p = poll(lambda: api.get("/api/v1/namespaces/default/pods/consumer")["spec"]
             .get("nodeName"), 60, "the scheduler to bind the pod")
    check(p == "node-b", "pod scheduled onto %r" % p)
    log("C. the scheduler set selected-node=node-b; berth provisioned; pod on node-b")
    delete_pods("consumer")


def sa_kubeconfig(path, token):
    with open(env("BERTH_K8S_CA"), "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                "    server: %s\n    certificate-authority-data: %s\n"
                "users:\n- name: sa\n  user:\n    token: %s\n"
                "contexts:\n- name: c\n  context: {cluster: c, user: sa}\n"
                "current-context: c\n" % (env("BERTH_K8S_URL"), ca, token))
    os.chmod(path, 0o600)


def part_rbac(api, binary, deploy, procs, workdir):
    rendered = kubectl("kustomize", os.path.join(deploy, "overlays", "nfs")).stdout
    # Only the identity and its grants: no Deployment (no kubelet would
    # run it); this test runs the binary itself with that identity.
    docs = subprocess.run(
        [sys.executable, "-c", "import sys, yaml, json; print(json.dumps("
         "[d for d in yaml.safe_load_all(sys.stdin) if d]))"],
        input=rendered, capture_output=True, text=True, check=True).stdout
    keep = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
            "Role", "RoleBinding")
    objs = [d for d in json.loads(docs) if d["kind"] in keep]
    check(len([o for o in objs if o["kind"] == "ClusterRole"]) >= 1,
          "no ClusterRole in deploy/overlays/nfs")
    kubectl("apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": objs}))
    token = kubectl("create", "token", "berth-provisioner", "-n", "berth",
                    "--duration", "1h").stdout.strip()
    kc = os.path.join(workdir, "sa.kubeconfig")
    sa_kubeconfig(kc, token)
    kubectl("create", "namespace", "rbac")
    admin("DELETE", "/requests")
    p = Provisioner(binary, "sa", ["--leader-election-namespace", "berth"] +
                    Provisioner.FAST_LEASE, environ={"KUBECONFIG": kc})
    procs.append(p)
    p.start()
    names = ["r-%d" % i for i in range(3)]
    create(*[claim(n, "now", ns="rbac") for n in names])
    wait_bound(api, names, 60, ns="rbac")
    # Every kind of request berth makes has been made by now (informers,
    # PV create, claim patches, events, the Lease): none may be refused.
    poll(lambda: api.get("/apis/coordination.k8s.io/v1/namespaces/berth/leases/"
                         "berth.io-nfs") or api.get(
                             "/apis/coordination.k8s.io/v1/namespaces/berth/leases"
                         )["items"], 30, "the Lease in namespace berth")
    reqs = admin("GET", "/requests?user=%s&limit=1000" % SA_USER)
    check(reqs["matched"] > 0, "no request by %s went through the proxy" % SA_USER)
    denied = [(i["verb"], i.get("resource"), i.get("subresource"), i["code"])
              for i in reqs["items"] if i["code"] in (401, 403)]
    check(not denied, "requests of %s refused by RBAC (deploy/ lacks a rule): %s" %
          (SA_USER, sorted(set(denied))))
    whoami = [i for i in reqs["items"] if i.get("resource") == "persistentvolumes"
              and i["verb"] == "create"]
    check(whoami, "no PV created by %s" % SA_USER)
    log("D. as %s with deploy/'s RBAC: %d requests, none refused, 3 claims Bound" %
        (SA_USER, reqs["matched"]))
    p.stop()


def main(binary, procs):
    deploy, kube_dir = sys.argv[2], sys.argv[3]
    api = API()
    part_version(kube_dir)
    register_node("node-a", zone="zone-a")
    register_node("node-b", zone="zone-b")
    create(storage_class("now", {"url": v3_url()}),
           storage_class("wait", {"url": v3_url()}, binding="WaitForFirstConsumer"))
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    part_binder(api)
    part_wffc(api)
    p.stop()
    part_rbac(api, binary, deploy, procs, p.workdir)


if __name__ == "__main__":
    sys.exit(run(main))
