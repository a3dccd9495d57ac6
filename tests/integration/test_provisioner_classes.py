#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: 50 claims across two StorageClasses on two exports
(NFSv3 at the export's root, NFSv4 at a sub-directory exported as its own
share) are all Bound, with exactly one directory each, the class's mode and
owner, a PV exactly as the protocol wants it (checked as berth created it,
read from a watch, and as it is now), Events, metrics; SIGTERM
drains, exits 0 and releases the Lease.

    test_provisioner_classes.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import os
import stat
import sys

from test_provisioner_lib import (API, PROVISIONER, PV_FINALIZER, Created, Provisioner,
                                  apply, check, check_created_pv, claim, create, events_for, export_dir, kubectl,
                                  log, poll, run, storage_class, v3_url, v4_url,
                                  wait_bound, wait_unguarded)

N = 25


def check_pv(api, created, c, cls, policy="Delete"):
    md = c["metadata"]
    pv_name = "pvc-" + md["uid"]
    check(c["spec"].get("volumeName") == pv_name,
          "claim %s bound to %s, want %s" % (md["name"], c["spec"].get("volumeName"), pv_name))
    first = check_created_pv(created, pv_name, c)
    check_fields(first, cls, policy)
    return check_fields(api.pv(pv_name), cls, policy)


def check_fields(pv, cls, policy):
    pv_name = pv["metadata"]["name"]
    s = pv["spec"]
    ref = s["claimRef"]
    check(bool(ref.get("uid")) and pv_name == "pvc-" + ref["uid"]
          and ref.get("kind") == "PersistentVolumeClaim", "PV %s claimRef %s" % (pv_name, ref))
    check(s["capacity"]["storage"] == "1Gi", "PV capacity %s" % s["capacity"])
    check(s["accessModes"] == ["ReadWriteMany"], "PV accessModes %s" % s["accessModes"])
    check(s.get("volumeMode") == "Filesystem", "PV volumeMode %s" % s.get("volumeMode"))
    check(s["persistentVolumeReclaimPolicy"] == policy, "PV reclaim policy")
    check(s["storageClassName"] == cls, "PV class %s" % s["storageClassName"])
    check(s.get("mountOptions") == (["nfsvers=4.1"] if cls == "nfs-v4" else None),
          "PV mountOptions %s" % s.get("mountOptions"))
    ann = pv["metadata"]["annotations"]
    check(ann.get("pv.kubernetes.io/provisioned-by") == PROVISIONER, "provisioned-by %s" % ann)
    check(PV_FINALIZER in pv["metadata"].get("finalizers", []), "PV finalizer missing")
    return pv


def main(binary, procs):
    api = API()
    root = export_dir()
    os.makedirs(os.path.join(root, "second"))
    kubectl("create", "namespace", "team")
    apply(storage_class("nfs-v3", {"url": v3_url(), "archiveOnDelete": "false"}),
          storage_class("nfs-v4", {"url": v4_url("/export/second"), "directoryPerms": "0750",
                                   "uid": "1000", "gid": "2000"},
                        mountOptions=["nfsvers=4.1"]))
    created = Created(api)
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    a = ["a-%02d" % i for i in range(N)]
    b = ["b-%02d" % i for i in range(N)]
    create(*([claim(n, "nfs-v3") for n in a] + [claim(n, "nfs-v4", ns="team") for n in b]))
    log("created %d claims" % (2 * N))
    wait_bound(api, a, 90)
    wait_bound(api, b, 90, ns="team")
    kubectl("wait", "--for=jsonpath={.status.phase}=Bound", "pvc", "--all", "-n", "team",
            "--timeout=30s")
    wait_unguarded(api)
    wait_unguarded(api, "team")
    log("all Bound")

    dirs_a = sorted(d for d in os.listdir(root) if d != "second")
    dirs_b = sorted(os.listdir(os.path.join(root, "second")))
    check(len(dirs_a) == N and len(dirs_b) == N,
          "want %d + %d directories, have %d + %d" % (N, N, len(dirs_a), len(dirs_b)))
    for c in api.claims():
        if c["metadata"]["name"] in a:
            pv = check_pv(api, created, c, "nfs-v3")
            d = "default-%s-%s" % (c["metadata"]["name"], pv["metadata"]["name"])
            check(d in dirs_a, "directory %s missing" % d)
            check(pv["spec"]["nfs"] == {"server": "127.0.0.1", "path": "/export/" + d},
                  "PV nfs %s" % pv["spec"]["nfs"])
            st = os.lstat(os.path.join(root, d))
            check(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o777,
                  "%s mode %o" % (d, st.st_mode))
    for c in api.claims("team"):
        pv = check_pv(api, created, c, "nfs-v4")
        d = "team-%s-%s" % (c["metadata"]["name"], pv["metadata"]["name"])
        check(d in dirs_b, "directory %s missing" % d)
        check(pv["spec"]["nfs"]["path"] == "/export/second/" + d, "PV nfs %s" % pv["spec"]["nfs"])
        st = os.lstat(os.path.join(root, "second", d))
        check(stat.S_IMODE(st.st_mode) == 0o750 and st.st_uid == 1000 and st.st_gid == 2000,
              "%s mode %o owner %d:%d" % (d, st.st_mode, st.st_uid, st.st_gid))
    log("PVs, directories, modes and owners as wanted")

    poll(lambda: events_for(api, "a-00", "ProvisioningSucceeded"), 20,
         "ProvisioningSucceeded on a-00")
    poll(lambda: events_for(api, "b-07", "ProvisioningSucceeded", ns="team"), 20,
         "ProvisioningSucceeded on team/b-07")

    # Provisioning is the one Event the correlator may shed, and only under
    # API pressure (counted): every claim without one is a counted shed.
    def provisioning_accounted():
        m = p.metrics()
        if m.get("berth_provisioner_events_pending") != 0:
            return False
        missing = [n for n in a if not events_for(api, n, "Provisioning")]
        missing += [n for n in b
                    if not events_for(api, n, "Provisioning", ns="team")]
        shed = m.get('berth_provisioner_events_total{outcome="shed"}') or 0
        return len(missing) <= shed
    poll(provisioning_accounted, 20,
         "a Provisioning Event on every claim, or a counted shed")
    m = p.metrics()
    for cls in ("nfs-v3", "nfs-v4"):
        got = m.get('controller_persistentvolumeclaim_provision_total{class="%s"}' % cls)
        check(got == N, "provision_total %s = %s, want %d" % (cls, got, N))
        check(m.get('controller_persistentvolumeclaim_provision_duration_seconds_count'
                    '{class="%s"}' % cls) == N, "duration histogram count")
    check(not any(k.startswith("controller_persistentvolumeclaim_provision_failed_total") and v
                  for k, v in m.items()), "no failed provisions")
    check(m.get('berth_provisioner_api_requests_total{verb="create",code="201"}') == 2 * N,
          "PV creates: %s" % m.get('berth_provisioner_api_requests_total{verb="create",code="201"}'))
    check(m.get("berth_provisioner_leader") == 1, "leader gauge")
    check(p.http("/readyz").startswith("ready") and p.http("/healthz") == "ok\n", "readyz/healthz")
    log("events and metrics as wanted")

    rc = p.stop()
    check(rc == 0, "SIGTERM: exit %s, want 0" % rc)
    lease = api.lease("berth.io-nfs")
    check(not lease["spec"].get("holderIdentity"), "lease not released: %s" % lease["spec"])
    check("lease released" in p.log_text(), "no 'lease released' in the log")
    log("SIGTERM: drained, exit 0, lease released")


if __name__ == "__main__":
    sys.exit(run(main))
