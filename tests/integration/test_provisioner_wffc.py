#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: WaitForFirstConsumer, allowedTopologies, and
StorageClasses that are wrong.

  - a WaitForFirstConsumer claim waits (no PV, no directory) until a pod
    uses it and the real scheduler places it and sets selected-node; then
    it is provisioned and Bound;
  - allowedTopologies: the real scheduler places no pod on a node outside
    them; a claim whose selected-node is set there anyway (by hand, as
    another scheduler could) gives berth's ProvisioningFailed naming the
    node; a pod on a node inside gives a Bound claim;
  - an unknown parameter and an invalid value give ProvisioningFailed
    Events naming the parameter, and nothing is written;
  - a claim made before its class exists is provisioned once the class
    appears.

    test_provisioner_wffc.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import sys
import time

from test_provisioner_lib import (API, Provisioner, apply, check, claim, create,
                                  events_for, kubectl, listing, log, phase, pod, poll,
                                  register_node, run, storage_class, v3_url, wait_bound)


def failed_with(api, name, *words):
    for e in events_for(api, name, "ProvisioningFailed"):
        if all(w in e.get("message", "") for w in words):
            return e
    return None


def main(binary, procs):
    api = API()
    zoned = [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone",
                                         "values": ["zone-a"]}]}]
    register_node("node-a", zone="zone-a")
    register_node("node-b", zone="zone-b")
    apply(storage_class("wait", {"url": v3_url()}, binding="WaitForFirstConsumer"),
          storage_class("zoned", {"url": v3_url()}, binding="WaitForFirstConsumer",
                        allowedTopologies=zoned),
          storage_class("bad-param", {"url": v3_url(), "colour": "blue"}),
          storage_class("bad-value", {"url": v3_url(), "directoryPerms": "rwx"}))
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    create(claim("w1", "wait"), claim("z-out", "zoned"), claim("z-in", "zoned"),
           claim("bad1", "bad-param"), claim("bad2", "bad-value"), claim("late", "later"))

    e = poll(lambda: failed_with(api, "bad1", "colour"), 30,
             "ProvisioningFailed naming 'colour' on bad1")
    log("unknown parameter: %s" % e["message"])
    e = poll(lambda: failed_with(api, "bad2", "directoryPerms"), 30,
             "ProvisioningFailed naming 'directoryPerms' on bad2")
    log("invalid value: %s" % e["message"])
    check(e["type"] == "Warning", "ProvisioningFailed must be a Warning")

    # The waiting claim: no PV, no directory, while nobody consumes it.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        check(phase(api.claim("w1")) == "Pending" and listing() == [],
              "w1 provisioned before a consumer: %s" % listing())
        time.sleep(0.1)
    create(pod("use-w1", "node-a", "w1"))
    wait_bound(api, ["w1"], 30)
    c = api.claim("w1")
    check(c["metadata"]["annotations"].get("volume.kubernetes.io/selected-node") == "node-a",
          "selected-node")
    log("WaitForFirstConsumer: Bound after the pod on node-a")

    create(pod("use-z-out", "node-b", "z-out"), pod("use-z-in", "node-a", "z-in"))
    wait_bound(api, ["z-in"], 30)
    # The real scheduler's volume binding refuses node-b for z-out's pod.
    poll(lambda: events_for(api, "use-z-out", "FailedScheduling"), 30,
         "FailedScheduling for the pod outside allowedTopologies")
    check("volume.kubernetes.io/selected-node" not in
          (api.claim("z-out")["metadata"].get("annotations") or {}),
          "the scheduler selected a node outside allowedTopologies")
    kubectl("annotate", "pvc", "z-out", "volume.kubernetes.io/selected-node=node-b")
    e = poll(lambda: failed_with(api, "z-out", "node-b", "allowedTopologies"), 30,
             "ProvisioningFailed on z-out naming node-b")
    check(phase(api.claim("z-out")) == "Pending", "z-out must stay Pending")
    log("allowedTopologies: z-in Bound, z-out refused: %s" % e["message"])

    apply(storage_class("later", {"url": v3_url()}))
    wait_bound(api, ["late"], 30)
    log("a class made after its claim: Bound")

    # The journal of volumes in flight goes once their PVs are saved.
    poll(lambda: not [x for x in listing() if x.startswith(".berth")], 10,
         "the export's journal (.berth) to go")
    top = {x.split("/")[0] for x in listing()}
    want = {"default-%s-%s" % (n, api.claim(n)["spec"]["volumeName"])
            for n in ("w1", "z-in", "late")}
    check(top == want, "export: %s, want %s" % (sorted(top), sorted(want)))
    m = p.metrics()
    check(m.get('controller_persistentvolumeclaim_provision_failed_total{class="bad-param"}', 0)
          >= 1, "provision_failed_total for bad-param")
    log("nothing written for the refused claims")


if __name__ == "__main__":
    sys.exit(run(main))
