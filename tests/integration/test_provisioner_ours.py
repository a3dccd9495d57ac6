#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner caches only its own claims and PVs: the transitions
between "not ours" and "ours", seen through the informers' objects gauges
and through what the provisioner does.

  - claims and PVs of another provisioner are never cached;
  - a claim whose class is re-created with our provisioner becomes ours
    (the PV controller re-annotates it) and is provisioned;
  - a claim of ours whose class is re-created with another provisioner
    leaves the cache and is not acted on any more;
  - a PV of another provisioner, bound later to one of our claims, is
    cached; the claim is not provisioned a second time;
  - a claim of ours made while the watches are away, behind a watch
    history that expired (410), arrives by the relist and is provisioned;
    nothing else is delivered again;
  - after a restart, the gids recorded on a class's PVs (read from the PV
    cache's class-gid index) are not handed out again.

    test_provisioner_ours.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import sys

from test_provisioner_lib import (API, CLAIM_FINALIZER, PROVISIONER, Failure, Provisioner, admin,
                                  apply, check, claim, clear_faults, create, events_for,
                                  fault, kubectl,
                                  log, poll, run, storage_class, v3_url, wait_bound)

OTHER = "example.com/other"
ANN = "volume.kubernetes.io/storage-provisioner"
CLAIMS = 'berth_provisioner_informer_objects{resource="persistentvolumeclaims"}'
PVS = 'berth_provisioner_informer_objects{resource="persistentvolumes"}'
LISTS = 'berth_provisioner_informer_lists_total{resource="persistentvolumeclaims"}'


def other_class(name):
    return storage_class(name, {}, provisioner=OTHER)


def foreign_pv(name, cls, claim_name=None):
    spec = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": cls,
            "nfs": {"server": "10.0.0.1", "path": "/elsewhere/" + name}}
    if claim_name:
        spec["claimRef"] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "namespace": "default", "name": claim_name}
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name,
                         "annotations": {"pv.kubernetes.io/provisioned-by": OTHER}},
            "spec": spec}


def annotated(api, name, prov):
    c = api.claim(name)
    return c is not None and (c["metadata"].get("annotations") or {}).get(ANN) == prov


