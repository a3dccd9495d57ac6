#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An NFSv4-only server (ganesha with Protocols = 4, no MOUNT service), as
nfs-subdir users often have: berth connects the way a kernel mount does.

  - a class whose export names no version is negotiated: NFSv3 is refused,
    NFSv4 answers, the claim is Bound and its directory made; the claim's
    deletion removes the directory over the same negotiated connection;
  - mountOptions [nfsvers=4.1] (the class's, copied to the PV) make
    berth's own connection NFSv4 from the start: recorded on the PV
    (nfs.berth.io/url has version=4), and its delete uses it too;
  - mountOptions [vers=3] are honoured, not negotiated away: on this
    server that is a ProvisioningFailed Event naming NFSv3, no PV;
  - nfsvers "3" with mountOptions nfsvers=4.1 disagree: ProvisioningFailed
    saying so;
  - nfs-subdir's environment (NFS_SERVER, NFS_PATH: no port, no version)
    and its class nfs-client: negotiated to NFSv4 on port 2049, as a kernel
    mount does (the bed's ganesha listens there: BERTH_BED_NFS_PORT=2049).

    test_migrate_nfs4.py BERTH-PROVISIONER
    (under BERTH_BED_NFS_VERSIONS=4 BERTH_BED_NFS_PORT=2049 bed.py run k8s nfs)
"""

import os
import sys

from test_provisioner_lib import (API, Provisioner, check, claim, create, env,
                                  events_for, export_dir, kubectl, log, poll,
                                  run, storage_class, wait_bound)

URL_ANN = "nfs.berth.io/url"


def failed(api, name, word):
    return [e for e in events_for(api, name, "ProvisioningFailed")
            if word in e.get("message", "")]


def main(binary, procs):
    api = API()
    check(os.environ.get("BERTH_BED_NFS_VERSIONS") == "4" and
          os.environ.get("BERTH_BED_NFS_PORT") == "2049",
          "run under BERTH_BED_NFS_VERSIONS=4 BERTH_BED_NFS_PORT=2049 (an "
          "NFSv4-only ganesha on the standard port)")
    url = env("BERTH_NFS_URL")  # ports, no version
    check("version=" not in url, "the bed's URL names a version: " + url)
    root = export_dir()
    create(storage_class("plain", {"url": url, "archiveOnDelete": "false"}),
           storage_class("v41", {"url": url, "archiveOnDelete": "false"},
                         mountOptions=["hard", "nfsvers=4.1"]),
           storage_class("v3", {"url": url}, mountOptions=["vers=3"]),
           storage_class("clash", {"server": "127.0.0.1", "share": "/export",
                                   "nfsvers": "3"}, mountOptions=["nfsvers=4.1"]),
           storage_class("nfs-client", {"archiveOnDelete": "false"}))
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE,
                    environ={"NFS_SERVER": "127.0.0.1", "NFS_PATH": "/export"})
    procs.append(p)
    p.start()
    create(claim("plain", "plain"), claim("v41", "v41"), claim("v3", "v3"),
           claim("clash", "clash"), claim("test-claim", "nfs-client"))
    wait_bound(api, ["plain", "v41", "test-claim"], 40)
    pv = {n: api.pv(api.claim(n)["spec"]["volumeName"])
          for n in ("plain", "v41", "test-claim")}
    for n in ("plain", "v41", "test-claim"):
        d = "default-%s-%s" % (n, pv[n]["metadata"]["name"])
        check(os.path.isdir(os.path.join(root, d)), "%s: no %s in %s" % (n, d, os.listdir(root)))
    check("version=" not in pv["plain"]["metadata"]["annotations"][URL_ANN],
          "plain: %s" % pv["plain"]["metadata"]["annotations"][URL_ANN])
    check("version=4" in pv["v41"]["metadata"]["annotations"][URL_ANN],
          "v41: %s" % pv["v41"]["metadata"]["annotations"][URL_ANN])
    check(pv["v41"]["spec"].get("mountOptions") == ["hard", "nfsvers=4.1"],
          "v41: the PV's mountOptions %s" % pv["v41"]["spec"].get("mountOptions"))
    check(pv["test-claim"]["spec"]["nfs"] == {"server": "127.0.0.1",
                                              "path": "/export/default-test-claim-%s"
                                              % pv["test-claim"]["metadata"]["name"]},
          "nfs-subdir env: %s" % pv["test-claim"]["spec"]["nfs"])
    log("v4-only server: negotiated claim, nfsvers=4.1 claim and nfs-subdir's "
        "NFS_SERVER/NFS_PATH claim Bound")
    poll(lambda: failed(api, "v3", "NFSv3") or failed(api, "v3", "mount"), 30,
         "ProvisioningFailed for vers=3 on a v4-only server")
    poll(lambda: failed(api, "clash", "mountOptions ask for NFSv4"), 30,
         "ProvisioningFailed for nfsvers 3 against mountOptions nfsvers=4.1")
    check(api.claim("v3")["spec"].get("volumeName") is None, "vers=3 got a volume")
    log("vers=3 honoured (refused by the server), disagreement refused")
    kubectl("delete", "pvc", "plain", "v41", "test-claim", "--wait=false")
    for n in ("plain", "v41", "test-claim"):
        poll(lambda n=n: api.pv(pv[n]["metadata"]["name"]) is None, 30, n + "'s PV to go")
    poll(lambda: not [d for d in os.listdir(root) if d.startswith("default-")], 20,
         "the directories deleted (%s)" % os.listdir(root))
    log("deleted over NFSv4: directories gone")


if __name__ == "__main__":
    sys.exit(run(main))
