#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: deleting claims honours the class.

    archiveOnDelete "false"      directory removed (recursively, a symlink in
                                 it removed, never followed), not archived:
                                 no archived-* but the two archives below
    archiveOnDelete default      renamed archived-<dir>
    onDelete "retain"            directory kept, PV deleted
    reclaimPolicy Retain         PV Released and kept, no finalizer; the
                                 directory kept, also after the PV is deleted
    a Delete PV that lost our finalizer (by hand, an older berth) gets it
    back before its claim goes, so that its storage is reclaimed
    nested pathPattern           ${.PVC.namespace}/${.PVC.annotations.team}/
                                 ${.PVC.name}: nested directories made;
                                 archived as archived-<leaf> at the root;
                                 ${.PVC.labels.app}/${.PVC.name} removed

    test_provisioner_delete.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import json
import os
import sys

from test_provisioner_lib import (API, PV_FINALIZER, Provisioner, apply, check, claim,
                                  create, export_dir, kubectl, listing, log, phase, poll,
                                  run, storage_class, v3_url, wait_bound)

CLASSES = [
    storage_class("remove", {"url": v3_url(), "archiveOnDelete": "false"}),
    storage_class("archive", {"url": v3_url()}),
    storage_class("keep", {"url": v3_url(), "onDelete": "retain"}),
    storage_class("retain", {"url": v3_url()}, reclaim="Retain"),
    storage_class("nested", {"url": v3_url(),
                             "pathPattern": "${.PVC.namespace}/${.PVC.annotations.team}/"
                                            "${.PVC.name}"}),
    storage_class("nested-rm", {"url": v3_url(), "onDelete": "delete",
                                "pathPattern": "${.PVC.labels.app}/${.PVC.name}"}),
]


def fill(path):
    """Some data, a sub-directory and a symlink that points outside."""
    os.makedirs(os.path.join(path, "sub", "deeper"))
    for rel in ("data.txt", "sub/a", "sub/deeper/b"):
        with open(os.path.join(path, rel), "w") as f:
            f.write("x" * 100)
    os.symlink("../../outside", os.path.join(path, "escape"))


def main(binary, procs):
    api = API()
    root = export_dir()
    os.makedirs(os.path.join(root, "outside"))
    with open(os.path.join(root, "outside", "precious"), "w") as f:
        f.write("keep me")
    apply(*CLASSES)
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE + ["--usage-interval", "1s"])
    procs.append(p)
    p.start()
    names = ["c-" + c["metadata"]["name"] for c in CLASSES]
    claims = [claim("c-" + c["metadata"]["name"], c["metadata"]["name"]) for c in CLASSES]
    claims[4]["metadata"]["annotations"] = {"team": "blue"}
    claims[5]["metadata"]["labels"] = {"app": "web"}
    create(*claims)
    wait_bound(api, names, 60)
    pv = {c["metadata"]["name"]: c["spec"]["volumeName"] for c in api.claims()}
    dirs = {n: "default-%s-%s" % (n, pv[n]) for n in names[:4]}
    dirs["c-nested"] = "default/blue/c-nested"
    dirs["c-nested-rm"] = "web/c-nested-rm"
    for n, d in dirs.items():
        check(os.path.isdir(os.path.join(root, d)), "%s: directory %s missing" % (n, d))
        fill(os.path.join(root, d))
    retained = api.pv(pv["c-retain"])
    check(PV_FINALIZER not in (retained["metadata"].get("finalizers") or []),
          "a Retain PV must not hold %s" % PV_FINALIZER)
    log("Bound; directories as the patterns say, filled with data")
    usage = 'berth_provisioner_volume_usage_%%s{persistentvolume="%s",class="keep"}' % pv["c-keep"]
    poll(lambda: p.metrics().get(usage % "bytes") == 300 and p.metrics().get(usage % "files") == 6,
         20, "usage metrics of c-keep: 300 bytes in 6 entries")
    log("usage measured: 300 bytes, 6 entries (the symlink counted, not followed)")

    # A Delete PV without our finalizer: berth puts it back.
    strip = api.pv(pv["c-remove"])
    others = [f for f in strip["metadata"].get("finalizers", []) if f != PV_FINALIZER]
    kubectl("patch", "pv", pv["c-remove"], "--type=merge",
            "-p", json.dumps({"metadata": {"finalizers": others or None}}))
    poll(lambda: PV_FINALIZER in (api.pv(pv["c-remove"])["metadata"].get("finalizers") or []),
         20, "%s back on %s" % (PV_FINALIZER, pv["c-remove"]))
    log("a Delete PV that lost %s got it back" % PV_FINALIZER)

    kubectl("delete", "pvc", "--all", "--wait=false")
    gone = [pv[n] for n in names if n != "c-retain"]
    poll(lambda: all(api.pv(x) is None for x in gone), 60, "the Delete PVs gone")
    poll(lambda: phase(api.pv(pv["c-retain"])) == "Released", 30, "the Retain PV Released")
    log("PVs deleted; the Retain PV Released")

    have = set(listing())
    check(dirs["c-remove"] not in have, "archiveOnDelete=false: %s still there" % dirs["c-remove"])
    check("archived-" + dirs["c-archive"] in have and dirs["c-archive"] not in have,
          "archive: want archived-%s" % dirs["c-archive"])
    check(dirs["c-keep"] + "/data.txt" in have, "onDelete=retain: data gone")
    check(dirs["c-retain"] + "/sub/deeper/b" in have, "reclaim Retain: data gone")
    check("archived-c-nested/sub/a" in have and "default/blue/c-nested" not in have and
          "default/blue" in have, "nested archive: %s" % sorted(x for x in have if "nested" in x))
    check("web/c-nested-rm" not in have and "web" in have, "nested delete")
    check("outside/precious" in have, "a symlink was followed: outside/precious is gone")
    # Archiving also makes the original name go: only the classes that
    # archive may leave an archived-* anywhere in the export.
    archives = sorted(x for x in have if os.path.basename(x).startswith("archived-"))
    check(archives == sorted(["archived-" + dirs["c-archive"], "archived-c-nested"]),
          "archives in the export: %s, want only those of c-archive and c-nested" % archives)
    log("export as the classes say: %d entries" % len(have))

    kubectl("delete", "pv", pv["c-retain"], "--wait=false")
    poll(lambda: api.pv(pv["c-retain"]) is None, 30, "the Retain PV deleted by hand")
    check(os.path.isdir(os.path.join(root, dirs["c-retain"])), "Retain: directory removed")
    m = p.metrics()
    got = sum(v for k, v in m.items() if k.startswith("controller_persistentvolume_delete_total"))
    check(got == 5, "delete_total %s, want 5" % got)
    log("Retain PV deleted by hand, its directory kept; metrics as wanted")


if __name__ == "__main__":
    sys.exit(run(main))
