#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: hostile claims are refused and nothing is written.

Annotation values that would climb out of the export ("../x", "a/../../b"),
absolute paths, ".", "..", empty components, control characters, a
component longer than 255 bytes, a component that is a symbolic link on the
server, a claim name so long that the default directory name is too long,
class patterns that climb out, and a claim with a selector (which an
external provisioner refuses, as the PV it makes could not match): each claim gets a ProvisioningFailed
Event, stays Pending, holds no finalizer of ours between attempts and can
be deleted at once, and the export's listing is exactly what it was. A
benign value in the same class is provisioned, to show the pattern works.

    test_provisioner_hostile.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import json
import os
import sys

from test_provisioner_lib import (API, CLAIM_FINALIZER, Provisioner, apply, check,
                                  claim, create, events_for, export_dir, kubectl,
                                  listing, log, phase, poll, run, storage_class, v3_url,
                                  wait_bound)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                    "provisioner", "hostile-annotations.json")


def main(binary, procs):
    api = API()
    root = export_dir()
    with open(DATA) as f:
        data = json.load(f)
    os.makedirs(os.path.join(root, "vols"))
    os.makedirs(os.path.join(root, "target"))
    os.symlink("../target", os.path.join(root, "vols", "evil"))
    before = listing()

    classes = [storage_class("hostile", {"url": v3_url(),
                                         "pathPattern": "vols/${.PVC.annotations.dir}"}),
               storage_class("plain", {"url": v3_url()})]
    for i, pat in enumerate(data["patterns"]):
        classes.append(storage_class("pattern-%d" % i, {"url": v3_url(), "pathPattern": pat}))
    apply(*classes)

    claims = []
    for i, v in enumerate(data["values"]):
        v = "x" * 300 if v == "LONG" else v
        claims.append(claim("h-%02d" % i, "hostile", annotations={"dir": v}))
    claims.append(claim("n" * 230, "plain"))
    sel = claim("selector", "plain")
    sel["spec"]["selector"] = {"matchLabels": {"disk": "fast"}}
    claims.append(sel)
    for i in range(len(data["patterns"])):
        claims.append(claim("pat-%d" % i, "pattern-%d" % i))
    names = [c["metadata"]["name"] for c in claims]
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    create(*claims)

    for n in names:
        e = poll(lambda n=n: events_for(api, n, "ProvisioningFailed"), 30,
                 "ProvisioningFailed on %s" % n[:20])
        log("refused %-8s %s" % (n[:8], e[0]["message"][:110]))
    check("claim Selector is not supported" in
          events_for(api, "selector", "ProvisioningFailed")[0]["message"],
          "selector: %s" % events_for(api, "selector", "ProvisioningFailed")[0]["message"])
    for n in names:
        check(phase(api.claim(n)) == "Pending", "%s: phase %s" % (n[:20], phase(api.claim(n))))
    # Each retry (1 s, 2 s, 4 s, ... apart) puts the guard on for the few
    # milliseconds the backend takes to refuse; between them it is off.
    poll(lambda: not [n for n in names if CLAIM_FINALIZER in
                      (api.claim(n)["metadata"].get("finalizers") or [])], 10,
         "the refused claims without %s" % CLAIM_FINALIZER)
    after = listing()
    check(after == before, "the export changed:\nbefore %s\nafter  %s" % (before, after))
    check(not api.pvs(), "PVs were made: %s" % [x["metadata"]["name"] for x in api.pvs()])
    log("%d hostile claims refused; export unchanged: %s" % (len(names), after))

    create(claim("benign", "hostile", annotations={"dir": "ok"}))
    wait_bound(api, ["benign"], 30)
    check(os.path.isdir(os.path.join(root, "vols", "ok")), "vols/ok missing")
    # berth's journal (.berth) comes and goes with every provision.
    new = sorted(p for p in set(listing()) - set(before) if not p.startswith(".berth"))
    check(new == ["vols/ok"], "only vols/ok is new: %s" % new)
    log("benign value in the same class: Bound as vols/ok")

    kubectl("delete", "pvc", *names[:5], "--wait=false")
    poll(lambda: all(api.claim(n) is None for n in names[:5]), 30,
         "refused claims deleted at once")
    check(listing() == sorted(before + ["vols/ok"]), "export changed by the deletes")
    log("refused claims delete at once; nothing written")


if __name__ == "__main__":
    sys.exit(run(main))
