#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: nfs-subdir-external-provisioner's environment works
unchanged. No --provisioner flag: PROVISIONER_NAME names the provisioner,
NFS_SERVER and NFS_PATH its export (ports found through rpcbind, as a
kernel mount would), ENABLE_LEADER_ELECTION=false switches the Lease off.
A class that sets no export parameter uses them; nfs-subdir's directory
name (namespace-claim-pv) and archive on delete (archived-<dir>) are kept.

    test_provisioner_env.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import os
import sys

from test_provisioner_lib import (API, Provisioner, apply, check, claim, create,
                                  export_dir, kubectl, log, poll, run, storage_class,
                                  wait_bound)

NAME = "k8s-sigs.io/nfs-subdir-external-provisioner"


def main(binary, procs):
    api = API()
    root = export_dir()
    sc = storage_class("nfs-client", {})
    sc["provisioner"] = NAME
    del sc["parameters"]
    apply(sc)
    p = Provisioner(binary, "p", environ={"PROVISIONER_NAME": NAME, "NFS_SERVER": "127.0.0.1",
                                          "NFS_PATH": "/export",
                                          "ENABLE_LEADER_ELECTION": "false"})
    procs.append(p)
    p.start()
    create(claim("test-claim", "nfs-client", modes=("ReadWriteOnce",)))
    wait_bound(api, ["test-claim"], 60)
    pv = api.claim("test-claim")["spec"]["volumeName"]
    d = "default-test-claim-" + pv
    # The journal of volumes in flight goes once the PV is saved.
    poll(lambda: ".berth" not in os.listdir(root), 10, "the export's journal (.berth) to go")
    check(os.listdir(root) == [d], "export: %s, want [%s]" % (os.listdir(root), d))
    check(api.pv(pv)["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == NAME,
          "provisioned-by")
    check(api.lease("k8s-sigs.io-nfs-subdir-external-provisioner") is None,
          "a Lease was made with ENABLE_LEADER_ELECTION=false")
    log("PROVISIONER_NAME/NFS_SERVER/NFS_PATH: Bound as %s, no Lease" % d)
    kubectl("delete", "pvc", "test-claim", "--wait=false")
    poll(lambda: api.pv(pv) is None, 30, "the PV to go")
    check(os.listdir(root) == ["archived-" + d], "export after delete: %s" % os.listdir(root))
    log("deleted: archived as archived-%s, as nfs-subdir does" % d)


if __name__ == "__main__":
    sys.exit(run(main))
