#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Rollback: `berthctl rollback` lifts what berth added, so that switching
back to nfs-subdir-external-provisioner leaves no PV stuck Terminating and
no claim that cannot be deleted.

berth-provisioner makes volumes for nfs-subdir's example class (switched
to berth) and an adopted nfs-subdir PV gets berth's PV finalizer; a claim
whose export is unreachable gets the provisioning finalizer an older berth
put on such claims (set by the test: berth no longer does). berth is
stopped; `berthctl rollback --dry-run` lists every change and makes none;
`berthctl rollback --to k8s-sigs.io/nfs-subdir-external-provisioner --yes`
then removes the finalizers and the *.berth.io annotations and hands the
PVs back (provisioned-by). Then, as nfs-subdir would after its claim is
deleted, the PVs are deleted: they go at once (with the finalizer left
on, they would stay Terminating forever: nfs-subdir never removes it), and
the stuck claim's deletion completes.

    test_migrate_rollback.py BERTHCTL BERTH-PROVISIONER  (bed.py run k8s nfs)
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_migrate_lib import NFS_SUBDIR, nfs_subdir_volume  # noqa: E402
from test_provisioner_lib import (API, CLAIM_FINALIZER, PV_FINALIZER,  # noqa: E402
                                  Failure, Provisioner, check, claim, create,
                                  kubectl, log, poll, run, v3_url, wait_bound)

NFS = "berth.io/nfs"
BERTHCTL = None


def ctl(*args, rc=0):
    r = subprocess.run([BERTHCTL] + list(args), capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != rc:
        raise Failure("berthctl %s: exit %d, want %d\n%s%s" % (" ".join(args), r.returncode,
                                                             rc, r.stdout, r.stderr))
    check("runtime error:" not in r.stderr and "Sanitizer" not in r.stderr,
          "berthctl: sanitizer report:\n" + r.stderr)
    return r.stdout


def berth_marks(api, pv):
    o = api.pv(pv)
    ann = o["metadata"].get("annotations") or {}
    return ([k for k in ann if k.split("/")[0].endswith("berth.io")],
            o["metadata"].get("finalizers") or [], ann.get("pv.kubernetes.io/provisioned-by"))


def main(binary, procs):
    api = API()
    create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "nfs-client"}, "provisioner": NFS_SUBDIR,
            "parameters": {"archiveOnDelete": "false"}})
    old, _ = nfs_subdir_volume(api, "old", "nfs-client", "127.0.0.1", "/export")
    kubectl("delete", "storageclass", "nfs-client")
    create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "nfs-client"}, "provisioner": NFS,
            "parameters": {"archiveOnDelete": "false"}},
           {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "unreachable"}, "provisioner": NFS,
            "parameters": {"url": v3_url("/no-such-export")}})
    p = Provisioner(binary, "p", ["--provisioner", NFS + "=nfs", "--adopt-provisioner",
                                  NFS_SUBDIR] + Provisioner.FAST_LEASE,
                    environ={"NFS_SERVER": "127.0.0.1", "NFS_PATH": "/export"})
    procs.append(p)
    p.start()
    create(claim("a", "nfs-client"), claim("b", "nfs-client"), claim("stuck", "unreachable"))
    wait_bound(api, ["a", "b"], 30)
    pvs = [api.claim(n)["spec"]["volumeName"] for n in ("a", "b")]
    poll(lambda: PV_FINALIZER in berth_marks(api, old)[1], 20, "berth's finalizer on " + old)
    for pv in pvs:
        keys, fins, _ = berth_marks(api, pv)
        check(keys and PV_FINALIZER in fins, "%s: berth's marks: %s %s" % (pv, keys, fins))
    poll(lambda: p.log_text().count('msg="provisioning failed" claim=default/stuck') > 0, 30,
         "the stuck claim to fail")
    check(CLAIM_FINALIZER not in (api.claim("stuck")["metadata"].get("finalizers") or []),
          "berth put %s on the stuck claim" % CLAIM_FINALIZER)
    check(p.stop() == 0, "berth exit status")
    # berth no longer guards claims with a finalizer, but older versions
    # left provisioner.berth.io/provisioning on a claim whose volume could
    # not be made: rollback must still lift it.
    kubectl("patch", "pvc", "stuck", "--type=merge", "-p",
            '{"metadata":{"finalizers":["%s"]}}' % CLAIM_FINALIZER)
    log("berth's marks in place on %s, %s and the stuck claim" % (", ".join(pvs), old))

    dry = ctl("rollback", "--dry-run", "--to", NFS_SUBDIR, "--provisioner", NFS + "=nfs")
    for want in pvs + [old, "persistentvolumeclaims default/stuck", PV_FINALIZER,
                       CLAIM_FINALIZER, "nfs.berth.io/directory", "dry run"]:
        check(want in dry, "rollback --dry-run: no %r in\n%s" % (want, dry))
    check(PV_FINALIZER in berth_marks(api, pvs[0])[1], "--dry-run changed something")
    log("rollback --dry-run lists every change and makes none")

    out = ctl("rollback", "--to", NFS_SUBDIR, "--yes", "--provisioner", NFS + "=nfs")
    for pv in pvs + [old]:
        keys, fins, by = berth_marks(api, pv)
        check(not keys and PV_FINALIZER not in fins and by == NFS_SUBDIR,
              "%s after rollback: berth annotations %s, finalizers %s, provisioned-by %s\n%s"
              % (pv, keys, fins, by, out))
    check(CLAIM_FINALIZER not in (api.claim("stuck")["metadata"].get("finalizers") or []),
          "the stuck claim keeps berth's finalizer")
    check("nothing of berth's" in ctl("rollback", "--yes", "--provisioner", NFS + "=nfs"),
          "a second rollback should find nothing")
    log("rollback: finalizers and annotations gone, PVs handed to %s" % NFS_SUBDIR)

    # What nfs-subdir does once a claim is deleted: delete the PV. Nothing
    # is left Terminating; the stuck claim can be deleted.
    kubectl("delete", "pvc", "a", "b", "old", "stuck", "--wait=false")
    for pv in pvs + [old]:
        poll(lambda pv=pv: (api.pv(pv) or {}).get("status", {}).get("phase") == "Released",
             20, pv + " Released")
        kubectl("delete", "pv", pv, "--wait=false")
    poll(lambda: not [v for v in api.pvs() if v["metadata"]["name"] in pvs + [old]], 20,
         "the PVs to go (none stuck Terminating)")
    poll(lambda: api.claim("stuck") is None, 20, "the stuck claim to go")
    log("switched back: PVs and claims deleted, nothing Terminating")


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
