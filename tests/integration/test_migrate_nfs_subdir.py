#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Migration from nfs-subdir-external-provisioner by changing the image
only: its whole deployment, as its deploy/ manifests and README describe
it (written from them), runs berth-provisioner unchanged:

  - its RBAC (ServiceAccount nfs-client-provisioner; ClusterRole
    nfs-client-provisioner-runner: nodes get/list/watch, persistentvolumes
    get/list/watch/create/delete, persistentvolumeclaims
    get/list/watch/update, storageclasses get/list/watch, events
    create/update/patch; Role leader-locking-nfs-client-provisioner:
    endpoints get/list/watch/create/update/patch), enforced by the bed's
    API server (real RBAC) for the service account's token;
  - its Deployment's environment (PROVISIONER_NAME, NFS_SERVER, NFS_PATH),
    its class nfs-client (archiveOnDelete "false") and test-claim;
  - a volume the old tool made (its directory and PV) and one made by
    berth.

berth elects on the Endpoints lock (Leases are forbidden), sets its
claim finalizer by update (patch is forbidden), makes PVs without the PV
finalizer (neither patch nor update on PVs), and reclaims both volumes
when their claims go: directories deleted, PVs gone, nothing Terminating.
The request log shows no denied request beyond the start-up probes and
the first Lease attempt.

`berthctl doctor` reports the Endpoints lock's holder.

    test_migrate_nfs_subdir.py BERTHCTL BERTH-PROVISIONER  (bed.py run k8s nfs)