def main(binary, procs):
    api = API()
    refused = {"url": v3_url(), "colour": "red"}  # an unknown parameter
    apply(storage_class("mine", {"url": v3_url(), "archiveOnDelete": "false"}),
          other_class("theirs"), other_class("switch"),
          storage_class("going", refused), storage_class("static", refused))
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    theirs = ["theirs-%02d" % i for i in range(10)]
    create(claim("mine-1", "mine"), claim("sw", "switch"), claim("away", "going"),
           claim("st", "static"), *[claim(n, "theirs") for n in theirs])
    create(*[foreign_pv("theirs-pv-%02d" % i, "theirs", theirs[i]) for i in range(5)])
    create(*[foreign_pv("loose-pv-%02d" % i, "theirs") for i in range(5)])
    wait_bound(api, ["mine-1"] + theirs[:5], 30)
    poll(lambda: events_for(api, "away", "ProvisioningFailed") and
         events_for(api, "st", "ProvisioningFailed"), 30, "away and st refused")
    poll(lambda: all(annotated(api, n, OTHER) for n in theirs[5:] + ["sw"]), 30,
         "the other provisioner's claims annotated")
    m = p.metrics()
    # Ours: mine-1, away, st; mine-1's PV. Not the 11 claims and 10 PVs of
    # the other provisioner.
    check(m[CLAIMS] == 3, "claims cached: %s, want 3" % m[CLAIMS])
    check(m[PVS] == 1, "PVs cached: %s, want 1" % m[PVS])
    log("only our own cached: 3 of 14 claims, 1 of 11 PVs")

    # Not ours -> ours: the class comes back naming us.
    kubectl("delete", "storageclass", "switch")
    apply(storage_class("switch", {"url": v3_url(), "archiveOnDelete": "false"}))
    wait_bound(api, ["sw"], 30)
    pv = api.pv(api.claim("sw")["spec"]["volumeName"])
    check(pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == PROVISIONER,
          "sw's PV made by %s" % pv["metadata"]["annotations"])
    poll(lambda: p.metrics()[CLAIMS] == 4 and p.metrics()[PVS] == 2, 10,
         "sw and its PV cached")
    log("a claim whose class now names us: cached and provisioned")

    # Ours -> not ours: the class goes to another provisioner.
    kubectl("delete", "storageclass", "going")
    apply(other_class("going"))
    poll(lambda: annotated(api, "away", OTHER), 30, "away re-annotated")
    poll(lambda: p.metrics()[CLAIMS] == 3, 10, "away out of the cache")
    poll(lambda: CLAIM_FINALIZER not in (api.claim("away")["metadata"].get("finalizers")
                                         or []), 10, "away without our guard")
    log("a claim whose class left us: out of the cache")

    # A PV of someone else, bound later to one of our claims.
    create(foreign_pv("static-pv", "static", "st"))
    wait_bound(api, ["st"], 30)
    check(api.claim("st")["spec"]["volumeName"] == "static-pv", "st bound elsewhere")
    poll(lambda: p.metrics()[PVS] == 3, 10, "static-pv cached (bound to our claim)")
    check(api.pv("pvc-" + api.claim("st")["metadata"]["uid"]) is None,
          "st provisioned although bound")
    log("a foreign PV bound to our claim: cached; nothing provisioned for it")

    # A claim made while the watches are away, behind an expired history.
    lists = p.metrics()[LISTS]
    succeeded = len(events_for(api, "mine-1", "ProvisioningSucceeded"))
    # The claims' watch is closed and cannot come back (500) until the
    # claim is made and the history dropped: it then finds its version
    # expired and relists.
    refused = fault(kind="error", code=500, verb="watch",
                    resource="persistentvolumeclaims")["faults"][0]["id"]
    admin("POST", "/watches/close")
    poll(lambda: admin("GET", "/requests?verb=watch&resource=persistentvolumeclaims"
                       "&limit=0")["matchedByCode"].get("500", 0) > 0, 20,
         "the claims' watch refused")
    api.request("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                claim("late", "mine"))
    admin("POST", "/compact", {"keep": 0})
    # etcd's history is gone, but kube-apiserver's watch cache may still
    # serve the old version (as on any cluster): the proxy answers the
    # next watch with the 410 that a longer absence would bring.
    fault(kind="watch-gone", verb="watch", resource="persistentvolumeclaims", count=1)
    admin("DELETE", "/faults/%d" % refused)
    poll(lambda: not any(f["kind"] == "watch-gone" for f in admin("GET", "/faults")["faults"]),
         20, "the claims' watch to get its 410")
    clear_faults()
    wait_bound(api, ["late"], 30)
    m = p.metrics()
    check(m[LISTS] > lists, "no relist of the claims (lists %s -> %s); requests: %s"
          % (lists, m[LISTS], [(i["verb"], i["query"], i["code"], i["ms"]) for i in admin(
              "GET", "/requests?resource=persistentvolumeclaims&limit=12")["items"]]))
    try:
        poll(lambda: p.metrics()[CLAIMS] == 4 and p.metrics()[PVS] == 4, 10,
             "late and its PV cached")
    except Failure as e:
        raise Failure("%s: %s claims, %s PVs cached" % (e, p.metrics()[CLAIMS],
                                                        p.metrics()[PVS]))
    check(len(events_for(api, "mine-1", "ProvisioningSucceeded")) == succeeded,
          "mine-1 provisioned again after the relist")
    log("relist after 410: the new claim provisioned, nothing else again")

    apply(storage_class("gids", {"url": v3_url(), "archiveOnDelete": "false",
                                 "gidRangeStart": "5000", "gidRangeEnd": "5002"}))
    create(claim("g1", "gids"), claim("g2", "gids"))
    wait_bound(api, ["g1", "g2"], 30)
    check(p.stop() == 0, "SIGTERM exit")
    p.start()
    create(claim("g3", "gids"))
    wait_bound(api, ["g3"], 30)
    gids = [api.pv(api.claim(n)["spec"]["volumeName"])["metadata"]["annotations"]
            .get("pv.beta.kubernetes.io/gid") for n in ("g1", "g2", "g3")]
    check(sorted(gids) == ["5000", "5001", "5002"], "gids %s" % gids)
    log("gids after a restart: %s" % gids)


if __name__ == "__main__":
    sys.exit(run(main))