"""

import base64
import json
import os
import subprocess
import sys
import tempfile

from test_migrate_lib import NFS_SUBDIR, nfs_subdir_volume
from test_provisioner_lib import (API, CLAIM_FINALIZER, PV_FINALIZER, Provisioner,
                                  admin, check, create, env, export_dir, kubectl,
                                  log, poll, run, wait_bound)

NS = "default"
SA = "nfs-client-provisioner"
USER = "system:serviceaccount:%s:%s" % (NS, SA)
LOCK = "k8s-sigs.io-nfs-subdir-external-provisioner"
BERTHCTL = None


def rbac():
    """deploy/rbac.yaml of nfs-subdir-external-provisioner, as documented."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": SA, "namespace": NS}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "nfs-client-provisioner-runner"},
         "rules": [
             {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
             {"apiGroups": [""], "resources": ["persistentvolumes"],
              "verbs": ["get", "list", "watch", "create", "delete"]},
             {"apiGroups": [""], "resources": ["persistentvolumeclaims"],
              "verbs": ["get", "list", "watch", "update"]},
             {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"],
              "verbs": ["get", "list", "watch"]},
             {"apiGroups": [""], "resources": ["events"],
              "verbs": ["create", "update", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "run-nfs-client-provisioner"},
         "subjects": [{"kind": "ServiceAccount", "name": SA, "namespace": NS}],
         "roleRef": {"kind": "ClusterRole", "name": "nfs-client-provisioner-runner",
                     "apiGroup": "rbac.authorization.k8s.io"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "leader-locking-nfs-client-provisioner", "namespace": NS},
         "rules": [{"apiGroups": [""], "resources": ["endpoints"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "leader-locking-nfs-client-provisioner", "namespace": NS},
         "subjects": [{"kind": "ServiceAccount", "name": SA, "namespace": NS}],
         "roleRef": {"kind": "Role", "name": "leader-locking-nfs-client-provisioner",
                     "apiGroup": "rbac.authorization.k8s.io"}},
    ]


def sa_kubeconfig():
    """A kubeconfig with the service account's token (as in-cluster): a
    bound token from the real TokenRequest API, as the kubelet mounts."""
    token = kubectl("create", "token", SA, "-n", NS, "--duration=1h").stdout.strip()
    with open(env("BERTH_K8S_CA"), "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    path = os.path.join(tempfile.mkdtemp(prefix="berth-sa-"), "kubeconfig")
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "sa",
                   "clusters": [{"name": "c", "cluster": {
                       "server": env("BERTH_K8S_URL"), "certificate-authority-data": ca}}],
                   "users": [{"name": SA, "user": {"token": token}}],
                   "contexts": [{"name": "sa", "context": {
                       "cluster": "c", "user": SA, "namespace": NS}}]}, f)
    return path


def denied():
    items = admin("GET", "/requests?user=%s&limit=0" % USER)
    return items["matchedByCode"].get("403", 0)


def main(binary, procs):
    api = API()
    root = export_dir()
    create(*rbac())
    create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "nfs-client"}, "provisioner": NFS_SUBDIR,
            "parameters": {"archiveOnDelete": "false"}})
    old_pv, old_dir = nfs_subdir_volume(api, "old-claim", "nfs-client", "127.0.0.1", "/export")
    # deploy/deployment.yaml's environment; only the image is berth's.
    p = Provisioner(binary, "berth", Provisioner.FAST_LEASE,
                    environ={"PROVISIONER_NAME": NFS_SUBDIR, "NFS_SERVER": "127.0.0.1",
                             "NFS_PATH": "/export", "KUBECONFIG": sa_kubeconfig()})
    procs.append(p)
    p.start()
    # deploy/test-claim.yaml.
    create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "test-claim", "namespace": NS},
            "spec": {"storageClassName": "nfs-client", "accessModes": ["ReadWriteMany"],
                     "resources": {"requests": {"storage": "1Mi"}}}})
    wait_bound(api, ["test-claim"], 40)
    pv = api.claim("test-claim")["spec"]["volumeName"]
    d = "%s-test-claim-%s" % (NS, pv)
    check(os.path.isdir(os.path.join(root, d)), "no %s in %s" % (d, os.listdir(root)))
    check(PV_FINALIZER not in (api.pv(pv)["metadata"].get("finalizers") or []),
          "the PV carries a finalizer its RBAC could never remove")
    ep = api.get("/api/v1/namespaces/%s/endpoints/%s" % (NS, LOCK))
    rec = json.loads(((ep or {}).get("metadata", {}).get("annotations") or {}).get(
        "control-plane.alpha.kubernetes.io/leader", "{}"))
    check(rec.get("holderIdentity"), "no Endpoints lock record: %s" % ep)
    check(api.lease(LOCK) is None, "a Lease was made though Leases are forbidden")
    poll(lambda: CLAIM_FINALIZER not in (api.claim("test-claim")["metadata"].get("finalizers")
                                         or []), 20, "berth's claim finalizer to go")
    log("Bound under nfs-subdir's RBAC: %s, Endpoints lock held by %s"
        % (d, rec["holderIdentity"]))

    # A second replica (the Deployment scaled to 2) stands by on the same
    # Endpoints lock and takes over when the first stops (it releases it).
    kc = p.environ["KUBECONFIG"]
    p2 = Provisioner(binary, "berth-2", Provisioner.FAST_LEASE,
                     environ={"PROVISIONER_NAME": NFS_SUBDIR, "NFS_SERVER": "127.0.0.1",
                              "NFS_PATH": "/export", "KUBECONFIG": kc})
    procs.append(p2)
    p2.start()
    poll(lambda: 'msg="standing by"' in p2.current_log(), 20,
         "the second replica standing by on the Endpoints lock")
    check(p.stop() == 0, "first replica's exit status")
    poll(lambda: 'msg="became leader"' in p2.current_log(), 20,
         "the second replica to take the Endpoints lock over")
    log("second replica stood by on the Endpoints lock, then took over")
    r = subprocess.run([BERTHCTL, "doctor", "--provisioner", NFS_SUBDIR + "=nfs"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    check("Endpoints lock %s/%s" % (NS, LOCK) in r.stdout and
          "Sanitizer" not in r.stderr and "runtime error" not in r.stderr,
          "berthctl doctor does not report the Endpoints lock:\n%s%s" % (r.stdout, r.stderr))
    log("berthctl doctor: %s" % [ln for ln in r.stdout.splitlines() if "Endpoints lock" in ln][0])

    kubectl("delete", "pvc", "test-claim", "old-claim", "--wait=false")
    for name in (pv, old_pv):
        poll(lambda name=name: api.pv(name) is None, 30, "PV %s to go" % name)
    check(not os.path.exists(os.path.join(root, d)) and
          not os.path.exists(os.path.join(root, old_dir)),
          "directories left: %s" % os.listdir(root))
    check(api.claim("test-claim") is None and api.claim("old-claim") is None, "claims left")
    log("reclaimed: berth's and the old tool's directories deleted, PVs gone")
    # Per replica: the probes (PATCH, PUT of PVs; PATCH of claims) and the
    # first Lease read; nothing else may have been denied.
    n = denied()
    log("denied requests: %d" % n)
    check(n <= 8, "%d requests denied (want 2 x (3 probes + 1 Lease read)):\n%s"
          % (n, json.dumps(admin("GET", "/requests?user=%s&limit=20" % USER)["items"],
                           indent=1)[:3000]))
    for q in (p, p2):
        check("level=error" not in q.log_text(), "errors in the log:\n" + q.tail(30))
    check(p2.stop() == 0, "exit status")


def entry():
    global BERTHCTL
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    BERTHCTL = sys.argv[1]
    sys.argv = [sys.argv[0], sys.argv[2]]
    return run(main)


if __name__ == "__main__":
    sys.exit(entry())
